"""The prelude: extension namespaces are unique and load only when a plugin needs them."""

from __future__ import annotations

from collections import Counter

from usagestat.plugins.runtime import prelude_files, prelude_source


def test_namespaces_are_unique() -> None:
    spaces = Counter(space for _name, _text, found in prelude_files() for space in found)
    duplicated = [space for space, count in spaces.items() if count > 1]
    assert duplicated == [], f"two prelude files register the same ctx namespace: {duplicated}"


def test_core_file_defines_no_extension() -> None:
    name, _text, spaces = prelude_files()[0]
    assert name.startswith("00-") and spaces == ()


def test_extensions_load_on_demand() -> None:
    files = {name: spaces for name, _text, spaces in prelude_files()}
    bare = prelude_source("globalThis.__usagestat_plugin = {id: 'x', probe: function (ctx) {}};")
    full = prelude_source(None)
    assert len(bare) < len(full)
    for _name, text, spaces in prelude_files():
        for space in spaces:
            chosen = prelude_source(f"var x = ctx.{space};")
            assert text in chosen, f"{space} not loaded when mentioned"
    assert files  # sanity


def test_every_extension_evaluates(tmp_path) -> None:
    import _quickjs

    context = _quickjs.Context()
    context.add_callable("__host", lambda _name, _args: '{"value": null}')
    context.eval(prelude_source(None))
