// ElevenLabs: the subscription's credit (character) quota for the current
// billing month, voice slots and the plan tier.
var PROVIDER = "ElevenLabs";

function probe(ctx) {
  var key = ctx.creds.apiKey({ env: ["ELEVENLABS_API_KEY", "XI_API_KEY"] });
  if (!key) {
    ctx.util.fail("missing-auth", "No ElevenLabs API key: set apiKey in the config or ELEVENLABS_API_KEY (https://elevenlabs.io/app/settings/api-keys).");
  }
  var base = ctx.keyapi.baseUrl(ctx.provider.baseUrl, { name: PROVIDER }) || "https://api.elevenlabs.io";
  var resp = ctx.keyapi.request({
    url: base + "/v1/user/subscription",
    headers: { "xi-api-key": key.value, Accept: "application/json" },
    timeoutMs: 10000,
    name: PROVIDER,
  });
  if (resp.status === 401 || resp.status === 403) {
    var err = ctx.util.tryParseJson(resp.bodyText) || {};
    var detail = err.detail && typeof err.detail === "object" ? err.detail : {};
    if (detail.status === "missing_permissions") {
      ctx.util.fail("credential-denied", "The ElevenLabs API key lacks the user_read permission: enable \"User: read\" for the key.");
    }
  }
  ctx.util.checkResponse(resp, { name: PROVIDER, loginHint: "ElevenLabs API key invalid or expired." });
  var data = ctx.util.expectJson(resp, PROVIDER);
  var used = ctx.num.of(ctx.util.requireField(data, "character_count", PROVIDER));
  var limit = ctx.num.of(ctx.util.requireField(data, "character_limit", PROVIDER));
  if (used === null || limit === null) ctx.util.fail("failed", "Unexpected response from " + PROVIDER + ": character_count/character_limit are not numbers.");

  var metrics = [];
  var status = ctx.util.text(data.status);
  if (status && status !== "active") {
    metrics.push(ctx.line.badge({ label: "Status", text: ctx.fmt.planLabel(status), color: status === "trialing" ? "blue" : "amber" }));
  }
  var resetSec = ctx.num.of(data.next_character_count_reset_unix);
  var resetMs = resetSec !== null && resetSec > 0 ? resetSec * 1000 : null;
  if (limit > 0) {
    metrics.push(ctx.calendar.monthlyProgress({
      label: "Credits",
      used: Math.max(0, used),
      limit: limit,
      format: { kind: "count", suffix: "credits" },
      resetMs: resetMs,
    }));
  } else {
    metrics.push(ctx.line.text({ label: "Credits", value: String(used) + " used (no quota on this plan)" }));
  }
  var slots = ctx.num.of(data.voice_slots_used);
  if (slots === null) slots = ctx.num.of(data.voice_count);
  var voiceLimit = ctx.num.of(data.voice_limit);
  if (slots !== null && voiceLimit !== null) {
    metrics.push(ctx.line.text({ label: "Voice slots", value: slots + " / " + voiceLimit, detail: true }));
  }
  var proLimit = ctx.num.of(data.professional_voice_limit);
  if (proLimit !== null && proLimit > 0) {
    var proUsed = ctx.num.of(data.professional_voice_slots_used) || 0;
    metrics.push(ctx.line.text({ label: "Pro voices", value: proUsed + " / " + proLimit, detail: true }));
  }
  return { source: "api", plan: data.tier ? ctx.fmt.planLabel(data.tier) : undefined, metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "elevenlabs", probe: probe };
