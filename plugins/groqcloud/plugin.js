// GroqCloud. Standard API keys have no usage or billing endpoint, so:
// - web (default): the console's own activity API with the console session
//   (Stytch): month-to-date spend, tokens and requests;
// - api: the Enterprise Prometheus metrics; for standard keys (HTTP 404) only
//   what is knowable: the key is valid, plus the rate-limit headers if sent.
var PROVIDER = "GroqCloud";
var API = "https://api.groq.com";
var STYTCH = "https://api.stytchb2b.groq.com";
var CONSOLE = "https://console.groq.com";
// Publishable token of the console's Stytch B2B project (it only authorises
// SDK calls from the console.groq.com origin). Override: settings.stytchPublicToken
// or GROQ_STYTCH_PUBLIC_TOKEN if Groq rotates it.
var STYTCH_PUBLIC_TOKEN = "public-token-live-58df57a9-a1f5-4066-bc0c-2ff942db684f";
var SDK_CLIENT = '{"app":{"identifier":"console.groq.com"},"sdk":{"identifier":"Stytch.js Javascript SDK","version":"5.43.0"}}';
var JWT_CACHE = "stytch-session-jwt.json";

function importHint(ctx) {
  return "Sign in at console.groq.com, then run `usagestat auth import-cookies --provider " + ctx.provider.id +
    " --save` (or set cookieHeader / GROQ_SESSION_TOKEN to the stytch_session cookie).";
}

// ---- web: console session ------------------------------------------------------------
function consoleSession(ctx) {
  var header = ctx.cookieAuth.normalize(ctx.provider.cookieHeader);
  var token = header ? ctx.cookieAuth.get(header, "stytch_session") : null;
  var jwt = header ? ctx.cookieAuth.get(header, "stytch_session_jwt") : null;
  token = token || ctx.creds.envValue("GROQ_SESSION_TOKEN");
  jwt = jwt || ctx.creds.envValue("GROQ_SESSION_JWT");
  return token || jwt ? { token: token, jwt: jwt } : null;
}

function jwtExpMs(ctx, jwt) {
  var claims = ctx.jwt.decodePayload(jwt);
  var exp = ctx.num.of(claims && claims.exp);
  return exp ? exp * 1000 : null;
}

function cachePath(ctx) {
  return ctx.app.pluginDataDir.replace(/\/+$/, "") + "/" + JWT_CACHE;
}

// Exchange the long-lived opaque session token for a short-lived session JWT
// (what the console SPA does). The opaque token does not rotate; the JWT is
// cached in pluginDataDir until a minute before it expires.
function mintJwt(ctx, session) {
  var key = ctx.host.crypto.sha256Hex(session.token);
  var cached = ctx.util.readJson(cachePath(ctx));
  if (cached && cached.key === key && cached.jwt && Number(cached.expMs) - Date.now() > 60000) return cached.jwt;
  var publicToken = (ctx.provider.settings && ctx.provider.settings.stytchPublicToken) || ctx.creds.envValue("GROQ_STYTCH_PUBLIC_TOKEN") || STYTCH_PUBLIC_TOKEN;
  var resp = ctx.host.http.request({
    method: "POST",
    url: STYTCH + "/sdk/v1/b2b/sessions/authenticate",
    headers: {
      Authorization: ctx.util.basicAuth(publicToken, session.token),
      "Content-Type": "application/json",
      Accept: "application/json",
      Origin: CONSOLE,
      "X-SDK-Parent-Host": CONSOLE,
      "X-SDK-Client": ctx.base64.encode(SDK_CLIENT),
    },
    bodyText: JSON.stringify({ session_token: session.token, session_duration_minutes: 30 }),
    timeoutMs: 20000,
  });
  if (resp.status === 401 || resp.status === 403 || resp.status === 404) {
    if (session.jwt) return session.jwt; // fall back to a pasted JWT, checked below
    ctx.util.fail("credential-denied", "The GroqCloud console session expired (Stytch HTTP " + resp.status + "). " + importHint(ctx));
  }
  ctx.util.checkResponse(resp, { name: "GroqCloud sign-in (Stytch)" });
  var data = ctx.util.expectJson(resp, "GroqCloud sign-in (Stytch)");
  var jwt = data.data && typeof data.data.session_jwt === "string" ? data.data.session_jwt.trim() : "";
  if (!jwt) ctx.util.fail("failed", "Unexpected response from GroqCloud sign-in (Stytch): missing data.session_jwt.");
  var exp = jwtExpMs(ctx, jwt);
  try {
    ctx.host.fs.writeText(cachePath(ctx), JSON.stringify({ key: key, jwt: jwt, expMs: exp || Date.now() + 4 * 60000 }));
  } catch (e) {
    ctx.host.log.warn("could not cache the GroqCloud session JWT: " + (e && e.message ? e.message : String(e)));
  }
  return jwt;
}

function organizationId(ctx, jwt) {
  var s = ctx.provider.settings || {};
  if (s.organizationId) return String(s.organizationId);
  if (ctx.provider.workspaceId) return ctx.provider.workspaceId;
  var claims = ctx.jwt.decodePayload(jwt) || {};
  var org = claims["https://groq.com/organization"];
  var stytchOrg = claims["https://stytch.com/organization"];
  return ctx.util.text(org && org.id) || ctx.util.text(stytchOrg && stytchOrg.slug) || null;
}

function spendText(ctx, dollars) {
  return dollars > 0 && dollars < 1 ? "$" + dollars.toFixed(4) : ctx.fmt.money(dollars, "USD");
}

function probeWeb(ctx, session) {
  var jwt = session.token ? mintJwt(ctx, session) : session.jwt;
  var exp = jwtExpMs(ctx, jwt);
  if (exp !== null && exp <= Date.now()) {
    ctx.util.fail("credential-denied", "The GroqCloud session JWT has expired (it lives ~5 minutes); use the long-lived stytch_session cookie instead. " + importHint(ctx));
  }
  var org = organizationId(ctx, jwt);
  if (!org) ctx.util.fail("failed", "The GroqCloud session token carries no organization claim: set settings.organizationId.");
  var now = Date.now();
  var start = ctx.calendar.monthStart(now);
  var end = ctx.calendar.startOfDay(now) + ctx.calendar.DAY_MS;
  var resp = ctx.host.http.request({
    method: "GET",
    url: API + "/platform/v1/organizations/" + encodeURIComponent(org) + "/activity?start_date=" + Math.floor(start / 1000) + "&end_date=" + Math.floor(end / 1000),
    headers: { Authorization: "Bearer " + jwt, Accept: "application/json" },
    timeoutMs: 20000,
  });
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: "The console session was rejected. " + importHint(ctx) });
  var rows = ctx.util.requireField(ctx.util.expectJson(resp, PROVIDER), "data", PROVIDER);
  if (!Array.isArray(rows)) ctx.util.fail("failed", "Unexpected response from GroqCloud: data is not a list.");
  var today = ctx.calendar.startOfDay(now);
  var t = { cost: 0, today: 0, context: 0, cached: 0, generated: 0, requests: 0 };
  var orgName = null;
  for (var i = 0; i < rows.length; i++) {
    var r = rows[i] || {};
    var cost = ctx.num.of(r.cost, 0);
    t.cost += cost;
    var at = ctx.util.parseDateMs(r.timestamp);
    if (at !== null && at >= today) t.today += cost;
    t.context += ctx.num.of(r.n_context_tokens_total, 0);
    t.cached += Math.max(0, ctx.num.of(r.n_context_tokens_total, 0) - ctx.num.of(r.n_non_cached_context_tokens_total, 0));
    t.generated += ctx.num.of(r.n_generated_tokens_total, 0);
    t.requests += ctx.num.of(r.num_requests, 0);
    if (!orgName) orgName = ctx.util.text(r.organization_name);
  }
  var metrics = [
    ctx.line.text({ label: "Spend (month)", value: spendText(ctx, t.cost) }),
    ctx.line.text({ label: "Today", value: spendText(ctx, t.today) }),
    ctx.line.text({ label: "Tokens (month)", value: ctx.fmt.tokens(t.context + t.generated) + " (" + ctx.fmt.tokens(t.context) + " in, " + ctx.fmt.tokens(t.generated) + " out)" }),
    ctx.line.text({ label: "Requests (month)", value: String(Math.round(t.requests)) }),
  ];
  if (t.cached > 0) metrics.push(ctx.line.text({ label: "Cached input (month)", value: ctx.fmt.tokens(t.cached), detail: true }));
  if (orgName) metrics.push(ctx.line.text({ label: "Organization", value: orgName, detail: true }));
  return { source: "web", metrics: metrics };
}

// ---- api: Enterprise metrics, else the key check ---------------------------------------
var PROM = {
  requests: "sum(model_project_id_status_code:requests:rate5m)",
  tokensIn: "sum(model_project_id:tokens_in:rate5m)",
  tokensOut: "sum(model_project_id:tokens_out:rate5m)",
  cacheHits: "sum(model_project_id:prompt_cache_hits:rate5m)",
};

// The API root for api mode: config `baseUrl` (e.g. a gateway in front of
// api.groq.com; a trailing /openai/v1 or /v1 is dropped), else api.groq.com.
// The console session (web mode) is only ever sent to api.groq.com.
function apiBase(ctx) {
  return ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER, strip: ["/openai/v1", "/v1"] }) || API;
}

function promQuery(ctx, base, key, query) {
  return ctx.keyapi.request({
    name: PROVIDER,
    method: "GET",
    url: base + "/v1/metrics/prometheus/api/v1/query?query=" + encodeURIComponent(query),
    headers: { Authorization: "Bearer " + key, Accept: "application/json" },
    timeoutMs: 15000,
  });
}

function promScalar(ctx, resp) {
  ctx.util.checkResponse(resp, { name: "GroqCloud metrics", loginHint: "GroqCloud API key invalid." });
  var data = ctx.util.expectJson(resp, "GroqCloud metrics");
  if (data.status !== "success") {
    ctx.util.fail("failed", "GroqCloud metrics query failed: " + (ctx.util.text(data.error) || "status " + ctx.util.text(data.status, "?")) + ".");
  }
  var result = ctx.util.requireField(data, "data.result", "GroqCloud metrics") || [];
  var total = 0;
  for (var i = 0; i < result.length; i++) {
    var v = result[i] && result[i].value;
    var n = Array.isArray(v) ? ctx.num.of(v[1]) : null;
    if (n === null || n < 0) ctx.util.fail("failed", "GroqCloud metrics returned an invalid sample.");
    total += n;
  }
  return total;
}

function perMinute(rate) {
  var v = rate * 60;
  return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + "/min";
}

function probeKeyOnly(ctx, base, key) {
  var resp = ctx.keyapi.getJson({
    url: base + "/openai/v1/models",
    headers: { Authorization: "Bearer " + key, Accept: "application/json" },
    name: PROVIDER,
    loginHint: "GroqCloud API key invalid or revoked.",
  }).resp;
  var metrics = [
    ctx.line.badge({ label: "Key", text: "Valid", color: "green" }),
  ];
  var rpd = ctx.ratelimit.progress(ctx.ratelimit.read(resp.headers, "requests"), { label: "Requests (day)", suffix: "requests", periodDurationMs: 86400000 });
  if (rpd) metrics.push(rpd);
  var tpm = ctx.ratelimit.progress(ctx.ratelimit.read(resp.headers, "tokens"), { label: "Tokens (minute)", suffix: "tokens", periodDurationMs: 60000, detail: true });
  if (tpm) metrics.push(tpm);
  metrics.push(ctx.line.text({
    label: "Usage",
    value: "No usage API for standard GroqCloud keys — use the console session (web mode) for spend",
  }));
  return { source: "api", metrics: metrics };
}

function probeApi(ctx, key) {
  var base = apiBase(ctx);
  var first = promQuery(ctx, base, key, PROM.requests);
  if (first.status === 404 || first.status === 403) return probeKeyOnly(ctx, base, key);
  var requests = promScalar(ctx, first);
  var tokensIn = promScalar(ctx, promQuery(ctx, base, key, PROM.tokensIn));
  var tokensOut = promScalar(ctx, promQuery(ctx, base, key, PROM.tokensOut));
  var cache = promScalar(ctx, promQuery(ctx, base, key, PROM.cacheHits));
  var metrics = [
    ctx.line.text({ label: "Requests", value: perMinute(requests) + " (5-min rate)" }),
    ctx.line.text({ label: "Tokens", value: perMinute(tokensIn + tokensOut) + " (5-min rate)" }),
  ];
  if (cache > 0) metrics.push(ctx.line.text({ label: "Cache hits", value: perMinute(cache), detail: true }));
  return { source: "api", plan: "Enterprise", metrics: metrics };
}

function probe(ctx) {
  var key = ctx.provider.apiKey || ctx.creds.envValue(["GROQ_API_KEY", "GROQCLOUD_API_KEY"]);
  var mode = ctx.sourceMode;
  if (mode === "api") {
    if (!key) ctx.util.fail("missing-auth", "No GroqCloud API key: set apiKey in the config or GROQ_API_KEY.");
    return probeApi(ctx, key);
  }
  var session = consoleSession(ctx);
  if (session) return probeWeb(ctx, session);
  if (mode === "auto" && key) return probeApi(ctx, key);
  ctx.util.fail("missing-auth", "No GroqCloud console session. " + importHint(ctx));
}

globalThis.__usagestat_plugin = { id: "groqcloud", probe: probe };
