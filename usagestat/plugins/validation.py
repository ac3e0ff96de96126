"""``plugin validate``: every problem of a plugin folder, with the file it is in."""

from __future__ import annotations

import re
from typing import Any

from usagestat.core.models import PluginValidation, ValidationProblem

from .discovery import BrokenPlugin, load_plugin


def _check_icon(
    folder: Any, name: str, problems: list[ValidationProblem], *, required: bool
) -> None:
    path = folder / name
    where = str(path)
    try:
        if not path.is_file():
            if required:
                problems.append(
                    ValidationProblem(
                        "warning", where, f"{name} is missing (icons are shown by list and widgets)"
                    )
                )
            return
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ValidationProblem("error", where, f"cannot read {name}: {exc}"))
        return
    head = re.sub(r"<\?xml[^>]*>|<!--.*?-->|<!DOCTYPE[^>]*>", "", text, flags=re.S).lstrip()
    if not head.startswith("<svg"):
        problems.append(ValidationProblem("error", where, f"{name} is not an SVG document"))
        return
    try:
        import xml.etree.ElementTree as ET

        ET.fromstring(text)
    except ET.ParseError as exc:
        problems.append(ValidationProblem("error", where, f"{name} is not well-formed XML: {exc}"))
        return
    if re.search(r"<script|on[a-z]+\s*=", text, flags=re.I):
        problems.append(
            ValidationProblem("error", where, f"{name} contains scripts or event handlers")
        )
    if name == "icon.svg" and "currentColor" not in text:
        problems.append(
            ValidationProblem(
                "warning", where, "icon.svg should draw with currentColor (monochrome)"
            )
        )


def validate_folder(folder: Any, origin: str = "cli") -> PluginValidation:
    from .runtime import check_script

    loaded = load_plugin(folder, origin)
    if isinstance(loaded, BrokenPlugin):
        return PluginValidation(
            id=loaded.id, path=str(folder), valid=False, problems=list(loaded.problems)
        )
    problems = list(loaded.problems)
    manifest = loaded.manifest
    script_file = str(loaded.script_path)
    try:
        script = loaded.read_script()
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ValidationProblem("error", script_file, f"cannot read the script: {exc}"))
    else:
        if "\x00" in script:
            problems.append(
                ValidationProblem("error", script_file, "the script contains a NUL byte")
            )
        else:
            problem = check_script(script, script_file, manifest.id)
            if problem:
                problems.append(ValidationProblem("error", script_file, problem))
    _check_icon(folder, "icon.svg", problems, required=True)
    _check_icon(folder, "icon-color.svg", problems, required=False)
    valid = not any(p.level == "error" for p in problems)
    return PluginValidation(id=manifest.id, path=str(folder), valid=valid, problems=problems)
