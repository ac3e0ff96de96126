// ctx.num: reading numbers that providers send as numbers or strings
// ("2048", "1,234.5"), and printing them with thousands separators (the
// engine's toLocaleString does not group digits).
__usagestat_extend("num", function (ctx) {
  "use strict";

  // A finite number from a number or numeric string, else `fallback` (null
  // when not given). Booleans, null, "" and anything non-numeric are not
  // numbers (never 0 by accident; pass 0 as fallback to sum optional fields).
  function of(value, fallback) {
    var missing = fallback === undefined ? null : fallback;
    if (typeof value === "number") return isFinite(value) ? value : missing;
    if (typeof value !== "string") return missing;
    var text = value.trim().replace(/,/g, "");
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return missing;
    var n = Number(text);
    return isFinite(n) ? n : missing;
  }

  // The first member of `obj` among `keys` that is a number (see `of`).
  function first(obj, keys) {
    if (!obj || typeof obj !== "object") return null;
    for (var i = 0; i < keys.length; i++) {
      var n = of(obj[keys[i]]);
      if (n !== null) return n;
    }
    return null;
  }

  // 1234567.891 -> "1,234,567.89" with `decimals` digits (default: 0 for
  // whole numbers, else 2).
  function grouped(value, decimals) {
    var n = ctx.util.toNumber(value);
    if (!isFinite(n)) return ctx.util.text(value, typeof value === "number" ? String(value) : "");
    var digits = decimals === undefined ? (Math.round(n) === n ? 0 : 2) : decimals;
    var text = Math.abs(n).toFixed(digits);
    var dot = text.indexOf(".");
    var whole = dot < 0 ? text : text.slice(0, dot);
    var frac = dot < 0 ? "" : text.slice(dot);
    whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (n < 0 && Number(text) !== 0 ? "-" : "") + whole + frac;
  }

  return Object.freeze({ of: of, first: first, grouped: grouped });
});
