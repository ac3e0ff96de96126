// Synthetic (synthetic.new): the subscription's rolling five-hour request
// limit, the weekly token "mana bar" (a regenerating credit pool), and the
// hourly search allowance, from GET /v2/quotas. The key comes from the config
// or SYNTHETIC_API_KEY (`api`), or from a coding agent configured for
// Synthetic (`local`: pi, Factory Droid, OpenCode).
var PROVIDER = "Synthetic";
var URL_QUOTAS = "https://api.synthetic.new/v2/quotas";
var HOUR_MS = 3600000;
var NAMES = ["synthetic", "synthetic.new", "syn"];

function piDir(ctx) {
  var dir = ctx.creds.env(["PI_CODING_AGENT_DIR"]);
  return dir ? dir.value.replace(/[\\/]+$/, "") : "~/.pi/agent";
}

// The key stored under a provider entry named synthetic / synthetic.new / syn
// (names with a dot, so no dotted-path lookup): a string or {key | apiKey}.
function entryKey(obj) {
  if (!obj || typeof obj !== "object") return null;
  for (var i = 0; i < NAMES.length; i++) {
    var e = obj[NAMES[i]];
    var v = typeof e === "string" ? e : e && typeof e === "object" ? e.key || e.apiKey : null;
    if (typeof v === "string" && v.trim()) return v.trim();
  }
  return null;
}

// A key that Factory Droid keeps for a custom model served by synthetic.new.
function factoryKey(models) {
  if (!Array.isArray(models)) return null;
  for (var i = 0; i < models.length; i++) {
    var m = models[i] || {};
    var host = String(m.baseUrl || m.base_url || "").replace(/^[a-z]+:\/\//i, "").split(/[/:?#]/)[0].toLowerCase();
    var onSynthetic = host === "synthetic.new" || /\.synthetic\.new$/.test(host);
    if (onSynthetic && typeof m.apiKey === "string" && m.apiKey.trim()) return m.apiKey.trim();
  }
  return null;
}

// Agent files, in order: pi auth.json, pi models.json, Factory settings, OpenCode auth.json.
function localKey(ctx) {
  var dir = piDir(ctx);
  var opencode = ctx.creds.xdgDataHome() + "/opencode/auth.json";
  var sources = [
    [dir + "/auth.json", function (d) { return entryKey(d); }],
    [dir + "/models.json", function (d) { return entryKey(d.providers); }],
    ["~/.factory/settings.json", function (d) { return factoryKey(d.customModels); }],
    [opencode, function (d) { return entryKey(d); }],
  ];
  for (var i = 0; i < sources.length; i++) {
    var file = ctx.creds.readJson(sources[i][0]);
    var value = file ? sources[i][1](file.data) : null;
    if (value) return { value: value, source: sources[i][0] };
  }
  return null;
}

// The key and the mode it counts as: config/env -> api, agent files -> local.
function findKey(ctx) {
  var mode = ctx.sourceMode;
  if (mode !== "local") {
    var direct = ctx.creds.apiKey({ env: ["SYNTHETIC_API_KEY"] });
    if (direct) return { key: direct, source: "api" };
    if (mode === "api") {
      ctx.util.fail("missing-auth", "No Synthetic API key: set apiKey in the config or SYNTHETIC_API_KEY (synthetic.new → API keys).");
    }
  }
  var local = localKey(ctx);
  if (local) return { key: local, source: "local" };
  ctx.util.fail(
    "missing-auth",
    "No Synthetic API key: set apiKey in the config or SYNTHETIC_API_KEY, or configure Synthetic in pi (~/.pi/agent/auth.json), Factory Droid or OpenCode."
  );
}

function pick(root, data, name) {
  var v = root[name];
  if ((v === undefined || v === null) && data) v = data[name];
  return v && typeof v === "object" ? v : null;
}

function percent(v) {
  return v === null ? null : v <= 1 ? v * 100 : v;
}

function countLine(ctx, label, used, limit, suffix, reset, periodMs, detail) {
  if (used === null || limit === null || !(limit > 0)) return null;
  return ctx.line.progress({
    label: label,
    used: Math.max(0, used),
    limit: limit,
    format: { kind: "count", suffix: suffix },
    resetsAt: ctx.util.toIso(reset) || undefined,
    periodDurationMs: periodMs,
    detail: detail,
  });
}

function probe(ctx) {
  var found = findKey(ctx);
  var data = ctx.keyapi.getJson({
    url: URL_QUOTAS,
    headers: { Authorization: "Bearer " + found.key.value, Accept: "application/json" },
    name: PROVIDER,
    loginHint: "Invalid Synthetic API credentials" + (found.source === "local" ? " (key read from " + found.key.source + ")." : "."),
  }).data;
  var inner = data.data && typeof data.data === "object" ? data.data : null;
  var metrics = [];

  var rolling = pick(data, inner, "rollingFiveHourLimit");
  var weekly = pick(data, inner, "weeklyTokenLimit");
  var search = pick(data, inner, "search");
  if (rolling) {
    var max = ctx.num.of(rolling.max);
    var left = ctx.num.of(rolling.remaining);
    var line = countLine(ctx, "5h rate limit", max === null || left === null ? null : max - left, max, "requests", rolling.nextTickAt, 5 * HOUR_MS);
    if (line) metrics.push(line);
    if (rolling.limited === true) metrics.push(ctx.line.badge({ label: "Rate limited", text: "Rate limited", color: "red" }));
  }
  if (weekly) {
    var remainingPct = percent(ctx.num.first(weekly, ["percentRemaining", "remainingPercent"]));
    if (remainingPct !== null) {
      metrics.push(
        ctx.line.progress({
          label: "Weekly",
          used: ctx.util.clampPercent(100 - remainingPct),
          limit: 100,
          format: { kind: "percent" },
          resetsAt: ctx.util.toIso(weekly.nextRegenAt) || undefined,
          periodDurationMs: 7 * 24 * HOUR_MS,
        })
      );
    }
    var maxCredits = ctx.num.of(ctx.util.text(weekly.maxCredits).replace(/\$/g, ""));
    var leftCredits = ctx.num.of(ctx.util.text(weekly.remainingCredits).replace(/\$/g, ""));
    if (maxCredits !== null && leftCredits !== null) {
      metrics.push(
        ctx.line.text({
          label: "Weekly credits",
          value: ctx.amounts.text(leftCredits, "USD") + " of " + ctx.amounts.text(maxCredits, "USD") + " left",
          detail: true,
        })
      );
    }
  }
  var hourly = search && search.hourly && typeof search.hourly === "object" ? search.hourly : null;
  if (hourly) {
    var s = countLine(ctx, "Search", ctx.num.of(hourly.requests), ctx.num.of(hourly.limit), "searches", hourly.renewsAt, HOUR_MS, true);
    if (s) metrics.push(s);
  }
  if (!rolling && !weekly) {
    // Older accounts: per-subscription request counts.
    var legacy = [["subscription", "Subscription", "requests"], ["freeToolCalls", "Free tool calls", "calls"]];
    for (var i = 0; i < legacy.length; i++) {
      var q = pick(data, inner, legacy[i][0]);
      if (!q) continue;
      var l = countLine(ctx, legacy[i][1], ctx.num.of(q.requests), ctx.num.of(q.limit), legacy[i][2], q.renewsAt, undefined, i > 0);
      if (l) metrics.push(l);
    }
  }
  if (!metrics.length) ctx.util.fail("failed", "Unexpected response from Synthetic: no quota lanes (rollingFiveHourLimit, weeklyTokenLimit, subscription).");
  var plan = null;
  var keys = ["plan", "planName", "tier"];
  for (var k = 0; k < keys.length && !plan; k++) {
    var p = data[keys[k]] || (inner && inner[keys[k]]);
    if (typeof p === "string" && p.trim()) plan = ctx.fmt.planLabel(p);
  }
  return { source: found.source, plan: plan || undefined, metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "synthetic", probe: probe };
