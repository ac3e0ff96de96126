// ctx.localCost: Today / Yesterday / Last 30 Days spend lines from the agent's own
// session logs (ctx.host.usage.scanLogs), shared by the claude and codex plugins.
// A scan failure never fails the quota probe: it is logged and the lines are left out.
__usagestat_extend("localCost", function (ctx) {
  "use strict";

  function localDay(ms) {
    var d = new Date(ms);
    var m = d.getMonth() + 1;
    var day = d.getDate();
    return d.getFullYear() + "-" + (m < 10 ? "0" : "") + m + "-" + (day < 10 ? "0" : "") + day;
  }

  // Appends the lines ("$5.17 · 9.2M tokens", detail) to a probe result.
  function append(provider, result) {
    var now = Date.parse(ctx.nowIso);
    if (!isFinite(now)) now = Date.now();
    var noon = new Date(now);
    noon.setHours(12, 0, 0, 0); // whole days back from local noon stay on the right date across DST
    var days = { today: localDay(now), yesterday: localDay(noon.getTime() - 86400000) };
    var report;
    try {
      report = ctx.host.usage.scanLogs({ provider: provider, since: localDay(noon.getTime() - 29 * 86400000), until: days.today });
    } catch (e) {
      ctx.host.log.warn("cost lines skipped: " + (e && e.message ? e.message : String(e)));
      return result;
    }
    function sum(pick) {
      var out = { cost: 0, tokens: 0, unpriced: false };
      (report.days || []).forEach(function (d) {
        if (!pick(d.date)) return;
        out.cost += Number(d.costUsd) || 0;
        out.tokens += (d.inputTokens || 0) + (d.outputTokens || 0) + (d.cacheCreationTokens || 0) + (d.cacheReadTokens || 0);
        (d.models || []).forEach(function (m) { if (m.costUsd === null) out.unpriced = true; });
      });
      return out;
    }
    var month = sum(function () { return true; });
    if (!month.tokens) return result; // no local logs: nothing worth a line
    function line(label, s) {
      // "≥": models missing from the price table add tokens but no dollars.
      var value = (s.unpriced ? "≥ " : "") + ctx.fmt.money(s.cost) + " · " + ctx.fmt.tokens(s.tokens) + " tokens";
      return ctx.line.text({ label: label, value: value, detail: true });
    }
    result.metrics = (result.metrics || []).concat([
      line("Today", sum(function (d) { return d === days.today; })),
      line("Yesterday", sum(function (d) { return d === days.yesterday; })),
      line("Last 30 Days", month),
    ]);
    return result;
  }

  return Object.freeze({ append: append });
});
