// Kimi K2: the Moonshot open-platform balance (the account that serves the
// Kimi K2 models through the API), read by ctx.moonshot (shared with the
// moonshot plugin). China host by default; `region = "intl"` uses the
// international host. Not the Kimi Code subscription (that is the `kimi`
// plugin).
function probe(ctx) {
  return ctx.moonshot.probe({
    keyEnv: ["KIMI_API_KEY", "MOONSHOT_API_KEY"],
    defaultRegion: "cn",
    missingMessage:
      "No Moonshot API key: set apiKey in the config or KIMI_API_KEY / MOONSHOT_API_KEY (platform.moonshot.cn → API keys).",
  });
}

globalThis.__usagestat_plugin = { id: "kimi-k2", probe: probe };
