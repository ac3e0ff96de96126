// OpenCode Go: the rolling 5-hour, weekly and monthly spend caps of the Go
// subscription. `api` asks opencode.ai with the Go API key OpenCode stores;
// `local` estimates the same windows from OpenCode's own SQLite history
// (this machine only), used when no key is available.

var PROVIDER = "OpenCode Go";
var USAGE_URL = "https://opencode.ai/zen/go/v1/usage";
var HOUR_MS = 3600 * 1000;
var DAY_MS = 24 * HOUR_MS;
var LOGIN_HINT = "Log in with `opencode auth login` (OpenCode Go).";
var WINDOWS = [
  { key: "rolling", label: "Session", periodMs: 5 * HOUR_MS },
  { key: "weekly", label: "Weekly", periodMs: 7 * DAY_MS },
  { key: "monthly", label: "Monthly", periodMs: 30 * DAY_MS },
];
// Published Go plan caps (USD of usage per window), used only by the local
// estimate; override with settings sessionCapUsd / weeklyCapUsd / monthlyCapUsd.
var DEFAULT_CAPS = { session: 12, weekly: 30, monthly: 60 };

function dataDir(ctx) {
  var custom = ctx.host.env.get("OPENCODE_DATA_DIR");
  if (custom && String(custom).trim()) return String(custom).trim().replace(/[\\/]+$/, "");
  return ctx.creds.xdgDataHome() + "/opencode";
}

// The Go key: config apiKey, OPENCODE_API_KEY, then the `opencode-go` entry
// of OpenCode's auth.json (the only entry read; the others belong to other
// providers).
function findKey(ctx) {
  return ctx.creds.apiKey({
    env: ["OPENCODE_API_KEY"],
    files: [{ path: dataDir(ctx) + "/auth.json", fields: ["opencode-go.key"] }],
  });
}

// ---- api ---------------------------------------------------------------------
function probeApi(ctx, key) {
  var resp = ctx.host.http.request({
    method: "GET",
    url: USAGE_URL,
    headers: { Authorization: "Bearer " + key.value, Accept: "application/json" },
    timeoutMs: 15000,
  });
  if (resp.status === 401) {
    ctx.util.fail("credential-denied", "OpenCode Go key invalid. Run `opencode auth login` (OpenCode Go).");
  }
  if (resp.status === 403) {
    var err = ctx.util.tryParseJson(resp.bodyText);
    var type = err && err.error && err.error.type;
    ctx.util.fail(
      "credential-denied",
      type === "EntitlementError"
        ? "No active OpenCode Go subscription for this key."
        : "OpenCode Go rejected the key (HTTP 403). Run `opencode auth login` (OpenCode Go)."
    );
  }
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: LOGIN_HINT });
  var data = ctx.util.expectJson(resp, PROVIDER);
  var usage = ctx.util.requireField(data, "usage", PROVIDER);
  var metrics = [];
  for (var i = 0; i < WINDOWS.length; i++) {
    var w = WINDOWS[i];
    var win = usage && usage[w.key];
    if (!win || typeof win !== "object") continue;
    var percent = ctx.num.of(win.percent);
    if (percent === null) ctx.util.fail("failed", "Unexpected response from OpenCode Go: missing usage." + w.key + ".percent.");
    metrics.push(
      ctx.line.progress({
        label: w.label,
        used: ctx.util.clampPercent(percent),
        limit: 100,
        format: { kind: "percent" },
        resetsAt: ctx.util.toIso(win.resetsAt) || undefined,
        periodDurationMs: w.periodMs,
        color: win.status === "rate-limited" ? "red" : undefined,
      })
    );
  }
  if (!metrics.length) ctx.util.fail("failed", "Unexpected response from OpenCode Go: missing usage.rolling.");
  return { source: "api", plan: "Go", metrics: metrics };
}

// ---- local -------------------------------------------------------------------
function historyDatabases(ctx) {
  var dir = dataDir(ctx);
  if (!ctx.host.fs.exists(dir)) return [];
  var names;
  try {
    names = ctx.host.fs.listDir(dir);
  } catch (e) {
    return [];
  }
  return names
    .filter(function (n) { return /^opencode.*\.db$/.test(n); })
    .map(function (n) { return dir + "/" + n; });
}

function goMessages(createdExpr) {
  return (
    "WITH m AS (SELECT CAST(" + createdExpr + " AS INTEGER) AS createdMs, " +
    "CAST(json_extract(data, '$.cost') AS REAL) AS cost FROM message " +
    "WHERE json_valid(data) AND json_extract(data, '$.providerID') = 'opencode-go' " +
    "AND json_extract(data, '$.role') = 'assistant' " +
    "AND json_type(data, '$.cost') IN ('integer', 'real')) "
  );
}

// Run a query over the Go messages of one database; older schemas have no
// time_created column, so retry with the JSON timestamp alone.
function queryGo(ctx, db, select) {
  var exprs = ["COALESCE(json_extract(data, '$.time.created'), time_created)", "json_extract(data, '$.time.created')"];
  var lastError = null;
  for (var i = 0; i < exprs.length; i++) {
    try {
      return JSON.parse(ctx.host.sqlite.query(db, goMessages(exprs[i]) + select));
    } catch (e) {
      lastError = e;
      if (!/no such column/i.test(String((e && e.message) || e))) break;
    }
  }
  ctx.host.log.warn("OpenCode history unreadable (" + db.replace(/^.*[\\/]/, "") + "): " + String((lastError && lastError.message) || lastError));
  return null;
}

function addMonthsClamped(ms, months) {
  var d = new Date(ms);
  var y = d.getUTCFullYear();
  var m = d.getUTCMonth() + months;
  var targetY = y + Math.floor(m / 12);
  var targetM = ((m % 12) + 12) % 12;
  var lastDay = new Date(Date.UTC(targetY, targetM + 1, 0)).getUTCDate();
  return Date.UTC(targetY, targetM, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
}

// The monthly window: anchored on the first local Go usage (approximating the
// subscription start), else the UTC calendar month.
function monthWindow(anchorMs, nowMs) {
  var now = new Date(nowMs);
  if (anchorMs === null) {
    var start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    return { start: start, end: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) };
  }
  var a = new Date(anchorMs);
  var k = (now.getUTCFullYear() - a.getUTCFullYear()) * 12 + (now.getUTCMonth() - a.getUTCMonth());
  var s = addMonthsClamped(anchorMs, k);
  if (s > nowMs) {
    k -= 1;
    s = addMonthsClamped(anchorMs, k);
  }
  return { start: s, end: addMonthsClamped(anchorMs, k + 1) };
}

function weekWindow(nowMs) {
  var d = new Date(nowMs);
  var sinceMonday = (d.getUTCDay() + 6) % 7;
  var start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - sinceMonday);
  return { start: start, end: start + 7 * DAY_MS };
}

function caps(ctx) {
  var s = ctx.provider.settings || {};
  function cap(name, fallback) {
    var v = ctx.num.of(s[name]);
    return v !== null && v > 0 ? v : fallback;
  }
  return {
    session: cap("sessionCapUsd", DEFAULT_CAPS.session),
    weekly: cap("weeklyCapUsd", DEFAULT_CAPS.weekly),
    monthly: cap("monthlyCapUsd", DEFAULT_CAPS.monthly),
  };
}

// Scan every opencode*.db: {found, readable, session, sessionOldest, week, month, ...}.
function scanHistory(ctx, nowMs) {
  var dbs = historyDatabases(ctx);
  var readable = [];
  var firstMs = null;
  var count = 0;
  for (var i = 0; i < dbs.length; i++) {
    var rows = queryGo(ctx, dbs[i], "SELECT MIN(createdMs) AS firstMs, COUNT(*) AS n FROM m");
    if (!rows) continue;
    readable.push(dbs[i]);
    var row = rows[0] || {};
    count += Number(row.n) || 0;
    if (row.firstMs !== null && row.firstMs !== undefined && (firstMs === null || row.firstMs < firstMs)) firstMs = Number(row.firstMs);
  }
  var out = {
    databases: dbs.length,
    readable: readable.length,
    count: count,
    session: 0,
    sessionOldest: null,
    week: 0,
    month: 0,
    sessionStart: nowMs - 5 * HOUR_MS,
    weekWin: weekWindow(nowMs),
    monthWin: monthWindow(firstMs, nowMs),
  };
  if (!count) return out;
  for (var j = 0; j < readable.length; j++) {
    var sums = queryGo(
      ctx,
      readable[j],
      "SELECT " +
        "SUM(CASE WHEN createdMs >= " + out.sessionStart + " THEN cost ELSE 0 END) AS session, " +
        "MIN(CASE WHEN createdMs >= " + out.sessionStart + " THEN createdMs END) AS sessionOldest, " +
        "SUM(CASE WHEN createdMs >= " + out.weekWin.start + " THEN cost ELSE 0 END) AS week, " +
        "SUM(CASE WHEN createdMs >= " + out.monthWin.start + " THEN cost ELSE 0 END) AS month FROM m"
    );
    var r = (sums && sums[0]) || {};
    out.session += Number(r.session) || 0;
    out.week += Number(r.week) || 0;
    out.month += Number(r.month) || 0;
    if (r.sessionOldest !== null && r.sessionOldest !== undefined) {
      var oldest = Number(r.sessionOldest);
      if (out.sessionOldest === null || oldest < out.sessionOldest) out.sessionOldest = oldest;
    }
  }
  return out;
}

function probeLocal(ctx, key) {
  var nowMs = Date.now();
  var scan = scanHistory(ctx, nowMs);
  if (!scan.count) {
    if (key) {
      return {
        source: "local",
        plan: "Go",
        metrics: [
          ctx.line.badge({ label: "Status", text: "No usage data", color: "grey" }),
          ctx.line.text({ label: "Source", value: "No OpenCode Go messages in this machine's OpenCode history yet." }),
        ],
      };
    }
    ctx.util.fail("missing-auth", "OpenCode Go not detected. " + LOGIN_HINT);
  }
  var c = caps(ctx);
  function pct(spent, cap) {
    return Math.min(100, Math.max(0, (spent / cap) * 100));
  }
  var metrics = [
    ctx.line.progress({
      label: "Session",
      used: pct(scan.session, c.session),
      limit: 100,
      format: { kind: "percent" },
      resetsAt: scan.sessionOldest === null ? undefined : ctx.util.toIso(scan.sessionOldest + 5 * HOUR_MS),
      periodDurationMs: 5 * HOUR_MS,
    }),
    ctx.line.progress({
      label: "Weekly",
      used: pct(scan.week, c.weekly),
      limit: 100,
      format: { kind: "percent" },
      resetsAt: ctx.util.toIso(scan.weekWin.end),
      periodDurationMs: 7 * DAY_MS,
    }),
    ctx.line.progress({
      label: "Monthly",
      used: pct(scan.month, c.monthly),
      limit: 100,
      format: { kind: "percent" },
      resetsAt: ctx.util.toIso(scan.monthWin.end),
      periodDurationMs: scan.monthWin.end - scan.monthWin.start,
    }),
    ctx.line.text({
      label: "Spend (local)",
      value:
        "5h " + ctx.fmt.money(scan.session) + " / " + ctx.fmt.money(c.session) +
        " · week " + ctx.fmt.money(scan.week) + " / " + ctx.fmt.money(c.weekly) +
        " · month " + ctx.fmt.money(scan.month) + " / " + ctx.fmt.money(c.monthly),
      detail: true,
    }),
    ctx.line.text({ label: "Source", value: "Local estimate from this machine's OpenCode history", detail: true }),
  ];
  return { source: "local", plan: "Go (estimated)", metrics: metrics };
}

globalThis.__usagestat_plugin = {
  id: "opencode-go",
  probe: function (ctx) {
    var key = findKey(ctx);
    if (ctx.sourceMode === "local") return probeLocal(ctx, key);
    if (ctx.sourceMode === "api") {
      if (!key) {
        ctx.util.fail("missing-auth", "No OpenCode Go key: set apiKey or OPENCODE_API_KEY, or " + LOGIN_HINT.charAt(0).toLowerCase() + LOGIN_HINT.slice(1));
      }
      return probeApi(ctx, key);
    }
    if (ctx.sourceMode !== "auto") ctx.util.fail("unsupported", "OpenCode Go supports the api and local sources.");
    return key ? probeApi(ctx, key) : probeLocal(ctx, null);
  },
};
