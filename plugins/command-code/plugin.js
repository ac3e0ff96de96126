// Command Code (commandcode.ai): monthly plan credits in USD, the rolling
// 5-hour and weekly limits, plan and cycle end.
// `api`: the Command Code CLI's API key (config, COMMAND_CODE_API_KEY or
// ~/.commandcode/auth.json) against the `/alpha/*` routes the CLI uses;
// `web`: a commandcode.ai better-auth session cookie against the dashboard's
// `/internal/*` routes. Both families are undocumented (see README).

var PROVIDER = "Command Code";
var API = "https://api.commandcode.ai";
var WEB = "https://commandcode.ai";
var AUTH_FILE = "~/.commandcode/auth.json";
var HOUR_MS = 3600 * 1000;
var MONTH_MS = 30 * 24 * HOUR_MS;
var LOGIN_HINT = "Sign in with the Command Code CLI (`cmd login`) or set COMMAND_CODE_API_KEY.";
var SESSION_COOKIES = [
  "__Secure-better-auth.session_token",
  "__Host-better-auth.session_token",
  "better-auth.session_token",
];
var USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36";
// planId -> display name and monthly credit allowance in USD (commandcode.ai/pricing).
var PLANS = {
  "individual-go": { name: "Go", usd: 10 },
  "individual-go-v1": { name: "Go", usd: 10 },
  "individual-pro": { name: "Pro", usd: 30 },
  "individual-pro-v1": { name: "Pro", usd: 80 },
  "individual-goat": { name: "GOAT", usd: 70 },
  "individual-max": { name: "Max", usd: 150 },
  "individual-ultra": { name: "Ultra", usd: 300 },
};

// ---- transport ---------------------------------------------------------------------
function makeClient(ctx, auth) {
  var base = String(ctx.provider.baseUrl || API).replace(/\/+$/, "");
  function headers() {
    if (auth.kind === "key") return { Authorization: "Bearer " + auth.value, Accept: "application/json" };
    return {
      Cookie: auth.value,
      Accept: "application/json, text/plain, */*",
      Origin: WEB,
      Referer: WEB + "/",
      "User-Agent": USER_AGENT,
    };
  }
  function deniedMessage(status) {
    return auth.kind === "key"
      ? "Command Code rejected the API key (HTTP " + status + "). " + LOGIN_HINT
      : "Command Code session expired (HTTP " + status + "). Log in at commandcode.ai and update the cookie (`" + ctx.cookieAuth.importCommand() + "`).";
  }
  return {
    // GET path (+ query object). required=false: non-auth failures give null.
    get: function (path, query, required) {
      var qs = [];
      var names = Object.keys(query || {});
      for (var i = 0; i < names.length; i++) {
        if (query[names[i]] !== null && query[names[i]] !== undefined) {
          qs.push(encodeURIComponent(names[i]) + "=" + encodeURIComponent(String(query[names[i]])));
        }
      }
      var resp = ctx.host.http.request({
        method: "GET",
        url: base + path + (qs.length ? "?" + qs.join("&") : ""),
        headers: headers(),
        timeoutMs: 15000,
      });
      if (resp.status === 401 || resp.status === 403) ctx.util.fail("credential-denied", deniedMessage(resp.status));
      if (resp.status >= 300 && resp.status < 400) ctx.util.fail("credential-denied", deniedMessage(resp.status));
      if (!required && resp.status !== 429 && (resp.status < 200 || resp.status >= 300)) {
        ctx.host.log.warn("Command Code " + path + " answered HTTP " + resp.status + "; skipping it.");
        return null;
      }
      ctx.util.checkResponse(resp, { name: PROVIDER });
      if (!required) {
        var data = ctx.util.tryParseJson(resp.bodyText);
        return data && typeof data === "object" ? data : null;
      }
      if (auth.kind === "cookie" && /^\s*</.test(resp.bodyText || "")) {
        ctx.util.fail("credential-denied", "Command Code answered with a web page: the session has probably expired. Update the cookie (`" + ctx.cookieAuth.importCommand() + "`).");
      }
      return ctx.util.expectJson(resp, PROVIDER);
    },
  };
}

// ---- parsing -------------------------------------------------------------------------
function windowLine(ctx, win, label, periodMs) {
  if (!win || typeof win !== "object") return null;
  var used = ctx.num.of(win.used);
  var cap = ctx.num.of(win.cap);
  // used 0 / cap 0 is how uncapped accounts are reported.
  if (cap === null || !(cap > 0)) return null;
  return ctx.line.progress({
    label: label,
    used: Math.max(0, used || 0),
    limit: cap,
    format: { kind: "percent" },
    resetsAt: ctx.util.toIso(win.resetAt) || undefined,
    periodDurationMs: periodMs,
  });
}

function subscriptionInfo(ctx, raw) {
  if (!raw || raw.success === false) return null;
  if (raw.data === null) return { free: true };
  var d = raw.data;
  if (!d || typeof d !== "object" || typeof d.planId !== "string" || !d.planId) return null;
  var id = d.planId.toLowerCase();
  var known = PLANS[id] || null;
  if (!known) ctx.host.log.warn("Command Code: unknown planId " + d.planId + "; showing credits without the plan allowance.");
  return {
    id: id,
    name: known ? known.name : ctx.fmt.planLabel(id.replace(/^individual-/, "")),
    allowance: known ? known.usd : null,
    status: typeof d.status === "string" ? d.status : null,
    periodStart: d.currentPeriodStart,
    periodEnd: ctx.util.toIso(d.currentPeriodEnd),
  };
}

function toResult(ctx, source, creditsRaw, sub, summary) {
  var credits = ctx.util.requireField(creditsRaw, "credits", PROVIDER);
  var remaining = ctx.num.of(credits && credits.monthlyCredits);
  if (remaining === null) ctx.util.fail("failed", "Unexpected response from Command Code: missing credits.monthlyCredits.");
  var limits = creditsRaw.windowLimits || credits.windowLimits || {};
  var metrics = [];
  var five = windowLine(ctx, limits.fiveHour, "Session", 5 * HOUR_MS);
  if (five) metrics.push(five);
  var week = windowLine(ctx, limits.weekly, "Weekly", 7 * 24 * HOUR_MS);
  if (week) metrics.push(week);

  var allocation = ctx.num.of(credits.monthlyAllocation);
  var allowance = allocation !== null && allocation > 0 ? allocation : sub && sub.allowance ? sub.allowance : null;
  var usedThisMonth = summary ? ctx.num.of(summary.totalMonthlyCredits) : null;
  var used = null;
  var limit = null;
  if (allowance !== null) {
    used = Math.max(0, allowance - remaining);
    limit = Math.max(allowance, used);
  } else if (usedThisMonth !== null) {
    used = Math.max(0, usedThisMonth);
    limit = used + Math.max(0, remaining);
  }
  if (limit !== null && limit > 0) {
    metrics.push(
      ctx.line.progress({
        label: "Monthly credits",
        used: used,
        limit: limit,
        format: { kind: "dollars" },
        resetsAt: (sub && sub.periodEnd) || undefined,
        periodDurationMs: MONTH_MS,
      })
    );
  } else {
    metrics.push(ctx.line.text({ label: "Monthly credits", value: ctx.fmt.money(Math.max(0, remaining)) + " remaining" }));
  }
  var purchased = ctx.num.of(credits.purchasedCredits);
  if (purchased !== null && purchased > 0) {
    metrics.push(ctx.line.text({ label: "Purchased credits", value: ctx.fmt.money(purchased), detail: true }));
  }
  if (summary) {
    var cost = ctx.num.of(summary.totalCost);
    if (cost !== null) metrics.push(ctx.line.text({ label: "Total spent", value: ctx.fmt.money(cost), detail: true }));
    var tokens = ctx.num.of(summary.totalTokens);
    if (tokens !== null) metrics.push(ctx.line.text({ label: "Tokens used", value: ctx.num.grouped(tokens), detail: true }));
  }
  var plan = sub ? (sub.free ? "Free" : sub.name) : undefined;
  return { source: source, plan: plan, metrics: metrics };
}

// ---- modes -----------------------------------------------------------------------------
function probeApi(ctx, key) {
  var client = makeClient(ctx, { kind: "key", value: key.value });
  var who = client.get("/alpha/whoami", null, false);
  var orgId = who && who.org && typeof who.org.id === "string" && who.org.id ? who.org.id : null;
  var q = { orgId: orgId };
  var credits = client.get("/alpha/billing/credits", q, true);
  var sub = subscriptionInfo(ctx, client.get("/alpha/billing/subscriptions", q, false));
  var summary = client.get("/alpha/usage/summary", { orgId: orgId, since: sub && sub.periodStart ? sub.periodStart : null }, false);
  return toResult(ctx, "api", credits, sub, summary);
}

function probeWeb(ctx, cookie) {
  var client = makeClient(ctx, { kind: "cookie", value: cookie });
  var credits = client.get("/internal/billing/credits", null, true);
  var sub = subscriptionInfo(ctx, client.get("/internal/billing/subscriptions", null, false));
  return toResult(ctx, "web", credits, sub, null);
}

function findKey(ctx) {
  return ctx.creds.apiKey({
    env: ["COMMAND_CODE_API_KEY"],
    files: [{ path: AUTH_FILE, fields: ["apiKey", "api_key", "token", "accessToken"] }],
  });
}

function findCookie(ctx) {
  var found = ctx.cookieAuth.find({ env: ["COMMAND_CODE_COOKIE"], defaultName: SESSION_COOKIES[0] });
  if (!found) return null;
  var cookie = found.header;
  var hasSession = cookie && SESSION_COOKIES.some(function (n) { return ctx.cookieAuth.get(cookie, n) !== null; });
  if (!hasSession) {
    ctx.util.fail(
      "missing-auth",
      "The Command Code cookie has no better-auth session cookie (__Secure-better-auth.session_token). Run `" + ctx.cookieAuth.importCommand() + "`."
    );
  }
  return cookie;
}

globalThis.__usagestat_plugin = {
  id: "command-code",
  probe: function (ctx) {
    var mode = ctx.sourceMode;
    if (mode !== "auto" && mode !== "api" && mode !== "web") {
      ctx.util.fail("unsupported", "Command Code supports the api and web sources.");
    }
    if (mode === "web") {
      var cookie = findCookie(ctx);
      if (!cookie) ctx.util.fail("missing-auth", "No commandcode.ai session cookie: log in there, then run `" + ctx.cookieAuth.importCommand() + "` (or set COMMAND_CODE_COOKIE).");
      return probeWeb(ctx, cookie);
    }
    // auto: a cookie pasted into the config wins over an API key found in the
    // environment or the CLI's file (config values win); a config apiKey still comes first.
    if (mode === "auto" && ctx.provider.cookieHeader && !ctx.provider.apiKey) return probeWeb(ctx, findCookie(ctx));
    var key = findKey(ctx);
    if (key) return probeApi(ctx, key);
    if (mode === "api") ctx.util.fail("missing-auth", "Command Code not logged in. " + LOGIN_HINT);
    var fallback = findCookie(ctx);
    if (fallback) return probeWeb(ctx, fallback);
    ctx.util.fail("missing-auth", "Command Code not logged in. " + LOGIN_HINT + " (Or paste a commandcode.ai session cookie.)");
  },
};
