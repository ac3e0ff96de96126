// ctx.websession: the parts every provider read through a browser session
// shares (T3 Chat, Manus, Perplexity, Grok web, Ollama, Mistral): finding the
// session cookie (config cookieHeader first, then the provider's env vars;
// pasted headers and cURL captures are normalised by ctx.cookieAuth), and
// turning what a website answers to a dead session - a redirect to its
// sign-in page (the host never follows redirects), 401/403, or an HTML page
// where JSON was expected - into one clear "session expired" failure that
// names the command which fetches a fresh cookie. Bot-protection challenges
// (Cloudflare, Vercel) are reported as such, with a back-off.
__usagestat_extend("websession", function (ctx) {
  "use strict";

  // A current desktop Chrome: some sites answer non-browser agents differently.
  var BROWSER_UA =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
  var CHALLENGE_RETRY_SEC = 900;

  var importCommand = ctx.cookieAuth.importCommand;

  // "<Name> session expired — run `usagestat auth import-cookies --provider X --save`."
  function expiredMessage(name, extra) {
    return name + " session expired — run `" + importCommand() + "`" + (extra ? " " + extra : "") + ".";
  }

  function missingMessage(name, envNames) {
    var env = envNames && envNames.length ? " (or set cookieHeader in the config, or " + envNames.join(" / ") + ")" : " (or set cookieHeader in the config)";
    return name + " session not configured: sign in at the website, then run `" + importCommand() + "`" + env + ".";
  }

  // The pasted session (config cookieHeader, then env vars): ctx.cookieAuth.find.
  var find = ctx.cookieAuth.find;

  // find() or a missing-auth failure. o adds {name}.
  function require(o) {
    var found = find(o);
    if (!found) ctx.util.fail("missing-auth", missingMessage(o.name || "The provider", o.env));
    return found;
  }

  function header(resp, name) {
    var h = (resp && resp.headers) || {};
    var v = h[name.toLowerCase()];
    return v === undefined || v === null ? "" : String(v);
  }

  function isHtml(resp) {
    var type = header(resp, "content-type").toLowerCase();
    if (type.indexOf("text/html") >= 0) return true;
    return /^\s*<(!doctype|html|head|body|\?xml|!--|div|script|meta)/i.test(String((resp && resp.bodyText) || ""));
  }

  // A bot-protection interstitial rather than an answer.
  function isChallenge(resp) {
    if (/challenge/i.test(header(resp, "cf-mitigated")) || /challenge/i.test(header(resp, "x-vercel-mitigated"))) return true;
    if (resp.status !== 403 && resp.status !== 429 && resp.status !== 503) return false;
    return /Just a moment\.\.\.|challenge-platform|cf-chl-|Vercel Security Checkpoint/i.test(String(resp.bodyText || ""));
  }

  // Map what a website answered to the right failure; returns resp when it is
  // usable. o: {name, html (an HTML answer is expected), challengeMessage}.
  function check(resp, o) {
    var opts = o || {};
    var name = opts.name || "The provider";
    if (isChallenge(resp)) {
      var wait = ctx.util.retryAfterSec(resp.headers) || CHALLENGE_RETRY_SEC;
      ctx.util.fail(
        "rate-limited",
        opts.challengeMessage || name + " answered with a bot-protection challenge instead of data; try again later, or paste a fresh cookie (a full \"Copy as cURL\" capture works best).",
        wait
      );
    }
    if (resp.status >= 300 && resp.status < 400) {
      ctx.util.fail("credential-denied", expiredMessage(name, "(the site redirected to its sign-in page)"));
    }
    if (resp.status === 401 || resp.status === 403) {
      ctx.util.fail("credential-denied", expiredMessage(name, "(HTTP " + resp.status + ")"));
    }
    if (resp.status >= 200 && resp.status < 300 && !opts.html && isHtml(resp)) {
      ctx.util.fail("credential-denied", expiredMessage(name, "(the site answered with a web page instead of data)"));
    }
    return ctx.util.checkResponse(resp, { name: name });
  }

  // check() then parse JSON: a body that is not JSON is a clear `failed`.
  function json(resp, o) {
    check(resp, o);
    return ctx.util.expectJson(resp, (o && o.name) || "The provider");
  }

  return Object.freeze({
    BROWSER_UA: BROWSER_UA,
    importCommand: importCommand,
    expiredMessage: expiredMessage,
    missingMessage: missingMessage,
    find: find,
    require: require,
    isHtml: isHtml,
    isChallenge: isChallenge,
    check: check,
    json: json,
  });
});
