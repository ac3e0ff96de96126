// ctx.factory: Factory.ai (Droid) usage, shared by the `factory` plugin (CLI
// login / API key) and the `droid` plugin (app.factory.ai browser session).
// Both ask the same endpoints; only the way a request is authenticated differs,
// so the plugin passes `send(request) -> response` and this file does the rest.
//
//   ctx.factory.fetchUsage({send, name, loginHint, bases?}) -> {plan, metrics}
//
// request = {method, url, headers, bodyText?}; `send` adds Authorization and/or
// Cookie (and may retry after a token refresh). Units: billing/limits windows
// are percent 0-100 with `windowEnd` as ISO or epoch s/ms; the extra-usage
// balance is in cents; legacy allowances are token counts with epoch-ms dates.
__usagestat_extend("factory", function (ctx) {
  "use strict";
  var API = "https://api.factory.ai";
  var APP = "https://app.factory.ai";
  var HOUR_MS = 3600000;
  var WINDOWS = [
    ["fiveHour", "Session", 5 * HOUR_MS],
    ["weekly", "Weekly", 7 * 24 * HOUR_MS],
    ["monthly", "Monthly", null], // the calendar month before its end
  ];

  function headers(extra) {
    var h = {
      Accept: "application/json",
      "Content-Type": "application/json",
      Origin: APP,
      Referer: APP + "/",
      "x-factory-client": "web-app",
    };
    var names = Object.keys(extra || {});
    for (var i = 0; i < names.length; i++) h[names[i]] = extra[names[i]];
    return h;
  }

  function isHtml(resp) {
    return /^\s*</.test(resp.bodyText || "") || /text\/html/i.test((resp.headers && resp.headers["content-type"]) || "");
  }

  // ---- metric lines -------------------------------------------------------------

  // One billing window -> {used, resetMs} (null when it carries nothing).
  function windowState(w, nowMs) {
    if (!w || typeof w !== "object") return null;
    var used = ctx.num.of(w.usedPercent);
    var seconds = ctx.num.of(w.secondsRemaining);
    var end = w.windowEnd === undefined || w.windowEnd === null ? null : ctx.util.parseDateMs(w.windowEnd);
    if (used === null && seconds === null && end === null) return null;
    var resetMs = null;
    if (seconds !== null && seconds > 0) resetMs = nowMs + seconds * 1000;
    else if (end !== null && end > nowMs) resetMs = end;
    // A short window that already ended but was not reset server-side counts as reset.
    if (resetMs === null && end !== null && seconds === null) used = 0;
    return { used: ctx.util.clampPercent(used || 0), resetMs: resetMs };
  }

  function poolHasData(pool, nowMs) {
    if (!pool || typeof pool !== "object") return false;
    for (var i = 0; i < WINDOWS.length; i++) {
      var w = pool[WINDOWS[i][0]];
      if (w && (ctx.num.of(w.usedPercent) > 0 || w.windowEnd || ctx.num.of(w.secondsRemaining) > 0)) return true;
    }
    return false;
  }

  function limitsLines(data, nowMs) {
    var lines = [];
    var pools = [["standard", ""], ["core", "Core "]];
    for (var p = 0; p < pools.length; p++) {
      var pool = data.limits[pools[p][0]];
      if (p > 0 && !poolHasData(pool, nowMs)) continue;
      if (!pool) continue;
      for (var i = 0; i < WINDOWS.length; i++) {
        var state = windowState(pool[WINDOWS[i][0]], nowMs);
        if (!state) continue;
        var period = WINDOWS[i][2];
        if (period === null) period = state.resetMs ? ctx.calendar.monthlyPeriodEndingAt(state.resetMs) : 30 * 24 * HOUR_MS;
        lines.push(ctx.line.progress({
          label: pools[p][1] + WINDOWS[i][1],
          used: state.used,
          limit: 100,
          format: { kind: "percent" },
          resetsAt: state.resetMs ? ctx.util.toIso(state.resetMs) : undefined,
          periodDurationMs: period,
          detail: p > 0,
        }));
      }
    }
    var balance = ctx.num.of(data.extraUsageBalanceCents);
    if (data.extraUsageAllowed === true && balance !== null) {
      lines.push(ctx.line.text({ label: "Extra usage balance", value: ctx.fmt.money(Math.round(balance) / 100) }));
    }
    return lines;
  }

  function usageLines(usage) {
    var lines = [];
    var start = ctx.num.of(usage.startDate);
    var end = ctx.num.of(usage.endDate);
    var resetsAt = end ? ctx.util.toIso(end) : undefined; // epoch ms
    var period = start && end && end > start ? end - start : undefined;
    var pools = [["standard", "Standard"], ["premium", "Premium"]];
    for (var i = 0; i < pools.length; i++) {
      var pool = usage[pools[i][0]];
      var limit = pool ? ctx.num.of(pool.totalAllowance) : null;
      if (limit === null || limit <= 0) continue;
      lines.push(ctx.line.progress({
        label: pools[i][1],
        used: ctx.num.of(pool.orgTotalTokensUsed) || 0,
        limit: limit,
        format: { kind: "count", suffix: "tokens" },
        resetsAt: resetsAt,
        periodDurationMs: period,
      }));
    }
    return lines;
  }

  // Plan by Standard allowance (legacy accounts without a named plan).
  function planFromAllowance(usage) {
    var allowance = usage && usage.standard ? ctx.num.of(usage.standard.totalAllowance) : null;
    if (allowance === null) return null;
    if (allowance >= 200000000) return "Max";
    if (allowance >= 20000000) return "Pro";
    if (allowance > 0) return "Basic";
    return null;
  }

  function planFromMe(me) {
    var sub = me && me.organization && me.organization.subscription;
    if (!sub) return null;
    var name = ctx.util.text(sub.orbSubscription && sub.orbSubscription.plan && sub.orbSubscription.plan.name);
    if (name) return name;
    return sub.factoryTier ? ctx.fmt.planLabel(sub.factoryTier) : null;
  }

  // ---- requests ----------------------------------------------------------------------

  function fetchUsage(o) {
    var name = o.name || "Factory";
    var hint = o.loginHint;
    var bases = o.bases && o.bases.length ? o.bases : [API];
    var nowMs = Date.now();

    function send(method, url, body) {
      return o.send({ method: method, url: url, headers: headers(), bodyText: body });
    }

    // 1. Token-rate-limit accounts (always on api.factory.ai).
    var limits = null;
    var resp = send("GET", API + "/api/billing/limits");
    if (resp.status === 401 || resp.status === 403 || resp.status === 429 || (resp.status >= 300 && resp.status < 400)) {
      ctx.util.checkResponse(resp, { name: name, loginHint: hint });
    }
    if (resp.status >= 200 && resp.status < 300) {
      var parsed = ctx.util.tryParseJson(resp.bodyText);
      if (parsed && parsed.usesTokenRateLimitsBilling === true && parsed.limits && typeof parsed.limits === "object") {
        limits = parsed;
      }
    } else {
      ctx.host.log.info("factory: billing/limits answered HTTP " + resp.status + "; using the allowance endpoint");
    }

    // 2. Organisation and plan (best effort) and 3. legacy allowances, per base.
    var me = null;
    var usage = null;
    for (var b = 0; b < bases.length; b++) {
      var base = bases[b];
      var last = b === bases.length - 1;
      var meResp = send("GET", base + "/api/app/auth/me");
      if (meResp.status === 401 || meResp.status === 403 || meResp.status === 429) {
        ctx.util.checkResponse(meResp, { name: name, loginHint: hint });
      }
      if ((meResp.status === 404 || isHtml(meResp)) && !last) continue; // not served on this host
      if (meResp.status >= 200 && meResp.status < 300) me = ctx.util.tryParseJson(meResp.bodyText);
      if (limits) break;
      var path = base + "/api/organization/subscription/usage";
      var uResp = send("POST", path, JSON.stringify({ useCache: true }));
      if (uResp.status === 405) uResp = send("GET", path + "?useCache=true");
      if ((uResp.status === 404 || isHtml(uResp)) && !last) continue;
      ctx.util.checkResponse(uResp, { name: name, loginHint: hint, redirectCode: "credential-denied" });
      if (isHtml(uResp)) ctx.util.fail("credential-denied", name + " returned a web page instead of data: the session has probably expired." + (hint ? " " + hint : ""));
      usage = ctx.util.requireField(ctx.util.expectJson(uResp, name), "usage", name);
      break;
    }

    var lines = limits ? limitsLines(limits, nowMs) : usage ? usageLines(usage) : [];
    var org = ctx.util.text(me && me.organization && me.organization.name);
    if (org) lines.push(ctx.line.text({ label: "Organization", value: org, detail: true }));
    if (!lines.length || (org && lines.length === 1)) {
      lines.unshift(ctx.line.badge({ label: "Status", text: "No usage data", color: "#a3a3a3" }));
    }
    return { plan: planFromMe(me) || (usage ? planFromAllowance(usage) : null) || undefined, metrics: lines };
  }

  return Object.freeze({
    API: API,
    APP: APP,
    headers: headers,
    fetchUsage: fetchUsage,
    limitsLines: limitsLines,
    usageLines: usageLines,
    planFromMe: planFromMe,
    planFromAllowance: planFromAllowance,
  });
});
