// NanoGPT: the subscription's daily and monthly allowance, the prepaid USD
// balance, and this key's spend over the current UTC month. Accounts without
// a subscription (pay as you go) still get the balance and spend.
var PROVIDER = "NanoGPT";
var BASE = "https://nano-gpt.com/api";
var DAY_MS = 86400000;

function stateLabel(ctx, data) {
  var state = typeof data.state === "string" ? data.state : data.active ? "active" : "inactive";
  if (state === "grace" && data.graceUntil) {
    var until = ctx.util.parseDateMs(data.graceUntil);
    if (until !== null) return "Grace until " + ctx.fmt.date(until);
  }
  return ctx.fmt.planLabel(state);
}

function allowance(ctx, label, window, limit, periodMs) {
  if (!window || typeof window !== "object") return null;
  var used = ctx.num.of(window.used);
  var cap = ctx.num.of(limit);
  if (cap === null || !(cap > 0)) {
    var remaining = ctx.num.of(window.remaining);
    if (used !== null && remaining !== null) cap = used + remaining;
  }
  if (used === null || cap === null || !(cap > 0)) return null;
  var resetMs = ctx.util.parseDateMs(window.resetAt);
  return ctx.line.progress({
    label: label,
    used: used,
    limit: cap,
    format: { kind: "count", suffix: "requests" },
    resetsAt: resetMs === null ? undefined : ctx.util.toIso(resetMs),
    periodDurationMs: periodMs === "month" ? (resetMs === null ? undefined : ctx.calendar.monthlyPeriodEndingAt(resetMs)) : periodMs,
  });
}

function probe(ctx) {
  var key = ctx.creds.apiKey({ env: ["NANOGPT_API_KEY"] });
  if (!key) {
    ctx.util.fail("missing-auth", "No NanoGPT API key: set apiKey in the config or NANOGPT_API_KEY (nano-gpt.com/api).");
  }
  var bearer = { Authorization: "Bearer " + key.value, Accept: "application/json" };
  var hint = "Check the API key at nano-gpt.com/api.";
  var sub = ctx.keyapi.getJson({ url: BASE + "/subscription/v1/usage", headers: bearer, name: PROVIDER, loginHint: hint }).data;
  if (typeof sub.active !== "boolean") ctx.util.fail("failed", "Unexpected response from NanoGPT: missing active.");

  var metrics = [];
  if (sub.active) {
    var limits = sub.limits || {};
    var daily = allowance(ctx, "Daily", sub.daily, limits.daily, DAY_MS);
    var monthly = allowance(ctx, "Monthly", sub.monthly, limits.monthly, "month");
    if (daily) {
      if (sub.enforceDailyLimit === false) daily.detail = true;
      metrics.push(daily);
    }
    if (monthly) metrics.push(monthly);
    if (!daily && !monthly) ctx.util.fail("failed", "Unexpected response from NanoGPT: no daily or monthly usage in an active subscription.");
  } else {
    metrics.push(ctx.line.badge({ label: "Subscription", text: "Inactive", color: "grey", subtitle: "Pay as you go" }));
  }

  // Balance and month-to-date spend are extras: a refusal drops only their line.
  var balance = ctx.keyapi.getJson({
    method: "POST",
    url: BASE + "/check-balance",
    headers: { "x-api-key": key.value, Accept: "application/json" },
    name: PROVIDER,
    loginHint: hint,
    pass: [400, 401, 403, 404],
  }).data;
  var usd = balance ? ctx.num.of(balance.usd_balance) : null;
  if (usd !== null) metrics.push(ctx.line.text({ label: "Balance", value: ctx.amounts.text(usd, "USD"), color: usd <= 0 ? "red" : undefined }));

  var now = Date.now();
  var spend = ctx.keyapi.getJson({
    url: BASE + "/v1/usage?" + ctx.keyapi.query({ from: ctx.calendar.ymd(ctx.calendar.monthStart(now)), to: ctx.calendar.ymd(now) }),
    headers: bearer,
    name: PROVIDER,
    loginHint: hint,
    pass: [400, 401, 403, 404],
  }).data;
  var totals = spend && spend.totals;
  var cost = ctx.num.first(totals, ["netCostUsd", "costUsd"]);
  if (cost !== null) {
    metrics.push(ctx.line.text({ label: "Spend (month)", value: ctx.amounts.text(cost, "USD"), subtitle: "This API key, since the 1st (UTC)" }));
    var requests = ctx.num.of(totals.requests);
    if (requests !== null) metrics.push(ctx.line.text({ label: "Requests (month)", value: ctx.num.grouped(requests), detail: true }));
    var tokens = ctx.num.of(totals.totalTokens);
    if (tokens !== null) metrics.push(ctx.line.text({ label: "Tokens (month)", value: ctx.fmt.tokens(tokens), detail: true }));
  }
  return { source: "api", plan: sub.active ? stateLabel(ctx, sub) : "Pay as you go", metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "nanogpt", probe: probe };
