// T3 Chat: the rolling 4-hour "Base" usage and the monthly "Overage" usage of
// a t3.chat account, read with the website's own tRPC call (getCustomerData)
// and the user's browser session. Unofficial and behind Vercel bot
// protection: a full "Copy as cURL" capture of that request (pasted as
// cookieHeader) replays the browser headers the protection may want.

var NAME = "T3 Chat";
var ENV = ["T3CHAT_COOKIE", "T3_CHAT_COOKIE"];
var ENDPOINT = "https://t3.chat/api/trpc/getCustomerData";
var INPUT = { 0: { json: { sessionId: null }, meta: { values: { sessionId: ["undefined"] } } } };
var FOUR_HOURS_MS = 4 * 3600 * 1000;
// Headers a pasted cURL capture may contribute; everything else in it is ignored.
var SAFE_HEADERS = [
  "accept", "accept-language", "cache-control", "pragma", "priority", "referer", "sec-fetch-dest",
  "sec-fetch-mode", "sec-fetch-site", "trpc-accept", "user-agent", "x-client-context", "x-deployment-id",
  "x-trpc-batch", "x-trpc-source",
];
var USAGE_KEYS = ["usageFourHourPercentage", "usageMonthPercentage", "usagePeriodPercentage"];

function setHeader(headers, name, value) {
  var lower = name.toLowerCase();
  var keys = Object.keys(headers);
  for (var i = 0; i < keys.length; i++) {
    if (keys[i].toLowerCase() === lower) delete headers[keys[i]];
  }
  headers[name] = value;
}

function requestHeaders(ctx, session) {
  var headers = {
    Accept: "*/*",
    "Accept-Language": "en-US,en;q=0.9",
    "Cache-Control": "no-cache",
    Pragma: "no-cache",
    Referer: "https://t3.chat/settings/customization",
    "Sec-Fetch-Dest": "empty",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Site": "same-origin",
    "User-Agent": ctx.websession.BROWSER_UA,
    "trpc-accept": "application/jsonl",
    "x-trpc-batch": "true",
    "x-trpc-source": "web-client",
  };
  var captured = ctx.cookieAuth.curlHeaders(session.raw);
  for (var i = 0; i < captured.length; i++) {
    if (SAFE_HEADERS.indexOf(captured[i][0].toLowerCase()) >= 0 && captured[i][1]) {
      setHeader(headers, captured[i][0], captured[i][1]);
    }
  }
  headers.Cookie = session.header;
  return headers;
}

// Depth-first search of a parsed JSON value for the first object `test` accepts.
function search(value, test, depth) {
  if (value === null || typeof value !== "object" || depth > 12) return null;
  if (!Array.isArray(value) && test(value)) return value;
  var keys = Object.keys(value);
  for (var i = 0; i < keys.length; i++) {
    var found = search(value[keys[i]], test, depth + 1);
    if (found) return found;
  }
  return null;
}

function isCustomer(obj) {
  for (var i = 0; i < USAGE_KEYS.length; i++) if (USAGE_KEYS[i] in obj) return true;
  return false;
}

function isTrpcError(obj) {
  return obj.error !== null && typeof obj.error === "object" && !Array.isArray(obj.error);
}

// The response is tRPC JSONL (one JSON value per line); a plain JSON batch
// array is accepted too. -> {customer, error} (either may be null).
function parseBody(ctx, text) {
  var values = [];
  var whole = ctx.util.tryParseJson(text);
  if (whole !== null) values.push(whole);
  else {
    var lines = String(text || "").split(/\r?\n/);
    for (var i = 0; i < lines.length; i++) {
      var v = ctx.util.tryParseJson(lines[i].trim());
      if (v !== null) values.push(v);
    }
  }
  var customer = null;
  var error = null;
  for (var j = 0; j < values.length && !customer; j++) {
    customer = search(values[j], isCustomer, 0);
    if (!error) {
      var holder = search(values[j], isTrpcError, 0);
      if (holder) error = holder.error;
    }
  }
  return { parsed: values.length > 0, customer: customer, error: error };
}

function errorCode(ctx, error) {
  var body = error && error.json && typeof error.json === "object" ? error.json : error;
  var data = (body && body.data) || {};
  return { code: ctx.util.text(data.code) || ctx.util.text(body.code), status: ctx.num.of(data.httpStatus) || 0 };
}

function percentLine(ctx, label, value, resetValue, periodMs) {
  var used = ctx.num.of(value);
  if (used === null) return null;
  return ctx.line.progress({
    label: label,
    used: ctx.util.clampPercent(used),
    limit: 100,
    format: { kind: "percent" },
    resetsAt: ctx.util.toIso(resetValue) || undefined,
    periodDurationMs: periodMs,
  });
}

function toResult(ctx, c) {
  var metrics = [];
  var base = percentLine(
    ctx,
    "Base",
    c.usageFourHourPercentage,
    c.usageFourHourNextResetAt !== undefined && c.usageFourHourNextResetAt !== null ? c.usageFourHourNextResetAt : c.usageWindowNextResetAt,
    FOUR_HOURS_MS
  );
  if (base) metrics.push(base);
  var sub = c.subscription && typeof c.subscription === "object" ? c.subscription : {};
  var monthValue = ctx.num.of(c.usageMonthPercentage) !== null ? c.usageMonthPercentage : c.usagePeriodPercentage;
  var periodEnd = ctx.util.parseDateMs(sub.currentPeriodEnd);
  var overage = percentLine(
    ctx,
    "Overage",
    monthValue,
    periodEnd,
    periodEnd === null ? undefined : ctx.calendar.monthlyPeriodEndingAt(periodEnd)
  );
  if (overage) metrics.push(overage);
  if (!metrics.length) {
    ctx.util.fail("failed", "Could not parse " + NAME + " usage: missing usageFourHourPercentage.");
  }
  if (typeof c.usageBand === "string" && c.usageBand) {
    metrics.push(ctx.line.text({ label: "Usage band", value: ctx.fmt.planLabel(c.usageBand), detail: true }));
  }
  var balance = ctx.num.of(c.lifetimeBalance);
  if (balance !== null) {
    metrics.push(ctx.line.text({ label: "Balance", value: ctx.num.grouped(balance), detail: true }));
  }
  var plan = c.subTier || sub.productName;
  return { source: "web", plan: plan ? ctx.fmt.planLabel(plan) : undefined, metrics: metrics };
}

globalThis.__usagestat_plugin = {
  id: "t3chat",
  probe: function (ctx) {
    if (ctx.sourceMode !== "auto" && ctx.sourceMode !== "web") {
      ctx.util.fail("unsupported", NAME + " is read through its website only (source web).");
    }
    var session = ctx.websession.require({ name: NAME, env: ENV });
    if (!session.header) {
      ctx.util.fail(
        "missing-auth",
        NAME + " session not usable: the pasted cookieHeader holds no cookie. Paste the Cookie header or a full \"Copy as cURL\" capture of the getCustomerData request, or run `" +
          ctx.websession.importCommand() + "`."
      );
    }
    var url = ENDPOINT + "?batch=1&input=" + encodeURIComponent(JSON.stringify(INPUT));
    var resp = ctx.host.http.request({ method: "GET", url: url, headers: requestHeaders(ctx, session), timeoutMs: 15000 });
    ctx.websession.check(resp, {
      name: NAME,
      challengeMessage: NAME + " returned a Vercel security challenge — paste a full \"Copy as cURL\" capture of the getCustomerData request into cookieHeader and retry later.",
    });
    var body = parseBody(ctx, resp.bodyText);
    if (!body.customer) {
      if (body.error) {
        var e = errorCode(ctx, body.error);
        if (e.code === "UNAUTHORIZED" || e.code === "FORBIDDEN" || e.status === 401 || e.status === 403) {
          ctx.util.fail("credential-denied", ctx.websession.expiredMessage(NAME, "(tRPC " + (e.code || e.status) + ")"));
        }
        if (e.code === "TOO_MANY_REQUESTS" || e.status === 429) {
          ctx.util.fail("rate-limited", NAME + " rate limit reached; retry in ~5m.", 300);
        }
        ctx.util.fail("failed", NAME + " answered an error" + (e.code ? " (" + e.code + ")" : "") + ".");
      }
      ctx.util.fail(
        "failed",
        body.parsed ? "Could not parse " + NAME + " usage: missing usageFourHourPercentage." : "Could not parse " + NAME + " usage (not JSON)."
      );
    }
    return toResult(ctx, body.customer);
  },
};
