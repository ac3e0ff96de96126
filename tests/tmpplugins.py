"""Write throw-away plugins for tests: ``make_plugin(tmp_path, "id", "js source")``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NO_PERMISSIONS: dict[str, list[str]] = {
    "http": [],
    "env": [],
    "fs": [],
    "fsWrite": [],
    "commands": [],
    "keychain": [],
}


def make_plugin(
    root: Path,
    plugin_id: str,
    probe_body: str | None = None,
    *,
    script: str | None = None,
    permissions: dict[str, list[str]] | None = None,
    manifest: dict[str, Any] | None = None,
    folder: str | None = None,
) -> Path:
    """A plugin folder under ``root``. ``probe_body`` is the body of ``probe(ctx)``."""
    path = root / (folder or plugin_id)
    path.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "id": plugin_id,
        "name": plugin_id.replace("-", " ").title(),
        "entry": "plugin.js",
        "supportedModes": ["api"],
        "permissions": permissions if permissions is not None else dict(NO_PERMISSIONS),
    }
    data.update(manifest or {})
    (path / "plugin.json").write_text(json.dumps(data), encoding="utf-8")
    if script is None:
        script = (
            "globalThis.__usagestat_plugin = {{id: {}, probe: function (ctx) {{\n{}\n}}}};".format(
                json.dumps(plugin_id), probe_body or "return {metrics: []};"
            )
        )
    (path / "plugin.js").write_text(script, encoding="utf-8")
    (path / "icon.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><path d="M0 0h8v8H0z" fill="currentColor"/></svg>',
        encoding="utf-8",
    )
    return path


OK_PROBE = (
    "return {metrics: [ctx.line.progress({label: 'Session', used: 25, limit: 100, "
    "format: {kind: 'percent'}})]};"
)
