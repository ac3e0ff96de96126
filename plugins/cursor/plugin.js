// Cursor: the current billing cycle's included usage, Auto/API pools,
// on-demand spend and credit grants.
//
// local (default): Cursor's own sign-in token from its state.vscdb (or, on
//   macOS, the cursor-agent keychain item) -> api2.cursor.sh Connect-RPC.
//   Cursor keeps its tokens in SQLite, which usagestat never writes: an expired
//   token is reported (credential-denied) instead of refreshed.
// web: a cursor.com session cookie (WorkosCursorSessionToken) -> cursor.com/api.
// Amounts from Cursor are in cents; percentages are 0-100.

var PROVIDER = "Cursor";
var RPC = "https://api2.cursor.sh/aiserver.v1.DashboardService/";
var WEB = "https://cursor.com";
var LOGIN_HINT = "Open Cursor and sign in, then try again.";
var EXPIRED_HINT = "Cursor's sign-in token has expired. Open Cursor (it renews the token), then try again.";
var KEYS = {
  access: "cursorAuth/accessToken",
  membership: "cursorAuth/stripeMembershipType",
};
var MONTH_MS = 30 * 24 * 3600 * 1000;

// cents (number or numeric string) -> dollars
function cents(value) {
  return Math.round(Number(String(value).replace(/,/g, "")) * 100) / 10000;
}

function webHint(ctx) {
  return "Session expired: copy a fresh Cookie header from cursor.com (or run `usagestat auth import-cookies --provider " +
    ctx.provider.id + " --save`).";
}

// ---- credentials --------------------------------------------------------------

// The cursor-agent CLI's token (macOS keychain only), or null.
function readKeychainToken(ctx) {
  if (ctx.app.platform !== "macos") return null;
  var value = null;
  try {
    value = ctx.host.keychain.readGenericPassword("cursor-access-token");
  } catch (e) {
    ctx.host.log.warn("cursor: keychain read failed: " + String(e.message || e));
  }
  value = value ? String(value).trim() : "";
  return value ? { token: value, membership: null, source: "keychain" } : null;
}

// The app's SQLite token first; the keychain when the DB has none, or when the
// DB says `free` and the keychain token belongs to another user (the CLI signed
// in to a paid account while the app still holds a free one).
function readLocalToken(ctx) {
  var dbs = ctx.vscode.existingStateDbs("Cursor");
  for (var i = 0; i < dbs.length; i++) {
    var items;
    try {
      items = ctx.vscode.readItems(dbs[i].path, [KEYS.access, KEYS.membership]);
    } catch (e) {
      ctx.host.log.warn("cursor: cannot read " + dbs[i].path + ": " + String(e.message || e));
      continue;
    }
    var token = ctx.vscode.unquote(items[KEYS.access]);
    if (!token) continue;
    var fromDb = { token: token, membership: ctx.vscode.unquote(items[KEYS.membership]), source: "state.vscdb" };
    if (String(fromDb.membership || "").toLowerCase() === "free") {
      var cli = readKeychainToken(ctx);
      var cliUser = cli ? userIdFromToken(ctx, cli.token) : null;
      if (cliUser && cliUser !== userIdFromToken(ctx, token)) return cli;
    }
    return fromDb;
  }
  return readKeychainToken(ctx);
}

function userIdFromToken(ctx, token) {
  var payload = ctx.jwt.decodePayload(token);
  var sub = payload && typeof payload.sub === "string" ? payload.sub : "";
  return sub.indexOf("|") >= 0 ? sub.split("|").pop() : sub || null;
}

// ---- requests ------------------------------------------------------------------

function rpc(ctx, method, token, required) {
  if (!required) {
    // Secondary calls (plan name, credit grants) never fail the probe.
    try {
      return rpc(ctx, method, token, true);
    } catch (e) {
      ctx.host.log.warn("cursor: " + method + " skipped: " + String((e && e.message) || e));
      return null;
    }
  }
  var resp = ctx.host.http.request({
    method: "POST",
    url: RPC + method,
    headers: {
      Authorization: "Bearer " + token,
      "Content-Type": "application/json",
      "Connect-Protocol-Version": "1",
      Accept: "application/json",
    },
    bodyText: "{}",
    timeoutMs: 10000,
  });
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: "Open Cursor to sign in again." });
  return ctx.util.expectJson(resp, PROVIDER);
}

function web(ctx, path, cookie, hint, optional) {
  var resp = ctx.host.http.request({
    method: "GET",
    url: WEB + path,
    headers: { Cookie: cookie, Accept: "application/json", Origin: WEB, Referer: WEB + "/dashboard" },
    timeoutMs: 10000,
  });
  if (optional && (resp.status === 404 || resp.status >= 500)) return null;
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: hint });
  var data = ctx.util.tryParseJson(resp.bodyText);
  if (data === null || typeof data !== "object") {
    // cursor.com serves its sign-in page (HTML) to an expired session.
    if (/^\s*</.test(resp.bodyText || "")) ctx.util.fail("credential-denied", PROVIDER + " returned a web page instead of data. " + hint);
    ctx.util.fail("failed", PROVIDER + " returned an unexpected response (not JSON).");
  }
  return data;
}

// ---- metric lines ------------------------------------------------------------------

function cycleOf(ctx, start, end) {
  var s = ctx.util.parseDateMs(start);
  var e = ctx.util.parseDateMs(end);
  return {
    resetsAt: e ? ctx.util.toIso(e) : undefined,
    periodDurationMs: s && e && e > s ? e - s : undefined,
  };
}

function percentLine(ctx, label, value, cycle, detail) {
  return ctx.line.progress({
    label: label,
    used: ctx.util.clampPercent(value),
    limit: 100,
    format: { kind: "percent" },
    resetsAt: cycle.resetsAt,
    periodDurationMs: cycle.periodDurationMs,
    detail: detail,
  });
}

function dollarLine(ctx, label, usedCents, limitCents, cycle, detail) {
  return ctx.line.progress({
    label: label,
    used: cents(usedCents),
    limit: cents(limitCents),
    format: { kind: "dollars" },
    resetsAt: cycle ? cycle.resetsAt : undefined,
    periodDurationMs: cycle ? cycle.periodDurationMs : undefined,
    detail: detail,
  });
}

function poolLines(ctx, pool, cycle) {
  var out = [];
  if (ctx.num.of(pool.autoPercentUsed) !== null) out.push(percentLine(ctx, "Auto usage", ctx.num.of(pool.autoPercentUsed), cycle, true));
  if (ctx.num.of(pool.apiPercentUsed) !== null) out.push(percentLine(ctx, "API usage", ctx.num.of(pool.apiPercentUsed), cycle, true));
  return out;
}

// GetCurrentPeriodUsage -> lines (Connect-RPC, cents).
function rpcLines(ctx, usage) {
  var cycle = cycleOf(ctx, usage.billingCycleStart, usage.billingCycleEnd);
  var pu = usage.planUsage;
  var lines = [];
  var limit = ctx.num.of(pu.limit);
  var spend = ctx.num.of(pu.totalSpend);
  var percent = ctx.num.of(pu.totalPercentUsed);
  if (percent === null && limit && limit > 0 && spend !== null) percent = (spend / limit) * 100;
  if (percent === null) ctx.util.fail("failed", "Unexpected response from Cursor: missing planUsage.totalPercentUsed.");
  lines.push(percentLine(ctx, "Total usage", percent, cycle, false));
  lines = lines.concat(poolLines(ctx, pu, cycle));
  if (limit && limit > 0 && spend !== null) lines.push(dollarLine(ctx, "Included spend", spend, limit, cycle, true));
  if (ctx.num.of(pu.bonusSpend) > 0) {
    lines.push(ctx.line.text({ label: "Bonus spend", value: ctx.fmt.money(cents(pu.bonusSpend)), detail: true }));
  }
  var su = usage.spendLimitUsage;
  if (su) {
    var ondLimit = ctx.num.of(su.individualLimit) !== null ? ctx.num.of(su.individualLimit) : ctx.num.of(su.pooledLimit);
    var ondLeft = ctx.num.of(su.individualRemaining) !== null ? ctx.num.of(su.individualRemaining) : ctx.num.of(su.pooledRemaining);
    if (ondLimit && ondLimit > 0) {
      lines.push(dollarLine(ctx, "On-demand", Math.max(0, ondLimit - (ondLeft || 0)), ondLimit, cycle, false));
    }
  }
  return lines;
}

function creditLine(ctx, grants) {
  if (!grants || grants.hasCreditGrants !== true) return null;
  var total = ctx.num.of(grants.totalCents);
  if (!total || total <= 0) return null;
  return dollarLine(ctx, "Credits", ctx.num.of(grants.usedCents) || 0, total, null, false);
}

// cursor.com/api/usage-summary -> lines (cents, ISO cycle dates).
function summaryLines(ctx, summary) {
  var cycle = cycleOf(ctx, summary.billingCycleStart, summary.billingCycleEnd);
  var iu = summary.individualUsage || {};
  var team = summary.teamUsage || {};
  var lines = [];
  var plan = iu.plan;
  if (plan && plan.enabled !== false) {
    var percent = ctx.num.of(plan.totalPercentUsed);
    if (percent !== null) {
      lines.push(percentLine(ctx, "Total usage", percent, cycle, false));
      lines = lines.concat(poolLines(ctx, plan, cycle));
      if (ctx.num.of(plan.limit) > 0) lines.push(dollarLine(ctx, "Included spend", ctx.num.of(plan.used) || 0, ctx.num.of(plan.limit), cycle, true));
    } else if (ctx.num.of(plan.limit) > 0) {
      lines.push(dollarLine(ctx, "Total usage", ctx.num.of(plan.used) || 0, ctx.num.of(plan.limit), cycle, false));
      lines = lines.concat(poolLines(ctx, plan, cycle));
    }
  }
  var od = iu.onDemand;
  if (od && od.enabled) {
    if (ctx.num.of(od.limit) > 0) lines.push(dollarLine(ctx, "On-demand", ctx.num.of(od.used) || 0, ctx.num.of(od.limit), cycle, false));
    else lines.push(ctx.line.text({ label: "On-demand", value: ctx.fmt.money(cents(ctx.num.of(od.used) || 0)) + " used (no limit)" }));
  }
  if (iu.overall && ctx.num.of(iu.overall.limit) > 0) {
    lines.push(dollarLine(ctx, "Personal limit", ctx.num.of(iu.overall.used) || 0, ctx.num.of(iu.overall.limit), cycle, true));
  }
  if (team.pooled && ctx.num.of(team.pooled.limit) > 0) {
    lines.push(dollarLine(ctx, "Team pool", ctx.num.of(team.pooled.used) || 0, ctx.num.of(team.pooled.limit), cycle, lines.length > 0));
  }
  if (team.onDemand && team.onDemand.enabled && ctx.num.of(team.onDemand.limit) > 0) {
    lines.push(dollarLine(ctx, "Team on-demand", ctx.num.of(team.onDemand.used) || 0, ctx.num.of(team.onDemand.limit), cycle, true));
  }
  if (summary.isUnlimited === true) lines.push(ctx.line.badge({ label: "Usage", text: "Unlimited", color: "green" }));
  return lines;
}

// cursor.com/api/usage (request-based plans) -> a Requests line.
function requestLines(ctx, usage) {
  var gpt4 = usage && usage["gpt-4"];
  if (!gpt4 || !(ctx.num.of(gpt4.maxRequestUsage) > 0)) return [];
  var start = ctx.util.parseDateMs(usage.startOfMonth);
  var end = null;
  if (start) {
    var d = new Date(start);
    d.setUTCMonth(d.getUTCMonth() + 1);
    end = d.getTime();
  }
  return [
    ctx.line.progress({
      label: "Requests",
      used: ctx.num.of(gpt4.numRequests) || 0,
      limit: ctx.num.of(gpt4.maxRequestUsage),
      format: { kind: "count", suffix: "requests" },
      resetsAt: end ? ctx.util.toIso(end) : undefined,
      periodDurationMs: end ? end - start : MONTH_MS,
    }),
  ];
}

function planLabel(ctx, name) {
  return name ? ctx.fmt.planLabel(name) : undefined;
}

// The cookie-authenticated path shared by web mode and the local fallback.
function probeWebApi(ctx, cookie, userId, hint) {
  var summary = web(ctx, "/api/usage-summary", cookie, hint, false);
  var lines = summaryLines(ctx, summary);
  if (!lines.length) {
    var id = userId;
    if (!id) {
      var me = web(ctx, "/api/auth/me", cookie, hint, true);
      var sub = me && typeof me.sub === "string" ? me.sub : "";
      id = sub.indexOf("|") >= 0 ? sub.split("|").pop() : sub;
    }
    if (id) {
      var legacy = web(ctx, "/api/usage?user=" + encodeURIComponent(id), cookie, hint, true);
      lines = requestLines(ctx, legacy);
    }
  }
  return { plan: planLabel(ctx, summary.membershipType), lines: lines };
}

// ---- modes -----------------------------------------------------------------------------

function probeLocal(ctx) {
  var creds = readLocalToken(ctx);
  if (!creds) ctx.util.fail("missing-auth", "Not logged in to Cursor. " + LOGIN_HINT);
  var payload = ctx.jwt.decodePayload(creds.token);
  if (payload && typeof payload.exp === "number" && payload.exp * 1000 <= Date.now()) {
    ctx.util.fail("credential-denied", EXPIRED_HINT);
  }
  var token = creds.token;
  var usage = rpc(ctx, "GetCurrentPeriodUsage", token, true);
  var result;
  if (usage.enabled !== false && usage.planUsage && typeof usage.planUsage === "object") {
    var info = rpc(ctx, "GetPlanInfo", token, false);
    var lines = rpcLines(ctx, usage);
    var credit = creditLine(ctx, rpc(ctx, "GetCreditGrantsBalance", token, false));
    if (credit) lines.push(credit);
    var name = info && info.planInfo && info.planInfo.planName;
    result = { plan: planLabel(ctx, name || creds.membership), lines: lines };
  } else {
    // Team/Enterprise accounts: the RPC reports no personal plan; cursor.com does.
    var userId = userIdFromToken(ctx, token);
    var cookie = "WorkosCursorSessionToken=" + encodeURIComponent(userId || "") + "%3A%3A" + token;
    result = probeWebApi(ctx, cookie, userId, "Open Cursor to sign in again.");
    if (!result.plan) result.plan = planLabel(ctx, creds.membership);
  }
  if (!result.lines.length) {
    ctx.util.fail("no-data", "No active Cursor subscription: Cursor reports no usage for this account.");
  }
  return { source: "local", plan: result.plan, metrics: result.lines };
}

function cookieUserId(ctx, cookie) {
  var value = ctx.cookieAuth.get(cookie, "WorkosCursorSessionToken");
  if (!value) return null;
  try { value = decodeURIComponent(value); } catch (e) { /* keep raw */ }
  var idx = value.indexOf("::");
  return idx > 0 ? value.slice(0, idx) : null;
}

function probeWeb(ctx) {
  // A bare value is the WorkosCursorSessionToken; a Cookie header or cURL command is kept whole.
  var cookie = ctx.cookieAuth.normalize(ctx.provider.cookieHeader, { defaultName: "WorkosCursorSessionToken" });
  if (!cookie) {
    ctx.util.fail(
      "missing-auth",
      "No Cursor session cookie: set cookieHeader from cursor.com (or run `usagestat auth import-cookies --provider " +
        ctx.provider.id + " --save`)."
    );
  }
  var result = probeWebApi(ctx, cookie, cookieUserId(ctx, cookie), webHint(ctx));
  if (!result.lines.length) {
    ctx.util.fail("no-data", "No active Cursor subscription: cursor.com reports no usage for this account.");
  }
  return { source: "web", plan: result.plan, metrics: result.lines };
}

globalThis.__usagestat_plugin = {
  id: "cursor",
  probe: function (ctx) {
    if (ctx.sourceMode === "web") return probeWeb(ctx);
    if (ctx.sourceMode === "local") return probeLocal(ctx);
    if (ctx.provider.cookieHeader) return probeWeb(ctx);
    return probeLocal(ctx);
  },
};
