// Grok Build (xAI's coding CLI, SuperGrok plans): the credit window of the
// current period (weekly on current plans, a monthly included limit on older
// accounts) and the pay-as-you-go cap.
//
// `oauth` (default) uses the `grok login` sign-in in ~/.grok/auth.json (or a
// pasted bearer token) against the CLI chat proxy's billing endpoint. Its
// refresh tokens rotate: an expired token is refreshed under the host lock
// and the new pair is written back into the CLI's own file (SPEC §3.7), so
// the CLI stays signed in. `web` uses a grok.com browser session against the
// website's own Connect-RPC billing call (best effort: grok.com may demand a
// browser key exchange that a plain cookie cannot satisfy).

var NAME = "Grok";
var API_BASE = "https://cli-chat-proxy.grok.com/v1";
var TOKEN_URL = "https://auth.x.ai/oauth2/token";
var WEB_BILLING = "https://grok.com/grok_api_v2.GrokBuildBilling/GetGrokCreditsConfig";
var DEFAULT_CLIENT_ID = "b1a00492-073a-47ea-816f-4c329264a828";
var LOGIN = "Run `grok login` to sign in again.";
var MISSING = "Grok not logged in. Run `grok login` (or set GROK_OAUTH_TOKEN, or a grok.com cookie for the web source).";
var WEEK_MS = 7 * 86400000;

// ---- the CLI's store ----------------------------------------------------------
function storePath(ctx) {
  var home = ctx.host.env.get("GROK_HOME");
  if (home && String(home).trim()) return String(home).trim().replace(/[\\/]+$/, "") + "/auth.json";
  return "~/.grok/auth.json";
}

// The entry to use: the auth.x.ai OIDC login first, then the legacy sign-in,
// then any entry holding a token.
function pickEntry(data) {
  if (!data || typeof data !== "object" || Array.isArray(data)) return null;
  var names = Object.keys(data);
  var usable = names.filter(function (n) {
    var e = data[n];
    return e && typeof e === "object" && (e.key || e.refresh_token || e.refresh);
  });
  var order = [
    function (n) { return n.indexOf("https://auth.x.ai") === 0; },
    function (n) { return n.indexOf("https://accounts.x.ai") === 0; },
    function () { return true; },
  ];
  for (var i = 0; i < order.length; i++) {
    for (var j = 0; j < usable.length; j++) if (order[i](usable[j])) return usable[j];
  }
  return null;
}

function readStore(ctx, path) {
  var file = ctx.oauth.readJsonFile(path);
  if (!file) return null;
  if (!file.data) ctx.util.fail("failed", path + " is not valid JSON. " + LOGIN);
  var name = pickEntry(file.data);
  if (!name) return null;
  var e = file.data[name];
  var expiry = e.expires_at !== undefined ? e.expires_at : e.expires;
  var clientFromName = name.indexOf("::") > 0 ? name.slice(name.indexOf("::") + 2) : null;
  return {
    accessToken: ctx.util.text(e.key) || null,
    refreshToken: ctx.util.text(e.refresh_token) || ctx.util.text(e.refresh) || null,
    expiresAtMs: ctx.util.parseDateMs(expiry),
    clientId: e.oidc_client_id || clientFromName || DEFAULT_CLIENT_ID,
    entryName: name,
    entry: e,
    file: file,
    path: path,
  };
}

// An expiry written the way the file already writes it (ISO text, or epoch
// seconds / milliseconds).
function expiryLike(original, ms) {
  if (typeof original === "number") return original >= 1e11 ? ms : Math.floor(ms / 1000);
  if (typeof original === "string" && /^\s*\d+(\.\d+)?\s*$/.test(original)) {
    return String(Number(original) >= 1e11 ? ms : Math.floor(ms / 1000));
  }
  return new Date(ms).toISOString();
}

function refreshStore(ctx, cur) {
  var tokens = ctx.oauth.requestToken({
    url: TOKEN_URL,
    form: { grant_type: "refresh_token", client_id: cur.clientId, refresh_token: cur.refreshToken },
    name: NAME,
    loginHint: LOGIN,
    messages: { invalid_grant: "The Grok sign-in has expired or was revoked." },
  });
  var data = cur.file.data;
  var entry = data[cur.entryName];
  entry.key = tokens.access_token;
  if (tokens.refresh_token) {
    if ("refresh_token" in entry || !("refresh" in entry)) entry.refresh_token = tokens.refresh_token;
    else entry.refresh = tokens.refresh_token;
  }
  var expiresAt = ctx.oauth.refreshedExpiry(tokens.expires_in);
  if ("expires_at" in entry || !("expires" in entry)) entry.expires_at = expiryLike(entry.expires_at, expiresAt);
  else entry.expires = expiryLike(entry.expires, expiresAt);
  if (tokens.id_token && "id_token" in entry) entry.id_token = tokens.id_token;
  ctx.oauth.writeJsonFile(cur.file, data);
  ctx.host.log.info("grok: refreshed the Grok sign-in and updated " + cur.path);
  return readStore(ctx, cur.path);
}

// ---- billing -> lines -----------------------------------------------------------
function val(ctx, wrapper) {
  if (wrapper === null || wrapper === undefined) return null;
  if (typeof wrapper === "object") return ctx.num.of(wrapper.val !== undefined ? wrapper.val : wrapper.value);
  return ctx.num.of(wrapper);
}

function periodMs(ctx, start, end) {
  var a = ctx.util.parseDateMs(start);
  var b = ctx.util.parseDateMs(end);
  return a !== null && b !== null && b > a ? b - a : undefined;
}

function payAsYouGo(ctx, config) {
  var cap = val(ctx, config.onDemandCap);
  if (cap === null) return null;
  if (!(cap > 0)) return ctx.line.badge({ label: "Pay as you go", text: "Disabled", color: "grey" });
  var used = val(ctx, config.onDemandUsed);
  if (used === null) {
    return ctx.line.badge({ label: "Pay as you go", text: "$" + ctx.num.grouped(cap / 100, 2) + " cap", color: "green" });
  }
  return ctx.line.progress({
    label: "Pay as you go",
    used: Math.max(0, used) / 100,
    limit: cap / 100,
    format: { kind: "dollars" },
    resetsAt: ctx.util.toIso(config.billingPeriodEnd) || undefined,
  });
}

function creditsLines(ctx, config) {
  var metrics = [];
  var current = config.currentPeriod && typeof config.currentPeriod === "object" ? config.currentPeriod : null;
  var percent = ctx.num.of(config.creditUsagePercent);
  if (percent === null && current) percent = 0; // proto-JSON omits a zero
  if (percent !== null) {
    var type = ctx.util.text(current && current.type);
    var weekly = /WEEK/i.test(type);
    var reset = (current && current.end) || config.billingPeriodEnd;
    metrics.push(
      ctx.line.progress({
        label: weekly ? "Weekly limit" : /MONTH/i.test(type) ? "Monthly limit" : "Credits",
        used: ctx.util.clampPercent(percent),
        limit: 100,
        format: { kind: "percent" },
        resetsAt: ctx.util.toIso(reset) || undefined,
        periodDurationMs: weekly ? WEEK_MS : current ? periodMs(ctx, current.start, current.end) : undefined,
      })
    );
  }
  return metrics;
}

function legacyLines(ctx, config) {
  var limit = val(ctx, config.monthlyLimit);
  var used = val(ctx, config.used);
  if (limit === null || !(limit > 0) || used === null) return [];
  return [
    ctx.line.progress({
      label: "Credits used",
      used: ctx.util.clampPercent((used / limit) * 100),
      limit: 100,
      format: { kind: "percent" },
      resetsAt: ctx.util.toIso(config.billingPeriodEnd) || undefined,
      periodDurationMs: periodMs(ctx, config.billingPeriodStart, config.billingPeriodEnd),
    }),
  ];
}

function billingLines(ctx, data) {
  var config = data && typeof data.config === "object" && data.config ? data.config : null;
  if (!config) return null;
  var metrics = "monthlyLimit" in config ? legacyLines(ctx, config) : creditsLines(ctx, config);
  var payg = payAsYouGo(ctx, config);
  if (payg) metrics.push(payg);
  return { metrics: metrics, tier: config.subscriptionTier };
}

function planOf(ctx, settings, tier, authMode) {
  var shown = settings && (settings.subscription_tier_display || settings.subscriptionTierDisplay);
  if (typeof shown === "string" && shown) return shown;
  var raw = typeof tier === "string" && tier ? tier : typeof authMode === "string" ? authMode : "";
  raw = raw.replace(/^SUBSCRIPTION_TIER_/i, "").toLowerCase();
  return raw ? ctx.fmt.planLabel(raw) : undefined;
}

function finish(ctx, lines, source, plan) {
  if (!lines.metrics.length) {
    lines.metrics.push(ctx.line.badge({ label: "Status", text: "No usage data", color: "grey" }));
  }
  return { source: source, plan: plan, metrics: lines.metrics };
}

// ---- oauth ------------------------------------------------------------------------
// Config `baseUrl` (checked by ctx.keyapi.baseUrl: http(s) only, no
// user:password@, plain http only to loopback / private hosts) or the CLI proxy.
function apiBase(ctx) {
  return ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: NAME }) || API_BASE;
}

function apiGet(ctx, path, token, timeoutMs) {
  return ctx.host.http.request({
    method: "GET",
    url: apiBase(ctx) + path,
    headers: { Authorization: "Bearer " + token, "X-XAI-Token-Auth": "xai-grok-cli", Accept: "application/json" },
    timeoutMs: timeoutMs || 15000,
  });
}

function probeOauth(ctx, pasted) {
  apiBase(ctx); // a bad baseUrl fails before any token is read or sent
  var store = null;
  var session = null;
  var send;
  if (pasted) {
    send = function (fn) { return fn(pasted.value); };
  } else {
    var path = storePath(ctx);
    store = readStore(ctx, path);
    if (!store) ctx.util.fail("missing-auth", MISSING);
    var principal = String(store.entry.principal_type || "");
    if (/team|org/i.test(principal)) {
      return {
        source: "oauth",
        metrics: [ctx.line.text({ label: "Usage", value: "Team usage not available for team sign-ins" })],
      };
    }
    session = ctx.oauth.session({
      name: NAME,
      loginHint: LOGIN,
      missingMessage: MISSING,
      load: function () { return readStore(ctx, path); },
      rewritesStore: true,
      refresh: function (cur) { return refreshStore(ctx, cur); },
    });
    send = function (fn) { return session.request(function (token) { return fn(token); }); };
  }
  var hint = pasted ? "Grok rejected the pasted token (" + pasted.source + "); paste a fresh one or run `grok login`." : LOGIN;
  var token = null;
  var resp = send(function (t) { token = t; return apiGet(ctx, "/billing?format=credits", t); });
  if (resp.status === 404) resp = apiGet(ctx, "/billing", token);
  ctx.util.checkResponse(resp, { name: NAME + " billing", loginHint: hint });
  var lines = billingLines(ctx, ctx.util.expectJson(resp, NAME + " billing"));
  if (!lines) {
    var legacy = apiGet(ctx, "/billing", token);
    ctx.util.checkResponse(legacy, { name: NAME + " billing", loginHint: hint });
    lines = billingLines(ctx, ctx.util.expectJson(legacy, NAME + " billing"));
    if (!lines) ctx.util.fail("failed", "Grok billing response changed: missing config.");
  }
  var settings = null;
  try {
    var s = apiGet(ctx, "/settings", token, 5000);
    if (s.status >= 200 && s.status < 300) settings = ctx.util.tryParseJson(s.bodyText);
  } catch (e) {
    settings = null; // the plan name is optional
  }
  var authMode = store ? store.entry.auth_mode : null;
  return finish(ctx, lines, "oauth", planOf(ctx, settings, lines.tier, authMode));
}

// ---- web --------------------------------------------------------------------------
function probeWeb(ctx, session) {
  if (!session.header) {
    ctx.util.fail("missing-auth", NAME + " web session not usable: the pasted cookie is empty. Run `" + ctx.websession.importCommand() + "`.");
  }
  var resp = ctx.host.http.request({
    method: "POST",
    url: WEB_BILLING,
    headers: {
      Cookie: session.header,
      "Content-Type": "application/json",
      Accept: "application/json",
      "Connect-Protocol-Version": "1",
      Origin: "https://grok.com",
      Referer: "https://grok.com/",
      "User-Agent": ctx.websession.BROWSER_UA,
    },
    bodyText: "{}",
    timeoutMs: 15000,
  });
  var grpc = String((resp.headers && resp.headers["grpc-status"]) || "");
  if (grpc === "16" || grpc === "7") {
    ctx.util.fail("credential-denied", ctx.websession.expiredMessage(NAME, "(grok.com refused the session, gRPC status " + grpc + ")"));
  }
  var data = ctx.websession.json(resp, { name: NAME });
  var lines = billingLines(ctx, data);
  if (!lines) ctx.util.fail("failed", "Grok billing response changed: missing config.");
  return finish(ctx, lines, "web", planOf(ctx, null, lines.tier, null));
}

globalThis.__usagestat_plugin = {
  id: "grok",
  probe: function (ctx) {
    var mode = ctx.sourceMode;
    if (mode !== "auto" && mode !== "oauth" && mode !== "web") {
      ctx.util.fail("unsupported", "Grok supports the oauth and web sources.");
    }
    if (mode === "web") return probeWeb(ctx, ctx.websession.require({ name: NAME, env: ["GROK_COOKIE"] }));
    var pasted = ctx.creds.apiKey({ env: ["GROK_OAUTH_TOKEN"] });
    if (pasted && /^xai-/.test(pasted.value)) {
      ctx.util.fail("credential-denied", "An xAI API key (xai-…) cannot read Grok Build credits; use the `grok login` sign-in or a SuperGrok token.");
    }
    if (pasted || mode === "oauth") return probeOauth(ctx, pasted);
    if (ctx.host.fs.exists(storePath(ctx))) return probeOauth(ctx, null);
    var cookie = ctx.websession.find({ env: ["GROK_COOKIE"] });
    if (cookie && cookie.header) return probeWeb(ctx, cookie);
    ctx.util.fail("missing-auth", MISSING);
  },
};
