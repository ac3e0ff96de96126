// OpenRouter: prepaid USD credits for the account, plus the spend and the
// optional spending limit of the key in use. `/key` works with any inference
// key; `/credits` (the account total) may need a management key, so a
// refusal there only drops the account lines.
var PROVIDER = "OpenRouter";
var DEFAULT_BASE = "https://openrouter.ai/api/v1";
var DAY_MS = 86400000;
var CREDITS_UNAVAILABLE = [401, 403, 404, 429];
for (var code = 500; code < 600; code++) CREDITS_UNAVAILABLE.push(code);

// The next reset of a key limit ("daily" / "weekly" / "monthly", UTC; weeks
// start on Monday) and the window length, or null for a lifetime limit.
function limitWindow(ctx, reset, nowMs) {
  var day = ctx.calendar.startOfDay(nowMs);
  if (reset === "daily") return { resetMs: day + DAY_MS, periodMs: DAY_MS };
  if (reset === "weekly") {
    var weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
    return { resetMs: day + (7 - weekday) * DAY_MS, periodMs: 7 * DAY_MS };
  }
  if (reset === "monthly") {
    var month = ctx.calendar.month(nowMs);
    return { resetMs: month.end, periodMs: month.durationMs };
  }
  return null;
}

function get(ctx, url, token, loginHint, pass) {
  return ctx.keyapi.getJson({
    url: url,
    headers: { Authorization: "Bearer " + token, Accept: "application/json", "X-Title": "usagestat" },
    name: PROVIDER,
    loginHint: loginHint,
    pass: pass,
  });
}

function money(ctx, n) {
  return ctx.amounts.text(n, "USD");
}

function probe(ctx) {
  var key = ctx.creds.apiKey({ env: ["OPENROUTER_API_KEY"] });
  if (!key) {
    ctx.util.fail(
      "missing-auth",
      "No OpenRouter API key: set apiKey in the config or OPENROUTER_API_KEY (openrouter.ai/settings/keys)."
    );
  }
  var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER }) || DEFAULT_BASE;
  var official = ctx.keyapi.hostOf(base) === "openrouter.ai";
  var settings = ctx.provider.settings || {};
  // A management key is only ever sent to openrouter.ai itself.
  var management = official
    ? (typeof settings.managementApiKey === "string" && settings.managementApiKey.trim()) ||
      (ctx.creds.env(["OPENROUTER_MANAGEMENT_API_KEY"]) || {}).value || null
    : null;

  var keyInfo = get(ctx, base + "/key", key.value, "The API key is invalid, disabled or expired (openrouter.ai/settings/keys).").data;
  var info = ctx.util.requireField(keyInfo, "data", PROVIDER) || {};
  var usage = ctx.num.of(info.usage);
  if (usage === null) ctx.util.fail("failed", "Unexpected response from OpenRouter: missing data.usage.");

  // A refusal, a rate limit or a server error on /credits only drops the
  // account lines: the key lines are already known.
  var credits = get(ctx, base + "/credits", management || key.value, undefined, CREDITS_UNAVAILABLE);
  var metrics = [];
  if (credits.data) {
    var total = ctx.num.of(ctx.util.requireField(credits.data, "data.total_credits", PROVIDER));
    var spent = ctx.num.of(ctx.util.requireField(credits.data, "data.total_usage", PROVIDER));
    if (total === null || spent === null) ctx.util.fail("failed", "Unexpected response from OpenRouter: credits are not numbers.");
    if (total > 0) {
      metrics.push(ctx.line.progress({ label: "Credits", used: spent, limit: total, format: ctx.amounts.format("USD") }));
    }
    var left = total - spent;
    metrics.push(ctx.line.text({ label: "Balance", value: money(ctx, left), color: left <= 0 ? "red" : undefined }));
  } else {
    var status = credits.resp.status;
    var why;
    if (status === 429 || status >= 500) why = "OpenRouter answered HTTP " + status + "; try again later";
    else if (management) why = "The management key was refused (HTTP " + status + ")";
    else why = "OpenRouter answered HTTP " + status + "; set OPENROUTER_MANAGEMENT_API_KEY to show the account total";
    metrics.push(ctx.line.text({ label: "Account credits", value: "Unavailable", subtitle: why, detail: true }));
  }

  var limit = ctx.num.of(info.limit);
  var remaining = ctx.num.of(info.limit_remaining);
  if (limit !== null && limit > 0) {
    var window = limitWindow(ctx, info.limit_reset, Date.now());
    // Without limit_remaining the spend counted against the limit is only
    // known for a lifetime limit (it is the key's all-time usage); for a
    // resetting limit the line shows the limit alone.
    var lifetime = info.limit_reset === null || info.limit_reset === undefined;
    var used = remaining !== null ? limit - remaining : lifetime ? usage : null;
    if (used === null) {
      var period = ctx.util.text(info.limit_reset);
      metrics.push(
        ctx.line.text({
          label: "Key limit",
          value: money(ctx, limit),
          subtitle: (period ? "Resets " + period + "; " : "") + "OpenRouter did not report what is left",
        })
      );
    } else {
      metrics.push(
        ctx.line.progress({
          label: "Key limit",
          used: Math.max(0, used),
          limit: limit,
          format: ctx.amounts.format("USD"),
          resetsAt: window ? ctx.util.toIso(window.resetMs) : undefined,
          periodDurationMs: window ? window.periodMs : undefined,
        })
      );
    }
  }
  var spans = [["Today", "usage_daily", true], ["This week", "usage_weekly", true], ["This month", "usage_monthly", false]];
  for (var i = 0; i < spans.length; i++) {
    var v = ctx.num.of(info[spans[i][1]]);
    if (v !== null) metrics.push(ctx.line.text({ label: spans[i][0], value: money(ctx, v), detail: spans[i][2] }));
  }
  metrics.push(ctx.line.text({ label: "Key spend (all time)", value: money(ctx, usage), detail: true }));
  if (info.is_free_tier === true) metrics.push(ctx.line.badge({ label: "Free tier", text: "Free tier", color: "grey" }));
  return { source: "api", plan: info.is_free_tier === true ? "Free tier" : "Pay as you go", metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "openrouter", probe: probe };
