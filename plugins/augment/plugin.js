// Augment Code: the monthly credit pool (used / total, remaining, cycle end).
// `cli` runs the user's own `auggie account status` (the CLI manages its
// session); `web` reads app.augmentcode.com's JSON APIs with a browser cookie.

var PROVIDER = "Augment";
var WEB = "https://app.augmentcode.com";
var MONTH_MS = 30 * 24 * 3600 * 1000;
var SESSION_FILE = "~/.augment/session.json";

function notSignedIn(ctx) {
  ctx.util.fail("missing-auth", "Not signed in to Augment. Run `auggie login` (or set an app.augmentcode.com cookie).");
}

// ---- cli -------------------------------------------------------------------------
function stripAnsi(text) {
  return String(text || "").replace(/\u001b\[[0-9;?]*[ -\/]*[@-~]/g, "");
}

function count(text) {
  return Number(String(text).replace(/,/g, ""));
}

// Parse both generations of `auggie account status`:
//   319,054 credits remaining        Max Plan
//   450,000 credits / month
//   9 days remaining in this billing cycle (ends 6/9/2026)
// and the legacy
//   Max Plan 450,000 credits / month
//   11,657 remaining · 953,170 / 964,827 credits used
function parseStatus(output) {
  var out = { monthly: null, remaining: null, used: null, total: null, plan: null, endsAt: null };
  var lines = stripAnsi(output).split(/\r?\n/);
  for (var i = 0; i < lines.length; i++) {
    var line = lines[i].trim();
    if (!line) continue;
    var m;
    if ((m = /([\d,]+)\s+credits\s*\/\s*month/i.exec(line))) out.monthly = count(m[1]);
    if ((m = /([\d,]+)\s+remaining\s*[·•|-]\s*([\d,]+)\s*\/\s*([\d,]+)\s+credits\s+used/i.exec(line))) {
      out.remaining = count(m[1]);
      out.used = count(m[2]);
      out.total = count(m[3]);
    } else if (!/billing cycle/i.test(line) && (m = /([\d,]+)\s+credits\s+remaining/i.exec(line))) {
      out.remaining = count(m[1]);
    }
    if ((m = /\b([A-Z][A-Za-z0-9+]*(?:\s+[A-Z][A-Za-z0-9+]*)*\s+Plan)\b/.exec(line))) out.plan = m[1];
    if (/billing cycle/i.test(line) && (m = /ends\s+(\d{1,2})\/(\d{1,2})\/(\d{4})/i.exec(line))) {
      // The CLI prints the cycle end as a local M/d/yyyy date.
      out.endsAt = new Date(Number(m[3]), Number(m[1]) - 1, Number(m[2])).getTime();
    }
  }
  return out;
}

function runCli(ctx) {
  var res;
  try {
    res = ctx.host.command.run({ program: "auggie", args: ["account", "status"], timeoutMs: 20000 });
  } catch (e) {
    var msg = String((e && e.message) || e);
    if (/command not found/i.test(msg)) {
      var signedIn = ctx.host.fs.exists(SESSION_FILE) || !!ctx.host.env.get("AUGMENT_SESSION_AUTH");
      ctx.util.fail(
        "missing-auth",
        signedIn
          ? "The Auggie CLI (`auggie`) is not on PATH. Install it (npm install -g @augmentcode/auggie) or set an app.augmentcode.com cookie."
          : "Augment not set up: install the Auggie CLI and run `auggie login` (or set an app.augmentcode.com cookie)."
      );
    }
    ctx.util.fail("failed", "`auggie account status` failed: " + msg);
  }
  var all = (res.stdout || "") + "\n" + (res.stderr || "");
  if (/authentication failed|auggie login|not (logged|signed) in/i.test(all)) notSignedIn(ctx);
  var parsed = parseStatus(res.stdout || "");
  if (parsed.remaining === null || (parsed.total === null && parsed.monthly === null)) {
    if (res.status !== 0) ctx.util.fail("failed", "`auggie account status` exited with status " + res.status + ".");
    ctx.util.fail("failed", "Could not read the credits from `auggie account status` (its output format may have changed).");
  }
  return parsed;
}

function probeCli(ctx) {
  var s = runCli(ctx);
  var total = s.total !== null ? s.total : s.monthly;
  var used = s.used !== null ? s.used : Math.max(0, total - s.remaining);
  if (!(total > 0)) ctx.util.fail("failed", "`auggie account status` reported no credit allowance.");
  var metrics = [
    ctx.line.progress({
      label: "Credits",
      used: used,
      limit: total,
      format: { kind: "count", suffix: "credits" },
      resetsAt: s.endsAt === null ? undefined : ctx.util.toIso(s.endsAt),
      periodDurationMs: MONTH_MS,
    }),
    ctx.line.text({ label: "Remaining", value: ctx.num.grouped(s.remaining) + " credits", detail: true }),
  ];
  return { source: "cli", plan: s.plan || undefined, metrics: metrics };
}

// ---- web -------------------------------------------------------------------------
function webCookie(ctx) {
  var found = ctx.cookieAuth.find({ env: ["AUGMENT_COOKIE"] });
  if (!found) return null;
  var cookie = found.header;
  if (!cookie) {
    ctx.util.fail(
      "missing-auth",
      "The Augment cookie must be a `name=value; …` Cookie header from app.augmentcode.com (run `" + ctx.cookieAuth.importCommand() + "`)."
    );
  }
  return cookie;
}

function getJson(ctx, cookie, path, required) {
  var resp = ctx.host.http.request({
    method: "GET",
    url: WEB + path,
    headers: { Cookie: cookie, Accept: "application/json", Origin: WEB, Referer: WEB + "/" },
    timeoutMs: 15000,
  });
  if (!required && !(resp.status >= 200 && resp.status < 300) && resp.status !== 401 && resp.status !== 429) {
    ctx.host.log.warn("Augment " + path + " answered HTTP " + resp.status + "; skipping it.");
    return null;
  }
  ctx.util.checkResponse(resp, {
    name: PROVIDER,
    loginHint: "Augment session expired: log in at app.augmentcode.com and update the cookie (`" + ctx.cookieAuth.importCommand() + "`).",
  });
  if (/^\s*</.test(resp.bodyText || "")) {
    if (!required) return null;
    ctx.util.fail(
      "credential-denied",
      "Augment answered with a web page instead of data: the session has probably expired. Log in at app.augmentcode.com and update the cookie."
    );
  }
  if (!required) return ctx.util.tryParseJson(resp.bodyText);
  return ctx.util.expectJson(resp, PROVIDER);
}

function probeWeb(ctx, cookie) {
  var credits = getJson(ctx, cookie, "/api/credits", true);
  var remaining = ctx.num.of(credits.usageUnitsRemaining);
  var consumed = ctx.num.of(credits.usageUnitsConsumedThisBillingCycle);
  var available = ctx.num.of(credits.usageUnitsAvailable);
  if (remaining === null || consumed === null) {
    var missing = remaining === null ? "usageUnitsRemaining" : "usageUnitsConsumedThisBillingCycle";
    ctx.util.fail("failed", "Unexpected response from Augment: missing " + missing + ".");
  }
  var limit = available !== null && available > 0 ? available : remaining + consumed;
  var sub = getJson(ctx, cookie, "/api/subscription", false) || {};
  var metrics = [];
  if (limit > 0) {
    metrics.push(
      ctx.line.progress({
        label: "Credits",
        used: consumed,
        limit: limit,
        format: { kind: "count", suffix: "credits" },
        resetsAt: ctx.util.toIso(sub.billingPeriodEnd) || undefined,
        periodDurationMs: MONTH_MS,
      })
    );
  } else {
    metrics.push(ctx.line.text({ label: "Credits", value: ctx.num.grouped(consumed) + " credits used (no allowance)" }));
  }
  metrics.push(ctx.line.text({ label: "Remaining", value: ctx.num.grouped(remaining) + " credits", detail: true }));
  if (typeof sub.email === "string" && sub.email) metrics.push(ctx.line.text({ label: "Account", value: sub.email, detail: true }));
  return { source: "web", plan: typeof sub.planName === "string" && sub.planName ? sub.planName : undefined, metrics: metrics };
}

globalThis.__usagestat_plugin = {
  id: "augment",
  probe: function (ctx) {
    if (ctx.sourceMode === "cli") return probeCli(ctx);
    if (ctx.sourceMode === "web") {
      var cookie = webCookie(ctx);
      if (!cookie) {
        ctx.util.fail("missing-auth", "No app.augmentcode.com cookie: log in there, then run `" + ctx.cookieAuth.importCommand() + "` (or set AUGMENT_COOKIE).");
      }
      return probeWeb(ctx, cookie);
    }
    if (ctx.sourceMode !== "auto") ctx.util.fail("unsupported", "Augment supports the cli and web sources.");
    // auto: a cookie pasted into the config wins (config values win); else the
    // CLI first, with an AUGMENT_COOKIE cookie as the fallback when the CLI is
    // missing or signed out.
    if (ctx.provider.cookieHeader) return probeWeb(ctx, webCookie(ctx));
    var fallback = webCookie(ctx);
    try {
      return probeCli(ctx);
    } catch (e) {
      if (fallback && e && e.code === "missing-auth") return probeWeb(ctx, fallback);
      throw e;
    }
  },
};
