// Azure OpenAI. Spend and usage live in Azure Resource Manager, which does not
// accept the resource API key, so:
// - api (default): the key can only prove the deployment answers — a 1-token
//   chat completion (billable; polled at most hourly) plus the rate-limit
//   headers it returns;
// - oauth: an Entra ID token (service principal or `az`) reads the month's
//   token/request metrics from Azure Monitor and the TPM quota allocation.
var PROVIDER = "Azure OpenAI";
var ARM = "https://management.azure.com";
var DEFAULT_API_VERSION = "2024-10-21";

function settings(ctx) { return ctx.provider.settings || {}; }

// Requests go through ctx.keyapi.request: a network error reads "Could not reach
// <service>", and an endpoint on a host the manifest does not declare (only
// possible from AZURE_OPENAI_ENDPOINT; a config baseUrl is always allowed)
// says to set it as `baseUrl`.

// ---- api: deployment check ---------------------------------------------------------------
function endpointOf(ctx) {
  var raw = ctx.provider.baseUrl || ctx.creds.envValue("AZURE_OPENAI_ENDPOINT");
  if (!raw) return null;
  var e = String(raw).trim().replace(/\/+$/, "").replace(/\/openai(\/v1)?$/, "");
  if (!/^https:\/\//i.test(e)) ctx.util.fail("failed", "The Azure OpenAI endpoint must be an https:// URL (e.g. https://<resource>.openai.azure.com).");
  return e;
}

function chat(ctx, o, useCompletionTokens) {
  var body = { messages: [{ role: "user", content: "ping" }] };
  var url;
  if (o.v1) {
    url = o.endpoint + "/openai/v1/chat/completions";
    body.model = o.deployment;
    body.max_completion_tokens = 16;
  } else {
    url = o.endpoint + "/openai/deployments/" + encodeURIComponent(o.deployment) + "/chat/completions?api-version=" + encodeURIComponent(o.apiVersion);
    if (useCompletionTokens) body.max_completion_tokens = 16;
    else body.max_tokens = 1;
  }
  return ctx.keyapi.request({
    name: PROVIDER,
    method: "POST",
    url: url,
    headers: { "api-key": o.key, "Content-Type": "application/json", Accept: "application/json" },
    bodyText: JSON.stringify(body),
    timeoutMs: 30000,
  });
}

function probeApi(ctx, key) {
  var endpoint = endpointOf(ctx);
  if (!endpoint) ctx.util.fail("missing-auth", "No Azure OpenAI endpoint: set baseUrl in the config or AZURE_OPENAI_ENDPOINT (https://<resource>.openai.azure.com).");
  var deployment = ctx.provider.workspaceId || ctx.creds.envValue(["AZURE_OPENAI_DEPLOYMENT_NAME", "AZURE_OPENAI_DEPLOYMENT"]);
  if (!deployment) ctx.util.fail("missing-auth", "No Azure OpenAI deployment: set workspaceId in the config or AZURE_OPENAI_DEPLOYMENT_NAME.");
  var apiVersion = settings(ctx).apiVersion || ctx.creds.envValue("AZURE_OPENAI_API_VERSION") || DEFAULT_API_VERSION;
  var o = { endpoint: endpoint, deployment: deployment, apiVersion: apiVersion, key: key, v1: apiVersion === "v1" };
  var resp = chat(ctx, o, false);
  // Reasoning-model deployments refuse max_tokens; ask once more the new way.
  if (resp.status === 400 && !o.v1 && /max_tokens|max_completion_tokens|unsupported_parameter/i.test(resp.bodyText || "")) {
    resp = chat(ctx, o, true);
  }
  if (resp.status === 401 || resp.status === 403) {
    ctx.util.fail("credential-denied", "Azure OpenAI key invalid for this endpoint (HTTP " + resp.status + "). Keys belong to one resource: check the endpoint and key.");
  }
  if (resp.status === 404) {
    ctx.util.fail("failed", "Deployment \"" + deployment + "\" not found on " + endpoint.replace(/^https:\/\//, "") + " (HTTP 404): check the deployment name and api-version.");
  }
  if (resp.status === 429) {
    var wait = ctx.util.retryAfterSec(resp.headers);
    var ms = ctx.num.of(resp.headers["retry-after-ms"]);
    if (!wait && ms !== null) wait = Math.max(1, Math.ceil(ms / 1000));
    ctx.util.fail("rate-limited", "The deployment's rate limit (TPM/RPM quota) is exhausted; retry in " + ctx.fmt.resetIn(wait || 60) + ".", wait || 60);
  }
  ctx.util.checkResponse(resp, { name: PROVIDER });
  var data = ctx.util.expectJson(resp, PROVIDER);
  var metrics = [ctx.line.badge({ label: "Deployment", text: deployment + " reachable", color: "green" })];
  var model = ctx.util.text(data.model);
  if (model) metrics.push(ctx.line.text({ label: "Model", value: model }));
  ["requests", "tokens"].forEach(function (kind) {
    var info = ctx.ratelimit.read(resp.headers, kind);
    if (!info) return;
    var label = kind === "requests" ? "Requests" : "Tokens";
    var bar = ctx.ratelimit.progress(info, { label: label + " (rate window)", suffix: kind, detail: kind === "tokens" });
    if (bar) metrics.push(bar);
    else if (info.remaining !== null) metrics.push(ctx.line.text({ label: label + " remaining", value: String(info.remaining) + " in the current rate window", detail: kind === "tokens" }));
  });
  metrics.push(ctx.line.text({
    label: "Usage",
    value: "API keys cannot read usage or spend — use oauth mode (Entra ID) for token metrics and quota",
    detail: true,
  }));
  return { source: "api", metrics: metrics };
}

// ---- oauth: Entra token + Azure Resource Manager ---------------------------------------------
function spToken(ctx, sp) {
  var resp = ctx.keyapi.request({
    name: "Microsoft Entra ID",
    method: "POST",
    url: "https://login.microsoftonline.com/" + encodeURIComponent(sp.tenant) + "/oauth2/v2.0/token",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    bodyText: "grant_type=client_credentials&client_id=" + encodeURIComponent(sp.clientId) +
      "&client_secret=" + encodeURIComponent(sp.clientSecret) + "&scope=" + encodeURIComponent(ARM + "/.default"),
    timeoutMs: 20000,
  });
  if (resp.status === 400 || resp.status === 401) {
    var err = ctx.util.tryParseJson(resp.bodyText) || {};
    ctx.util.fail("credential-denied", "Entra ID refused the service principal (" + (ctx.util.text(err.error) || "HTTP " + resp.status) + "): check AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET.");
  }
  ctx.util.checkResponse(resp, { name: "Microsoft Entra ID" });
  var data = ctx.util.expectJson(resp, "Microsoft Entra ID");
  var token = ctx.util.text(data.access_token);
  if (!token) ctx.util.fail("failed", "Unexpected response from Microsoft Entra ID: missing access_token.");
  return { token: token, subscription: null };
}

function azToken(ctx) {
  var out;
  try {
    out = ctx.host.command.run({ program: "az", args: ["account", "get-access-token", "--resource", ARM + "/", "--output", "json"], timeoutMs: 30000 });
  } catch (e) {
    ctx.util.fail("missing-auth", "No Entra ID credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or install the Azure CLI and run `az login`.");
  }
  if (out.status !== 0) {
    var err = String(out.stderr || "").trim().split("\n")[0].slice(0, 200);
    ctx.util.fail(/login|expired|AADSTS/i.test(err) ? "credential-denied" : "missing-auth", "`az account get-access-token` failed (" + (err || "exit " + out.status) + "). Run `az login`.");
  }
  var data = ctx.util.tryParseJson(out.stdout);
  if (!data || !data.accessToken) ctx.util.fail("failed", "`az account get-access-token` printed no accessToken.");
  return { token: data.accessToken, subscription: data.subscription || null };
}

function servicePrincipal(ctx) {
  var s = settings(ctx);
  var sp = {
    tenant: s.tenantId || ctx.creds.envValue("AZURE_TENANT_ID"),
    clientId: s.clientId || ctx.creds.envValue("AZURE_CLIENT_ID"),
    clientSecret: s.clientSecret || ctx.creds.envValue("AZURE_CLIENT_SECRET"),
  };
  return sp.tenant && sp.clientId && sp.clientSecret ? sp : null;
}

function armGet(ctx, token, path, what) {
  var resp = ctx.keyapi.request({
    name: "Azure Resource Manager",
    method: "GET",
    url: ARM + path,
    headers: { Authorization: "Bearer " + token, Accept: "application/json" },
    timeoutMs: 20000,
  });
  if (resp.status === 401 || resp.status === 403) {
    ctx.util.fail("credential-denied", "The Entra token lacks " + what + " (HTTP " + resp.status + "). Note that an Azure OpenAI API key never works against Azure Resource Manager.");
  }
  if (resp.status === 404) ctx.util.fail("failed", "Azure Resource Manager: " + path.split("?")[0] + " not found (HTTP 404): check settings.resourceId / region.");
  ctx.util.checkResponse(resp, { name: "Azure Resource Manager" });
  return ctx.util.expectJson(resp, "Azure Resource Manager");
}

function sumMetric(ctx, data, name) {
  var values = data.value || [];
  for (var i = 0; i < values.length; i++) {
    if (!values[i].name || values[i].name.value !== name) continue;
    var total = 0;
    (values[i].timeseries || []).forEach(function (ts) {
      (ts.data || []).forEach(function (p) { total += ctx.num.of(p.total, 0); });
    });
    return total;
  }
  return null;
}

function probeOauth(ctx) {
  var sp = servicePrincipal(ctx);
  var auth = sp ? spToken(ctx, sp) : azToken(ctx);
  var resourceId = settings(ctx).resourceId ? String(settings(ctx).resourceId).replace(/\/+$/, "") : null;
  if (resourceId && !/^\/subscriptions\/[^\/]+\/resourceGroups\/[^\/]+\/providers\/Microsoft\.CognitiveServices\/accounts\/[^\/]+$/i.test(resourceId)) {
    ctx.util.fail("failed", "settings.resourceId must look like /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>.");
  }
  var subscription = (resourceId && resourceId.split("/")[2]) || ctx.creds.envValue("AZURE_SUBSCRIPTION_ID") || auth.subscription;
  var location = ctx.provider.region ? String(ctx.provider.region).replace(/\s+/g, "").toLowerCase() : null;
  if (!resourceId && !location) {
    ctx.util.fail("missing-auth", "Set settings.resourceId (the Azure OpenAI resource) for token metrics, and/or region (e.g. eastus) for the quota.");
  }
  var metrics = [];
  if (resourceId) {
    var now = Date.now();
    var span = new Date(ctx.calendar.monthStart(now)).toISOString().replace(/\.\d{3}Z$/, "Z") + "/" + new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z");
    var data = armGet(ctx, auth.token, resourceId + "/providers/Microsoft.Insights/metrics?api-version=2023-10-01" +
      "&metricnames=ProcessedPromptTokens,GeneratedTokens,AzureOpenAIRequests&timespan=" + encodeURIComponent(span) +
      "&interval=P1D&aggregation=Total", "Monitoring Reader on the resource");
    var prompt = sumMetric(ctx, data, "ProcessedPromptTokens");
    var completion = sumMetric(ctx, data, "GeneratedTokens");
    var requests = sumMetric(ctx, data, "AzureOpenAIRequests");
    if (prompt === null && completion === null && requests === null) {
      ctx.util.fail("failed", "Unexpected response from Azure Monitor: no ProcessedPromptTokens / GeneratedTokens / AzureOpenAIRequests series.");
    }
    metrics.push(ctx.line.text({ label: "Prompt tokens (month)", value: ctx.fmt.tokens(prompt || 0) }));
    metrics.push(ctx.line.text({ label: "Completion tokens (month)", value: ctx.fmt.tokens(completion || 0) }));
    metrics.push(ctx.line.text({ label: "Requests (month)", value: String(Math.round(requests || 0)) }));
  }
  if (location) {
    if (!subscription) ctx.util.fail("missing-auth", "No Azure subscription id for the quota: set settings.resourceId or AZURE_SUBSCRIPTION_ID.");
    var usages = armGet(ctx, auth.token, "/subscriptions/" + encodeURIComponent(subscription) + "/providers/Microsoft.CognitiveServices/locations/" +
      encodeURIComponent(location) + "/usages?api-version=2023-05-01", "Reader on the subscription");
    var rows = ctx.util.requireField(usages, "value", "Azure Resource Manager") || [];
    var shown = 0;
    rows.forEach(function (u) {
      var name = ctx.util.text(u.name && u.name.value);
      var current = ctx.num.of(u.currentValue);
      var limit = ctx.num.of(u.limit);
      if (!/^OpenAI\./.test(name) || current === null || !(current > 0) || limit === null || !(limit > 0)) return;
      var parts = name.split(".");
      var label = "Quota " + parts.slice(2).join(".") + (parts[1] && parts[1] !== "Standard" ? " (" + parts[1] + ")" : "");
      metrics.push(ctx.line.progress({
        label: label,
        used: current,
        limit: limit,
        format: { kind: "count", suffix: "K TPM" },
        detail: shown >= 3,
      }));
      shown++;
    });
    if (!shown) metrics.push(ctx.line.text({ label: "Quota", value: "No Azure OpenAI quota allocated in " + location, detail: true }));
  }
  return { source: "oauth", metrics: metrics };
}

function probe(ctx) {
  var key = ctx.provider.apiKey || ctx.creds.envValue("AZURE_OPENAI_API_KEY");
  var mode = ctx.sourceMode;
  if (mode === "oauth") return probeOauth(ctx);
  if (mode === "api" || key) {
    if (!key) ctx.util.fail("missing-auth", "No Azure OpenAI key: set apiKey in the config or AZURE_OPENAI_API_KEY.");
    return probeApi(ctx, key);
  }
  if (servicePrincipal(ctx) || settings(ctx).resourceId) return probeOauth(ctx);
  ctx.util.fail("missing-auth", "No Azure OpenAI credentials: set apiKey (or AZURE_OPENAI_API_KEY) with an endpoint and deployment, or use oauth mode with settings.resourceId.");
}

globalThis.__usagestat_plugin = { id: "azure-openai", probe: probe };
