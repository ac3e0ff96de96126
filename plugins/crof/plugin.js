// Crof.ai: dollar credits and, on plans that have one, a daily request
// allowance, from the (undocumented) usage API the dashboard uses.
var PROVIDER = "Crof.ai";
var DAY_MS = 86400000;
var KEY_ENVS = ["CROF_API_KEY", "CROFAI_API_KEY", "CROF_AI_API_KEY"];

// The daily allowance resets at midnight America/Chicago (the provider's
// dashboard day; inferred, no reset time is returned). US Central time is
// UTC-6, UTC-5 from the second Sunday of March 02:00 to the first Sunday of
// November 02:00 local time.
function nthSunday(year, month, n) {
  var first = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return 1 + ((7 - first) % 7) + 7 * (n - 1);
}
function centralIsDst(ms) {
  var y = new Date(ms).getUTCFullYear();
  var start = Date.UTC(y, 2, nthSunday(y, 2, 2), 8); // 02:00 CST = 08:00 UTC
  var end = Date.UTC(y, 10, nthSunday(y, 10, 1), 7); // 02:00 CDT = 07:00 UTC
  return ms >= start && ms < end;
}
function nextChicagoMidnight(nowMs) {
  var local = new Date(nowMs + (centralIsDst(nowMs) ? -5 : -6) * 3600000);
  var midnightUtcGuess = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1);
  // Switches happen at 02:00 local (07:00/08:00 UTC), so the DST state at
  // 04:00 UTC of that date is the state at its local midnight.
  var offset = centralIsDst(midnightUtcGuess + 4 * 3600000) ? -5 : -6;
  return midnightUtcGuess - offset * 3600000;
}

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
      resetsAt: ctx.util.toIso(nextChicagoMidnight(nowMs)),
      periodDurationMs: DAY_MS,
    }));
  }
  // Credits may carry sub-cent fractions: show whole cents, rounded down.
  var cents = Math.floor(credits * 100 + 1e-7) / 100;
  metrics.push(ctx.line.text({ label: "Credits", value: ctx.fmt.money(cents, "USD") + " remaining" }));
  return { source: "api", plan: plan !== null && plan > 0 ? "Daily " + plan + " requests" : "Pay as you go", metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "crof", probe: probe };
