// Moonshot AI (Kimi open platform): the prepaid API balance. International
// host by default; region "cn" uses the China platform (a separate account:
// keys only work on the platform that issued them). The platform has no
// quota windows or spend history API, only this balance.
var PROVIDER = "Moonshot";
var HOSTS = { global: "https://api.moonshot.ai", cn: "https://api.moonshot.cn" };
var KEY_ENV = ["MOONSHOT_API_KEY", "MOONSHOT_KEY"];

function probe(ctx) {
  var key = ctx.creds.apiKey({ env: KEY_ENV });
  if (!key) {
    ctx.util.fail(
      "missing-auth",
      "No Moonshot API key: set apiKey in the config or MOONSHOT_API_KEY (create one at platform.moonshot.ai → API keys; China accounts: platform.moonshot.cn with region = \"cn\")."
    );
  }
  var region = ctx.keyapi.region({
    name: PROVIDER,
    env: ["MOONSHOT_REGION"],
    defaultRegion: "global",
    aliases: { global: ["ai"] },
    hint: "use \"intl\" (api.moonshot.ai) or \"cn\" (api.moonshot.cn).",
  });
  var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER, strip: ["/v1"] }) || HOSTS[region.id];
  // The API sends bare numbers: yuan on the China platform, dollars on .ai.
  var settings = ctx.provider.settings || {};
  var currency = ctx.amounts.code(settings.currency, /\.cn$/.test(ctx.keyapi.hostOf(base)) ? "CNY" : "USD");
  var other = region.id === "cn" ? "intl" : "cn";
  var data = ctx.keyapi.getJson({
    url: base + "/v1/users/me/balance",
    headers: { Authorization: "Bearer " + key.value, Accept: "application/json" },
    name: PROVIDER,
    loginHint:
      "Check the key, and the region: keys from platform.moonshot." + (region.id === "cn" ? "cn" : "ai") +
      " only work there (try region = \"" + other + "\").",
  }).data;
  if (data.code !== undefined && data.code !== 0) {
    var msg = (data.error && data.error.message) || data.message || "code " + data.code;
    ctx.util.fail("failed", PROVIDER + " balance error: " + msg + ".");
  }
  var available = ctx.num.of(ctx.util.requireField(data, "data.available_balance", PROVIDER));
  if (available === null) ctx.util.fail("failed", "Unexpected response from Moonshot: data.available_balance is not a number.");
  var cash = ctx.num.of(data.data.cash_balance);
  var voucher = ctx.num.of(data.data.voucher_balance);

  var metrics = [
    ctx.line.text({
      label: "Balance",
      value: ctx.amounts.text(available, currency),
      color: available <= 0 ? "red" : undefined,
      subtitle: available <= 0 ? "Top up to keep using the API" : undefined,
    }),
  ];
  if (cash !== null && cash < 0) {
    metrics.push(ctx.line.badge({ label: "Debt", text: ctx.amounts.text(cash, currency) + " owed", color: "red" }));
  }
  if (cash !== null) metrics.push(ctx.line.text({ label: "Cash", value: ctx.amounts.text(cash, currency), detail: true }));
  if (voucher !== null) {
    metrics.push(ctx.line.text({ label: "Voucher", value: ctx.amounts.text(voucher, currency), detail: true }));
  }
  return {
    source: "api",
    plan: region.id === "cn" ? "Pay as you go (China)" : "Pay as you go",
    metrics: metrics,
  };
}

globalThis.__usagestat_plugin = { id: "moonshot", probe: probe };
