// Alibaba Cloud Token Plan. Two products share the name:
// - Team edition (regions intl / cn): a pooled credit balance, from the
//   console's GetSubscriptionSummary (BssOpenAPI-V3);
// - Personal edition on Qwen Cloud (region "qwen"): rolling 5-hour and weekly
//   windows, from the personal token-plan API tunnelled through the console gateway.
// Cookie only: API keys are inference credentials and the console refuses them.
var PROVIDER = "Alibaba Token Plan";
var HOUR = 3600000;
var TEAM = {
  intl: {
    gateway: "https://modelstudio.console.alibabacloud.com",
    dashboard: "https://modelstudio.console.alibabacloud.com/ap-southeast-1/?tab=plan",
    regionId: "ap-southeast-1",
    productCode: "sfm_tokenplanteams_dp_intl",
  },
  cn: {
    gateway: "https://bailian.console.aliyun.com",
    dashboard: "https://bailian.console.aliyun.com/cn-beijing?tab=plan",
    regionId: "cn-beijing",
    productCode: "sfm_tokenplanteams_dp_cn",
  },
};
var QWEN = {
  home: "https://home.qwencloud.com",
  data: "https://cs-data.qwencloud.com",
  dashboard: "https://home.qwencloud.com/billing/subscription/token-plan-individual",
  regionId: "ap-southeast-1",
};
var TOTAL_KEYS = ["TotalValue", "totalValue", "CycleTotalValue", "cycleTotalValue", "totalQuota", "total_quota", "totalCredits", "totalCredit", "creditsTotal", "monthlyTotalQuota", "creditLimit", "quota", "amount"];
var REMAINING_KEYS = ["TotalSurplusValue", "totalSurplusValue", "SurplusValue", "surplusValue", "CycleSurplusValue", "cycleSurplusValue", "remainingQuota", "remainQuota", "remainingCredits", "remainingCredit", "availableCredits", "availableAmount", "remainAmount", "remaining", "balance"];
var USED_KEYS = ["UsedValue", "usedValue", "ConsumedValue", "consumedValue", "usedQuota", "used_quota", "usedCredits", "usedCredit", "consumedCredits", "usedAmount", "consumeAmount", "used"];
var COUNT_KEYS = ["TotalCount", "totalCount", "SubscriptionTotalNumber", "subscriptionTotalNumber"];
var RESET_KEYS = ["NearestExpireDate", "nearestExpireDate", "nextRefreshTime", "resetTime", "periodEndTime", "billingCycleEnd", "billCycleEndTime", "CycleEndTime", "cycleEndTime", "expireTime", "expirationTime", "EndTime", "endTime", "validEndTime", "instanceEndTime"];
var PLAN_KEYS = ["planName", "plan_name", "ProductName", "productName", "packageName", "commodityName", "SpecType", "specType", "instanceName", "displayName"];

function cookieOf(ctx) {
  var found = ctx.cookieAuth.find({ env: ["ALIBABA_TOKEN_PLAN_COOKIE", "ALIBABA_COOKIE"] });
  return found && found.header;
}

function regionOf(ctx) {
  var r = String(ctx.provider.region || "intl").trim().toLowerCase();
  if (r === "intl" || r === "international" || r === "global" || r === "ap-southeast-1") return "intl";
  if (r === "cn" || r === "china" || r === "cn-beijing") return "cn";
  if (r === "qwen" || r === "personal" || r === "intl-personal" || r === "qwencloud") return "qwen";
  if (r === "cn-personal") {
    ctx.util.fail("unsupported", "No China-mainland console for the personal Token Plan is known; the personal plan is read from Qwen Cloud (region \"qwen\").");
  }
  ctx.util.fail("failed", "Unknown region \"" + ctx.provider.region + "\": use \"intl\" or \"cn\" (Team edition) or \"qwen\" (personal plan on Qwen Cloud).");
}

function loginHint(ctx, region) {
  var page = region === "qwen" ? QWEN.dashboard : TEAM[region].dashboard;
  return "Token Plan console session expired — copy a fresh Cookie header from " + page +
    " (or run `usagestat auth import-cookies --provider " + ctx.provider.id + " --save`).";
}

function post(ctx, url, origin, referer, cookie, form) {
  return ctx.host.http.request({
    method: "POST",
    url: url,
    headers: ctx.alibaba.consoleHeaders(cookie, origin, referer),
    bodyText: ctx.keyapi.query(form),
    timeoutMs: 20000,
  });
}

// Status, HTML and envelope checks common to both editions -> expanded JSON.
function readAnswer(ctx, resp, region) {
  if (resp.status === 401 || resp.status === 403) ctx.util.fail("credential-denied", loginHint(ctx, region));
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: loginHint(ctx, region) });
  if (/^\s*</.test(resp.bodyText || "")) ctx.util.fail("credential-denied", "The console answered with a web page (login). " + loginHint(ctx, region));
  var data = ctx.alibaba.expand(ctx.util.expectJson(resp, PROVIDER));
  var err = ctx.alibaba.envelopeError(data);
  if (err) {
    if (err.kind === "login" || err.kind === "denied") ctx.util.fail("credential-denied", loginHint(ctx, region));
    if (/Workspace\.NotAuthori[sz]ed/i.test(err.message)) {
      ctx.util.fail("credential-denied", "The console refused the request (Workspace.NotAuthorised): the sec_token is missing — copy the cookie from the Token Plan page itself.");
    }
    ctx.util.fail("failed", PROVIDER + " error: " + String(err.message).slice(0, 200) + ".");
  }
  return data;
}

// ---- Team edition ------------------------------------------------------------------------
function probeTeam(ctx, cookie, region) {
  var A = ctx.alibaba;
  var R = TEAM[region];
  var sec = A.secToken({ cookie: cookie, dashboardUrl: R.dashboard, userInfoUrl: R.gateway + "/tool/user/info.json", referer: R.gateway + "/" });
  if (!sec) ctx.host.log.info("no sec_token found; sending the cookie-only request");
  var resp = post(ctx, R.gateway + "/data/api.json?action=GetSubscriptionSummary&product=BssOpenAPI-V3&_tag=", R.gateway, R.dashboard, cookie, {
    product: "BssOpenAPI-V3",
    action: "GetSubscriptionSummary",
    params: JSON.stringify({ ProductCode: R.productCode }),
    region: R.regionId,
    sec_token: sec,
  });
  var data = readAnswer(ctx, resp, region);
  var all = TOTAL_KEYS.concat(REMAINING_KEYS, USED_KEYS);
  var container = A.findDict(data, ["Data", "data", "successResponse"]) || data;
  // Quota numbers may sit one level down (EquityList[0]) while TotalCount stays outside.
  var summary = A.findDictWithAny(container, all) || container;
  var count = A.findNumber(container, COUNT_KEYS);
  var total = A.ownNumber(summary, TOTAL_KEYS);
  var remaining = A.ownNumber(summary, REMAINING_KEYS);
  var used = A.ownNumber(summary, USED_KEYS);
  if (used === null && total !== null && remaining !== null) used = Math.max(0, total - remaining);
  var plan = A.ownString(summary, PLAN_KEYS) || A.findString(container, PLAN_KEYS);
  if (count === 0 && !(total > 0)) {
    return { source: "web", metrics: [ctx.line.badge({ label: "Plan", text: "No active Token Plan", color: "grey" })] };
  }
  if (total === null && used === null && remaining === null && count === null && !plan) {
    ctx.util.fail("failed", "Unexpected response from " + PROVIDER + ": missing TotalValue / TotalSurplusValue in the subscription summary.");
  }
  var reset = null;
  for (var i = 0; i < RESET_KEYS.length && reset === null; i++) reset = A.parseTime(summary[RESET_KEYS[i]]);
  if (reset === null) {
    var anyReset = A.findString(container, RESET_KEYS) || A.findNumber(container, RESET_KEYS);
    reset = anyReset === null ? null : A.parseTime(anyReset);
  }
  var metrics = [];
  if (total !== null && total > 0) {
    metrics.push(ctx.line.progress({
      label: "Credits",
      used: Math.max(0, used === null ? 0 : used),
      limit: total,
      format: { kind: "count", suffix: "credits" },
      resetsAt: reset === null ? undefined : ctx.util.toIso(reset),
    }));
    if (remaining !== null) metrics.push(ctx.line.text({ label: "Remaining", value: ctx.fmt.tokens(remaining) + " credits", detail: true }));
  } else {
    metrics.push(ctx.line.badge({ label: "Plan", text: "Active — no quota data", color: "blue" }));
  }
  if (reset !== null) metrics.push(ctx.line.text({ label: "Expires", value: ctx.fmt.date(reset), detail: true }));
  return { source: "web", plan: plan || "Token Plan", metrics: metrics };
}

// ---- Personal edition (Qwen Cloud) --------------------------------------------------------
function personalCall(ctx, cookie, sec, endpoint) {
  var api = "zeldaHttp.apikeyMgr./tokenplan/personal/api/v2/" + endpoint;
  var params = {
    Api: api,
    Data: { cornerstoneParam: { console: "ONE_CONSOLE", consoleSite: "QWENCLOUD", domain: "home.qwencloud.com", productCode: "p_efm", protocol: "V2", xsp_lang: "en-US" } },
    V: "1.0",
  };
  var resp = post(ctx, QWEN.data + "/data/api.json?product=sfm_bailian&action=IntlBroadScopeAspnGateway&api=" + encodeURIComponent(api), QWEN.home, QWEN.dashboard, cookie, {
    product: "sfm_bailian",
    action: "IntlBroadScopeAspnGateway",
    sec_token: sec,
    region: QWEN.regionId,
    params: JSON.stringify(params),
  });
  var data = readAnswer(ctx, resp, "qwen");
  // Payload at data.DataV2.data.data.
  var payload = data && data.data && data.data.DataV2 && data.data.DataV2.data && data.data.DataV2.data.data;
  if (!payload || typeof payload !== "object") ctx.util.fail("failed", "Unexpected response from " + PROVIDER + ": missing data.DataV2.data.data (" + endpoint + ").");
  return payload;
}

function probePersonal(ctx, cookie) {
  var A = ctx.alibaba;
  var sec = A.secToken({ cookie: cookie, userInfoUrl: QWEN.home + "/tool/user/info.json", referer: QWEN.home + "/" });
  var usage = personalCall(ctx, cookie, sec, "usage");
  var five = A.toNumber(usage.per5HourPercentage);
  var week = A.toNumber(usage.per1WeekPercentage);
  if (five === null || week === null) {
    ctx.util.fail("failed", "Unexpected response from " + PROVIDER + ": missing " + (five === null ? "per5HourPercentage" : "per1WeekPercentage") + ".");
  }
  var plan = "Token Plan";
  try {
    var sub = personalCall(ctx, cookie, sec, "subscription");
    var names = { lite: "Lite", standard: "Standard", pro: "Pro" };
    var spec = ctx.util.text(sub.specCode);
    var status = ctx.util.text(sub.status).toUpperCase();
    if (spec) plan += " " + (names[spec.toLowerCase()] || spec);
    if (status && status !== "VALID") plan += " (" + status + ")";
  } catch (e) {
    if (e && e.code === "credential-denied") throw e;
    ctx.host.log.warn("Token Plan subscription details unavailable: " + (e && e.message ? e.message : String(e)));
  }
  // Percentages arrive as fractions of 1 (0.0105 = 1.05 %); resets are epoch ms.
  var line = function (label, fraction, reset, period) {
    var at = A.parseTime(reset);
    return ctx.line.progress({
      label: label,
      used: Math.max(0, Math.min(100, fraction * 100)),
      limit: 100,
      format: { kind: "percent" },
      resetsAt: at === null ? undefined : ctx.util.toIso(at),
      periodDurationMs: period,
    });
  };
  return {
    source: "web",
    plan: plan,
    metrics: [line("5-hour", five, usage.per5HourResetTime, 5 * HOUR), line("Weekly", week, usage.per1WeekResetTime, 7 * 24 * HOUR)],
  };
}

function probe(ctx) {
  var region = regionOf(ctx);
  var cookie = cookieOf(ctx);
  if (!cookie) {
    ctx.util.fail("missing-auth", "No Token Plan console cookie: run `usagestat auth import-cookies --provider " + ctx.provider.id +
      " --save`, set cookieHeader, or ALIBABA_TOKEN_PLAN_COOKIE (copied from the Token Plan page).");
  }
  return region === "qwen" ? probePersonal(ctx, cookie) : probeTeam(ctx, cookie, region);
}

globalThis.__usagestat_plugin = { id: "alibaba-token-plan", probe: probe };
