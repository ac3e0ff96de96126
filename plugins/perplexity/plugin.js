// Perplexity: account credits (recurring / bonus / purchased, in cents), the
// remaining Pro / Deep Research / Labs query counts, and the Sonar API
// group's balance. Undocumented website endpoints; Cloudflare may interpose.
//
// `web` (default) sends the perplexity.ai session cookie; `local` (macOS) uses
// the bearer token the Perplexity Mac app left in its HTTP cache (Cache.db).

var NAME = "Perplexity";
var BASE = "https://www.perplexity.ai";
var ENV = ["PERPLEXITY_SESSION_TOKEN", "PERPLEXITY_COOKIE"];
var SESSION_COOKIE = "__Secure-next-auth.session-token";
var CACHE_DBS = [
  "~/Library/Containers/ai.perplexity.mac/Data/Library/Caches/ai.perplexity.mac/Cache.db",
  "~/Library/Caches/ai.perplexity.mac/Cache.db",
];
var APP_LOGIN = "Open the Perplexity app and sign in again, or use the web source with a cookie.";
var QUERY_LINES = [
  ["remaining_pro", "Queries"],
  ["remaining_research", "Deep Research"],
  ["remaining_labs", "Labs"],
  ["remaining_agentic_research", "Agentic Research"],
];

// ---- requests -----------------------------------------------------------------------
function webSender(ctx, cookie) {
  return function (path, timeoutMs) {
    return ctx.host.http.request({
      method: "GET",
      url: BASE + path,
      headers: {
        Cookie: cookie,
        Accept: "application/json",
        Origin: BASE,
        Referer: BASE + "/account/usage",
        "User-Agent": ctx.websession.BROWSER_UA,
      },
      timeoutMs: timeoutMs || 15000,
    });
  };
}

function appSender(ctx, app) {
  return function (path, timeoutMs) {
    var headers = {
      Authorization: "Bearer " + app.token,
      Accept: "application/json",
      "User-Agent": app.userAgent || "Ask",
      "X-Client-Name": "Perplexity-Mac",
      "X-App-ApiVersion": "2.17",
      "X-App-ApiClient": "macos",
      "X-Client-Env": "production",
    };
    if (app.version) headers["X-App-Version"] = app.version;
    if (app.deviceId) headers["X-Device-ID"] = app.deviceId;
    return ctx.host.http.request({ method: "GET", url: BASE + path, headers: headers, timeoutMs: timeoutMs || 15000 });
  };
}

// A best-effort JSON GET: null on any failure (never fails the probe).
function optional(ctx, send, path) {
  try {
    var resp = send(path, 8000);
    if (resp.status < 200 || resp.status >= 300) return null;
    return ctx.util.tryParseJson(resp.bodyText);
  } catch (e) {
    return null;
  }
}

// ---- credits (cents, unix seconds) ----------------------------------------------------
function credits(ctx, data, nowMs) {
  var grants = Array.isArray(data.credit_grants) ? data.credit_grants : [];
  var recurring = 0;
  var promo = 0;
  var purchasedGrants = 0;
  var promoExpiry = null;
  for (var i = 0; i < grants.length; i++) {
    var g = grants[i] || {};
    var amount = ctx.num.of(g.amount_cents) || 0;
    var type = typeof g.type === "string" ? g.type.toLowerCase() : "";
    var expires = ctx.util.parseDateMs(g.expires_at_ts);
    if (type === "recurring") recurring += amount;
    else if (type === "purchased") purchasedGrants += amount;
    else if (type === "promotional" || type === "promo" || type === "bonus") {
      if (expires !== null && expires <= nowMs) continue;
      promo += amount;
      if (expires !== null && (promoExpiry === null || expires < promoExpiry)) promoExpiry = expires;
    }
  }
  var purchased = Math.max(purchasedGrants, ctx.num.of(data.current_period_purchased_cents) || 0);
  // total_usage_cents is spent from recurring, then purchased, then promotional credits.
  var left = Math.max(0, ctx.num.of(data.total_usage_cents) || 0);
  var take = function (pool) { var used = Math.min(left, pool); left -= used; return used; };
  var recurringUsed = take(recurring);
  var purchasedUsed = take(purchased);
  var promoUsed = take(promo);
  // A credit pool in cents as a dollars progress line's members.
  var pool = function (label, usedCents, limitCents) {
    return { label: label, used: usedCents / 100, limit: limitCents / 100, format: { kind: "dollars" } };
  };
  var metrics = [];
  if (recurring > 0) {
    var monthly = pool("Credits", recurringUsed, recurring);
    monthly.resetMs = ctx.util.parseDateMs(data.renewal_date_ts);
    metrics.push(ctx.calendar.monthlyProgress(monthly));
  }
  if (promo > 0) {
    var bonus = pool("Bonus credits", promoUsed, promo);
    bonus.resetsAt = promoExpiry === null ? undefined : ctx.util.toIso(promoExpiry);
    metrics.push(ctx.line.progress(bonus));
  }
  if (purchased > 0) metrics.push(ctx.line.progress(pool("Purchased", purchasedUsed, purchased)));
  var balance = ctx.num.of(data.balance_cents);
  if (balance !== null) metrics.push(ctx.line.text({ label: "Balance", value: ctx.fmt.money(balance / 100, "USD") }));
  return { metrics: metrics, recurringCents: recurring };
}

function queryLines(ctx, data) {
  var out = [];
  if (!data || typeof data !== "object") return out;
  for (var i = 0; i < QUERY_LINES.length; i++) {
    var n = ctx.num.of(data[QUERY_LINES[i][0]]);
    if (n !== null) out.push(ctx.line.text({ label: QUERY_LINES[i][1], value: ctx.num.grouped(n) + " remaining" }));
  }
  return out;
}

// The Sonar API group (console): balance (USD) and recent spend; plan flags.
function apiGroup(ctx, send) {
  var groups = optional(ctx, send, "/rest/pplx-api/v2/groups");
  var orgs = groups && Array.isArray(groups.orgs) ? groups.orgs : [];
  if (!orgs.length) return null;
  var org = orgs.filter(function (o) { return o && o.is_default_org; })[0] || orgs[0];
  var id = org && (org.api_org_id || org.id);
  if (typeof id !== "string" && typeof id !== "number") return null;
  var path = "/rest/pplx-api/v2/groups/" + encodeURIComponent(String(id));
  var group = optional(ctx, send, path);
  if (!group) return null;
  var info = group.customerInfo || group.customer_info || group.apiOrganization || group;
  var out = { metrics: [], isPro: !!(info.is_pro || group.is_pro), isMax: !!(info.is_max || group.is_max) };
  var balance = ctx.num.of(info.balance !== undefined ? info.balance : info.balance_usd);
  if (balance !== null) out.metrics.push(ctx.line.text({ label: "API balance", value: ctx.fmt.money(balance, "USD"), detail: true }));
  var analytics = optional(ctx, send, path + "/usage-analytics");
  if (Array.isArray(analytics)) {
    var spent = 0;
    var seen = false;
    for (var i = 0; i < analytics.length; i++) {
      var events = (analytics[i] && analytics[i].meter_event_summaries) || [];
      for (var j = 0; j < events.length; j++) {
        var cost = ctx.num.of(events[j] && events[j].cost);
        if (cost !== null) { spent += cost; seen = true; }
      }
    }
    if (seen) out.metrics.push(ctx.line.text({ label: "API spend", value: ctx.fmt.money(spent, "USD"), detail: true }));
  }
  return out;
}

function planFromTier(ctx, tier) {
  var t = typeof tier === "string" ? tier.toLowerCase() : "";
  if (!t) return undefined;
  if (t === "none" || t === "free") return "Free";
  return ctx.fmt.planLabel(t.replace(/^tier_/, ""));
}

function finish(ctx, metrics, source, plan) {
  if (!metrics.length) metrics.push(ctx.line.badge({ label: "Status", text: "No usage data", color: "grey" }));
  return { source: source, plan: plan, metrics: metrics };
}

// ---- web ------------------------------------------------------------------------------
function probeWeb(ctx, session) {
  if (!session.header) {
    ctx.util.fail("missing-auth", NAME + " session not usable: the pasted cookie is empty. Run `" + ctx.websession.importCommand() + "`.");
  }
  var send = webSender(ctx, session.header);
  var resp = send("/rest/billing/credits?version=2.18&source=default");
  var data = ctx.websession.json(resp, {
    name: NAME,
    challengeMessage: "Blocked by Cloudflare: Perplexity answered with a challenge page; try later or paste a fresh cookie.",
  });
  if (!("balance_cents" in data) && !Array.isArray(data.credit_grants)) {
    ctx.util.fail("failed", "Unexpected response from " + NAME + ": missing balance_cents.");
  }
  var c = credits(ctx, data, Date.now());
  var metrics = c.metrics.concat(queryLines(ctx, optional(ctx, send, "/rest/rate-limit/all")));
  var api = apiGroup(ctx, send);
  if (api) metrics = metrics.concat(api.metrics);
  var plan;
  if (api && api.isMax) plan = "Max";
  else if (api && api.isPro) plan = "Pro";
  else if (c.recurringCents > 0) plan = c.recurringCents < 5000 ? "Pro" : "Max"; // inferred from the credit grant
  return finish(ctx, metrics, "web", plan);
}

// ---- local (macOS app cache) ----------------------------------------------------------
function latin1(bytes) {
  var out = "";
  for (var i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.slice(i, i + 4096));
  }
  return out;
}

function appSession(ctx) {
  var db = ctx.util.firstExisting(CACHE_DBS);
  if (!db) return null;
  var rows = ctx.util.tryParseJson(
    ctx.host.sqlite.query(
      db,
      "SELECT hex(b.request_object) AS req FROM cfurl_cache_blob_data b JOIN cfurl_cache_response r ON r.entry_ID = b.entry_ID " +
        "WHERE r.request_key = 'https://www.perplexity.ai/api/user' ORDER BY r.time_stamp DESC LIMIT 5"
    )
  ) || [];
  for (var i = 0; i < rows.length; i++) {
    if (!rows[i] || !rows[i].req) continue;
    var text = latin1(ctx.bytes.fromHex(rows[i].req));
    var token = /Bearer\s+([A-Za-z0-9._~+\/=-]{16,})/.exec(text);
    if (!token) continue;
    var ua = /Ask\/[0-9][\w.\-]*(?: \([^)\x00]{0,120}\))?/.exec(text);
    var device = /macos:[0-9A-Fa-f-]{36}/.exec(text);
    var version = ua ? /Ask\/([0-9][\w.\-]*)/.exec(ua[0]) : null;
    return { token: token[1], userAgent: ua ? ua[0] : null, version: version ? version[1] : null, deviceId: device ? device[0] : null };
  }
  return null;
}

function probeLocal(ctx) {
  if (ctx.app.platform !== "macos") {
    ctx.util.fail("unsupported", "The Perplexity app session is only read on macOS; use the web source (a perplexity.ai cookie).");
  }
  var app = appSession(ctx);
  if (!app) ctx.util.fail("missing-auth", "Not logged in. Sign in via the Perplexity app or set a cookie (`" + ctx.websession.importCommand() + "`).");
  var send = appSender(ctx, app);
  var resp = send("/api/user");
  ctx.util.checkResponse(resp, { name: NAME, loginHint: APP_LOGIN });
  var user = ctx.util.expectJson(resp, NAME);
  var metrics = queryLines(ctx, optional(ctx, send, "/rest/rate-limit/all"));
  var creditData = optional(ctx, send, "/rest/billing/credits?version=2.18&source=default");
  if (creditData && ("balance_cents" in creditData || Array.isArray(creditData.credit_grants))) {
    metrics = credits(ctx, creditData, Date.now()).metrics.concat(metrics);
  }
  var api = apiGroup(ctx, send);
  if (api) metrics = metrics.concat(api.metrics);
  var plan = planFromTier(ctx, user.subscription_tier || user.payment_tier);
  return finish(ctx, metrics, "local", plan);
}

globalThis.__usagestat_plugin = {
  id: "perplexity",
  probe: function (ctx) {
    var mode = ctx.sourceMode;
    if (mode !== "auto" && mode !== "web" && mode !== "local") {
      ctx.util.fail("unsupported", "Perplexity supports the web and local sources.");
    }
    if (mode === "local") return probeLocal(ctx);
    var opts = { name: NAME, env: ENV, defaultName: SESSION_COOKIE };
    if (mode === "web") return probeWeb(ctx, ctx.websession.require(opts));
    var session = ctx.websession.find(opts);
    if (session) return probeWeb(ctx, session);
    if (ctx.app.platform === "macos" && ctx.util.firstExisting(CACHE_DBS)) return probeLocal(ctx);
    ctx.util.fail("missing-auth", ctx.websession.missingMessage(NAME, ENV));
  },
};
