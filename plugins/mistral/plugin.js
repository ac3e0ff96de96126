// Mistral AI (La Plateforme): this month's API spend and token totals, and
// the subscription budgets (API budget, Vibe / Le Chat monthly plan), read
// from admin.mistral.ai with the user's Ory browser session. Mistral's API
// keys cannot read billing; the admin web session is the only known source.
//
// Spend is computed like the admin page does: every usage entry's units times
// the unit price Mistral lists for its billing metric and group. The usage
// report comes from /api/billing/v2/usage; when that answers a server error
// (Mistral moved its usage page to tRPC procedures), the same figures are
// taken from the page's usage.prices / usage.costTimeseries procedures.

var NAME = "Mistral";
var ADMIN = "https://admin.mistral.ai";
var ENV = ["MISTRAL_COOKIE"];
var TOKEN_GROUPS = { input: true, output: true, cached: true };
var TOKEN_EVENT = "api_tokens";
var SYMBOLS = { EUR: "€", USD: "$", GBP: "£" };

// ---- session ---------------------------------------------------------------------------
function session(ctx) {
  var found = ctx.websession.require({ name: NAME, env: ENV });
  var pairs = found.header ? ctx.cookieAuth.parse(found.header) : [];
  var ory = pairs.filter(function (p) { return /^ory_session_/.test(p[0]); });
  if (!ory.length) {
    ctx.util.fail(
      "missing-auth",
      "Mistral cookie header is invalid (needs an ory_session_* cookie from admin.mistral.ai). Run `" +
        ctx.websession.importCommand() + "`, or copy the Cookie header of an admin.mistral.ai request."
    );
  }
  return { header: found.header, csrf: ctx.cookieAuth.get(found.header, "csrftoken") };
}

function get(ctx, s, path, referer, timeoutMs) {
  var headers = {
    Cookie: s.header,
    Accept: "*/*",
    Origin: ADMIN,
    Referer: ADMIN + (referer || "/organization/usage"),
    "User-Agent": ctx.websession.BROWSER_UA,
  };
  if (s.csrf) headers["X-CSRFTOKEN"] = s.csrf;
  return ctx.host.http.request({ method: "GET", url: ADMIN + path, headers: headers, timeoutMs: timeoutMs || 20000 });
}

// ---- prices -----------------------------------------------------------------------------
// Prices keyed by billing metric and group; one metric/group may be priced for
// several event types (tokens, audio seconds ...), zones and service tiers.
function priceIndex(ctx, prices) {
  var rows = {};
  for (var i = 0; i < (prices || []).length; i++) {
    var p = prices[i] || {};
    var metric = ctx.util.text(p.billing_metric || p.billingMetric);
    var group = ctx.util.text(p.billing_group || p.billingGroup);
    var value = ctx.num.of(p.price);
    if (!metric || !group || value === null) continue;
    var key = metric + "::" + group;
    (rows[key] = rows[key] || []).push({
      eventType: ctx.util.text(p.event_type || p.eventType) || null,
      zone: p.api_zone || p.apiZone || null,
      tier: p.service_tier || p.serviceTier || null,
      price: value,
    });
  }
  function eventTypeFor(metric, group, explicit) {
    if (explicit) return explicit;
    var list = rows[metric + "::" + group] || [];
    var types = {};
    list.forEach(function (r) { if (r.eventType) types[r.eventType] = true; });
    var names = Object.keys(types);
    if (names.length === 1) return names[0];
    if (TOKEN_GROUPS[group] && types[TOKEN_EVENT]) return TOKEN_EVENT;
    return null;
  }
  function price(metric, group, explicit, zone, tier) {
    var list = rows[metric + "::" + group] || [];
    var event = eventTypeFor(metric, group, explicit);
    var usable = list.filter(function (r) { return event === null || r.eventType === null || r.eventType === event; });
    if (!usable.length) return null;
    var wantZone = zone || "global";
    var wantTier = tier || "standard";
    var rank = function (r) { return (r.zone && r.zone !== wantZone ? 2 : 0) + (r.tier && r.tier !== wantTier ? 1 : 0); };
    usable.sort(function (a, b) { return rank(a) - rank(b); });
    return usable[0].price;
  }
  return { price: price, eventTypeFor: eventTypeFor };
}

function totals() {
  return { cost: 0, input: 0, output: 0, cached: 0, entries: 0 };
}

function addEntry(t, index, e) {
  t.entries += 1;
  var p = index.price(e.metric, e.group, e.eventType, e.zone, e.tier);
  if (p !== null && isFinite(e.units)) t.cost += e.units * p;
  var event = index.eventTypeFor(e.metric, e.group, e.eventType);
  if (TOKEN_GROUPS[e.group] && (event === null || event === TOKEN_EVENT)) t[e.group] += e.tokens;
}

// ---- /api/billing/v2/usage ----------------------------------------------------------------
// Every array of usage entries anywhere in the report; the lane (input,
// output, cached) is the key that holds the array.
function collectEntries(ctx, value, lane, out, depth) {
  if (!value || typeof value !== "object" || depth > 8) return;
  if (Array.isArray(value)) {
    for (var i = 0; i < value.length; i++) {
      var e = value[i];
      if (e && typeof e === "object" && (e.billing_metric || e.billingMetric)) out.push({ lane: lane, e: e });
    }
    return;
  }
  var keys = Object.keys(value);
  for (var k = 0; k < keys.length; k++) {
    if (keys[k] === "prices") continue;
    collectEntries(ctx, value[keys[k]], keys[k], out, depth + 1);
  }
}

function fromReport(ctx, report) {
  if (!Array.isArray(report.prices) && !report.completion) {
    ctx.util.fail("failed", "Unexpected response from " + NAME + " billing usage: missing prices.");
  }
  var index = priceIndex(ctx, report.prices);
  var found = [];
  collectEntries(ctx, report, null, found, 0);
  var t = totals();
  for (var i = 0; i < found.length; i++) {
    var e = found[i].e;
    var paid = ctx.num.of(e.value_paid);
    var value = ctx.num.of(e.value) || 0;
    addEntry(t, index, {
      metric: ctx.util.text(e.billing_metric || e.billingMetric),
      group: ctx.util.text(e.billing_group || e.billingGroup) || found[i].lane,
      eventType: ctx.util.text(e.event_type || e.eventType) || null,
      units: paid !== null ? paid : value,
      tokens: value,
    });
  }
  t.currency = ctx.util.text(report.currency).toUpperCase() || "EUR";
  t.symbol = ctx.util.text(report.currency_symbol) || SYMBOLS[t.currency] || "";
  t.vibeUsage = report.vibe_usage;
  return t;
}

// ---- tRPC (the current usage page) --------------------------------------------------------
function trpc(ctx, s, procedure, input) {
  var path = "/api/local-trpc/" + procedure + "?batch=1&input=" + encodeURIComponent(JSON.stringify({ 0: input }));
  var resp = get(ctx, s, path);
  var data = ctx.websession.json(resp, { name: NAME });
  var first = Array.isArray(data) ? data[0] : data;
  if (first && first.error) ctx.util.fail("failed", NAME + " usage procedure " + procedure + " answered an error.");
  var json = first && first.result && first.result.data ? first.result.data.json : undefined;
  if (json === undefined || json === null) ctx.util.fail("failed", "Unexpected response from " + NAME + " " + procedure + ": missing result.");
  return json;
}

function fromTrpc(ctx, s, nowMs) {
  var me = ctx.websession.json(get(ctx, s, "/api/users/me"), { name: NAME });
  var workspace = ctx.util.text(me && me.workspace && me.workspace.uuid);
  if (!workspace) ctx.util.fail("failed", "Unexpected response from " + NAME + ": missing workspace.uuid.");
  var month = ctx.calendar.month(nowMs);
  var prices = trpc(ctx, s, "usage.prices", { json: { workspaceId: workspace } });
  var usage = trpc(ctx, s, "usage.costTimeseries", {
    json: { start: new Date(month.start).toISOString(), end: new Date(month.end - 1).toISOString(), granularity: "day" },
    meta: { values: { start: ["Date"], end: ["Date"] } },
  });
  if (usage.metadata && usage.metadata.hasMore) ctx.util.fail("failed", NAME + " usage is paginated; refusing to show a partial month.");
  if (!Array.isArray(usage.groups)) ctx.util.fail("failed", "Unexpected response from " + NAME + " usage.costTimeseries: missing groups.");
  var index = priceIndex(ctx, prices.prices);
  var t = totals();
  for (var i = 0; i < usage.groups.length; i++) {
    var row = usage.groups[i] || {};
    var metric = ctx.util.text(row.billingMetric);
    var group = ctx.util.text(row.billingGroup);
    if (!metric || !group) continue;
    var units = ctx.num.of(row.value) || 0;
    addEntry(t, index, { metric: metric, group: group, eventType: null, units: units, tokens: units, zone: row.apiZone, tier: row.serviceTier });
  }
  t.currency = ctx.util.text(prices.currency).toUpperCase() || "EUR";
  t.symbol = SYMBOLS[t.currency] || "";
  t.vibeUsage = null;
  return t;
}

// ---- budgets (/api/billing/v2/budget) --------------------------------------------------------
function budgetLine(ctx, label, b) {
  if (!b || typeof b !== "object") return null;
  var pct = ctx.num.of(b.usage_percentage);
  var limit = ctx.num.of(b.initial_budget);
  if (pct === null || pct < 0 || limit === null || !(limit > 0)) return null;
  var reset = ctx.util.parseDateMs(b.reset_at);
  var currency = ctx.util.text(b.currency).trim().toUpperCase() || "EUR";
  return ctx.calendar.monthlyProgress({
    label: label,
    used: (limit * pct) / 100,
    limit: limit,
    format: currency === "USD" ? { kind: "dollars" } : { kind: "dollars", currency: currency },
    resetMs: reset,
  });
}

function money(symbol, currency, amount) {
  var text = Math.max(0, amount).toFixed(4);
  return symbol ? symbol + text : text + " " + currency;
}

globalThis.__usagestat_plugin = {
  id: "mistral",
  probe: function (ctx) {
    if (ctx.sourceMode !== "auto" && ctx.sourceMode !== "web") {
      ctx.util.fail("unsupported", NAME + " billing is read through admin.mistral.ai only (source web).");
    }
    var s = session(ctx);
    var nowMs = Date.now();
    var now = new Date(nowMs);
    var resp = get(ctx, s, "/api/billing/v2/usage?month=" + (now.getUTCMonth() + 1) + "&year=" + now.getUTCFullYear());
    var t;
    if (resp.status >= 500 || resp.status === 404) {
      t = fromTrpc(ctx, s, nowMs);
    } else {
      t = fromReport(ctx, ctx.websession.json(resp, { name: NAME }));
    }
    var metrics = [];
    var budgets = null;
    try {
      var b = get(ctx, s, "/api/billing/v2/budget", "/organization/billing", 8000);
      if (b.status >= 200 && b.status < 300) budgets = ctx.util.tryParseJson(b.bodyText);
    } catch (e) {
      budgets = null; // optional
    }
    var vibe = budgets ? budgetLine(ctx, "Monthly Plan", budgets.vibe_budget) : null;
    var api = budgets ? budgetLine(ctx, "API budget", budgets.api_budget) : null;
    if (vibe) metrics.push(vibe);
    if (api) metrics.push(api);
    metrics.push(ctx.line.text({ label: "Monthly spend", value: money(t.symbol, t.currency, t.cost) + " this month" }));
    if (t.input + t.output + t.cached > 0) {
      metrics.push(ctx.line.text({
        label: "Tokens",
        value: ctx.fmt.tokens(t.input) + " in · " + ctx.fmt.tokens(t.output) + " out · " + ctx.fmt.tokens(t.cached) + " cached",
        detail: true,
      }));
    }
    var isVibe = !!vibe || (t.vibeUsage !== null && t.vibeUsage !== undefined);
    return { source: "web", plan: isVibe ? "Vibe" : "API", metrics: metrics };
  },
};
