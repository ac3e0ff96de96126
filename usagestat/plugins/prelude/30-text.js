// ctx.text: helpers for providers whose data arrives as HTML or XML
// (Ollama's settings page, JetBrains' quota XML).
__usagestat_extend("text", function () {
  "use strict";
  var NAMED = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", "#39": "'" };

  function decodeEntities(s) {
    return String(s === undefined || s === null ? "" : s).replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, function (m, code) {
      if (code[0] === "#") {
        var n = code[1] === "x" || code[1] === "X" ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10);
        return isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : m;
      }
      var v = NAMED[code.toLowerCase()];
      return v === undefined ? m : v;
    });
  }

  function stripTags(html) {
    return decodeEntities(
      String(html || "")
        .replace(/<script[\s\S]*?<\/script>/gi, " ")
        .replace(/<style[\s\S]*?<\/style>/gi, " ")
        .replace(/<[^>]+>/g, " ")
    )
      .replace(/\s+/g, " ")
      .trim();
  }

  // Attributes of the first tag matching `name` with attribute filter {attr: value}.
  function xmlAttributes(tagText) {
    var attrs = {};
    var re = /([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g;
    var m;
    while ((m = re.exec(tagText))) attrs[m[1]] = decodeEntities(m[3] !== undefined ? m[3] : m[4]);
    return attrs;
  }

  // Every <name ...> element (opening or self-closing) as {attrs, inner}.
  function elements(xml, name) {
    var out = [];
    var re = new RegExp("<" + name + "(\\s[^>]*?)?(/>|>([\\s\\S]*?)</" + name + ">)", "g");
    var m;
    while ((m = re.exec(String(xml || "")))) out.push({ attrs: xmlAttributes(m[1] || ""), inner: m[3] || "" });
    return out;
  }

  return Object.freeze({ decodeEntities: decodeEntities, stripTags: stripTags, elements: elements, attributes: xmlAttributes });
});
