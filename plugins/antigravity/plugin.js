// Google Antigravity (IDE / app / agy CLI): the shared quota pools — Gemini
// models and "Claude and GPT models" — each with a 5-hour and a weekly window.
//
// oauth (default): the Google sign-in Antigravity keeps in its state.vscdb
// (protobuf under antigravityUnifiedStateSync.oauthToken) or the agy keychain
// item -> Cloud Code retrieveUserQuotaSummary (daily endpoint, then prod).
// local: the running Antigravity language server on 127.0.0.1 (found with ps
// and lsof/ss), which answers the same summary over Connect-RPC.
// Google tokens do not rotate: an expired access token is refreshed and cached
// in pluginDataDir; Antigravity's own DB/keychain are never written.

var NAME = "Antigravity";
var CLIENT_ID = "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com";
var CLIENT_SECRET = "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"; // public installed-app secret (RFC 8252)
var LOGIN = "Start Antigravity (or run `agy`) and sign in with Google.";
var LOGIN_AGAIN = "Open Antigravity (or run `agy`) and sign in with Google again.";
var TOKEN_KEY = "antigravityUnifiedStateSync.oauthToken";
var STATUS_KEY = "antigravityAuthStatus";
var SENTINEL = "oauthTokenInfoSentinelKey";
var LS_SERVICE = "/exa.language_server_pb.LanguageServerService/";
var FIVE_HOURS_MS = 5 * 3600 * 1000;
var WEEK_MS = 7 * 24 * 3600 * 1000;
var BUCKETS = [
  { id: "gemini-5h", label: "Session", period: FIVE_HOURS_MS },
  { id: "gemini-weekly", label: "Weekly", period: WEEK_MS },
  { id: "3p-5h", label: "Claude", period: FIVE_HOURS_MS },
  { id: "3p-weekly", label: "Claude Weekly", period: WEEK_MS },
];
var SKIPPED_MODELS = [
  "MODEL_CHAT_20706",
  "MODEL_CHAT_23310",
  "MODEL_PLACEHOLDER_M9",
  "MODEL_PLACEHOLDER_M12",
  "MODEL_PLACEHOLDER_M19",
];

// ---- quota answers -> lines ------------------------------------------------------------

function progress(ctx, label, fraction, resetTime, period) {
  var used = ctx.cloudcode.usedPercent(fraction);
  if (used === null) return null;
  return ctx.line.progress({
    label: label,
    used: used,
    limit: 100,
    format: { kind: "percent" },
    resetsAt: ctx.util.toIso(resetTime) || undefined,
    periodDurationMs: period,
  });
}

// retrieveUserQuotaSummary: {groups:[{buckets:[{bucketId, remainingFraction, resetTime}]}]}
// (the language server wraps it in {response: …}). Null when there are no groups.
function summaryLines(ctx, data) {
  var root = data && data.response && typeof data.response === "object" ? data.response : data;
  if (!root || !Array.isArray(root.groups)) return null;
  var byId = {};
  for (var i = 0; i < root.groups.length; i++) {
    var buckets = (root.groups[i] && root.groups[i].buckets) || [];
    for (var j = 0; j < buckets.length; j++) {
      var id = ctx.util.text(buckets[j] && buckets[j].bucketId);
      if (id && !byId[id]) byId[id] = buckets[j];
    }
  }
  var lines = [];
  for (var k = 0; k < BUCKETS.length; k++) {
    var bucket = byId[BUCKETS[k].id];
    if (!bucket) continue; // e.g. no weekly window on older builds: never invent one
    var line = progress(ctx, BUCKETS[k].label, bucket.remainingFraction, bucket.resetTime, BUCKETS[k].period);
    if (line) lines.push(line);
  }
  return lines.length ? lines : null;
}

function isSkippedModel(id) {
  var text = typeof id === "string" ? id : "";
  return SKIPPED_MODELS.indexOf(text) >= 0 || /^MODEL_GOOGLE_GEMINI_2_5_/.test(text);
}

// Older answers list models with their own quotaInfo; pool them into Gemini and
// third-party (Claude/GPT) and keep the lowest fraction of each pool. A model
// without quotaInfo is fully used.
function legacyLines(ctx, models) {
  var pools = {};
  for (var i = 0; i < models.length; i++) {
    var m = models[i];
    if (!m || m.isInternal || isSkippedModel(m.id)) continue;
    var label = ctx.util.text(m.label).trim();
    if (!label) continue;
    var pool = /gemini/i.test(label) ? "gemini" : "other";
    var q = m.quotaInfo || {};
    var f = q.remainingFraction === undefined || q.remainingFraction === null || q.remainingFraction === "" ? 0 : ctx.num.of(q.remainingFraction);
    if (f === null) continue;
    if (!pools[pool] || f < pools[pool].f) pools[pool] = { f: f, resetTime: q.resetTime };
  }
  var lines = [];
  if (pools.gemini) lines.push(progress(ctx, "Session", pools.gemini.f, pools.gemini.resetTime, FIVE_HOURS_MS));
  if (pools.other) lines.push(progress(ctx, "Claude", pools.other.f, pools.other.resetTime, FIVE_HOURS_MS));
  return lines.filter(function (l) { return l; });
}

function modelsFromAvailable(data) {
  var out = [];
  var models = (data && data.models) || {};
  var ids = Object.keys(models);
  for (var i = 0; i < ids.length; i++) {
    var m = models[ids[i]] || {};
    out.push({ id: ids[i], label: m.displayName || m.label, isInternal: m.isInternal, quotaInfo: m.quotaInfo });
  }
  return out;
}

function modelsFromUserStatus(status) {
  var configs = (status && status.cascadeModelConfigData && status.cascadeModelConfigData.clientModelConfigs) || [];
  return configs.map(function (c) {
    return {
      id: c && c.modelOrAlias && c.modelOrAlias.model,
      label: c && c.label,
      isInternal: false,
      quotaInfo: c && c.quotaInfo,
    };
  });
}

function finish(ctx, source, lines, plan, email) {
  var metrics = lines && lines.length ? lines.slice() : [ctx.line.badge({ label: "Status", text: "No usage data", color: "grey" })];
  var account = ctx.util.text(email);
  if (account) metrics.push(ctx.line.text({ label: "Account", value: account, detail: true }));
  return { source: source, plan: plan || undefined, metrics: metrics };
}

// ---- credentials ---------------------------------------------------------------------

function dbPaths(ctx) {
  var dirs = ["Antigravity", "Antigravity IDE"];
  var roots = [];
  if (ctx.app.platform === "macos") roots.push("~/Library/Application Support");
  else if (ctx.app.platform === "windows") {
    var appData = ctx.host.env.get("APPDATA");
    if (appData) roots.push(String(appData).replace(/[\\/]+$/, ""));
  } else {
    var xdg = ctx.host.env.get("XDG_CONFIG_HOME");
    if (xdg) roots.push(String(xdg).replace(/[\\/]+$/, ""));
    roots.push("~/.config");
  }
  var out = [];
  for (var i = 0; i < roots.length; i++) {
    for (var j = 0; j < dirs.length; j++) {
      var p = roots[i] + "/" + dirs[j] + "/User/globalStorage/state.vscdb";
      if (out.indexOf(p) < 0) out.push(p);
    }
  }
  return out;
}

// state.vscdb value: base64 Topic{repeated DataEntry data = 1}; DataEntry{key = 1,
// Row value = 2}; Row{value = 1: base64 OAuthTokenInfo}; OAuthTokenInfo{1 access
// token, 3 refresh token, 4 Timestamp expiry {1 seconds}}.
function decodeOauthTopic(ctx, text) {
  var P = ctx.proto;
  var topic = P.decode(ctx.bytes.fromBase64(String(text).trim()));
  var entries = P.all(topic, 1);
  var chosen = null;
  for (var i = 0; i < entries.length; i++) {
    if (!Array.isArray(entries[i])) continue;
    var entry = P.decode(entries[i]);
    var key = P.string(P.first(entry, 1));
    if (!chosen || key === SENTINEL) chosen = entry;
    if (key === SENTINEL) break;
  }
  if (!chosen) return null;
  var row = P.first(chosen, 2);
  if (!Array.isArray(row)) return null;
  var inner = P.string(P.first(P.decode(row), 1));
  if (!inner) return null;
  var info = P.decode(ctx.bytes.fromBase64(inner));
  var access = P.string(P.first(info, 1));
  var refresh = P.string(P.first(info, 3));
  var expiry = P.first(info, 4);
  var seconds = Array.isArray(expiry) ? P.first(P.decode(expiry), 1) : undefined;
  if (!access && !refresh) return null;
  return {
    accessToken: access || null,
    refreshToken: refresh || null,
    expiresAtMs: typeof seconds === "number" ? seconds * 1000 : null,
  };
}

function readStateDb(ctx, path) {
  if (!ctx.host.fs.exists(path)) return null;
  var rows;
  try {
    rows = ctx.util.tryParseJson(
      ctx.host.sqlite.query(
        path,
        "SELECT key, value FROM ItemTable WHERE key IN ('" + TOKEN_KEY + "', '" + STATUS_KEY + "')"
      )
    );
  } catch (e) {
    ctx.host.log.warn("antigravity: cannot read " + path + ": " + String(e && e.message ? e.message : e));
    return null;
  }
  var token = null;
  var status = null;
  for (var i = 0; i < (rows || []).length; i++) {
    if (rows[i].key === TOKEN_KEY && rows[i].value) {
      try {
        token = decodeOauthTopic(ctx, rows[i].value);
      } catch (e) {
        ctx.host.log.warn("antigravity: the stored sign-in could not be decoded: " + String(e && e.message ? e.message : e));
      }
    } else if (rows[i].key === STATUS_KEY) {
      status = ctx.util.tryParseJson(rows[i].value);
    }
  }
  var email = status && status.email ? String(status.email) : null;
  if (token) {
    token.email = email;
    return token;
  }
  // Last resort: the access token Antigravity mirrors into its auth status.
  if (status && status.apiKey) return { accessToken: String(status.apiKey), refreshToken: null, expiresAtMs: null, email: email };
  return null;
}

function pick(obj, names) {
  for (var i = 0; i < names.length; i++) if (obj && obj[names[i]] !== undefined && obj[names[i]] !== null) return obj[names[i]];
  return undefined;
}

// agy keeps {access_token, refresh_token, expiry} (go-keyring, maybe base64-wrapped) or a bare token.
function readAgyKeychain(ctx) {
  var raw = null;
  try {
    raw = ctx.host.keychain.readGenericPassword("gemini", "antigravity");
  } catch (e) {
    return null;
  }
  if (!raw) return null;
  var text = String(raw).trim();
  if (text.indexOf("go-keyring-base64:") === 0) {
    try {
      text = ctx.base64.decode(text.slice("go-keyring-base64:".length)).trim();
    } catch (e) {
      return null;
    }
  }
  var data = ctx.util.tryParseJson(text);
  if (!data || typeof data !== "object") return /^[\w.\-\/]+$/.test(text) ? { accessToken: text, refreshToken: null, expiresAtMs: null } : null;
  var holder = pick(data, ["token", "tokens", "oauth"]);
  if (holder && typeof holder === "object") data = holder;
  var access = pick(data, ["access_token", "accessToken", "token"]);
  var refresh = pick(data, ["refresh_token", "refreshToken"]);
  var expiry = pick(data, ["expiry", "expiry_date", "expiresAt", "expires_at"]);
  if (!access && !refresh) return null;
  return {
    accessToken: typeof access === "string" ? access : null,
    refreshToken: typeof refresh === "string" ? refresh : null,
    expiresAtMs: expiry !== undefined ? ctx.util.parseDateMs(expiry) : null,
  };
}

function findStore(ctx) {
  var paths = dbPaths(ctx);
  for (var i = 0; i < paths.length; i++) {
    var creds = readStateDb(ctx, paths[i]);
    if (creds) {
      var path = paths[i];
      return { first: creds, load: function () { return readStateDb(ctx, path); } };
    }
  }
  var agy = readAgyKeychain(ctx);
  if (agy) return { first: agy, load: function () { return readAgyKeychain(ctx); } };
  return null;
}

// ---- oauth mode ---------------------------------------------------------------------

function probeOauth(ctx, found) {
  found = found || findStore(ctx);
  if (!found) ctx.util.fail("missing-auth", "Not signed in. " + LOGIN);
  var session = ctx.oauth.google.session({
    name: NAME,
    loginHint: LOGIN_AGAIN,
    missingMessage: "Not signed in. " + LOGIN,
    load: found.load,
    clientId: ctx.host.env.get("ANTIGRAVITY_OAUTH_CLIENT_ID") || CLIENT_ID,
    clientSecret: ctx.host.env.get("ANTIGRAVITY_OAUTH_CLIENT_SECRET") || CLIENT_SECRET,
    messages: { invalid_grant: "The Antigravity sign-in expired." },
  });
  var bases = ctx.provider.baseUrl ? [ctx.provider.baseUrl] : [ctx.cloudcode.dailyBase, ctx.cloudcode.prodBase];

  // Try each base; a network error, 404 or 5xx moves on to the next one.
  function call(method, body, onlyBase) {
    var list = onlyBase ? [onlyBase] : bases;
    var last = null;
    for (var i = 0; i < list.length; i++) {
      var resp = ctx.cloudcode.call(session, { base: list[i], method: method, body: body, userAgent: "antigravity" });
      if (resp.status === 0 || resp.status === 404 || resp.status >= 500) {
        last = resp;
        continue;
      }
      return { resp: resp, base: list[i] };
    }
    return { resp: last, base: null };
  }

  function check(resp, what) {
    if (resp.status === 0) ctx.util.fail("failed", "Could not reach Google Cloud Code (" + what + "): " + resp.error);
    ctx.util.checkResponse(resp, { name: "Google Cloud Code (" + what + ")", loginHint: LOGIN_AGAIN });
    return ctx.util.expectJson(resp, "Google Cloud Code (" + what + ")");
  }

  function plan(base) {
    var r = call("loadCodeAssist", { metadata: { ideType: "ANTIGRAVITY", pluginType: "GEMINI" } }, base);
    if (!r.resp || r.resp.status < 200 || r.resp.status >= 300) return { ok: false };
    return { ok: true, plan: ctx.cloudcode.tierPlan(ctx.util.tryParseJson(r.resp.bodyText)) };
  }

  var email = session.creds().email;
  var summary = call("retrieveUserQuotaSummary", {});
  if (summary.resp && summary.resp.status === 403) {
    // The token works for identity but not for quotas: say so instead of failing.
    var identity = plan(null);
    if (identity.ok) {
      return finish(ctx, "oauth", [ctx.line.badge({ label: "Status", text: "Limits not available", color: "grey" })], identity.plan, email);
    }
  }
  var lines = null;
  var base = summary.base;
  if (base) lines = summaryLines(ctx, check(summary.resp, "retrieveUserQuotaSummary"));
  if (!lines) {
    var models = call("fetchAvailableModels", {}, base);
    if (!models.base) check(models.resp || summary.resp, "fetchAvailableModels");
    var data = check(models.resp, "fetchAvailableModels");
    if (!data.models && !summary.base) ctx.util.requireField(data, "models", "Google Cloud Code (fetchAvailableModels)");
    lines = legacyLines(ctx, modelsFromAvailable(data));
    base = models.base;
  }
  return finish(ctx, "oauth", lines, plan(base).plan, email);
}

// ---- local mode (running language server) -------------------------------------------------

function flag(args, name) {
  var m = new RegExp("--" + name + "(?:=|\\s+)(\\S+)").exec(args);
  return m ? m[1] : null;
}

function languageServers(ctx) {
  var out;
  try {
    out = ctx.host.command.run({ program: "ps", args: ["-axo", "pid=,args="], timeoutMs: 5000 });
  } catch (e) {
    return [];
  }
  var servers = [];
  var lines = String(out.stdout || "").split("\n");
  for (var i = 0; i < lines.length; i++) {
    var m = /^\s*(\d+)\s+(.*)$/.exec(lines[i]);
    if (!m) continue;
    var args = m[2];
    if (!/language_server/i.test(args)) continue;
    if (!/--app_data_dir(?:=|\s+)\S*antigravity/i.test(args) && !/[\\/]antigravity[\\/]/i.test(args)) continue;
    servers.push({
      pid: m[1],
      csrf: flag(args, "csrf_token"),
      extPort: flag(args, "extension_server_port"),
      extCsrf: flag(args, "extension_server_csrf_token"),
    });
  }
  return servers;
}

function listeningPorts(ctx, pid) {
  var ports = [];
  function add(p) {
    if (p && ports.indexOf(p) < 0) ports.push(p);
  }
  var out = null;
  try {
    out = ctx.host.command.run({ program: "lsof", args: ["-nP", "-iTCP", "-sTCP:LISTEN", "-a", "-p", String(pid)], timeoutMs: 5000 });
  } catch (e) {
    out = null;
  }
  if (out && out.status === 0) {
    var re = /:(\d+)\s+\(LISTEN\)/g;
    var m;
    while ((m = re.exec(out.stdout || ""))) add(m[1]);
    return ports;
  }
  if (ctx.app.platform !== "linux") return ports;
  try {
    out = ctx.host.command.run({ program: "ss", args: ["-ltnpH"], timeoutMs: 5000 });
  } catch (e) {
    return ports;
  }
  var lines = String(out.stdout || "").split("\n");
  for (var i = 0; i < lines.length; i++) {
    if (lines[i].indexOf("pid=" + pid + ",") < 0) continue;
    var addr = /\s(?:127\.0\.0\.1|\[::1\]|\*|0\.0\.0\.0|\[::\]):(\d+)\s/.exec(lines[i]);
    if (addr) add(addr[1]);
  }
  return ports;
}

function lsCall(ctx, scheme, port, csrf, method, body) {
  var headers = { "Content-Type": "application/json", "Connect-Protocol-Version": "1", Accept: "application/json" };
  if (csrf) headers["x-codeium-csrf-token"] = csrf;
  try {
    return ctx.host.http.request({
      method: "POST",
      url: scheme + "://127.0.0.1:" + port + LS_SERVICE + method,
      headers: headers,
      bodyText: JSON.stringify(body || {}),
      timeoutMs: 5000,
    });
  } catch (e) {
    return null; // wrong scheme or not a language-server port
  }
}

function ok(resp) {
  return resp && resp.status >= 200 && resp.status < 300;
}

function probeServerPort(ctx, scheme, port, csrf) {
  var summary = lsCall(ctx, scheme, port, csrf, "RetrieveUserQuotaSummary", {});
  if (summary === null) return null;
  var lines = ok(summary) ? summaryLines(ctx, ctx.util.tryParseJson(summary.bodyText)) : null;
  var status = lsCall(ctx, scheme, port, csrf, "GetUserStatus", {
    metadata: { ideName: "antigravity", extensionName: "antigravity", ideVersion: "unknown", locale: "en" },
  });
  var user = ok(status) ? (ctx.util.tryParseJson(status.bodyText) || {}).userStatus : null;
  if (!lines && user) lines = legacyLines(ctx, modelsFromUserStatus(user));
  if (!lines && !user) return null;
  var plan = user && (ctx.util.text(user.userTier && user.userTier.name) ||
    ctx.util.text(user.planStatus && user.planStatus.planInfo && user.planStatus.planInfo.planName));
  return finish(ctx, "local", lines, plan, user && user.email);
}

function probeLocal(ctx, quiet) {
  if (ctx.app.platform === "windows") {
    if (quiet) return null;
    ctx.util.fail("unsupported", "Local mode finds the Antigravity language server with ps/lsof, which Windows lacks; use the oauth mode.");
  }
  var servers = languageServers(ctx);
  for (var i = 0; i < servers.length; i++) {
    var s = servers[i];
    var ports = listeningPorts(ctx, s.pid).filter(function (p) { return p !== s.extPort; });
    for (var j = 0; j < ports.length; j++) {
      var result = probeServerPort(ctx, "https", ports[j], s.csrf) || probeServerPort(ctx, "http", ports[j], s.csrf);
      if (result) return result;
    }
    if (s.extPort) {
      var ext = probeServerPort(ctx, "http", s.extPort, s.extCsrf || s.csrf);
      if (ext) return ext;
    }
  }
  if (quiet) return null;
  ctx.util.fail("missing-auth", "No running Antigravity language server found. " + LOGIN);
}

globalThis.__usagestat_plugin = {
  id: "antigravity",
  probe: function (ctx) {
    if (ctx.sourceMode === "oauth") return probeOauth(ctx);
    if (ctx.sourceMode === "local") return probeLocal(ctx);
    // auto: the stored Google sign-in, else a running language server.
    var found = findStore(ctx);
    if (found) return probeOauth(ctx, found);
    var local = probeLocal(ctx, true);
    if (local) return local;
    ctx.util.fail("missing-auth", "Not signed in. " + LOGIN);
  },
};
