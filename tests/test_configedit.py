"""Textual edits of one [[providers]] entry: every other byte of the file is kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from usagestat.core.config import load_config
from usagestat.core.configedit import ConfigEditError, set_provider_value, toml_string
from usagestat.core.toml import loads

CONFIG = """\
# usagestat config - hand written
refreshSec = 120  # poll every two minutes

[daemon]
port = 6736

# my Claude accounts
[[providers]]
id = "claude"             # personal
displayName = 'Claude (me)'
cookieHeader = "sessionKey=old-value" # pasted by hand
notes = \"\"\"
[[providers]]
id = "not-a-real-entry"
\"\"\"

[[providers]]
id = "claude"
instanceId = "claude-work"
  regions = [
    "eu",  # comment inside an array
    "us",
  ]
settings = { team = "core", nested = { a = 1 } }

# the next entry has a sub-table
[[providers]]
id = "cursor"
[providers.settings]
team = "x"

[notify]
warnPercent = 70
"""


def lines_of(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def entry_range(text: str, index: int) -> tuple[int, int]:
    """Line numbers [start, end) of the index-th [[providers]] entry: from its header up to
    the next [[providers]] header or top-level table (its own [providers.*] sub-tables and
    the comment lines before the next table count as inside)."""
    lines = lines_of(text)
    in_string = False
    headers: list[int] = []
    for i, line in enumerate(lines):
        if line.count('"""') % 2:
            in_string = not in_string
            continue
        if not in_string and line.lstrip().startswith("["):
            headers.append(i)
    entries = [i for i in headers if lines[i].strip() == "[[providers]]"]
    start = entries[index]
    ends = [h for h in headers if h > start and not lines[h].strip().startswith("[providers.")]
    return start, ends[0] if ends else len(lines)


def assert_only_lines_changed(before: str, after: str, start: int, end: int, added: int) -> None:
    old, new = lines_of(before), lines_of(after)
    assert new[:start] == old[:start]
    assert new[end + added :] == old[end:]
    assert "".join(new[:start]).encode() == "".join(old[:start]).encode()


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_bytes(text.encode())
    path.chmod(mode)
    return path


def test_replaces_the_value_in_place_keeping_the_comment(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    set_provider_value(path, "claude", "cookieHeader", "sessionKey=new; other=2")
    after = path.read_text()
    old_line = 'cookieHeader = "sessionKey=old-value" # pasted by hand\n'
    new_line = 'cookieHeader = "sessionKey=new; other=2" # pasted by hand\n'
    assert after == CONFIG.replace(old_line, new_line)
    assert loads(after)["providers"][0]["cookieHeader"] == "sessionKey=new; other=2"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_inserts_after_the_last_key_of_an_entry(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG, mode=0o644)
    before = path.read_bytes()
    set_provider_value(path, "claude-work", "cookieHeader", 'a="quoted"\\x')
    after = path.read_bytes()
    # bytes before the entry's last key line and after the inserted line are identical
    marker = b'settings = { team = "core", nested = { a = 1 } }\n'
    cut = before.index(marker) + len(marker)
    inserted = b'cookieHeader = "a=\\"quoted\\"\\\\x"\n'
    assert after == before[:cut] + inserted + before[cut:]
    data = loads(after.decode())
    assert data["providers"][1]["cookieHeader"] == 'a="quoted"\\x'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # tightened to 0600


def test_entry_with_a_sub_table_gets_the_key_before_it(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    before = path.read_bytes()
    set_provider_value(path, "cursor", "cookieHeader", "WorkosCursorSessionToken=abc")
    after = path.read_bytes()
    marker = b'id = "cursor"\n'
    cut = before.index(marker) + len(marker)
    assert after == before[:cut] + b'cookieHeader = "WorkosCursorSessionToken=abc"\n' + before[cut:]
    cfg = load_config(path)
    cursor = next(p for p in cfg.providers if p.id == "cursor")
    assert cursor.cookie_header == "WorkosCursorSessionToken=abc"
    assert cursor.settings == {"team": "x"}


def test_appends_a_new_entry_when_none_matches(tmp_path: Path) -> None:
    text = CONFIG.rstrip("\n")  # no trailing newline
    path = write(tmp_path, text)
    set_provider_value(path, "t3chat", "cookieHeader", "session=v")
    after = path.read_text()
    assert after == text + '\n\n[[providers]]\nid = "t3chat"\ncookieHeader = "session=v"\n'
    cfg = load_config(path)
    assert [p.instance_id for p in cfg.providers] == ["claude", "claude-work", "cursor", "t3chat"]


def test_instance_id_first_then_provider_id(tmp_path: Path) -> None:
    text = (
        '[[providers]]\nid = "claude"\ninstanceId = "work"\n\n'
        '[[providers]]\nid = "claude"\n\n'
        '[[providers]]\nid = "codex"\ninstanceId = "codex-a"\n'
    )
    path = write(tmp_path, text)
    set_provider_value(path, "claude", "cookieHeader", "one")
    set_provider_value(path, "work", "cookieHeader", "two")
    set_provider_value(path, "codex", "cookieHeader", "three")  # only by id
    data = loads(path.read_text())["providers"]
    assert [p.get("cookieHeader") for p in data] == ["two", "one", "three"]


def test_missing_file_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    set_provider_value(path, "ollama", "cookieHeader", "__Secure-session=x")
    assert path.read_text() == '[[providers]]\nid = "ollama"\ncookieHeader = "__Secure-session=x"\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_comment_only_file_keeps_its_text(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")
    set_provider_value(path, "manus", "cookieHeader", "session_id=1")
    assert path.read_text() == (
        '# nothing yet\n\n[[providers]]\nid = "manus"\ncookieHeader = "session_id=1"\n'
    )


def test_unparsable_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    text = '[[providers]]\nid = "claude"\ncookieHeader = "unterminated\n'
    path = write(tmp_path, text)
    with pytest.raises(ConfigEditError) as info:
        set_provider_value(path, "claude", "cookieHeader", "secret-cookie-value")
    assert "does not parse" in str(info.value) and "line 3" in str(info.value)
    assert "secret-cookie-value" not in str(info.value)
    assert path.read_text() == text


def test_wrong_types_are_refused(tmp_path: Path) -> None:
    text = 'refreshSec = "often"\n[[providers]]\nid = "claude"\n'
    path = write(tmp_path, text)
    with pytest.raises(ConfigEditError) as info:
        set_provider_value(path, "claude", "cookieHeader", "x=1")
    assert "refreshSec" in str(info.value)
    assert path.read_text() == text


def test_invalid_new_id_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(ConfigEditError):
        set_provider_value(path, "Not An Id", "cookieHeader", "x=1")
    assert path.read_text() == ""


def test_inline_providers_array_is_refused(tmp_path: Path) -> None:
    text = 'providers = [{ id = "claude" }]\n'
    path = write(tmp_path, text)
    with pytest.raises(ConfigEditError) as info:
        set_provider_value(path, "claude", "cookieHeader", "x=1")
    assert "by hand" in str(info.value)
    assert path.read_text() == text


@pytest.mark.parametrize(
    "value",
    ['a"b', "back\\slash", "line\nbreak\ttab", "ctrl\x01\x7f", "ünïcødé ✓", "", "'''", '"""'],
)
def test_values_round_trip(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, "[[providers]]\nid = \"x\"\ncookieHeader = 'literal'\n")
    set_provider_value(path, "x", "cookieHeader", value)
    assert loads(path.read_text())["providers"][0]["cookieHeader"] == value
    assert toml_string(value).startswith('"') and "\n" not in toml_string(value)


def test_crlf_files_stay_crlf(tmp_path: Path) -> None:
    text = '# windows\r\n[[providers]]\r\nid = "claude"\r\n\r\n[daemon]\r\nport = 1\r\n'
    path = write(tmp_path, text)
    set_provider_value(path, "claude", "cookieHeader", "a=1")
    assert (
        path.read_bytes()
        == text.replace('id = "claude"\r\n', 'id = "claude"\r\ncookieHeader = "a=1"\r\n').encode()
    )


def test_quoted_keys_and_dotted_keys(tmp_path: Path) -> None:
    text = (
        '[[providers]]\n"id" = "claude"\n"cookieHeader" = "old"\nsettings.cookieHeader = "keep"\n'
    )
    path = write(tmp_path, text)
    set_provider_value(path, "claude", "cookieHeader", "new")
    assert path.read_text() == text.replace('"cookieHeader" = "old"', '"cookieHeader" = "new"')


def test_indented_entries_keep_their_indent(tmp_path: Path) -> None:
    text = '[[providers]]\n    id = "claude"\n    enabled = true\n[daemon]\nport = 1\n'
    path = write(tmp_path, text)
    set_provider_value(path, "claude", "cookieHeader", "c=1")
    assert path.read_text() == text.replace(
        "enabled = true\n", 'enabled = true\n    cookieHeader = "c=1"\n'
    )


def test_symlinked_config_is_edited_through_the_link(tmp_path: Path) -> None:
    real = write(tmp_path, '[[providers]]\nid = "claude"\n')
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    set_provider_value(link, "claude", "cookieHeader", "v=1")
    assert link.is_symlink()
    assert 'cookieHeader = "v=1"' in real.read_text()


def test_only_bare_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(ConfigEditError):
        set_provider_value(path, "x", "a.b", "v")


def test_every_byte_outside_the_entry_is_kept(tmp_path: Path) -> None:
    """The binding check: compare the bytes before/after outside the entry's line range."""
    path = write(tmp_path, CONFIG)
    before = CONFIG
    for index, target in enumerate(["claude", "claude-work", "cursor"]):
        text = path.read_text()
        start, end = entry_range(text, index)
        had_key = any(line.startswith("cookieHeader") for line in lines_of(text)[start:end])
        set_provider_value(path, target, "cookieHeader", f"c{index}=v")
        after = path.read_text()
        assert_only_lines_changed(text, after, start, end, 0 if had_key else 1)
    assert os.stat(path).st_mode & 0o077 == 0
    assert before != path.read_text()
