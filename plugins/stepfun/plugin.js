// StepFun (阶跃星辰) Step Plan: the 5-hour and weekly rate windows (or the
// credit buckets of credit plans), read from the platform console's RPC with
// the signed-in session token (cookie Oasis-Token). StepFun has no API-key
// usage endpoint.
var PROVIDER = "StepFun";
var HOSTS = { cn: "https://platform.stepfun.com", global: "https://platform.stepfun.ai" };
var RPC = "/api/step.openapi.devcenter.Dashboard/";
var APP_ID = "10300"; // the web console's application id, sent by the console itself
var HOUR_MS = 3600000;
var LOGIN = "Sign in to the StepFun platform and paste a fresh Oasis-Token cookie (cookieHeader or STEPFUN_TOKEN).";

function session(ctx) {
  var found = ctx.cookieAuth.find({
    env: ["STEPFUN_TOKEN", "STEPFUN_OASIS_TOKEN", "STEPFUN_COOKIE"],
    defaultName: "Oasis-Token",
    names: ["Oasis-Token", "Oasis-Webid"],
  });
  if (!found) ctx.util.fail("missing-auth", "No StepFun session: " + LOGIN);
  var cookie = found.header;
  var token = cookie && ctx.cookieAuth.get(cookie, "Oasis-Token");
  if (!token) ctx.util.fail("missing-auth", "The StepFun cookie has no Oasis-Token. " + LOGIN);
  // The console pairs the token with its device id (the token's device_id claim).
  var webId = ctx.cookieAuth.get(cookie, "Oasis-Webid");
  if (!webId) {
    var claims = ctx.jwt.decodePayload(token);
    if (claims && claims.device_id) webId = String(claims.device_id);
  }
  // China (platform.stepfun.com) by default; region "global" uses platform.stepfun.ai.
  var region = ctx.keyapi.region({
    name: PROVIDER,
    defaultRegion: "cn",
    aliases: { global: ["ai"], cn: ["com"] },
    hint: "use \"cn\" (platform.stepfun.com) or \"global\" (platform.stepfun.ai).",
  });
  var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER }) || HOSTS[region.id];
  return { token: token, webId: webId, base: base };
}

function call(ctx, s, method, optional) {
  var headers = {
    "Content-Type": "application/json",
    Accept: "application/json",
    "oasis-appid": APP_ID,
    "oasis-platform": "web",
    Cookie: "Oasis-Token=" + s.token + (s.webId ? "; Oasis-Webid=" + s.webId : ""),
  };
  if (s.webId) headers["oasis-webid"] = s.webId;
  var o = { method: "POST", url: s.base + RPC + method, headers: headers, bodyText: "{}", name: PROVIDER, loginHint: LOGIN };
  if (optional) {
    var extra = ctx.keyapi.optionalJson(o).data;
    return extra && (extra.status === undefined || ctx.num.of(extra.status) === 1) ? extra : null;
  }
  var resp = ctx.keyapi.request(o);
  if (resp.status >= 300 && resp.status < 400) ctx.util.fail("credential-denied", "StepFun session expired. " + LOGIN);
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: LOGIN });
  if (/^\s*</.test(resp.bodyText || "")) ctx.util.fail("credential-denied", "StepFun answered with a web page: the session expired. " + LOGIN);
  var data = ctx.util.expectJson(resp, PROVIDER);
  if (data.status !== undefined && ctx.num.of(data.status) !== 1) {
    var msg = ctx.util.text(data.message) || ctx.util.text(data.desc) || "code " + ctx.util.text(data.code);
    if (ctx.num.of(data.code) === 401 || /token|login|auth|expired|登录/i.test(msg)) {
      ctx.util.fail("credential-denied", "StepFun session expired (" + msg + "). " + LOGIN);
    }
    ctx.util.fail("failed", "StepFun plan usage error: " + msg + ".");
  }
  return data;
}

// A reset time (epoch s or ms, number or string) -> ms, or null for 0/blank.
function resetMs(ctx, v) {
  var n = ctx.num.of(v);
  if (n !== null && n <= 0) return null;
  return ctx.util.parseDateMs(v);
}

function windowLine(ctx, label, leftRate, reset, periodMs) {
  var left = ctx.num.of(leftRate);
  if (left === null) return null;
  var at = resetMs(ctx, reset);
  return ctx.line.progress({
    label: label,
    used: ctx.util.clampPercent(Math.round((1 - left) * 1e6) / 1e4), // rates are fractions 0-1
    limit: 100,
    format: { kind: "percent" },
    resetsAt: at === null ? undefined : ctx.util.toIso(at),
    periodDurationMs: periodMs,
  });
}

function creditLine(ctx, credit) {
  var buckets = Array.isArray(credit.credit_buckets) ? credit.credit_buckets : [];
  var total = 0;
  var left = 0;
  var next = null;
  for (var i = 0; i < buckets.length; i++) {
    var t = ctx.num.of(buckets[i] && buckets[i].credit_total);
    var r = ctx.num.of(buckets[i] && buckets[i].credit_residual);
    if (t === null || r === null || t <= 0) continue;
    total += t;
    left += r;
    var at = resetMs(ctx, buckets[i].next_reset_at);
    if (at !== null && (next === null || at < next)) next = at;
  }
  if (total > 0) {
    return ctx.calendar.monthlyProgress({
      label: "Credits",
      used: Math.max(0, total - left),
      limit: total,
      format: { kind: "count", suffix: "credits" },
      resetMs: next,
    });
  }
  var reset = resetMs(ctx, credit.subscription_credit_reset_time);
  return windowLine(ctx, "Credits", credit.subscription_credit_left_rate, credit.subscription_credit_reset_time,
    reset === null ? undefined : ctx.calendar.monthlyPeriodEndingAt(reset));
}

function probe(ctx) {
  var s = session(ctx);
  var data = call(ctx, s, "QueryStepPlanRateLimit", false);
  var metrics = [];
  var credit = data.plan_credit_rate_limit && typeof data.plan_credit_rate_limit === "object" ? data.plan_credit_rate_limit : null;
  if (ctx.num.of(data.plan_family) === 2 && credit) {
    var c = creditLine(ctx, credit);
    if (c) metrics.push(c);
  } else {
    var five = windowLine(ctx, "5-hour", data.five_hour_usage_left_rate, data.five_hour_usage_reset_time, 5 * HOUR_MS);
    var week = windowLine(ctx, "Weekly", data.weekly_usage_left_rate, data.weekly_usage_reset_time, 7 * 24 * HOUR_MS);
    if (five) metrics.push(five);
    if (week) metrics.push(week);
  }
  if (!metrics.length) {
    ctx.util.fail("failed", "Unexpected response from StepFun: missing five_hour_usage_left_rate / plan_credit_rate_limit.");
  }
  var status = call(ctx, s, "GetStepPlanStatus", true);
  var name = status && status.subscription && status.subscription.name;
  return { source: "web", plan: typeof name === "string" && name.trim() ? name.trim() : undefined, metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "stepfun", probe: probe };
