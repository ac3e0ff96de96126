"""Edit one value of one ``[[providers]]`` entry of the config file, as text (SPEC §4).

``set_provider_value(path, "claude-work", "cookieHeader", header)`` is what
``usagestat auth import-cookies --save`` calls. The file is a user's document,
so the edit is surgical:

* only the target entry changes: an existing ``key = …`` line of that entry
  gets its value replaced (the key as written, the whitespace and any trailing
  comment stay), or a new ``key = "…"`` line is inserted after the entry's last
  key (before its sub-tables and before comments that precede the next table);
  every other byte - comments, blank lines, quoting style, line endings - is
  kept;
* the target is the entry whose ``instanceId`` (else, when it has none, its
  ``id``) equals the argument; failing that, the first entry whose ``id``
  equals it (the same rule as a command-line ID, SPEC §4); when none matches,
  a new ``[[providers]]`` entry with ``id = "<argument>"`` is appended;
* the value is written as a TOML basic string (quotes, backslashes and
  control characters escaped);
* the result must parse, must hold exactly the old data plus the new value (a
  check that nothing else moved), and must load like the config loader would
  (types, ids) before it atomically replaces the file, mode 0600. A missing
  file is created (mode 0600, its directory 0700). A file that does not parse
  before the edit is refused with a clear error, never rewritten.
"""

from __future__ import annotations

import copy
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ConfigEditError", "set_provider_value", "toml_string"]

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class ConfigEditError(Exception):
    """The config cannot be edited safely (message says why; it never contains the value)."""


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string literal."""
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


# -- a statement-level TOML scanner ----------------------------------------------------
#
# It does not evaluate values: it finds where each table header and key/value
# pair starts and ends (multi-line strings and arrays included), which is all
# a textual edit needs. The parsed data (tomllib) says what the values are.


@dataclass
class _Header:
    keys: tuple[str, ...]
    array: bool
    line_start: int
    end: int  # just past the header line's newline (or EOF)


@dataclass
class _KeyValue:
    keys: tuple[str, ...]
    line_start: int
    value_start: int
    value_end: int
    end: int  # just past the statement's last line's newline (or EOF)
    header: int  # index of the governing header, -1 = top level


@dataclass
class _Document:
    headers: list[_Header] = field(default_factory=list)
    pairs: list[_KeyValue] = field(default_factory=list)


class _ScanError(Exception):
    pass


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)

    def _ws(self, i: int) -> int:
        while i < self.n and self.s[i] in " \t":
            i += 1
        return i

    def _ws_nl_comments(self, i: int) -> int:
        while i < self.n:
            c = self.s[i]
            if c in " \t\r\n":
                i += 1
            elif c == "#":
                i = self._line_end(i)
            else:
                break
        return i

    def _line_end(self, i: int) -> int:
        """Index of the newline ending this line (or EOF)."""
        j = self.s.find("\n", i)
        return self.n if j < 0 else j

    def _after_line(self, i: int) -> int:
        """From ``i``: optional whitespace and comment, then past the newline."""
        i = self._ws(i)
        if i < self.n and self.s[i] == "#":
            i = self._line_end(i)
        if i < self.n and self.s[i] == "\r":
            i += 1
        if i < self.n:
            if self.s[i] != "\n":
                raise _ScanError(f"unexpected text at offset {i}")
            i += 1
        return i

    def _basic(self, i: int) -> tuple[str, int]:
        j = i + 1
        while j < self.n:
            c = self.s[j]
            if c == "\\":
                j += 2
                continue
            if c == '"':
                raw = self.s[i + 1 : j]
                return _unescape(raw), j + 1
            if c == "\n":
                break
            j += 1
        raise _ScanError("unterminated string")

    def _literal(self, i: int) -> tuple[str, int]:
        j = self.s.find("'", i + 1)
        if j < 0 or "\n" in self.s[i + 1 : j]:
            raise _ScanError("unterminated string")
        return self.s[i + 1 : j], j + 1

    def _multiline(self, i: int, quote: str) -> int:
        delim = quote * 3
        j = i + 3
        while True:
            k = j
            if quote == '"':
                while k < self.n and self.s[k] != '"':
                    k += 2 if self.s[k] == "\\" else 1
                if k >= self.n:
                    raise _ScanError("unterminated string")
            else:
                k = self.s.find("'", j)
                if k < 0:
                    raise _ScanError("unterminated string")
            if self.s.startswith(delim, k):
                end = k + 3
                extra = 0
                while extra < 2 and end < self.n and self.s[end] == quote:
                    end += 1
                    extra += 1
                return end
            j = k + 1

    def _key(self, i: int) -> tuple[tuple[str, ...], int]:
        parts: list[str] = []
        while True:
            i = self._ws(i)
            if i >= self.n:
                raise _ScanError("key expected")
            c = self.s[i]
            if c == '"':
                part, i = self._basic(i)
            elif c == "'":
                part, i = self._literal(i)
            else:
                m = re.compile(r"[A-Za-z0-9_-]+").match(self.s, i)
                if not m:
                    raise _ScanError(f"key expected at offset {i}")
                part, i = m.group(0), m.end()
            parts.append(part)
            i = self._ws(i)
            if i < self.n and self.s[i] == ".":
                i += 1
                continue
            return tuple(parts), i

    def _value(self, i: int) -> int:
        if self.s.startswith('"""', i):
            return self._multiline(i, '"')
        if self.s.startswith("'''", i):
            return self._multiline(i, "'")
        c = self.s[i] if i < self.n else ""
        if c == '"':
            return self._basic(i)[1]
        if c == "'":
            return self._literal(i)[1]
        if c == "[":
            i += 1
            while True:
                i = self._ws_nl_comments(i)
                if i >= self.n:
                    raise _ScanError("unterminated array")
                if self.s[i] == "]":
                    return i + 1
                i = self._value(i)
                i = self._ws_nl_comments(i)
                if i < self.n and self.s[i] == ",":
                    i += 1
        if c == "{":
            i += 1
            while True:
                i = self._ws_nl_comments(i)
                if i >= self.n:
                    raise _ScanError("unterminated inline table")
                if self.s[i] == "}":
                    return i + 1
                _keys, i = self._key(i)
                if i >= self.n or self.s[i] != "=":
                    raise _ScanError("'=' expected")
                i = self._value(self._ws(i + 1))
                i = self._ws_nl_comments(i)
                if i < self.n and self.s[i] == ",":
                    i += 1
        m = re.compile(r"[^,\]\}#\r\n]+").match(self.s, i)
        if not m:
            raise _ScanError(f"value expected at offset {i}")
        end = m.end()
        while end > i and self.s[end - 1] in " \t":
            end -= 1
        return end

    def scan(self) -> _Document:
        doc = _Document()
        i = 0
        while i < self.n:
            line_start = i
            i = self._ws(i)
            if i >= self.n:
                break
            c = self.s[i]
            if c in "\r\n" or c == "#":
                i = self._after_line(i)
                continue
            if c == "[":
                array = self.s.startswith("[[", i)
                keys, j = self._key(i + (2 if array else 1))
                close = "]]" if array else "]"
                if not self.s.startswith(close, j):
                    raise _ScanError("bad table header")
                end = self._after_line(j + len(close))
                doc.headers.append(_Header(keys, array, line_start, end))
                i = end
                continue
            keys, j = self._key(i)
            if j >= self.n or self.s[j] != "=":
                raise _ScanError(f"'=' expected at offset {j}")
            value_start = self._ws(j + 1)
            value_end = self._value(value_start)
            end = self._after_line(value_end)
            doc.pairs.append(
                _KeyValue(keys, line_start, value_start, value_end, end, len(doc.headers) - 1)
            )
            i = end
        return doc


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    import json

    try:
        return json.loads('"' + raw.replace("\\e", "\\u001b") + '"')
    except ValueError:
        return raw


# -- the edit ---------------------------------------------------------------------------


def _canon(value: Any) -> Any:
    """Data in a form where equal documents compare equal (NaN == NaN)."""
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return value


def _effective_instance(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return None
    return entry.get("instanceId", entry.get("id"))


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _edit(text: str, data: dict[str, Any], target: str, key: str, literal: str) -> tuple[str, int]:
    """The edited text and the index of the entry edited (== len(providers) when appended)."""
    providers = data.get("providers", [])
    if not isinstance(providers, list) or not all(isinstance(p, dict) for p in providers):
        raise ConfigEditError("`providers` is not an array of tables ([[providers]])")
    try:
        doc = _Scanner(text).scan()
    except _ScanError as exc:
        raise ConfigEditError(f"cannot locate the entries in the file ({exc})") from None
    except RecursionError:  # arrays nested deeper than the scanner follows
        raise ConfigEditError("cannot locate the entries in the file (nesting too deep)") from None
    entry_headers = [
        index for index, h in enumerate(doc.headers) if h.array and h.keys == ("providers",)
    ]
    if len(entry_headers) != len(providers):
        raise ConfigEditError(
            "the [[providers]] entries are not all written as [[providers]] tables "
            "(an inline `providers = [...]` array?); edit the file by hand"
        )
    index = next((k for k, p in enumerate(providers) if _effective_instance(p) == target), None)
    if index is None:
        index = next((k for k, p in enumerate(providers) if p.get("id") == target), None)
    nl = _newline(text)
    if index is None:
        block = f"[[providers]]{nl}id = {toml_string(target)}{nl}{key} = {literal}{nl}"
        if not text:
            return block, len(providers)
        prefix = text if text.endswith("\n") else text + nl
        return prefix + (nl if text.strip() else "") + block, len(providers)
    header_index = entry_headers[index]
    header = doc.headers[header_index]
    own = [p for p in doc.pairs if p.header == header_index]
    existing = [p for p in own if p.keys == (key,)]
    if existing:
        pair = existing[0]
        return text[: pair.value_start] + literal + text[pair.value_end :], index
    anchor = own[-1] if own else None
    at = anchor.end if anchor else header.end
    source = anchor.line_start if anchor else header.line_start
    indent = text[source : source + len(text[source:]) - len(text[source:].lstrip(" \t"))]
    line = f"{indent}{key} = {literal}{nl}"
    if at > 0 and not text[:at].endswith("\n"):
        line = nl + line
    return text[:at] + line + text[at:], index


def set_provider_value(
    path: str | os.PathLike[str], instance_or_id: str, key: str, value: str
) -> None:
    """Set ``key = value`` in the ``[[providers]]`` entry named ``instance_or_id`` (see module doc)."""
    from . import config as config_mod
    from .atomicio import atomic_write_text
    from .toml import TOMLDecodeError, loads

    if not BARE_KEY.match(key):
        raise ConfigEditError(f"cannot write key {key!r}: only bare keys are supported")
    if not isinstance(value, str):
        raise ConfigEditError(f"{key} must be a string")
    given = Path(path).expanduser()
    target_path = Path(os.path.realpath(given))
    try:
        original_bytes = target_path.read_bytes()
    except FileNotFoundError:
        original_bytes = None
    except IsADirectoryError:
        raise ConfigEditError(f"{given} is a directory, not a config file") from None
    if original_bytes is None:
        text = ""
    else:
        try:
            text = original_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigEditError(
                f"{given} is not valid UTF-8 (byte {exc.start}); fix it before saving"
            ) from None
    try:
        data = loads(text)
    except TOMLDecodeError as exc:
        raise ConfigEditError(
            f"{given} does not parse ({config_mod._toml_message(exc)}); it was left unchanged - "
            "fix it first (`usagestat config validate`)"
        ) from None
    except (RecursionError, ValueError):  # nesting or an integer beyond Python's limits
        raise ConfigEditError(
            f"{given} does not parse; it was left unchanged - "
            "fix it first (`usagestat config validate`)"
        ) from None
    _cfg, errors, _warnings = config_mod._parse(text, given)
    if errors and original_bytes is not None:
        first = errors[0]
        where = f"{first.path}: " if first.path else ""
        raise ConfigEditError(
            f"{given} has errors ({where}{first.message}); it was left unchanged - "
            "fix it first (`usagestat config validate`)"
        )

    literal = toml_string(value)
    new_text, index = _edit(text, data, instance_or_id, key, literal)

    # The result must parse and differ from the old data only by this value.
    try:
        new_data = loads(new_text)
    except TOMLDecodeError as exc:  # pragma: no cover - a scanner bug, never written
        raise ConfigEditError(
            f"the edit would not parse ({exc}); the file was left unchanged"
        ) from None
    expected = copy.deepcopy(data)
    providers = expected.setdefault("providers", [])
    if index == len(providers):
        providers.append({"id": instance_or_id, key: value})
    else:
        providers[index][key] = value
    if _canon(new_data) != _canon(expected):  # pragma: no cover - a scanner bug, never written
        raise ConfigEditError(
            "the edit would change more than one value; the file was left unchanged"
        )
    _cfg, errors, _warnings = config_mod._parse(new_text, given)
    if errors:
        first = errors[0]
        where = f"{first.path}: " if first.path else ""
        raise ConfigEditError(f"the edited config would not load ({where}{first.message})")

    # Refuse to overwrite a concurrent change made since we read the file.
    try:
        current = target_path.read_bytes()
    except FileNotFoundError:
        current = None
    if current != original_bytes:
        raise ConfigEditError(f"{given} changed while it was being edited; try again")
    if original_bytes is None:
        from .paths import ensure_private_dir

        ensure_private_dir(target_path.parent)
    atomic_write_text(target_path, new_text, mode=0o600)
