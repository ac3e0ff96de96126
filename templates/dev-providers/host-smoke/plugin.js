// host-smoke: proves the fs and env host functions work end to end.
// It writes a counter into its own data dir, reads it back, lists a declared
// folder and reads a declared env var.
globalThis.__usagestat_plugin = {
  id: "host-smoke",
  probe: function (ctx) {
    var fs = ctx.host.fs;
    var statePath = ctx.app.pluginDataDir + "/state.json";
    var state = ctx.util.readJson(statePath) || { runs: 0 };
    state.runs += 1;
    fs.writeText(statePath, JSON.stringify(state));
    var back = JSON.parse(fs.readText(statePath));
    var smokeDir = "~/.usagestat-smoke";
    var listed = fs.exists(smokeDir) ? fs.listDir(smokeDir) : [];
    var value = ctx.host.env.get("USAGESTAT_SMOKE_VALUE");
    return {
      source: "local",
      metrics: [
        ctx.line.text({ label: "Runs", value: String(back.runs) }),
        ctx.line.text({ label: "Home", value: fs.homeDir ? "set" : "missing" }),
        ctx.line.text({ label: "Smoke dir", value: listed.length ? listed.join(", ") : "(empty or missing)" }),
        ctx.line.text({ label: "Env", value: value === null ? "(unset)" : value }),
      ],
    };
  },
};
