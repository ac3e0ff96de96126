// OpenCode (opencode.ai workspace): subscription usage (rolling 5-hour and
// weekly %, monthly on Go-style plans) and the Zen pay-as-you-go balance, read
// with the browser session cookie.
//
// EXPERIMENTAL / FRAGILE: opencode.ai has no public usage API. The dashboard
// calls SolidStart "server functions" addressed by hashed ids that change
// whenever opencode.ai ships a new build. When an id stops matching, the site
// answers 404 or a payload without the expected fields and this plugin fails
// with "the OpenCode web API changed" instead of guessing.

var PROVIDER = "OpenCode";
var BASE = "https://opencode.ai";
var SERVER = BASE + "/_server";
// Server-function ids observed on opencode.ai (see README: they rotate).
var FN_WORKSPACES = "def39973159c7f0483d8793a822b8dbb10d067e12c65455fcb4608459ba0234f";
var FN_SUBSCRIPTION = "7abeebee372f304e050aaaf92be863f4a86490e382f8c79db68fd94040d691b4";
var FN_BILLING = "c83b78a614689c38ebee981f9b39a8b377716db85c1fd7dbab604adc02d3313d";
var COOKIE_NAMES = ["auth", "__Host-auth", "__Host-console_session"];
var USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36";
// Billing amounts (balance, monthlyUsage) are fixed-point integers: USD x 1e8.
var USD_SCALE = 100000000;
var HOUR_MS = 3600 * 1000;
var WINDOWS = [
  { key: "rollingUsage", label: "Session", periodMs: 5 * HOUR_MS, required: true },
  { key: "weeklyUsage", label: "Weekly", periodMs: 7 * 24 * HOUR_MS, required: false },
  { key: "monthlyUsage", label: "Monthly", periodMs: 30 * 24 * HOUR_MS, required: false },
];
var NUMBER = "(-?[0-9]+(?:\\.[0-9]+)?)";

function importHint(ctx) {
  return (
    "Copy a fresh `auth` cookie from opencode.ai (usagestat auth import-cookies --provider " +
    ctx.provider.id +
    " --save, or OPENCODE_COOKIE)."
  );
}

function sessionExpired(ctx) {
  ctx.util.fail("credential-denied", "OpenCode session expired or signed out. " + importHint(ctx));
}

function failed(message) {
  throw { code: "failed", message: message };
}

function apiChanged(what) {
  failed("The OpenCode web API changed (" + what + "); the plugin needs an update for the new opencode.ai build.");
}

// A `wrk_…` id from a raw id or an opencode.ai/workspace/<id>/… URL.
function normalizeWorkspace(raw) {
  var text = String(raw || "").trim();
  if (!text) return null;
  var m = /\/workspace\/(wrk_[A-Za-z0-9]+)/.exec(text) || /(wrk_[A-Za-z0-9]+)/.exec(text);
  return m ? m[1] : null;
}

function uuid(ctx) {
  var h = ctx.host.crypto.randomHex(16);
  var variant = ((parseInt(h[16], 16) & 3) | 8).toString(16);
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-4" + h.slice(13, 16) + "-" + variant + h.slice(17, 20) + "-" + h.slice(20, 32);
}

function looksSignedOut(text) {
  var lower = String(text || "").toLowerCase();
  return (
    lower.indexOf("sign in") >= 0 ||
    lower.indexOf("login") >= 0 ||
    lower.indexOf("auth/authorize") >= 0 ||
    lower.indexOf("not associated with an account") >= 0 ||
    lower.indexOf('actor of type "public"') >= 0
  );
}

// A server function that resolved to null: "null", or the seroval payload
// ending in `…]=[],null)`.
function isNullPayload(text) {
  var t = String(text || "").trim();
  return t === "null" || /\]\s*=\s*\[\s*\]\s*,\s*null\s*\)\s*;?$/.test(t);
}

// Call one server function. Returns the body text of a 2xx answer; maps
// auth, rate-limit and "function not found" answers to clear failures.
function callServer(ctx, session, call) {
  var headers = {
    Cookie: session.cookie,
    "X-Server-Id": call.id,
    "X-Server-Instance": "server-fn:" + uuid(ctx),
    Origin: BASE,
    Referer: call.referer,
    Accept: "text/javascript, application/json;q=0.9, */*;q=0.8",
    "User-Agent": USER_AGENT,
  };
  var req = { method: call.method, url: SERVER, headers: headers, timeoutMs: 15000 };
  if (call.method === "GET") {
    req.url = SERVER + "?id=" + call.id + (call.args ? "&args=" + encodeURIComponent(JSON.stringify(call.args)) : "");
  } else {
    headers["Content-Type"] = "application/json";
    req.bodyText = JSON.stringify(call.args || []);
  }
  var resp = ctx.host.http.request(req);
  var body = resp.bodyText || "";
  if (resp.status === 401 || resp.status === 403) sessionExpired(ctx);
  if (resp.status >= 300 && resp.status < 400) sessionExpired(ctx);
  if (resp.status === 404) apiChanged("server function " + call.name + " not found, HTTP 404");
  if (resp.status >= 500 && call.softServerError) return null;
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: importHint(ctx) });
  if (/^\s*</.test(body)) {
    if (looksSignedOut(body)) sessionExpired(ctx);
    failed("OpenCode returned an HTML page instead of the " + call.name + " payload.");
  }
  return body;
}

function findWorkspaceIds(text) {
  var ids = [];
  var re = /id"?\s*:\s*"(wrk_[A-Za-z0-9]+)"/g;
  var m;
  while ((m = re.exec(text)) !== null) if (ids.indexOf(m[1]) < 0) ids.push(m[1]);
  if (!ids.length) {
    var loose = /"(wrk_[A-Za-z0-9]+)"/g;
    while ((m = loose.exec(text)) !== null) if (ids.indexOf(m[1]) < 0) ids.push(m[1]);
  }
  return ids;
}

function lookupWorkspace(ctx, session) {
  var attempts = [
    { name: "workspaces", id: FN_WORKSPACES, method: "GET", referer: BASE },
    { name: "workspaces", id: FN_WORKSPACES, method: "POST", args: [], referer: BASE },
  ];
  var last = "";
  for (var i = 0; i < attempts.length; i++) {
    last = callServer(ctx, session, attempts[i]);
    var ids = findWorkspaceIds(last);
    if (ids.length) return ids[0];
    if (looksSignedOut(last)) sessionExpired(ctx);
  }
  failed(
    "OpenCode did not list a workspace (no wrk_… id in the workspaces payload). Set workspaceId in the config " +
      "to your opencode.ai/workspace/<id> URL, or the web API may have changed."
  );
}

// {percent, resetInSec} of one usage window in a seroval or JSON payload.
function parseWindow(text, key) {
  var head = key + '"?\\s*:[^}]*?';
  var percent = new RegExp(head + 'usagePercent"?\\s*:\\s*' + NUMBER).exec(text);
  if (!percent) return null;
  var reset = new RegExp(head + 'resetInSec"?\\s*:\\s*' + NUMBER).exec(text);
  return { percent: Number(percent[1]), resetInSec: reset ? Number(reset[1]) : null };
}

function parsePlanName(text) {
  var m = /(?:planName|plan|tier)"?\s*:\s*(?:\$R\[\d+\]\s*=\s*)?"([A-Za-z][A-Za-z0-9 _-]{0,40})"/.exec(text);
  return m ? m[1] : null;
}

function fetchSubscription(ctx, session) {
  var referer = BASE + "/workspace/" + session.workspace + "/billing";
  var base = { name: "subscription", id: FN_SUBSCRIPTION, args: [session.workspace], referer: referer };
  var text = callServer(ctx, session, { name: base.name, id: base.id, args: base.args, referer: referer, method: "GET" });
  if (isNullPayload(text)) return null;
  if (parseWindow(text, "rollingUsage")) return text;
  if (looksSignedOut(text)) sessionExpired(ctx);
  // The GET form sometimes answers without the data; the POST form is the
  // other way the site calls the same function. A 5xx here means "no
  // subscription" for pay-as-you-go workspaces.
  var post = callServer(ctx, session, {
    name: base.name,
    id: base.id,
    args: base.args,
    referer: referer,
    method: "POST",
    softServerError: true,
  });
  if (post === null || isNullPayload(post)) return null;
  if (parseWindow(post, "rollingUsage")) return post;
  if (looksSignedOut(post)) sessionExpired(ctx);
  return { unparsed: post };
}

// Billing/customer payload: monthlyUsage and balance are USD x 1e8,
// monthlyLimit whole USD. Only trusted when a customerID is present.
function billingField(text, field, value) {
  return new RegExp('(?:^|[^A-Za-z0-9_$"])"?' + field + '"?\\s*:\\s*(?:\\$R\\[\\d+\\]\\s*=\\s*)?' + value).exec(text);
}

function parseBilling(text) {
  if (!billingField(text, "customerID", '"[^"]+"')) return null;
  var usage = billingField(text, "monthlyUsage", NUMBER);
  var balance = billingField(text, "balance", NUMBER);
  var limit = billingField(text, "monthlyLimit", NUMBER);
  var sub = billingField(text, "subscription", "([^,}]+)");
  if (!usage && !balance) return null;
  return {
    monthlyUsd: usage ? Number(usage[1]) / USD_SCALE : null,
    balanceUsd: balance ? Number(balance[1]) / USD_SCALE : null,
    limitUsd: limit ? Number(limit[1]) : null,
    hasSubscription: !!sub && !/^\s*null\s*$/.test(sub[1]),
  };
}

function fetchBilling(ctx, session) {
  var text = callServer(ctx, session, {
    name: "billing",
    id: FN_BILLING,
    args: [session.workspace],
    method: "GET",
    referer: BASE + "/workspace/" + session.workspace,
  });
  return parseBilling(text);
}

function subscriptionMetrics(ctx, text) {
  var now = Date.now();
  var metrics = [];
  for (var i = 0; i < WINDOWS.length; i++) {
    var w = WINDOWS[i];
    var win = parseWindow(text, w.key);
    if (!win) {
      if (w.required) apiChanged("missing " + w.key + ".usagePercent in the subscription payload");
      continue;
    }
    metrics.push(
      ctx.line.progress({
        label: w.label,
        used: Math.max(0, Math.min(100, win.percent)),
        limit: 100,
        format: { kind: "percent" },
        resetsAt: win.resetInSec === null ? undefined : ctx.util.toIso(now + Math.max(0, win.resetInSec) * 1000),
        periodDurationMs: w.periodMs,
      })
    );
  }
  return metrics;
}

function payAsYouGoMetrics(ctx, billing) {
  var metrics = [];
  if (billing.monthlyUsd !== null) {
    if (billing.limitUsd !== null && billing.limitUsd > 0) {
      metrics.push(
        ctx.line.progress({
          label: "Monthly spend",
          used: billing.monthlyUsd,
          limit: billing.limitUsd,
          format: { kind: "dollars" },
        })
      );
    } else {
      metrics.push(ctx.line.text({ label: "Monthly spend", value: ctx.fmt.money(billing.monthlyUsd) + " (no limit set)" }));
    }
  }
  if (billing.balanceUsd !== null) metrics.push(ctx.line.text({ label: "Balance", value: ctx.fmt.money(billing.balanceUsd) }));
  return metrics;
}

function probeWeb(ctx) {
  var found = ctx.cookieAuth.find({ env: ["OPENCODE_COOKIE"], defaultName: "auth", names: COOKIE_NAMES });
  var cookie = found && found.header;
  if (!cookie) {
    ctx.util.fail(
      "missing-auth",
      found
        ? "The OpenCode cookie has no `auth` cookie. " + importHint(ctx)
        : "No opencode.ai session cookie. Sign in at opencode.ai, then run `usagestat auth import-cookies --provider " +
            ctx.provider.id +
            " --save` (or set OPENCODE_COOKIE to the `auth` cookie)."
    );
  }
  var configured = ctx.provider.workspaceId || ctx.host.env.get("OPENCODE_WORKSPACE_ID");
  var workspace = null;
  if (configured) {
    workspace = normalizeWorkspace(configured);
    if (!workspace) {
      ctx.util.fail("failed", "workspaceId must be a wrk_… id or an https://opencode.ai/workspace/<id> URL.");
    }
  }
  var session = { cookie: cookie, workspace: workspace };
  if (!session.workspace) session.workspace = lookupWorkspace(ctx, session);

  var sub = fetchSubscription(ctx, session);
  var billing = null;
  try {
    billing = fetchBilling(ctx, session);
  } catch (e) {
    if (!sub || typeof sub !== "string" || (e && e.code === "credential-denied")) throw e;
    ctx.host.log.warn("OpenCode billing payload unavailable: " + String((e && e.message) || e));
  }

  if (typeof sub === "string") {
    var metrics = subscriptionMetrics(ctx, sub);
    if (billing && billing.balanceUsd !== null) {
      metrics.push(ctx.line.text({ label: "Balance", value: ctx.fmt.money(billing.balanceUsd), detail: true }));
    }
    var plan = parsePlanName(sub);
    return { source: "web", plan: plan ? ctx.fmt.planLabel(plan) : undefined, metrics: metrics };
  }
  if (billing && !billing.hasSubscription) {
    var payg = payAsYouGoMetrics(ctx, billing);
    if (payg.length) return { source: "web", plan: "Zen", metrics: payg };
  }
  if (sub && sub.unparsed !== undefined) apiChanged("missing rollingUsage.usagePercent in the subscription payload");
  if (billing) apiChanged("the billing payload reports a subscription but the subscription payload is empty");
  failed(
    "OpenCode returned no subscription usage and no billing data for workspace " +
      session.workspace +
      " (check workspaceId, or the web API may have changed)."
  );
}

globalThis.__usagestat_plugin = {
  id: "opencode",
  probe: function (ctx) {
    if (ctx.sourceMode !== "auto" && ctx.sourceMode !== "web") {
      ctx.util.fail("unsupported", "OpenCode supports only the web source (an opencode.ai session cookie).");
    }
    return probeWeb(ctx);
  },
};
