// ctx.amounts: money as balance and billing APIs send it (lower-case,
// aliased or missing currency codes) turned into text and progress-line
// formats in the right currency (SPEC §2.1: a dollars-format line carries
// `currency` when it is not USD). Numbers sent as strings: ctx.num.of.
__usagestat_extend("amounts", function (ctx) {
  "use strict";

  var ALIASES = { RMB: "CNY", YUAN: "CNY", "$": "USD", US$: "USD", "€": "EUR" };

  // An ISO 4217 code from "usd", "CNY", "rmb" ...; `fallback` when blank or odd.
  function code(raw, fallback) {
    var text = ctx.util.text(raw).trim().toUpperCase();
    if (ALIASES[text]) return ALIASES[text];
    if (/^[A-Z]{3}$/.test(text)) return text;
    return fallback || "USD";
  }

  // "$12.34", "¥5.00", "−$3.10" (a real minus sign before the symbol),
  // "12.00 CHF"; opts.approx prefixes "~" for estimates.
  function text(amount, currency, opts) {
    var n = ctx.util.toNumber(amount);
    var negative = n < 0 && Number(Math.abs(n).toFixed(2)) !== 0;
    return (negative ? "\u2212" : "") + (opts && opts.approx ? "~" : "") + ctx.fmt.money(Math.abs(n), code(currency));
  }

  // The progress-line format for money in `currency`.
  function format(currency) {
    var cur = code(currency);
    return cur === "USD" ? { kind: "dollars" } : { kind: "dollars", currency: cur };
  }

  return Object.freeze({ code: code, text: text, format: format });
});
