// ctx.calendar: UTC calendar arithmetic for billing periods (month-to-date
// queries, the next monthly reset, a period's length for pace). All values
// are epoch milliseconds; all computations are in UTC.
__usagestat_extend("calendar", function (ctx) {
  "use strict";

  var toNumber = ctx.util.toNumber; // an answer value that is no number is NaN, never a stack overflow
  var DAY_MS = 86400000;
  var HOUR_MS = 3600000;

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function ymd(ms) {
    var d = new Date(toNumber(ms));
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
  }

  function startOfDay(ms) {
    var d = new Date(toNumber(ms));
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  }

  function monthStart(ms) {
    var d = new Date(toNumber(ms));
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }

  function daysInMonth(year, month) {
    return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  }

  // Same day-of-month and time `n` months away, clamped to the month's last day.
  function addMonths(ms, n) {
    var d = new Date(toNumber(ms));
    var y = d.getUTCFullYear();
    var m = d.getUTCMonth() + toNumber(n);
    y += Math.floor(m / 12);
    m = ((m % 12) + 12) % 12;
    var day = Math.min(d.getUTCDate(), daysInMonth(y, m));
    return Date.UTC(y, m, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
  }

  // The calendar month containing `ms`: {start, end (next month's start), durationMs}.
  function month(ms) {
    var start = monthStart(ms);
    var end = addMonths(start, 1);
    return { start: start, end: end, durationMs: end - start };
  }

  // A monthly cycle that ends at `resetMs`: its length is the calendar month
  // before the reset (28-31 days), so pace follows the real billing cycle.
  function monthlyPeriodEndingAt(resetMs) {
    return toNumber(resetMs) - addMonths(resetMs, -1);
  }

  // A progress line (ctx.line.progress members) for a quota that renews
  // monthly at `o.resetMs` (epoch ms; null when unknown): resetsAt, and the
  // calendar month before it as periodDurationMs so pace follows the cycle.
  function monthlyProgress(o) {
    var line = {};
    var names = Object.keys(o);
    for (var i = 0; i < names.length; i++) if (names[i] !== "resetMs") line[names[i]] = o[names[i]];
    var at = o.resetMs === null || o.resetMs === undefined ? NaN : toNumber(o.resetMs);
    if (isFinite(at)) {
      line.resetsAt = ctx.util.toIso(at);
      line.periodDurationMs = monthlyPeriodEndingAt(at);
    }
    return ctx.line.progress(line);
  }

  // Day of the month of the n-th Sunday of `month` (0-based) in `year`.
  function nthSunday(year, month, n) {
    var first = new Date(Date.UTC(year, month, 1)).getUTCDay();
    return 1 + ((7 - first) % 7) + 7 * (n - 1);
  }

  // Is US daylight saving time in effect at `ms` in a zone `standardOffsetHours`
  // from UTC (-5 Eastern, -6 Central, -7 Mountain, -8 Pacific)? From the second
  // Sunday of March 02:00 to the first Sunday of November 02:00, local time.
  function isUsDst(ms, standardOffsetHours) {
    var year = new Date(toNumber(ms)).getUTCFullYear();
    var toUtc = -toNumber(standardOffsetHours) * HOUR_MS;
    var start = Date.UTC(year, 2, nthSunday(year, 2, 2), 2) + toUtc;
    var end = Date.UTC(year, 10, nthSunday(year, 10, 1), 2) + toUtc - HOUR_MS;
    return ms >= start && ms < end;
  }

  // The first `hour`:00 local time after `nowMs` in a US zone (see isUsDst),
  // e.g. a provider's daily reset at midnight America/Chicago: (now, 0, -6).
  function nextUsLocalTime(nowMs, hour, standardOffsetHours) {
    var offset = toNumber(standardOffsetHours) * HOUR_MS;
    var local = new Date(toNumber(nowMs) + offset);
    for (var i = -1; i < 3; i++) {
      var wall = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + i, hour);
      var at = wall - offset - HOUR_MS; // in daylight time, unless it is not in effect then
      if (!isUsDst(at, standardOffsetHours)) at += HOUR_MS;
      if (at > nowMs) return at;
    }
    return toNumber(nowMs) + DAY_MS;
  }

  return Object.freeze({
    DAY_MS: DAY_MS,
    ymd: ymd,
    startOfDay: startOfDay,
    monthStart: monthStart,
    addMonths: addMonths,
    month: month,
    monthlyPeriodEndingAt: monthlyPeriodEndingAt,
    monthlyProgress: monthlyProgress,
    isUsDst: isUsDst,
    nextUsLocalTime: nextUsLocalTime,
  });
});
