// ctx.cookies: reading a pasted Cookie header. Users copy it from the
// browser's network panel, sometimes with the "Cookie:" prefix or as a whole
// cURL command; normalize() keeps only the name=value pairs.
__usagestat_extend("cookies", function (ctx) {
  "use strict";

  function normalize(header) {
    if (header === null || header === undefined) return "";
    var text = String(header).trim();
    // A cURL command: take the -H 'Cookie: ...' or -b '...' argument.
    var curl = /(?:-H|--header)\s+(['"])cookie:\s*([\s\S]*?)\1/i.exec(text) ||
      /(?:-b|--cookie)\s+(['"])([\s\S]*?)\1/.exec(text);
    if (curl) text = curl[2];
    return text.replace(/^cookie:\s*/i, "").replace(/[\r\n]+/g, " ").trim();
  }

  // [[name, value], ...] in header order.
  function parse(header) {
    var out = [];
    var parts = normalize(header).split(";");
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].trim();
      var eq = part.indexOf("=");
      if (eq <= 0) continue;
      out.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
    return out;
  }

  // The last non-empty value of a cookie (browsers send the most specific
  // path last when names repeat), or null.
  function get(header, name) {
    var pairs = parse(header);
    var found = null;
    for (var i = 0; i < pairs.length; i++) {
      if (pairs[i][0] === name && pairs[i][1] !== "") found = pairs[i][1];
    }
    return found;
  }

  return Object.freeze({ normalize: normalize, parse: parse, get: get });
});
