// Kimi K2: the Moonshot open-platform balance (the account that serves the
// Kimi K2 models through the API). China host by default; `region = "intl"`
// uses the international host. Not the Kimi Code subscription (that is the
// `kimi` plugin).
var PROVIDER = "Moonshot";
var HOSTS = { cn: "https://api.moonshot.cn", intl: "https://api.moonshot.ai" };

function findKey(ctx) {
  if (ctx.provider.apiKey) return ctx.provider.apiKey;
  var names = ["KIMI_API_KEY", "MOONSHOT_API_KEY"];
  for (var i = 0; i < names.length; i++) {
    var v = ctx.host.env.get(names[i]);
    if (v && v.trim()) return v.trim();
  }
  return null;
}

function regionOf(ctx) {
  var r = String(ctx.provider.region || "cn").trim().toLowerCase();
  if (r === "cn" || r === "china" || r === "zh") return "cn";
  if (r === "intl" || r === "global" || r === "international" || r === "ai") return "intl";
  ctx.util.fail("failed", "Unknown region \"" + ctx.provider.region + "\": use \"cn\" (api.moonshot.cn) or \"intl\" (api.moonshot.ai).");
}

function num(v) {
  if (v === null || v === undefined || v === "" || typeof v === "boolean") return null;
  var n = Number(v);
  return isFinite(n) ? n : null;
}

function probe(ctx) {
  var key = findKey(ctx);
  if (!key) {
    ctx.util.fail("missing-auth", "No Moonshot API key: set apiKey in the config or KIMI_API_KEY / MOONSHOT_API_KEY (platform.moonshot.cn → API keys).");
  }
  var region = regionOf(ctx);
  var base = (ctx.provider.baseUrl || HOSTS[region]).replace(/\/+$/, "").replace(/\/v1$/, "");
  // Amounts carry no currency: CNY on the .cn platform, USD on .ai.
  var currency = (ctx.provider.settings && ctx.provider.settings.currency) ||
    (/\.cn(?::\d+)?$/i.test(base.replace(/^https?:\/\//, "").split("/")[0]) ? "CNY" : "USD");
  var resp = ctx.host.http.request({
    method: "GET",
    url: base + "/v1/users/me/balance",
    headers: { Authorization: "Bearer " + key, Accept: "application/json" },
    timeoutMs: 10000,
  });
  var other = region === "cn" ? "intl" : "cn";
  ctx.util.checkResponse(resp, {
    name: PROVIDER,
    loginHint: "Kimi/Moonshot API key invalid — keys are issued per platform; check region (\"" + region +
      "\" uses " + HOSTS[region].replace("https://", "") + ", try region = \"" + other + "\").",
  });
  var data = ctx.util.expectJson(resp, PROVIDER);
  if (data.code !== undefined && data.code !== 0) {
    var msg = (data.error && data.error.message) || data.message || data.scode || "code " + data.code;
    ctx.util.fail("failed", PROVIDER + " balance error: " + msg + ".");
  }
  var available = num(ctx.util.requireField(data, "data.available_balance", PROVIDER));
  if (available === null) ctx.util.fail("failed", "Unexpected response from " + PROVIDER + ": data.available_balance is not a number.");
  var cash = num(data.data.cash_balance);
  var voucher = num(data.data.voucher_balance);
  var money = function (v) { return v < 0 ? "−" + ctx.fmt.money(-v, currency) : ctx.fmt.money(v, currency); };

  var metrics = [ctx.line.text({ label: "Balance", value: money(available), color: available <= 0 ? "red" : undefined })];
  if (cash !== null && cash < 0) {
    metrics.push(ctx.line.badge({ label: "Debt", text: money(cash) + " owed", color: "red" }));
  }
  if (cash !== null) metrics.push(ctx.line.text({ label: "Cash", value: money(cash), detail: true }));
  if (voucher !== null) metrics.push(ctx.line.text({ label: "Voucher", value: money(voucher), detail: true }));
  return { source: "api", plan: "Pay as you go", metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "kimi-k2", probe: probe };
