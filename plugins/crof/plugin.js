// Crof.ai: dollar credits and, on plans that have one, a daily request
// allowance, from the (undocumented) usage API the dashboard uses.
var PROVIDER = "Crof.ai";
var KEY_ENVS = ["CROF_API_KEY", "CROFAI_API_KEY", "CROF_AI_API_KEY"];

function probe(ctx) {
  var key = ctx.creds.apiKey({ env: KEY_ENVS });
  if (!key) {
    ctx.util.fail("missing-auth", "No Crof.ai API key: set apiKey in the config or CROF_API_KEY (create one at https://crof.ai/dashboard).");
  }
  var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER }) || "https://crof.ai";
  var data = ctx.keyapi.getJson({
    url: base + "/usage_api/",
    headers: { Authorization: "Bearer " + key.value, Accept: "application/json" },
    timeoutMs: 10000,
    name: PROVIDER,
    loginHint: "The Crof.ai API key is invalid or expired; create a new one at https://crof.ai/dashboard.",
  }).data;
  var credits = ctx.num.of(ctx.util.requireField(data, "credits", PROVIDER));
  if (credits === null) ctx.util.fail("failed", "Unexpected response from " + PROVIDER + ": credits is not a number.");

  var metrics = [];
  var plan = ctx.num.of(data.requests_plan);
  var usable = ctx.num.of(data.usable_requests);
  if (plan !== null && plan > 0 && usable !== null) {
    var nowMs = Date.now();
    metrics.push(ctx.line.progress({
      label: "Requests",
      used: Math.max(0, Math.min(plan, plan - usable)),
      limit: plan,
      format: { kind: "count", suffix: "requests" },
      // Resets at midnight America/Chicago (the provider's dashboard day;
      // inferred, no reset time is returned).
      resetsAt: ctx.util.toIso(ctx.calendar.nextUsLocalTime(nowMs, 0, -6)),
      periodDurationMs: ctx.calendar.DAY_MS,
    }));
  }
  // Credits may carry sub-cent fractions: show whole cents, rounded down.
  var cents = Math.floor(credits * 100 + 1e-7) / 100;
  metrics.push(ctx.line.text({ label: "Credits", value: ctx.fmt.money(cents, "USD") + " remaining" }));
  return { source: "api", plan: plan !== null && plan > 0 ? "Daily " + plan + " requests" : "Pay as you go", metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "crof", probe: probe };
