// Chaos: every edge a renderer must survive, with times relative to ctx.nowIso
// so golden tests with a fixed clock stay stable.
globalThis.__usagestat_plugin = {
  id: "chaos",
  probe: function (ctx) {
    var now = Date.parse(ctx.nowIso);
    function at(ms) { return new Date(now + ms).toISOString(); }
    var MIN = 60 * 1000, HOUR = 60 * MIN, DAY = 24 * HOUR;
    var pct = { kind: "percent" };
    return {
      source: "mock",
      plan: "Chaos Monkey Enterprise",
      metrics: [
        ctx.line.progress({ label: "Empty", used: 0, limit: 100, format: pct, resetsAt: at(30 * MIN), periodDurationMs: 5 * HOUR }),
        ctx.line.progress({ label: "Exactly full", used: 100, limit: 100, format: pct, resetsAt: at(2 * HOUR + 5 * MIN), periodDurationMs: 5 * HOUR }),
        ctx.line.progress({ label: "Over limit", used: 130, limit: 100, format: pct, resetsAt: at(3 * DAY), periodDurationMs: 7 * DAY, color: "red" }),
        ctx.line.progress({ label: "Huge numbers", used: 123456789012, limit: 987654321098, format: { kind: "count", suffix: "tokens" } }),
        ctx.line.progress({ label: "Spend", used: 4.5, limit: 10, format: { kind: "dollars" }, resetsAt: at(12 * DAY) }),
        ctx.line.progress({ label: "Balance EUR", used: 12.34, limit: 50, format: { kind: "dollars", currency: "EUR" } }),
        ctx.line.progress({ label: "Credits", used: 950, limit: 1000, format: { kind: "count", suffix: "credits" }, resetsAt: at(-5 * MIN) }),
        ctx.line.progress({ label: "Tiny fraction", used: 0.0001, limit: 1, format: pct, detail: true }),
        ctx.line.text({ label: "Long text", value: new Array(30).join("a very long value ") + "end" }),
        ctx.line.text({ label: "", value: "an empty label" }),
        ctx.line.text({ label: "Unicode", value: "naïve café — 日本語 🚀", color: "#336699", subtitle: "with a subtitle" }),
        ctx.line.badge({ label: "Status", text: "Degraded", color: "amber" }),
        ctx.line.badge({ label: "Healthy", text: "OK", color: "green", detail: true }),
        ctx.line.badge({ label: "Info", text: "blue badge", color: "blue" }),
        ctx.line.badge({ label: "Muted", text: "grey badge", color: "grey" }),
      ],
    };
  },
};
