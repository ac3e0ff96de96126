// Xiaomi MiMo API platform: the prepaid balance and, with a Token Plan, this
// month's plan usage — read from the console's own API with the browser
// session (cookies api-platform_serviceToken + userId). There is no
// documented API-key billing endpoint.
var PROVIDER = "Xiaomi MiMo";
var DEFAULT_BASE = "https://platform.xiaomimimo.com/api/v1";
var ORIGIN = "https://platform.xiaomimimo.com";
var COOKIES = ["api-platform_serviceToken", "userId", "api-platform_ph", "api-platform_slh"];
var LOGIN = "Log in at platform.xiaomimimo.com and copy a fresh Cookie header (or run `usagestat auth import-cookies --provider mimo --save`).";

// "UTC+01:00" for the machine's offset, as the console sends it.
function timeZone() {
  var offset = -new Date().getTimezoneOffset();
  var sign = offset < 0 ? "-" : "+";
  var abs = Math.abs(offset);
  var pad = function (n) { return n < 10 ? "0" + n : String(n); };
  return "UTC" + sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
}

function cookieOf(ctx) {
  var found = ctx.cookieAuth.find({ env: ["MIMO_COOKIE", "XIAOMI_MIMO_COOKIE"], names: COOKIES });
  if (!found) ctx.util.fail("missing-auth", "No Xiaomi MiMo session: set cookieHeader (or MIMO_COOKIE). " + LOGIN);
  var cookie = found.header;
  if (!cookie || !ctx.cookieAuth.get(cookie, "api-platform_serviceToken") || !ctx.cookieAuth.get(cookie, "userId")) {
    ctx.util.fail("missing-auth", "Xiaomi MiMo needs the api-platform_serviceToken and userId cookies. " + LOGIN);
  }
  return cookie;
}

function sessionExpired(ctx) {
  ctx.util.fail("credential-denied", "Xiaomi MiMo session expired. " + LOGIN);
}

function request(ctx, base, cookie, path, optional) {
  var o = {
    url: base + path,
    headers: {
      Cookie: cookie,
      Accept: "application/json, text/plain, */*",
      "Accept-Language": "en-US,en;q=0.9",
      "x-timeZone": timeZone(),
      Origin: ORIGIN,
      Referer: ORIGIN + "/#/console/balance",
    },
    name: PROVIDER,
    loginHint: LOGIN,
  };
  var data;
  if (optional) {
    data = ctx.keyapi.optionalJson(o).data;
    return data && ctx.num.of(data.code) === 0 && data.data && typeof data.data === "object" ? data.data : null;
  }
  var resp = ctx.keyapi.request(o);
  if (resp.status === 401 || resp.status === 403 || (resp.status >= 300 && resp.status < 400)) sessionExpired(ctx);
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: LOGIN });
  if (/^\s*</.test(resp.bodyText || "")) sessionExpired(ctx);
  data = ctx.util.expectJson(resp, PROVIDER);
  var code = ctx.num.of(data.code);
  if (code === 401 || code === 403) sessionExpired(ctx);
  if (code !== 0) ctx.util.fail("failed", "Xiaomi MiMo balance error: " + (ctx.util.text(data.message) || "code " + ctx.util.text(data.code)) + ".");
  return ctx.util.requireField(data, "data", PROVIDER);
}

// "2030-01-15 00:00:00" (UTC, as the console sends it) or ISO -> ms.
function periodEnd(ctx, value) {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(value.trim())) {
    return ctx.util.parseDateMs(value.trim().replace(" ", "T") + "Z");
  }
  return ctx.util.parseDateMs(value);
}

function probe(ctx) {
  var cookie = cookieOf(ctx);
  var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER }) || DEFAULT_BASE;
  var balance = request(ctx, base, cookie, "/balance", false) || {};
  var amount = ctx.num.of(balance.balance);
  if (amount === null) ctx.util.fail("failed", "Unexpected response from Xiaomi MiMo: missing data.balance.");
  var currency = ctx.amounts.code(balance.currency, "CNY");

  var detail = request(ctx, base, cookie, "/tokenPlan/detail", true);
  var usage = request(ctx, base, cookie, "/tokenPlan/usage", true);
  var metrics = [];
  var month = usage && usage.monthUsage;
  var item = month && Array.isArray(month.items) ? month.items[0] : null;
  var used = item ? ctx.num.of(item.used) : null;
  var limit = item ? ctx.num.of(item.limit) : null;
  var pct = used !== null && limit !== null && limit > 0 ? (used / limit) * 100 : ctx.num.of(month && month.percent);
  if (pct !== null && (detail || item)) {
    var resetMs = detail ? periodEnd(ctx, detail.currentPeriodEnd) : null;
    metrics.push(
      ctx.calendar.monthlyProgress({
        label: "Token Plan",
        used: ctx.util.clampPercent(pct),
        limit: 100,
        format: { kind: "percent" },
        resetMs: resetMs,
      })
    );
    if (used !== null && limit !== null) {
      metrics.push(ctx.line.text({ label: ctx.util.text(item.name) || "Plan usage", value: ctx.num.grouped(used) + " / " + ctx.num.grouped(limit), detail: true }));
    }
  }
  if (detail && detail.expired === true) metrics.push(ctx.line.badge({ label: "Token Plan", text: "Expired", color: "red" }));
  metrics.push(ctx.line.text({ label: "Balance", value: ctx.amounts.text(amount, currency), color: amount <= 0 ? "red" : undefined }));
  var cash = ctx.num.of(balance.cashBalance);
  var gift = ctx.num.of(balance.giftBalance);
  if (cash !== null) metrics.push(ctx.line.text({ label: "Cash", value: ctx.amounts.text(cash, currency), detail: true }));
  if (gift !== null) metrics.push(ctx.line.text({ label: "Gift", value: ctx.amounts.text(gift, currency), detail: true }));
  var plan = detail && typeof detail.planCode === "string" && detail.planCode ? ctx.fmt.planLabel(detail.planCode) : "Pay as you go";
  return { source: "web", plan: plan, metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "mimo", probe: probe };
