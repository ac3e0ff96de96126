// usagestat plugin prelude: the `ctx` a probe receives, built on one host bridge.
//
// Every host call goes through __host(name, argsJson) -> replyJson, a Python
// function that never throws: it answers {"value": ...} or {"error": "..."}.
// Only JSON strings cross the boundary (see docs/architecture.md for why).
// Built-ins are captured here, before any plugin code runs, so a plugin that
// overwrites JSON or Object.prototype cannot change how results are reported.
(function () {
  "use strict";
  var hostBridge = globalThis.__host;
  var parse = JSON.parse;
  var stringify = JSON.stringify;
  var freeze = Object.freeze;
  var keys = Object.keys;
  var StringCtor = String;
  var ErrorCtor = Error;
  var isArray = Array.isArray;
  var mathFloor = Math.floor;

  function call(name, args) {
    var reply = parse(hostBridge(name, stringify(args === undefined ? [] : args)));
    if (reply && Object.prototype.hasOwnProperty.call(reply, "error")) {
      throw new ErrorCtor(reply.error);
    }
    return reply ? reply.value : undefined;
  }

  function compact(obj) {
    var out = {};
    var names = keys(obj);
    for (var i = 0; i < names.length; i++) {
      var v = obj[names[i]];
      if (v !== undefined && v !== null) out[names[i]] = v;
    }
    return out;
  }

  // ---- UTF-8 / base64 / hex -------------------------------------------------
  function utf8Bytes(text) {
    var s = StringCtor(text);
    var out = [];
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        var d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else
        out.push(
          0xf0 | (c >> 18),
          0x80 | ((c >> 12) & 63),
          0x80 | ((c >> 6) & 63),
          0x80 | (c & 63)
        );
    }
    return out;
  }

  function utf8Decode(bytes) {
    var out = "";
    var i = 0;
    while (i < bytes.length) {
      var b = bytes[i++];
      var cp;
      if (b < 0x80) cp = b;
      else if (b >= 0xc0 && b < 0xe0 && i < bytes.length) cp = ((b & 31) << 6) | (bytes[i++] & 63);
      else if (b >= 0xe0 && b < 0xf0 && i + 1 < bytes.length) {
        cp = ((b & 15) << 12) | ((bytes[i] & 63) << 6) | (bytes[i + 1] & 63);
        i += 2;
      } else if (b >= 0xf0 && i + 2 < bytes.length) {
        cp = ((b & 7) << 18) | ((bytes[i] & 63) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63);
        i += 3;
      } else cp = 0xfffd;
      out += StringCtor.fromCodePoint(cp);
    }
    return out;
  }

  var HEX = "0123456789abcdef";
  function bytesToHex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += HEX[(bytes[i] >> 4) & 15] + HEX[bytes[i] & 15];
    return out;
  }
  function hexToBytes(hex) {
    var clean = StringCtor(hex).replace(/\s+/g, "");
    if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new ErrorCtor("invalid hex string");
    var out = [];
    for (var i = 0; i < clean.length; i += 2) out.push(parseInt(clean.substr(i, 2), 16));
    return out;
  }

  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  function bytesToBase64(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i += 3) {
      var n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
      out += i + 2 < bytes.length ? B64[n & 63] : "=";
    }
    return out;
  }
  function base64ToBytes(text) {
    var clean = StringCtor(text).replace(/[\s=]+/g, "").replace(/-/g, "+").replace(/_/g, "/");
    if (/[^A-Za-z0-9+/]/.test(clean)) throw new ErrorCtor("invalid base64 string");
    var out = [];
    var buffer = 0;
    var bits = 0;
    for (var i = 0; i < clean.length; i++) {
      buffer = (buffer << 6) | B64.indexOf(clean[i]);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push((buffer >> bits) & 255);
      }
    }
    return out;
  }

  var base64 = freeze({
    encode: function (text) { return bytesToBase64(utf8Bytes(text)); },
    decode: function (b64) { return utf8Decode(base64ToBytes(b64)); },
    encodeUrl: function (text) {
      return bytesToBase64(utf8Bytes(text)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
    decodeUrl: function (b64) { return utf8Decode(base64ToBytes(b64)); },
    toHex: function (b64) { return bytesToHex(base64ToBytes(b64)); },
    fromHex: function (hex) { return bytesToBase64(hexToBytes(hex)); },
    toBytes: base64ToBytes,
    fromBytes: bytesToBase64,
  });

  var bytes = freeze({
    fromUtf8: utf8Bytes,
    toUtf8: utf8Decode,
    toHex: bytesToHex,
    fromHex: hexToBytes,
    toBase64: bytesToBase64,
    fromBase64: base64ToBytes,
  });

  // ---- lines ------------------------------------------------------------------
  var line = freeze({
    text: function (o) {
      return compact({ type: "text", label: o.label, value: o.value, color: o.color, subtitle: o.subtitle, detail: o.detail || undefined });
    },
    badge: function (o) {
      return compact({ type: "badge", label: o.label, text: o.text, color: o.color, subtitle: o.subtitle, detail: o.detail || undefined });
    },
    progress: function (o) {
      return compact({
        type: "progress",
        label: o.label,
        used: o.used,
        limit: o.limit,
        format: o.format,
        resetsAt: o.resetsAt,
        periodDurationMs: o.periodDurationMs,
        color: o.color,
        detail: o.detail || undefined,
      });
    },
  });

  // A string or finite number from an answer as text, else `fallback` ("" by
  // default). Never String() an unknown value: an array nested thousands deep
  // overflows the stack when it is joined.
  function textOf(value, fallback) {
    if (typeof value === "string") return value;
    if (typeof value === "number" && isFinite(value)) return StringCtor(value);
    return fallback === undefined ? "" : fallback;
  }

  // Number(value) for what an answer may hold, without Number()'s trap: an array
  // nested thousands deep is joined recursively and overflows the stack.
  function toNum(value) {
    if (typeof value === "number") return value;
    if (typeof value === "string" || typeof value === "boolean") return Number(value);
    if (value === null) return 0;
    if (value instanceof Date) return value.getTime();
    return NaN;
  }

  // ---- formatting ---------------------------------------------------------------
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function fixed(n, digits) {
    return toNum(n).toFixed(digits);
  }
  var fmt = freeze({
    planLabel: function (value) {
      var text = textOf(value, "").trim();
      if (!text) return "";
      return text
        .replace(/[_-]+/g, " ")
        .replace(/\s+/g, " ")
        .split(" ")
        .map(function (w) { return w ? w[0].toUpperCase() + w.slice(1) : w; })
        .join(" ");
    },
    resetIn: function (seconds) {
      var s = Math.max(0, mathFloor(toNum(seconds) || 0));
      if (s < 60) return "<1m";
      var d = mathFloor(s / 86400);
      var h = mathFloor((s % 86400) / 3600);
      var m = mathFloor((s % 3600) / 60);
      if (d > 0) return d + "d " + h + "h";
      if (h > 0) return h + "h " + m + "m";
      return m + "m";
    },
    dollars: function (cents) { return Math.round(toNum(cents)) / 100; },
    money: function (amount, currency) {
      var symbols = { USD: "$", EUR: "€", GBP: "£", CNY: "¥", JPY: "¥" };
      var cur = textOf(currency) || "USD";
      var sym = symbols.hasOwnProperty(cur) ? symbols[cur] : null;
      return sym ? sym + fixed(amount, 2) : fixed(amount, 2) + " " + cur;
    },
    date: function (unixMs) {
      var d = new Date(toNum(unixMs));
      return isFinite(d.getTime()) ? MONTHS[d.getUTCMonth()] + " " + d.getUTCDate() : "";
    },
    tokens: function (n) {
      var v = toNum(n) || 0;
      var abs = Math.abs(v);
      if (abs >= 1e9) return fixed(v / 1e9, 1).replace(/\.0$/, "") + "B";
      if (abs >= 1e6) return fixed(v / 1e6, 1).replace(/\.0$/, "") + "M";
      if (abs >= 1e3) return fixed(v / 1e3, 1).replace(/\.0$/, "") + "K";
      return StringCtor(Math.round(v));
    },
    percent: function (n) { return fixed(n, 1) + "%"; },
  });

  // ---- utilities ------------------------------------------------------------------
  function tryParseJson(text) {
    if (typeof text !== "string" || !text) return null;
    try { return parse(text); } catch (e) { return null; }
  }

  function parseDateMs(value) {
    if (value === null || value === undefined || value === "") return null;
    if (value instanceof Date) {
      var t = value.getTime();
      return isFinite(t) ? t : null;
    }
    if (typeof value === "number" || (typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value))) {
      var n = Number(value);
      if (!isFinite(n)) return null;
      return Math.abs(n) < 1e11 ? n * 1000 : n;
    }
    if (typeof value === "string") {
      var s = value.trim();
      // Trim fractional seconds beyond milliseconds, which Date.parse may reject.
      s = s.replace(/(\.\d{3})\d+/, "$1");
      if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s += "Z";
      var ms = Date.parse(s);
      return isFinite(ms) ? ms : null;
    }
    return null;
  }

  function toIso(value) {
    var ms = parseDateMs(value);
    if (ms === null) return null;
    var d = new Date(ms);
    return isFinite(d.getTime()) ? d.toISOString() : null;
  }

  // Retry-After (seconds or an HTTP date) in whole seconds, or null when
  // missing, unreadable or more than 31 days away (garbage, not a plan).
  var MAX_RETRY_AFTER_S = 31 * 24 * 3600;
  function retryAfterSec(headers, nowMs) {
    var raw = headers && (headers["retry-after"] || headers["Retry-After"]);
    var text = textOf(raw).trim();
    if (!text) return null;
    var seconds;
    if (/^\d+(\.\d+)?$/.test(text)) {
      seconds = Math.max(1, Math.ceil(Number(text)));
    } else {
      var at = Date.parse(text);
      if (!isFinite(at)) return null;
      seconds = Math.max(1, Math.ceil((at - (nowMs || Date.now())) / 1000));
    }
    return seconds <= MAX_RETRY_AFTER_S ? seconds : null;
  }

  // A probe failure with a state code the host understands (SPEC §2.1 states).
  function fail(code, message, retryAfter) {
    var err = { code: code, message: StringCtor(message) };
    if (retryAfter) err.retryAfterSec = retryAfter;
    throw err;
  }

  function describeWait(seconds) {
    return fmt.resetIn(seconds) === "<1m" ? "a minute" : "~" + fmt.resetIn(seconds);
  }

  // Map a non-2xx response to a clear, actionable failure.
  function checkResponse(resp, opts) {
    var o = opts || {};
    var name = o.name || "The provider";
    if (resp.status >= 200 && resp.status < 300) return resp;
    if (resp.status === 401 || resp.status === 403) {
      fail(
        "credential-denied",
        name + " rejected the credentials (HTTP " + resp.status + ")." + (o.loginHint ? " " + o.loginHint : "")
      );
    }
    if (resp.status === 429) {
      var wait = retryAfterSec(resp.headers) || o.defaultRetrySec || 300;
      fail("rate-limited", name + " rate limit reached; retry in " + describeWait(wait) + ".", wait);
    }
    if (resp.status >= 300 && resp.status < 400) {
      fail(
        o.redirectCode || "credential-denied",
        name + " redirected the request (HTTP " + resp.status + "): the session has probably expired." +
          (o.loginHint ? " " + o.loginHint : "")
      );
    }
    if (resp.status === 404) fail("failed", name + " endpoint not found (HTTP 404): the API may have changed.");
    if (resp.status >= 500) fail("failed", name + " is unavailable right now (HTTP " + resp.status + "). Try again later.");
    fail("failed", name + " answered HTTP " + resp.status + ".");
  }

  function expectJson(resp, name) {
    var data = tryParseJson(resp.bodyText);
    if (data === null || typeof data !== "object") {
      var looksHtml = /^\s*</.test(resp.bodyText || "");
      fail(
        "failed",
        (name || "The provider") + " returned an unexpected response (" + (looksHtml ? "an HTML page" : "not JSON") + ")."
      );
    }
    return data;
  }

  // Read a dotted path ("a.b.0.c"); a missing member fails with its name.
  function requireField(obj, path, name) {
    var parts = StringCtor(path).split(".");
    var cur = obj;
    for (var i = 0; i < parts.length; i++) {
      if (cur === null || cur === undefined || typeof cur !== "object" || !(parts[i] in cur)) {
        fail("failed", "Unexpected response from " + (name || "the provider") + ": missing " + path + ".");
      }
      cur = cur[parts[i]];
    }
    return cur;
  }

  // Serialise `value` the way `original` was written (minified or indented), so
  // a credential file written back keeps the format its own tool uses.
  function stringifyLike(original, value) {
    var text = StringCtor(original || "");
    var m = /\n([ \t]+)"/.exec(text);
    var out = m ? stringify(value, null, m[1][0] === "\t" ? "\t" : m[1].length) : stringify(value);
    if (/\n$/.test(text)) out += "\n";
    return out;
  }

  function makeUtil(host, now) {
    var util = {
      tryParseJson: tryParseJson,
      safeJsonParse: function (text) {
        try { return { ok: true, value: parse(text) }; } catch (e) { return { ok: false }; }
      },
      request: function (opts) { return host.http.request(opts); },
      requestJson: function (opts) {
        var resp = host.http.request(opts);
        return { resp: resp, json: tryParseJson(resp.bodyText) };
      },
      isAuthStatus: function (status) { return status === 401 || status === 403; },
      parseDateMs: parseDateMs,
      toIso: toIso,
      needsRefreshByExpiry: function (o) {
        if (!o || o.expiresAtMs === null || o.expiresAtMs === undefined) return true;
        var nowMs = o.nowMs === undefined ? now() : toNum(o.nowMs);
        var buffer = o.bufferMs === undefined ? 5 * 60 * 1000 : toNum(o.bufferMs);
        return nowMs + buffer >= toNum(o.expiresAtMs);
      },
      retryOnceOnAuth: function (o) {
        var first = o.request(null);
        if (!util.isAuthStatus(first.status)) return first;
        var refreshed = o.refresh();
        if (!refreshed) return first;
        return o.request(refreshed);
      },
      withLock: function (name, fn, timeoutMs) {
        if (!host.lock.acquire(name, timeoutMs === undefined ? 20000 : timeoutMs)) {
          fail("failed", "Another usagestat process holds the " + name + " lock; try again shortly.");
        }
        try {
          return fn();
        } finally {
          host.lock.release(name);
        }
      },
      utf8Hex: function (text) { return bytesToHex(utf8Bytes(text)); },
      retryAfterSec: retryAfterSec,
      fail: fail,
      checkResponse: checkResponse,
      expectJson: expectJson,
      requireField: requireField,
      stringifyLike: stringifyLike,
      readJson: function (path) {
        if (!host.fs.exists(path)) return null;
        return tryParseJson(host.fs.readText(path));
      },
      firstExisting: function (paths) {
        for (var i = 0; i < paths.length; i++) if (paths[i] && host.fs.exists(paths[i])) return paths[i];
        return null;
      },
      basicAuth: function (user, password) { return "Basic " + base64.encode(user + ":" + password); },
      clampPercent: function (n) { return Math.max(0, Math.min(100, toNum(n) || 0)); },
      text: textOf,
      toNumber: toNum,
    };
    return freeze(util);
  }

  var jwt = freeze({
    decodePayload: function (token) {
      var parts = StringCtor(token || "").split(".");
      if (parts.length < 2) return null;
      try { return parse(utf8Decode(base64ToBytes(parts[1]))); } catch (e) { return null; }
    },
  });

  // ---- host ------------------------------------------------------------------------
  function makeHost(homeDir) {
    function logger(level) {
      return function () {
        var parts = [];
        for (var i = 0; i < arguments.length; i++) {
          var a = arguments[i];
          parts.push(typeof a === "string" ? a : (function () { try { return stringify(a); } catch (e) { return StringCtor(a); } })());
        }
        call("log", [level, parts.join(" ")]);
      };
    }
    return freeze({
      log: freeze({ info: logger("info"), warn: logger("warn"), error: logger("error"), debug: logger("debug") }),
      env: freeze({ get: function (name) { return call("env.get", [StringCtor(name)]); } }),
      fs: freeze({
        homeDir: homeDir,
        exists: function (p) { return call("fs.exists", [StringCtor(p)]); },
        readText: function (p) { return call("fs.readText", [StringCtor(p)]); },
        listDir: function (p) { return call("fs.listDir", [StringCtor(p)]); },
        writeText: function (p, text) { return call("fs.writeText", [StringCtor(p), StringCtor(text)]); },
        stat: function (p) { return call("fs.stat", [StringCtor(p)]); },
      }),
      http: freeze({ request: function (opts) { return call("http.request", [opts || {}]); } }),
      command: freeze({ run: function (opts) { return call("command.run", [opts || {}]); } }),
      sqlite: freeze({
        query: function (db, sql) { return call("sqlite.query", [StringCtor(db), StringCtor(sql)]); },
        exec: function () { throw new ErrorCtor("sqlite.exec is not supported: usagestat opens databases read-only"); },
      }),
      crypto: freeze({
        sha256Hex: function (text) { return call("crypto.sha256Hex", [StringCtor(text)]); },
        hmacSha256Hex: function (keyHex, text) { return call("crypto.hmacSha256Hex", [StringCtor(keyHex), StringCtor(text)]); },
        randomHex: function (n) { return call("crypto.randomHex", [Number(n)]); },
        aesGcmDecrypt: function (o) { return call("crypto.aesGcmDecrypt", [o || {}]); },
        aesGcmEncrypt: function (o) { return call("crypto.aesGcmEncrypt", [o || {}]); },
        rsaSha256Sign: function (pem, text) { return call("crypto.rsaSha256Sign", [StringCtor(pem), StringCtor(text)]); },
      }),
      keychain: freeze({
        readGenericPassword: function (service, account) {
          return call("keychain.readGenericPassword", [StringCtor(service), account === undefined ? null : account]);
        },
      }),
      lock: freeze({
        acquire: function (name, timeoutMs) { return call("lock.acquire", [StringCtor(name), timeoutMs === undefined ? 10000 : Number(timeoutMs)]); },
        release: function (name) { return call("lock.release", [StringCtor(name)]); },
      }),
      usage: freeze({ scanLogs: function (opts) { return call("usage.scanLogs", [opts || {}]); } }),
    });
  }

  // Extension point for the other prelude files (protobuf, HTML ...): each adds
  // a namespace to ctx through this list.
  var extensions = [];
  globalThis.__usagestat_extend = function (name, factory) { extensions.push([name, factory]); };

  function buildCtx(spec) {
    var host = makeHost(spec.homeDir);
    var nowMs = function () { return Date.now(); };
    var ctx = {
      nowIso: spec.nowIso,
      sourceMode: spec.sourceMode,
      webUrl: spec.webUrl,
      provider: freeze(spec.provider),
      app: freeze(spec.app),
      host: host,
      line: line,
      fmt: fmt,
      util: makeUtil(host, nowMs),
      jwt: jwt,
      base64: base64,
      bytes: bytes,
    };
    for (var i = 0; i < extensions.length; i++) ctx[extensions[i][0]] = extensions[i][1](ctx);
    return freeze(ctx);
  }

  function describeError(e) {
    if (e === null || e === undefined) return { message: "probe failed without a message" };
    if (typeof e === "string") return { message: e };
    if (e instanceof ErrorCtor) {
      var text = StringCtor(e.message);
      if (e.name === "RangeError" && /call stack/i.test(text)) {
        // Plain words instead of the engine's: usually a body nested too deeply
        // for the plugin's parsing (or a recursion bug in the plugin).
        return {
          message: "probe failed: maximum call stack size exceeded (too much recursion, " +
            "for example an answer nested too deeply)",
          stack: StringCtor(e.stack || "")
        };
      }
      var name = e.name && e.name !== "Error" ? e.name + ": " : "";
      return { message: name + text, stack: StringCtor(e.stack || "") };
    }
    if (typeof e === "object") {
      var out = {};
      if (typeof e.code === "string") out.code = e.code;
      out.message = typeof e.message === "string" ? e.message : (function () { try { return stringify(e); } catch (x) { return StringCtor(e); } })();
      if (typeof e.retryAfterSec === "number") out.retryAfterSec = e.retryAfterSec;
      return out;
    }
    return { message: StringCtor(e) };
  }

  var settled = null;
  function settle(payload) {
    try {
      settled = stringify(payload);
    } catch (e) {
      settled = stringify({ ok: false, error: { message: "probe result is not JSON-serialisable: " + StringCtor(e) } });
    }
  }

  // Run the plugin found under one of the accepted globals; the outcome is read
  // back with __usagestat_outcome() once the job queue has drained.
  globalThis.__usagestat_start = function (specJson) {
    var spec = parse(specJson);
    var plugin = globalThis.__usagestat_plugin || globalThis.__openusage_plugin || globalThis.__ai_usage_plugin;
    if (!plugin || typeof plugin.probe !== "function") {
      settle({ ok: false, error: { message: "plugin script does not set globalThis.__usagestat_plugin = { id, probe(ctx) }" } });
      return;
    }
    if (plugin.id !== undefined && plugin.id !== spec.pluginId) {
      settle({ ok: false, error: { message: "plugin script exports id " + stringify(plugin.id) + " but its manifest says " + stringify(spec.pluginId) } });
      return;
    }
    var ctx;
    try {
      ctx = buildCtx(spec);
    } catch (e) {
      settle({ ok: false, error: describeError(e) });
      return;
    }
    var result;
    try {
      result = plugin.probe(ctx);
    } catch (e) {
      settle({ ok: false, error: describeError(e) });
      return;
    }
    Promise.resolve(result).then(
      function (value) { settle({ ok: true, value: value === undefined ? null : value }); },
      function (e) { settle({ ok: false, error: describeError(e) }); }
    );
  };
  globalThis.__usagestat_outcome = function () { return settled; };
  globalThis.__usagestat_check = function (pluginId) {
    var plugin = globalThis.__usagestat_plugin || globalThis.__openusage_plugin || globalThis.__ai_usage_plugin;
    if (!plugin || typeof plugin !== "object") return "the script does not set globalThis.__usagestat_plugin";
    if (typeof plugin.probe !== "function") return "the exported plugin has no probe(ctx) function";
    if (plugin.id !== undefined && plugin.id !== pluginId)
      return "the script exports id " + stringify(plugin.id) + " but the manifest says " + stringify(pluginId);
    return "";
  };

  var consoleLog = null;
  globalThis.console = {
    log: function () { if (consoleLog) consoleLog.info.apply(null, arguments); },
    info: function () { if (consoleLog) consoleLog.info.apply(null, arguments); },
    debug: function () { if (consoleLog) consoleLog.debug.apply(null, arguments); },
    warn: function () { if (consoleLog) consoleLog.warn.apply(null, arguments); },
    error: function () { if (consoleLog) consoleLog.error.apply(null, arguments); },
  };
  consoleLog = makeHost("").log;
})();
