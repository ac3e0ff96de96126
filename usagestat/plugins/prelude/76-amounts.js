// ctx.amounts: money as balance and billing APIs send it (floats, decimal
// strings, lower-case or missing currency codes) turned into text and
// progress-line formats in the right currency (SPEC §2.1: a dollars-format
// line carries `currency` when it is not USD).
__usagestat_extend("amounts", function (ctx) {
  "use strict";

  var ALIASES = { RMB: "CNY", YUAN: "CNY", "¥": "CNY", "$": "USD", US$: "USD", "€": "EUR" };

  // An ISO 4217 code from "usd", "CNY", "rmb" ...; `fallback` when blank or odd.
  function code(raw, fallback) {
    var text = raw === undefined || raw === null ? "" : String(raw).trim().toUpperCase();
    if (ALIASES[text]) return ALIASES[text];
    if (/^[A-Z]{3}$/.test(text)) return text;
    return fallback || "USD";
  }

  // A number from a float or a decimal string ("12.34", "1,234.5"), else null.
  function of(value) {
    if (typeof value === "number") return isFinite(value) ? value : null;
    if (typeof value !== "string") return null;
    var text = value.trim().replace(/,/g, "");
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
    var n = Number(text);
    return isFinite(n) ? n : null;
  }

  // "$12.34", "¥5.00", "−$3.10" (a real minus sign before the symbol), "12.00 CHF".
  function text(amount, currency, opts) {
    var o = opts || {};
    var n = Number(amount);
    var cur = code(currency);
    var digits = o.digits === undefined ? 2 : o.digits;
    var body = ctx.fmt.money(Math.abs(n), cur);
    if (digits !== 2) body = body.replace(/\d+\.\d{2}/, Math.abs(n).toFixed(digits));
    var rounded = Number(Math.abs(n).toFixed(digits));
    return (n < 0 && rounded !== 0 ? "\u2212" : "") + (o.approx ? "~" : "") + body;
  }

  // The progress-line format for money in `currency`.
  function format(currency) {
    var cur = code(currency);
    return cur === "USD" ? { kind: "dollars" } : { kind: "dollars", currency: cur };
  }

  return Object.freeze({ code: code, of: of, text: text, format: format });
});
