// Kimi Code (the kimi.com/code coding subscription): the weekly request pool
// and the rolling 5-hour rate limit from api.kimi.com/coding/v1/usages.
// `oauth` uses the Kimi Code CLI's login and refreshes it when it expires
// (refresh tokens rotate, so the new pair is written back to the CLI's file);
// `local` uses the same file without ever refreshing; `api` a console API key.

var NAME = "Kimi";
var API_BASE = "https://api.kimi.com/coding/v1";
var TOKEN_URL = "https://auth.kimi.com/api/oauth/token";
var CLIENT_ID = "17e5f671-d194-4dfb-9706-5516cb48c098";
var LOGIN = "Run `kimi login` (or set a Kimi Code API key).";
var WEEK_MS = 7 * 24 * 3600 * 1000;
var UNIT_MS = {
  TIME_UNIT_SECOND: 1000,
  TIME_UNIT_MINUTE: 60 * 1000,
  TIME_UNIT_HOUR: 3600 * 1000,
  TIME_UNIT_DAY: 24 * 3600 * 1000,
};

// ---- credentials ---------------------------------------------------------------
// The two CLI generations keep the same file under different homes.
function credentialPaths(ctx) {
  var paths = [];
  var home = ctx.host.env.get("KIMI_CODE_HOME");
  if (home && String(home).trim()) paths.push(String(home).trim().replace(/[\\/]+$/, "") + "/credentials/kimi-code.json");
  paths.push("~/.kimi-code/credentials/kimi-code.json");
  paths.push("~/.kimi/credentials/kimi-code.json");
  return paths;
}

function readStore(ctx, path) {
  var file = ctx.oauth.readJsonFile(path);
  if (!file) return null;
  var d = file.data;
  if (!d || typeof d !== "object" || (!d.access_token && !d.refresh_token)) return null;
  var expires = ctx.num.of(d.expires_at);
  return {
    accessToken: ctx.util.text(d.access_token) || null,
    refreshToken: ctx.util.text(d.refresh_token) || null,
    // expires_at is unix SECONDS (a float), unlike Claude's milliseconds.
    expiresAtMs: expires === null ? null : expires * 1000,
    path: path,
    file: file,
  };
}

// The CLI store to use: when both generations exist, the one refreshed last.
function findStore(ctx) {
  var paths = credentialPaths(ctx);
  var best = null;
  for (var i = 0; i < paths.length; i++) {
    var c = readStore(ctx, paths[i]);
    if (!c) continue;
    if (!best || (c.expiresAtMs || 0) > (best.expiresAtMs || 0)) best = c;
  }
  return best;
}

function refreshStore(ctx, cur) {
  var tokens = ctx.oauth.requestToken({
    url: TOKEN_URL,
    form: { client_id: CLIENT_ID, grant_type: "refresh_token", refresh_token: cur.refreshToken },
    name: NAME,
    loginHint: "Run `kimi login` to sign in again.",
    messages: { invalid_grant: "The Kimi Code session expired." },
  });
  var data = cur.file.data;
  data.access_token = tokens.access_token;
  if (tokens.refresh_token) data.refresh_token = tokens.refresh_token;
  var nowMs = Date.now();
  var expiresAt = ctx.oauth.refreshedExpiry(tokens.expires_in, 3600, nowMs);
  data.expires_at = expiresAt / 1000; // unix seconds, like the CLI writes
  if ("expires_in" in data) data.expires_in = (expiresAt - nowMs) / 1000;
  if (tokens.scope) data.scope = tokens.scope;
  if (tokens.token_type) data.token_type = tokens.token_type;
  var written = ctx.oauth.writeJsonFile(cur.file, data);
  ctx.host.log.info("kimi: refreshed the Kimi Code sign-in and updated " + cur.path);
  return readStore(ctx, written.path) || {
    accessToken: tokens.access_token,
    refreshToken: data.refresh_token,
    expiresAtMs: data.expires_at * 1000,
    path: cur.path,
    file: written,
  };
}

// ---- usage -> lines ----------------------------------------------------------------
function counts(ctx, detail) {
  if (!detail || typeof detail !== "object") return null;
  var limit = ctx.num.of(detail.limit);
  var used = ctx.num.of(detail.used);
  var remaining = ctx.num.of(detail.remaining);
  if (used === null && limit !== null && remaining !== null) used = limit - remaining;
  if (limit === null || used === null || !(limit > 0)) return null;
  return { limit: limit, used: Math.max(0, used), resetsAt: ctx.util.toIso(detail.resetTime) };
}

function windowMs(ctx, win) {
  if (!win || typeof win !== "object") return null;
  var duration = ctx.num.of(win.duration);
  var unit = typeof win.timeUnit === "string" && UNIT_MS.hasOwnProperty(win.timeUnit) ? UNIT_MS[win.timeUnit] : null;
  return duration !== null && duration > 0 && unit ? duration * unit : null;
}

function durationLabel(ms) {
  var hours = ms / 3600000;
  if (hours >= 24 && hours % 24 === 0) return hours / 24 + "d";
  if (hours >= 1 && Math.round(hours) === hours) return hours + "h";
  return Math.round(ms / 60000) + "m";
}

// A window as a percent line (pace is computed from percent lines, SPEC §2.3)
// followed by a detail line with the request counts.
function pushWindow(ctx, metrics, label, c, periodMs) {
  metrics.push(
    ctx.line.progress({
      label: label,
      used: Math.round((c.used / c.limit) * 10000) / 100,
      limit: 100,
      format: { kind: "percent" },
      resetsAt: c.resetsAt || undefined,
      periodDurationMs: periodMs || undefined,
    })
  );
  metrics.push(
    ctx.line.text({
      label: label + " requests",
      value: ctx.num.grouped(c.used) + " / " + ctx.num.grouped(c.limit) + " requests",
      detail: true,
    })
  );
}

function toResult(ctx, data, source) {
  var metrics = [];
  var limits = Array.isArray(data.limits) ? data.limits.slice() : [];
  var windows = [];
  for (var i = 0; i < limits.length; i++) {
    var c = counts(ctx, limits[i] && limits[i].detail);
    var ms = windowMs(ctx, limits[i] && limits[i].window);
    if (c) windows.push({ c: c, ms: ms });
  }
  windows.sort(function (a, b) { return (a.ms || Infinity) - (b.ms || Infinity); });
  for (var j = 0; j < windows.length; j++) {
    var w = windows[j];
    if (j === 0) {
      pushWindow(ctx, metrics, "Session", w.c, w.ms);
      continue;
    }
    metrics.push(
      ctx.line.progress({
        label: "Limit (" + (w.ms ? durationLabel(w.ms) : "window " + (j + 1)) + ")",
        used: w.c.used,
        limit: w.c.limit,
        format: { kind: "count", suffix: "requests" },
        resetsAt: w.c.resetsAt || undefined,
        periodDurationMs: w.ms || undefined,
        detail: true,
      })
    );
  }
  var weekly = counts(ctx, data.usage);
  if (weekly) pushWindow(ctx, metrics, "Weekly", weekly, WEEK_MS);
  if (!metrics.length) {
    if (!("usage" in data) && !("limits" in data)) ctx.util.fail("failed", "Unexpected response from Kimi: missing usage.");
    metrics.push(ctx.line.badge({ label: "Status", text: "No usage data", color: "grey" }));
  }
  var level = data.user && data.user.membership && data.user.membership.level;
  var plan = typeof level === "string" && level ? ctx.fmt.planLabel(level.replace(/^LEVEL_/, "").toLowerCase()) : undefined;
  return { source: source, plan: plan, metrics: metrics };
}

function usagesRequest(ctx, base, token) {
  return ctx.host.http.request({
    method: "GET",
    url: base + "/usages",
    headers: { Authorization: "Bearer " + token, Accept: "application/json", "User-Agent": "usagestat/" + ctx.app.version },
    timeoutMs: 15000,
  });
}

// Only config baseUrl changes the host (its host is allowed by the host; an env
// override to any other host would be refused by the http permission).
function baseUrl(ctx) {
  return String(ctx.provider.baseUrl || API_BASE).trim().replace(/\/+$/, "");
}

// ---- modes ----------------------------------------------------------------------------
function probeApi(ctx, key) {
  var resp = usagesRequest(ctx, baseUrl(ctx), key.value);
  ctx.util.checkResponse(resp, { name: NAME, loginHint: "Check the Kimi Code API key (KIMI_CODE_API_KEY)." });
  return toResult(ctx, ctx.util.expectJson(resp, NAME), "api");
}

function probeCli(ctx, mode) {
  var first = findStore(ctx);
  if (!first) ctx.util.fail("missing-auth", "Not logged in to Kimi Code. " + LOGIN);
  var path = first.path;
  var session = ctx.oauth.session({
    name: NAME,
    loginHint: "Run `kimi login` to sign in again.",
    missingMessage: "Not logged in to Kimi Code. " + LOGIN,
    load: function () { return readStore(ctx, path); },
    canRefresh: function (cur, reason) {
      var what = reason === "expiring" ? "The Kimi Code sign-in has expired" : "Kimi rejected the token";
      if (mode === "local") return what + " (the local source never refreshes it). Run `kimi` or `kimi login` to renew it.";
      return true;
    },
    rewritesStore: true,
    refresh: function (cur) { return refreshStore(ctx, cur); },
  });
  var base = baseUrl(ctx);
  var resp = session.request(function (token) { return usagesRequest(ctx, base, token); });
  ctx.util.checkResponse(resp, { name: NAME, loginHint: "Kimi session expired. " + LOGIN });
  return toResult(ctx, ctx.util.expectJson(resp, NAME), mode);
}

globalThis.__usagestat_plugin = {
  id: "kimi",
  probe: function (ctx) {
    var mode = ctx.sourceMode;
    if (mode !== "auto" && mode !== "oauth" && mode !== "local" && mode !== "api") {
      ctx.util.fail("unsupported", "Kimi Code supports the oauth, local and api sources.");
    }
    if (mode === "oauth" || mode === "local") return probeCli(ctx, mode);
    var key = ctx.creds.apiKey({ env: ["KIMI_CODE_API_KEY"] });
    if (key) return probeApi(ctx, key);
    if (mode === "api") ctx.util.fail("missing-auth", "No Kimi Code API key: set apiKey in the config or KIMI_CODE_API_KEY.");
    return probeCli(ctx, "oauth");
  },
};
