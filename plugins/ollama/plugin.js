// Ollama Cloud: the session and weekly usage windows of an ollama.com plan.
// Ollama publishes no usage API, so this reads the signed-in settings page
// (https://ollama.com/settings) with the user's browser session and takes
// the "Cloud Usage" section apart: plan badge, "NN% used" per window and the
// reset time in each window's data-time attribute. Fragile by nature.

var NAME = "Ollama";
var ENV = ["OLLAMA_SESSION_COOKIE", "OLLAMA_COOKIE"];
var PAGE = "https://ollama.com/settings";
var SESSION_MS = 5 * 3600 * 1000;
var WEEK_MS = 7 * 86400000;
var SESSION_LABEL = /(?:Session|Hourly)\s+usage/i;
var WEEKLY_LABEL = /Weekly\s+usage/i;
var PLANS = /\b(Free|Pro|Max|Turbo|Team|Business|Enterprise)\b/i;

// The Cookie headers to try, in order. A bare value is the session cookie of
// older accounts (__Secure-session); WorkOS accounts call it wos-session.
function candidates(ctx, session) {
  var bare = String(session.raw).trim().replace(/^cookie\s*:\s*/i, "");
  if (bare && bare.indexOf("=") < 0 && !/^curl\s/i.test(bare) && !/[\s;]/.test(bare)) {
    return ["__Secure-session=" + bare, "wos-session=" + bare];
  }
  return session.header ? [session.header] : [];
}

function fetchPage(ctx, cookie) {
  return ctx.host.http.request({
    method: "GET",
    url: PAGE,
    headers: {
      Cookie: cookie,
      Accept: "text/html,application/xhtml+xml",
      "Accept-Language": "en-US,en;q=0.9",
      "User-Agent": ctx.websession.BROWSER_UA,
    },
    timeoutMs: 15000,
  });
}

function hasUsage(html) {
  return /Cloud\s+Usage/i.test(html) || SESSION_LABEL.test(html);
}

function looksSignedOut(html) {
  return /action\s*=\s*"[^"]*(sign-?in|login|authorize)|<title>[^<]*(sign in|log in)|Sign in to Ollama/i.test(html);
}

// The HTML of one window's block: from its label to the next label (or a few KB).
function block(html, start, end) {
  if (start < 0) return null;
  var stop = end > start ? end : start + 4000;
  return html.slice(start, Math.min(stop, start + 8000));
}

function windowLine(ctx, label, blockHtml, periodMs) {
  var text = ctx.text.stripTags(blockHtml);
  var m = /(\d+(?:\.\d+)?)\s*%\s*used/i.exec(text) || /width:\s*(\d+(?:\.\d+)?)\s*%/i.exec(blockHtml);
  if (!m) return null;
  var reset = /data-time\s*=\s*"([^"]+)"/i.exec(blockHtml) || /data-time\s*=\s*'([^']+)'/i.exec(blockHtml);
  return ctx.line.progress({
    label: label,
    used: ctx.util.clampPercent(Number(m[1])),
    limit: 100,
    format: { kind: "percent" },
    resetsAt: reset ? ctx.util.toIso(ctx.text.decodeEntities(reset[1])) || undefined : undefined,
    periodDurationMs: periodMs,
  });
}

function parse(ctx, html) {
  var sessionAt = html.search(SESSION_LABEL);
  var weeklyAt = html.search(WEEKLY_LABEL);
  var metrics = [];
  var session = block(html, sessionAt, weeklyAt);
  if (session) {
    var line = windowLine(ctx, "Session", session, SESSION_MS);
    if (!line) ctx.util.fail("failed", "Could not parse " + NAME + " usage (page changed): no session percentage.");
    metrics.push(line);
  }
  var weekly = block(html, weeklyAt, sessionAt > weeklyAt ? sessionAt : -1);
  if (weekly) {
    var wline = windowLine(ctx, "Weekly", weekly, WEEK_MS);
    if (!wline) ctx.util.fail("failed", "Could not parse " + NAME + " usage (page changed): no weekly percentage.");
    metrics.push(wline);
  }
  if (!metrics.length) ctx.util.fail("failed", "Could not parse " + NAME + " usage (page changed).");
  var cloudAt = html.search(/Cloud\s+Usage/i);
  var firstWindow = Math.min.apply(null, [sessionAt, weeklyAt].filter(function (i) { return i >= 0; }));
  var plan;
  if (cloudAt >= 0 && firstWindow > cloudAt) {
    var header = ctx.text.stripTags(html.slice(cloudAt, firstWindow)).replace(/Cloud\s+Usage/i, "");
    var p = PLANS.exec(header);
    if (p) plan = ctx.fmt.planLabel(p[1].toLowerCase());
  }
  return { source: "web", plan: plan, metrics: metrics };
}

globalThis.__usagestat_plugin = {
  id: "ollama",
  probe: function (ctx) {
    if (ctx.sourceMode !== "auto" && ctx.sourceMode !== "web") {
      ctx.util.fail("unsupported", "Ollama Cloud usage is read from the ollama.com settings page only (source web).");
    }
    var session = ctx.websession.require({ name: NAME, env: ENV });
    var cookies = candidates(ctx, session);
    if (!cookies.length) {
      ctx.util.fail("missing-auth", NAME + " session not usable: the pasted cookie is empty. Run `" + ctx.websession.importCommand() + "`.");
    }
    for (var i = 0; i < cookies.length; i++) {
      var resp = fetchPage(ctx, cookies[i]);
      var last = i === cookies.length - 1;
      var redirected = resp.status >= 300 && resp.status < 400;
      var html = String(resp.bodyText || "");
      if (!last && (redirected || (resp.status === 200 && !hasUsage(html)))) continue;
      ctx.websession.check(resp, { name: NAME, html: true });
      if (!hasUsage(html)) {
        if (looksSignedOut(html)) {
          ctx.util.fail("credential-denied", ctx.websession.expiredMessage(NAME, "(ollama.com showed its sign-in page)"));
        }
        ctx.util.fail("failed", "Could not parse " + NAME + " usage (page changed): no Cloud Usage section.");
      }
      return parse(ctx, html);
    }
    return null; // not reached
  },
};
