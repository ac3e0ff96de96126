// Codebuff (formerly Manicode): credits used of the quota (with the next quota
// reset), the remaining balance, auto top-up and — for the CLI's own login —
// the subscription tier and weekly rate limit.
// `api`: an API key (config or CODEBUFF_API_KEY); `local`: the session token
// `codebuff login` saved in ~/.config/manicode/credentials.json.

var PROVIDER = "Codebuff";
var BASE = "https://www.codebuff.com";
var CREDENTIALS = "~/.config/manicode/credentials.json";
var MONTH_MS = 30 * 24 * 3600 * 1000;
var WEEK_MS = 7 * 24 * 3600 * 1000;
var LOGIN_HINT = "Run `codebuff login` or update CODEBUFF_API_KEY.";

function base(ctx) {
  return String(ctx.provider.baseUrl || BASE).replace(/\/+$/, "");
}

function keyFromConfig(ctx) {
  return ctx.creds.apiKey({ env: ["CODEBUFF_API_KEY"] });
}

function keyFromCli(ctx) {
  var file = ctx.creds.readJson(CREDENTIALS, "The Codebuff credentials file");
  if (!file) return null;
  var value = ctx.creds.pick(file.data, [
    "default.authToken",
    "authToken",
    "apiKey",
    "api_key",
    "token",
    "accessToken",
    "access_token",
  ]);
  return value ? { value: value, source: CREDENTIALS } : null;
}

function unwrap(data) {
  return data && typeof data === "object" && data.data && typeof data.data === "object" && !Array.isArray(data.data)
    ? data.data
    : data;
}

function fetchUsage(ctx, key) {
  var resp = ctx.host.http.request({
    method: "POST",
    url: base(ctx) + "/api/v1/usage",
    headers: { Authorization: "Bearer " + key.value, "Content-Type": "application/json", Accept: "application/json" },
    // The endpoint requires a fingerprint id; any stable string is accepted.
    bodyText: JSON.stringify({ fingerprintId: "usagestat-usage" }),
    timeoutMs: 15000,
  });
  if (resp.status === 401 || resp.status === 403) {
    ctx.util.fail("credential-denied", "Codebuff token invalid or expired (HTTP " + resp.status + "). " + LOGIN_HINT);
  }
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: LOGIN_HINT });
  return unwrap(ctx.util.expectJson(resp, PROVIDER));
}

// Subscription and weekly limit: only for the CLI session (an API key can
// read the credit balance alone). Optional: a failure only drops its lines.
function fetchSubscription(ctx, key) {
  var resp;
  try {
    resp = ctx.host.http.request({
      method: "GET",
      url: base(ctx) + "/api/user/subscription",
      headers: { Authorization: "Bearer " + key.value, Accept: "application/json" },
      timeoutMs: 10000,
    });
  } catch (e) {
    ctx.host.log.warn("Codebuff subscription request failed: " + String((e && e.message) || e));
    return null;
  }
  if (resp.status < 200 || resp.status >= 300) {
    ctx.host.log.warn("Codebuff subscription answered HTTP " + resp.status + "; skipping it.");
    return null;
  }
  var data = unwrap(ctx.util.tryParseJson(resp.bodyText));
  return data && typeof data === "object" ? data : null;
}

function toResult(ctx, usage, sub, source) {
  var used = ctx.num.first(usage, ["usage", "used"]);
  var quota = ctx.num.first(usage, ["quota", "limit"]);
  var remaining = ctx.num.first(usage, ["remainingBalance", "remaining"]);
  if (used === null && remaining === null) ctx.util.fail("failed", "Unexpected response from Codebuff: missing usage.");
  var total = quota !== null && quota > 0 ? quota : used !== null && remaining !== null ? used + remaining : null;
  var metrics = [];
  if (total !== null && total > 0 && used !== null) {
    metrics.push(
      ctx.line.progress({
        label: "Credits",
        used: used,
        limit: total,
        format: { kind: "count", suffix: "credits" },
        resetsAt: ctx.util.toIso(usage.next_quota_reset || usage.nextQuotaReset) || undefined,
        periodDurationMs: MONTH_MS,
      })
    );
  }
  var rate = sub && sub.rateLimit;
  var weeklyUsed = ctx.num.of(rate && rate.weeklyUsed);
  var weeklyLimit = ctx.num.of(rate && rate.weeklyLimit);
  if (weeklyUsed !== null && weeklyLimit !== null && weeklyLimit > 0) {
    metrics.push(
      ctx.line.progress({
        label: "Weekly",
        used: Math.max(0, weeklyUsed),
        limit: weeklyLimit,
        format: { kind: "percent" },
        resetsAt: ctx.util.toIso(rate.weeklyResetsAt) || undefined,
        periodDurationMs: WEEK_MS,
      })
    );
  }
  if (remaining !== null) {
    metrics.push(ctx.line.text({ label: "Balance", value: ctx.num.grouped(remaining) + " credits remaining" }));
  }
  var topUp = usage.autoTopupEnabled !== undefined ? usage.autoTopupEnabled : usage.auto_topup_enabled;
  if (typeof topUp === "boolean") {
    metrics.push(ctx.line.badge({ label: "Auto top-up", text: topUp ? "On" : "Off", color: topUp ? "green" : "grey", detail: true }));
  }
  var s = sub && sub.subscription;
  var plan = s ? s.displayName || s.tier || s.scheduledTier : null;
  if (!plan && source === "api") plan = "Credits";
  return { source: source, plan: plan ? ctx.fmt.planLabel(plan) : undefined, metrics: metrics };
}

function probe(ctx, key, source) {
  var usage = fetchUsage(ctx, key);
  var sub = source === "local" ? fetchSubscription(ctx, key) : null;
  return toResult(ctx, usage, sub, source);
}

globalThis.__usagestat_plugin = {
  id: "codebuff",
  probe: function (ctx) {
    var mode = ctx.sourceMode;
    if (mode !== "auto" && mode !== "api" && mode !== "local") {
      ctx.util.fail("unsupported", "Codebuff supports the api and local sources.");
    }
    if (mode !== "local") {
      var key = keyFromConfig(ctx);
      if (key) return probe(ctx, key, "api");
      if (mode === "api") ctx.util.fail("missing-auth", "Codebuff API key not found. Set apiKey in the config or CODEBUFF_API_KEY.");
    }
    var cli = keyFromCli(ctx);
    if (!cli) ctx.util.fail("missing-auth", "Codebuff API key not found. Set CODEBUFF_API_KEY or run `codebuff login`.");
    return probe(ctx, cli, "local");
  },
};
