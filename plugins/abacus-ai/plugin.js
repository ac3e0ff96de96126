// Abacus.AI ChatLLM / RouteLLM: the organisation's monthly compute points
// (credits) and plan, from the console's private RPC endpoints. Needs the
// browser session cookie of apps.abacus.ai; there is no API-key endpoint.
var PROVIDER = "Abacus.AI";
var BASE = "https://apps.abacus.ai/api/";

function loginHint(ctx) {
  return "Abacus session expired — copy a fresh Cookie header from apps.abacus.ai (or run `usagestat auth import-cookies --provider " +
    ctx.provider.id + " --save`).";
}

function isAuthMessage(text) {
  return /expired|session|log ?in|authenticat|unauthori[sz]ed|forbidden/i.test(String(text || ""));
}

// One RPC call -> its `result` object (the console's {success, result, error} envelope).
function rpc(ctx, cookie, name, method) {
  var resp = ctx.host.http.request({
    method: method,
    url: BASE + name,
    headers: method === "POST"
      ? { Cookie: cookie, Accept: "application/json", "Content-Type": "application/json" }
      : { Cookie: cookie, Accept: "application/json" },
    bodyText: method === "POST" ? "{}" : undefined,
    timeoutMs: 15000,
  });
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: loginHint(ctx) });
  if (/^\s*</.test(resp.bodyText || "")) ctx.util.fail("credential-denied", "Abacus.AI answered with a web page instead of data. " + loginHint(ctx));
  var data = ctx.util.expectJson(resp, PROVIDER);
  if (data.success !== true || !data.result || typeof data.result !== "object") {
    var message = typeof data.error === "string" ? data.error : "";
    if (isAuthMessage(message)) ctx.util.fail("credential-denied", loginHint(ctx));
    ctx.util.fail("failed", "Abacus.AI " + name + " failed" + (message ? ": " + message.slice(0, 200) : " (no result)") + ".");
  }
  return data.result;
}

function probe(ctx) {
  var found = ctx.cookieAuth.find({ env: ["ABACUS_COOKIE"] });
  var cookie = found && found.header;
  if (!cookie) {
    ctx.util.fail("missing-auth", "No Abacus.AI session cookie: run `usagestat auth import-cookies --provider " + ctx.provider.id +
      " --save`, set cookieHeader, or ABACUS_COOKIE (the Cookie header of an apps.abacus.ai request).");
  }
  var points = rpc(ctx, cookie, "_getOrganizationComputePoints", "GET");
  var total = ctx.num.of(points.totalComputePoints);
  var left = ctx.num.of(points.computePointsLeft);
  if (total === null || left === null) {
    ctx.util.fail("failed", "Unexpected response from Abacus.AI: missing result." + (total === null ? "totalComputePoints" : "computePointsLeft") + ".");
  }
  // Billing info only adds the plan and reset date; a non-auth failure there
  // still shows the credits.
  var billing = {};
  try {
    billing = rpc(ctx, cookie, "_getBillingInfo", "POST");
  } catch (e) {
    if (e && e.code === "credential-denied") throw e;
    ctx.host.log.warn("Abacus.AI billing info unavailable: " + (e && e.message ? e.message : String(e)));
  }
  var plan = ctx.util.text(billing.currentTier) || undefined;
  if (total <= 0) {
    return { source: "web", plan: plan, metrics: [ctx.line.badge({ label: "Credits", text: "No active subscription", color: "grey" })] };
  }
  var resetMs = ctx.util.parseDateMs(billing.nextBillingDate);
  return {
    source: "web",
    plan: plan,
    metrics: [ctx.calendar.monthlyProgress({
      label: "Credits",
      used: Math.max(0, total - left),
      limit: total,
      format: { kind: "count", suffix: "credits" },
      resetMs: resetMs,
    })],
  };
}

globalThis.__usagestat_plugin = { id: "abacus-ai", probe: probe };
