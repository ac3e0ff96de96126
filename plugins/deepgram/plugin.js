// Deepgram: prepaid project balances and this month's usage (requests, audio
// hours, agent hours, tokens, TTS characters) from the Management API.
var PROVIDER = "Deepgram";
var MAX_PROJECTS = 10;

function get(ctx, base, key, path) {
  return ctx.host.http.request({
    method: "GET",
    url: base + path,
    headers: { Authorization: "Token " + key, Accept: "application/json" },
    timeoutMs: 10000,
  });
}

function fixed(n, digits) {
  return Number(n).toFixed(digits).replace(/\.?0+$/, "");
}

function probe(ctx) {
  var key = ctx.provider.apiKey || ctx.creds.envValue("DEEPGRAM_API_KEY");
  if (!key) {
    ctx.util.fail("missing-auth", "No Deepgram API key: set apiKey in the config or DEEPGRAM_API_KEY (console.deepgram.com → API Keys).");
  }
  var base = (ctx.provider.baseUrl || "https://api.deepgram.com").replace(/\/+$/, "").replace(/\/v1$/, "") + "/v1";
  var hint = "Deepgram API key invalid or lacking access (the Management API needs an Owner/Admin key).";
  var configured = ctx.provider.workspaceId || ctx.creds.envValue("DEEPGRAM_PROJECT_ID");

  var projects;
  if (configured) {
    projects = [{ project_id: configured, name: null }];
  } else {
    var resp = get(ctx, base, key, "/projects");
    ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: hint });
    var list = ctx.util.requireField(ctx.util.expectJson(resp, PROVIDER), "projects", PROVIDER);
    if (!Array.isArray(list)) ctx.util.fail("failed", "Unexpected response from Deepgram: projects is not a list.");
    if (list.length === 0) return { source: "api", metrics: [ctx.line.badge({ label: "Projects", text: "No projects for this key", color: "grey" })] };
    projects = list.slice(0, MAX_PROJECTS);
  }

  var now = Date.now();
  var start = ctx.calendar.ymd(ctx.calendar.monthStart(now));
  var end = ctx.calendar.ymd(now);
  var balances = {}; // units -> amount
  var balanceDenied = 0;
  var usageDenied = 0;
  var totals = { requests: 0, hours: 0, total_hours: 0, agent_hours: 0, tokens: 0, tts: 0 };
  var usageSeen = 0;

  for (var i = 0; i < projects.length; i++) {
    var id = ctx.util.text(projects[i] && projects[i].project_id);
    if (!id) continue;
    var pid = encodeURIComponent(id);

    var b = get(ctx, base, key, "/projects/" + pid + "/balances");
    if (b.status === 404 && configured) ctx.util.fail("failed", "Deepgram project " + id + " was not found for this key (check workspaceId / DEEPGRAM_PROJECT_ID).");
    if (b.status === 403) balanceDenied++;
    else {
      ctx.util.checkResponse(b, { name: PROVIDER, loginHint: hint });
      var bl = ctx.util.requireField(ctx.util.expectJson(b, PROVIDER), "balances", PROVIDER) || [];
      for (var j = 0; j < bl.length; j++) {
        var units = ctx.util.text(bl[j].units, "usd").toUpperCase() || "USD";
        balances[units] = (balances[units] || 0) + ctx.num.of(bl[j].amount, 0);
      }
    }

    var u = get(ctx, base, key, "/projects/" + pid + "/usage/breakdown?start=" + start + "&end=" + end);
    if (u.status === 403) usageDenied++;
    else {
      ctx.util.checkResponse(u, { name: PROVIDER, loginHint: hint });
      var results = ctx.util.requireField(ctx.util.expectJson(u, PROVIDER), "results", PROVIDER) || [];
      usageSeen++;
      for (var k = 0; k < results.length; k++) {
        var r = results[k] || {};
        totals.requests += ctx.num.of(r.requests, 0);
        totals.hours += ctx.num.of(r.hours, 0);
        totals.total_hours += ctx.num.of(r.total_hours, 0);
        totals.agent_hours += ctx.num.of(r.agent_hours, 0);
        totals.tokens += ctx.num.of(r.tokens_in, 0) + ctx.num.of(r.tokens_out, 0);
        totals.tts += ctx.num.of(r.tts_characters, 0);
      }
    }
  }

  var count = projects.length;
  if (balanceDenied === count && usageDenied === count) {
    ctx.util.fail("credential-denied", "The Deepgram key lacks usage:read and billing access for its projects (use an Owner/Admin key).");
  }

  var metrics = [];
  var unitNames = Object.keys(balances).sort(function (a, b) { return (a === "USD" ? 0 : 1) - (b === "USD" ? 0 : 1); });
  for (var n = 0; n < unitNames.length; n++) {
    var un = unitNames[n];
    var value = /^[A-Z]{3}$/.test(un) ? ctx.fmt.money(balances[un], un) : fixed(balances[un], 2) + " " + un.toLowerCase();
    metrics.push(ctx.line.text({ label: n === 0 ? "Balance" : "Balance (" + un.toLowerCase() + ")", value: value, detail: n > 0 }));
  }
  if (balanceDenied > 0) {
    metrics.push(ctx.line.text({ label: "Balance access", value: "key lacks billing read on " + balanceDenied + " of " + count + " project(s)", detail: true }));
  }
  if (usageSeen > 0) {
    metrics.push(ctx.line.text({ label: "Requests (month)", value: String(Math.round(totals.requests)) }));
    var audio = fixed(totals.hours, 2) + " h";
    if (totals.total_hours && Math.abs(totals.total_hours - totals.hours) > 1e-9) audio += " (billable " + fixed(totals.total_hours, 2) + " h)";
    metrics.push(ctx.line.text({ label: "Audio hours (month)", value: audio }));
    if (totals.agent_hours > 0) metrics.push(ctx.line.text({ label: "Agent hours (month)", value: fixed(totals.agent_hours, 2) + " h", detail: true }));
    if (totals.tokens > 0) metrics.push(ctx.line.text({ label: "Tokens (month)", value: ctx.fmt.tokens(totals.tokens), detail: true }));
    if (totals.tts > 0) metrics.push(ctx.line.text({ label: "TTS characters (month)", value: ctx.fmt.tokens(totals.tts), detail: true }));
  }
  if (usageDenied > 0) {
    metrics.push(ctx.line.text({ label: "Usage access", value: "key lacks usage:read on " + usageDenied + " of " + count + " project(s)", detail: true }));
  }
  var projectLabel = count === 1 ? (projects[0].name || projects[0].project_id) : count + " projects";
  metrics.push(ctx.line.text({ label: "Project", value: projectLabel, detail: true }));
  return { source: "api", metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "deepgram", probe: probe };
