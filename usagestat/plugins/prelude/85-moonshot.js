// ctx.moonshot: the Moonshot AI open-platform prepaid balance
// (GET /v1/users/me/balance), shared by the `moonshot` plugin (international
// platform by default) and the `kimi-k2` plugin (China platform by default).
// The two platforms are separate accounts: a key only works on the host of
// the platform that issued it. Amounts carry no currency: yuan on
// api.moonshot.cn, dollars on api.moonshot.ai (settings.currency overrides).
//
//   ctx.moonshot.probe({keyEnv: [names], regionEnv: [names],
//                       defaultRegion: "global" | "cn", missingMessage})
//     -> {source: "api", plan, metrics}
__usagestat_extend("moonshot", function (ctx) {
  "use strict";
  var NAME = "Moonshot";
  var HOSTS = { global: "https://api.moonshot.ai", cn: "https://api.moonshot.cn" };

  // Balance (red, with a hint, when nothing is left), a debt badge when the
  // cash balance is negative, then cash and voucher as detail lines.
  function lines(balance, currency) {
    var available = ctx.num.of(ctx.util.requireField(balance, "data.available_balance", NAME));
    if (available === null) ctx.util.fail("failed", "Unexpected response from " + NAME + ": data.available_balance is not a number.");
    var cash = ctx.num.of(balance.data.cash_balance);
    var voucher = ctx.num.of(balance.data.voucher_balance);
    var empty = available <= 0;
    var metrics = [
      ctx.line.text({
        label: "Balance",
        value: ctx.amounts.text(available, currency),
        color: empty ? "red" : undefined,
        subtitle: empty ? "Top up to keep using the API" : undefined,
      }),
    ];
    if (cash !== null && cash < 0) {
      metrics.push(ctx.line.badge({ label: "Debt", text: ctx.amounts.text(cash, currency) + " owed", color: "red" }));
    }
    if (cash !== null) metrics.push(ctx.line.text({ label: "Cash", value: ctx.amounts.text(cash, currency), detail: true }));
    if (voucher !== null) {
      metrics.push(ctx.line.text({ label: "Voucher", value: ctx.amounts.text(voucher, currency), detail: true }));
    }
    return metrics;
  }

  function probe(o) {
    var key = ctx.creds.apiKey({ env: o.keyEnv || [] });
    if (!key) ctx.util.fail("missing-auth", o.missingMessage);
    var region = ctx.keyapi.region({
      name: NAME,
      env: o.regionEnv || [],
      defaultRegion: o.defaultRegion || "global",
      aliases: { global: ["ai"] },
      hint: "use \"intl\" (api.moonshot.ai) or \"cn\" (api.moonshot.cn).",
    });
    var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: NAME, strip: ["/v1"] }) || HOSTS[region.id];
    var settings = ctx.provider.settings || {};
    var currency = ctx.amounts.code(settings.currency, /\.cn$/.test(ctx.keyapi.hostOf(base)) ? "CNY" : "USD");
    var tld = region.id === "cn" ? "cn" : "ai";
    var data = ctx.keyapi.getJson({
      url: base + "/v1/users/me/balance",
      headers: { Authorization: "Bearer " + key.value, Accept: "application/json" },
      name: NAME,
      loginHint:
        "Check the key and the region: keys from platform.moonshot." + tld + " only work on api.moonshot." + tld +
        " (try region = \"" + (region.id === "cn" ? "intl" : "cn") + "\").",
    }).data;
    if (data.code !== undefined && data.code !== 0) {
      var msg = (data.error && data.error.message) || data.message || data.scode || "code " + data.code;
      ctx.util.fail("failed", NAME + " balance error: " + msg + ".");
    }
    return {
      source: "api",
      plan: region.id === "cn" ? "Pay as you go (China)" : "Pay as you go",
      metrics: lines(data, currency),
    };
  }

  return Object.freeze({ hosts: HOSTS, probe: probe, lines: lines });
});
