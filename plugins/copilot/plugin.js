// GitHub Copilot: the monthly quota of the signed-in GitHub user — premium
// requests and chat on paid plans, chat and completions on Copilot Free.
//
// Every mode ends in GET api.github.com/copilot_internal/user with a GitHub
// token; the modes differ in where the token comes from:
//   oauth: config apiKey, env COPILOT_API_TOKEN / GITHUB_TOKEN / GH_TOKEN
//   local: gh's hosts.yml, Copilot editor plugins' apps.json / hosts.json
//   cli:   `gh auth token`
// GitHub OAuth tokens do not expire, so there is nothing to refresh; a token
// the API rejects is replaced once by the next source.

var NAME = "GitHub Copilot";
var LOGIN = "Run `gh auth login` first.";
var MONTH_MS = 30 * 24 * 3600 * 1000;
var HEADERS = {
  Accept: "application/json",
  "Editor-Version": "vscode/1.96.2",
  "Editor-Plugin-Version": "copilot-chat/0.26.7",
  "User-Agent": "GitHubCopilotChat/0.26.7",
  "X-Github-Api-Version": "2025-04-01",
};

// ---- where to ask -------------------------------------------------------------------------

// {host: "github.com" or an enterprise host, apiBase}
function target(ctx) {
  if (ctx.provider.baseUrl) {
    var base = String(ctx.provider.baseUrl).replace(/\/+$/, "");
    var m = /^https?:\/\/([^\/:]+)/i.exec(base);
    var host = m ? m[1].toLowerCase().replace(/^api\./, "") : "github.com";
    return { host: host, apiBase: base };
  }
  var region = ctx.provider.region ? String(ctx.provider.region).trim().toLowerCase() : "";
  region = region.replace(/^https?:\/\//, "").replace(/\/.*$/, "").replace(/^api\./, "");
  if (region && region !== "github.com") return { host: region, apiBase: "https://api." + region };
  return { host: "github.com", apiBase: "https://api.github.com" };
}

// ---- token sources --------------------------------------------------------------------------

function trimDir(p) {
  return String(p).replace(/[\\/]+$/, "");
}

function ghHostsFiles(ctx) {
  var out = [];
  var dir = ctx.host.env.get("GH_CONFIG_DIR");
  if (dir) return [trimDir(dir) + "/hosts.yml"];
  if (ctx.app.platform === "windows") {
    var appData = ctx.host.env.get("APPDATA");
    if (appData) out.push(trimDir(appData) + "/GitHub CLI/hosts.yml");
  }
  var xdg = ctx.host.env.get("XDG_CONFIG_HOME");
  if (xdg) out.push(trimDir(xdg) + "/gh/hosts.yml");
  out.push("~/.config/gh/hosts.yml");
  return out;
}

function unquote(v) {
  var s = String(v).trim();
  if ((s[0] === '"' && s[s.length - 1] === '"') || (s[0] === "'" && s[s.length - 1] === "'")) s = s.slice(1, -1);
  return s;
}

// oauth_token of `host:` in gh's hosts.yml (the host's own key first, else the
// active user's under `users:`). A deliberately small YAML reader: gh writes
// this file as plain nested mappings.
function tokenFromHostsYml(text, host) {
  var lines = String(text).split(/\r?\n/);
  var inHost = false;
  var direct = null;
  var nested = null;
  for (var i = 0; i < lines.length; i++) {
    var line = lines[i];
    if (!line.trim() || /^\s*#/.test(line)) continue;
    var top = /^([^\s#][^:]*):\s*$/.exec(line);
    if (top) {
      inHost = unquote(top[1]).toLowerCase() === host;
      continue;
    }
    if (!/^\s/.test(line)) {
      inHost = false;
      continue;
    }
    if (!inHost) continue;
    var m = /^(\s+)oauth_token:\s*(\S+)\s*$/.exec(line);
    if (!m) continue;
    if (direct === null && m[1].length <= 4) direct = unquote(m[2]);
    else if (nested === null) nested = unquote(m[2]);
  }
  return direct || nested;
}

function copilotFiles(ctx) {
  var dirs = [];
  if (ctx.app.platform === "windows") {
    var local = ctx.host.env.get("LOCALAPPDATA");
    if (local) dirs.push(trimDir(local) + "/github-copilot");
  }
  var xdg = ctx.host.env.get("XDG_CONFIG_HOME");
  if (xdg) dirs.push(trimDir(xdg) + "/github-copilot");
  dirs.push("~/.config/github-copilot");
  var out = [];
  for (var i = 0; i < dirs.length; i++) out.push(dirs[i] + "/apps.json", dirs[i] + "/hosts.json");
  return out;
}

// apps.json: {"github.com:Iv1.…": {user, oauth_token}}; hosts.json: {"github.com": {user, oauth_token}}.
function tokenFromCopilotJson(data, host) {
  if (!data || typeof data !== "object") return null;
  var keys = Object.keys(data);
  for (var i = 0; i < keys.length; i++) {
    var k = keys[i].toLowerCase();
    if ((k === host || k.indexOf(host + ":") === 0) && data[keys[i]] && data[keys[i]].oauth_token) {
      return String(data[keys[i]].oauth_token);
    }
  }
  return null;
}

function readFirst(ctx, paths, extract) {
  for (var i = 0; i < paths.length; i++) {
    try {
      if (!ctx.host.fs.exists(paths[i])) continue;
      var token = extract(ctx.host.fs.readText(paths[i]));
      if (token) return token;
    } catch (e) {
      ctx.host.log.warn("copilot: cannot read " + paths[i] + ": " + String(e && e.message ? e.message : e));
    }
  }
  return null;
}

function ghAuthToken(ctx, host) {
  var args = ["auth", "token"];
  if (host !== "github.com") args.push("--hostname", host);
  var out;
  try {
    out = ctx.host.command.run({ program: "gh", args: args, timeoutMs: 10000 });
  } catch (e) {
    return null; // gh not installed
  }
  if (!out || out.status !== 0) return null;
  var token = String(out.stdout || "").trim().split(/\s+/)[0];
  return token || null;
}

// Candidate sources in order for the selected mode: [{source, get()}].
function sources(ctx, host) {
  var envSources = ["COPILOT_API_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"].map(function (name) {
    return { source: "oauth", get: function () { var v = ctx.host.env.get(name); return v ? String(v).trim() : null; } };
  });
  var hostsYml = {
    source: "local",
    get: function () {
      return readFirst(ctx, ghHostsFiles(ctx), function (text) { return tokenFromHostsYml(text, host); });
    },
  };
  var cli = { source: "cli", get: function () { return ghAuthToken(ctx, host); } };
  var editor = {
    source: "local",
    get: function () {
      return readFirst(ctx, copilotFiles(ctx), function (text) { return tokenFromCopilotJson(ctx.util.tryParseJson(text), host); });
    },
  };
  if (ctx.sourceMode === "oauth") return envSources;
  if (ctx.sourceMode === "local") return [hostsYml, editor];
  if (ctx.sourceMode === "cli") return [cli];
  return envSources.concat([hostsYml, cli, editor]);
}

// ---- answer -> lines --------------------------------------------------------------------------

function planLabel(ctx, data) {
  var sku = ctx.util.text(data.access_type_sku);
  if (/free/i.test(sku) || ctx.util.text(data.copilot_plan).toLowerCase() === "free") return "Free";
  return data.copilot_plan ? ctx.fmt.planLabel(data.copilot_plan) : undefined;
}

function snapshotLine(ctx, label, snap, resetsAt, detail) {
  if (!snap || typeof snap !== "object") return null;
  if (snap.unlimited === true) return ctx.line.text({ label: label, value: "Unlimited", detail: true });
  var used = null;
  var percentLeft = ctx.num.of(snap.percent_remaining);
  var entitlement = ctx.num.of(snap.entitlement);
  var remaining = ctx.num.of(snap.remaining);
  if (percentLeft !== null) {
    used = 100 - percentLeft; // the API reports what is LEFT
  } else if (entitlement > 0 && remaining !== null) {
    used = (1 - remaining / entitlement) * 100;
  }
  if (used === null) return null;
  return ctx.line.progress({
    label: label,
    used: Math.round(ctx.util.clampPercent(used) * 100) / 100,
    limit: 100,
    format: { kind: "percent" },
    resetsAt: resetsAt || undefined,
    periodDurationMs: MONTH_MS,
    detail: detail,
  });
}

function countLine(ctx, label, remaining, total, suffix, resetsAt) {
  var limit = ctx.num.of(total);
  var left = ctx.num.of(remaining);
  if (!(limit > 0) || left === null) return null;
  return ctx.line.progress({
    label: label,
    used: Math.max(0, limit - left),
    limit: limit,
    format: { kind: "count", suffix: suffix },
    resetsAt: resetsAt || undefined,
    periodDurationMs: MONTH_MS,
  });
}

function usageLines(ctx, data) {
  var lines = [];
  function push(l) {
    if (l) lines.push(l);
  }
  if (data.quota_snapshots && typeof data.quota_snapshots === "object") {
    var q = data.quota_snapshots;
    var reset = ctx.util.toIso(data.quota_reset_date_utc || data.quota_reset_date);
    var snaps = [q.premium_interactions, q.chat, q.completions];
    var allZero = snaps.every(function (s) { return !s || s.unlimited === true || !(ctx.num.of(s.entitlement) > 0); });
    if (data.token_based_billing === true && allZero) {
      lines.push(ctx.line.badge({ label: "Status", text: "No data (billed through the organization)", color: "grey" }));
      return lines;
    }
    push(snapshotLine(ctx, "Premium", q.premium_interactions, reset));
    push(snapshotLine(ctx, "Chat", q.chat, reset));
    push(snapshotLine(ctx, "Completions", q.completions, reset, true));
    var overage = q.premium_interactions ? ctx.num.of(q.premium_interactions.overage_count) : null;
    if (overage > 0) push(ctx.line.text({ label: "Overage", value: overage + " premium requests", detail: true }));
  } else if (data.limited_user_quotas || data.monthly_quotas) {
    var remaining = data.limited_user_quotas || {};
    var monthly = data.monthly_quotas || {};
    var freeReset = ctx.util.toIso(data.limited_user_reset_date);
    push(countLine(ctx, "Chat", remaining.chat, monthly.chat, "messages", freeReset));
    push(countLine(ctx, "Completions", remaining.completions, monthly.completions, "completions", freeReset));
  } else {
    ctx.util.requireField(data, "quota_snapshots", NAME);
  }
  if (!lines.length) lines.push(ctx.line.badge({ label: "Status", text: "No usage data", color: "grey" }));
  return lines;
}

// ---- probe ------------------------------------------------------------------------------------

function request(ctx, where, token) {
  var headers = { Authorization: "token " + token };
  var names = Object.keys(HEADERS);
  for (var i = 0; i < names.length; i++) headers[names[i]] = HEADERS[names[i]];
  return ctx.host.http.request({ method: "GET", url: where.apiBase + "/copilot_internal/user", headers: headers, timeoutMs: 15000 });
}

globalThis.__usagestat_plugin = {
  id: "copilot",
  probe: function (ctx) {
    var where = target(ctx);
    var candidates = ctx.provider.apiKey
      ? [{ source: ctx.sourceMode === "auto" ? "oauth" : ctx.sourceMode, get: function () { return String(ctx.provider.apiKey).trim(); } }]
      : sources(ctx, where.host);
    var tried = [];
    var resp = null;
    var used = null;
    for (var i = 0; i < candidates.length; i++) {
      var token = candidates[i].get();
      if (!token || tried.indexOf(token) >= 0) continue;
      tried.push(token);
      resp = request(ctx, where, token);
      used = candidates[i];
      // A rejected token gets one replacement from the next source.
      if ((resp.status === 401 || resp.status === 403) && tried.length < 2 && !ctx.provider.apiKey) continue;
      break;
    }
    if (!resp) {
      var where_ = where.host === "github.com" ? "" : " --hostname " + where.host;
      ctx.util.fail("missing-auth", "Not logged in. Run `gh auth login" + where_ + "` first (or set GITHUB_TOKEN).");
    }
    if (resp.status === 404) {
      ctx.util.fail("failed", "This GitHub account has no Copilot subscription (or the token lacks Copilot access).");
    }
    if (resp.status === 401 || resp.status === 403) {
      ctx.util.fail("credential-denied", "GitHub rejected the token (HTTP " + resp.status + "). Run `gh auth login` to sign in again.");
    }
    ctx.util.checkResponse(resp, { name: NAME, loginHint: LOGIN });
    var data = ctx.util.expectJson(resp, NAME);
    return { source: used.source, plan: planLabel(ctx, data), metrics: usageLines(ctx, data) };
  },
};
