// ctx.alibaba: helpers for the Alibaba Cloud Model Studio / Bailian console
// RPC (`/data/api.json`), shared by the Coding Plan and Token Plan plugins.
// Console answers wrap the useful object in envelopes whose nesting varies
// (and sometimes carry nested JSON as strings), so lookups search the whole
// expanded tree for known field names.
__usagestat_extend("alibaba", function (ctx) {
  "use strict";

  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

  // Parse string members that hold a JSON object/array, recursively.
  function expand(value, depth) {
    var d = depth || 0;
    if (d > 12) return value;
    if (Array.isArray(value)) return value.map(function (v) { return expand(v, d + 1); });
    if (isObject(value)) {
      var out = {};
      Object.keys(value).forEach(function (k) { out[k] = expand(value[k], d + 1); });
      return out;
    }
    if (typeof value === "string" && /^\s*[\[{]/.test(value)) {
      var parsed = ctx.util.tryParseJson(value);
      if (parsed !== null && typeof parsed === "object") return expand(parsed, d + 1);
    }
    return value;
  }

  // Depth-first: the first value under one of `keys` accepted by `accept`
  // (own keys before nested ones, like the console clients do).
  function findValue(value, keys, accept, depth) {
    var d = depth || 0;
    if (d > 64) return undefined; // no answer nests this deep; a damaged one must not overflow
    if (isObject(value)) {
      for (var i = 0; i < keys.length; i++) {
        if (Object.prototype.hasOwnProperty.call(value, keys[i]) && accept(value[keys[i]])) return value[keys[i]];
      }
      var names = Object.keys(value);
      for (var j = 0; j < names.length; j++) {
        var found = findValue(value[names[j]], keys, accept, d + 1);
        if (found !== undefined) return found;
      }
    } else if (Array.isArray(value)) {
      for (var k = 0; k < value.length; k++) {
        var f = findValue(value[k], keys, accept, d + 1);
        if (f !== undefined) return f;
      }
    }
    return undefined;
  }

  function toNumber(v) { return ctx.num.of(v); }

  function findDict(value, keys) { return findValue(value, keys, isObject); }
  function findArray(value, keys) { return findValue(value, keys, Array.isArray); }
  function findString(value, keys) {
    var v = findValue(value, keys, function (x) { return typeof x === "string" && x.trim() !== ""; });
    return v === undefined ? null : v.trim();
  }
  function findNumber(value, keys) {
    var v = findValue(value, keys, function (x) { return toNumber(x) !== null; });
    return v === undefined ? null : toNumber(v);
  }
  // The first object (itself or nested) that has any of `keys`.
  function findDictWithAny(value, keys, depth) {
    var d = depth || 0;
    if (d > 64) return null;
    if (isObject(value)) {
      for (var i = 0; i < keys.length; i++) if (Object.prototype.hasOwnProperty.call(value, keys[i])) return value;
      var names = Object.keys(value);
      for (var j = 0; j < names.length; j++) {
        var f = findDictWithAny(value[names[j]], keys, d + 1);
        if (f) return f;
      }
    } else if (Array.isArray(value)) {
      for (var k = 0; k < value.length; k++) {
        var g = findDictWithAny(value[k], keys, d + 1);
        if (g) return g;
      }
    }
    return null;
  }
  // First own member of `obj` (not nested) among `keys`.
  function own(obj, keys, accept) {
    if (!isObject(obj)) return undefined;
    for (var i = 0; i < keys.length; i++) {
      if (Object.prototype.hasOwnProperty.call(obj, keys[i]) && (!accept || accept(obj[keys[i]]))) return obj[keys[i]];
    }
    return undefined;
  }
  function ownNumber(obj, keys) {
    var v = own(obj, keys, function (x) { return toNumber(x) !== null; });
    return v === undefined ? null : toNumber(v);
  }
  function ownString(obj, keys) {
    var v = own(obj, keys, function (x) { return typeof x === "string" && x.trim() !== ""; });
    return v === undefined ? null : v.trim();
  }

  // Epoch ms / s, ISO 8601, or the console's "yyyy-MM-dd HH:mm[:ss]" (Beijing
  // time, UTC+8, on both the China and international consoles).
  function parseTime(v) {
    var n = toNumber(v);
    if (n !== null) {
      if (n > 1e12) return n;
      if (n > 1e9) return n * 1000;
      return null;
    }
    if (typeof v !== "string") return null;
    var m = /^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?\s*$/.exec(v);
    if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4] - 8, +m[5], +(m[6] || 0));
    return ctx.util.parseDateMs(v);
  }

  function isLoginText(text) {
    var t = String(text || "").toLowerCase();
    return t.indexOf("needlogin") >= 0 || t.indexOf("login") >= 0 || t.indexOf("log in") >= 0 ||
      t.indexOf("tokenerror") >= 0 || t.indexOf("request has expired") >= 0 ||
      t.indexOf("refresh page") >= 0 || t.indexOf("请求已经过期") >= 0;
  }

  // Classify an expanded console answer: {kind: "login"|"denied"|"error", message} or null.
  function envelopeError(data) {
    var successFlags = [];
    (function collect(v, depth) {
      if (depth > 10) return;
      if (isObject(v)) {
        ["success", "Success", "successResponse"].forEach(function (k) {
          if (v[k] === false || v[k] === "false") successFlags.push(v);
        });
        Object.keys(v).forEach(function (k) { collect(v[k], depth + 1); });
      } else if (Array.isArray(v)) v.forEach(function (x) { collect(x, depth + 1); });
    })(data, 0);
    var code = findValue(data, ["statusCode", "status_code", "code", "Code", "errorCode"], function (x) {
      return (typeof x === "string" && x.trim() !== "") || typeof x === "number";
    });
    var message = findString(data, ["message", "Message", "msg", "statusMessage", "errorMsg"]);
    var codeText = code === undefined ? "" : String(code);
    var codeNum = toNumber(code);
    if (isLoginText(codeText) || (message && isLoginText(message))) return { kind: "login", message: message || codeText };
    if (codeNum === 401 || codeNum === 403) return { kind: "denied", message: message || codeText };
    if (successFlags.length) {
      var inner = successFlags[0];
      var c = ownString(inner, ["errorCode", "code", "Code"]) || codeText;
      var msg = ownString(inner, ["errorMsg", "message", "Message", "msg"]) || message;
      if (isLoginText(c) || isLoginText(msg)) return { kind: "login", message: msg || c };
      return { kind: "error", message: msg || c || "request was not successful" };
    }
    if (codeNum !== null && codeNum !== 0 && codeNum !== 200) return { kind: "error", message: message || "status code " + codeNum };
    return null;
  }

  // Headers the console's XHR calls carry (CSRF tokens come from cookies).
  function consoleHeaders(cookie, origin, referer) {
    var h = {
      Cookie: cookie,
      Accept: "*/*",
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Requested-With": "XMLHttpRequest",
      Origin: origin,
      Referer: referer,
    };
    var csrf = ctx.cookieAuth.get(cookie, "login_aliyunid_csrf") || ctx.cookieAuth.get(cookie, "csrf");
    if (csrf) {
      h["x-xsrf-token"] = csrf;
      h["x-csrf-token"] = csrf;
    }
    return h;
  }

  var SEC_TOKEN_PATTERNS = [
    /SEC_TOKEN\s*:\s*"([^"]+)"/, /SEC_TOKEN\s*:\s*'([^']+)'/, /secToken\s*:\s*"([^"]+)"/,
    /sec_token\s*:\s*"([^"]+)"/, /sec_token\s*:\s*'([^']+)'/, /"SEC_TOKEN"\s*:\s*"([^"]+)"/, /"sec_token"\s*:\s*"([^"]+)"/,
  ];

  // The console's anti-CSRF `sec_token`: from the dashboard HTML, else the
  // user-info endpoint, else a `sec_token` cookie; null when none is found.
  function secToken(o) {
    if (o.dashboardUrl) {
      try {
        var page = ctx.host.http.request({
          method: "GET",
          url: o.dashboardUrl,
          headers: { Cookie: o.cookie, Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" },
          timeoutMs: 10000,
        });
        if (page.status === 200) {
          for (var i = 0; i < SEC_TOKEN_PATTERNS.length; i++) {
            var m = SEC_TOKEN_PATTERNS[i].exec(page.bodyText || "");
            if (m && m[1].trim()) return m[1].trim();
          }
        }
      } catch (e) {
        ctx.host.log.warn("console page unavailable: " + (e && e.message ? e.message : String(e)));
      }
    }
    if (o.userInfoUrl) {
      try {
        var info = ctx.host.http.request({
          method: "GET",
          url: o.userInfoUrl,
          headers: { Cookie: o.cookie, Accept: "application/json, text/plain, */*", Referer: o.referer || o.userInfoUrl },
          timeoutMs: 10000,
        });
        if (info.status === 200) {
          var data = ctx.util.tryParseJson(info.bodyText);
          var token = data ? findString(expand(data), ["secToken", "sec_token"]) : null;
          if (token) return token;
        }
      } catch (e2) {
        ctx.host.log.warn("console user info unavailable: " + (e2 && e2.message ? e2.message : String(e2)));
      }
    }
    return ctx.cookieAuth.get(o.cookie, "sec_token");
  }

  return Object.freeze({
    expand: expand,
    findDict: findDict,
    findArray: findArray,
    findString: findString,
    findNumber: findNumber,
    findDictWithAny: findDictWithAny,
    ownNumber: ownNumber,
    ownString: ownString,
    toNumber: toNumber,
    parseTime: parseTime,
    isLoginText: isLoginText,
    envelopeError: envelopeError,
    consoleHeaders: consoleHeaders,
    secToken: secToken,
  });
});
