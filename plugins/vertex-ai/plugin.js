// Vertex AI: how close a Google Cloud project's Vertex AI quotas came to their
// limits in the last 24 hours, from Cloud Monitoring's consumer-quota metrics.
//
// `oauth` signs in with Application Default Credentials: a service-account
// key (RS256 JWT exchanged at Google's token endpoint) or gcloud's
// authorized_user refresh token. Google tokens do not rotate: new access
// tokens are cached in pluginDataDir and gcloud's files are never written.
// `local` sums Claude Code usage through Vertex (model ids with "@version")
// from Claude Code's own logs.
var PROVIDER = "Vertex AI";
var TOKEN_URL = "https://oauth2.googleapis.com/token";
var MONITORING = "https://monitoring.googleapis.com/v3/projects/";
var SCOPE = "https://www.googleapis.com/auth/monitoring.read";
var LOGIN = "Run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file).";
var MAX_PAGES = 5;
var QUOTA_FILTER = ' AND resource.type="consumer_quota" AND resource.label.service="aiplatform.googleapis.com"';
var SERIES = {
  allocation: 'metric.type="serviceruntime.googleapis.com/quota/allocation/usage"' + QUOTA_FILTER,
  rate: 'metric.type="serviceruntime.googleapis.com/quota/rate/net_usage"' + QUOTA_FILTER,
  limit: 'metric.type="serviceruntime.googleapis.com/quota/limit"' + QUOTA_FILTER,
};

// ---- credentials ----------------------------------------------------------------
function gcloudDir(ctx) {
  var custom = ctx.creds.env(["CLOUDSDK_CONFIG"]);
  if (custom) return custom.value.replace(/[\\/]+$/, "");
  if (ctx.app.platform === "windows") {
    var appData = ctx.creds.env(["APPDATA"]);
    return appData ? appData.value.replace(/[\\/]+$/, "") + "/gcloud" : null;
  }
  return "~/.config/gcloud";
}

// {path, data} of the credential file, or null.
function credentialFile(ctx) {
  var explicit = ctx.creds.env(["GOOGLE_APPLICATION_CREDENTIALS"]);
  var path = explicit ? explicit.value : null;
  if (!path) {
    var dir = gcloudDir(ctx);
    path = dir ? dir + "/application_default_credentials.json" : null;
  }
  if (!path || !ctx.host.fs.exists(path)) {
    if (explicit) ctx.util.fail("missing-auth", "GOOGLE_APPLICATION_CREDENTIALS points to a file that does not exist. " + LOGIN);
    return null;
  }
  var file = ctx.creds.readJson(path, explicit ? "The GOOGLE_APPLICATION_CREDENTIALS file" : "application_default_credentials.json");
  return { path: path, data: file.data };
}

// [core] project from gcloud's active configuration (an INI file).
function gcloudProject(ctx) {
  var dir = gcloudDir(ctx);
  if (!dir) return null;
  var active = "default";
  if (ctx.host.fs.exists(dir + "/active_config")) {
    var name = String(ctx.host.fs.readText(dir + "/active_config")).trim();
    if (/^[A-Za-z0-9_.-]+$/.test(name)) active = name;
  }
  var path = dir + "/configurations/config_" + active;
  if (!ctx.host.fs.exists(path)) return null;
  var section = "";
  var lines = String(ctx.host.fs.readText(path)).split(/\r?\n/);
  for (var i = 0; i < lines.length; i++) {
    var line = lines[i].trim();
    var head = /^\[([^\]]+)\]$/.exec(line);
    if (head) section = head[1].trim().toLowerCase();
    var kv = /^project\s*=\s*(\S+)/.exec(line);
    if (section === "core" && kv) return kv[1];
  }
  return null;
}

function projectOf(ctx, creds) {
  if (ctx.provider.workspaceId && String(ctx.provider.workspaceId).trim()) return String(ctx.provider.workspaceId).trim();
  var env = ctx.creds.env(["GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"]);
  if (env) return env.value;
  return gcloudProject(ctx) || creds.quota_project_id || creds.project_id || null;
}

// The RS256-signed JWT a service account exchanges for an access token.
function serviceAccountAssertion(ctx, sa, audience) {
  var now = Math.floor(Date.now() / 1000);
  var header = { alg: "RS256", typ: "JWT" };
  if (sa.private_key_id) header.kid = sa.private_key_id;
  var claims = { iss: sa.client_email, scope: SCOPE, aud: audience, iat: now, exp: now + 3600 };
  var input = ctx.base64.encodeUrl(JSON.stringify(header)) + "." + ctx.base64.encodeUrl(JSON.stringify(claims));
  var signature;
  try {
    signature = ctx.host.crypto.rsaSha256Sign(sa.private_key, input);
  } catch (e) {
    ctx.util.fail("credential-denied", "The service-account private_key could not be used to sign (" +
      String((e && e.message) || e).replace(/^crypto\.rsaSha256Sign:\s*/, "") + "). Download a new JSON key for " + sa.client_email + ".");
  }
  return input + "." + signature;
}

function serviceAccountSession(ctx, sa) {
  if (!sa.client_email || !sa.private_key) {
    ctx.util.fail("failed", "The service-account key file has no client_email or private_key.");
  }
  var tokenUrl = typeof sa.token_uri === "string" && /^https:\/\//.test(sa.token_uri) ? sa.token_uri : TOKEN_URL;
  // Cached tokens are keyed by the key's identity, never by the private key itself.
  var cacheId = "service-account:" + sa.client_email + ":" + (sa.private_key_id || "");
  var hint = "Check that the key of " + sa.client_email + " is still active (IAM → Service accounts → Keys).";
  return ctx.oauth.session({
    name: PROVIDER,
    loginHint: hint,
    retryStatuses: [401], // a 403 from Monitoring is a missing role, not a stale token
    load: function () {
      var cached = ctx.oauth.google.readCache(cacheId);
      return { accessToken: cached ? cached.accessToken : null, expiresAtMs: cached ? cached.expiresAtMs : null, refreshToken: "jwt-bearer" };
    },
    refresh: function () {
      var tokens = ctx.oauth.requestToken({
        url: tokenUrl,
        form: { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: serviceAccountAssertion(ctx, sa, tokenUrl) },
        name: PROVIDER,
        loginHint: hint,
        messages: { invalid_grant: "Google refused the service-account key (invalid_grant): it may be deleted or disabled." },
      });
      var fresh = { accessToken: tokens.access_token, expiresAtMs: ctx.oauth.refreshedExpiry(tokens.expires_in) };
      ctx.oauth.google.writeCache(cacheId, fresh);
      return { accessToken: fresh.accessToken, expiresAtMs: fresh.expiresAtMs, refreshToken: "jwt-bearer" };
    },
  });
}

function userSession(ctx, user) {
  if (!user.refresh_token || !user.client_id) {
    ctx.util.fail("missing-auth", "application_default_credentials.json has no refresh token. " + LOGIN);
  }
  return ctx.oauth.google.session({
    name: PROVIDER,
    loginHint: LOGIN,
    clientId: user.client_id,
    clientSecret: user.client_secret,
    retryStatuses: [401],
    load: function () { return { accessToken: null, expiresAtMs: null, refreshToken: user.refresh_token }; },
    messages: { invalid_grant: "The gcloud application-default sign-in expired or was revoked (invalid_grant)." },
  });
}

// ---- monitoring -----------------------------------------------------------------
function seriesValue(ctx, points) {
  var best = null;
  for (var i = 0; i < (points || []).length; i++) {
    var v = points[i] && points[i].value;
    var n = v ? ctx.num.first(v, ["int64Value", "doubleValue"]) : null;
    if (n !== null && (best === null || n > best)) best = n;
  }
  return best;
}

function latestValue(ctx, points) {
  var p = points && points[0] && points[0].value; // newest first
  return p ? ctx.num.first(p, ["int64Value", "doubleValue"]) : null;
}

function fetchSeries(ctx, session, project, filter, headers) {
  var end = new Date();
  var start = new Date(end.getTime() - 86400000);
  var out = [];
  var pageToken = null;
  for (var page = 0; page < MAX_PAGES; page++) {
    var url = MONITORING + encodeURIComponent(project) + "/timeSeries?" + ctx.keyapi.query({
      filter: filter,
      "interval.startTime": start.toISOString(),
      "interval.endTime": end.toISOString(),
      "aggregation.alignmentPeriod": "3600s",
      "aggregation.perSeriesAligner": "ALIGN_MAX",
      pageToken: pageToken,
    });
    var resp = session.request(function (token) {
      var h = { Authorization: "Bearer " + token, Accept: "application/json" };
      for (var k in headers) h[k] = headers[k];
      return ctx.keyapi.request({ url: url, headers: h, name: PROVIDER, timeoutMs: 20000 });
    });
    if (resp.status === 403) {
      ctx.util.fail("credential-denied", "Cloud Monitoring refused access to project " + project +
        " (HTTP 403): enable the Cloud Monitoring API and grant roles/monitoring.viewer to the signed-in account.");
    }
    if (resp.status === 404) ctx.util.fail("failed", "Google Cloud project " + project + " was not found (HTTP 404). Set workspaceId or GOOGLE_CLOUD_PROJECT.");
    ctx.util.checkResponse(resp, { name: "Cloud Monitoring", loginHint: LOGIN });
    var data = ctx.util.expectJson(resp, "Cloud Monitoring");
    if (data.timeSeries !== undefined && !Array.isArray(data.timeSeries)) {
      ctx.util.fail("failed", "Unexpected response from Cloud Monitoring: timeSeries is not a list.");
    }
    out = out.concat(data.timeSeries || []);
    pageToken = ctx.util.text(data.nextPageToken);
    if (!pageToken) break;
  }
  return out;
}

function labelsOf(s) {
  return {
    metric: (s && s.metric && s.metric.labels) || {},
    resource: (s && s.resource && s.resource.labels) || {},
  };
}

// Usage series matched to the tightest limit of the same quota metric and
// location (usage series carry no limit_name; a global limit also covers a
// regional series).
function matchQuotas(ctx, usage, limits) {
  var caps = {};
  for (var i = 0; i < limits.length; i++) {
    var l = labelsOf(limits[i]);
    var metric = ctx.util.text(l.metric.quota_metric || l.resource.quota_id);
    var cap = latestValue(ctx, limits[i].points);
    if (!metric || cap === null || cap <= 0) continue;
    var key = metric + "|" + (ctx.util.text(l.resource.location) || "global");
    if (caps[key] === undefined || cap < caps[key].cap) caps[key] = { cap: cap, limitName: l.metric.limit_name || null };
  }
  var rows = [];
  for (var j = 0; j < usage.length; j++) {
    var u = labelsOf(usage[j]);
    var m = ctx.util.text(u.metric.quota_metric || u.resource.quota_id);
    var used = seriesValue(ctx, usage[j].points);
    if (!m || used === null) continue;
    var loc = ctx.util.text(u.resource.location) || "global";
    var hit = caps[m + "|" + loc] || caps[m + "|global"];
    if (!hit) continue;
    rows.push({ metric: m, location: loc, used: used, cap: hit.cap, percent: (used / hit.cap) * 100 });
  }
  rows.sort(function (a, b) { return b.percent - a.percent; });
  return rows;
}

function shortMetric(name) {
  return name.replace(/^aiplatform\.googleapis\.com\//, "");
}

function probeOauth(ctx, file) {
  var creds = file.data;
  var project = projectOf(ctx, creds);
  if (!project) {
    ctx.util.fail("missing-auth", "No Google Cloud project: set workspaceId in the config or GOOGLE_CLOUD_PROJECT (or `gcloud config set project <id>`).");
  }
  var session;
  var who;
  var headers = {};
  if (creds.type === "service_account") {
    session = serviceAccountSession(ctx, creds);
    who = "Service account";
  } else if (creds.type === "authorized_user") {
    session = userSession(ctx, creds);
    who = "gcloud user";
    headers["x-goog-user-project"] = project; // bill the API call to the project, not gcloud's
  } else {
    ctx.util.fail("unsupported", "Credential type \"" + creds.type + "\" in " + file.path + " is not supported: use a service-account key or `gcloud auth application-default login`.");
  }
  var usage = fetchSeries(ctx, session, project, SERIES.allocation, headers)
    .concat(fetchSeries(ctx, session, project, SERIES.rate, headers));
  var limits = fetchSeries(ctx, session, project, SERIES.limit, headers);
  var rows = matchQuotas(ctx, usage, limits);

  var metrics = [];
  if (rows.length) {
    metrics.push(ctx.line.progress({ label: "Peak quota (24h)", used: ctx.util.clampPercent(rows[0].percent), limit: 100, format: { kind: "percent" } }));
    for (var i = 0; i < rows.length && i < 3; i++) {
      metrics.push(
        ctx.line.text({
          label: i === 0 ? "Busiest quota" : "Quota " + (i + 1),
          value: shortMetric(rows[i].metric) + " · " + rows[i].location + ": " + ctx.num.grouped(rows[i].used) + " / " +
            ctx.num.grouped(rows[i].cap) + " (" + ctx.fmt.percent(rows[i].percent) + ")",
          detail: i > 0,
        })
      );
    }
  } else {
    metrics.push(
      ctx.line.text({
        label: "Quota usage",
        value: limits.length ? "No Vertex AI quota usage in the last 24 hours" : "No Vertex AI quota data for this project",
        color: "grey",
      })
    );
  }
  metrics.push(ctx.line.text({ label: "Project", value: project, detail: true }));
  metrics.push(ctx.line.text({ label: "Signed in as", value: who, detail: true }));
  return { source: "oauth", metrics: metrics };
}

// ---- local: Claude Code on Vertex ---------------------------------------------------------
function localDay(d) {
  var pad = function (n) { return n < 10 ? "0" + n : String(n); };
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
}

function probeLocal(ctx, required) {
  var now = new Date();
  var today = localDay(now);
  var first = localDay(new Date(now.getFullYear(), now.getMonth(), 1));
  var report = ctx.host.usage.scanLogs({ provider: "claude", since: first, until: today });
  var sums = { today: { cost: 0, tokens: 0, unpriced: false }, month: { cost: 0, tokens: 0, unpriced: false } };
  var found = false;
  var days = (report && report.days) || [];
  for (var i = 0; i < days.length; i++) {
    var models = days[i].models || [];
    for (var j = 0; j < models.length; j++) {
      var m = models[j];
      if (typeof m.model !== "string" || m.model.indexOf("@") < 0) continue; // Vertex model ids carry "@<version>"
      found = true;
      var tokens = (m.inputTokens || 0) + (m.outputTokens || 0) + (m.cacheCreationTokens || 0) + (m.cacheReadTokens || 0);
      var spans = days[i].date === today ? [sums.today, sums.month] : [sums.month];
      for (var s = 0; s < spans.length; s++) {
        spans[s].tokens += tokens;
        if (m.costUsd === null || m.costUsd === undefined) spans[s].unpriced = true;
        else spans[s].cost += m.costUsd;
      }
    }
  }
  if (!found) {
    if (required) {
      return { source: "local", metrics: [ctx.line.text({ label: "This month", value: "No Claude Code usage through Vertex AI in the local logs", color: "grey" })] };
    }
    return null;
  }
  var text = function (x) {
    return ctx.amounts.text(x.cost, "USD") + (x.unpriced ? "+" : "") + " · " + ctx.fmt.tokens(x.tokens) + " tokens";
  };
  return {
    source: "local",
    metrics: [
      ctx.line.text({ label: "Today", value: text(sums.today) }),
      ctx.line.text({ label: "This month", value: text(sums.month), subtitle: "Claude Code through Vertex AI, list prices" }),
    ],
  };
}

function probe(ctx) {
  if (ctx.sourceMode === "local") return probeLocal(ctx, true);
  var file = credentialFile(ctx);
  if (file) return probeOauth(ctx, file);
  if (ctx.sourceMode !== "oauth") {
    var local = probeLocal(ctx, false);
    if (local) return local;
  }
  ctx.util.fail("missing-auth", "No Google Application Default Credentials. " + LOGIN);
}

globalThis.__usagestat_plugin = { id: "vertex-ai", probe: probe };
