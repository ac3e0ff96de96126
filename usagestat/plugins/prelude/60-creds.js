// ctx.creds: credential discovery shared by API-key providers (Kilo, Codebuff,
// Command Code, Warp, OpenCode Go, Kimi ...). Config values always win: the
// instance's `apiKey` first, then environment variables, then files the
// provider's own CLI writes. Every env name and file root used here must be
// declared in the plugin's permissions like any other host call.
__usagestat_extend("creds", function (ctx) {
  "use strict";

  function clean(value) {
    if (value === undefined || value === null) return null;
    var text = String(value).trim();
    return text ? text : null;
  }

  // The first set variable among `names`: {name, value} or null.
  function env(names) {
    for (var i = 0; i < names.length; i++) {
      var value = clean(ctx.host.env.get(names[i]));
      if (value) return { name: names[i], value: value };
    }
    return null;
  }

  // The trimmed value of the first set variable among `names` (one name or a
  // list), or null.
  function envValue(names) {
    var found = env(typeof names === "string" ? [names] : names);
    return found ? found.value : null;
  }

  // Read a JSON file: null when it does not exist, {text, data} otherwise.
  // A file that exists but is not JSON fails with a clear `failed` state.
  function readJson(path, what) {
    if (!ctx.host.fs.exists(path)) return null;
    var text = ctx.host.fs.readText(path);
    var data = ctx.util.tryParseJson(text);
    if (data === null || typeof data !== "object") {
      ctx.util.fail("failed", (what || path) + " is not valid JSON.");
    }
    return { text: text, data: data };
  }

  // Value at a dotted path ("default.authToken"), or undefined.
  function get(obj, path) {
    var parts = String(path).split(".");
    var cur = obj;
    for (var i = 0; i < parts.length; i++) {
      if (cur === null || cur === undefined || typeof cur !== "object") return undefined;
      cur = cur[parts[i]];
    }
    return cur;
  }

  // The first non-empty string found at one of `paths` in `obj`.
  function pick(obj, paths) {
    for (var i = 0; i < paths.length; i++) {
      var value = get(obj, paths[i]);
      if (typeof value === "string" && clean(value)) return clean(value);
    }
    return null;
  }

  // Resolve an API key: config apiKey, then env (in order), then files (in
  // order; each {path, fields:[dotted paths]}). Returns {value, source} where
  // source is "config", "env NAME" or the file path; null when nothing is set.
  function apiKey(opts) {
    var o = opts || {};
    var configured = clean(ctx.provider.apiKey);
    if (configured) return { value: configured, source: "config" };
    var fromEnv = env(o.env || []);
    if (fromEnv) return { value: fromEnv.value, source: "env " + fromEnv.name };
    var files = o.files || [];
    for (var i = 0; i < files.length; i++) {
      var file = readJson(files[i].path);
      if (!file) continue;
      var value = pick(file.data, files[i].fields || []);
      if (value) return { value: value, source: files[i].path };
    }
    return null;
  }

  // $XDG_DATA_HOME when set to an absolute path, else ~/.local/share. Tools
  // built on xdg-basedir (OpenCode, Kilo CLI) use this on every OS, Windows
  // included. The plugin must declare XDG_DATA_HOME in permissions.env.
  function xdgDataHome() {
    var value = clean(ctx.host.env.get("XDG_DATA_HOME"));
    if (value && (value[0] === "/" || /^[A-Za-z]:[\\/]/.test(value))) return value.replace(/[\\/]+$/, "");
    return "~/.local/share";
  }

  return Object.freeze({
    env: env,
    envValue: envValue,
    readJson: readJson,
    get: get,
    pick: pick,
    apiKey: apiKey,
    xdgDataHome: xdgDataHome,
  });
});
