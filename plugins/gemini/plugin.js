// Gemini CLI (Google Code Assist): remaining request quota per model family
// for accounts signed in with "Login with Google".
//
// oauth: ~/.gemini/oauth_creds.json -> Cloud Code loadCodeAssist (project,
// tier) -> retrieveUserQuota (buckets with remaining fractions).
// Google refresh tokens do not rotate: an expired access token is refreshed
// freely and the new one cached in pluginDataDir (ctx.oauth.google); the
// Gemini CLI's own file is never rewritten.

var NAME = "Gemini";
var CLIENT_ID = "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com";
var CLIENT_SECRET = "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"; // public installed-app secret of gemini-cli (RFC 8252)
var LOGIN = "Run `gemini` and sign in with Google.";
var LOGIN_AGAIN = "Run `gemini` and sign in with Google again.";
var RETIRED = "Gemini CLI no longer serves this account's tier (consumer tier retired) — use the antigravity provider.";
var DAY_MS = 24 * 3600 * 1000;
var CREDS = "~/.gemini/oauth_creds.json";
var SETTINGS = "~/.gemini/settings.json";

function selectedAuthType(ctx) {
  var settings = ctx.util.readJson(SETTINGS);
  if (!settings || typeof settings !== "object") return null;
  var sec = settings.security && settings.security.auth;
  return (sec && sec.selectedType) || settings.selectedAuthType || null;
}

function readCreds(ctx) {
  var file = ctx.oauth.readJsonFile(CREDS);
  var d = file && file.data;
  if (!d || typeof d !== "object" || (!d.access_token && !d.refresh_token)) return null;
  return {
    accessToken: d.access_token ? String(d.access_token) : null,
    refreshToken: d.refresh_token ? String(d.refresh_token) : null,
    expiresAtMs: d.expiry_date !== undefined && d.expiry_date !== null ? Number(d.expiry_date) : null,
    idToken: d.id_token ? String(d.id_token) : null,
  };
}

function family(modelId) {
  var id = typeof modelId === "string" ? modelId.toLowerCase() : "";
  if (/flash[-_ ]?lite/.test(id)) return "Flash Lite";
  if (/flash/.test(id)) return "Flash";
  if (/pro/.test(id)) return "Pro";
  return null;
}

function quotaLines(ctx, buckets) {
  var lowest = {};
  for (var i = 0; i < buckets.length; i++) {
    var b = buckets[i];
    if (!b || typeof b !== "object") continue;
    var fam = family(b.modelId);
    if (!fam) continue;
    var used = ctx.cloudcode.usedPercent(b.remainingFraction);
    if (used === null) continue;
    if (!lowest[fam] || used > lowest[fam].used) lowest[fam] = { used: used, resetTime: b.resetTime };
  }
  var order = ["Pro", "Flash", "Flash Lite"];
  var lines = [];
  for (var j = 0; j < order.length; j++) {
    var q = lowest[order[j]];
    if (!q) continue;
    lines.push(
      ctx.line.progress({
        label: order[j],
        used: q.used,
        limit: 100,
        format: { kind: "percent" },
        resetsAt: ctx.util.toIso(q.resetTime) || undefined,
        periodDurationMs: DAY_MS,
        detail: order[j] === "Flash Lite",
      })
    );
  }
  return lines;
}

function checkCloudCode(ctx, resp, what) {
  if (resp.status === 0) ctx.util.fail("failed", "Could not reach Google Cloud Code (" + what + "): " + resp.error);
  if (resp.status >= 400 && ctx.cloudcode.isRetired(resp)) ctx.util.fail("unsupported", RETIRED);
  ctx.util.checkResponse(resp, { name: "Google Cloud Code (" + what + ")", loginHint: LOGIN_AGAIN });
  return ctx.util.expectJson(resp, "Google Cloud Code (" + what + ")");
}

// Fallback when loadCodeAssist names no project: the user's Gemini API project.
// Optional: it uses the current token as is (a 401/403 here, e.g. a token
// without the cloud-platform scope, must not spend the probe's one refresh)
// and any failure just means "no project".
function discoverProject(ctx, session) {
  var resp;
  try {
    resp = ctx.host.http.request({
      method: "GET",
      url: "https://cloudresourcemanager.googleapis.com/v1/projects",
      headers: { Authorization: "Bearer " + session.token(), Accept: "application/json" },
      timeoutMs: 15000,
    });
  } catch (e) {
    ctx.host.log.warn("gemini: project lookup failed: " + String((e && e.message) || e));
    return null;
  }
  if (resp.status < 200 || resp.status >= 300) return null;
  var data = ctx.util.tryParseJson(resp.bodyText);
  var projects = (data && data.projects) || [];
  for (var i = 0; i < projects.length; i++) {
    var p = projects[i] || {};
    var labels = p.labels || {};
    var id = ctx.util.text(p.projectId);
    if (/^gen-lang-client/.test(id) || "generative-language" in labels) return id || null;
  }
  return null;
}

function probeOauth(ctx) {
  if (ctx.provider.apiKey) {
    ctx.util.fail("unsupported", "A Gemini API key cannot read the Gemini CLI quota. Remove apiKey from the config and " + LOGIN.toLowerCase());
  }
  var authType = selectedAuthType(ctx);
  if (authType && authType !== "oauth-personal") {
    ctx.util.fail(
      "unsupported",
      "Gemini CLI is set to '" + authType + "' authentication; only Login with Google (oauth-personal) has a readable quota."
    );
  }
  var session = ctx.oauth.google.session({
    name: NAME,
    loginHint: LOGIN_AGAIN,
    missingMessage: "Not logged in. " + LOGIN,
    load: function () { return readCreds(ctx); },
    clientId: ctx.host.env.get("GEMINI_OAUTH_CLIENT_ID") || CLIENT_ID,
    clientSecret: ctx.host.env.get("GEMINI_OAUTH_CLIENT_SECRET") || CLIENT_SECRET,
    messages: { invalid_grant: "Gemini session expired." },
  });
  var base = (ctx.provider.baseUrl || ctx.cloudcode.prodBase).replace(/\/+$/, "");
  var load = checkCloudCode(
    ctx,
    ctx.cloudcode.call(session, {
      base: base,
      method: "loadCodeAssist",
      body: { metadata: { ideType: "GEMINI_CLI", pluginType: "GEMINI" } },
    }),
    "loadCodeAssist"
  );
  if (!load.currentTier && Array.isArray(load.ineligibleTiers) && load.ineligibleTiers.length) {
    ctx.util.fail("unsupported", RETIRED);
  }
  var project = ctx.provider.workspaceId || ctx.cloudcode.projectId(load) || discoverProject(ctx, session);
  var quota = checkCloudCode(
    ctx,
    ctx.cloudcode.call(session, { base: base, method: "retrieveUserQuota", body: project ? { project: project } : {} }),
    "retrieveUserQuota"
  );
  var idPayload = ctx.jwt.decodePayload(session.creds().idToken);
  var plan = ctx.cloudcode.tierPlan(load, { hostedDomain: idPayload && idPayload.hd });
  var metrics = quotaLines(ctx, Array.isArray(quota.buckets) ? quota.buckets : []);
  if (!metrics.length) metrics.push(ctx.line.badge({ label: "Status", text: "No usage data", color: "grey" }));
  var email = ctx.util.text(idPayload && idPayload.email);
  if (email) metrics.push(ctx.line.text({ label: "Account", value: email, detail: true }));
  return { source: "oauth", plan: plan, metrics: metrics };
}

globalThis.__usagestat_plugin = {
  id: "gemini",
  probe: function (ctx) {
    return probeOauth(ctx);
  },
};
