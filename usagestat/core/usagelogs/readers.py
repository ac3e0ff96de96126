"""Turning log bytes into token records: Claude Code and Codex JSONL.

Only lines that can carry usage are decoded: a byte search for ``"usage"``
(Claude) or ``"token_count"``/``"turn_context"`` (Codex) finds candidates and
the rest of the file (tool results, file contents, images) is never split or
parsed. Records are folded straight into per-file rows keyed by
(UTC quarter-hour, model, prompt-size class).

Claude Code writes one line per content block of a streamed reply, all with
the same ``message.id`` (+ ``requestId``); the earlier ones can carry a
placeholder ``output_tokens``. Duplicates within the last few hundred messages
of a file are merged field by field (largest value wins, as the final snapshot
is the complete one); a key already counted elsewhere (a resumed session
copies its history into a new file) is skipped.

Codex writes cumulative ``total_token_usage`` per session; usage is the
difference to the previous event of the file. A total that goes backwards (a
new counter) falls back to ``last_token_usage``; a repeated total adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from array import array
from bisect import bisect_left
from calendar import timegm
from collections.abc import Callable
from typing import Any

from .store import FileState, RootIndex, RowKey

RECENT_MAX = 512  # messages remembered per file for merging streamed duplicates
TAIL_KEEP = 32  # of those, kept in the index across scans

_loads = json.loads
_blake = hashlib.blake2b
_from_bytes = int.from_bytes


def key_of(text: str) -> int:
    """A stable 64-bit key (Python's ``hash`` is salted per process)."""
    return _from_bytes(
        _blake(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little"
    )


class BadLine(Exception):
    """A line that should carry usage but has an unexpected shape (counted, never fatal)."""


_qh_cache: dict[str, int] = {}


def quarter_hour(ts: Any) -> int:
    """UTC quarter-hours since the epoch for an RFC 3339 timestamp (minute precision suffices)."""
    if type(ts) is not str:
        raise BadLine("timestamp missing")
    if ts.endswith("Z") and len(ts) >= 17 and ts[10] in "Tt ":
        head = ts[:16]
        qh = _qh_cache.get(head)
        if qh is not None:
            return qh
        try:
            secs = timegm(
                (
                    int(ts[0:4]),
                    int(ts[5:7]),
                    int(ts[8:10]),
                    int(ts[11:13]),
                    int(ts[14:16]),
                    0,
                    0,
                    0,
                    0,
                )
            )
        except ValueError:
            raise BadLine(f"bad timestamp {ts[:40]!r}")
        qh = secs // 900
        if len(_qh_cache) > 100_000:
            _qh_cache.clear()
        _qh_cache[head] = qh
        return qh
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadLine(f"bad timestamp {ts[:40]!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) // 900


def _count(value: Any) -> int:
    if type(value) is int:
        if value < 0:
            raise BadLine("negative token count")
        return value
    if value is None:
        return 0
    if type(value) is float and value.is_integer() and value >= 0:
        return int(value)
    raise BadLine("token count is not a number")


class FileReader:
    """Folds one file's new lines into its rows; one instance per file per scan."""

    needle: bytes = b""

    def __init__(self, index: RootIndex, state: FileState, seen: set[int], fresh: bool) -> None:
        self.index = index
        self.state = state
        self.seen = seen
        self.boundaries = index.boundaries
        detail = {} if fresh else state.detail
        self.delta: dict[RowKey, list[int]] = {}
        self.recent: dict[int, list[int]] = {}
        if not fresh:
            for item in detail.get("tail", []):
                if isinstance(item, list) and len(item) == 9:
                    self.recent[item[0]] = item[1:]
        self.reader_state: dict[str, Any] = dict(detail.get("state", {})) if not fresh else {}
        self.new_keys = array("Q")
        self.skipped = 0
        self.model_ids: dict[str, int] = {}

    # -- shared bookkeeping -----------------------------------------------------------------
    def _model(self, name: str) -> int:
        mid = self.model_ids.get(name)
        if mid is None:
            mid = self.model_ids[name] = self.index.model_id(name)
        return mid

    def _add(self, qh: int, mid: int, tier: int, values: list[int], sign: int = 1) -> None:
        key = (qh, mid, tier)
        row = self.delta.get(key)
        if row is None:
            self.delta[key] = [v * sign for v in values]
        else:
            for i in range(5):
                row[i] += values[i] * sign

    def record(self, key: int | None, qh: int, model: str, prompt: int, values: list[int]) -> None:
        """Count one request (``values`` = input, output, cache 5m, cache 1h, cache read)."""
        if key is not None:
            previous = self.recent.get(key)
            if previous is not None:
                self._merge(previous, prompt, values)
                return
            if key in self.seen:
                return
            self.seen.add(key)
            self.new_keys.append(key)
        mid = self._model(model)
        tier = bisect_left(self.boundaries, prompt)
        self._add(qh, mid, tier, values)
        if key is not None:
            self.recent[key] = [qh, mid, tier, *values]
            if len(self.recent) > RECENT_MAX:
                del self.recent[next(iter(self.recent))]

    def _merge(self, previous: list[int], prompt: int, values: list[int]) -> None:
        merged = [max(a, b) for a, b in zip(previous[3:], values, strict=True)]
        if merged == previous[3:]:
            return
        qh, mid, tier = previous[0], previous[1], previous[2]
        self._add(qh, mid, tier, previous[3:], -1)
        new_prompt = max(prompt, merged[0] + merged[2] + merged[3] + merged[4])
        new_tier = max(tier, bisect_left(self.boundaries, new_prompt))
        self._add(qh, mid, new_tier, merged)
        previous[2] = new_tier
        previous[3:] = merged

    # -- the byte loop ------------------------------------------------------------------------
    def feed(self, buf: bytes, end: int) -> None:
        """Process the complete lines in ``buf[:end]`` (``end`` is just past a newline)."""
        raise NotImplementedError

    def line(self, line: bytes) -> None:
        raise NotImplementedError

    def huge_line_seen(self, fragment: bytes) -> bool:
        return self.needle in fragment

    # -- results ----------------------------------------------------------------------------
    def commit(self) -> None:
        """Fold this scan's rows into the file's rows and the root aggregate."""
        state = self.state
        detail = state.detail
        rows = state.rows()
        agg = self.index.agg
        for key, values in self.delta.items():
            if not any(values):
                continue
            for target in (rows, agg):
                row = target.get(key)
                if row is None:
                    target[key] = list(values)
                else:
                    for i in range(5):
                        row[i] += values[i]
        detail["rows"] = [[*k, *v] for k, v in rows.items() if any(v)]
        tail = list(self.recent.items())[-TAIL_KEEP:]
        detail["tail"] = [[k, *v] for k, v in tail]
        detail["state"] = self.reader_state
        state.keys.extend(self.new_keys)
        state.skipped += self.skipped
        self.delta = {}
        self.new_keys = array("Q")
        self.skipped = 0


class ClaudeReader(FileReader):
    needle = b'"usage"'

    def feed(self, buf: bytes, end: int) -> None:
        find = buf.find
        rfind = buf.rfind
        line = self.line
        pos = 0
        while True:
            i = find(b'"usage"', pos, end)
            if i < 0:
                return
            start = rfind(b"\n", pos, i)
            start = pos if start < 0 else start + 1
            stop = find(b"\n", i, end)
            if stop < 0:
                stop = end
            pos = stop + 1
            chunk = buf[start:stop]
            if b'"assistant"' in chunk:
                line(chunk)

    def line(self, line: bytes) -> None:
        try:
            obj = _loads(line)
        except (ValueError, UnicodeDecodeError):
            self.skipped += 1
            return
        try:
            self._entry(obj)
        except BadLine:
            self.skipped += 1

    def _entry(self, obj: Any) -> None:
        if type(obj) is not dict:
            raise BadLine("not an object")
        if obj.get("type") != "assistant":
            return  # e.g. a user line whose tool result carries a sub-agent's usage
        msg = obj.get("message")
        if type(msg) is not dict:
            raise BadLine("assistant line without message")
        usage = msg.get("usage")
        if usage is None:
            return
        if type(usage) is not dict:
            raise BadLine("usage is not an object")
        model = msg.get("model")
        if model == "<synthetic>":
            return  # Claude Code's own error notices, not API calls
        if type(model) is not str or not model:
            model = "unknown"
        inp = _count(usage.get("input_tokens"))
        out = _count(usage.get("output_tokens"))
        cache_create = _count(usage.get("cache_creation_input_tokens"))
        cache_read = _count(usage.get("cache_read_input_tokens"))
        split = usage.get("cache_creation")
        cw1h = 0
        if type(split) is dict:
            cw1h = _count(split.get("ephemeral_1h_input_tokens"))
            if cw1h > cache_create:
                cache_create = cw1h + _count(split.get("ephemeral_5m_input_tokens"))
        cw5 = cache_create - cw1h
        if not (inp or out or cache_create or cache_read):
            return
        qh = quarter_hour(obj.get("timestamp"))
        mid = msg.get("id")
        rid = obj.get("requestId")
        if type(mid) is str and mid:
            key: int | None = key_of(f"{mid}:{rid}" if type(rid) is str and rid else mid)
        else:
            uuid = obj.get("uuid")
            key = key_of("uuid:" + uuid) if type(uuid) is str and uuid else None
        self.record(
            key, qh, model, inp + cache_create + cache_read, [inp, out, cw5, cw1h, cache_read]
        )


_CODEX_NEEDLE = re.compile(rb'"(?:token_count|turn_context)"')
_USAGE_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "total_tokens",
)


def _codex_usage(obj: Any) -> tuple[int, ...] | None:
    if obj is None:
        return None
    if type(obj) is not dict:
        raise BadLine("token usage is not an object")
    return tuple(_count(obj.get(name)) for name in _USAGE_FIELDS)


class CodexReader(FileReader):
    needle = b'"token_count"'

    def feed(self, buf: bytes, end: int) -> None:
        search = _CODEX_NEEDLE.search
        find = buf.find
        rfind = buf.rfind
        line = self.line
        pos = 0
        while True:
            match = search(buf, pos, end)
            if match is None:
                return
            i = match.start()
            start = rfind(b"\n", pos, i)
            start = pos if start < 0 else start + 1
            stop = find(b"\n", i, end)
            if stop < 0:
                stop = end
            pos = stop + 1
            line(buf[start:stop])

    def huge_line_seen(self, fragment: bytes) -> bool:
        return _CODEX_NEEDLE.search(fragment) is not None

    def line(self, line: bytes) -> None:
        try:
            obj = _loads(line)
        except (ValueError, UnicodeDecodeError):
            self.skipped += 1
            return
        try:
            self._entry(obj)
        except BadLine:
            self.skipped += 1

    def _entry(self, obj: Any) -> None:
        if type(obj) is not dict:
            raise BadLine("not an object")
        kind = obj.get("type")
        payload = obj.get("payload")
        if kind == "turn_context":
            if type(payload) is dict and type(payload.get("model")) is str and payload["model"]:
                self.reader_state["model"] = payload["model"]
            return
        if kind != "event_msg" or type(payload) is not dict or payload.get("type") != "token_count":
            return
        info = payload.get("info")
        if info is None:
            return  # a rate-limit-only event
        if type(info) is not dict:
            raise BadLine("token_count info is not an object")
        total = _codex_usage(info.get("total_token_usage"))
        last = _codex_usage(info.get("last_token_usage"))
        if type(info.get("model")) is str and info["model"]:
            self.reader_state["model"] = info["model"]
        if total is None and last is None:
            raise BadLine("token_count without usage")
        state = self.reader_state
        ts = obj.get("timestamp")
        qh = quarter_hour(ts)
        if total is not None:
            prev = state.get("prev")
            if not isinstance(prev, list) or len(prev) != len(total):
                prev = None
            if prev is None:
                delta = total
            elif all(c >= p for c, p in zip(total, prev, strict=True)):
                delta = tuple(c - p for c, p in zip(total, prev, strict=True))
            else:  # the cumulative counter restarted
                delta = last if last is not None else total
            state["prev"] = list(total)
            key: int | None = key_of(f"codex:{ts}:{total}")
            shape = total
        else:
            assert last is not None
            delta = last
            key = key_of(f"codex:{ts}:last:{last}")
            shape = last
        inp, cached, out, reasoning, _ = delta
        if not (inp or cached or out or reasoning):
            return
        # OpenAI counts reasoning inside output_tokens (total = input + output); a
        # producer whose total also adds reasoning reports it separately.
        t_inp, _, t_out, t_reason, t_total = shape
        if t_reason and t_total == t_inp + t_out + t_reason and t_total != t_inp + t_out:
            out += reasoning
        model = state.get("model") or "unknown"
        self.record(
            key,
            qh,
            model,
            inp,
            [max(inp - cached, 0), out, 0, 0, min(cached, inp) if inp else cached],
        )


READERS: dict[str, Callable[[RootIndex, FileState, set[int], bool], FileReader]] = {
    "claude": ClaudeReader,
    "codex": CodexReader,
}
