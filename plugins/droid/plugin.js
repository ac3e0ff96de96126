// Droid: Factory.ai usage through the user's app.factory.ai browser session -
// the web-cookie front-end of the `factory` plugin. The requests and parsing
// are shared with it (ctx.factory, prelude 51-factory.js); this file only finds
// the session and authenticates requests with it. Cookies cannot be renewed:
// an expired session asks the user to paste a fresh one.

var PROVIDER = "Factory";
var SESSION_HINT = "Session expired. Sign in again at app.factory.ai and update the cookie (cookieHeader or DROID_COOKIE).";
var MISSING = "Not logged in. Set cookieHeader (or DROID_COOKIE) from app.factory.ai, or run `usagestat auth import-cookies --provider droid --save`.";
// Cookies whose value is itself a WorkOS JWT usable as a bearer token, in order of preference.
var BEARER_COOKIES = ["access-token", "__Secure-next-auth.session-token", "next-auth.session-token",
  "__Secure-authjs.session-token", "authjs.session-token", "session"];

function looksLikeJwt(text) {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text);
}

// The pasted session: config cookieHeader, DROID_COOKIE, FACTORY_COOKIE, then
// <pluginDataDir>/cookie-header.txt. -> {cookie?, bearer?} or null.
function findSession(ctx) {
  var raw = ctx.provider.cookieHeader || null;
  if (!raw) {
    var env = ctx.creds.env(["DROID_COOKIE", "FACTORY_COOKIE"]);
    raw = env ? env.value : null;
  }
  if (!raw) {
    var file = String(ctx.app.pluginDataDir || "").replace(/[\\/]+$/, "") + "/cookie-header.txt";
    try {
      if (ctx.app.pluginDataDir && ctx.host.fs.exists(file)) raw = ctx.host.fs.readText(file);
    } catch (e) {
      raw = null;
    }
  }
  var text = raw ? String(raw).trim().replace(/^cookie\s*:\s*/i, "").replace(/^bearer\s+/i, "").trim() : "";
  if (!text) return null;
  if (text.indexOf("=") < 0 && !/^\s*curl/i.test(text)) return /\s|;/.test(text) ? null : { bearer: text };
  var cookie = ctx.cookieAuth.normalize(text);
  if (!cookie) return null;
  var bearer = null;
  for (var i = 0; i < BEARER_COOKIES.length && !bearer; i++) {
    var value = ctx.cookieAuth.get(cookie, BEARER_COOKIES[i]);
    if (value && looksLikeJwt(value)) bearer = value;
  }
  return { cookie: cookie, bearer: bearer };
}

globalThis.__usagestat_plugin = {
  id: "droid",
  probe: function (ctx) {
    if (ctx.sourceMode !== "auto" && ctx.sourceMode !== "web") {
      ctx.util.fail("unsupported", "Droid works from an app.factory.ai browser session only (source web); use the factory provider for the CLI login.");
    }
    var session = findSession(ctx);
    if (!session) ctx.util.fail("missing-auth", MISSING);
    var base = ctx.provider.baseUrl ? String(ctx.provider.baseUrl).replace(/\/+$/, "") : null;
    var usage = ctx.factory.fetchUsage({
      name: PROVIDER,
      loginHint: SESSION_HINT,
      bases: base ? [base] : [ctx.factory.API, ctx.factory.APP],
      send: function (req) {
        if (session.cookie) req.headers.Cookie = session.cookie;
        if (session.bearer) req.headers.Authorization = "Bearer " + session.bearer;
        return ctx.host.http.request({ method: req.method, url: req.url, headers: req.headers, bodyText: req.bodyText, timeoutMs: 15000 });
      },
    });
    return { source: "web", plan: usage.plan, metrics: usage.metrics };
  },
};
