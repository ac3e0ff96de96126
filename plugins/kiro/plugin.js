// Kiro (AWS): monthly plan credits, free-trial / bonus credits and overages.
//
// local (default): what the Kiro IDE already cached - usage in its state.vscdb
//   and the last GetUsageLimits answer in its q-client.log - and a live
//   getUsageLimits call only when that data is missing or older than 15 minutes.
// oauth: always the live call.
// The Kiro sign-in (~/.aws/sso/cache/kiro-auth-token.json) is shared with the
// IDE; its refresh token rotates, so a refreshed pair is written back to that
// file in its own format (SPEC §3.7). Credits are fractional credit counts.

var PROVIDER = "Kiro";
var TOKEN_FILE = "~/.aws/sso/cache/kiro-auth-token.json";
var REFRESH_URL = "https://prod.us-east-1.auth.desktop.kiro.dev/refreshToken";
var STATE_KEY = "kiro.kiroAgent";
var USAGE_STATE = "kiro.resourceNotifications.usageState";
var LIVE_AFTER_MS = 15 * 60 * 1000;
var DEFAULT_REGION = "us-east-1";
var LOGIN_HINT = "Open Kiro and sign in again.";
var CREDITS = { kind: "count", suffix: "credits" };

// ---- the sign-in file ------------------------------------------------------------

function authMethodOf(token) {
  var provider = String(token.provider || "");
  if (provider === "Google" || provider === "Github") return "social";
  if (provider === "ExternalIdp") return "external_idp";
  if (provider === "Enterprise" || provider === "BuilderId" || provider === "Internal") return "IdC";
  return String(token.authMethod || "");
}

function loadToken(ctx) {
  var file = ctx.oauth.readJsonFile(TOKEN_FILE);
  if (!file) return null;
  var t = file.data;
  if (!t || typeof t !== "object" || (!t.accessToken && !t.refreshToken)) return null;
  return {
    file: file,
    accessToken: t.accessToken || null,
    refreshToken: t.refreshToken || null,
    expiresAtMs: ctx.util.parseDateMs(t.expiresAt),
    authMethod: authMethodOf(t),
    provider: t.provider || null,
    profileArn: typeof t.profileArn === "string" && t.profileArn ? t.profileArn : null,
  };
}

function canRefresh(ctx, creds) {
  if (creds.authMethod !== "social") {
    return "Kiro's sign-in (" + (creds.provider || creds.authMethod || "AWS") +
      ") has expired and can only be renewed by Kiro itself. " + LOGIN_HINT;
  }
  return true;
}

// Exchange the refresh token and write the rotated pair back (under the lock).
function refresh(ctx, creds) {
  var resp;
  try {
    resp = ctx.host.http.request({
      method: "POST",
      url: REFRESH_URL,
      headers: { "Content-Type": "application/json", Accept: "application/json", "User-Agent": userAgent(ctx) },
      bodyText: JSON.stringify({ refreshToken: creds.refreshToken }),
      timeoutMs: 15000,
    });
  } catch (e) {
    ctx.util.fail("failed", "Could not renew the Kiro sign-in: " + String(e.message || e));
  }
  if (resp.status === 400 || resp.status === 401 || resp.status === 403) {
    ctx.util.fail("credential-denied", "Kiro refused to renew the sign-in. " + LOGIN_HINT);
  }
  ctx.util.checkResponse(resp, { name: "Kiro's sign-in service" });
  var body = ctx.util.expectJson(resp, "Kiro's sign-in service");
  if (typeof body.accessToken !== "string" || !body.accessToken) {
    ctx.util.fail("failed", "Unexpected response from Kiro's sign-in service: missing accessToken.");
  }
  var data = {};
  var keys = Object.keys(creds.file.data);
  for (var i = 0; i < keys.length; i++) data[keys[i]] = creds.file.data[keys[i]];
  data.accessToken = body.accessToken;
  if (typeof body.refreshToken === "string" && body.refreshToken) data.refreshToken = body.refreshToken;
  if (typeof body.profileArn === "string" && body.profileArn) data.profileArn = body.profileArn;
  var at = ctx.oauth.refreshedExpiry(body.expiresIn);
  data.expiresAt = typeof creds.file.data.expiresAt === "number" ? at : new Date(at).toISOString();
  ctx.oauth.writeJsonFile(creds.file, data);
  return loadToken(ctx);
}

// ---- local data: state.vscdb cache and q-client.log ------------------------------------

function kiroDirs(ctx) {
  return ctx.vscode.userDirs("Kiro");
}

function profileArnFromDisk(ctx) {
  var dirs = kiroDirs(ctx);
  for (var i = 0; i < dirs.length; i++) {
    var file = null;
    try {
      file = ctx.oauth.readJsonFile(dirs[i] + "/User/globalStorage/kiro.kiroagent/profile.json");
    } catch (e) { file = null; }
    if (file && file.data && typeof file.data.arn === "string" && file.data.arn.trim()) return file.data.arn.trim();
  }
  return null;
}

function cachedState(ctx) {
  var dbs = ctx.vscode.existingStateDbs("Kiro");
  for (var i = 0; i < dbs.length; i++) {
    var raw = null;
    try {
      raw = ctx.vscode.readItem(dbs[i].path, STATE_KEY);
    } catch (e) {
      ctx.host.log.warn("kiro: cannot read " + dbs[i].path + ": " + String(e.message || e));
    }
    var parsed = ctx.util.tryParseJson(raw);
    var state = parsed && parsed[USAGE_STATE];
    if (state && Array.isArray(state.usageBreakdowns) && state.usageBreakdowns.length) {
      return { breakdowns: state.usageBreakdowns, root: {}, atMs: ctx.util.parseDateMs(state.timestamp), from: "Kiro's cache" };
    }
  }
  return null;
}

function safeList(ctx, dir) {
  try { return ctx.host.fs.listDir(dir).slice().sort().reverse(); } catch (e) { return []; }
}

// The newest GetUsageLimitsCommand answer Kiro logged (newest session first).
function loggedState(ctx) {
  var dirs = kiroDirs(ctx);
  for (var d = 0; d < dirs.length; d++) {
    var sessions = safeList(ctx, dirs[d] + "/logs");
    for (var s = 0; s < sessions.length && s < 12; s++) {
      var windows = safeList(ctx, dirs[d] + "/logs/" + sessions[s]);
      for (var w = 0; w < windows.length; w++) {
        var path = dirs[d] + "/logs/" + sessions[s] + "/" + windows[w] + "/exthost/kiro.kiroAgent/q-client.log";
        var text = null;
        try {
          if (ctx.host.fs.exists(path)) text = ctx.host.fs.readText(path);
        } catch (e) { text = null; }
        if (!text) continue;
        var lines = text.split(/\r?\n/);
        for (var i = lines.length - 1; i >= 0; i--) {
          if (lines[i].indexOf('"commandName":"GetUsageLimitsCommand"') < 0) continue;
          var at = lines[i].indexOf("{");
          var entry = at >= 0 ? ctx.util.tryParseJson(lines[i].slice(at)) : null;
          if (!entry || !entry.output || !Array.isArray(entry.output.usageBreakdownList)) continue;
          var stamp = lines[i].slice(0, at).trim().split(" [")[0].replace(" ", "T");
          return { breakdowns: entry.output.usageBreakdownList, root: entry.output, atMs: ctx.util.parseDateMs(stamp), from: "Kiro's log" };
        }
      }
    }
  }
  return null;
}

// ---- live call -------------------------------------------------------------------------

function userAgent(ctx) {
  return "usagestat/" + String(ctx.app.version || "0");
}

function regionOf(ctx, arn) {
  if (ctx.provider.region) return String(ctx.provider.region);
  var parts = String(arn || "").split(":");
  return parts.length > 3 && parts[3] ? parts[3] : DEFAULT_REGION;
}

function liveState(ctx, session, arn) {
  var base = ctx.provider.baseUrl
    ? String(ctx.provider.baseUrl).replace(/\/+$/, "")
    : "https://q." + regionOf(ctx, arn) + ".amazonaws.com";
  var url = base + "/getUsageLimits?origin=AI_EDITOR&profileArn=" + encodeURIComponent(arn) + "&resourceType=AGENTIC_REQUEST";
  var resp = session.request(function (token, creds) {
    var headers = { Authorization: "Bearer " + token, Accept: "application/json", "User-Agent": userAgent(ctx) };
    if (creds.authMethod === "external_idp") headers.TokenType = "EXTERNAL_IDP";
    if (creds.provider === "Internal") headers["redirect-for-internal"] = "true";
    try {
      return ctx.host.http.request({ method: "GET", url: url, headers: headers, timeoutMs: 15000 });
    } catch (e) {
      if (/permission denied: http/.test(String(e.message || e))) {
        ctx.util.fail("failed", "Kiro region " + regionOf(ctx, arn) + " is not a known endpoint: set baseUrl to https://q." +
          regionOf(ctx, arn) + ".amazonaws.com in the usagestat config.");
      }
      throw e;
    }
  });
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: LOGIN_HINT });
  var data = ctx.util.expectJson(resp, PROVIDER);
  var list = ctx.util.requireField(data, "usageBreakdownList", PROVIDER);
  return { breakdowns: Array.isArray(list) ? list : [], root: data, atMs: Date.now(), from: "live" };
}

// ---- metric lines ------------------------------------------------------------------------

function precise(ctx, obj, name) {
  var v = ctx.num.of(obj[name + "WithPrecision"]);
  return v !== null ? v : ctx.num.of(obj[name]);
}

function titleCase(text) {
  return String(text || "").trim().toLowerCase().replace(/(^|\s)([a-z])/g, function (m, sp, c) { return sp + c.toUpperCase(); });
}

function bonusPool(ctx, b) {
  var trial = b.freeTrialInfo || b.freeTrialUsage;
  if (trial && (!trial.freeTrialStatus || trial.freeTrialStatus === "ACTIVE")) {
    var limit = precise(ctx, trial, "usageLimit");
    if (limit > 0) return { used: precise(ctx, trial, "currentUsage") || 0, limit: limit, expiry: trial.freeTrialExpiry || trial.expiryDate };
  }
  var bonuses = Array.isArray(b.bonuses) ? b.bonuses : [];
  for (var i = 0; i < bonuses.length; i++) {
    var x = bonuses[i] || {};
    if (x.status && x.status !== "ACTIVE" && x.status !== "EXHAUSTED") continue;
    var lim = precise(ctx, x, "usageLimit");
    if (lim > 0) return { used: precise(ctx, x, "currentUsage") || 0, limit: lim, expiry: x.expiresAt || x.expiryDate };
  }
  return null;
}

function buildResult(ctx, state, source) {
  var list = state.breakdowns;
  var b = null;
  for (var i = 0; i < list.length; i++) {
    var type = list[i] && (list[i].resourceType || list[i].type);
    if (type === "CREDIT") { b = list[i]; break; }
  }
  if (!b) b = list[0];
  var used = b ? precise(ctx, b, "currentUsage") : null;
  var limit = b ? precise(ctx, b, "usageLimit") : null;
  if (used === null || !(limit > 0)) {
    ctx.util.fail("failed", "Unexpected response from Kiro: missing usageBreakdownList[CREDIT].usageLimit.");
  }
  var overages = precise(ctx, b, "currentOverages") || 0;
  var resetMs = ctx.util.parseDateMs(b.nextDateReset || b.resetDate || state.root.nextDateReset);
  var lines = [
    ctx.calendar.monthlyProgress({
      label: "Credits",
      used: Math.max(0, used - overages), // currentUsage includes overage credits
      limit: limit,
      format: CREDITS,
      resetMs: resetMs,
    }),
  ];
  var bonus = bonusPool(ctx, b);
  if (bonus) {
    lines.push(ctx.line.progress({
      label: "Bonus Credits", used: bonus.used, limit: bonus.limit, format: CREDITS,
      resetsAt: ctx.util.toIso(bonus.expiry) || undefined,
    }));
  }
  var overage = state.root.overageConfiguration;
  if (overage && overage.overageStatus) {
    var on = overage.overageStatus === "ENABLED";
    lines.push(ctx.line.badge({ label: "Overages", text: on ? "Enabled" : "Disabled", color: on ? "amber" : "grey" }));
  }
  var cap = precise(ctx, b, "overageCap");
  if (overages > 0 && cap > 0) {
    lines.push(ctx.calendar.monthlyProgress({
      label: "Overage credits", used: overages, limit: cap, format: CREDITS,
      resetMs: resetMs, detail: true,
    }));
  }
  if (state.from !== "live" && state.atMs) {
    var iso = new Date(state.atMs).toISOString();
    lines.push(ctx.line.text({ label: "Updated", value: iso.slice(0, 10) + " " + iso.slice(11, 16) + " UTC (" + state.from + ")", detail: true }));
  }
  var title = state.root.subscriptionInfo && state.root.subscriptionInfo.subscriptionTitle;
  return { source: source, plan: title ? titleCase(title) : undefined, metrics: lines };
}

// ---- probe ---------------------------------------------------------------------------------

function session(ctx) {
  return ctx.oauth.session({
    name: PROVIDER,
    loginHint: LOGIN_HINT,
    missingMessage: "Not logged in to Kiro. Open Kiro and sign in.",
    load: function () { return loadToken(ctx); },
    canRefresh: function (creds) { return canRefresh(ctx, creds); },
    rewritesStore: true,
    refresh: function (creds) { return refresh(ctx, creds); },
  });
}

function probeLive(ctx, s) {
  var arn = s.creds().profileArn || profileArnFromDisk(ctx);
  if (!arn) {
    ctx.util.fail("no-data", "Kiro usage data unavailable: no Kiro profile is known yet. Open Kiro once and try again.");
  }
  return liveState(ctx, s, arn);
}

globalThis.__usagestat_plugin = {
  id: "kiro",
  probe: function (ctx) {
    // The sign-in is required even for cached data, so a logged-out user never sees stale numbers.
    var s = session(ctx);
    if (ctx.sourceMode === "oauth") return buildResult(ctx, probeLive(ctx, s), "oauth");
    var cached = cachedState(ctx);
    var logged = loggedState(ctx);
    var local = cached && logged ? (logged.atMs > cached.atMs ? logged : cached) : cached || logged;
    if (local && local.atMs && Date.now() - local.atMs < LIVE_AFTER_MS) {
      if (local === cached && logged) local.root = logged.root; // plan and overage status from the log
      return buildResult(ctx, local, "local");
    }
    try {
      return buildResult(ctx, probeLive(ctx, s), "oauth");
    } catch (e) {
      if (!local) throw e;
      ctx.host.log.warn("kiro: live usage unavailable (" + String((e && e.message) || e) + "); showing Kiro's cached data");
      if (local === cached && logged) local.root = logged.root;
      return buildResult(ctx, local, "local");
    }
  },
};
