// Amp (ampcode.com): Amp Free daily quota, paid subscription pools and
// credit balances. Amp's internal API answers with the same human-readable
// text `amp usage` prints, so this plugin parses that text (line-anchored,
// case-insensitive). Amounts are dollars, or percent where a `%` is shown.
//
// local (default): the Amp CLI's access token in ~/.local/share/amp/secrets.json.
// api: config apiKey or AMP_API_KEY. No refresh: Amp access tokens are long-lived.

var PROVIDER = "Amp";
var URL = "https://ampcode.com/api/internal?userDisplayBalanceInfo";
var SECRET_KEY = "apiKey@https://ampcode.com/";
var LOGIN_HINT = "Run `amp login` (or create a new access token in Amp's settings).";
var HOUR_MS = 3600000;
var DAY_MS = 86400000;
var MONTH_MS = 30 * DAY_MS;
var AMOUNT = "([0-9][0-9,]*(?:\\.[0-9]+)?)";

// ---- credentials -----------------------------------------------------------------

function secretsPath(ctx) {
  return ctx.creds.xdgDataHome() + "/amp/secrets.json";
}

function findToken(ctx, mode) {
  if (mode !== "local") {
    if (ctx.provider.apiKey) return { token: String(ctx.provider.apiKey).trim(), source: "api" };
    var env = ctx.creds.env(["AMP_API_KEY"]);
    if (env) return { token: env.value, source: "api" };
    if (mode === "api") return null;
  }
  var file = ctx.creds.readJson(secretsPath(ctx), "Amp's secrets.json");
  var token = file && file.data[SECRET_KEY];
  return typeof token === "string" && token.trim() ? { token: token.trim(), source: "local" } : null;
}

// ---- text parsing --------------------------------------------------------------------

function match(text, pattern) {
  return new RegExp(pattern, "im").exec(text);
}

function addDuration(ctx, nowMs, count, unit) {
  return /^month/i.test(unit) ? ctx.calendar.addMonths(nowMs, count) : nowMs + count * DAY_MS;
}

function parseDisplayText(ctx, raw, nowMs) {
  // Strip ANSI colours and Markdown emphasis that `amp usage` may add.
  var text = ctx.util.text(raw).replace(/\u001b\[[0-9;]*m/g, "").replace(/\*\*/g, "");
  var lines = [];
  var plan = null;
  var recognised = false;

  var legacy = match(text, "^\\s*Amp Free:\\s*\\$?" + AMOUNT + "\\s*/\\s*\\$?" + AMOUNT +
    "\\s+remaining(?:\\s*\\(replenishes\\s*\\+\\$?" + AMOUNT + "\\s*/\\s*hour\\))?");
  var percentFree = match(text, "^\\s*Amp Free:\\s*" + AMOUNT + "\\s*%\\s+remaining");
  if (legacy) {
    var left = ctx.num.of(legacy[1]);
    var total = ctx.num.of(legacy[2]);
    var rate = legacy[3] ? ctx.num.of(legacy[3]) : 0;
    var used = Math.max(0, total - left);
    lines.push(ctx.line.progress({
      label: "Free",
      used: used,
      limit: total,
      format: { kind: "dollars" },
      // Amp Free replenishes continuously: "reset" = back to full at the hourly rate.
      resetsAt: rate > 0 ? ctx.util.toIso(nowMs + Math.round((used / rate) * HOUR_MS)) : undefined,
      periodDurationMs: rate > 0 ? Math.max(1, Math.round(total / rate)) * HOUR_MS : DAY_MS,
    }));
    plan = "Free";
    recognised = true;
  } else if (percentFree) {
    lines.push(ctx.line.progress({
      label: "Free",
      used: ctx.util.clampPercent(100 - ctx.num.of(percentFree[1])),
      limit: 100,
      format: { kind: "percent" },
      resetsAt: ctx.util.toIso(ctx.calendar.nextUsLocalTime(nowMs, 20, -5)), // 20:00 America/New_York
      periodDurationMs: DAY_MS,
    }));
    plan = "Free";
    recognised = true;
  }

  var renewal = "\\s*-\\s*resets\\s+upon\\s+renewal\\s+in\\s+([0-9][0-9,]*)\\s+(days?|months?)";
  var pools = "\\s*" + AMOUNT + "\\s*%\\s+other\\s+usage\\s+and\\s+" + AMOUNT + "\\s*%\\s+orb\\s+usage\\s+remaining" + renewal;
  var sub = match(text, "^\\s*Subscription\\s+(.+?):" + pools) || match(text, "^\\s*Amp\\s+(.+?)\\s+Subscription:" + pools);
  var tier = match(text, "^\\s*Amp\\s+([^\\r\\n]+?)\\s+Tier:\\s*agent\\s+usage\\s+\\$" + AMOUNT + "\\s+of\\s+\\$" + AMOUNT +
    "\\s+remaining\\b([^\\r\\n]*?)resets\\s+upon\\s+renewal\\s+in\\s+([0-9][0-9,]*)\\s+(days?|months?)\\b");
  if (tier) {
    var remaining = ctx.num.of(tier[2]);
    var limit = ctx.num.of(tier[3]);
    var rest = tier[4];
    var period = /\bperiod\s+(\d{4}-\d{2}-\d{2})\s+to\s+(\d{4}-\d{2}-\d{2})\b/i.exec(rest);
    var startMs = period ? ctx.util.parseDateMs(period[1] + "T00:00:00Z") : null;
    var endMs = period ? ctx.util.parseDateMs(period[2] + "T00:00:00Z") : null;
    if (!(startMs && endMs && endMs > startMs)) {
      endMs = addDuration(ctx, nowMs, ctx.num.of(tier[5]), tier[6]);
      startMs = null;
    }
    var cycle = { resetsAt: ctx.util.toIso(endMs), periodDurationMs: startMs ? endMs - startMs : MONTH_MS };
    if (limit > 0) {
      lines.push(ctx.line.progress({
        label: "Agent usage", used: Math.max(0, limit - remaining), limit: limit, format: { kind: "dollars" },
        resetsAt: cycle.resetsAt, periodDurationMs: cycle.periodDurationMs,
      }));
    }
    var orb = /\borb\s+usage\s+([0-9][0-9,]*(?:\.[0-9]+)?)h\s+of\s+([0-9][0-9,]*(?:\.[0-9]+)?)h\b/i.exec(rest);
    if (orb && ctx.num.of(orb[2]) > 0) {
      lines.push(ctx.line.progress({
        label: "Orb usage", used: Math.max(0, ctx.num.of(orb[2]) - ctx.num.of(orb[1])), limit: ctx.num.of(orb[2]),
        format: { kind: "count", suffix: "hours" }, resetsAt: cycle.resetsAt, periodDurationMs: cycle.periodDurationMs,
        detail: true,
      }));
    }
    plan = tier[1].trim();
    recognised = true;
  } else if (sub) {
    var resetsAt = ctx.util.toIso(addDuration(ctx, nowMs, ctx.num.of(sub[4]), sub[5]));
    lines.push(ctx.line.progress({
      label: "Other usage", used: ctx.util.clampPercent(100 - ctx.num.of(sub[2])), limit: 100, format: { kind: "percent" },
      resetsAt: resetsAt, periodDurationMs: MONTH_MS,
    }));
    lines.push(ctx.line.progress({
      label: "Orb usage", used: ctx.util.clampPercent(100 - ctx.num.of(sub[3])), limit: 100, format: { kind: "percent" },
      resetsAt: resetsAt, periodDurationMs: MONTH_MS, detail: true,
    }));
    plan = sub[1].trim();
    recognised = true;
  }

  var credits = match(text, "^\\s*Individual credits:\\s*\\$?" + AMOUNT + "\\s+remaining");
  if (credits) {
    lines.push(ctx.line.text({ label: "Credits", value: "$" + ctx.num.grouped(ctx.num.of(credits[1]), 2) + " remaining" }));
    recognised = true;
  }
  var workspaces = new RegExp("^\\s*Workspace\\s+(.+?):\\s*\\$?" + AMOUNT + "\\s+remaining", "img");
  var w;
  while ((w = workspaces.exec(text)) !== null) {
    lines.push(ctx.line.text({ label: "Workspace " + w[1].trim(), value: "$" + ctx.num.grouped(ctx.num.of(w[2]), 2) + " remaining" }));
    recognised = true;
  }
  var bonus = /\+\s*([0-9]+(?:\.[0-9]+)?)%\s+bonus\s+for\s+([0-9]+)\s+more\s+(days?)/i.exec(text);
  if (bonus) lines.push(ctx.line.text({ label: "Bonus", value: "+" + bonus[1] + "% for " + bonus[2] + " " + bonus[3], detail: true }));

  if (!recognised) return null;
  return { plan: plan || "Credits", lines: lines };
}

// ---- probe -------------------------------------------------------------------------

function probeWith(ctx, mode) {
  var found = findToken(ctx, mode);
  if (!found) {
    if (mode === "api") ctx.util.fail("missing-auth", "No Amp access token: set apiKey in the config or AMP_API_KEY.");
    ctx.util.fail("missing-auth", "Not logged in to Amp. Run `amp login`.");
  }
  var resp = ctx.host.http.request({
    method: "POST",
    url: URL,
    headers: {
      Authorization: "Bearer " + found.token,
      "Content-Type": "application/json",
      Accept: "application/json",
    },
    bodyText: JSON.stringify({ method: "userDisplayBalanceInfo", params: {} }),
    timeoutMs: 15000,
  });
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: LOGIN_HINT });
  var data = ctx.util.expectJson(resp, PROVIDER);
  if (data.ok === false) {
    var message = data.error && typeof data.error.message === "string" ? data.error.message : "unknown error";
    var denied = /unauthori[sz]ed|unauthenticated|invalid (access )?token|not (signed|logged) in/i.test(message);
    ctx.util.fail(denied ? "credential-denied" : "failed", "Amp: " + message.slice(0, 200) + (denied ? " " + LOGIN_HINT : ""));
  }
  var text = ctx.util.requireField(data, "result.displayText", PROVIDER);
  var parsed = parseDisplayText(ctx, text, Date.now());
  if (!parsed) {
    ctx.host.log.warn("amp: no recognised line in a " + ctx.util.text(text).split("\n").length + "-line balance text");
    if (/sign in|log in|login/i.test(ctx.util.text(text))) ctx.util.fail("credential-denied", "Amp says you are signed out. " + LOGIN_HINT);
    ctx.util.fail("failed", "Missing Amp usage data: the balance text has no line this version understands.");
  }
  return { source: found.source, plan: parsed.plan, metrics: parsed.lines };
}

globalThis.__usagestat_plugin = {
  id: "amp",
  probe: function (ctx) {
    if (ctx.sourceMode === "local" || ctx.sourceMode === "api") return probeWith(ctx, ctx.sourceMode);
    return probeWith(ctx, "auto");
  },
};
