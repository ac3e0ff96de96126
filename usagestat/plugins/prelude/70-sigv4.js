// ctx.sigv4: request signing in the AWS Signature Version 4 family, built on
// the host's crypto.sha256Hex / crypto.hmacSha256Hex (keys travel as hex).
// One implementation, parameterised by a scheme: AWS (CloudWatch, Cost
// Explorer ...) and Volcengine (the same canonical request and HMAC chain with
// an "HMAC-SHA256" algorithm name, no key prefix, a "request" terminator and
// X-Date / X-Content-Sha256 headers).
//
//   var signed = ctx.sigv4.sign({
//     method: "POST", url: "https://ce.us-east-1.amazonaws.com/",
//     headers: {"Content-Type": "application/x-amz-json-1.1"}, body: "{...}",
//     accessKeyId: "...", secretAccessKey: "...", sessionToken: null,
//     region: "us-east-1", service: "ce",            // scheme: ctx.sigv4.AWS (default)
//   });
//   ctx.host.http.request({method: "POST", url: ..., headers: signed.headers, bodyText: body});
//
// Every header passed in is signed, plus host, the date header, the session
// token header (when a token is given and signToken is not false) and, for
// schemes that require it, the payload hash header. The returned `headers`
// are the caller's plus the ones to send (Authorization, date, token, hash);
// Host is left to the HTTP client.
__usagestat_extend("sigv4", function (ctx) {
  "use strict";

  var AWS = Object.freeze({
    name: "aws",
    algorithm: "AWS4-HMAC-SHA256",
    keyPrefix: "AWS4",
    terminator: "aws4_request",
    dateHeader: "X-Amz-Date",
    tokenHeader: "X-Amz-Security-Token",
    contentHashHeader: "X-Amz-Content-Sha256",
    alwaysHashHeader: false,
  });

  var VOLCENGINE = Object.freeze({
    name: "volcengine",
    algorithm: "HMAC-SHA256",
    keyPrefix: "",
    terminator: "request",
    dateHeader: "X-Date",
    tokenHeader: "X-Security-Token",
    contentHashHeader: "X-Content-Sha256",
    alwaysHashHeader: true,
  });

  // RFC 3986 unreserved characters stay; everything else is %XX (upper case).
  function encode(value, keepSlash) {
    var out = encodeURIComponent(String(value)).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
    return keepSlash ? out.replace(/%2F/g, "/") : out;
  }

  function decode(value) {
    try {
      return decodeURIComponent(String(value).replace(/\+/g, "%20"));
    } catch (e) {
      return String(value);
    }
  }

  function parseUrl(url) {
    var m = /^(https?):\/\/([^\/?#]+)([^?#]*)(\?[^#]*)?/i.exec(String(url));
    if (!m) throw new Error("sigv4: not an absolute http(s) URL");
    var scheme = m[1].toLowerCase();
    var host = m[2].toLowerCase().replace(/^[^@]*@/, "");
    if ((scheme === "https" && /:443$/.test(host)) || (scheme === "http" && /:80$/.test(host))) {
      host = host.replace(/:\d+$/, "");
    }
    var pairs = [];
    var query = m[4] ? m[4].slice(1) : "";
    if (query) {
      var parts = query.split("&");
      for (var i = 0; i < parts.length; i++) {
        if (!parts[i]) continue;
        var eq = parts[i].indexOf("=");
        var k = eq < 0 ? parts[i] : parts[i].slice(0, eq);
        var v = eq < 0 ? "" : parts[i].slice(eq + 1);
        pairs.push([decode(k), decode(v)]);
      }
    }
    return { scheme: scheme, host: host, path: m[3] || "/", pairs: pairs };
  }

  function canonicalQuery(pairs) {
    var encoded = pairs.map(function (p) { return [encode(p[0]), encode(p[1])]; });
    encoded.sort(function (a, b) {
      if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
      return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
    });
    return encoded.map(function (p) { return p[0] + "=" + p[1]; }).join("&");
  }

  // Each path segment encoded once (segments are decoded first, so an
  // already-encoded path is not double-encoded).
  function canonicalPath(path) {
    if (!path) return "/";
    return path
      .split("/")
      .map(function (seg) { return encode(decode(seg)); })
      .join("/");
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  // "YYYYMMDDTHHMMSSZ" for a time in ms (or a Date, or such a string as is).
  function formatDate(value) {
    if (typeof value === "string" && /^\d{8}T\d{6}Z$/.test(value)) return value;
    var d = value instanceof Date ? value : new Date(value === undefined || value === null ? Date.now() : Number(value));
    if (!isFinite(d.getTime())) throw new Error("sigv4: invalid signing date");
    return (
      d.getUTCFullYear() + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) + "T" +
      pad(d.getUTCHours()) + pad(d.getUTCMinutes()) + pad(d.getUTCSeconds()) + "Z"
    );
  }

  function signingKey(secret, dateStamp, region, service, scheme) {
    var s = scheme || AWS;
    var crypto = ctx.host.crypto;
    var k = crypto.hmacSha256Hex(ctx.util.utf8Hex(s.keyPrefix + secret), dateStamp);
    k = crypto.hmacSha256Hex(k, region);
    k = crypto.hmacSha256Hex(k, service);
    return crypto.hmacSha256Hex(k, s.terminator);
  }

  function trimValue(v) {
    return String(v).replace(/^\s+|\s+$/g, "").replace(/\s+/g, " ");
  }

  function sign(o) {
    if (!o || !o.accessKeyId || !o.secretAccessKey) throw new Error("sigv4: accessKeyId and secretAccessKey are required");
    if (!o.region || !o.service) throw new Error("sigv4: region and service are required");
    var scheme = o.scheme || AWS;
    var method = String(o.method || "GET").toUpperCase();
    var url = parseUrl(o.url);
    var body = o.body === undefined || o.body === null ? "" : String(o.body);
    var stamp = formatDate(o.date);
    var dateStamp = stamp.slice(0, 8);
    var payloadHash = ctx.host.crypto.sha256Hex(body);

    var send = {};
    var given = o.headers || {};
    var names = Object.keys(given);
    for (var i = 0; i < names.length; i++) {
      if (given[names[i]] !== undefined && given[names[i]] !== null) send[names[i]] = String(given[names[i]]);
    }
    send[scheme.dateHeader] = stamp;
    if (o.sessionToken) send[scheme.tokenHeader] = String(o.sessionToken);
    if (scheme.alwaysHashHeader || o.hashHeader) send[scheme.contentHashHeader] = payloadHash;

    var canon = {};
    canon.host = url.host;
    var sendNames = Object.keys(send);
    for (var j = 0; j < sendNames.length; j++) {
      var lower = sendNames[j].toLowerCase();
      if (lower === "authorization") continue;
      if (o.sessionToken && o.signToken === false && lower === scheme.tokenHeader.toLowerCase()) continue;
      canon[lower] = canon[lower] === undefined ? trimValue(send[sendNames[j]]) : canon[lower] + "," + trimValue(send[sendNames[j]]);
    }
    var signedList = Object.keys(canon).sort();
    var canonicalHeaders = signedList.map(function (n) { return n + ":" + canon[n] + "\n"; }).join("");
    var signedHeaders = signedList.join(";");

    var canonicalRequest = [
      method,
      canonicalPath(url.path),
      canonicalQuery(url.pairs),
      canonicalHeaders,
      signedHeaders,
      payloadHash,
    ].join("\n");
    var scope = dateStamp + "/" + o.region + "/" + o.service + "/" + scheme.terminator;
    var stringToSign = [scheme.algorithm, stamp, scope, ctx.host.crypto.sha256Hex(canonicalRequest)].join("\n");
    var signature = ctx.host.crypto.hmacSha256Hex(
      signingKey(o.secretAccessKey, dateStamp, o.region, o.service, scheme),
      stringToSign
    );
    var authorization =
      scheme.algorithm + " Credential=" + o.accessKeyId + "/" + scope +
      ", SignedHeaders=" + signedHeaders + ", Signature=" + signature;
    send.Authorization = authorization;
    return {
      headers: send,
      authorization: authorization,
      signature: signature,
      signedHeaders: signedHeaders,
      canonicalRequest: canonicalRequest,
      stringToSign: stringToSign,
      credentialScope: scope,
      date: stamp,
      payloadHash: payloadHash,
    };
  }

  return Object.freeze({
    AWS: AWS,
    VOLCENGINE: VOLCENGINE,
    sign: sign,
    signingKey: signingKey,
    formatDate: formatDate,
    encode: encode,
    canonicalQuery: function (url) { return canonicalQuery(parseUrl(url).pairs); },
  });
});
