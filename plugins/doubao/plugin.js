// Doubao / Volcengine Ark: Coding Plan and Agent Plan quota windows.
// - cli (default): `arkcli usage plan --format json` from the user's arkcli login;
// - api with Volcengine AK/SK: the Ark OpenAPI GetCodingPlanUsage / GetAFPUsage,
//   signed with the Volcengine variant of SigV4 (ctx.sigv4.VOLCENGINE);
// - api with only an Ark inference key: a 1-token chat completion whose
//   rate-limit headers are the only data there is (billable; last resort).
var PROVIDER = "Volcengine Ark";
var OPENAPI = "https://open.volcengineapi.com/";
var PROBE_URL = "https://ark.cn-beijing.volces.com/api/coding/v3/chat/completions";
var PROBE_MODELS = ["doubao-seed-2.0-code", "doubao-1.5-pro-32k", "doubao-lite-32k"];
var HOUR = 3600000;

function settings(ctx) { return ctx.provider.settings || {}; }

// AK/SK from settings, `apiKey` = "<AK>|<SK>" (or "<AK>:<SK>"), or the environment.
function akSk(ctx) {
  var s = settings(ctx);
  var region = ctx.provider.region || s.region || "cn-beijing";
  if (s.accessKeyId && s.secretAccessKey) return { id: s.accessKeyId, secret: s.secretAccessKey, region: region };
  var key = ctx.provider.apiKey ? String(ctx.provider.apiKey).trim() : "";
  var m = /^([^|:\s]+)\s*[|:]\s*(\S+)$/.exec(key);
  if (m) return { id: m[1], secret: m[2], region: region };
  var id = ctx.creds.envValue(["VOLCENGINE_ACCESS_KEY", "VOLCENGINE_ACCESS_KEY_ID"]);
  var secret = ctx.creds.envValue(["VOLCENGINE_SECRET_KEY", "VOLCENGINE_SECRET_ACCESS_KEY"]);
  return id && secret ? { id: id, secret: secret, region: region } : null;
}

function arkKey(ctx) {
  var key = ctx.provider.apiKey ? String(ctx.provider.apiKey).trim() : "";
  if (key && !/[|:]/.test(key)) return key;
  return ctx.creds.envValue(["ARK_API_KEY", "DOUBAO_API_KEY", "VOLCENGINE_API_KEY"]);
}

// ---- window lines ------------------------------------------------------------------------
var WINDOWS = [
  { re: /^(session|5-?hour|five_hour|5h)$/, label: "5-hour", period: 5 * HOUR },
  { re: /^(weekly|week)$/, label: "Weekly", period: 7 * 24 * HOUR },
  { re: /^(monthly|month)$/, label: "Monthly", period: null },
  { re: /^(daily|day)$/, label: "Daily", period: 24 * HOUR },
];

function windowLine(ctx, prefix, level, percent, resetMs, detail) {
  var lv = ctx.util.text(level).toLowerCase();
  for (var i = 0; i < WINDOWS.length; i++) {
    if (!WINDOWS[i].re.test(lv)) continue;
    var p = ctx.num.of(percent);
    if (p === null) return null;
    var period = WINDOWS[i].period;
    if (period === null) period = resetMs === null ? 30 * 24 * HOUR : ctx.calendar.monthlyPeriodEndingAt(resetMs);
    return ctx.line.progress({
      label: (prefix ? prefix + " " : "") + WINDOWS[i].label,
      used: Math.max(0, Math.min(100, p)),
      limit: 100,
      format: { kind: "percent" },
      resetsAt: resetMs === null ? undefined : ctx.util.toIso(resetMs),
      periodDurationMs: period,
      detail: detail,
    });
  }
  return null;
}

// ---- cli: arkcli ---------------------------------------------------------------------------
var PRODUCTS = { "coding-plan": "", "coding-plan-team": "Team", "agent-plan": "Agent", "agent-plan-team": "Agent Team" };

function arkcliMissing() {
  var e = { code: "missing-auth", message: "arkcli is not installed: install it (npm i -g @volcengine/ark-cli) and run `arkcli auth login`, or configure Volcengine AK/SK." };
  e.arkcliMissing = true;
  return e;
}

function probeCli(ctx) {
  var program = ctx.creds.envValue(["ARKCLI_PATH"]) || "arkcli";
  var out;
  try {
    out = ctx.host.command.run({ program: program, args: ["usage", "plan", "--format", "json"], timeoutMs: 15000 });
  } catch (e) {
    throw arkcliMissing();
  }
  if (out.status !== 0) {
    var err = String(out.stderr || out.stdout || "").replace(/\s+/g, " ").trim().slice(0, 200);
    if (/not logged in|not authenticated|login required|authentication required|please log ?in|auth login/i.test(err)) {
      ctx.util.fail("missing-auth", "arkcli is not logged in: run `arkcli auth login`.");
    }
    ctx.util.fail("failed", "`arkcli usage plan` failed: " + (err || "exit status " + out.status) + ".");
  }
  var data = ctx.util.tryParseJson(out.stdout);
  if (!data || typeof data !== "object") ctx.util.fail("failed", "`arkcli usage plan --format json` printed something that is not JSON.");
  if (data.viewer && ctx.util.text(data.viewer.auth_method).toLowerCase() === "none") {
    ctx.util.fail("missing-auth", "arkcli is not logged in: run `arkcli auth login`.");
  }
  if (!Array.isArray(data.items)) ctx.util.fail("failed", "Unexpected `arkcli usage plan` output: missing items.");
  var metrics = [];
  var plan = null;
  data.items.forEach(function (item) {
    var product = ctx.util.text(item.product).toLowerCase();
    if (!(product in PRODUCTS) || item.subscribed === false) return;
    (item.periods || []).forEach(function (p) {
      var line = windowLine(ctx, PRODUCTS[product], p.label, p.percent, ctx.util.parseDateMs(p.reset_at), product !== "coding-plan" && metrics.length > 0);
      if (line) metrics.push(line);
    });
    if (!plan && item.plan) plan = (product.indexOf("agent") === 0 ? "Agent Plan " : "Coding Plan ") + ctx.fmt.planLabel(item.plan);
  });
  if (!metrics.length) {
    return { source: "cli", metrics: [ctx.line.badge({ label: "Plan", text: "No active Coding or Agent Plan", color: "grey" })] };
  }
  return { source: "cli", plan: plan || undefined, metrics: metrics };
}

// ---- api: Volcengine OpenAPI (AK/SK) -------------------------------------------------------
function openApi(ctx, creds, action) {
  var url = OPENAPI + "?Action=" + action + "&Version=2024-01-01";
  var body = "{}";
  var signed = ctx.sigv4.sign({
    scheme: ctx.sigv4.VOLCENGINE,
    method: "POST",
    url: url,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: body,
    accessKeyId: creds.id,
    secretAccessKey: creds.secret,
    region: creds.region,
    service: "ark",
  });
  var resp = ctx.host.http.request({ method: "POST", url: url, headers: signed.headers, bodyText: body, timeoutMs: 15000 });
  var data = ctx.util.tryParseJson(resp.bodyText);
  var error = data && data.ResponseMetadata && data.ResponseMetadata.Error;
  if (error || resp.status < 200 || resp.status >= 300) {
    var code = ctx.util.text(error && error.Code);
    var message = ctx.util.text(error && error.Message).slice(0, 200);
    if (/SignatureDoesNotMatch|InvalidAccessKey|InvalidAuthorization|InvalidCredential|AccessKey|Unauthorized/i.test(code) || resp.status === 401) {
      ctx.util.fail("credential-denied", "Volcengine rejected the AK/SK (" + (code || "HTTP " + resp.status) + "): check the keys and the system clock.");
    }
    if (/AccessDenied|Forbidden|NotAuthorized|Permission/i.test(code) || resp.status === 403) {
      ctx.util.fail("credential-denied", "The Volcengine AK/SK lacks permission for ark:" + action + " (" + (code || "HTTP 403") + ").");
    }
    if (/Throttl|FlowLimit|TooManyRequests|RequestLimitExceeded/i.test(code) || resp.status === 429) {
      var wait = ctx.util.retryAfterSec(resp.headers) || 300;
      ctx.util.fail("rate-limited", "Volcengine is throttling " + action + "; retry in " + ctx.fmt.resetIn(wait) + ".", wait);
    }
    if (error) return { error: { code: code, message: message } };
    ctx.util.checkResponse(resp, { name: PROVIDER });
  }
  if (!data || typeof data !== "object") ctx.util.expectJson(resp, PROVIDER);
  return { result: ctx.util.requireField(data, "Result", PROVIDER) || {} };
}

// Seconds or ms since the epoch (or an ISO string) -> ms.
function epochMs(ctx, v) {
  return ctx.util.parseDateMs(v);
}

function probeAkSk(ctx, creds) {
  var coding = openApi(ctx, creds, "GetCodingPlanUsage");
  var metrics = [];
  var quotas = coding.result && Array.isArray(coding.result.QuotaUsage) ? coding.result.QuotaUsage : [];
  quotas.forEach(function (q) {
    var reset = q.ResetTimestamp ? epochMs(ctx, q.ResetTimestamp) : null;
    var line = windowLine(ctx, "", q.Level, q.Percent, reset, false);
    if (line) metrics.push(line);
  });
  if (metrics.length) {
    var status = ctx.util.text(coding.result.Status);
    if (status && !/^running$/i.test(status)) metrics.push(ctx.line.badge({ label: "Status", text: status, color: "amber" }));
    return { source: "api", plan: "Coding Plan", metrics: metrics };
  }
  // No Coding Plan: the Agent Plan reports {Quota, Used, ResetTime} per window.
  var agent = openApi(ctx, creds, "GetAFPUsage");
  var r = agent.result || {};
  [["AFPFiveHour", "5-hour"], ["AFPWeekly", "weekly"], ["AFPMonthly", "monthly"], ["AFPDaily", "daily"]].forEach(function (w) {
    var b = r[w[0]];
    var quota = b ? ctx.num.of(b.Quota) : null;
    if (!(quota > 0)) return;
    var line = windowLine(ctx, "Agent", w[1], ctx.num.of(b.Used, 0) / quota * 100, b.ResetTime ? epochMs(ctx, b.ResetTime) : null, w[0] === "AFPDaily");
    if (line) metrics.push(line);
  });
  if (metrics.length) return { source: "api", plan: "Agent Plan", metrics: metrics };
  if (coding.error && agent.error) {
    ctx.util.fail("failed", PROVIDER + " error: " + (coding.error.code || "") + " " + coding.error.message + ".");
  }
  return { source: "api", metrics: [ctx.line.badge({ label: "Plan", text: "No active Coding or Agent Plan", color: "grey" })] };
}

// ---- api: Ark key probe (billable) ---------------------------------------------------------
function probeArkKey(ctx, key) {
  var resp = null;
  for (var i = 0; i < PROBE_MODELS.length; i++) {
    resp = ctx.host.http.request({
      method: "POST",
      url: PROBE_URL,
      headers: { Authorization: "Bearer " + key, "Content-Type": "application/json", Accept: "application/json" },
      bodyText: JSON.stringify({ model: PROBE_MODELS[i], max_tokens: 1, messages: [{ role: "user", content: "hi" }] }),
      timeoutMs: 15000,
    });
    if (resp.status !== 404 && resp.status !== 403) break; // 404/403: this key cannot use that model
  }
  if (resp.status === 401) ctx.util.fail("credential-denied", "Invalid Ark API key (HTTP 401): create one in the Ark console (API Key management).");
  if (resp.status === 404 || resp.status === 403) ctx.util.fail("failed", "None of the probe models (" + PROBE_MODELS.join(", ") + ") is available to this Ark key (HTTP " + resp.status + ").");
  var info = ctx.ratelimit.read(resp.headers, "requests");
  if (resp.status === 429 && !(info && info.limit > 0)) {
    var wait = ctx.util.retryAfterSec(resp.headers) || 60;
    ctx.util.fail("rate-limited", "The Ark key is rate-limited; retry in " + ctx.fmt.resetIn(wait) + ".", wait);
  }
  if (resp.status !== 429) ctx.util.checkResponse(resp, { name: PROVIDER });
  var metrics = [];
  // HTTP 200 with "0 remaining" contradicts itself (Ark sometimes reports it):
  // such headers are not trusted rather than drawn as an exhausted bar.
  var reliable = info && info.limit > 0 && info.remaining !== null && !(resp.status === 200 && info.remaining === 0);
  if (reliable) {
    metrics.push(ctx.ratelimit.progress(info, { label: "Requests", suffix: "requests" }));
  } else {
    metrics.push(ctx.line.badge({ label: "Status", text: "Active — no usage data", color: "blue" }));
  }
  metrics.push(ctx.line.text({ label: "Usage", value: "Only rate-limit headers are available to an Ark key; use arkcli or AK/SK for plan quotas", detail: true }));
  return { source: "api", metrics: metrics };
}

function probe(ctx) {
  var mode = ctx.sourceMode;
  var creds = akSk(ctx);
  if (mode === "cli") return probeCli(ctx);
  if (mode === "api") {
    if (creds) return probeAkSk(ctx, creds);
    var k = arkKey(ctx);
    if (k) return probeArkKey(ctx, k);
    ctx.util.fail("missing-auth", "No Volcengine credentials: set settings.accessKeyId/secretAccessKey (or VOLCENGINE_ACCESS_KEY / VOLCENGINE_SECRET_KEY), or an Ark API key (ARK_API_KEY).");
  }
  // auto: AK/SK, then arkcli, then the Ark key probe.
  if (creds) return probeAkSk(ctx, creds);
  try {
    return probeCli(ctx);
  } catch (e) {
    var key = arkKey(ctx);
    if (e && e.arkcliMissing && key) return probeArkKey(ctx, key);
    throw e;
  }
}

globalThis.__usagestat_plugin = { id: "doubao", probe: probe };
