// Alibaba Cloud Model Studio / Bailian Coding Plan: the 5-hour, weekly and
// monthly request quotas of the Qwen Coding Plan, from the console RPC the
// dashboard uses. web (default): the console session cookie. api: the same
// query with an API key, which many accounts refuse (ConsoleNeedLogin).
var PROVIDER = "Alibaba Coding Plan";
var QUOTA_API = "zeldaEasy.broadscope-bailian.codingPlan.queryCodingPlanInstanceInfoV2";
var REGIONS = {
  intl: {
    gateway: "https://modelstudio.console.alibabacloud.com",
    rpc: "https://bailian-singapore-cs.alibabacloud.com",
    action: "IntlBroadScopeAspnGateway",
    regionId: "ap-southeast-1",
    commodityCode: "sfm_codingplan_public_intl",
    dashboard: "https://modelstudio.console.alibabacloud.com/ap-southeast-1/?tab=coding-plan",
    domain: "modelstudio.console.alibabacloud.com",
    site: "MODELSTUDIO_ALIBABACLOUD",
  },
  cn: {
    gateway: "https://bailian.console.aliyun.com",
    rpc: "https://bailian.console.aliyun.com",
    action: "BroadScopeAspnGateway",
    regionId: "cn-beijing",
    commodityCode: "sfm_codingplan_public_cn",
    dashboard: "https://bailian.console.aliyun.com/cn-beijing/?tab=model",
    domain: "bailian.console.aliyun.com",
    site: "BAILIAN_CONSOLE",
  },
};
var HOUR = 3600000;

function regionOf(ctx) {
  var r = ctx.provider.region ? String(ctx.provider.region).trim().toLowerCase() : "";
  if (!r) return null;
  if (r === "intl" || r === "international" || r === "global" || r === "ap-southeast-1") return "intl";
  if (r === "cn" || r === "china" || r === "cn-beijing") return "cn";
  ctx.util.fail("failed", "Unknown region \"" + ctx.provider.region + "\": use \"intl\" (Model Studio) or \"cn\" (Bailian).");
}

// A failure that may succeed on the other region's console (intl -> cn).
function retryable(e) {
  return e && (e.code === "credential-denied" || e.retryOtherRegion === true);
}

function consoleLogin(ctx) {
  return "Bailian session expired — re-copy the Cookie header from the Coding Plan page, or run `usagestat auth import-cookies --provider " +
    ctx.provider.id + " --save`.";
}

function checkEnvelope(ctx, data, apiKeyMode) {
  var err = ctx.alibaba.envelopeError(data);
  if (!err) return;
  if (err.kind === "login" || err.kind === "denied") {
    ctx.util.fail("credential-denied", apiKeyMode
      ? "Alibaba rejects API keys for this endpoint on this account (" + err.message + ") — use the console cookie (web mode)."
      : consoleLogin(ctx));
  }
  ctx.util.fail("failed", PROVIDER + " error: " + String(err.message).slice(0, 200) + ".");
}

function fetchWeb(ctx, cookie, region) {
  var R = REGIONS[region];
  var sec = ctx.alibaba.secToken({
    cookie: cookie,
    dashboardUrl: R.dashboard,
    userInfoUrl: R.gateway + "/tool/user/info.json",
    referer: R.gateway + "/",
  });
  if (!sec) ctx.util.fail("credential-denied", "No console sec_token could be resolved. " + consoleLogin(ctx));
  var params = {
    Api: QUOTA_API,
    V: "1.0",
    Data: {
      queryCodingPlanInstanceInfoRequest: { commodityCode: R.commodityCode, onlyLatestOne: true },
      cornerstoneParam: {
        feURL: R.dashboard, protocol: "V2", console: "ONE_CONSOLE", productCode: "p_efm",
        domain: R.domain, consoleSite: R.site, userNickName: "", userPrincipalName: "", xsp_lang: "en-US",
      },
    },
  };
  var cna = ctx.cookieAuth.get(cookie, "cna");
  if (cna) params.Data.cornerstoneParam["X-Anonymous-Id"] = cna;
  var resp = ctx.host.http.request({
    method: "POST",
    url: R.rpc + "/data/api.json?action=" + R.action + "&product=sfm_bailian&api=" + encodeURIComponent(QUOTA_API) + "&_v=undefined",
    headers: ctx.alibaba.consoleHeaders(cookie, R.gateway, R.dashboard),
    bodyText: ctx.keyapi.query({ params: JSON.stringify(params), region: R.regionId, sec_token: sec }),
    timeoutMs: 20000,
  });
  return resp;
}

function fetchApi(ctx, key, region) {
  var R = REGIONS[region];
  return ctx.host.http.request({
    method: "POST",
    url: R.gateway + "/data/api.json?action=" + encodeURIComponent(QUOTA_API) + "&product=broadscope-bailian&api=queryCodingPlanInstanceInfoV2&currentRegionId=" + R.regionId,
    headers: {
      Authorization: "Bearer " + key,
      "x-api-key": key,
      "X-DashScope-API-Key": key,
      "Content-Type": "application/json",
      Accept: "application/json",
      Origin: R.gateway,
      Referer: R.dashboard,
    },
    bodyText: JSON.stringify({ queryCodingPlanInstanceInfoRequest: { commodityCode: R.commodityCode } }),
    timeoutMs: 20000,
  });
}

function activeScore(ctx, info, nowMs) {
  var status = ctx.util.text(info.status || info.instanceStatus).toUpperCase();
  if (status === "VALID" || status === "ACTIVE") return 3;
  if (/^(EXPIRED|INVALID|INACTIVE|DISABLED|TERMINATED|STOPPED)$/.test(status)) return -1;
  if (info.isActive === true || info.active === true) return 3;
  if (info.isActive === false || info.active === false) return -1;
  var end = ctx.alibaba.parseTime(info.endTime || info.periodEndTime || info.expireTime);
  return end !== null && end > nowMs ? 1 : 0;
}

var QUOTA_KEYS = ["per5HourUsedQuota", "per5HourTotalQuota", "perWeekUsedQuota", "perWeekTotalQuota", "perBillMonthUsedQuota", "perBillMonthTotalQuota"];

function windowLine(ctx, quota, label, usedKeys, totalKeys, resetKeys, period) {
  var A = ctx.alibaba;
  var total = A.ownNumber(quota, totalKeys);
  if (total === null || !(total > 0)) return null;
  var used = A.ownNumber(quota, usedKeys) || 0;
  var reset = null;
  for (var i = 0; i < resetKeys.length && reset === null; i++) reset = A.parseTime(quota[resetKeys[i]]);
  var periodMs = typeof period === "function" ? period(reset) : period;
  return ctx.line.progress({
    label: label,
    used: Math.max(0, used),
    limit: total,
    format: { kind: "count", suffix: "requests" },
    resetsAt: reset === null ? undefined : ctx.util.toIso(reset),
    periodDurationMs: periodMs,
  });
}

function parse(ctx, raw, apiKeyMode, source) {
  var A = ctx.alibaba;
  var data = A.expand(raw);
  checkEnvelope(ctx, data, apiKeyMode);
  var now = Date.now();
  var infos = (A.findArray(data, ["codingPlanInstanceInfos", "coding_plan_instance_infos"]) || []).filter(function (x) {
    return x && typeof x === "object";
  });
  var best = null;
  var bestScore = -Infinity;
  for (var i = 0; i < infos.length; i++) {
    var s = activeScore(ctx, infos[i], now);
    if (s > bestScore) { best = infos[i]; bestScore = s; }
  }
  var quota = (best && A.findDict(best, ["codingPlanQuotaInfo", "coding_plan_quota_info"])) ||
    (best && A.findDictWithAny(best, QUOTA_KEYS)) ||
    (infos.length ? null : A.findDict(data, ["codingPlanQuotaInfo", "coding_plan_quota_info"]) || A.findDictWithAny(data, QUOTA_KEYS));
  var plan = best ? A.ownString(best, ["planName", "plan_name", "instanceName", "instance_name", "packageName", "package_name"]) : null;
  plan = plan || A.findString(data, ["planName", "plan_name", "packageName", "package_name"]);

  var metrics = [];
  if (quota) {
    var lines = [
      windowLine(ctx, quota, "5-hour", ["per5HourUsedQuota", "perFiveHourUsedQuota"], ["per5HourTotalQuota", "perFiveHourTotalQuota"],
        ["per5HourQuotaNextRefreshTime", "perFiveHourQuotaNextRefreshTime"], 5 * HOUR),
      windowLine(ctx, quota, "Weekly", ["perWeekUsedQuota"], ["perWeekTotalQuota"], ["perWeekQuotaNextRefreshTime"], 7 * 24 * HOUR),
      windowLine(ctx, quota, "Monthly", ["perBillMonthUsedQuota", "perMonthUsedQuota"], ["perBillMonthTotalQuota", "perMonthTotalQuota"],
        ["perBillMonthQuotaNextRefreshTime", "perMonthQuotaNextRefreshTime"],
        function (reset) { return reset === null ? 30 * 24 * HOUR : ctx.calendar.monthlyPeriodEndingAt(reset); }),
    ];
    for (var j = 0; j < lines.length; j++) if (lines[j]) metrics.push(lines[j]);
  }
  if (metrics.length === 0) {
    if (best && bestScore > 0 && plan) {
      metrics.push(ctx.line.badge({ label: "Plan", text: "Active — no quota data", color: "blue" }));
    } else if (infos.length && bestScore < 0) {
      metrics.push(ctx.line.badge({ label: "Plan", text: "No active Coding Plan", color: "grey" }));
    } else {
      var e = { code: "failed", message: "Unexpected response from " + PROVIDER + ": missing codingPlanQuotaInfo." };
      e.retryOtherRegion = true;
      throw e;
    }
  }
  return { source: source, plan: plan || undefined, metrics: metrics };
}

function runRegion(ctx, region, mode, credential) {
  var resp = mode === "web" ? fetchWeb(ctx, credential, region) : fetchApi(ctx, credential, region);
  if (resp.status === 401 || resp.status === 403) {
    ctx.util.fail("credential-denied", mode === "web" ? consoleLogin(ctx) : "The Alibaba API key was rejected (HTTP " + resp.status + ").");
  }
  if (resp.status === 404) {
    var e404 = { code: "failed", message: PROVIDER + " endpoint not found (HTTP 404): the console API may have changed." };
    e404.retryOtherRegion = true;
    throw e404;
  }
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: mode === "web" ? consoleLogin(ctx) : undefined });
  if (/^\s*</.test(resp.bodyText || "")) {
    if (mode === "web") ctx.util.fail("credential-denied", "The console answered with a login page. " + consoleLogin(ctx));
    ctx.util.fail("failed", PROVIDER + " returned an unexpected response (an HTML page).");
  }
  return parse(ctx, ctx.util.expectJson(resp, PROVIDER), mode === "api", mode);
}

function probe(ctx) {
  var mode = ctx.sourceMode === "auto" ? null : ctx.sourceMode;
  var cookie = ctx.provider.cookieHeader || ctx.creds.envValue(["ALIBABA_CODING_PLAN_COOKIE", "ALIBABA_COOKIE"]);
  var key = ctx.provider.apiKey || ctx.creds.envValue(["ALIBABA_CODING_PLAN_API_KEY", "ALIBABA_QWEN_API_KEY", "DASHSCOPE_API_KEY"]);
  if (!mode) mode = cookie ? "web" : key ? "api" : "web";
  var credential = mode === "web" ? (cookie ? ctx.cookieAuth.normalize(cookie) : null) : key;
  if (!credential) {
    ctx.util.fail("missing-auth", mode === "web"
      ? "No Bailian console cookie: run `usagestat auth import-cookies --provider " + ctx.provider.id + " --save`, set cookieHeader, or ALIBABA_CODING_PLAN_COOKIE."
      : "No API key: set apiKey in the config or ALIBABA_CODING_PLAN_API_KEY / DASHSCOPE_API_KEY.");
  }
  var region = regionOf(ctx);
  if (region) return runRegion(ctx, region, mode, credential);
  // No region configured: international first, then China once on errors
  // that mean "wrong console" (session unknown there, no plan, 404).
  try {
    return runRegion(ctx, "intl", mode, credential);
  } catch (e) {
    if (!retryable(e)) throw e;
    ctx.host.log.info("Coding Plan not available on the international console; trying the China console");
    return runRegion(ctx, "cn", mode, credential);
  }
}

globalThis.__usagestat_plugin = { id: "alibaba", probe: probe };
