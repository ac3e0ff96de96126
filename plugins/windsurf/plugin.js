// Windsurf (Codeium, now part of Devin): daily and weekly included quota and
// the extra-usage balance, from SeatManagementService/GetUserStatus.
//
// The key is a long-lived Windsurf API key (or Devin session token): config
// apiKey, WINDSURF_API_KEY / DEVIN_API_KEY, the Devin CLI's credentials.toml,
// or the apiKey in the Windsurf/Devin app's state.vscdb. No refresh exists.
// Units: quota fields are percent REMAINING (used = 100 - v), resets are unix
// seconds (as strings), the balance is in micro-dollars.

var PROVIDER = "Windsurf";
var RPC_PATH = "/exa.seat_management_pb.SeatManagementService/GetUserStatus";
var WINDSURF_SERVER = "https://server.self-serve.windsurf.com";
var DEVIN_SERVER = "https://server.codeium.com";
var COMPAT_VERSION = "1.108.2"; // the editor version the API expects to see
var DAY_MS = 86400000;
var WEEK_MS = 7 * DAY_MS;
var LOGIN_HINT = "Start Windsurf (or run `devin auth login`) and sign in.";
var DENIED = "Windsurf rejected the API key: the session has expired. Start Windsurf (or Devin) and sign in again.";

// ---- credentials.toml (a TOML subset: [tables], key = "string" | 'literal') --------

function parseTomlStrings(text) {
  var out = {};
  var table = "";
  var lines = String(text || "").split(/\r?\n/);
  for (var i = 0; i < lines.length; i++) {
    var line = lines[i].trim();
    if (!line || line[0] === "#") continue;
    var header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      table = header[1].replace(/["']/g, "") + ".";
      continue;
    }
    var m = /^([A-Za-z0-9_.-]+|"[^"]*")\s*=\s*("((?:[^"\\]|\\.)*)"|'([^']*)')/.exec(line);
    if (!m) continue;
    var key = m[1].replace(/^"|"$/g, "");
    var value = m[4] !== undefined ? m[4] : m[3];
    if (m[3] !== undefined) {
      try { value = JSON.parse('"' + m[3] + '"'); } catch (e) { value = m[3]; }
    }
    out[table + key] = value;
  }
  return out;
}

function tomlValue(values, names) {
  var keys = Object.keys(values);
  for (var n = 0; n < names.length; n++) {
    for (var i = 0; i < keys.length; i++) {
      var bare = keys[i].split(".").pop();
      if (bare === names[n] && values[keys[i]]) return values[keys[i]];
    }
  }
  return null;
}

function devinCredentialPaths(ctx) {
  var platform = ctx.app.platform;
  var paths = [];
  if (platform === "windows") {
    var appData = ctx.vscode.optionalEnv("APPDATA");
    if (appData) paths.push(ctx.vscode.join(appData, "devin/credentials.toml"));
  } else {
    if (platform === "macos") paths.push("~/Library/Application Support/devin/credentials.toml");
    var xdg = ctx.vscode.optionalEnv("XDG_DATA_HOME");
    if (xdg) paths.push(ctx.vscode.join(xdg, "devin/credentials.toml"));
    paths.push("~/.local/share/devin/credentials.toml");
  }
  paths.push("~/.devin/credentials.toml");
  return paths.filter(function (p, i) { return paths.indexOf(p) === i; });
}

function safeExists(ctx, path) {
  try { return ctx.host.fs.exists(path); } catch (e) { return false; }
}

// Every credential found, in the order to try them.
function candidates(ctx, mode) {
  var out = [];
  var base = ctx.provider.baseUrl ? String(ctx.provider.baseUrl).replace(/\/+$/, "") : null;
  if (mode !== "local") {
    if (ctx.provider.apiKey) {
      out.push({ key: ctx.provider.apiKey, what: "config apiKey", ide: "windsurf", server: base || WINDSURF_SERVER, source: "api" });
    }
    var envNames = ["WINDSURF_API_KEY", "DEVIN_API_KEY"];
    for (var e = 0; e < envNames.length; e++) {
      var fromEnv = ctx.host.env.get(envNames[e]);
      if (fromEnv && fromEnv.trim()) {
        out.push({ key: fromEnv.trim(), what: envNames[e], ide: e === 0 ? "windsurf" : "devin",
          server: base || (e === 0 ? WINDSURF_SERVER : DEVIN_SERVER), source: "api" });
      }
    }
  }
  if (mode === "api") return out;
  var tomls = devinCredentialPaths(ctx);
  for (var t = 0; t < tomls.length; t++) {
    if (!safeExists(ctx, tomls[t])) continue;
    var values;
    try {
      values = parseTomlStrings(ctx.host.fs.readText(tomls[t]));
    } catch (err) {
      ctx.host.log.warn("windsurf: cannot read " + tomls[t] + ": " + String(err.message || err));
      continue;
    }
    var key = tomlValue(values, ["windsurf_api_key", "api_key", "token"]);
    if (!key) continue;
    var server = tomlValue(values, ["api_server_url"]);
    if (server && !/^https:\/\//i.test(server)) {
      ctx.host.log.warn("windsurf: ignoring api_server_url that is not https");
      server = null;
    }
    out.push({ key: key, what: tomls[t], ide: "devin", server: base || (server ? server.replace(/\/+$/, "") : DEVIN_SERVER), source: "local" });
  }
  var apps = [
    { name: "Windsurf", ide: "windsurf", server: WINDSURF_SERVER },
    { name: "Windsurf - Next", ide: "windsurf-next", server: WINDSURF_SERVER },
  ];
  if (ctx.app.platform === "macos") {
    apps.push({ name: "Devin", ide: "devin", server: DEVIN_SERVER });
    apps.push({ name: "Devin - Next", ide: "devin", server: DEVIN_SERVER });
  }
  for (var a = 0; a < apps.length; a++) {
    var dbs = ctx.vscode.existingStateDbs(apps[a].name);
    for (var d = 0; d < dbs.length; d++) {
      var raw = null;
      try {
        raw = ctx.vscode.readItem(dbs[d].path, "windsurfAuthStatus");
      } catch (err2) {
        ctx.host.log.warn("windsurf: cannot read " + dbs[d].path + ": " + String(err2.message || err2));
      }
      var status = ctx.util.tryParseJson(raw);
      if (status && typeof status.apiKey === "string" && status.apiKey) {
        out.push({ key: status.apiKey, what: dbs[d].path, ide: apps[a].ide, server: base || apps[a].server, source: "local" });
      }
    }
  }
  return out;
}

// ---- request -----------------------------------------------------------------------

function getUserStatus(ctx, cred) {
  var url = cred.server + RPC_PATH;
  var resp;
  try {
    resp = ctx.host.http.request({
      method: "POST",
      url: url,
      headers: { "Content-Type": "application/json", "Connect-Protocol-Version": "1", Accept: "application/json" },
      bodyText: JSON.stringify({
        metadata: {
          apiKey: cred.key,
          ideName: cred.ide,
          ideVersion: COMPAT_VERSION,
          extensionName: cred.ide,
          extensionVersion: COMPAT_VERSION,
          locale: "en",
        },
      }),
      timeoutMs: 15000,
    });
  } catch (e) {
    var msg = String(e.message || e);
    if (/permission denied: http/.test(msg)) {
      ctx.util.fail("failed", "The Windsurf server " + cred.server + " (from " + cred.what +
        ") is not a known Windsurf host: set baseUrl to it in the usagestat config to allow it.");
    }
    throw e;
  }
  return resp;
}

// ---- metric lines ------------------------------------------------------------------

function signedMoney(ctx, dollars) {
  return (dollars < 0 ? "-" : "") + ctx.fmt.money(Math.abs(dollars));
}

function quotaLine(ctx, label, remaining, resetUnix, period) {
  return ctx.line.progress({
    label: label,
    used: ctx.util.clampPercent(100 - remaining),
    limit: 100,
    format: { kind: "percent" },
    resetsAt: ctx.util.toIso(resetUnix) || undefined,
    periodDurationMs: period,
  });
}

function creditLine(ctx, label, used, total, resetsAt, period) {
  return ctx.line.progress({
    label: label,
    used: Math.max(0, (ctx.num.of(used) || 0) / 100),
    limit: total / 100,
    format: { kind: "count", suffix: "credits" },
    resetsAt: resetsAt,
    periodDurationMs: period,
  });
}

function toResult(ctx, data, source) {
  var ps = ctx.util.requireField(data, "userStatus.planStatus", PROVIDER);
  var info = ps.planInfo || {};
  var lines = [];
  var daily = ctx.num.of(ps.dailyQuotaRemainingPercent);
  var weekly = ctx.num.of(ps.weeklyQuotaRemainingPercent);
  var hideDaily = info.hideDailyQuota === true;
  if (daily !== null && !hideDaily) lines.push(quotaLine(ctx, "Daily quota", daily, ps.dailyQuotaResetAtUnix, DAY_MS));
  if (weekly !== null) {
    lines.push(quotaLine(ctx, "Weekly quota", weekly, ps.weeklyQuotaResetAtUnix, WEEK_MS));
  } else if (hideDaily && daily !== null) {
    // Devin accounts: with the daily quota hidden, the daily field carries the weekly pool.
    lines.push(quotaLine(ctx, "Weekly quota", daily, ps.weeklyQuotaResetAtUnix || ps.dailyQuotaResetAtUnix, WEEK_MS));
  }
  // Older plans: prompt/flex credits in hundredths of a credit; negative = unlimited.
  var start = ctx.util.parseDateMs(ps.planStart);
  var end = ctx.util.parseDateMs(ps.planEnd);
  var resetsAt = end ? ctx.util.toIso(end) : undefined;
  var period = start && end && end > start ? end - start : undefined;
  var prompt = ctx.num.of(ps.availablePromptCredits);
  if (prompt !== null && prompt > 0) lines.push(creditLine(ctx, "Prompt credits", ps.usedPromptCredits, prompt, resetsAt, period));
  var flex = ctx.num.of(ps.availableFlexCredits);
  if (flex !== null && flex > 0) lines.push(creditLine(ctx, "Flex credits", ps.usedFlexCredits, flex, resetsAt, period));
  var micros = ctx.num.of(ps.overageBalanceMicros);
  if (micros !== null) {
    lines.push(ctx.line.text({ label: "Extra usage balance", value: signedMoney(ctx, micros / 1e6) }));
  }
  if (!lines.length) ctx.util.fail("no-data", "Windsurf quota data unavailable. Try again later.");
  return { source: source, plan: info.planName ? ctx.fmt.planLabel(info.planName) : undefined, metrics: lines };
}

function probeWith(ctx, mode) {
  var creds = candidates(ctx, mode);
  if (!creds.length) {
    if (mode === "api") ctx.util.fail("missing-auth", "No Windsurf API key: set apiKey in the config or WINDSURF_API_KEY.");
    ctx.util.fail("missing-auth", "Not logged in to Windsurf. " + LOGIN_HINT);
  }
  for (var i = 0; i < creds.length; i++) {
    var resp = getUserStatus(ctx, creds[i]);
    if (resp.status === 401 || resp.status === 403) {
      ctx.host.log.info("windsurf: key from " + creds[i].what + " rejected (HTTP " + resp.status + "); trying the next");
      continue;
    }
    ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: LOGIN_HINT });
    return toResult(ctx, ctx.util.expectJson(resp, PROVIDER), creds[i].source);
  }
  ctx.util.fail("credential-denied", DENIED);
}

globalThis.__usagestat_plugin = {
  id: "windsurf",
  probe: function (ctx) {
    if (ctx.sourceMode === "api" || ctx.sourceMode === "local") return probeWith(ctx, ctx.sourceMode);
    return probeWith(ctx, "auto");
  },
};
