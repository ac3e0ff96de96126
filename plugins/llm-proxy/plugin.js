// LLM Proxy: usage of a self-hosted OpenAI-compatible proxy. Two flavours:
//  - "quota-stats": an LLM-API-Key-Proxy-compatible GET /v1/quota-stats
//    (per-provider credential pools, remaining quota percent, requests, cost);
//  - "litellm": a LiteLLM proxy's own budget data for the virtual key in use
//    (GET /key/info, then /user/info or /team/info) — never the master key.
// settings.flavor picks one; by default quota-stats is tried and a 404 there
// falls back to LiteLLM (LITELLM_* variables select LiteLLM directly).
var PROVIDER = "LLM proxy";
var MS = { m: 60000, h: 3600000, d: 86400000, w: 604800000 };

function setup(ctx) {
  var settings = ctx.provider.settings || {};
  var flavor = settings.flavor ? String(settings.flavor).trim().toLowerCase() : null;
  if (flavor && flavor !== "litellm" && flavor !== "quota-stats") {
    ctx.util.fail("failed", "Unknown settings.flavor \"" + settings.flavor + "\": use \"quota-stats\" or \"litellm\".");
  }
  var key = ctx.creds.apiKey({ env: ["LLM_PROXY_API_KEY", "LLMPROXY_API_KEY", "LITELLM_API_KEY"] });
  var rawBase = ctx.provider.baseUrl;
  var baseSource = "baseUrl";
  if (!rawBase) {
    var env = ctx.creds.env(["LLM_PROXY_BASE_URL", "LLM_PROXY_API_URL", "LITELLM_BASE_URL"]);
    if (env) {
      rawBase = env.value;
      baseSource = env.name;
    }
  }
  if (!rawBase) {
    ctx.util.fail("missing-auth", "No proxy address: set baseUrl in the config (e.g. https://llm.example.com) or LLM_PROXY_BASE_URL / LITELLM_BASE_URL.");
  }
  if (!key) {
    ctx.util.fail("missing-auth", "No proxy API key: set apiKey in the config or LLM_PROXY_API_KEY (LiteLLM: LITELLM_API_KEY, a virtual key sk-…).");
  }
  if (!flavor && (baseSource === "LITELLM_BASE_URL" || key.source === "env LITELLM_API_KEY")) flavor = "litellm";
  return {
    key: key.value,
    base: ctx.keyapi.baseUrl(rawBase, { name: PROVIDER, what: baseSource, strip: ["/v1"] }),
    flavor: flavor,
  };
}

function get(ctx, s, path, pass) {
  return ctx.keyapi.getJson({
    url: s.base + path,
    headers: { Authorization: "Bearer " + s.key, Accept: "application/json" },
    name: PROVIDER,
    loginHint: "The proxy rejected the key.",
    pass: pass,
  });
}

// ---- quota-stats -----------------------------------------------------------------
function groupsOf(q) {
  if (Array.isArray(q)) return q;
  if (!q || typeof q !== "object") return [];
  return Object.keys(q).map(function (name) {
    var g = q[name] || {};
    return { name: g.name || name, remaining_percent: g.remaining_percent, reset_time: g.reset_time };
  });
}

function quotaStats(ctx, data) {
  var providers = ctx.util.requireField(data, "providers", PROVIDER);
  if (!providers || typeof providers !== "object") ctx.util.fail("failed", "Unexpected response from the LLM proxy: providers is not an object.");
  var names = Object.keys(providers);
  var lowest = null;
  for (var i = 0; i < names.length; i++) {
    var groups = groupsOf(providers[names[i]] && providers[names[i]].quota_groups);
    for (var g = 0; g < groups.length; g++) {
      var left = ctx.num.of(groups[g] && groups[g].remaining_percent);
      if (left !== null && (lowest === null || left < lowest.left)) {
        lowest = { left: left, provider: names[i], group: groups[g].name, reset: groups[g].reset_time };
      }
    }
  }
  var metrics = [];
  if (lowest) {
    metrics.push(
      ctx.line.progress({
        label: "Quota",
        used: ctx.util.clampPercent(100 - lowest.left),
        limit: 100,
        format: { kind: "percent" },
        resetsAt: ctx.util.toIso(lowest.reset) || undefined,
      })
    );
    metrics.push(ctx.line.text({ label: "Lowest quota", value: lowest.provider + (lowest.group ? " / " + lowest.group : ""), detail: true }));
  }
  var summary = data.summary || {};
  var requests = ctx.num.of(summary.total_requests);
  var tokens = ctx.num.of(summary.total_tokens);
  var cost = ctx.num.of(summary.approx_cost);
  if (requests !== null) metrics.push(ctx.line.text({ label: "Requests", value: ctx.num.grouped(requests) }));
  if (tokens !== null) metrics.push(ctx.line.text({ label: "Tokens", value: ctx.fmt.tokens(tokens) }));
  if (cost !== null) metrics.push(ctx.line.text({ label: "Cost", value: ctx.amounts.text(cost, "USD", { approx: true }), subtitle: "Approximate, as estimated by the proxy" }));
  var busiest = names.slice().sort(function (a, b) {
    return (ctx.num.of((providers[b] || {}).total_requests) || 0) - (ctx.num.of((providers[a] || {}).total_requests) || 0);
  }).slice(0, 3);
  for (var b = 0; b < busiest.length; b++) {
    var p = providers[busiest[b]] || {};
    var parts = [ctx.num.grouped(ctx.num.of(p.total_requests) || 0) + " requests"];
    var total = ctx.num.of(p.credential_count);
    var active = ctx.num.of(p.active_count);
    if (total !== null && active !== null) parts.push(active + "/" + total + " credentials active");
    var exhausted = ctx.num.of(p.exhausted_count);
    if (exhausted) parts.push(exhausted + " exhausted");
    metrics.push(ctx.line.text({ label: busiest[b], value: parts.join(" · "), detail: true, color: exhausted ? "amber" : undefined }));
  }
  if (!metrics.length) metrics.push(ctx.line.badge({ label: "Quota", text: "No providers configured", color: "grey" }));
  return { source: "api", plan: "Quota stats", metrics: metrics };
}

// ---- LiteLLM ------------------------------------------------------------------------
// "30d", "1h", "7d", "1mo" -> {ms} or {months}; null when unknown.
function duration(text) {
  var m = /^\s*(\d+(?:\.\d+)?)\s*(mo|m|h|d|w)\s*$/i.exec(String(text || ""));
  if (!m) return null;
  var unit = m[2].toLowerCase();
  if (unit === "mo") return { months: Number(m[1]) };
  return { ms: Number(m[1]) * MS[unit] };
}

function budgetLine(ctx, label, o, detail) {
  var spend = ctx.num.of(o.spend);
  var cap = ctx.num.of(o.max_budget);
  if (spend === null || cap === null || !(cap > 0)) return null;
  var resetMs = ctx.util.parseDateMs(o.budget_reset_at);
  var d = duration(o.budget_duration);
  var period;
  if (d && d.ms) period = d.ms;
  else if (d && d.months && resetMs !== null) period = resetMs - ctx.calendar.addMonths(resetMs, -d.months);
  return ctx.line.progress({
    label: label,
    used: spend,
    limit: cap,
    format: ctx.amounts.format("USD"),
    resetsAt: resetMs === null ? undefined : ctx.util.toIso(resetMs),
    periodDurationMs: period,
    detail: detail,
  });
}

function liteLlm(ctx, s, keyData) {
  var data = keyData || get(ctx, s, "/key/info").data;
  var info = ctx.util.requireField(data, "info", PROVIDER) || {};
  var metrics = [];
  var user = null;
  var team = null;
  // Extra lookups whose failure only drops their lines.
  var optional = function (path, params) {
    return ctx.keyapi.optionalJson({
      url: s.base + path + "?" + ctx.keyapi.query(params),
      headers: { Authorization: "Bearer " + s.key, Accept: "application/json" },
      name: PROVIDER,
    }).data;
  };
  if (info.user_id) {
    var u = optional("/user/info", { user_id: info.user_id });
    user = u && u.user_info && typeof u.user_info === "object" ? u.user_info : null;
    var teams = u && Array.isArray(u.teams) ? u.teams : [];
    for (var i = 0; i < teams.length && info.team_id; i++) if (teams[i] && teams[i].team_id === info.team_id) team = teams[i];
  }
  if (!team && info.team_id && !user) {
    var t = optional("/team/info", { team_id: info.team_id });
    team = t && t.team_info && typeof t.team_info === "object" ? t.team_info : null;
  }
  var primary = user || info;
  var main = budgetLine(ctx, "Budget", primary, false);
  if (main) metrics.push(main);
  if (user) {
    var keyBudget = budgetLine(ctx, "Key budget", info, true);
    if (keyBudget) metrics.push(keyBudget);
  }
  if (team) {
    var teamBudget = budgetLine(ctx, "Team budget", team, false);
    if (teamBudget) metrics.push(teamBudget);
    else if (ctx.num.of(team.spend) !== null) {
      metrics.push(ctx.line.text({ label: "Team spend", value: ctx.amounts.text(ctx.num.of(team.spend), "USD"), detail: true }));
    }
  }
  var spend = ctx.num.of(primary.spend);
  if (!main && spend !== null) {
    metrics.push(ctx.line.text({ label: "Spend", value: ctx.amounts.text(spend, "USD"), subtitle: "No budget set for this " + (user ? "user" : "key") }));
  }
  if (!metrics.length) ctx.util.fail("failed", "Unexpected response from LiteLLM: no spend in /key/info.");
  var alias = info.key_alias || info.key_name;
  return { source: "api", plan: "LiteLLM" + (typeof alias === "string" && alias ? " · " + alias : ""), metrics: metrics };
}

function probe(ctx) {
  var s = setup(ctx);
  if (s.flavor === "litellm") return liteLlm(ctx, s, null);
  var stats = get(ctx, s, "/v1/quota-stats", s.flavor ? undefined : [404]);
  if (stats.data) return quotaStats(ctx, stats.data);
  // No quota-stats endpoint: a LiteLLM proxy answers /key/info for its keys.
  var keyInfo = get(ctx, s, "/key/info", [404]);
  if (!keyInfo.data) {
    ctx.util.fail("failed", "The proxy at " + s.base + " has neither /v1/quota-stats nor LiteLLM's /key/info (HTTP 404); set settings.flavor if it is one of them.");
  }
  return liteLlm(ctx, s, keyInfo.data);
}

globalThis.__usagestat_plugin = { id: "llm-proxy", probe: probe };
