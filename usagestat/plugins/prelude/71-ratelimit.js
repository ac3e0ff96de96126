// ctx.ratelimit: the OpenAI-style rate-limit headers several providers send
// (x-ratelimit-limit-requests, x-ratelimit-remaining-tokens,
// x-ratelimit-reset-requests ...), turned into numbers, reset times and
// progress lines. Reset values come as durations ("6m0s", "1m30.5s", "20ms",
// "2h"), plain seconds ("59"), epoch seconds/ms, or ISO 8601 timestamps.
__usagestat_extend("ratelimit", function (ctx) {
  "use strict";

  var UNITS = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };

  // A Go/OpenAI-style duration -> milliseconds, or null.
  function parseDuration(text) {
    if (text === null || text === undefined) return null;
    var s = String(text).trim().toLowerCase();
    if (!s) return null;
    if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
    var re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
    var total = 0;
    var consumed = 0;
    var m;
    while ((m = re.exec(s)) !== null) {
      total += Number(m[1]) * UNITS[m[2]];
      consumed += m[0].length;
    }
    return consumed === s.replace(/\s+/g, "").length && consumed > 0 ? total : null;
  }

  // A reset header value -> absolute time in ms, or null.
  function resetAt(value, nowMs) {
    if (value === null || value === undefined || value === "") return null;
    var now = nowMs === undefined ? Date.now() : Number(nowMs);
    var s = String(value).trim();
    if (/^\d+(\.\d+)?$/.test(s)) {
      var n = Number(s);
      if (n >= 1e12) return n; // epoch ms
      if (n >= 1e9) return n * 1000; // epoch seconds
      return now + n * 1000; // seconds from now
    }
    var d = parseDuration(s);
    if (d !== null) return now + d;
    var iso = ctx.util.parseDateMs(s);
    return iso === null ? null : iso;
  }

  // {limit, remaining, resetMs} for one kind ("requests", "tokens", ...) or null
  // when the response carries none of the three headers.
  function read(headers, kind, opts) {
    var h = headers || {};
    var o = opts || {};
    var prefix = o.prefix || "x-ratelimit-";
    var limit = ctx.num.of(h[prefix + "limit-" + kind]);
    var remaining = ctx.num.of(h[prefix + "remaining-" + kind]);
    var reset = h[prefix + "reset-" + kind];
    if (limit === null && remaining === null && (reset === undefined || reset === null)) return null;
    return { kind: kind, limit: limit, remaining: remaining, resetMs: resetAt(reset, o.nowMs) };
  }

  // A count progress line (used = limit - remaining), or null when the limit is unknown or 0.
  function progress(info, opts) {
    var o = opts || {};
    if (!info || info.limit === null || !(info.limit > 0) || info.remaining === null) return null;
    var used = Math.max(0, Math.min(info.limit, info.limit - info.remaining));
    return ctx.line.progress({
      label: o.label || "Requests",
      used: used,
      limit: info.limit,
      format: { kind: "count", suffix: o.suffix || info.kind },
      resetsAt: info.resetMs === null ? undefined : ctx.util.toIso(info.resetMs),
      periodDurationMs: o.periodDurationMs,
      detail: o.detail,
    });
  }

  return Object.freeze({ parseDuration: parseDuration, resetAt: resetAt, read: read, progress: progress });
});
