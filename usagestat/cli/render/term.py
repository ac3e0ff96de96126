"""Terminal text: visible width, clipping and colour, kept apart so ANSI never breaks the maths.

Renderers build rows from :class:`Span` pieces (plain text plus a style name).
Width is measured on the plain text (East Asian wide characters and emoji count
two cells, combining marks none), a row is clipped to the terminal width
*before* colour is applied, and only then are escape codes wrapped around each
piece. Text that comes from plugins is scrubbed of control characters first, so
a provider cannot move the cursor or recolour the terminal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

ANSI = {
    "reset": "\033[0m",
    "bold": "\033[1m",
    "dim": "\033[2m",
    "red": "\033[31m",
    "green": "\033[32m",
    "amber": "\033[33m",
    "blue": "\033[34m",
    "grey": "\033[90m",
    "bold-red": "\033[1;31m",
}
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def terminal_columns(fallback: int = 80) -> int:
    """The terminal's width: ``$COLUMNS``, else the size of stdout, else ``fallback``.

    The same rule as ``shutil.get_terminal_size``, without importing ``shutil``
    (and through it ``bz2`` and ``lzma``) on every start-up.
    """
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(1).columns or fallback
    except (OSError, ValueError):
        return fallback


class Glyphs:
    """Characters that depend on whether the output can carry Unicode."""

    __slots__ = ("cross", "dash", "dot", "ellipsis", "empty", "full")

    def __init__(
        self, *, ellipsis: str, dot: str, dash: str, full: str, empty: str, cross: str
    ) -> None:
        self.ellipsis = ellipsis
        self.dot = dot
        self.dash = dash
        self.full = full
        self.empty = empty
        self.cross = cross

    @classmethod
    def for_encoding(cls, encoding: str | None) -> Glyphs:
        if encoding and encoding.lower().replace("-", "").replace("_", "") in (
            "utf8",
            "utf16",
            "utf32",
            "utf8sig",
        ):
            return UNICODE
        return ASCII


UNICODE = Glyphs(ellipsis="…", dot="·", dash="—", full="█", empty="░", cross="✗")
ASCII = Glyphs(ellipsis="...", dot="-", dash="--", full="#", empty="-", cross="x")


def sanitize(text: str) -> str:
    """One line of printable text: control characters (ESC, newlines, tabs) become spaces."""
    return _CONTROL_RE.sub(" ", text)


def strip_ansi(text: str) -> str:
    return _ANSI_RE.sub("", text)


def char_width(char: str) -> int:
    """Terminal cells one character takes: 2 for wide/fullwidth, 0 for combining marks."""
    if char < "\u0300":  # fast path: ASCII and Latin-1
        return 1
    import unicodedata  # a large C module: loaded only for text beyond Latin-1

    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def width(text: str) -> int:
    """Visible width of ``text`` in cells (escape codes count zero)."""
    if "\x1b" in text:
        text = strip_ansi(text)
    if text.isascii():
        return len(text)
    return sum(char_width(char) for char in text)


def clip(text: str, cells: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``cells`` visible cells, ending in ``ellipsis`` when cut."""
    if cells <= 0:
        return ""
    if width(text) <= cells:
        return text
    room = cells - width(ellipsis)
    if room <= 0:
        return ellipsis[:cells]
    out: list[str] = []
    used = 0
    for char in text:
        step = char_width(char)
        if used + step > room:
            break
        out.append(char)
        used += step
    return "".join(out).rstrip() + ellipsis


def pad(text: str, cells: int) -> str:
    """Left-align ``text`` in ``cells`` cells (by visible width)."""
    return text + " " * max(0, cells - width(text))


def paint(text: str, style: str | None, color: bool) -> str:
    """Wrap ``text`` in the escape codes of ``style`` (a name or ``#rrggbb``) when colour is on."""
    if not color or not style or not text:
        return text
    code = ANSI.get(style)
    if code is None and style.startswith("#"):
        hex_digits = style[1:]
        if len(hex_digits) == 3:
            hex_digits = "".join(d * 2 for d in hex_digits)
        if len(hex_digits) == 6:
            try:
                r, g, b = (int(hex_digits[i : i + 2], 16) for i in (0, 2, 4))
            except ValueError:
                return text
            code = f"\033[38;2;{r};{g};{b}m"
    return f"{code}{text}{ANSI['reset']}" if code else text


class Span:
    """A piece of a row: plain text and how to paint it.

    ``shrink`` says how readily the span gives up room when the row is too
    wide (higher first); an ``optional`` span may be dropped entirely rather
    than clipped.
    """

    __slots__ = ("optional", "shrink", "style", "text")

    def __init__(
        self, text: str, style: str | None = None, shrink: int = 0, optional: bool = False
    ) -> None:
        self.text = text
        self.style = style
        self.shrink = shrink
        self.optional = optional

    def __repr__(self) -> str:
        return (
            f"Span({self.text!r}, {self.style!r}, shrink={self.shrink}, optional={self.optional})"
        )


def render_row(
    spans: Sequence[Span], max_width: int | None, color: bool, ellipsis: str = "…"
) -> str:
    """Join spans into one line no wider than ``max_width`` cells, then colour it.

    Room is taken first from optional spans (dropped whole), then from spans with
    the highest ``shrink``, clipping from the end of the row backwards. Colour is
    applied after clipping, so escape codes are never cut or counted.
    """
    texts = [span.text for span in spans]
    if max_width is not None:
        total = sum(width(text) for text in texts)
        if total > max_width:
            # 1. drop optional spans, last first
            for index in range(len(spans) - 1, -1, -1):
                if total <= max_width:
                    break
                if spans[index].optional and texts[index]:
                    total -= width(texts[index])
                    texts[index] = ""
            # 2. clip shrinkable spans, most shrinkable first, then later spans first
            order = sorted(range(len(spans)), key=lambda i: (-spans[i].shrink, -i))
            for index in order:
                if total <= max_width:
                    break
                if spans[index].shrink <= 0:
                    continue
                current = width(texts[index])
                keep = max(0, current - (total - max_width))
                clipped = clip(texts[index], keep, ellipsis) if keep else ""
                total -= current - width(clipped)
                texts[index] = clipped
            if total > max_width:  # nothing shrinkable left: hard cut at the end
                joined = "".join(texts)
                return clip(joined, max_width, ellipsis)
    line = "".join(paint(text, span.style, color) for text, span in zip(texts, spans, strict=True))
    return line.rstrip()


def join_nonempty(parts: Iterable[str | None], sep: str) -> str:
    return sep.join(part for part in parts if part)
