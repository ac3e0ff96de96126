// Z.ai / Zhipu BigModel GLM Coding Plan: the 5-hour and weekly token (or
// credit) windows and the monthly web-search/MCP allowance, from the quota
// endpoint the console uses. Global (api.z.ai) by default; region "cn" uses
// open.bigmodel.cn, a separate account. Team usage (China) with
// settings.organizationId + workspaceId.
var PROVIDER = "Z.ai";
var HOSTS = { global: "https://api.z.ai", cn: "https://open.bigmodel.cn" };
var GLOBAL_ENV = ["ZAI_API_KEY", "Z_AI_API_KEY", "GLM_API_KEY"];
var CN_ENV = ["BIGMODEL_API_KEY", "ZHIPU_API_KEY", "ZHIPUAI_API_KEY"];
var CN_FILES = ["~/.coding-relay/glm-api-key", "~/.config/bigmodel/api_key", "~/.config/zhipu/api_key"];
var UNIT_MS = { 1: 86400000, 3: 3600000, 5: 60000, 6: 604800000 };
var AUTH_CODES = [401, 1000, 1001, 1002, 1003, 1004];
var RATE_CODES = [429, 1302, 1303];

function fileKey(ctx) {
  for (var i = 0; i < CN_FILES.length; i++) {
    if (!ctx.host.fs.exists(CN_FILES[i])) continue;
    var value = String(ctx.host.fs.readText(CN_FILES[i])).split(/\r?\n/)[0].trim();
    if (value) return { value: value, source: CN_FILES[i] };
  }
  return null;
}

// Config key, then the Z.ai names; the BigModel names and key files imply China.
function findKey(ctx, region) {
  var key = ctx.creds.apiKey({ env: GLOBAL_ENV });
  if (key) return { key: key, region: region.id };
  if (region.explicit && region.id !== "cn") return null;
  var cn = ctx.creds.env(CN_ENV);
  if (cn) return { key: { value: cn.value, source: "env " + cn.name }, region: "cn" };
  var file = fileKey(ctx);
  return file ? { key: file, region: "cn" } : null;
}

function windowLabel(ms) {
  if (ms <= 12 * 3600000) return "Session";
  if (ms <= 2 * 86400000) return "Daily";
  if (ms >= 6 * 86400000 && ms <= 8 * 86400000) return "Weekly";
  if (ms >= 28 * 86400000) return "Monthly";
  return Math.round(ms / 86400000) + "-day";
}

// Percent used of a limit entry: exact from usage (= the cap) and
// remaining/currentValue when sent, else the integer `percentage`.
function usedPercent(ctx, e) {
  var cap = ctx.num.of(e.usage);
  if (cap !== null && cap > 0) {
    var remaining = ctx.num.of(e.remaining);
    var current = ctx.num.of(e.currentValue);
    var used = remaining !== null ? cap - remaining : current;
    if (used !== null) return ctx.util.clampPercent((used / cap) * 100);
  }
  var pct = ctx.num.of(e.percentage);
  return pct === null ? null : ctx.util.clampPercent(pct);
}

function quotaError(ctx, data, regionId) {
  var code = ctx.num.of(data.code);
  var msg = typeof data.msg === "string" && data.msg ? data.msg : "code " + (code === null ? "?" : code);
  if (AUTH_CODES.indexOf(code) >= 0) {
    ctx.util.fail("credential-denied", "Z.ai API key invalid (" + msg + "). Keys only work in their own region; this used " +
      (regionId === "cn" ? "open.bigmodel.cn (region \"cn\")" : "api.z.ai (region \"global\")") + ".");
  }
  if (RATE_CODES.indexOf(code) >= 0) ctx.util.fail("rate-limited", "Z.ai rate limit reached (" + msg + ").", 300);
  ctx.util.fail("failed", "Z.ai quota error: " + msg + ".");
}

function probe(ctx) {
  var region = ctx.keyapi.region({
    name: PROVIDER,
    env: ["Z_AI_REGION"],
    defaultRegion: "global",
    aliases: { cn: ["bigmodel-cn", "bigmodel", "zhipu"] },
    hint: "use \"global\" (api.z.ai) or \"cn\" (open.bigmodel.cn).",
  });
  var found = findKey(ctx, region);
  if (!found) {
    ctx.util.fail(
      "missing-auth",
      "No Z.ai API key: set apiKey in the config or ZAI_API_KEY (z.ai → API keys); for BigModel China set region = \"cn\" and BIGMODEL_API_KEY or ~/.config/zhipu/api_key."
    );
  }
  var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER }) || HOSTS[found.region];
  var headers = { Authorization: "Bearer " + found.key.value, Accept: "application/json" };
  var settings = ctx.provider.settings || {};
  var org = settings.organizationId ? String(settings.organizationId).trim() : "";
  var project = ctx.provider.workspaceId ? String(ctx.provider.workspaceId).trim() : "";
  if ((org && !project) || (project && !org)) {
    ctx.util.fail("failed", "Z.ai team usage needs both settings.organizationId and workspaceId (the project id).");
  }
  if (org) {
    headers["Bigmodel-Organization"] = org;
    headers["Bigmodel-Project"] = project;
  }
  var loginHint = "Keys only work in their own region: this used " +
    (found.region === "cn" ? "open.bigmodel.cn (region \"cn\")" : "api.z.ai (region \"global\"; BigModel keys need region = \"cn\")") + ".";
  var data = ctx.keyapi.getJson({
    url: base + "/api/monitor/usage/quota/limit" + (org ? "?type=2" : ""),
    headers: headers,
    name: PROVIDER,
    loginHint: loginHint,
  }).data;
  if (data.success !== true || ctx.num.of(data.code) !== 200) quotaError(ctx, data, found.region);
  var limits = ctx.util.requireField(data, "data.limits", PROVIDER);
  if (!Array.isArray(limits)) ctx.util.fail("failed", "Unexpected response from Z.ai: data.limits is not a list.");

  var windows = [];
  var searches = null;
  for (var i = 0; i < limits.length; i++) {
    var e = limits[i] || {};
    if (e.type === "TIME_LIMIT") searches = e;
    else if (e.type === "TOKENS_LIMIT" || e.type === "CREDIT_LIMIT") {
      var number = ctx.num.of(e.number);
      var unit = typeof e.unit === "number" || typeof e.unit === "string" ? UNIT_MS[e.unit] : undefined;
      windows.push({ entry: e, ms: number && unit ? number * unit : null });
    }
  }
  windows.sort(function (a, b) { return (a.ms || Infinity) - (b.ms || Infinity); });

  var metrics = [];
  for (var w = 0; w < windows.length; w++) {
    var pct = usedPercent(ctx, windows[w].entry);
    if (pct === null) continue;
    var label = windows[w].ms ? windowLabel(windows[w].ms) : w === 0 ? "Session" : "Weekly";
    metrics.push(
      ctx.line.progress({
        label: label,
        used: pct,
        limit: 100,
        format: { kind: "percent" },
        resetsAt: ctx.util.toIso(windows[w].entry.nextResetTime) || undefined,
        periodDurationMs: windows[w].ms || undefined,
      })
    );
  }
  if (searches) {
    var cap = ctx.num.of(searches.usage);
    var used = ctx.num.of(searches.currentValue);
    if (cap !== null && cap > 0 && used !== null) {
      var resetMs = ctx.util.parseDateMs(searches.nextResetTime);
      if (resetMs === null) resetMs = ctx.calendar.month(Date.now()).end;
      metrics.push(
        ctx.line.progress({
          label: "Web searches",
          used: used,
          limit: cap,
          format: { kind: "count", suffix: "calls" },
          resetsAt: ctx.util.toIso(resetMs),
          periodDurationMs: ctx.calendar.monthlyPeriodEndingAt(resetMs),
          detail: metrics.length > 0,
        })
      );
    }
  }
  if (!metrics.length) metrics.push(ctx.line.badge({ label: "Session", text: "No usage data", color: "grey" }));

  var plan = null;
  var names = ["planName", "plan", "plan_type", "packageName"];
  for (var n = 0; n < names.length && !plan; n++) {
    if (typeof data.data[names[n]] === "string" && data.data[names[n]].trim()) plan = data.data[names[n]].trim();
  }
  if (!plan) {
    var subs = ctx.keyapi.optionalJson({ url: base + "/api/biz/subscription/list", headers: headers, name: PROVIDER }).data;
    var first = subs && Array.isArray(subs.data) ? subs.data[0] : null;
    if (first && typeof first.productName === "string" && first.productName.trim()) plan = first.productName.trim();
  }
  if (plan && found.region === "cn" && !/china|\(cn\)/i.test(plan)) plan += " (China)";
  return { source: "api", plan: plan || undefined, metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "zai", probe: probe };
