// ctx.oauth: OAuth token handling shared by providers that read another
// tool's sign-in (Claude Code, Codex, Gemini CLI, Antigravity, Factory, Kimi,
// Kiro, Grok ...). It implements the policy of SPEC §3.7 once:
//
//  - a token is refreshed only when it is expired or expires within 5 minutes,
//    or once after the provider answered 401/403;
//  - refreshing happens under the host lock "refresh", after re-reading the
//    store, so a token another process already refreshed is used as is;
//  - a refresh made early (the token expires within 5 minutes but is still
//    valid) that fails or is rate-limited is logged and the current token is
//    used; a refused refresh token is still reported;
//  - a store the plugin cannot write (keychain, SQLite, writeCredentials off)
//    is never refreshed: the user is told to run the agent's own login;
//  - non-rotating Google tokens are refreshed freely and cached in
//    pluginDataDir, never written into the other tool's store.
//
// A session is built from plugin callbacks:
//
//   var s = ctx.oauth.session({
//     name: "Claude",                       // used in messages
//     loginHint: "Run `claude` to sign in again.",
//     missingMessage: "Not logged in. Run `claude` to sign in.",
//     load: function () { return {accessToken, refreshToken, expiresAtMs, ...} or null },
//     canRefresh: function (creds, reason) { return true or a message why not },
//                                           (reason: "expiring" or "rejected")
//     rewritesStore: true,                  // refresh writes the agent's own store back:
//                                           // refused while writeCredentials is off
//     refresh: function (creds) { ...exchange + write back...; return newCreds },
//   });
//   var resp = s.request(function (token) { return ctx.host.http.request({...}) });
//
// `load` is called again under the lock before refreshing; `refresh` runs under
// the lock and must persist what it got (ctx.oauth.writeJsonFile for a JSON
// file store) before returning the new credentials.
__usagestat_extend("oauth", function (ctx) {
  "use strict";
  var BUFFER_MS = 5 * 60 * 1000;

  function now() {
    return Date.now();
  }

  function isBlank(v) {
    return v === undefined || v === null || v === "";
  }

  // application/x-www-form-urlencoded body from an object (unset values skipped).
  function formEncode(fields) {
    var out = [];
    var names = Object.keys(fields || {});
    for (var i = 0; i < names.length; i++) {
      var v = fields[names[i]];
      if (isBlank(v)) continue;
      out.push(encodeURIComponent(names[i]) + "=" + encodeURIComponent(String(v)).replace(/%20/g, "+"));
    }
    return out.join("&");
  }

  // True when the token is expired or expires within bufferMs. An unknown
  // expiry is not "expiring": such a token is used until the provider rejects it.
  function isExpiring(creds, bufferMs) {
    if (!creds || isBlank(creds.expiresAtMs)) return false;
    var at = ctx.util.toNumber(creds.expiresAtMs);
    if (!isFinite(at)) return false;
    return now() + (bufferMs === undefined ? BUFFER_MS : bufferMs) >= at;
  }

  function isExpired(creds) {
    return isExpiring(creds, 0);
  }

  // The OAuth error code of a token-endpoint answer ("invalid_grant",
  // "refresh_token_reused" ...), from {error}, {error:{code|type}} or {code}.
  function errorCode(bodyText) {
    var data = ctx.util.tryParseJson(bodyText);
    if (!data || typeof data !== "object") return null;
    var e = data.error;
    if (typeof e === "string" && e) return e;
    if (e && typeof e === "object") {
      if (typeof e.code === "string" && e.code) return e.code;
      if (typeof e.type === "string" && e.type) return e.type;
    }
    if (typeof data.code === "string" && data.code) return data.code;
    return null;
  }

  // A token lifetime beyond ten years is garbage (1e308, 2^53 ...): written
  // back it would be a time no date can hold, or null.
  var MAX_LIFETIME_S = 10 * 365.25 * 24 * 3600;

  // A lifetime in seconds (number or numeric text) as an absolute time in ms,
  // or null unless it is positive and at most ten years.
  function expiresAtIn(seconds, nowMs) {
    var s = ctx.num.of(seconds);
    if (s === null || s <= 0 || s > MAX_LIFETIME_S) return null;
    return (nowMs === undefined ? now() : nowMs) + s * 1000;
  }

  // expires_in (seconds) of a token answer as an absolute time in ms, or null.
  function expiresAtFrom(tokens, nowMs) {
    return expiresAtIn(tokens ? tokens.expires_in : null, nowMs);
  }

  // The expiry to store after a refresh: the answer's lifetime (seconds), else
  // `fallbackSec` (an hour) from now. Keeping the spent expiry instead would
  // make every later probe refresh (and rotate the refresh token) again.
  function refreshedExpiry(seconds, fallbackSec, nowMs) {
    var at = nowMs === undefined ? now() : nowMs;
    return expiresAtIn(seconds, at) || at + (fallbackSec || 3600) * 1000;
  }

  // POST a refresh (or any token) request and return the token JSON.
  // o: {url, form | json, headers?, name, loginHint, messages?: {code: text}, timeoutMs?}
  // 400/401/403 become credential-denied (message by OAuth error code), 429
  // rate-limited, anything else a clear failure. Response bodies never reach
  // messages (they hold tokens).
  function requestToken(o) {
    var name = o.name || "The provider";
    var headers = { Accept: "application/json" };
    var body;
    if (o.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(o.json);
    } else {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = formEncode(o.form);
    }
    var extra = o.headers || {};
    var names = Object.keys(extra);
    for (var i = 0; i < names.length; i++) headers[names[i]] = extra[names[i]];
    var resp;
    try {
      resp = ctx.host.http.request({
        method: "POST",
        url: o.url,
        headers: headers,
        bodyText: body,
        timeoutMs: o.timeoutMs || 15000,
      });
    } catch (e) {
      ctx.util.fail("failed", "Could not refresh the " + name + " sign-in: " + String((e && e.message) || e));
    }
    if (resp.status === 400 || resp.status === 401 || resp.status === 403) {
      var code = errorCode(resp.bodyText);
      var messages = o.messages || {};
      var text = (code && messages[code]) || messages["*"] ||
        name + " refused to refresh the sign-in" + (code ? " (" + code + ")" : " (HTTP " + resp.status + ")") + ".";
      ctx.util.fail("credential-denied", o.loginHint ? text + " " + o.loginHint : text);
    }
    ctx.util.checkResponse(resp, { name: name + " sign-in server" });
    var tokens = ctx.util.expectJson(resp, name + " sign-in server");
    if (typeof tokens.access_token !== "string" || !tokens.access_token) {
      ctx.util.fail("failed", "Unexpected response from the " + name + " sign-in server: missing access_token.");
    }
    // A rotated refresh token or id token (or a scope, token type) that is not
    // text is dropped, so the caller keeps the one it has instead of writing
    // garbage into a login file.
    var optional = ["refresh_token", "id_token", "scope", "token_type"];
    for (var i = 0; i < optional.length; i++) {
      var value = tokens[optional[i]];
      if (value !== undefined && (typeof value !== "string" || !value)) delete tokens[optional[i]];
    }
    return tokens;
  }

  // A JSON credential file: {path, text, data} (data null when the file is not
  // JSON), or null when it does not exist.
  function readJsonFile(path) {
    if (!path || !ctx.host.fs.exists(path)) return null;
    var text = ctx.host.fs.readText(path);
    return { path: path, text: text, data: ctx.util.tryParseJson(text) };
  }

  // Write `data` back to a file read with readJsonFile, in the file's own
  // format (indentation, trailing newline); the host keeps its mode and
  // writes atomically. Returns the new {path, text, data}.
  function writeJsonFile(file, data) {
    var text = ctx.util.stringifyLike(file.text, data);
    ctx.host.fs.writeText(file.path, text);
    return { path: file.path, text: text, data: data };
  }

  function session(o) {
    var name = o.name || "The provider";
    var hint = o.loginHint ? " " + o.loginHint : "";
    var missing = o.missingMessage || "Not logged in." + hint;
    var retryStatuses = o.retryStatuses || [401, 403];
    var creds = o.load();
    if (!creds || (!creds.accessToken && !creds.refreshToken)) ctx.util.fail("missing-auth", missing);
    var refreshed = false;
    var refreshFailed = false;

    function refreshLocked(reason, usedToken) {
      return ctx.util.withLock("refresh", function () {
        var cur = o.load();
        if (!cur || (!cur.accessToken && !cur.refreshToken)) ctx.util.fail("missing-auth", missing);
        // Another process (the agent's CLI, another usagestat) refreshed meanwhile.
        if (cur.accessToken && !isExpiring(cur) && (reason === "expiring" || cur.accessToken !== usedToken)) {
          return cur;
        }
        var allowed = o.canRefresh ? o.canRefresh(cur, reason) : true;
        if (allowed === true && o.rewritesStore && !ctx.provider.writeCredentials) {
          allowed = (reason === "expiring" ? "The " + name + " sign-in has expired" : name + " rejected the token") +
            " and writeCredentials is off for this instance, so usagestat does not refresh it." + hint;
        }
        if (allowed !== true) {
          // A store we may not rewrite: keep using a token that is still valid.
          if (reason === "expiring" && cur.accessToken && !isExpired(cur)) return cur;
          ctx.util.fail(
            "credential-denied",
            typeof allowed === "string" && allowed
              ? allowed
              : name + (reason === "expiring" ? " sign-in expired." : " rejected the token.") + hint
          );
        }
        if (!cur.refreshToken) {
          if (reason === "expiring" && cur.accessToken && !isExpired(cur)) return cur;
          ctx.util.fail(
            "credential-denied",
            name + (reason === "expiring" ? " sign-in expired" : " rejected the token") + " and there is no refresh token." + hint
          );
        }
        if (reason !== "expiring" || !cur.accessToken || isExpired(cur)) return o.refresh(cur, reason);
        // Refreshing early, inside the window before expiry: a failed or rate-limited
        // refresh keeps the still-valid token; a rejected refresh token is reported.
        try {
          return o.refresh(cur, reason);
        } catch (e) {
          if (e && (e.code === "credential-denied" || e.code === "missing-auth")) throw e;
          refreshFailed = true;
          ctx.host.log.warn(
            name + ": refreshing the sign-in failed (" + String((e && e.message) || e) +
              "); using the current token until it expires."
          );
          return cur;
        }
      }, o.lockTimeoutMs);
    }

    var api = {
      // Current credentials (after any refresh).
      creds: function () { return creds; },
      refreshed: function () { return refreshed; },
      // A usable access token, refreshing first when it is (nearly) expired.
      token: function () {
        if (!creds.accessToken || isExpiring(creds, o.bufferMs)) {
          var before = creds.accessToken;
          creds = refreshLocked("expiring", creds.accessToken);
          if (creds.accessToken !== before) refreshed = true;
        }
        return creds.accessToken;
      },
      // send(token, creds) -> http response; retried once with a refreshed token
      // after 401/403 (unless this probe already refreshed or tried to).
      request: function (send) {
        var token = api.token();
        var resp = send(token, creds);
        if (retryStatuses.indexOf(resp.status) >= 0 && !refreshed && !refreshFailed) {
          refreshed = true;
          creds = refreshLocked("rejected", token);
          resp = send(creds.accessToken, creds);
        }
        return resp;
      },
    };
    return Object.freeze(api);
  }

  // ---- Google (tokens do not rotate) -------------------------------------------
  var GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
  var CACHE_FILE = "oauth-token-cache.json";

  function cachePath() {
    return String(ctx.app.pluginDataDir || "").replace(/[\\/]+$/, "") + "/" + CACHE_FILE;
  }

  function cacheKey(refreshToken) {
    return ctx.host.crypto.sha256Hex("usagestat-oauth-cache:" + refreshToken).slice(0, 32);
  }

  function readCache(refreshToken) {
    if (!refreshToken || !ctx.app.pluginDataDir) return null;
    var file = readJsonFile(cachePath());
    var data = file && file.data;
    if (!data || data.key !== cacheKey(refreshToken) || !data.accessToken) return null;
    return { accessToken: data.accessToken, expiresAtMs: data.expiresAtMs, idToken: data.idToken };
  }

  function writeCache(refreshToken, creds) {
    if (!refreshToken || !ctx.app.pluginDataDir) return;
    var entry = { key: cacheKey(refreshToken), accessToken: creds.accessToken, expiresAtMs: creds.expiresAtMs };
    if (creds.idToken) entry.idToken = creds.idToken;
    ctx.host.fs.writeText(cachePath(), JSON.stringify(entry));
  }

  // Exchange a Google refresh token: {accessToken, expiresAtMs, idToken?}.
  function googleRefresh(o) {
    var tokens = requestToken({
      url: o.tokenUrl || GOOGLE_TOKEN_URL,
      form: {
        client_id: o.clientId,
        client_secret: o.clientSecret,
        refresh_token: o.refreshToken,
        grant_type: "refresh_token",
      },
      name: o.name,
      loginHint: o.loginHint,
      messages: o.messages,
    });
    return {
      accessToken: tokens.access_token,
      expiresAtMs: refreshedExpiry(tokens.expires_in),
      idToken: tokens.id_token,
    };
  }

  // A session over a read-only Google credential (the other tool's store):
  // a cached access token from pluginDataDir is preferred when it outlives the
  // store's, and refreshed tokens go only to that cache.
  // o: session options with load() returning {accessToken, refreshToken, expiresAtMs, idToken?},
  //    plus clientId, clientSecret (and tokenUrl for tests).
  // `creds` with the access token (and expiry, id token) of `fresh`, marked as
  // coming from the plugin's own cache.
  function withCachedToken(creds, fresh) {
    var out = {};
    var names = Object.keys(creds);
    for (var i = 0; i < names.length; i++) out[names[i]] = creds[names[i]];
    out.accessToken = fresh.accessToken;
    out.expiresAtMs = fresh.expiresAtMs;
    if (fresh.idToken) out.idToken = fresh.idToken;
    out.fromCache = true;
    return out;
  }

  function googleSession(o) {
    function load() {
      var base = o.load();
      if (!base) return null;
      var cached = readCache(base.refreshToken);
      if (cached && (isBlank(base.expiresAtMs) || Number(cached.expiresAtMs) > Number(base.expiresAtMs) || !base.accessToken)) {
        return withCachedToken(base, cached);
      }
      return base;
    }
    return session({
      name: o.name,
      loginHint: o.loginHint,
      missingMessage: o.missingMessage,
      bufferMs: o.bufferMs,
      retryStatuses: o.retryStatuses,
      load: load,
      canRefresh: function (cur) {
        return cur.refreshToken ? true : o.name + " sign-in expired." + (o.loginHint ? " " + o.loginHint : "");
      },
      refresh: function (cur) {
        var fresh = googleRefresh({
          clientId: o.clientId,
          clientSecret: o.clientSecret,
          refreshToken: cur.refreshToken,
          tokenUrl: o.tokenUrl,
          name: o.name,
          loginHint: o.loginHint,
          messages: o.messages,
        });
        writeCache(cur.refreshToken, fresh);
        return withCachedToken(cur, fresh);
      },
    });
  }

  return Object.freeze({
    formEncode: formEncode,
    isExpiring: isExpiring,
    isExpired: isExpired,
    errorCode: errorCode,
    expiresAtFrom: expiresAtFrom,
    expiresAtIn: expiresAtIn,
    refreshedExpiry: refreshedExpiry,
    requestToken: requestToken,
    readJsonFile: readJsonFile,
    writeJsonFile: writeJsonFile,
    session: session,
    google: Object.freeze({
      tokenUrl: GOOGLE_TOKEN_URL,
      refresh: googleRefresh,
      session: googleSession,
      readCache: readCache,
      writeCache: writeCache,
    }),
  });
});
