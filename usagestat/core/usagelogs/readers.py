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

TAIL_KEEP = 32  # of those, kept in the index across scans

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
        # Messages first seen in this scan: key -> [qh, model, prompt, 5 counts]. They
        # are folded into rows only at commit, so merging a streamed duplicate is
        # a field-wise max, not row arithmetic.
        self.pending: dict[int, list[Any]] = {}
        # The last messages of earlier scans, already in the rows: key -> [qh, model id, tier, 5 counts].
        self.committed: dict[int, list[int]] = {}
        if not fresh:
            for item in detail.get("tail", []):
                if isinstance(item, list) and len(item) == 9 and all(type(v) is int for v in item):
                    self.committed[item[0]] = item[1:]
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
        if key is None:
            self._add(qh, self._model(model), bisect_left(self.boundaries, prompt), values)
            return
        rec = self.pending.get(key)
        if rec is not None:  # a streamed duplicate: keep the largest value of each field
            if prompt > rec[2]:
                rec[2] = prompt
            for i in range(5):
                if values[i] > rec[3 + i]:
                    rec[3 + i] = values[i]
            return
        if key in self.seen:
            old = self.committed.get(key)
            if old is not None:
                self._merge_committed(old, prompt, values)
            return
        self.seen.add(key)
        self.new_keys.append(key)
        self.pending[key] = [qh, model, prompt, *values]

    def _merge_committed(self, previous: list[int], prompt: int, values: list[int]) -> None:
        """A late duplicate of a message counted by an earlier scan: correct the rows."""
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

    def huge_line_seen(self, fragment: bytes) -> bool:
        return self.needle in fragment

    # -- results ----------------------------------------------------------------------------
    def commit(self) -> None:
        """Fold this scan's messages into the file's rows and the root aggregate."""
        boundaries = self.boundaries
        tail: list[list[int]] = []
        keep_from = len(self.pending) - TAIL_KEEP
        for n, (key, rec) in enumerate(self.pending.items()):
            mid = self._model(rec[1])
            tier = bisect_left(boundaries, rec[2])
            values = rec[3:]
            self._add(rec[0], mid, tier, values)
            if n >= keep_from:
                tail.append([key, rec[0], mid, tier, *values])
        if len(tail) < TAIL_KEEP:
            older = [[k, *v] for k, v in self.committed.items()]
            tail = older[len(older) - (TAIL_KEEP - len(tail)) :] + tail if older else tail
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
        detail["tail"] = tail
        detail["state"] = self.reader_state
        state.keys.extend(self.new_keys)
        state.skipped += self.skipped
        self.delta = {}
        self.pending = {}
        self.new_keys = array("Q")
        self.skipped = 0


_scan_once = json.JSONDecoder().scan_once  # the C scanner, without json.loads' wrapper costs


def _parse_object(text: str) -> Any:
    """Exactly one JSON value filling ``text`` (raises ValueError otherwise)."""
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        raise ValueError("not JSON")
    if end != len(text):
        raise ValueError("trailing data")
    return value


def _claude_fast(line: bytes) -> dict[str, Any] | None:
    """Decode only the small parts of an assistant line, or None to fall back to a full parse.

    Claude Code writes ``{…,"message":{"model","id","type","role","content":[…],
    …,"usage":{…}},"requestId","type","uuid","timestamp"}``; the content (the bulk
    of the line) is skipped. The object before ``"content":``, the ``usage`` object
    that closes ``message`` and the keys after ``message`` are each parsed as
    JSON; any other layout returns None, so nothing is ever guessed.
    """
    m = line.find(b'"message":{')
    if m < 1:
        return None
    c = line.find(b'"content":', m)
    u = line.rfind(b'"usage":{')
    if c < 0 or u < c or line[c - 1 : c] != b"," or line[m - 1 : m] not in (b",", b"{"):
        return None
    # "message" is a top-level key when nothing before it opens an object or array (a
    # brace inside a string value only costs the fast path).
    if b"{" in line[1:m] or b"[" in line[1:m]:
        return None
    try:
        head = _parse_object(line[m + 10 : c - 1].decode() + "}")
        rest = line[u + 8 :].decode()
        usage, end = _scan_once(rest, 0)
        if not rest.startswith("},", end):
            return None
        # What follows must be the rest of the top-level object: usage closed "message".
        outer = _parse_object("{" + rest[end + 2 :])
        if type(outer) is not dict or type(head) is not dict or "message" in outer:
            return None
        if "type" not in outer or "timestamp" not in outer:  # an older key order
            prefix = _parse_object(line[:m].decode() + '"":0}')
            del prefix[""]
            prefix.update(outer)
            outer = prefix
    except (ValueError, UnicodeDecodeError, StopIteration, TypeError, KeyError):
        return None
    head["usage"] = usage
    outer["message"] = head
    return outer


class ClaudeReader(FileReader):
    needle = b'"usage"'

    def feed(self, buf: bytes, end: int) -> None:
        find = buf.find
        rfind = buf.rfind
        entry = self._entry
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
            line = buf[start:stop]
            if b'"assistant"' not in line:
                continue
            obj = _claude_fast(line)
            if obj is None:
                try:
                    obj = _parse_object(line.decode().strip())
                except (ValueError, UnicodeDecodeError):
                    self.skipped += 1
                    continue
            try:
                entry(obj)
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
        get = usage.get
        inp = get("input_tokens", 0)
        out = get("output_tokens", 0)
        cache_create = get("cache_creation_input_tokens", 0)
        cache_read = get("cache_read_input_tokens", 0)
        if (
            type(inp) is not int
            or type(out) is not int
            or type(cache_create) is not int
            or type(cache_read) is not int
            or inp < 0
            or out < 0
            or cache_create < 0
            or cache_read < 0
        ):
            inp, out, cache_create, cache_read = (
                _count(v) for v in (inp, out, cache_create, cache_read)
            )
        split = get("cache_creation")
        cw1h = 0
        if type(split) is dict:
            cw1h = _count(split.get("ephemeral_1h_input_tokens"))
            if cw1h > cache_create:
                cache_create = cw1h + _count(split.get("ephemeral_5m_input_tokens"))
        if not (inp or out or cache_create or cache_read):
            return
        qh = quarter_hour(obj.get("timestamp"))
        mid = msg.get("id")
        if type(mid) is str and mid:
            rid = obj.get("requestId")
            key: int | None = key_of(f"{mid}:{rid}" if type(rid) is str and rid else mid)
        else:
            uuid = obj.get("uuid")
            key = key_of("uuid:" + uuid) if type(uuid) is str and uuid else None
        self.record(
            key,
            qh,
            model,
            inp + cache_create + cache_read,
            [inp, out, cache_create - cw1h, cw1h, cache_read],
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
            obj = _parse_object(line.decode().strip())
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
