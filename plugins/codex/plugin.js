// Codex (OpenAI Codex CLI on a ChatGPT plan): 5-hour and weekly windows,
// per-model extra limits, code-review limit, purchased credits.
//
// oauth: the Codex CLI sign-in ($CODEX_HOME/auth.json or ~/.codex/auth.json,
// keyring "Codex Auth" as a fallback) -> GET chatgpt.com/backend-api/wham/usage.
// Refresh tokens are single-use: a token is refreshed only when expired (or
// rejected), under the host lock, after re-reading auth.json, and the rotated
// tokens are written back so `codex` stays signed in (SPEC §3.7).

var NAME = "Codex";
var API_BASE = "https://chatgpt.com/backend-api";
var TOKEN_URL = "https://auth.openai.com/oauth/token";
var CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
var KEYRING_SERVICE = "Codex Auth";
var LOGIN = "Run `codex login` to sign in.";
var LOGIN_AGAIN = "Run `codex login` to sign in again.";
var FIVE_HOURS_S = 18000;
var WEEK_S = 604800;
var EIGHT_DAYS_MS = 8 * 24 * 3600 * 1000;
var USD_PER_CREDIT = 0.04;

// ---- credentials -------------------------------------------------------------------

function authPaths(ctx) {
  var home = ctx.host.env.get("CODEX_HOME");
  // With CODEX_HOME set, Codex uses only that directory.
  if (home) return [String(home).replace(/[\\/]+$/, "") + "/auth.json"];
  var paths = ["~/.codex/auth.json"];
  if (ctx.app.platform !== "windows") paths.push("~/.config/codex/auth.json"); // legacy location
  return paths;
}

function jwtExpiryMs(ctx, token) {
  var payload = ctx.jwt.decodePayload(token);
  return payload && typeof payload.exp === "number" ? payload.exp * 1000 : null;
}

function accountIdFromIdToken(ctx, idToken) {
  var payload = ctx.jwt.decodePayload(idToken);
  var auth = payload && payload["https://api.openai.com/auth"];
  return auth && auth.chatgpt_account_id ? String(auth.chatgpt_account_id) : null;
}

// {accessToken, refreshToken, idToken, accountId, expiresAtMs} from auth.json data.
function fromAuthJson(ctx, data) {
  var t = data && data.tokens;
  if (!t || typeof t !== "object" || !t.access_token) return null;
  var expiresAtMs = jwtExpiryMs(ctx, t.access_token);
  if (expiresAtMs === null && data.last_refresh) {
    // No exp claim: Codex itself refreshes tokens older than 8 days.
    var last = ctx.util.parseDateMs(data.last_refresh);
    if (last !== null) expiresAtMs = last + EIGHT_DAYS_MS;
  }
  return {
    accessToken: String(t.access_token),
    refreshToken: t.refresh_token ? String(t.refresh_token) : null,
    idToken: t.id_token ? String(t.id_token) : null,
    accountId: t.account_id ? String(t.account_id) : accountIdFromIdToken(ctx, t.id_token),
    expiresAtMs: expiresAtMs,
  };
}

function apiKeyOnly(data) {
  return data && typeof data === "object" && data.OPENAI_API_KEY && !(data.tokens && data.tokens.access_token);
}

function readFileStore(ctx, path) {
  var file = ctx.oauth.readJsonFile(path);
  if (!file) return null;
  var creds = fromAuthJson(ctx, file.data);
  if (!creds) return apiKeyOnly(file.data) ? { apiKeyOnly: true } : null;
  creds.store = { kind: "file", path: path, file: file };
  return creds;
}

function readKeyring(ctx) {
  var raw = null;
  try {
    raw = ctx.host.keychain.readGenericPassword(KEYRING_SERVICE);
  } catch (e) {
    ctx.host.log.warn("codex: keyring read failed: " + String(e && e.message ? e.message : e));
    return null;
  }
  var creds = fromAuthJson(ctx, ctx.util.tryParseJson(raw));
  if (!creds) return null;
  creds.store = { kind: "keyring" };
  return creds;
}

// A loader for the one store that holds the sign-in (re-read before a refresh).
function findStore(ctx) {
  var paths = authPaths(ctx);
  var sawApiKey = false;
  for (var i = 0; i < paths.length; i++) {
    var creds = readFileStore(ctx, paths[i]);
    if (creds && creds.apiKeyOnly) {
      sawApiKey = true;
      continue;
    }
    if (creds) {
      var path = paths[i];
      return {
        first: creds,
        load: function () {
          var c = readFileStore(ctx, path);
          return c && !c.apiKeyOnly ? c : null;
        },
      };
    }
  }
  var fromKeyring = readKeyring(ctx);
  if (fromKeyring) return { first: fromKeyring, load: function () { return readKeyring(ctx); } };
  if (sawApiKey) {
    ctx.util.fail(
      "missing-auth",
      "Codex is signed in with an API key, which cannot read ChatGPT plan limits. Run `codex login` and sign in with ChatGPT."
    );
  }
  return null;
}

function canRefresh(ctx, cur, reason) {
  var what = reason === "expiring" ? "The Codex sign-in has expired" : "Codex rejected the token";
  var kind = cur.store && cur.store.kind;
  if (kind === "keyring") return what + " (it is kept in the system keyring, which usagestat does not rewrite). " + LOGIN_AGAIN;
  if (kind !== "file") return what + ". " + LOGIN_AGAIN;
  return true;
}

function refreshFileStore(ctx, cur) {
  var tokens = ctx.oauth.requestToken({
    url: TOKEN_URL,
    form: { grant_type: "refresh_token", client_id: CLIENT_ID, refresh_token: cur.refreshToken },
    name: NAME,
    loginHint: LOGIN_AGAIN,
    messages: {
      refresh_token_expired: "The Codex session expired.",
      refresh_token_reused: "The Codex refresh token was already used by another program (sign-in conflict).",
      refresh_token_invalidated: "The Codex sign-in was revoked.",
      invalid_grant: "The Codex session expired.",
    },
  });
  var file = cur.store.file;
  var data = file.data;
  data.tokens.access_token = tokens.access_token;
  if (tokens.refresh_token) data.tokens.refresh_token = tokens.refresh_token;
  if (tokens.id_token) data.tokens.id_token = tokens.id_token;
  data.last_refresh = new Date().toISOString();
  var written = ctx.oauth.writeJsonFile(file, data);
  ctx.host.log.info("codex: refreshed the OAuth token and updated " + file.path);
  var next = fromAuthJson(ctx, written.data);
  next.store = { kind: "file", path: file.path, file: written };
  return next;
}

// ---- usage -> lines -----------------------------------------------------------------

function planLabel(ctx, planType) {
  if (!planType) return undefined;
  var p = String(planType).toLowerCase();
  if (p === "prolite") return "Pro 5x";
  if (p === "pro") return "Pro 20x";
  return ctx.fmt.planLabel(planType);
}

function headerNumber(headers, name) {
  var v = headers && headers[name];
  if (v === undefined || v === null || String(v).trim() === "") return null;
  var n = Number(v);
  return isFinite(n) ? n : null;
}

function windowLine(ctx, win, label, defaultSeconds, detail, usedOverride) {
  if (!win || typeof win !== "object") return null;
  var used = usedOverride !== null && usedOverride !== undefined ? usedOverride : win.used_percent;
  if (used === null || used === undefined || !isFinite(Number(used))) return null;
  var seconds = Number(win.limit_window_seconds) > 0 ? Number(win.limit_window_seconds) : defaultSeconds;
  var resetsAt = null;
  if (win.reset_at !== null && win.reset_at !== undefined && isFinite(Number(win.reset_at))) {
    resetsAt = ctx.util.toIso(Number(win.reset_at) * 1000); // unix seconds
  } else if (isFinite(Number(win.reset_after_seconds)) && win.reset_after_seconds !== null) {
    resetsAt = ctx.util.toIso(Date.now() + Number(win.reset_after_seconds) * 1000);
  }
  return ctx.line.progress({
    label: label,
    used: Math.max(0, Number(used)),
    limit: 100,
    format: { kind: "percent" },
    resetsAt: resetsAt || undefined,
    periodDurationMs: seconds ? seconds * 1000 : undefined,
    detail: detail,
  });
}

// Session/Weekly are told apart by window length, not by slot: a free plan can
// report only a weekly window, in primary_window.
function kindOf(win, slot) {
  var s = Number(win && win.limit_window_seconds);
  if (s === FIVE_HOURS_S) return "session";
  if (s === WEEK_S) return "weekly";
  if (s > 0) return s < 86400 ? "session" : "weekly";
  return slot === "primary" ? "session" : "weekly";
}

function rateLimitLines(ctx, rl, baseName, overrides, detail) {
  var out = [];
  if (!rl || typeof rl !== "object") return out;
  var slots = ["primary", "secondary"];
  var used = {};
  for (var i = 0; i < slots.length; i++) {
    var win = rl[slots[i] + "_window"];
    if (!win) continue;
    var kind = kindOf(win, slots[i]);
    if (used[kind]) continue;
    used[kind] = true;
    var label;
    if (baseName) label = kind === "session" ? baseName : baseName + " Weekly";
    else label = kind === "session" ? "Session" : "Weekly";
    var line = windowLine(
      ctx,
      win,
      label,
      kind === "session" ? FIVE_HOURS_S : WEEK_S,
      detail,
      overrides ? overrides[slots[i]] : null
    );
    if (line) out.push(line);
  }
  return out;
}

function shortLimitName(name) {
  var text = String(name || "").trim();
  var short = text.replace(/^GPT-[\d.]+-Codex-/i, "").replace(/^GPT-[\d.]+-/i, "");
  return short || text;
}

function usageResult(ctx, data, headers) {
  var rl = ctx.util.requireField(data, "rate_limit", NAME);
  var overrides = {
    primary: headerNumber(headers, "x-codex-primary-used-percent"),
    secondary: headerNumber(headers, "x-codex-secondary-used-percent"),
  };
  var metrics = rateLimitLines(ctx, rl, null, overrides, false);
  var extra = Array.isArray(data.additional_rate_limits) ? data.additional_rate_limits : [];
  for (var i = 0; i < extra.length; i++) {
    if (!extra[i] || !extra[i].limit_name) continue;
    metrics = metrics.concat(rateLimitLines(ctx, extra[i].rate_limit, shortLimitName(extra[i].limit_name), null, false));
  }
  var review = data.code_review_rate_limit;
  if (review && review.primary_window) {
    var r = windowLine(ctx, review.primary_window, "Reviews", WEEK_S, true);
    if (r) metrics.push(r);
  }
  var credits = data.credits;
  var headerBalance = headerNumber(headers, "x-codex-credits-balance");
  if (credits && credits.unlimited === true) {
    metrics.push(ctx.line.badge({ label: "Credits", text: "Unlimited", color: "green" }));
  } else if (headerBalance !== null || (credits && (credits.has_credits || Number(credits.balance) > 0))) {
    var balance = headerBalance !== null ? headerBalance : Number(credits.balance) || 0;
    var whole = Math.floor(balance);
    metrics.push(
      ctx.line.text({
        label: "Credits",
        value: whole + " credits · " + ctx.fmt.money(whole * USD_PER_CREDIT, "USD"),
      })
    );
  }
  var resets = data.rate_limit_reset_credits;
  if (resets && typeof resets.available_count === "number") {
    metrics.push(ctx.line.text({ label: "Rate limit resets", value: resets.available_count + " available", detail: true }));
  }
  if (!metrics.length) metrics.push(ctx.line.text({ label: "Usage", value: "No limits reported for this plan" }));
  return metrics;
}

// ---- probe -----------------------------------------------------------------------------

function probeOauth(ctx) {
  var key = ctx.provider.apiKey;
  var found;
  if (key) {
    if (!/^eyJ/.test(String(key))) {
      ctx.util.fail(
        "unsupported",
        "An OpenAI API key cannot read ChatGPT plan limits. Remove apiKey from the config and run `codex login`."
      );
    }
    var pasted = {
      accessToken: String(key),
      refreshToken: null,
      accountId: null,
      expiresAtMs: jwtExpiryMs(ctx, key),
      store: { kind: "config" },
    };
    found = { first: pasted, load: function () { return pasted; } };
  } else {
    found = findStore(ctx);
  }
  if (!found) ctx.util.fail("missing-auth", "Not logged in. " + LOGIN);
  var base = (ctx.provider.baseUrl || API_BASE).replace(/\/+$/, "");
  var session = ctx.oauth.session({
    name: NAME,
    loginHint: LOGIN_AGAIN,
    missingMessage: "Not logged in. " + LOGIN,
    load: found.load,
    retryStatuses: found.first.store.kind === "config" ? [] : [401, 403],
    canRefresh: function (cur, reason) { return canRefresh(ctx, cur, reason); },
    rewritesStore: true,
    refresh: function (cur) { return refreshFileStore(ctx, cur); },
  });
  var resp = session.request(function (token, creds) {
    var accountId = ctx.provider.workspaceId || creds.accountId;
    var headers = {
      Authorization: "Bearer " + token,
      Accept: "application/json",
      "User-Agent": "usagestat/" + ctx.app.version,
    };
    if (accountId) headers["ChatGPT-Account-Id"] = accountId;
    return ctx.host.http.request({ method: "GET", url: base + "/wham/usage", headers: headers, timeoutMs: 15000 });
  });
  ctx.util.checkResponse(resp, { name: NAME, loginHint: "Codex token expired or revoked. " + LOGIN_AGAIN });
  var data = ctx.util.expectJson(resp, NAME);
  return { source: "oauth", plan: planLabel(ctx, data.plan_type), metrics: usageResult(ctx, data, resp.headers) };
}

globalThis.__usagestat_plugin = {
  id: "codex",
  probe: function (ctx) {
    return ctx.localCost.append("codex", probeOauth(ctx));
  },
};
