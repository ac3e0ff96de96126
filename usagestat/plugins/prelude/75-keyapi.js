// ctx.keyapi: the plumbing API-key and console providers share (MiniMax,
// Moonshot, Z.ai, StepFun, OpenRouter, LLM proxies, Vertex AI ...):
//
//  - region(o): an international / China region from config `region`, env or
//    a default, with the usual aliases ("intl", "global", "china" ...);
//  - baseUrl(raw, o): a user-supplied base URL normalised (no trailing slash,
//    optional suffix such as "/v1" stripped), http(s) only, no user:password@,
//    plain http refused except for loopback / private-network hosts;
//  - query(params): a URL query string (the engine has no URL/URLSearchParams);
//  - request(o) / getJson(o): one HTTP call whose network and permission
//    errors become clear `failed` messages naming the provider, then the
//    usual status mapping (ctx.util.checkResponse) and JSON parsing;
//    optionalJson(o) for extra calls whose failure only drops a line.
__usagestat_extend("keyapi", function (ctx) {
  "use strict";

  var ALIASES = {
    global: ["global", "intl", "international", "overseas", "world", "en"],
    cn: ["cn", "china", "mainland", "zh", "zh-cn", "prc"],
  };

  function clean(value) {
    if (value === undefined || value === null) return null;
    var text = String(value).trim();
    return text ? text : null;
  }

  // o: {name, env: [names], defaultRegion: "global"|"cn", aliases: {global: [...], cn: [...]},
  //     configured (defaults to ctx.provider.region), hint}
  // -> {id: "global"|"cn", explicit: bool, source: "config"|"env NAME"|"default"}
  function region(o) {
    var opts = o || {};
    var raw = clean(opts.configured === undefined ? ctx.provider.region : opts.configured);
    var source = "config";
    if (!raw) {
      var fromEnv = ctx.creds.env(opts.env || []);
      if (fromEnv) {
        raw = fromEnv.value;
        source = "env " + fromEnv.name;
      }
    }
    if (!raw) return { id: opts.defaultRegion || "global", explicit: false, source: "default" };
    var wanted = raw.toLowerCase().replace(/_/g, "-");
    var extra = opts.aliases || {};
    var ids = ["global", "cn"];
    for (var j = 0; j < ids.length; j++) {
      var list = ALIASES[ids[j]].concat(extra[ids[j]] || []);
      if (list.indexOf(wanted) >= 0) return { id: ids[j], explicit: true, source: source };
    }
    ctx.util.fail(
      "failed",
      "Unknown " + (opts.name || "provider") + " region \"" + raw + "\" (" + source + "): " +
        (opts.hint || "use \"global\" or \"cn\".")
    );
  }

  function isPrivateHost(host) {
    var h = String(host || "").toLowerCase().replace(/^\[|\]$/g, "");
    if (!h) return false;
    if (h === "localhost" || /\.localhost$/.test(h) || /\.local$/.test(h) || /\.internal$/.test(h)) return true;
    if (h === "::1" || /^f[cd][0-9a-f]{2}:/.test(h) || /^fe[89ab][0-9a-f]:/.test(h)) return true;
    var m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
    if (!m) return false;
    var a = Number(m[1]);
    var b = Number(m[2]);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
      (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }

  // "https://Host:8443/x/" -> {scheme, host, port, path}; null when not a URL.
  function parse(url) {
    var m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?/i.exec(String(url || "").trim());
    if (!m) return null;
    var authority = m[2];
    var userinfo = null;
    var at = authority.lastIndexOf("@");
    if (at >= 0) {
      userinfo = authority.slice(0, at);
      authority = authority.slice(at + 1);
    }
    var hm = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(authority);
    if (!hm || !hm[1]) return null;
    return {
      scheme: m[1].toLowerCase(),
      userinfo: userinfo,
      host: hm[1].toLowerCase(),
      port: hm[2] ? Number(hm[2]) : null,
      path: m[3] || "",
      query: m[4] || "",
    };
  }

  function hostOf(url) {
    var p = parse(url);
    return p ? p.host : null;
  }

  // o: {name, strip: ["/v1", ...] (case-insensitive path suffixes), what: "baseUrl"}
  function baseUrl(raw, o) {
    var opts = o || {};
    var name = opts.name || "The provider";
    var what = opts.what || "baseUrl";
    var text = clean(raw);
    if (!text) return null;
    var p = parse(text);
    if (!p || (p.scheme !== "https" && p.scheme !== "http")) {
      ctx.util.fail("failed", name + " " + what + " must be an http(s) URL like https://host[:port].");
    }
    if (p.userinfo !== null) {
      ctx.util.fail("failed", name + " " + what + " must not contain a user name or password; put the key in apiKey.");
    }
    if (p.query) ctx.util.fail("failed", name + " " + what + " must not contain a query string.");
    if (p.scheme === "http" && !isPrivateHost(p.host)) {
      ctx.util.fail(
        "failed",
        name + " " + what + " uses plain http to a public host (" + p.host + "); use https (http is allowed only for localhost and private networks)."
      );
    }
    var path = p.path.replace(/\/+$/, "");
    var strip = opts.strip || [];
    for (var i = 0; i < strip.length; i++) {
      var suffix = String(strip[i]).toLowerCase();
      if (path.toLowerCase().slice(-suffix.length) === suffix) {
        path = path.slice(0, path.length - suffix.length).replace(/\/+$/, "");
        break;
      }
    }
    return p.scheme + "://" + p.host + (p.port ? ":" + p.port : "") + path;
  }

  function encode(value) {
    return encodeURIComponent(String(value));
  }

  // {a: 1, b: [2, 3], c: null} -> "a=1&b=2&b=3" (null/undefined skipped, order kept).
  function query(params) {
    var out = [];
    var names = Object.keys(params || {});
    for (var i = 0; i < names.length; i++) {
      var v = params[names[i]];
      if (v === undefined || v === null) continue;
      var list = Array.isArray(v) ? v : [v];
      for (var j = 0; j < list.length; j++) {
        if (list[j] === undefined || list[j] === null) continue;
        out.push(encode(names[i]) + "=" + encode(list[j]));
      }
    }
    return out.join("&");
  }

  function withQuery(url, params) {
    var q = query(params);
    if (!q) return url;
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + q;
  }

  function send(o) {
    return ctx.host.http.request({
      method: o.method || "GET",
      url: o.url,
      headers: o.headers || {},
      bodyText: o.bodyText,
      timeoutMs: o.timeoutMs || 15000,
    });
  }

  // One request; host errors become `failed` with the provider's name. A
  // permission error for a URL the user configured explains how to allow it.
  function request(o) {
    var name = o.name || "The provider";
    try {
      return send(o);
    } catch (e) {
      var msg = String((e && e.message) || e);
      if (/^permission denied: http/.test(msg)) {
        ctx.util.fail(
          "failed",
          name + ": " + msg + ". Set the URL as `baseUrl` in this provider's config so usagestat may reach it."
        );
      }
      ctx.util.fail("failed", "Could not reach " + name + ": " + msg.replace(/^http request failed:\s*/, ""));
    }
  }

  // request + status mapping + JSON. o: request options plus {loginHint,
  // pass: [statuses returned as {resp, data: null} instead of failing]}.
  // -> {resp, data}
  function getJson(o) {
    var resp = request(o);
    if (o.pass && o.pass.indexOf(resp.status) >= 0) return { resp: resp, data: null };
    ctx.util.checkResponse(resp, { name: o.name, loginHint: o.loginHint, defaultRetrySec: o.defaultRetrySec });
    return { resp: resp, data: ctx.util.expectJson(resp, o.name) };
  }

  // For extra, non-essential calls: {resp, data} where data is null on a
  // network error (resp null too), any non-2xx status, or a body that is not a
  // JSON object. It never fails the probe.
  function optionalJson(o) {
    var resp;
    try {
      resp = send(o);
    } catch (e) {
      ctx.host.log.warn((o.name || "provider") + ": optional request failed: " + String((e && e.message) || e));
      return { resp: null, data: null };
    }
    if (resp.status < 200 || resp.status >= 300) return { resp: resp, data: null };
    var data = ctx.util.tryParseJson(resp.bodyText);
    return { resp: resp, data: data && typeof data === "object" ? data : null };
  }

  return Object.freeze({
    region: region,
    isPrivateHost: isPrivateHost,
    parse: parse,
    hostOf: hostOf,
    baseUrl: baseUrl,
    query: query,
    withQuery: withQuery,
    request: request,
    getJson: getJson,
    optionalJson: optionalJson,
  });
});
