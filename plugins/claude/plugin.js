// Claude (Claude Code / claude.ai subscription limits).
//
// oauth (default): Claude Code's OAuth sign-in (credentials file, or the macOS
// keychain item) -> GET api.anthropic.com/api/oauth/usage.
// web: a claude.ai `sessionKey` cookie -> claude.ai/api/organizations/{org}/usage.
// Both answer the same shape: utilization percentages per window, model-scoped
// weekly limits and monthly extra-usage spend (in cents).
//
// Token refresh follows SPEC §3.7 through ctx.oauth (prelude 40-oauth.js):
// only an expired (or rejected) token is refreshed, under the host lock, and
// the rotated tokens are written back to Claude Code's credentials file so
// `claude` stays signed in. The keychain item is never refreshed.

var NAME = "Claude";
var API_BASE = "https://api.anthropic.com";
var TOKEN_URL = "https://platform.claude.com/v1/oauth/token";
var WEB_BASE = "https://claude.ai";
var CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
var REFRESH_SCOPE = "user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload";
var CLAUDE_CODE_VERSION = "2.1.69"; // User-Agent the usage endpoint expects (settings.claudeCodeVersion overrides)
var KEYCHAIN_SERVICE = "Claude Code-credentials";
var WEB_USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

var FIVE_HOURS_MS = 5 * 60 * 60 * 1000;
var WEEK_MS = 7 * 24 * 60 * 60 * 1000;

var LOGIN = "Run `claude` to sign in.";
var LOGIN_AGAIN = "Run `claude` to sign in again.";
var WEB_HINT = "Update the sessionKey cookie (`usagestat auth import-cookies --provider claude --save`).";

// ---- credentials ----------------------------------------------------------------

function configDir(ctx) {
  var dir = ctx.host.env.get("CLAUDE_CONFIG_DIR");
  return dir ? String(dir).replace(/[\\/]+$/, "") : null;
}

function credentialsPath(ctx) {
  var dir = configDir(ctx);
  return dir ? dir + "/.credentials.json" : "~/.claude/.credentials.json";
}

// Claude Code keys its keychain item by a hash of CLAUDE_CONFIG_DIR when set.
function keychainServices(ctx) {
  var out = [];
  var dir = ctx.host.env.get("CLAUDE_CONFIG_DIR");
  if (dir) {
    var text = String(dir);
    try {
      text = text.normalize("NFC");
    } catch (e) {
      // keep as is
    }
    out.push(KEYCHAIN_SERVICE + "-" + ctx.host.crypto.sha256Hex(text).slice(0, 8));
  }
  out.push(KEYCHAIN_SERVICE);
  return out;
}

// {accessToken, refreshToken, expiresAtMs, scopes, subscriptionType, rateLimitTier}
// from the credential JSON ({"claudeAiOauth": {...}}), or null.
function fromCredentialJson(data) {
  var o = data && data.claudeAiOauth;
  if (!o || typeof o !== "object" || !o.accessToken) return null;
  return {
    accessToken: String(o.accessToken),
    refreshToken: o.refreshToken ? String(o.refreshToken) : null,
    expiresAtMs: typeof o.expiresAt === "number" || typeof o.expiresAt === "string" ? Number(o.expiresAt) : null,
    scopes: Array.isArray(o.scopes) ? o.scopes : null,
    subscriptionType: o.subscriptionType || null,
    rateLimitTier: o.rateLimitTier || null,
  };
}

function readFileStore(ctx, path) {
  var file = ctx.oauth.readJsonFile(path);
  if (!file) return null;
  var creds = fromCredentialJson(file.data);
  if (!creds) return null;
  creds.store = { kind: "file", path: path, file: file };
  return creds;
}

function decodeKeychainValue(ctx, raw) {
  var text = String(raw || "").trim();
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0 && /^7b/i.test(text)) {
    try {
      text = ctx.bytes.toUtf8(ctx.bytes.fromHex(text));
    } catch (e) {
      return null;
    }
  }
  return ctx.util.tryParseJson(text);
}

function readKeychainStore(ctx, service) {
  var raw = null;
  try {
    raw = ctx.host.keychain.readGenericPassword(service);
  } catch (e) {
    ctx.host.log.warn("claude: keychain read failed: " + String(e && e.message ? e.message : e));
    return null;
  }
  if (!raw) return null;
  // An item holding only MCP sign-ins (no claudeAiOauth) is not a Claude sign-in.
  var creds = fromCredentialJson(decodeKeychainValue(ctx, raw));
  if (!creds) return null;
  creds.store = { kind: "keychain", service: service };
  return creds;
}

// Where Claude Code keeps its sign-in, in the order Claude Code itself uses:
// macOS keychain first (the file is often stale there), the file elsewhere.
// Returns a loader for that one store (re-read before any refresh), or null.
function findOauthStore(ctx) {
  var path = credentialsPath(ctx);
  var services = keychainServices(ctx);
  var loaders = [];
  var fileLoader = function () { return readFileStore(ctx, path); };
  var keychainLoaders = services.map(function (service) {
    return function () { return readKeychainStore(ctx, service); };
  });
  if (ctx.app.platform === "macos") loaders = keychainLoaders.concat([fileLoader]);
  else loaders = [fileLoader].concat(keychainLoaders);
  for (var i = 0; i < loaders.length; i++) {
    var creds = loaders[i]();
    if (creds) return { load: loaders[i], first: creds };
  }
  return null;
}

function tokenOnly(token, kind) {
  return { accessToken: token, refreshToken: null, expiresAtMs: null, scopes: null, store: { kind: kind } };
}

// The OAuth credential to use: config apiKey (an sk-ant-oat… token), Claude
// Code's store, then CLAUDE_CODE_OAUTH_TOKEN. Null when there is none.
function findOauth(ctx) {
  var key = ctx.provider.apiKey;
  if (key) {
    if (/^sk-ant-api/.test(key)) {
      ctx.util.fail(
        "unsupported",
        "An Anthropic API key cannot read Claude subscription usage. Remove apiKey from the config and " + LOGIN.toLowerCase()
      );
    }
    var t = tokenOnly(String(key), "config");
    return { load: function () { return t; }, first: t };
  }
  var store = findOauthStore(ctx);
  if (store) return store;
  var env = ctx.host.env.get("CLAUDE_CODE_OAUTH_TOKEN");
  if (env) {
    var e = tokenOnly(String(env).trim(), "env");
    return { load: function () { return e; }, first: e };
  }
  return null;
}

function webCookie(ctx) {
  var raw = ctx.provider.cookieHeader || ctx.host.env.get("CLAUDE_AI_SESSION_KEY") || ctx.host.env.get("CLAUDE_WEB_SESSION_KEY");
  if (!raw) return null;
  var text = String(raw).trim();
  if (/^cookie:\s*/i.test(text)) text = text.replace(/^cookie:\s*/i, "");
  return text.indexOf("=") >= 0 ? text : "sessionKey=" + text;
}

// ---- usage -> lines ---------------------------------------------------------------

function userAgent(ctx) {
  var v = ctx.provider.settings && ctx.provider.settings.claudeCodeVersion;
  return "claude-code/" + (v ? String(v) : CLAUDE_CODE_VERSION);
}

function planLabel(ctx, subscriptionType, rateLimitTier) {
  var base = subscriptionType ? ctx.fmt.planLabel(subscriptionType) : "";
  var tier = ctx.util.text(rateLimitTier);
  if (!base && /max/i.test(tier)) base = "Max";
  if (!base && /pro/i.test(tier)) base = "Pro";
  var m = /(\d+)x\b/i.exec(tier);
  if (base && m && base.indexOf(m[1] + "x") < 0) base += " " + m[1] + "x";
  return base || undefined;
}

// `used`: a percent as a number or numeric string (callers check it is one).
function percentLine(ctx, label, used, resetsAt, periodMs, detail) {
  return ctx.line.progress({
    label: label,
    used: Math.max(0, ctx.num.of(used, 0)),
    limit: 100,
    format: { kind: "percent" },
    resetsAt: ctx.util.toIso(resetsAt) || undefined,
    periodDurationMs: periodMs,
    detail: detail,
  });
}

function windowLine(ctx, win, label, periodMs, detail) {
  if (!win || typeof win !== "object") return null;
  var u = ctx.num.of(win.utilization);
  if (u === null) return null;
  return percentLine(ctx, label, u, win.resets_at, periodMs, detail);
}

function findLimit(ctx, limits, kind) {
  for (var i = 0; i < limits.length; i++) {
    if (limits[i] && limits[i].kind === kind && ctx.num.of(limits[i].percent) !== null) return limits[i];
  }
  return null;
}

function scopeName(ctx, limit) {
  var scope = limit && limit.scope;
  var name = scope && ((scope.model && scope.model.display_name) || (scope.surface && scope.surface.display_name));
  return ctx.util.text(name).trim();
}

function capitalise(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

function money(ctx, amount, currency) {
  return ctx.fmt.money(amount, currency);
}

function extraUsageLine(ctx, data) {
  var ex = data.extra_usage && typeof data.extra_usage === "object" ? data.extra_usage : null;
  var spend = data.spend && typeof data.spend === "object" ? data.spend : null;
  var used = null;
  var limit = null;
  var currency = "USD";
  var enabled = false;
  if (ex && typeof ex.used_credits === "number") {
    // used_credits / monthly_limit are cents; monthly_limit 0 = no limit.
    used = ex.used_credits / 100;
    var monthly = ctx.num.of(ex.monthly_limit);
    limit = monthly > 0 ? monthly / 100 : null;
    currency = ctx.util.text(ex.currency).toUpperCase() || "USD";
    enabled = ex.is_enabled === true;
  } else if (spend && spend.used && typeof spend.used.amount_minor === "number") {
    var exp = ctx.num.of(spend.used.exponent, 2);
    var scale = Math.pow(10, exp);
    used = spend.used.amount_minor / scale;
    var minor = spend.limit ? ctx.num.of(spend.limit.amount_minor) : null;
    if (minor > 0) limit = minor / scale;
    currency = ctx.util.text(spend.used.currency).toUpperCase() || "USD";
    enabled = spend.enabled === true || (ex && ex.is_enabled === true);
  } else {
    return null;
  }
  if (!enabled && !(used > 0)) return null;
  if (limit) {
    var format = { kind: "dollars" };
    if (currency !== "USD") format.currency = currency;
    return ctx.line.progress({ label: "Extra usage", used: used, limit: limit, format: format });
  }
  return ctx.line.text({ label: "Extra usage", value: money(ctx, used, currency) + " spent (no monthly limit)" });
}

function usageLines(ctx, data) {
  if (!("five_hour" in data) && !("seven_day" in data) && !Array.isArray(data.limits)) {
    ctx.util.requireField(data, "five_hour", NAME);
  }
  var limits = Array.isArray(data.limits) ? data.limits : [];
  var lines = [];
  function push(line) {
    if (line) lines.push(line);
  }

  var session = windowLine(ctx, data.five_hour, "Session", FIVE_HOURS_MS);
  if (!session) {
    var s = findLimit(ctx, limits, "session");
    if (s) session = percentLine(ctx, "Session", s.percent, s.resets_at, FIVE_HOURS_MS);
  }
  push(session);

  var weekly = windowLine(ctx, data.seven_day, "Weekly", WEEK_MS);
  if (!weekly) {
    var w = findLimit(ctx, limits, "weekly_all");
    if (w) weekly = percentLine(ctx, "Weekly", w.percent, w.resets_at, WEEK_MS);
  }
  push(weekly);

  var seen = { session: true, weekly: true };
  var sonnet = windowLine(ctx, data.seven_day_sonnet, "Sonnet", WEEK_MS, true);
  var opus = windowLine(ctx, data.seven_day_opus, "Opus", WEEK_MS, true);
  if (sonnet) seen.sonnet = true;
  if (opus) seen.opus = true;
  push(sonnet);
  push(opus);

  // Model-scoped weekly limits that have no legacy key (e.g. "Fable").
  for (var i = 0; i < limits.length; i++) {
    var l = limits[i];
    if (!l || l.kind !== "weekly_scoped") continue;
    if (ctx.num.of(l.percent) === null) continue;
    var label = capitalise(scopeName(ctx, l));
    if (!label || seen[label.toLowerCase()]) continue;
    seen[label.toLowerCase()] = true;
    push(percentLine(ctx, label, l.percent, l.resets_at, WEEK_MS));
  }

  push(windowLine(ctx, data.seven_day_routines || data.seven_day_cowork, "Routines", WEEK_MS, true));
  push(windowLine(ctx, data.seven_day_omelette, "Claude Design", WEEK_MS, true));
  push(extraUsageLine(ctx, data));

  if (!lines.length) lines.push(ctx.line.text({ label: "Usage", value: "No limits reported for this plan" }));
  return lines;
}

// ---- oauth mode ----------------------------------------------------------------------

function refreshFileStore(ctx, cur) {
  var tokens = ctx.oauth.requestToken({
    url: TOKEN_URL,
    json: {
      grant_type: "refresh_token",
      refresh_token: cur.refreshToken,
      client_id: CLIENT_ID,
      scope: REFRESH_SCOPE,
    },
    headers: { "User-Agent": userAgent(ctx) },
    name: NAME,
    loginHint: LOGIN_AGAIN,
    messages: { invalid_grant: "Claude session expired." },
  });
  var file = cur.store.file;
  var data = file.data;
  var o = data.claudeAiOauth;
  o.accessToken = tokens.access_token;
  if (tokens.refresh_token) o.refreshToken = tokens.refresh_token;
  o.expiresAt = ctx.oauth.refreshedExpiry(tokens.expires_in, 8 * 3600);
  var written = ctx.oauth.writeJsonFile(file, data);
  ctx.host.log.info("claude: refreshed the OAuth token and updated " + file.path);
  var next = fromCredentialJson(written.data);
  next.store = { kind: "file", path: file.path, file: written };
  return next;
}

function canRefresh(ctx, cur, reason) {
  var what = reason === "expiring" ? "The Claude sign-in has expired" : "Claude rejected the token";
  var kind = cur.store && cur.store.kind;
  if (kind === "keychain") {
    return what + " (it is kept in the keychain, which usagestat does not rewrite). " + LOGIN_AGAIN;
  }
  if (kind !== "file") return what + ". " + LOGIN_AGAIN;
  if (!cur.refreshToken) return what + ". " + LOGIN_AGAIN;
  return true;
}

function probeOauth(ctx, found) {
  found = found || findOauth(ctx);
  if (!found) {
    ctx.util.fail("missing-auth", "Not logged in. Run `claude` to sign in, or set CLAUDE_AI_SESSION_KEY for the web mode.");
  }
  var first = found.first;
  if (first.scopes && first.scopes.length && first.scopes.indexOf("user:profile") < 0) {
    ctx.util.fail(
      "credential-denied",
      "This Claude token cannot read usage (it lacks the user:profile scope, e.g. a `claude setup-token` token). " + LOGIN_AGAIN
    );
  }
  var base = (ctx.provider.baseUrl || API_BASE).replace(/\/+$/, "");
  var session = ctx.oauth.session({
    name: NAME,
    loginHint: LOGIN_AGAIN,
    missingMessage: "Not logged in. " + LOGIN,
    load: found.load,
    // A pasted or environment token cannot be refreshed: its 401/403 is reported as is.
    retryStatuses: first.store.kind === "file" || first.store.kind === "keychain" ? [401, 403] : [],
    canRefresh: function (cur, reason) { return canRefresh(ctx, cur, reason); },
    rewritesStore: true,
    refresh: function (cur) { return refreshFileStore(ctx, cur); },
  });
  var resp = session.request(function (token) {
    return ctx.host.http.request({
      method: "GET",
      url: base + "/api/oauth/usage",
      headers: {
        Authorization: "Bearer " + token,
        Accept: "application/json",
        "Content-Type": "application/json",
        "anthropic-beta": "oauth-2025-04-20",
        "User-Agent": userAgent(ctx),
      },
      timeoutMs: 15000,
    });
  });
  var creds = session.creds();
  var kind = creds.store && creds.store.kind;
  if (resp.status === 403 && (kind === "env" || kind === "config")) {
    ctx.util.fail("credential-denied", "This Claude token cannot read usage (it needs the user:profile scope). " + LOGIN_AGAIN);
  }
  ctx.util.checkResponse(resp, { name: NAME, loginHint: LOGIN_AGAIN });
  var data = ctx.util.expectJson(resp, NAME);
  return {
    source: "oauth",
    plan: planLabel(ctx, creds.subscriptionType, creds.rateLimitTier),
    metrics: usageLines(ctx, data),
  };
}

// ---- web mode -------------------------------------------------------------------------

function webGet(ctx, cookie, path) {
  var resp = ctx.host.http.request({
    method: "GET",
    url: WEB_BASE + path,
    headers: {
      Cookie: cookie,
      Accept: "application/json",
      "User-Agent": WEB_USER_AGENT,
      "anthropic-client-platform": "web_claude_ai",
    },
    timeoutMs: 15000,
  });
  ctx.util.checkResponse(resp, { name: "claude.ai", loginHint: WEB_HINT });
  if (/^\s*</.test(resp.bodyText || "")) {
    ctx.util.fail("credential-denied", "claude.ai answered with a web page instead of data: the session has probably expired. " + WEB_HINT);
  }
  return ctx.util.expectJson(resp, "claude.ai");
}

function pickOrganization(ctx, orgs) {
  if (!Array.isArray(orgs) || !orgs.length) {
    ctx.util.fail("failed", "claude.ai returned no organizations for this session.");
  }
  var wanted = ctx.provider.workspaceId;
  if (wanted) {
    for (var i = 0; i < orgs.length; i++) if (orgs[i] && orgs[i].uuid === wanted) return orgs[i];
    ctx.util.fail("failed", "claude.ai has no organization " + wanted + " for this session (check workspaceId).");
  }
  for (var j = 0; j < orgs.length; j++) {
    var caps = orgs[j] && orgs[j].capabilities;
    if (Array.isArray(caps) && caps.indexOf("chat") >= 0) return orgs[j];
  }
  return orgs[0];
}

function webPlan(ctx, org) {
  var caps = Array.isArray(org.capabilities) ? org.capabilities : [];
  var sub = caps.indexOf("claude_max") >= 0 ? "max" : caps.indexOf("claude_pro") >= 0 ? "pro" : null;
  return planLabel(ctx, sub, org.rate_limit_tier);
}

function probeWeb(ctx, cookie) {
  cookie = cookie || webCookie(ctx);
  if (!cookie) {
    ctx.util.fail(
      "missing-auth",
      "No claude.ai session: set CLAUDE_AI_SESSION_KEY or run `usagestat auth import-cookies --provider claude --save`."
    );
  }
  var org = pickOrganization(ctx, webGet(ctx, cookie, "/api/organizations"));
  if (!org || !org.uuid) ctx.util.requireField(org, "uuid", "claude.ai");
  var data = webGet(ctx, cookie, "/api/organizations/" + encodeURIComponent(org.uuid) + "/usage");
  return { source: "web", plan: webPlan(ctx, org), metrics: usageLines(ctx, data) };
}

function probeQuota(ctx) {
  if (ctx.sourceMode === "web") return probeWeb(ctx);
  if (ctx.sourceMode === "oauth") return probeOauth(ctx);
  // auto: a configured cookie means web; else Claude Code's sign-in, else a
  // session key from the environment.
  if (ctx.provider.cookieHeader && !ctx.provider.apiKey) return probeWeb(ctx);
  var found = findOauth(ctx);
  if (found) return probeOauth(ctx, found);
  var cookie = webCookie(ctx);
  if (cookie) return probeWeb(ctx, cookie);
  return probeOauth(ctx, null);
}

globalThis.__usagestat_plugin = {
  id: "claude",
  probe: function (ctx) {
    return ctx.localCost.append("claude", probeQuota(ctx));
  },
};
