// Moonshot AI (Kimi open platform): the prepaid API balance. International
// host by default; region "cn" (or MOONSHOT_REGION) uses the China platform
// (a separate account: keys only work on the platform that issued them). The
// platform has no quota windows or spend history API, only this balance,
// which ctx.moonshot reads (shared with the kimi-k2 plugin).
function probe(ctx) {
  return ctx.moonshot.probe({
    keyEnv: ["MOONSHOT_API_KEY", "MOONSHOT_KEY"],
    regionEnv: ["MOONSHOT_REGION"],
    defaultRegion: "global",
    missingMessage:
      "No Moonshot API key: set apiKey in the config or MOONSHOT_API_KEY (create one at platform.moonshot.ai → API keys; China accounts: platform.moonshot.cn with region = \"cn\").",
  });
}

globalThis.__usagestat_plugin = { id: "moonshot", probe: probe };
