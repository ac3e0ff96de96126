// MiniMax Coding Plan: prompts left in the rolling 5-hour interval (and the
// weekly allowance on newer plans). Global (minimax.io) and China
// (minimaxi.com) are separate accounts. `api` reads the "remains" endpoint with
// a coding-plan API key; `web` reads the console's copy with a session cookie.
var PROVIDER = "MiniMax";
var API_HOSTS = { global: "https://api.minimax.io", cn: "https://api.minimaxi.com" };
var WEB_HOSTS = { global: "https://platform.minimax.io", cn: "https://platform.minimaxi.com" };
var TOKEN_PLAN = "/v1/token_plan/remains";
var LEGACY = "/v1/api/openplatform/coding_plan/remains";
var KEY_ENV = ["MINIMAX_CODING_API_KEY", "MINIMAX_API_KEY", "MINIMAX_API_TOKEN"];
var HOUR_MS = 3600000;
// Plan names by interval allowance (China counts model calls, 15 per prompt).
var PLANS = {
  global: { 100: "Starter", 300: "Plus", 1000: "Max", 2000: "Ultra" },
  cn: { 600: "Starter", 1500: "Plus", 4500: "Max" },
};

function isAuthBody(ctx, data) {
  var base = data && data.base_resp;
  if (!base) return false;
  return ctx.num.of(base.status_code) === 1004 || /invalid api key|login fail|unauthori[sz]ed/i.test(ctx.util.text(base.status_msg));
}

// Body-level errors of a 2xx answer (base_resp.status_code != 0).
function checkBody(ctx, data, hint) {
  var base = data.base_resp;
  var status = base ? ctx.util.text(base.status_code) : "";
  var code = ctx.num.of(status);
  if (!status || code === 0) return;
  var msg = ctx.util.text(base.status_msg) || "status " + status;
  if (isAuthBody(ctx, data)) ctx.util.fail("credential-denied", PROVIDER + " rejected the credentials (" + msg + "). " + hint);
  if (code === 1002 || code === 1039) ctx.util.fail("rate-limited", PROVIDER + " rate limit reached (" + msg + ").", 300);
  ctx.util.fail("failed", PROVIDER + " coding plan error: " + msg + ".");
}

// GET one remains URL: {status, data} where status "ok" | "auth" | "missing".
function fetchRemains(ctx, url, headers, hint) {
  var resp = ctx.keyapi.request({ url: url, headers: headers, name: PROVIDER });
  if (resp.status === 401 || resp.status === 403) return { status: "auth", resp: resp };
  if (resp.status === 404 || resp.status === 405) return { status: "missing", resp: resp };
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: hint });
  var data = ctx.util.expectJson(resp, PROVIDER);
  if (isAuthBody(ctx, data)) return { status: "auth", resp: resp, data: data };
  checkBody(ctx, data, hint);
  return { status: "ok", data: data };
}

function msOf(ctx, v) {
  var n = ctx.num.of(v);
  if (n === null || n <= 0) return null;
  return n < 1e11 ? n * 1000 : n;
}

// remains_time: milliseconds when large, seconds otherwise.
function fromNow(ctx, v) {
  var n = ctx.num.of(v);
  if (n === null || n <= 0) return null;
  return Date.now() + (n > 1e6 ? n : n * 1000);
}

function windowLine(ctx, label, total, left, startMs, endMs, defaultPeriod, suffix, pctLeft) {
  var period = startMs !== null && endMs !== null && endMs > startMs ? endMs - startMs : defaultPeriod;
  var resetsAt = endMs === null ? undefined : ctx.util.toIso(endMs);
  if (total !== null && total > 0 && left !== null) {
    return ctx.line.progress({
      label: label,
      used: Math.max(0, Math.min(total, total - left)),
      limit: total,
      format: { kind: "count", suffix: suffix },
      resetsAt: resetsAt,
      periodDurationMs: period,
    });
  }
  if (pctLeft !== null) {
    return ctx.line.progress({
      label: label,
      used: ctx.util.clampPercent(100 - pctLeft),
      limit: 100,
      format: { kind: "percent" },
      resetsAt: resetsAt,
      periodDurationMs: period,
    });
  }
  return null;
}

function toResult(ctx, data, regionId, source) {
  var list = data.model_remains;
  if (!Array.isArray(list) && data.data && typeof data.data === "object") list = data.data.model_remains;
  if (!Array.isArray(list)) ctx.util.fail("failed", "Unexpected response from MiniMax: missing model_remains.");
  var entry = null;
  for (var i = 0; i < list.length && !entry; i++) {
    var e = list[i] || {};
    if (ctx.num.of(e.current_interval_total_count) > 0 || ctx.num.of(e.current_interval_remaining_percent) !== null) entry = e;
  }
  var suffix = regionId === "cn" ? "calls" : "prompts";
  var metrics = [];
  var total = null;
  if (entry) {
    total = ctx.num.of(entry.current_interval_total_count);
    // The trap: *_usage_count is what is LEFT, not what was used.
    var end = msOf(ctx, entry.end_time) || fromNow(ctx, entry.remains_time);
    var session = windowLine(ctx, "Session", total, ctx.num.of(entry.current_interval_usage_count), msOf(ctx, entry.start_time), end,
      5 * HOUR_MS, suffix, ctx.num.of(entry.current_interval_remaining_percent));
    if (session) metrics.push(session);
    var weeklyTotal = ctx.num.of(entry.current_weekly_total_count);
    if (weeklyTotal !== null && weeklyTotal > 0) {
      var weekly = windowLine(ctx, "Weekly", weeklyTotal, ctx.num.of(entry.current_weekly_usage_count), msOf(ctx, entry.weekly_start_time),
        msOf(ctx, entry.weekly_end_time) || fromNow(ctx, entry.weekly_remains_time), 7 * 24 * HOUR_MS, suffix, null);
      if (weekly) metrics.push(weekly);
    }
    var model = ctx.util.text(entry.model_name);
    if (model) metrics.push(ctx.line.text({ label: "Model", value: model, detail: true }));
  }
  if (!metrics.length) metrics.push(ctx.line.badge({ label: "Session", text: "No active coding plan", color: "grey" }));
  var title = data.current_subscribe_title || data.plan_name || (data.data && (data.data.current_subscribe_title || data.data.plan_name));
  var plan = typeof title === "string" && title.trim() ? title.trim() : total !== null ? PLANS[regionId][total] : null;
  if (plan && regionId === "cn") plan += " (China)";
  return { source: source, plan: plan || undefined, metrics: metrics };
}

function keyHint(regionId) {
  return "A coding-plan key (sk-cp-…) from platform.minimax" + (regionId === "cn" ? "i.com" : ".io") +
    " is required; keys only work in their own region (region = \"" + (regionId === "cn" ? "global" : "cn") + "\" for the other).";
}

function probeApi(ctx, key, region) {
  var order = [region.id];
  if (!region.explicit && !ctx.provider.baseUrl) order.push(region.id === "cn" ? "global" : "cn");
  var headers = { Authorization: "Bearer " + key.value, Accept: "application/json", "Content-Type": "application/json" };
  for (var i = 0; i < order.length; i++) {
    var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER, strip: ["/v1"] }) || API_HOSTS[order[i]];
    var hint = keyHint(order[i]);
    // The token-plan endpoint first; older keys and plans only answer the legacy one.
    var plan = fetchRemains(ctx, base + TOKEN_PLAN, headers, hint);
    if (plan.status === "ok") return toResult(ctx, plan.data, order[i], "api");
    var legacy = fetchRemains(ctx, base + LEGACY, headers, hint);
    if (legacy.status === "ok") return toResult(ctx, legacy.data, order[i], "api");
    if (plan.status === "missing" && legacy.status === "missing") {
      ctx.util.fail("failed", "MiniMax coding plan endpoint not found (HTTP " + legacy.resp.status + "): the API may have changed.");
    }
  }
  ctx.util.fail("credential-denied", "MiniMax rejected the API key" + (order.length > 1 ? " on both the global and the China platform" : "") + ". " + keyHint(region.id));
}

function cookieOf(ctx) {
  var found = ctx.cookieAuth.find({ env: ["MINIMAX_COOKIE", "MINIMAX_COOKIE_HEADER"] });
  return found && found.header;
}

function probeWeb(ctx, cookie, region) {
  var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER }) || WEB_HOSTS[region.id];
  var settings = ctx.provider.settings || {};
  var groupId = settings.groupId ? String(settings.groupId) : null;
  var hint = "The MiniMax console session expired: copy a fresh Cookie header from platform.minimax" +
    (region.id === "cn" ? "i.com" : ".io") + " (or run `usagestat auth import-cookies --provider minimax --save`).";
  var resp = ctx.keyapi.request({
    url: ctx.keyapi.withQuery(base + LEGACY, { GroupId: groupId }),
    headers: {
      Cookie: cookie,
      Accept: "application/json, text/plain, */*",
      Referer: base + "/user-center/payment/coding-plan",
      Origin: base,
    },
    name: PROVIDER,
  });
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: hint });
  if (/^\s*</.test(resp.bodyText || "")) ctx.util.fail("credential-denied", "MiniMax answered with a web page instead of data. " + hint);
  var data = ctx.util.expectJson(resp, PROVIDER);
  if (isAuthBody(ctx, data)) ctx.util.fail("credential-denied", hint);
  checkBody(ctx, data, hint);
  return toResult(ctx, data, region.id, "web");
}

function probe(ctx) {
  var key = ctx.creds.apiKey({ env: KEY_ENV });
  var cnKey = key ? null : ctx.creds.env(["MINIMAX_CN_API_KEY"]);
  if (cnKey) key = { value: cnKey.value, source: "env MINIMAX_CN_API_KEY" };
  var region = ctx.keyapi.region({
    name: PROVIDER,
    defaultRegion: cnKey ? "cn" : "global",
    aliases: { global: ["io"], cn: ["minimaxi"] },
    hint: "use \"global\" (minimax.io) or \"cn\" (minimaxi.com).",
  });
  var mode = ctx.sourceMode;
  if (mode === "web") {
    var cookie = cookieOf(ctx);
    if (!cookie) {
      ctx.util.fail("missing-auth", "No MiniMax session cookie: set cookieHeader (or MINIMAX_COOKIE), or run `usagestat auth import-cookies --provider minimax --save`.");
    }
    return probeWeb(ctx, cookie, region);
  }
  if (key) return probeApi(ctx, key, region);
  if (mode !== "api") {
    var fallback = cookieOf(ctx);
    if (fallback) return probeWeb(ctx, fallback, region);
  }
  ctx.util.fail(
    "missing-auth",
    "No MiniMax API key: set apiKey in the config or MINIMAX_CODING_API_KEY (a coding-plan key, sk-cp-…; China: MINIMAX_CN_API_KEY or region = \"cn\")."
  );
}

globalThis.__usagestat_plugin = { id: "minimax", probe: probe };
