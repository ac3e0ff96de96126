// OpenAI API platform: pay-as-you-go spend from the organization Costs API
// (today, last 7 days, this month) and this month's tokens from the Usage
// API. Both need an organization Admin key (sk-admin-…); the platform exposes
// no prepaid balance or org spend limit, so a budget bar appears only when the
// user sets settings.monthlyBudget. Not ChatGPT/Codex plan limits (`codex`).
var PROVIDER = "OpenAI";
var BASE = "https://api.openai.com/v1/organization";
var DAY_MS = 86400000;
var MAX_PAGES = 6;
var KEY_ENV = ["OPENAI_ADMIN_KEY", "OPENAI_API_KEY", "OPENAI_PLATFORM_API_KEY"];

function adminHint(key) {
  var base = "OpenAI usage needs an organization Admin key (sk-admin-…, Settings → Organization → Admin keys); project and service-account keys cannot read it.";
  return /^sk-admin-/.test(key) ? "Check that the Admin key is active and belongs to this organization." : base;
}

// Every bucket of a paginated organization endpoint.
function buckets(ctx, path, params, headers, hint) {
  var out = [];
  var page = null;
  for (var i = 0; i < MAX_PAGES; i++) {
    var q = {};
    var names = Object.keys(params);
    for (var n = 0; n < names.length; n++) q[names[n]] = params[names[n]];
    if (page) q.page = page;
    var data = ctx.keyapi.getJson({
      url: BASE + path + "?" + ctx.keyapi.query(q),
      headers: headers,
      name: PROVIDER,
      loginHint: hint,
    }).data;
    var list = ctx.util.requireField(data, "data", PROVIDER + " " + path);
    if (!Array.isArray(list)) ctx.util.fail("failed", "Unexpected response from OpenAI " + path + ": data is not a list.");
    out = out.concat(list);
    page = data.has_more ? ctx.util.text(data.next_page) : "";
    if (!page) break;
  }
  return out;
}

function probe(ctx) {
  var key = ctx.creds.apiKey({ env: KEY_ENV });
  if (!key) {
    ctx.util.fail("missing-auth", "No OpenAI Admin key: set apiKey in the config or OPENAI_ADMIN_KEY (an sk-admin-… key from Settings → Organization → Admin keys).");
  }
  var project = ctx.provider.workspaceId ? String(ctx.provider.workspaceId).trim() : null;
  if (!project) {
    var envProject = ctx.creds.env(["OPENAI_PROJECT_ID"]);
    project = envProject ? envProject.value : null;
  }
  var headers = { Authorization: "Bearer " + key.value, Accept: "application/json" };
  var hint = adminHint(key.value);

  var now = Date.now();
  var today = ctx.calendar.startOfDay(now);
  var month = ctx.calendar.month(now);
  var weekStart = today - 6 * DAY_MS;
  var start = Math.min(month.start, weekStart);
  var days = Math.round((today - start) / DAY_MS) + 1;
  var costs = buckets(ctx, "/costs", {
    start_time: Math.floor(start / 1000),
    bucket_width: "1d",
    limit: days,
    project_ids: project,
  }, headers, hint);

  var sums = { today: 0, week: 0, month: 0 };
  var currency = "USD";
  for (var i = 0; i < costs.length; i++) {
    var b = costs[i] || {};
    var at = ctx.num.of(b.start_time);
    if (at === null) continue;
    at *= 1000;
    var results = Array.isArray(b.results) ? b.results : [];
    for (var r = 0; r < results.length; r++) {
      var amount = results[r] && results[r].amount;
      var value = amount ? ctx.num.of(amount.value) : null;
      if (value === null) continue;
      currency = ctx.amounts.code(amount.currency, currency);
      if (at >= today) sums.today += value;
      if (at >= weekStart) sums.week += value;
      if (at >= month.start) sums.month += value;
    }
  }

  var money = function (v) { return ctx.amounts.text(v, currency); };
  var metrics = [];
  var settings = ctx.provider.settings || {};
  var budget = ctx.num.of(settings.monthlyBudget);
  if (budget !== null && budget > 0) {
    metrics.push(
      ctx.line.progress({
        label: "Budget",
        used: sums.month,
        limit: budget,
        format: ctx.amounts.format(currency),
        resetsAt: ctx.util.toIso(month.end),
        periodDurationMs: month.durationMs,
      })
    );
  }
  metrics.push(ctx.line.text({ label: "Today", value: money(sums.today) }));
  metrics.push(ctx.line.text({ label: "Last 7 days", value: money(sums.week) }));
  metrics.push(ctx.line.text({ label: "This month", value: money(sums.month), subtitle: "Costs can lag a few hours" }));

  // Tokens this month (completions): an extra, its failure only drops the lines.
  var usage = ctx.keyapi.optionalJson({
    url: BASE + "/usage/completions?" + ctx.keyapi.query({
      start_time: Math.floor(month.start / 1000),
      bucket_width: "1d",
      limit: Math.round((today - month.start) / DAY_MS) + 1,
      project_ids: project,
    }),
    headers: headers,
    name: PROVIDER,
  }).data;
  if (usage && Array.isArray(usage.data)) {
    var input = 0;
    var output = 0;
    var requests = 0;
    for (var u = 0; u < usage.data.length; u++) {
      var rows = (usage.data[u] && usage.data[u].results) || [];
      for (var k = 0; k < rows.length; k++) {
        input += ctx.num.of(rows[k].input_tokens) || 0;
        output += ctx.num.of(rows[k].output_tokens) || 0;
        requests += ctx.num.of(rows[k].num_model_requests) || 0;
      }
    }
    metrics.push(ctx.line.text({ label: "Tokens (month)", value: ctx.fmt.tokens(input) + " in / " + ctx.fmt.tokens(output) + " out", detail: true }));
    metrics.push(ctx.line.text({ label: "Requests (month)", value: ctx.num.grouped(requests), detail: true }));
  }
  return { source: "api", plan: project ? "Project: " + project : "Admin API", metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "openai-api", probe: probe };
