"""Licence notices of the third-party code usagestat ships (``--version --verbose``)."""

from __future__ import annotations

NOTICES = (
    ("QuickJS-ng engine (MIT)", "quickjs-ng-engine.txt"),
    ("quickjs-ng Python binding (MIT)", "quickjs-ng-python.txt"),
    ("tomli TOML reader (MIT)", "tomli.txt"),
)


def notices() -> list[tuple[str, str]]:
    from usagestat.plugins.resources import package_dir

    folder = package_dir() / "licenses"
    return [(title, (folder / name).read_text(encoding="utf-8")) for title, name in NOTICES]
