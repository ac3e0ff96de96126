// Factory.ai (Droid CLI): token-rate-limit windows (5-hour / weekly / monthly,
// Standard and Core pools, extra-usage balance) or, on legacy accounts, the
// monthly Standard / Premium token allowances. Parsing and the request sequence
// live in the shared prelude (ctx.factory), which the `droid` plugin also uses.
//
// oauth (default): the Droid CLI's WorkOS login in ~/.factory - auth.v2.file
//   (AES-256-GCM, key in auth.v2.key), auth.encrypted or auth.json - renewed
//   when expired (the refresh token rotates: the new pair is written back,
//   re-encrypted with the same key) so `droid` stays logged in.
// local: the same login, never renewed.
// api: a Factory API key (config apiKey, FACTORY_API_KEY, ~/.factory/.env).

var PROVIDER = "Factory";
var DIR = "~/.factory";
var WORKOS_URL = "https://api.workos.com/user_management/authenticate";
var CLIENT_IDS = ["client_01HNM792M5G5G1A2THWPXKFMXB", "client_01HXRMBQ9BJ3E7QSTQ9X2PHVB7"];
var LOGIN_HINT = "Run `droid` to log in again.";
var KEY_HINT = "Check the Factory API key (regenerate it at app.factory.ai/settings/api-keys).";
var KEYCHAIN = ["Factory Token", "Factory token", "Factory Auth", "Droid Auth"];

// ---- reading the Droid CLI login ----------------------------------------------------

function fieldOf(obj, names) {
  for (var i = 0; i < names.length; i++) if (typeof obj[names[i]] === "string" && obj[names[i]]) return names[i];
  return null;
}

// The token holder inside a decoded payload: the object itself or its `tokens`.
function describe(ctx, data) {
  if (!data || typeof data !== "object") return null;
  var holder = data;
  if (!fieldOf(holder, ["access_token", "accessToken"]) && data.tokens && typeof data.tokens === "object") holder = data.tokens;
  var accessKey = fieldOf(holder, ["access_token", "accessToken"]);
  var refreshKey = fieldOf(holder, ["refresh_token", "refreshToken"]);
  if (!accessKey && !refreshKey) return null;
  var payload = accessKey ? ctx.jwt.decodePayload(holder[accessKey]) : null;
  var org = data.organization_id || data.active_organization_id || data.organizationId || holder.organization_id ||
    holder.active_organization_id || null;
  return {
    data: data,
    holder: holder,
    accessKey: accessKey || (refreshKey === "refreshToken" ? "accessToken" : "access_token"),
    refreshKey: refreshKey || "refresh_token",
    accessToken: accessKey ? holder[accessKey] : null,
    refreshToken: refreshKey ? holder[refreshKey] : null,
    expiresAtMs: payload && typeof payload.exp === "number" ? payload.exp * 1000 : null,
    organizationId: ctx.provider.workspaceId || org,
  };
}

function hexOrJson(ctx, text) {
  var trimmed = String(text || "").trim();
  var data = ctx.util.tryParseJson(trimmed);
  if (data) return data;
  if (/^([0-9a-fA-F]{2})+$/.test(trimmed)) return ctx.util.tryParseJson(ctx.bytes.toUtf8(ctx.bytes.fromHex(trimmed)));
  return null;
}

function readV2(ctx) {
  var filePath = DIR + "/auth.v2.file";
  var keyPath = DIR + "/auth.v2.key";
  if (!ctx.host.fs.exists(filePath) || !ctx.host.fs.exists(keyPath)) return null;
  var text = ctx.host.fs.readText(filePath);
  var key = ctx.host.fs.readText(keyPath).trim();
  var parts = text.trim().split(":");
  if (parts.length !== 3) ctx.util.fail("failed", "~/.factory/auth.v2.file is not in the iv:tag:ciphertext format droid writes.");
  var plain;
  try {
    plain = ctx.host.crypto.aesGcmDecrypt({ keyB64: key, ivB64: parts[0], tagB64: parts[1], ciphertextB64: parts[2] });
  } catch (e) {
    ctx.util.fail("failed", "Cannot decrypt ~/.factory/auth.v2.file with auth.v2.key (" + String(e.message || e) + "). " + LOGIN_HINT);
  }
  var creds = describe(ctx, ctx.util.tryParseJson(plain));
  if (!creds) ctx.util.fail("failed", "~/.factory/auth.v2.file holds no access_token.");
  creds.store = { kind: "v2", path: filePath, text: text, key: key, ivLen: ctx.base64.toBytes(parts[0]).length, plain: plain };
  return creds;
}

function readJsonStore(ctx, name, kind) {
  var path = DIR + "/" + name;
  if (!ctx.host.fs.exists(path)) return null;
  var text = ctx.host.fs.readText(path);
  var creds = describe(ctx, kind === "json" ? ctx.util.tryParseJson(text) : hexOrJson(ctx, text));
  if (!creds) return null;
  creds.store = { kind: kind, path: path, text: text };
  return creds;
}

function readKeychain(ctx) {
  if (ctx.app.platform !== "macos") return null;
  for (var i = 0; i < KEYCHAIN.length; i++) {
    var value = null;
    try { value = ctx.host.keychain.readGenericPassword(KEYCHAIN[i]); } catch (e) { value = null; }
    if (!value) continue;
    var creds = describe(ctx, hexOrJson(ctx, value)) ||
      (/^eyJ/.test(String(value).trim()) ? describe(ctx, { access_token: String(value).trim() }) : null);
    if (creds) {
      creds.store = { kind: "keychain", path: KEYCHAIN[i] };
      return creds;
    }
  }
  return null;
}

function loadLogin(ctx) {
  return readV2(ctx) || readJsonStore(ctx, "auth.encrypted", "encrypted") || readJsonStore(ctx, "auth.json", "json") ||
    readKeychain(ctx);
}

function apiKey(ctx, withConfig) {
  if (withConfig && ctx.provider.apiKey) return { key: String(ctx.provider.apiKey).trim(), from: "config" };
  var env = ctx.creds.env(["FACTORY_API_KEY"]);
  if (env) return { key: env.value, from: "env" };
  var path = DIR + "/.env";
  if (ctx.host.fs.exists(path)) {
    var m = /^\s*(?:export\s+)?FACTORY_API_KEY\s*=\s*["']?([^"'\s#]+)/m.exec(ctx.host.fs.readText(path));
    if (m) return { key: m[1], from: ".env" };
  }
  return null;
}

// ---- renewing and writing back ---------------------------------------------------------------

function writeBack(ctx, creds, access, refresh) {
  creds.holder[creds.accessKey] = access;
  if (refresh) creds.holder[creds.refreshKey] = refresh;
  var store = creds.store;
  if (store.kind === "json") {
    ctx.oauth.writeJsonFile({ path: store.path, text: store.text }, creds.data);
    return;
  }
  // auth.v2.file: the same key, a fresh IV of the same length, droid's iv:tag:ciphertext layout.
  var plain = ctx.util.stringifyLike(store.plain, creds.data);
  var iv = ctx.base64.fromHex(ctx.host.crypto.randomHex(store.ivLen || 16));
  var sealed = ctx.host.crypto.aesGcmEncrypt({ keyB64: store.key, ivB64: iv, plaintext: plain });
  var text = iv + ":" + sealed.tagB64 + ":" + sealed.ciphertextB64 + (/\n$/.test(store.text) ? "\n" : "");
  ctx.host.fs.writeText(store.path, text);
}

function renew(ctx, creds) {
  var tokens = null;
  var lastError = null;
  for (var i = 0; i < CLIENT_IDS.length && !tokens; i++) {
    try {
      tokens = ctx.oauth.requestToken({
        url: WORKOS_URL,
        json: { client_id: CLIENT_IDS[i], grant_type: "refresh_token", refresh_token: creds.refreshToken,
          organization_id: creds.organizationId || undefined },
        name: PROVIDER,
        messages: { "*": "Factory session expired." },
        loginHint: LOGIN_HINT,
      });
    } catch (e) {
      if (!e || e.code !== "credential-denied") throw e;
      lastError = e; // the login may belong to the other client id
    }
  }
  if (!tokens) throw lastError;
  writeBack(ctx, creds, tokens.access_token, tokens.refresh_token);
  return loadLogin(ctx);
}

// ---- probes ----------------------------------------------------------------------------------

function bearerSend(ctx, token) {
  return function (req) {
    req.headers.Authorization = "Bearer " + token;
    return ctx.host.http.request({ method: req.method, url: req.url, headers: req.headers, bodyText: req.bodyText, timeoutMs: 15000 });
  };
}

function probeApi(ctx, found) {
  var usage = ctx.factory.fetchUsage({ send: bearerSend(ctx, found.key), name: PROVIDER, loginHint: KEY_HINT });
  return { source: "api", plan: usage.plan, metrics: usage.metrics };
}

function probeLogin(ctx, mode) {
  var s = ctx.oauth.session({
    name: PROVIDER,
    loginHint: LOGIN_HINT,
    missingMessage: "Not logged in to Factory. Run `droid` to sign in (or set FACTORY_API_KEY).",
    load: function () { return loadLogin(ctx); },
    canRefresh: function (creds) {
      if (mode === "local") return "The Factory sign-in expired (local mode does not renew it). " + LOGIN_HINT;
      if (creds.store.kind === "keychain" || creds.store.kind === "encrypted") {
        return "The Factory sign-in in " + (creds.store.kind === "keychain" ? "the keychain" : "~/.factory/auth.encrypted") +
          " expired and usagestat cannot rewrite that store. " + LOGIN_HINT;
      }
      return true;
    },
    rewritesStore: true,
    refresh: function (creds) { return renew(ctx, creds); },
  });
  var usage = ctx.factory.fetchUsage({
    send: function (req) {
      return s.request(function (token) {
        var headers = {};
        var names = Object.keys(req.headers);
        for (var i = 0; i < names.length; i++) headers[names[i]] = req.headers[names[i]];
        headers.Authorization = "Bearer " + token;
        return ctx.host.http.request({ method: req.method, url: req.url, headers: headers, bodyText: req.bodyText, timeoutMs: 15000 });
      });
    },
    name: PROVIDER,
    loginHint: LOGIN_HINT,
  });
  return { source: mode, plan: usage.plan, metrics: usage.metrics };
}

globalThis.__usagestat_plugin = {
  id: "factory",
  probe: function (ctx) {
    var mode = ctx.sourceMode;
    if (mode === "api") {
      var key = apiKey(ctx, true);
      if (!key) ctx.util.fail("missing-auth", "No Factory API key: set apiKey in the config or FACTORY_API_KEY.");
      return probeApi(ctx, key);
    }
    if (mode === "oauth" || mode === "local") return probeLogin(ctx, mode);
    // auto: an API key (config, FACTORY_API_KEY, ~/.factory/.env), then the droid login.
    var found = apiKey(ctx, true);
    if (found) return probeApi(ctx, found);
    return probeLogin(ctx, "oauth"); // reports missing-auth with the login hint
  },
};
