// DeepSeek: the prepaid balance from the public API (api mode), and the
// month's spend and token totals from the platform's own dashboard endpoints
// (web mode, undocumented) when a platform userToken is available.
var PROVIDER = "DeepSeek";
var PLATFORM = "https://platform.deepseek.com";

function apiKey(ctx) {
  var key = ctx.creds.apiKey({ env: ["DEEPSEEK_API_KEY", "DEEPSEEK_KEY"] });
  return key ? key.value : null;
}

// The platform's `userToken` (localStorage of platform.deepseek.com), sent as
// a Bearer token. It may be pasted bare or as `userToken=<value>`.
function platformToken(ctx) {
  var s = ctx.provider.settings || {};
  if (s.userToken) return String(s.userToken).trim();
  var raw = ctx.provider.cookieHeader;
  if (raw) {
    var m = /(?:^|;\s*)userToken=([^;]+)/.exec(raw);
    if (m) return decodeURIComponent(m[1]).replace(/^"|"$/g, "").trim();
    if (raw.indexOf("=") < 0) return raw.trim();
  }
  return ctx.creds.envValue(["DEEPSEEK_PLATFORM_TOKEN", "DEEPSEEK_USER_TOKEN"]);
}

// ---- api: GET /user/balance ----------------------------------------------------
function balanceLines(ctx, key) {
  var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER }) || "https://api.deepseek.com";
  var data = ctx.keyapi.getJson({
    url: base + "/user/balance",
    headers: { Authorization: "Bearer " + key, Accept: "application/json" },
    timeoutMs: 10000,
    name: PROVIDER,
    loginHint: "DeepSeek API key invalid or expired: create one at https://platform.deepseek.com/api_keys.",
  }).data;
  var infos = ctx.util.requireField(data, "balance_infos", PROVIDER);
  if (!Array.isArray(infos)) ctx.util.fail("failed", "Unexpected response from " + PROVIDER + ": balance_infos is not a list.");
  var metrics = [];
  if (data.is_available === false) {
    metrics.push(ctx.line.badge({ label: "Status", text: "Unavailable", color: "red" }));
  }
  if (infos.length === 0) {
    metrics.push(ctx.line.badge({ label: "Balance", text: "No balance data", color: "grey" }));
    return metrics;
  }
  var ordered = infos.slice().sort(function (a, b) {
    return (a && a.currency === "USD" ? 0 : 1) - (b && b.currency === "USD" ? 0 : 1);
  });
  for (var i = 0; i < ordered.length; i++) {
    var info = ordered[i] || {};
    var cur = ctx.util.text(info.currency, "USD").toUpperCase() || "USD";
    var total = ctx.num.of(info.total_balance);
    if (total === null) ctx.util.fail("failed", "Unexpected response from " + PROVIDER + ": missing balance_infos." + i + ".total_balance.");
    var paid = ctx.num.of(info.topped_up_balance);
    var granted = ctx.num.of(info.granted_balance);
    var value;
    if (total <= 0) value = ctx.fmt.money(0, cur) + " — add credits";
    else {
      value = ctx.fmt.money(total, cur);
      if (paid !== null && granted !== null) value += " (Paid: " + ctx.fmt.money(paid, cur) + " / Granted: " + ctx.fmt.money(granted, cur) + ")";
    }
    metrics.push(ctx.line.text({
      label: i === 0 ? "Balance" : "Balance (" + cur + ")",
      value: value,
      color: total <= 0 ? "red" : undefined,
      detail: i > 0,
    }));
  }
  return metrics;
}

// ---- web: platform dashboard endpoints ----------------------------------------------
function platformGet(ctx, token, path) {
  var hint = "The DeepSeek platform session expired: copy a fresh userToken from platform.deepseek.com.";
  var data = ctx.keyapi.getJson({
    url: PLATFORM + path,
    headers: { Authorization: "Bearer " + token, Accept: "application/json" },
    timeoutMs: 10000,
    name: "DeepSeek platform",
    loginHint: hint,
  }).data;
  var code = data.code;
  var biz = data.data && typeof data.data === "object" ? data.data.biz_code : undefined;
  if (code === 40002 || code === 40003 || biz === 40002 || biz === 40003) ctx.util.fail("credential-denied", hint);
  if ((code !== undefined && code !== 0) || (biz !== undefined && biz !== 0)) {
    var msg = ctx.util.text(data.msg);
    ctx.util.fail("failed", "DeepSeek platform error " + (ctx.util.text(code) || ctx.util.text(biz, "?")) + (msg ? ": " + msg : "") + ".");
  }
  return ctx.util.requireField(data, "data.biz_data", "DeepSeek platform");
}

function sumUsage(ctx, list, filter) {
  var total = 0;
  for (var i = 0; i < (list || []).length; i++) {
    var items = (list[i] && list[i].usage) || [];
    for (var j = 0; j < items.length; j++) {
      var type = ctx.util.text(items[j].type).toUpperCase();
      if (!filter(type)) continue;
      var n = ctx.num.of(items[j].amount);
      if (n !== null) total += n;
    }
  }
  return total;
}

function usageLines(ctx, token) {
  var now = new Date();
  var q = "?month=" + (now.getUTCMonth() + 1) + "&year=" + now.getUTCFullYear();
  var cost = platformGet(ctx, token, "/api/v0/usage/cost" + q);
  var costEntry = Array.isArray(cost) ? cost[0] || {} : cost;
  var currency = ctx.util.text(costEntry.currency, "CNY").toUpperCase() || "CNY";
  var spend = sumUsage(ctx, costEntry.total, function () { return true; });
  var amounts = platformGet(ctx, token, "/api/v0/usage/amount" + q);
  var tokens = sumUsage(ctx, amounts.total, function (t) { return /_TOKEN$/.test(t); });
  var requests = sumUsage(ctx, amounts.total, function (t) { return t === "REQUEST"; });
  return [
    ctx.line.text({ label: "Spend (month)", value: ctx.fmt.money(spend, currency) }),
    ctx.line.text({ label: "Tokens (month)", value: ctx.fmt.tokens(tokens) }),
    ctx.line.text({ label: "Requests (month)", value: String(Math.round(requests)), detail: true }),
  ];
}

function probe(ctx) {
  var mode = ctx.sourceMode;
  var key = apiKey(ctx);
  var token = platformToken(ctx);
  if (mode === "api" || (mode === "auto" && key)) {
    if (!key) ctx.util.fail("missing-auth", "No DeepSeek API key: set apiKey in the config or DEEPSEEK_API_KEY.");
    var metrics = balanceLines(ctx, key);
    // auto: add the month's usage when a platform token is available too.
    if (mode === "auto" && token) metrics = metrics.concat(usageLines(ctx, token));
    return { source: "api", plan: "Pay as you go", metrics: metrics };
  }
  if (!token) {
    ctx.util.fail(
      "missing-auth",
      mode === "web"
        ? "No DeepSeek platform token: set settings.userToken (the userToken value from platform.deepseek.com) or DEEPSEEK_PLATFORM_TOKEN."
        : "No DeepSeek API key: set apiKey in the config or DEEPSEEK_API_KEY."
    );
  }
  return { source: "web", plan: "Pay as you go", metrics: usageLines(ctx, token) };
}

globalThis.__usagestat_plugin = { id: "deepseek", probe: probe };
