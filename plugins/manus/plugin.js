// Manus: credit balance, Pro monthly credits and the daily refresh allotment,
// from the Connect-RPC call the manus.im web app makes
// (user.v1.UserService/GetAvailableCredits), authenticated with the
// `session_id` cookie of the user's browser session (sent both as the cookie
// and as a bearer token, as the web app's two known clients do).

var NAME = "Manus";
var ENV = ["MANUS_SESSION_TOKEN", "MANUS_COOKIE"];
var ENDPOINT = "https://api.manus.im/user.v1.UserService/GetAvailableCredits";
var DAY_MS = 86400000;
var KNOWN = [
  "totalCredits", "freeCredits", "periodicCredits", "addonCredits", "proMonthlyCredits", "eventCredits",
  "refreshCredits", "maxRefreshCredits", "nextRefreshTime", "refreshInterval",
];

function hasKnownKey(obj) {
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) return false;
  for (var i = 0; i < KNOWN.length; i++) if (KNOWN[i] in obj) return true;
  return false;
}

// The credits object: the answer itself or one of its wrappers.
function unwrap(data) {
  if (hasKnownKey(data)) return data;
  var wrappers = ["data", "result", "response", "availableCredits", "credits"];
  for (var i = 0; i < wrappers.length; i++) {
    var inner = data && data[wrappers[i]];
    if (hasKnownKey(inner)) return inner;
    if (inner && typeof inner === "object") {
      for (var j = 0; j < wrappers.length; j++) if (hasKnownKey(inner[wrappers[j]])) return inner[wrappers[j]];
    }
  }
  return null;
}

// Length of the refresh cycle: "daily"/"REFRESH_INTERVAL_DAILY" (the default
// when absent), "weekly", a duration ("24h") or seconds.
function intervalMs(ctx, value) {
  if (value === undefined || value === null || value === "") return DAY_MS;
  var n = ctx.num.of(value);
  if (n !== null) return n > 0 ? n * 1000 : undefined;
  var text = ctx.util.text(value);
  if (/day|daily/i.test(text)) return DAY_MS;
  if (/week/i.test(text)) return 7 * DAY_MS;
  var d = ctx.ratelimit.parseDuration(text);
  return d && d > 0 ? d : undefined;
}

function credits(ctx, used, limit, extra) {
  var line = {
    label: extra.label,
    used: Math.max(0, Math.min(limit, used)),
    limit: limit,
    format: { kind: "count", suffix: "credits" },
    resetsAt: extra.resetsAt,
    periodDurationMs: extra.periodDurationMs,
  };
  return ctx.line.progress(line);
}

function toResult(ctx, c) {
  var n = function (key) { return ctx.num.of(c[key]); };
  var metrics = [];
  var pro = n("proMonthlyCredits");
  var periodic = n("periodicCredits");
  if (pro !== null && pro > 0 && periodic !== null) {
    metrics.push(credits(ctx, pro - periodic, pro, { label: "Monthly credits" }));
  }
  var maxRefresh = n("maxRefreshCredits");
  var refresh = n("refreshCredits");
  if (maxRefresh !== null && maxRefresh > 0 && refresh !== null) {
    metrics.push(
      credits(ctx, maxRefresh - refresh, maxRefresh, {
        label: "Daily refresh",
        resetsAt: ctx.util.toIso(c.nextRefreshTime) || undefined,
        periodDurationMs: intervalMs(ctx, c.refreshInterval),
      })
    );
  }
  var total = n("totalCredits");
  if (total !== null) metrics.push(ctx.line.text({ label: "Balance", value: ctx.num.grouped(total) + " credits" }));
  var details = [["freeCredits", "Free credits"], ["addonCredits", "Add-on credits"], ["eventCredits", "Event credits"]];
  for (var i = 0; i < details.length; i++) {
    var v = n(details[i][0]);
    if (v !== null && v > 0) {
      metrics.push(ctx.line.text({ label: details[i][1], value: ctx.num.grouped(v) + " credits", detail: true }));
    }
  }
  if (!metrics.length) {
    ctx.util.fail("failed", "Unexpected response from " + NAME + ": missing totalCredits.");
  }
  return { source: "web", plan: pro !== null && pro > 0 ? "Pro" : "Free", metrics: metrics };
}

globalThis.__usagestat_plugin = {
  id: "manus",
  probe: function (ctx) {
    if (ctx.sourceMode !== "auto" && ctx.sourceMode !== "web") {
      ctx.util.fail("unsupported", NAME + " is read through its website only (source web).");
    }
    var session = ctx.websession.require({ name: NAME, env: ENV, defaultName: "session_id" });
    var token = session.header ? ctx.cookieAuth.get(session.header, "session_id") : null;
    if (!token) {
      ctx.util.fail(
        "missing-auth",
        NAME + " session not usable: the cookie has no session_id. Copy the manus.im cookies again, or run `" +
          ctx.websession.importCommand() + "`."
      );
    }
    var resp = ctx.host.http.request({
      method: "POST",
      url: ENDPOINT,
      headers: {
        Authorization: "Bearer " + token,
        Cookie: session.header,
        "Content-Type": "application/json",
        Accept: "application/json",
        "Connect-Protocol-Version": "1",
        Origin: "https://manus.im",
        Referer: "https://manus.im/",
        "User-Agent": ctx.websession.BROWSER_UA,
      },
      bodyText: "{}",
      timeoutMs: 15000,
    });
    var data = ctx.websession.json(resp, { name: NAME });
    var found = unwrap(data);
    if (!found) {
      ctx.util.fail("failed", "Unexpected response from " + NAME + ": missing totalCredits.");
    }
    return toResult(ctx, found);
  },
};
