// Warp (terminal) AI credits: used since the last refresh vs the plan limit,
// the unlimited flag, the next refresh, and bonus (add-on) credit grants, from
// Warp's GraphQL API with a Warp API key (wk-…).

var PROVIDER = "Warp";
var URL_V2 = "https://app.warp.dev/graphql/v2?op=GetRequestLimitInfo";
var MONTH_MS = 30 * 24 * 3600 * 1000;
var KEY_HINT = "Create one in Warp → Settings → Platform → API Keys.";
var QUERY =
  "query GetRequestLimitInfo($requestContext: RequestContext!) { user(requestContext: $requestContext) { " +
  "__typename ... on UserOutput { user { requestLimitInfo { isUnlimited nextRefreshTime requestLimit " +
  "requestsUsedSinceLastRefresh } bonusGrants { requestCreditsGranted requestCreditsRemaining expiration } " +
  "workspaces { bonusGrantsInfo { grants { requestCreditsGranted requestCreditsRemaining expiration } } } } } } }";
var OS = {
  linux: { category: "Linux", name: "Linux", version: "6.0" },
  macos: { category: "macOS", name: "macOS", version: "14.0" },
  windows: { category: "Windows", name: "Windows", version: "10.0" },
};

// Config apiKey, WARP_API_KEY, WARP_TOKEN, then <pluginDataDir>/api-key.txt.
function findKey(ctx) {
  var key = ctx.creds.apiKey({ env: ["WARP_API_KEY", "WARP_TOKEN"] });
  if (key) return key;
  if (!ctx.app.pluginDataDir) return null;
  var path = String(ctx.app.pluginDataDir).replace(/[\\/]+$/, "") + "/api-key.txt";
  if (!ctx.host.fs.exists(path)) return null;
  var text = String(ctx.host.fs.readText(path)).trim();
  return text ? { value: text, source: path } : null;
}

function invalidKey(ctx, detail) {
  ctx.util.fail("credential-denied", "Warp API key invalid" + (detail ? " (" + detail + ")" : "") + ". " + KEY_HINT);
}

// Sum unexpired grants: {granted, remaining, earliestMs}.
function bonusTotals(ctx, user) {
  var grants = [];
  if (Array.isArray(user.bonusGrants)) grants = grants.concat(user.bonusGrants);
  var workspaces = Array.isArray(user.workspaces) ? user.workspaces : [];
  for (var i = 0; i < workspaces.length; i++) {
    var info = workspaces[i] && workspaces[i].bonusGrantsInfo;
    if (info && Array.isArray(info.grants)) grants = grants.concat(info.grants);
  }
  var now = Date.now();
  var out = { granted: 0, remaining: 0, earliestMs: null, count: 0 };
  for (var j = 0; j < grants.length; j++) {
    var g = grants[j];
    if (!g || typeof g !== "object") continue;
    var exp = ctx.util.parseDateMs(g.expiration);
    if (exp !== null && exp <= now) continue;
    out.granted += ctx.num.of(g.requestCreditsGranted) || 0;
    out.remaining += ctx.num.of(g.requestCreditsRemaining) || 0;
    out.count += 1;
    if (exp !== null && (out.earliestMs === null || exp < out.earliestMs)) out.earliestMs = exp;
  }
  return out;
}

function probeApi(ctx, key) {
  var os = OS[ctx.app.platform] || OS.linux;
  var resp = ctx.host.http.request({
    method: "POST",
    url: URL_V2,
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      Authorization: "Bearer " + key.value,
      "x-warp-client-id": "warp-app",
      "x-warp-os-category": os.category,
      "x-warp-os-name": os.name,
      "x-warp-os-version": os.version,
      "User-Agent": "Warp/1.0",
    },
    bodyText: JSON.stringify({
      operationName: "GetRequestLimitInfo",
      query: QUERY,
      variables: { requestContext: { clientContext: {}, osContext: os } },
    }),
    timeoutMs: 15000,
  });
  if (resp.status === 401 || resp.status === 403) invalidKey(ctx, "HTTP " + resp.status);
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: KEY_HINT });
  var data = ctx.util.expectJson(resp, PROVIDER);
  if (Array.isArray(data.errors) && data.errors.length) {
    var messages = data.errors
      .map(function (e) { return e && typeof e.message === "string" ? e.message : ""; })
      .filter(function (m) { return m; })
      .join("; ")
      .slice(0, 300);
    if (/unauth|forbidden|invalid.*(key|token)|not authenticated|api key/i.test(messages)) invalidKey(ctx, messages);
    if (!(data.data && data.data.user)) ctx.util.fail("failed", "Warp GraphQL error: " + (messages || "unknown error") + ".");
  }
  var outer = ctx.util.requireField(data, "data.user", PROVIDER);
  if (!outer || typeof outer !== "object") ctx.util.fail("failed", "Unexpected response from Warp: data.user is empty.");
  var typename = ctx.util.text(outer.__typename);
  if (typename && typename !== "UserOutput") invalidKey(ctx, "Warp answered " + typename);
  var user = ctx.util.requireField(outer, "user", PROVIDER) || {};
  var info = ctx.util.requireField(user, "requestLimitInfo", PROVIDER) || {};
  var used = ctx.num.of(info.requestsUsedSinceLastRefresh);
  var limit = ctx.num.of(info.requestLimit);
  var resetsAt = ctx.util.toIso(info.nextRefreshTime) || undefined;
  var metrics = [];
  var plan;
  if (info.isUnlimited === true) {
    plan = "Unlimited";
    metrics.push(ctx.line.badge({ label: "Plan", text: "Unlimited", color: "#22c55e" }));
    if (used !== null) {
      metrics.push(ctx.line.text({ label: "Credits used", value: ctx.num.grouped(used) + " since the last refresh", detail: true }));
    }
  } else {
    if (used === null) ctx.util.fail("failed", "Unexpected response from Warp: missing requestLimitInfo.requestsUsedSinceLastRefresh.");
    if (limit !== null && limit > 0) {
      metrics.push(
        ctx.line.progress({
          label: "Credits",
          used: used,
          limit: limit,
          format: { kind: "count", suffix: "credits" },
          resetsAt: resetsAt,
          periodDurationMs: MONTH_MS,
        })
      );
    } else {
      metrics.push(ctx.line.text({ label: "Credits", value: ctx.num.grouped(used) + " used (no limit reported)" }));
    }
  }
  var bonus = bonusTotals(ctx, user);
  if (bonus.count > 0) {
    metrics.push(
      ctx.line.text({
        label: "Bonus",
        value: ctx.num.grouped(bonus.remaining) + " / " + ctx.num.grouped(bonus.granted) + " add-on credits",
        subtitle: bonus.earliestMs === null ? undefined : "Earliest expiry " + ctx.fmt.date(bonus.earliestMs),
      })
    );
  }
  return { source: "api", plan: plan, metrics: metrics };
}

globalThis.__usagestat_plugin = {
  id: "warp",
  probe: function (ctx) {
    if (ctx.sourceMode !== "auto" && ctx.sourceMode !== "api") {
      ctx.util.fail("unsupported", "Warp supports only the api source (a Warp API key).");
    }
    var key = findKey(ctx);
    if (!key) ctx.util.fail("missing-auth", "Warp API key not found. Set WARP_API_KEY (or apiKey in the config). " + KEY_HINT);
    return probeApi(ctx, key);
  },
};
