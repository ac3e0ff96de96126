// JetBrains AI Assistant: the credit quota a JetBrains IDE cached in
// <config>/<IDE>/options/AIAssistantQuotaManager2.xml. No network, no tokens:
// the numbers are as fresh as the IDE's last contact with AI Assistant.
// Quota amounts are in 1e-5 credit units (scaled when they are that large);
// the refill period is an ISO-8601 duration (PT720H = 30 days).

var PROVIDER = "JetBrains AI Assistant";
var FILE = "AIAssistantQuotaManager2.xml";
var NOT_FOUND = "JetBrains AI Assistant not detected. Open a JetBrains IDE with AI Assistant enabled.";
var UNREADABLE = "JetBrains AI Assistant quota data unavailable. Open AI Assistant once and try again.";
var UNIT_SCALE = 100000;

// Config-directory prefixes and how to show them.
var PRODUCTS = [
  ["IntelliJIdeaCE", "IntelliJ IDEA CE"], ["IntelliJIdea", "IntelliJ IDEA"], ["IdeaIC", "IntelliJ IDEA CE"],
  ["PyCharmCE", "PyCharm CE"], ["PyCharm", "PyCharm"], ["AndroidStudio", "Android Studio"], ["Aqua", "Aqua"],
  ["CLion", "CLion"], ["DataGrip", "DataGrip"], ["DataSpell", "DataSpell"], ["GoLand", "GoLand"],
  ["PhpStorm", "PhpStorm"], ["Rider", "Rider"], ["RubyMine", "RubyMine"], ["RustRover", "RustRover"],
  ["WebStorm", "WebStorm"], ["Writerside", "Writerside"],
];

function ideName(dirName) {
  for (var i = 0; i < PRODUCTS.length; i++) {
    var prefix = PRODUCTS[i][0];
    if (dirName.indexOf(prefix) === 0) {
      var version = /(\d{4}\.\d+)/.exec(dirName.slice(prefix.length));
      if (version) return PRODUCTS[i][1] + " " + version[1];
    }
  }
  return null;
}

// ISO-8601 duration (PnW, PnD, PTnH, PTnM, PTnS and combinations) -> ms.
function durationMs(text) {
  var m = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
    String(text || "").trim()
  );
  if (!m || text === "P" || text === "PT") return null;
  var ms = (Number(m[1] || 0) * 7 * 86400 + Number(m[2] || 0) * 86400 + Number(m[3] || 0) * 3600 +
    Number(m[4] || 0) * 60 + Number(m[5] || 0)) * 1000;
  return ms > 0 ? ms : null;
}

function safe(fn, fallback) {
  try { return fn(); } catch (e) { return fallback; }
}

// Every quota file: [{path, ide}] from config settings.path or the JetBrains config dirs.
function findFiles(ctx) {
  var explicit = ctx.provider.settings && ctx.provider.settings.path;
  if (explicit) {
    var p = String(explicit).replace(/[\\/]+$/, "");
    if (!/\.xml$/i.test(p)) p = /[\\/]options$/.test(p) ? p + "/" + FILE : p + "/options/" + FILE;
    var dir = p.split(/[\\/]/).slice(-3, -2)[0] || "";
    return safe(function () { return ctx.host.fs.exists(p); }, false) ? [{ path: p, ide: ideName(dir) }] : [];
  }
  var out = [];
  var roots = ctx.vscode.appDataRoots();
  for (var r = 0; r < roots.length; r++) {
    var bases = [ctx.vscode.join(roots[r], "JetBrains"), ctx.vscode.join(roots[r], "Google")];
    for (var b = 0; b < bases.length; b++) {
      var names = safe(function () { return ctx.host.fs.listDir(bases[b]); }, []);
      for (var n = 0; n < names.length; n++) {
        var ide = ideName(names[n]);
        if (!ide) continue;
        var file = ctx.vscode.join(bases[b], names[n] + "/options/" + FILE);
        if (safe(function () { return ctx.host.fs.exists(file); }, false)) out.push({ path: file, ide: ide });
      }
    }
  }
  return out;
}

function readOptions(ctx, path) {
  var xml = ctx.host.fs.readText(path);
  var out = {};
  var components = ctx.text.elements(xml, "component");
  for (var c = 0; c < components.length; c++) {
    if (components[c].attrs.name !== "AIAssistantQuotaManager2") continue;
    var options = ctx.text.elements(components[c].inner, "option");
    for (var o = 0; o < options.length; o++) {
      var value = ctx.util.tryParseJson(options[o].attrs.value);
      if (options[o].attrs.name && value && typeof value === "object") out[options[o].attrs.name] = value;
    }
  }
  return out;
}

function load(ctx, entry) {
  var options = safe(function () { return readOptions(ctx, entry.path); }, null);
  if (!options || !options.quotaInfo) return null;
  var stat = safe(function () { return ctx.host.fs.stat(entry.path); }, null);
  var refill = options.nextRefill || {};
  return {
    ide: entry.ide,
    quota: options.quotaInfo,
    refill: refill,
    mtimeMs: stat && stat.mtimeMs ? stat.mtimeMs : 0,
    // Newest data first: the later refill/until date wins, then the newer file.
    rank: ctx.util.parseDateMs(refill.next) || ctx.util.parseDateMs(options.quotaInfo.until) || 0,
  };
}

function toResult(ctx, best) {
  var q = best.quota;
  var tariff = q.tariffQuota || {};
  var topUp = q.topUpQuota || {};
  var current = ctx.num.of(q.current);
  var maximum = ctx.num.of(q.maximum);
  if (maximum === null && ctx.num.of(tariff.maximum) !== null) maximum = ctx.num.of(tariff.maximum) + (ctx.num.of(topUp.maximum) || 0);
  if (current === null && ctx.num.of(tariff.current) !== null) current = ctx.num.of(tariff.current) + (ctx.num.of(topUp.current) || 0);
  if (current === null || maximum === null || maximum <= 0) ctx.util.fail("failed", UNREADABLE);
  var available = ctx.num.of(q.available);
  if (available === null && (ctx.num.of(tariff.available) !== null || ctx.num.of(topUp.available) !== null)) {
    available = (ctx.num.of(tariff.available) || 0) + (ctx.num.of(topUp.available) || 0);
  }
  // Amounts this large are 1e-5 credit units (the IDE shows e.g. 1000 credits as 100000000).
  var scale = Math.max(Math.abs(maximum), Math.abs(current)) >= UNIT_SCALE ? UNIT_SCALE : 1;
  var period = durationMs(best.refill.tariff && best.refill.tariff.duration);
  var lines = [
    ctx.line.progress({
      label: "Quota",
      used: ctx.util.clampPercent((current / maximum) * 100),
      limit: 100,
      format: { kind: "percent" },
      resetsAt: ctx.util.toIso(best.refill.next) || undefined,
      periodDurationMs: period || undefined,
    }),
    ctx.line.text({ label: "Used", value: ctx.num.grouped(current / scale) + " / " + ctx.num.grouped(maximum / scale) + " credits", detail: true }),
  ];
  if (available !== null) lines.push(ctx.line.text({ label: "Remaining", value: ctx.num.grouped(available / scale) + " credits", detail: true }));
  if (best.ide) lines.push(ctx.line.text({ label: "IDE", value: best.ide, detail: true }));
  if (best.mtimeMs) {
    var iso = new Date(best.mtimeMs).toISOString();
    lines.push(ctx.line.text({ label: "Updated", value: iso.slice(0, 10) + " " + iso.slice(11, 16) + " UTC", detail: true }));
  }
  return { source: "local", metrics: lines };
}

globalThis.__usagestat_plugin = {
  id: "jetbrains-ai-assistant",
  probe: function (ctx) {
    var files = findFiles(ctx);
    if (!files.length) ctx.util.fail("missing-auth", NOT_FOUND);
    var best = null;
    for (var i = 0; i < files.length; i++) {
      var data = load(ctx, files[i]);
      if (!data) {
        ctx.host.log.warn("jetbrains-ai-assistant: no quota in " + files[i].path);
        continue;
      }
      if (!best || data.rank > best.rank || (data.rank === best.rank && data.mtimeMs > best.mtimeMs)) best = data;
    }
    if (!best) ctx.util.fail("failed", UNREADABLE);
    return toResult(ctx, best);
  },
};
