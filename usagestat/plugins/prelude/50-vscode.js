// ctx.vscode: where VS Code-style editors (Cursor, Windsurf, Kiro, Devin ...)
// keep their user data, and reads of their `state.vscdb` key/value store.
//
// Every directory helper returns candidates in the documented order for the
// running platform; the plugin must declare the matching `fs` roots (and
// `APPDATA` / `XDG_CONFIG_HOME` in `permissions.env` to honour those variables).
__usagestat_extend("vscode", function (ctx) {
  "use strict";

  // An env var the plugin may not have declared: undeclared or unset -> null.
  function optionalEnv(name) {
    try {
      var value = ctx.host.env.get(name);
      return value ? String(value) : null;
    } catch (e) {
      return null;
    }
  }

  function join(dir, name) {
    return String(dir).replace(/[\\/]+$/, "") + "/" + name;
  }

  function unique(list) {
    var out = [];
    for (var i = 0; i < list.length; i++) if (list[i] && out.indexOf(list[i]) < 0) out.push(list[i]);
    return out;
  }

  // The per-user application-data roots: ~/.config (Linux, or $XDG_CONFIG_HOME),
  // ~/Library/Application Support (macOS), %APPDATA% / ~/AppData/Roaming (Windows).
  function appDataRoots() {
    var platform = ctx.app.platform;
    if (platform === "macos") return ["~/Library/Application Support"];
    if (platform === "windows") return unique([optionalEnv("APPDATA"), "~/AppData/Roaming"]);
    return unique([optionalEnv("XDG_CONFIG_HOME"), "~/.config"]);
  }

  // <root>/<appName> for every root, e.g. userDirs("Cursor").
  function userDirs(appName) {
    return appDataRoots().map(function (root) { return join(root, appName); });
  }

  // Every <root>/<app>/User/globalStorage/state.vscdb candidate for the app names given.
  function stateDbCandidates(appNames) {
    var names = typeof appNames === "string" ? [appNames] : appNames;
    var out = [];
    for (var i = 0; i < names.length; i++) {
      var dirs = userDirs(names[i]);
      for (var j = 0; j < dirs.length; j++) {
        out.push({ app: names[i], path: join(dirs[j], "User/globalStorage/state.vscdb") });
      }
    }
    return out;
  }

  function existingStateDbs(appNames) {
    return stateDbCandidates(appNames).filter(function (c) {
      try { return ctx.host.fs.exists(c.path); } catch (e) { return false; }
    });
  }

  function sqlString(text) {
    return "'" + String(text).replace(/'/g, "''") + "'";
  }

  // Values may be stored JSON-quoted ("\"abc\""); return the plain string.
  function unquote(value) {
    if (typeof value !== "string") return value === undefined || value === null ? null : String(value);
    var text = value.trim();
    if (text.length >= 2 && text[0] === '"' && text[text.length - 1] === '"') {
      try {
        var parsed = JSON.parse(text);
        if (typeof parsed === "string") return parsed;
      } catch (e) { /* keep as is */ }
    }
    return text;
  }

  // {key: value} for the keys present in ItemTable. Throws a host error when
  // the database cannot be read (locked beyond copying, corrupt, permission).
  function readItems(dbPath, keys) {
    var sql = "SELECT key, value FROM ItemTable WHERE key IN (" + keys.map(sqlString).join(", ") + ")";
    var rows = JSON.parse(ctx.host.sqlite.query(dbPath, sql));
    var out = {};
    for (var i = 0; i < rows.length; i++) {
      if (rows[i] && typeof rows[i].key === "string" && rows[i].value !== null && rows[i].value !== undefined) {
        out[rows[i].key] = String(rows[i].value);
      }
    }
    return out;
  }

  function readItem(dbPath, key) {
    var items = readItems(dbPath, [key]);
    return Object.prototype.hasOwnProperty.call(items, key) ? items[key] : null;
  }

  return Object.freeze({
    optionalEnv: optionalEnv,
    join: join,
    appDataRoots: appDataRoots,
    userDirs: userDirs,
    stateDbCandidates: stateDbCandidates,
    existingStateDbs: existingStateDbs,
    readItems: readItems,
    readItem: readItem,
    unquote: unquote,
  });
});
