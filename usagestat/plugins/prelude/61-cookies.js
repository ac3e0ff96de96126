// ctx.cookieAuth: the one place that reads session cookies. It turns whatever
// the user pasted as a provider's session cookie (a bare value, a `Cookie:`
// header, a "name=value; ..." list, or a whole "Copy as cURL" command) into
// the Cookie header a web provider needs (a bare value gets the provider's
// cookie name, unrelated cookies can be dropped), reads single cookies out of
// it, and finds the pasted session (config cookieHeader, then env vars).
__usagestat_extend("cookieAuth", function (ctx) {
  "use strict";

  // "a=1; b=2" -> [["a","1"], ["b","2"]] (first "=" splits; blanks dropped).
  function parse(header) {
    var out = [];
    var parts = String(header || "").split(";");
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].trim();
      var eq = part.indexOf("=");
      if (eq <= 0) continue;
      var name = part.slice(0, eq).trim();
      var value = part.slice(eq + 1).trim();
      if (name && value) out.push([name, value]);
    }
    return out;
  }

  function unquote(text) {
    return text.replace(/\\(["'\\])/g, "$1");
  }

  // The cookie text inside a pasted cURL command, or null.
  function fromCurl(text) {
    if (!/^\s*curl(\.exe)?\s/i.test(text)) return null;
    var found = [];
    var header = /(?:-H|--header)\s+\$?(['"])\s*cookie\s*:\s*([\s\S]*?)\1/gi;
    var m;
    while ((m = header.exec(text)) !== null) found.push(unquote(m[2]));
    var flag = /(?:\s-b|--cookie)\s+\$?(['"])([\s\S]*?)\1/g;
    while ((m = flag.exec(text)) !== null) found.push(unquote(m[2]));
    return found.length ? found.join("; ") : "";
  }

  // Every -H/--header of a pasted cURL command as [name, value], in order
  // ([] when `text` is not a cURL command). Providers behind bot protection
  // replay a few of the browser's headers from such a capture.
  function curlHeaders(text) {
    var s = String(text || "");
    if (!/^\s*curl(\.exe)?\s/i.test(s)) return [];
    var out = [];
    var re = /(?:-H|--header)\s+\$?(['"])([\s\S]*?)\1/g;
    var m;
    while ((m = re.exec(s)) !== null) {
      var h = unquote(m[2]);
      var colon = h.indexOf(":");
      if (colon > 0) out.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
    }
    return out;
  }

  // normalize(raw, {defaultName, names}) -> "a=1; b=2" or null.
  // - a bare value without "=" becomes `defaultName=value` (null when no defaultName);
  // - `names` (optional) keeps only those cookies, in the order pasted;
  // - null when nothing usable is left.
  function normalize(raw, opts) {
    var o = opts || {};
    if (raw === undefined || raw === null) return null;
    var text = String(raw).trim();
    if (!text) return null;
    var curl = fromCurl(text);
    if (curl !== null) text = curl;
    text = text.replace(/^cookie\s*:\s*/i, "").trim();
    if (!text) return null;
    if (text.indexOf("=") < 0) {
      if (!o.defaultName || /[\s;]/.test(text)) return null;
      return o.defaultName + "=" + text;
    }
    var pairs = parse(text);
    if (o.names) {
      var allowed = {};
      for (var i = 0; i < o.names.length; i++) allowed[o.names[i]] = true;
      pairs = pairs.filter(function (p) { return allowed[p[0]] === true; });
    }
    if (!pairs.length) return null;
    return pairs.map(function (p) { return p[0] + "=" + p[1]; }).join("; ");
  }

  // The (first non-empty) value of cookie `name` in a "a=1; b=2" header, or
  // null. Normalise a pasted header first.
  function get(header, name) {
    var pairs = parse(header);
    for (var i = 0; i < pairs.length; i++) if (pairs[i][0] === name) return pairs[i][1];
    return null;
  }

  // The command that saves a fresh cookie from the browser for this instance.
  function importCommand() {
    return "usagestat auth import-cookies --provider " + (ctx.provider.instanceId || ctx.provider.id) + " --save";
  }

  // The pasted session: config cookieHeader, then each env var in order.
  // o: {env: [names], defaultName?, names?} -> {raw, header, source} or null.
  // `header` is the normalised Cookie header (null when nothing usable is in
  // `raw`, e.g. no cookie of `names`); `source` is "config" or "env NAME".
  function find(o) {
    var opts = o || {};
    var raw = ctx.provider.cookieHeader;
    var source = "config";
    if (raw === undefined || raw === null || String(raw).trim() === "") {
      raw = null;
      var names = opts.env || [];
      for (var i = 0; i < names.length && raw === null; i++) {
        var value = ctx.host.env.get(names[i]);
        if (value !== null && value !== undefined && String(value).trim() !== "") {
          raw = String(value);
          source = "env " + names[i];
        }
      }
    }
    if (raw === null) return null;
    return { raw: String(raw), header: normalize(raw, { defaultName: opts.defaultName, names: opts.names }), source: source };
  }

  return Object.freeze({
    parse: parse,
    normalize: normalize,
    get: get,
    find: find,
    importCommand: importCommand,
    fromCurl: fromCurl,
    curlHeaders: curlHeaders,
  });
});
