// Venice.ai: the API balance behind an ADMIN key — staked DIEM that refills
// every epoch, plus prepaid USD. Venice spends DIEM first, then bundled
// credits, then USD. The response has no epoch reset time, so the DIEM bar
// carries none.
var PROVIDER = "Venice";
var BALANCE_URL = "https://api.venice.ai/api/v1/billing/balance";

function diemText(ctx, n) {
  return ctx.num.grouped(n, Math.round(n) === n ? 0 : 2) + " DIEM";
}

function probe(ctx) {
  var key = ctx.creds.apiKey({ env: ["VENICE_API_KEY", "VENICE_KEY"] });
  if (!key) {
    ctx.util.fail(
      "missing-auth",
      "No Venice API key: set apiKey in the config or VENICE_API_KEY (an ADMIN key from venice.ai/settings/api; inference keys cannot read the balance)."
    );
  }
  var data = ctx.keyapi.getJson({
    url: BALANCE_URL,
    headers: { Authorization: "Bearer " + key.value, Accept: "application/json" },
    name: PROVIDER,
    loginHint: "The balance needs an ADMIN API key (venice.ai/settings/api); INFERENCE keys are refused.",
  }).data;
  var balances = ctx.util.requireField(data, "balances", PROVIDER) || {};
  var diem = ctx.num.of(balances.diem);
  var usd = ctx.num.of(balances.usd);
  var allocation = ctx.num.of(data.diemEpochAllocation);
  if (diem === null && usd === null) {
    ctx.util.fail("failed", "Unexpected response from Venice: balances has neither diem nor usd.");
  }

  var metrics = [];
  if (data.canConsume === false) {
    metrics.push(ctx.line.badge({ label: "Status", text: "Balance unavailable", color: "red", subtitle: "Add USD or stake DIEM to keep using the API" }));
  }
  if (allocation !== null && allocation > 0 && diem !== null) {
    metrics.push(
      ctx.line.progress({
        label: "DIEM",
        used: Math.max(0, Math.min(allocation, allocation - diem)),
        limit: allocation,
        format: { kind: "count", suffix: "DIEM" },
      })
    );
  } else if (diem !== null) {
    metrics.push(ctx.line.text({ label: "DIEM", value: diemText(ctx, diem) + " remaining" }));
  }
  if (usd !== null) metrics.push(ctx.line.text({ label: "USD", value: ctx.amounts.text(usd, "USD") }));
  if (typeof data.consumptionCurrency === "string" && data.consumptionCurrency) {
    var paying = { DIEM: "DIEM", USD: "USD", BUNDLED_CREDITS: "Bundled credits", VCU: "VCU" }[data.consumptionCurrency] ||
      ctx.fmt.planLabel(data.consumptionCurrency.toLowerCase());
    metrics.push(ctx.line.badge({ label: "Paying with", text: paying, detail: true }));
  }
  return { source: "api", metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "venice", probe: probe };
