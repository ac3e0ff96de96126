// The mock provider: a plausible session window computed from the clock, so
// a first run shows every part of the output (bar, reset, pace) offline.
globalThis.__usagestat_plugin = {
  id: "mock",
  probe: function (ctx) {
    var periodMs = 5 * 60 * 60 * 1000;
    var nowMs = Date.parse(ctx.nowIso);
    // The window started at the last 5-hour boundary since midnight UTC.
    var startMs = nowMs - (nowMs % periodMs);
    var resetsAt = new Date(startMs + periodMs).toISOString();
    var elapsed = (nowMs - startMs) / periodMs;
    var used = Math.round(Math.min(100, elapsed * 100 * 0.9) * 10) / 10;
    return {
      source: "mock",
      plan: "Dev",
      metrics: [
        ctx.line.progress({
          label: "Session",
          used: used,
          limit: 100,
          format: { kind: "percent" },
          resetsAt: resetsAt,
          periodDurationMs: periodMs,
        }),
        ctx.line.text({ label: "Note", value: "Mock data for trying usagestat; no account involved" }),
      ],
    };
  },
};
