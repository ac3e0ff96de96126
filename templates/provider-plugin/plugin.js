// Example Provider: a copyable usagestat plugin with one working example per
// source mode. `usagestat plugin new my-provider --mode api` copies this file
// keeping only the section of the chosen mode (the "--- mode: X ---" markers).
//
// A plugin is a classic script (no imports) that sets
// globalThis.__usagestat_plugin = { id, probe(ctx) }. probe returns
// { plan?, metrics: [...] } or throws { code, message }; see docs/plugins.md.

var PROVIDER = "Example Provider";
var FIVE_HOURS_MS = 5 * 60 * 60 * 1000;

// Shared by every mode: the provider's usage JSON -> metric lines.
// Expected shape: {"plan": "pro", "session": {"used": 37, "limit": 100,
// "resetsAt": "2026-01-15T15:00:00Z"}, "credits": {"used": 950, "limit": 1000}}
function toResult(ctx, data, source) {
  var session = ctx.util.requireField(data, "session", PROVIDER);
  var metrics = [
    ctx.line.progress({
      label: "Session",
      used: Number(session.used),
      limit: Number(session.limit) || 100,
      format: { kind: "percent" },
      resetsAt: ctx.util.toIso(session.resetsAt),
      periodDurationMs: FIVE_HOURS_MS,
    }),
  ];
  if (data.credits) {
    metrics.push(
      ctx.line.progress({
        label: "Credits",
        used: Number(data.credits.used),
        limit: Number(data.credits.limit),
        format: { kind: "count", suffix: "credits" },
      })
    );
  }
  return { source: source, plan: data.plan ? ctx.fmt.planLabel(data.plan) : undefined, metrics: metrics };
}

// --- mode: local ---
// local: read a file the provider's own tool keeps up to date.
function probeLocal(ctx) {
  var path = "~/.example-provider/usage.json";
  if (!ctx.host.fs.exists(path)) {
    ctx.util.fail("missing-auth", "No " + path + " found. Run `example-cli login` first.");
  }
  var data = ctx.util.tryParseJson(ctx.host.fs.readText(path));
  if (!data) ctx.util.fail("failed", path + " is not valid JSON.");
  return toResult(ctx, data, "local");
}
// --- end mode ---

// --- mode: api ---
// api: an API key from config (apiKey / apiKeyEnv / apiKeyCommand) or the env.
function probeApi(ctx) {
  var key = ctx.provider.apiKey || ctx.host.env.get("EXAMPLE_PROVIDER_API_KEY");
  if (!key) ctx.util.fail("missing-auth", "No API key: set apiKey in the config or EXAMPLE_PROVIDER_API_KEY.");
  var base = ctx.provider.baseUrl || "https://api.example.com";
  var resp = ctx.host.http.request({
    method: "GET",
    url: base + "/v1/usage",
    headers: { Authorization: "Bearer " + key, Accept: "application/json" },
    timeoutMs: 10000,
  });
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: "Check the API key." });
  return toResult(ctx, ctx.util.expectJson(resp, PROVIDER), "api");
}
// --- end mode ---

// --- mode: oauth ---
// oauth: a token file with a refresh token. Refresh only when the access token
// is expired or expires within 5 minutes, under a lock, after re-reading the
// file, and write the new tokens back in the file's own format (SPEC §3.7).
var CREDENTIALS = "~/.example-provider/credentials.json";

function readCredentials(ctx) {
  if (!ctx.host.fs.exists(CREDENTIALS)) return null;
  var text = ctx.host.fs.readText(CREDENTIALS);
  var data = ctx.util.tryParseJson(text);
  return data && data.accessToken ? { text: text, data: data } : null;
}

function refreshTokens(ctx) {
  return ctx.util.withLock("refresh", function () {
    var current = readCredentials(ctx); // someone may have refreshed meanwhile
    if (!current) ctx.util.fail("missing-auth", "Not logged in. Run `example-cli login`.");
    if (!ctx.util.needsRefreshByExpiry({ expiresAtMs: current.data.expiresAt })) return current.data.accessToken;
    if (!ctx.provider.writeCredentials) {
      ctx.util.fail("credential-denied", "The token expired. Run `example-cli login` to refresh it.");
    }
    var resp = ctx.host.http.request({
      method: "POST",
      url: "https://api.example.com/oauth/token",
      headers: { "Content-Type": "application/json" },
      bodyText: JSON.stringify({ grant_type: "refresh_token", refresh_token: current.data.refreshToken }),
    });
    if (resp.status === 400 || resp.status === 401) {
      ctx.util.fail("credential-denied", "The session expired. Run `example-cli login` again.");
    }
    ctx.util.checkResponse(resp, { name: PROVIDER });
    var tokens = ctx.util.expectJson(resp, PROVIDER);
    current.data.accessToken = tokens.access_token;
    if (tokens.refresh_token) current.data.refreshToken = tokens.refresh_token;
    current.data.expiresAt = Date.now() + Number(tokens.expires_in || 3600) * 1000;
    ctx.host.fs.writeText(CREDENTIALS, ctx.util.stringifyLike(current.text, current.data));
    return current.data.accessToken;
  });
}

function probeOauth(ctx) {
  var creds = readCredentials(ctx);
  if (!creds) ctx.util.fail("missing-auth", "Not logged in. Run `example-cli login`.");
  var token = creds.data.accessToken;
  if (ctx.util.needsRefreshByExpiry({ expiresAtMs: creds.data.expiresAt })) token = refreshTokens(ctx);
  var resp = ctx.host.http.request({
    method: "GET",
    url: "https://api.example.com/v1/usage",
    headers: { Authorization: "Bearer " + token, Accept: "application/json" },
  });
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: "Run `example-cli login`." });
  return toResult(ctx, ctx.util.expectJson(resp, PROVIDER), "oauth");
}
// --- end mode ---

// --- mode: cli ---
// cli: ask the provider's own command-line tool (declared in permissions.commands).
function probeCli(ctx) {
  var out;
  try {
    out = ctx.host.command.run({ program: "example-cli", args: ["usage", "--json"], timeoutMs: 10000 });
  } catch (e) {
    ctx.util.fail("missing-auth", "example-cli is not installed or failed: " + String(e.message || e));
  }
  if (out.status !== 0) ctx.util.fail("failed", "example-cli exited with status " + out.status + ".");
  var data = ctx.util.tryParseJson(out.stdout);
  if (!data) ctx.util.fail("failed", "example-cli printed something that is not JSON.");
  return toResult(ctx, data, "cli");
}
// --- end mode ---

// --- mode: web ---
// web: a browser session cookie (config cookieHeader, `usagestat auth
// import-cookies --provider … --save`, or the env var).
function probeWeb(ctx) {
  var cookie = ctx.provider.cookieHeader || ctx.host.env.get("EXAMPLE_PROVIDER_COOKIE");
  if (!cookie) {
    ctx.util.fail("missing-auth", "No session cookie: run `usagestat auth import-cookies --provider " + ctx.provider.id + " --save`.");
  }
  var resp = ctx.host.http.request({
    method: "GET",
    url: "https://example.com/api/usage",
    headers: { Cookie: cookie, Accept: "application/json" },
  });
  ctx.util.checkResponse(resp, {
    name: PROVIDER,
    loginHint: "Session expired — run `usagestat auth import-cookies --provider " + ctx.provider.id + " --save`.",
  });
  return toResult(ctx, ctx.util.expectJson(resp, PROVIDER), "web");
}
// --- end mode ---

globalThis.__usagestat_plugin = {
  id: "custom-provider-template",
  probe: function (ctx) {
    var modes = { local: probeLocal, api: probeApi, oauth: probeOauth, cli: probeCli, web: probeWeb };
    if (ctx.sourceMode !== "auto") return modes[ctx.sourceMode](ctx);
    // auto: the local file when present, else the API key.
    if (ctx.host.fs.exists("~/.example-provider/usage.json")) return probeLocal(ctx);
    return probeApi(ctx);
  },
};
