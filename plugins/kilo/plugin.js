// Kilo Code: prepaid credit blocks (USD used / total, remaining balance), the
// Kilo Pass subscription period (usage vs base + bonus credits) and auto
// top-up, from app.kilo.ai's tRPC batch API. `api` uses a Kilo API key
// (config or KILO_API_KEY); `local` uses the Kilo CLI's login token.

var PROVIDER = "Kilo";
var BASE = "https://app.kilo.ai";
var PROCEDURES = ["user.getCreditBlocks", "kiloPass.getState", "user.getAutoTopUpPaymentMethod"];
var MICRO = 1000000; // *_mUsd fields are micro-USD
var MONTH_MS = 30 * 24 * 3600 * 1000;
var LOGIN_HINT = "Set a Kilo API key (KILO_API_KEY) or run `kilo auth login`.";
var TIERS = { tier_19: "Starter", tier_49: "Pro", tier_199: "Expert" };

function authFile(ctx) {
  return ctx.creds.xdgDataHome() + "/kilo/auth.json";
}

function keyFromConfig(ctx) {
  return ctx.creds.apiKey({ env: ["KILO_API_KEY"] });
}

// The Kilo CLI session: {"kilo": {"type": "oauth"|"api", "access": …}}; older
// files keep a top-level apiKey / api_key / token.
function keyFromCli(ctx) {
  var file = ctx.creds.readJson(authFile(ctx), "The Kilo CLI auth file");
  if (!file) return null;
  var value = ctx.creds.pick(file.data, ["kilo.access", "kilo.key", "apiKey", "api_key", "token"]);
  return value ? { value: value, source: authFile(ctx) } : null;
}

function batchUrl(ctx) {
  var base = String(ctx.provider.baseUrl || BASE).replace(/\/+$/, "");
  var input = {};
  for (var i = 0; i < PROCEDURES.length; i++) input[String(i)] = { json: null };
  return base + "/api/trpc/" + PROCEDURES.join(",") + "?batch=1&input=" + encodeURIComponent(JSON.stringify(input));
}

// The payload of one tRPC batch entry, or {error: "..."}.
function entryPayload(ctx, entry) {
  if (!entry || typeof entry !== "object") return { missing: true };
  if (entry.error) {
    var e = entry.error.json || entry.error;
    var code = (e.data && e.data.code) || e.code || "";
    return { error: ctx.util.text(code), message: ctx.util.text(e.message) };
  }
  var result = entry.result;
  if (!result || typeof result !== "object") return { missing: true };
  var data = result.data;
  if (data && typeof data === "object" && "json" in data) return { value: data.json };
  if (data !== undefined) return { value: data };
  return { value: result.json === undefined ? null : result.json };
}

function entryFailure(ctx, procedure, p) {
  var text = (p.error + " " + p.message).toLowerCase();
  if (text.indexOf("unauthorized") >= 0 || text.indexOf("forbidden") >= 0) {
    ctx.util.fail(
      "credential-denied",
      ctx.provider.workspaceId
        ? "Kilo refused access to organization " + ctx.provider.workspaceId + " (" + procedure + "). Check workspaceId."
        : "Kilo API key invalid or expired. " + LOGIN_HINT
    );
  }
  if (text.indexOf("not_found") >= 0 || text.indexOf("not found") >= 0) {
    ctx.util.fail("failed", "Kilo API endpoint changed (tRPC procedure " + procedure + " not found).");
  }
  ctx.util.fail("failed", "Kilo " + procedure + " failed" + (p.error ? " (" + p.error + ")" : "") + ".");
}

function creditMetrics(ctx, payload) {
  var blocks = Array.isArray(payload) ? payload : payload && Array.isArray(payload.creditBlocks) ? payload.creditBlocks : null;
  var total = 0;
  var remaining = 0;
  var sawAmount = false;
  var sawBalance = false;
  if (blocks) {
    for (var i = 0; i < blocks.length; i++) {
      var amount = ctx.num.of(blocks[i] && blocks[i].amount_mUsd);
      var balance = ctx.num.of(blocks[i] && blocks[i].balance_mUsd);
      if (amount !== null) { total += amount / MICRO; sawAmount = true; }
      if (balance !== null) { remaining += balance / MICRO; sawBalance = true; }
    }
  }
  if (!sawBalance) {
    var totalBalance = ctx.num.of(payload && payload.totalBalance_mUsd);
    if (totalBalance === null && !blocks) {
      ctx.util.fail("failed", "Unexpected response from Kilo: missing creditBlocks.");
    }
    if (totalBalance !== null) { remaining = totalBalance / MICRO; sawBalance = true; }
  }
  var metrics = [];
  if (sawAmount && total > 0) {
    metrics.push(
      ctx.line.progress({
        label: "Credits",
        used: Math.max(0, total - remaining),
        limit: total,
        format: { kind: "dollars" },
      })
    );
  }
  metrics.push(ctx.line.text({ label: "Balance", value: ctx.fmt.money(Math.max(0, remaining)) + " remaining" }));
  return metrics;
}

function passInfo(ctx, payload) {
  if (!payload || typeof payload !== "object") return null;
  var sub = payload.subscription;
  if (sub === null) return null;
  if (!sub || typeof sub !== "object") {
    var flat = "currentPeriodUsageUsd" in payload || "currentPeriodBaseCreditsUsd" in payload || "tier" in payload;
    if (!flat) return null;
    sub = payload;
  }
  var used = ctx.num.of(sub.currentPeriodUsageUsd);
  var base = ctx.num.of(sub.currentPeriodBaseCreditsUsd);
  var bonus = Math.max(0, ctx.num.of(sub.currentPeriodBonusCreditsUsd) || 0);
  var name = typeof sub.planName === "string" && sub.planName ? sub.planName : null;
  if (!name && typeof sub.tier === "string" && sub.tier) name = TIERS[sub.tier] || ctx.fmt.planLabel(sub.tier);
  return {
    used: used === null ? null : Math.max(0, used),
    total: base === null ? null : Math.max(0, base) + bonus,
    bonus: bonus,
    resetsAt: ctx.util.toIso(sub.nextBillingAt || sub.nextRenewalAt || sub.renewsAt || sub.renewAt),
    plan: name ? "Kilo Pass " + name : "Kilo Pass",
    status: typeof sub.status === "string" ? sub.status : null,
  };
}

function autoTopUp(ctx, payload, creditsPayload) {
  if (payload && typeof payload === "object") {
    if (typeof payload.enabled === "boolean") return payload.enabled;
    if (typeof payload.isEnabled === "boolean") return payload.isEnabled;
    if (typeof payload.status === "string") return /^(enabled|active|on)$/i.test(payload.status);
  }
  if (creditsPayload && typeof creditsPayload.autoTopUpEnabled === "boolean") return creditsPayload.autoTopUpEnabled;
  return null;
}

function fetchUsage(ctx, key, source) {
  var headers = { Authorization: "Bearer " + key.value, Accept: "application/json" };
  if (ctx.provider.workspaceId) headers["X-KILOCODE-ORGANIZATIONID"] = String(ctx.provider.workspaceId);
  var resp = ctx.host.http.request({ method: "GET", url: batchUrl(ctx), headers: headers, timeoutMs: 15000 });
  if (resp.status === 404) ctx.util.fail("failed", "Kilo API endpoint changed (tRPC procedure names, HTTP 404).");
  if (resp.status === 401 || resp.status === 403) {
    ctx.util.fail(
      "credential-denied",
      source === "local"
        ? "Kilo rejected the Kilo CLI token (HTTP " + resp.status + "). Run `kilo auth login` again."
        : "Kilo API key invalid or expired (HTTP " + resp.status + "). " + LOGIN_HINT
    );
  }
  // tRPC answers a batch with partial errors as 207 Multi-Status.
  if (resp.status !== 207) ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: LOGIN_HINT });
  var data = ctx.util.expectJson(resp, PROVIDER);
  var entries = Array.isArray(data) ? data : data && (data.result || data.error) ? [data] : null;
  if (!entries) ctx.util.fail("failed", "Unexpected response from Kilo: not a tRPC batch.");

  var credits = entryPayload(ctx, entries[0]);
  if (credits.error !== undefined) entryFailure(ctx, PROCEDURES[0], credits);
  if (credits.missing) ctx.util.fail("failed", "Unexpected response from Kilo: missing " + PROCEDURES[0] + " result.");
  var pass = entryPayload(ctx, entries[1]);
  var topUp = entryPayload(ctx, entries[2]);
  if (pass.error !== undefined) ctx.host.log.warn("Kilo " + PROCEDURES[1] + " failed: " + pass.error);

  var metrics = creditMetrics(ctx, credits.value);
  var info = pass.value !== undefined ? passInfo(ctx, pass.value) : null;
  if (info && info.total !== null && info.total > 0 && info.used !== null) {
    metrics.push(
      ctx.line.progress({
        label: "Pass",
        used: info.used,
        limit: info.total,
        format: { kind: "dollars" },
        resetsAt: info.resetsAt || undefined,
        periodDurationMs: MONTH_MS,
      })
    );
    if (info.bonus > 0) {
      metrics.push(ctx.line.text({ label: "Pass bonus", value: ctx.fmt.money(info.bonus) + " bonus credits this period", detail: true }));
    }
  }
  var topUpOn = topUp.error === undefined ? autoTopUp(ctx, topUp.value, credits.value) : autoTopUp(ctx, null, credits.value);
  if (topUpOn !== null) {
    metrics.push(ctx.line.badge({ label: "Auto top-up", text: topUpOn ? "On" : "Off", color: topUpOn ? "green" : "grey", detail: true }));
  }
  return { source: source, plan: info ? info.plan : "Credits", metrics: metrics };
}

globalThis.__usagestat_plugin = {
  id: "kilo",
  probe: function (ctx) {
    var mode = ctx.sourceMode;
    if (mode !== "auto" && mode !== "api" && mode !== "local") {
      ctx.util.fail("unsupported", "Kilo supports the api and local sources.");
    }
    if (mode === "api" || mode === "auto") {
      var key = keyFromConfig(ctx);
      if (key) return fetchUsage(ctx, key, "api");
      if (mode === "api") ctx.util.fail("missing-auth", "No Kilo API key: set apiKey in the config or KILO_API_KEY.");
    }
    var cli = keyFromCli(ctx);
    if (!cli) {
      ctx.util.fail(
        "missing-auth",
        mode === "local"
          ? "Kilo CLI session not found (" + authFile(ctx) + "). Run `kilo auth login`."
          : "Kilo credentials not found. " + LOGIN_HINT
      );
    }
    return fetchUsage(ctx, cli, "local");
  },
};
