"""Aligned columns for ``list``, ``status``, ``cache clear`` and ``doctor``.

Cells are ``(text, style)`` pairs; columns are as wide as their widest cell
(by visible width), the last column gives way when the terminal is narrow.
"""

from __future__ import annotations

from collections.abc import Sequence

from .term import Span, pad, render_row, sanitize, width

Cell = tuple[str, "str | None"]


def render(
    rows: Sequence[Sequence[Cell]],
    *,
    color: bool,
    max_width: int | None,
    ellipsis: str = "…",
    indent: str = "",
    gap: str = "  ",
) -> list[str]:
    if not rows:
        return []
    columns = max(len(row) for row in rows)
    widths = [0] * columns
    for row in rows:
        for index, (text, _style) in enumerate(row[:-1]):
            widths[index] = max(widths[index], width(sanitize(text)))
    out = []
    for row in rows:
        spans = [Span(indent)]
        for index, (text, style) in enumerate(row):
            text = sanitize(text)
            last = index == len(row) - 1
            if last:
                spans.append(Span(text, style, shrink=1))
            else:
                spans.append(Span(pad(text, widths[index]), style))
                spans.append(Span(gap))
        out.append(render_row(spans, max_width, color, ellipsis))
    return out
