// ctx.calendar: UTC calendar arithmetic for billing periods (month-to-date
// queries, the next monthly reset, a period's length for pace). All values
// are epoch milliseconds; all computations are in UTC.
__usagestat_extend("calendar", function (ctx) {
  "use strict";

  var DAY_MS = 86400000;

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function ymd(ms) {
    var d = new Date(Number(ms));
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
  }

  function startOfDay(ms) {
    var d = new Date(Number(ms));
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  }

  function monthStart(ms) {
    var d = new Date(Number(ms));
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }

  function daysInMonth(year, month) {
    return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  }

  // Same day-of-month and time `n` months away, clamped to the month's last day.
  function addMonths(ms, n) {
    var d = new Date(Number(ms));
    var y = d.getUTCFullYear();
    var m = d.getUTCMonth() + Number(n);
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
    return Number(resetMs) - addMonths(resetMs, -1);
  }

  return Object.freeze({
    DAY_MS: DAY_MS,
    ymd: ymd,
    startOfDay: startOfDay,
    monthStart: monthStart,
    addMonths: addMonths,
    month: month,
    monthlyPeriodEndingAt: monthlyPeriodEndingAt,
  });
});
