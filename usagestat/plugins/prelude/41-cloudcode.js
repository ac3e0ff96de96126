// ctx.cloudcode: Google's Cloud Code Assist API (cloudcode-pa.googleapis.com),
// which answers the quota of Gemini CLI and Antigravity sign-ins. Quotas come as
// remaining fractions (0..1); lines show used percent.
__usagestat_extend("cloudcode", function (ctx) {
  "use strict";
  var PROD = "https://cloudcode-pa.googleapis.com";
  var DAILY = "https://daily-cloudcode-pa.googleapis.com";

  // Remaining fraction (0..1) -> used percent (0..100, one decimal). A missing
  // fraction is 0 (proto3 JSON omits zero values), i.e. fully used.
  function usedPercent(fraction) {
    var f = fraction === undefined || fraction === null || fraction === "" ? 0 : ctx.num.of(fraction);
    if (f === null) return null;
    f = Math.max(0, Math.min(1, f));
    return Math.round((1 - f) * 1000) / 10;
  }

  // POST <base>/v1internal:<method> with a bearer token from an ctx.oauth
  // session (retried once after a refresh on 401/403). Network failures
  // become {status: 0, error} so callers can try another base.
  function call(session, o) {
    return session.request(function (token) {
      try {
        return ctx.host.http.request({
          method: "POST",
          url: String(o.base || PROD).replace(/\/+$/, "") + "/v1internal:" + o.method,
          headers: {
            Authorization: "Bearer " + token,
            "Content-Type": "application/json",
            Accept: "application/json",
            "User-Agent": o.userAgent || "usagestat/" + ctx.app.version,
          },
          bodyText: JSON.stringify(o.body || {}),
          timeoutMs: o.timeoutMs || 15000,
        });
      } catch (e) {
        return { status: 0, headers: {}, bodyText: "", error: String((e && e.message) || e) };
      }
    });
  }

  // The account cannot use this client any more (Gemini CLI consumer tiers).
  function isRetired(resp) {
    return /UNSUPPORTED_CLIENT|IneligibleTier|INELIGIBLE_ACCOUNT/i.test(String((resp && resp.bodyText) || ""));
  }

  function projectId(load) {
    var p = load && load.cloudaicompanionProject;
    if (typeof p === "string" && p) return p;
    var id = p && typeof p === "object" ? ctx.util.text(p.id) : "";
    return id || null;
  }

  var TIERS = {
    "standard-tier": "Paid",
    "free-tier": "Free",
    "legacy-tier": "Legacy",
    "g1-pro-tier": "AI Pro",
    "g1-ultra-tier": "AI Ultra",
  };

  // Plan label from a loadCodeAssist answer: paidTier.name, else the current
  // tier ("Workspace" for a free tier on a Google Workspace account).
  function tierPlan(load, opts) {
    if (!load || typeof load !== "object") return undefined;
    var paid = ctx.util.text(load.paidTier && load.paidTier.name);
    if (paid) return paid;
    var cur = load.currentTier;
    if (!cur) return undefined;
    var id = ctx.util.text(cur.id);
    if (id === "free-tier" && opts && opts.hostedDomain) return "Workspace";
    if (TIERS[id]) return TIERS[id];
    return ctx.util.text(cur.name) || (id ? ctx.fmt.planLabel(id) : undefined);
  }

  return Object.freeze({
    prodBase: PROD,
    dailyBase: DAILY,
    usedPercent: usedPercent,
    call: call,
    isRetired: isRetired,
    projectId: projectId,
    tierPlan: tierPlan,
  });
});
