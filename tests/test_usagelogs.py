"""The native usage-log scanner on generated Claude Code and Codex log trees.

Every expected total is computed here, independently of the scanner: from the
list of API calls the test wrote, local dates through ``zoneinfo``, costs from
the test's own price list. Time zones are set explicitly (TZ + tzset).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from usagestat.core import usagelogs
from usagestat.core.usagelogs import pricing as pricing_mod
from usagestat.core.usagelogs import scanner

# -- an independent model of what the logs say ------------------------------------------------

PRICES: dict[str, dict[str, Any]] = {
    "claude-sonnet-4-5": {
        "input": 3,
        "output": 15,
        "cacheWrite": 3.75,
        "cacheWrite1h": 6,
        "cacheRead": 0.3,
        "longContext": {
            "threshold": 200_000,
            "input": 6,
            "output": 22.5,
            "cacheWrite": 7.5,
            "cacheWrite1h": 12,
            "cacheRead": 0.6,
        },
    },
    "claude-opus-4-6": {
        "input": 5,
        "output": 25,
        "cacheWrite": 6.25,
        "cacheWrite1h": 10,
        "cacheRead": 0.5,
    },
    "claude-haiku-4-5": {
        "input": 1,
        "output": 5,
        "cacheWrite": 1.25,
        "cacheWrite1h": 2,
        "cacheRead": 0.1,
    },
    "gpt-5.1-codex": {"input": 1.25, "output": 10, "cacheRead": 0.125},
    "gpt-6-sol": {
        "input": 2,
        "output": 10,
        "cacheRead": 0.2,
        "longContext": {"threshold": 272_000, "input": 4, "output": 15, "cacheRead": 0.4},
    },
}
PRICED_AS = {
    "claude-sonnet-4-5-20250929": "claude-sonnet-4-5",
    "claude-opus-4-6": "claude-opus-4-6",
    "claude-haiku-4-5-20251001": "claude-haiku-4-5",
    "gpt-5.1-codex": "gpt-5.1-codex",
    "gpt-6-sol": "gpt-6-sol",
}
TABLE = pricing_mod.parse_table({"date": "2026-01-01", "models": PRICES}, origin="test")


@dataclass
class Call:
    """One billed API call, as the test means it to be counted."""

    model: str
    at: datetime
    inp: int = 0
    out: int = 0
    cw5: int = 0
    cw1h: int = 0
    cr: int = 0

    def cost(self) -> float | None:
        key = PRICED_AS.get(self.model)
        if key is None:
            return None
        price = PRICES[key]
        long = price.get("longContext")
        if long and self.inp + self.cw5 + self.cw1h + self.cr > long["threshold"]:
            price = {**price, **long}
        write = price.get("cacheWrite", price["input"])
        return (
            self.inp * price["input"]
            + self.out * price["output"]
            + self.cw5 * write
            + self.cw1h * price.get("cacheWrite1h", write)
            + self.cr * price.get("cacheRead", price["input"])
        ) / 1e6


def expected(calls: list[Call], tz: str, since: date | None = None) -> dict[str, Any]:
    """Per local day: [input, output, cache write, cache read, priced cost]; plus totals."""
    days: dict[str, list[float]] = {}
    unpriced: set[str] = set()
    for call in calls:
        day = call.at.astimezone(ZoneInfo(tz)).date()
        if since and day < since:
            continue
        row = days.setdefault(day.isoformat(), [0, 0, 0, 0, 0.0])
        row[0] += call.inp
        row[1] += call.out
        row[2] += call.cw5 + call.cw1h
        row[3] += call.cr
        cost = call.cost()
        if cost is None:
            unpriced.add(call.model)
        else:
            row[4] += cost
    totals = [sum(r[i] for r in days.values()) for i in range(5)]
    return {"days": days, "totals": totals, "unpriced": sorted(unpriced)}


def check(report: usagelogs.CostReport, want: dict[str, Any]) -> dict[str, Any]:
    doc = usagelogs.report_json(report)
    got = {
        d["date"]: [
            d["inputTokens"],
            d["outputTokens"],
            d["cacheCreationTokens"],
            d["cacheReadTokens"],
            d["costUsd"],
        ]
        for d in doc["days"]
    }
    assert sorted(got) == sorted(want["days"])
    for day, row in want["days"].items():
        assert got[day][:4] == row[:4], day
        assert got[day][4] == pytest.approx(row[4], abs=2e-6), day
    t = doc["totals"]
    assert [
        t["inputTokens"],
        t["outputTokens"],
        t["cacheCreationTokens"],
        t["cacheReadTokens"],
    ] == want["totals"][:4]
    assert t["costUsd"] == pytest.approx(want["totals"][4], abs=1e-5)
    assert doc["unpricedModels"] == want["unpriced"]
    return doc


# -- writing Claude Code logs --------------------------------------------------------------------


def _ts(at: datetime) -> str:
    return (
        at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{at.microsecond // 1000:03d}Z"
    )


def assistant_line(
    call: Call,
    msg_id: str | None,
    req_id: str | None = "req",
    *,
    out: int | None = None,
    usage_last: bool = True,
    text: str = "Done.",
) -> str:
    """A Claude Code assistant line; ``usage_last=False`` moves usage before content (full-parse path)."""
    usage: dict[str, Any] = {
        "input_tokens": call.inp,
        "cache_creation_input_tokens": call.cw5 + call.cw1h,
        "cache_read_input_tokens": call.cr,
        "output_tokens": call.out if out is None else out,
        "service_tier": "standard",
    }
    if call.cw1h:
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": call.cw5,
            "ephemeral_1h_input_tokens": call.cw1h,
        }
    content = [
        {"type": "text", "text": text},
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "Task",
            "input": {"model": "haiku", "usage": {"x": 1}},
        },
    ]
    message: dict[str, Any] = {"model": call.model}
    if msg_id:
        message["id"] = msg_id
    message.update({"type": "message", "role": "assistant"})
    if not usage_last:
        message["usage"] = usage
    message["content"] = content
    message["stop_reason"] = "end_turn"
    if usage_last:
        message["usage"] = usage
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/dev/app",
        "sessionId": "s1",
        "version": "2.1.63",
        "message": message,
    }
    if req_id:
        line["requestId"] = req_id
    line.update({"type": "assistant", "uuid": f"u-{msg_id}-{out}", "timestamp": _ts(call.at)})
    return json.dumps(line, separators=(",", ":"))


def user_line(at: datetime, text: str = "please fix the bug", with_usage: bool = False) -> str:
    line: dict[str, Any] = {
        "type": "user",
        "message": {"role": "user", "content": [{"type": "tool_result", "content": text}]},
        "uuid": "u",
        "timestamp": _ts(at),
    }
    if with_usage:  # a Task result: the sub-agent's usage, already logged in its own file
        line["toolUseResult"] = {
            "usage": {"input_tokens": 999, "output_tokens": 999},
            "role": "assistant",
        }
    return json.dumps(line)


def write_lines(
    path: Path, lines: list[str], *, newline_at_end: bool = True, mode: str = "w"
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + ("\n" if newline_at_end and lines else "")
    with open(path, mode, encoding="utf-8") as handle:
        handle.write(text)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)  # type: ignore[misc]


@pytest.fixture
def tz(monkeypatch: pytest.MonkeyPatch):
    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    use("America/New_York")
    yield use
    monkeypatch.undo()
    time.tzset()


def scan(
    roots: list[Path], index: Path, provider: str = "claude", **kwargs: Any
) -> usagelogs.CostReport:
    return usagelogs.scan(provider, roots=roots, index_dir=index, pricing=TABLE, **kwargs)


# -- scenarios ------------------------------------------------------------------------------------


def build_claude_tree(home: Path) -> tuple[Path, list[Call]]:
    """Three projects, four models, days across New York midnight, duplicates, a truncated tail."""
    root = home / ".claude" / "projects"
    calls: list[Call] = []
    sonnet, opus, haiku, mystery = (
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-6",
        "claude-haiku-4-5-20251001",
        "claude-mystery-9",
    )
    # Project A: 04:50Z and 05:10Z on 2026-01-15 are on either side of midnight in New York (UTC-5).
    a1 = Call(sonnet, utc(2026, 1, 15, 4, 50), inp=12, out=340, cw5=2000, cr=50_000)
    a2 = Call(sonnet, utc(2026, 1, 15, 5, 10), inp=3, out=1200, cw5=500, cw1h=4000, cr=80_000)
    a3 = Call(opus, utc(2026, 1, 15, 23, 59, 59), inp=7, out=77, cr=9_000)
    long_call = Call(
        sonnet, utc(2026, 1, 16, 14, 0), inp=5, out=900, cw5=1000, cr=230_000
    )  # > 200K
    lines = [
        user_line(utc(2026, 1, 15, 4, 49)),
        # a1 streamed as three blocks; the first two carry a placeholder output count
        assistant_line(a1, "msg_a1", "req_a1", out=1, text="thinking"),
        assistant_line(a1, "msg_a1", "req_a1", out=2),
        assistant_line(a1, "msg_a1", "req_a1"),
        user_line(utc(2026, 1, 15, 5, 0), with_usage=True),
        assistant_line(a2, "msg_a2", "req_a2", usage_last=False),  # other key order: full parse
        assistant_line(a3, "msg_a3", None),  # no requestId (newer Claude Code)
        assistant_line(long_call, "msg_long", "req_long"),
        json.dumps({"type": "summary", "summary": "Fixing the bug", "leafUuid": "x"}),
    ]
    write_lines(root / "-home-dev-app" / "s1.jsonl", lines)
    calls += [a1, a2, a3, long_call]

    # Project B: haiku + an unknown model, a bad line, a line with usage of the wrong shape,
    # and a truncated final line (Claude Code still writing it).
    b1 = Call(haiku, utc(2026, 1, 16, 3, 0), inp=100, out=50, cw5=10, cr=1000)
    b2 = Call(mystery, utc(2026, 1, 16, 3, 5), inp=20, out=20)
    b3 = Call(opus, utc(2026, 1, 17, 12, 0), inp=1, out=1, cr=1)
    lines = [
        assistant_line(b1, "msg_b1", "req_b1"),
        assistant_line(b2, "msg_b2", "req_b2"),
        '{"type":"assistant","message":{"usage":{"input_tokens":5',  # truncated mid-file: skipped
        json.dumps(
            {
                "type": "assistant",
                "message": {"model": opus, "usage": "lots"},
                "timestamp": _ts(b1.at),
            }
        ),
        json.dumps(
            {
                "type": "assistant",
                "message": {
                    "id": "synthetic",
                    "model": "<synthetic>",
                    "usage": {"input_tokens": 0, "output_tokens": 0},
                },
                "timestamp": _ts(b1.at),
            }
        ),
        assistant_line(b3, "msg_b3", "req_b3")[:60],  # the truncated tail, no newline
    ]
    write_lines(root / "-home-dev-lib" / "s2.jsonl", lines, newline_at_end=False)
    calls += [b1, b2]

    # Project C: a resumed session copies a1 and a2 from project A, then adds c1.
    c1 = Call(opus, utc(2026, 1, 17, 4, 0), inp=9, out=99, cw5=100, cr=900)
    lines = [
        assistant_line(a1, "msg_a1", "req_a1"),
        assistant_line(a2, "msg_a2", "req_a2"),
        assistant_line(c1, "msg_c1", "req_c1"),
    ]
    write_lines(root / "-home-dev-app" / "nested" / "deeper" / "s3.jsonl", lines)
    calls.append(c1)
    (root / "-home-dev-app" / "notes.txt").write_text("not a log")
    return root, calls


def test_claude_tree_exact_totals(tmp_path: Path, tz) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    report = scan([root], tmp_path / "index")
    doc = check(report, expected(calls, "America/New_York"))
    assert doc["provider"] == "claude"
    assert doc["pricingDate"] == "2026-01-01"
    assert doc["skippedLines"] == 2  # the mid-file truncated line and the "lots" usage
    # Local midnight splits a1 (Jan 14 in New York) from a2 (Jan 15).
    assert [d["date"] for d in doc["days"]] == ["2026-01-14", "2026-01-15", "2026-01-16"]
    mystery = next(m for d in doc["days"] for m in d["models"] if m["model"] == "claude-mystery-9")
    assert mystery["costUsd"] is None and mystery["inputTokens"] == 20
    # A repeat scan reads nothing and answers the same.
    assert usagelogs.report_json(scan([root], tmp_path / "index")) == doc


def test_since_until_filter_local_days(tmp_path: Path, tz) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    report = scan([root], tmp_path / "index", since=date(2026, 1, 15), until=date(2026, 1, 16))
    want = expected(
        [
            c
            for c in calls
            if c.at.astimezone(ZoneInfo("America/New_York")).date() <= date(2026, 1, 16)
        ],
        "America/New_York",
        since=date(2026, 1, 15),
    )
    check(report, want)


def test_time_zone_change_reuses_index(tmp_path: Path, tz) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    index = tmp_path / "index"
    check(scan([root], index), expected(calls, "America/New_York"))
    tz("Asia/Kolkata")  # UTC+5:30: quarter-hour buckets must still land on the right date
    check(scan([root], index), expected(calls, "Asia/Kolkata"))
    tz("Pacific/Chatham")  # UTC+13:45
    check(scan([root], index), expected(calls, "Pacific/Chatham"))


def test_append_reads_only_new_bytes(tmp_path: Path, tz) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    index = tmp_path / "index"
    scan([root], index)
    s1 = root / "-home-dev-app" / "s1.jsonl"
    s2 = root / "-home-dev-lib" / "s2.jsonl"
    # Corrupt already-indexed bytes in place (same size, away from the end): a scanner that
    # re-read the file would see broken lines; one that reads appended bytes only cannot.
    data = bytearray(s1.read_bytes())
    start = data.index(b'"msg_a2"')
    data[start : start + 8] = b"XXXXXXXX"
    s1.write_bytes(bytes(data))
    d1 = Call("claude-opus-4-6", utc(2026, 1, 18, 10, 0), inp=1, out=2, cw5=3, cr=4)
    write_lines(s1, [assistant_line(d1, "msg_d1", "req_d1")], mode="a")
    # Completing the truncated last line of s2 adds b3.
    b3 = Call("claude-opus-4-6", utc(2026, 1, 17, 12, 0), inp=1, out=1, cr=1)
    tail = assistant_line(b3, "msg_b3", "req_b3")
    with open(s2, "a", encoding="utf-8") as handle:
        handle.write(tail[60:] + "\n")
    report = scan([root], index)
    check(report, expected([*calls, d1, b3], "America/New_York"))
    assert report.skipped_lines == 2


def test_streamed_duplicate_across_scans_is_merged(tmp_path: Path, tz) -> None:
    root = tmp_path / "projects"
    call = Call("claude-opus-4-6", utc(2026, 2, 1, 12, 0), inp=10, out=700, cr=5000)
    path = root / "p" / "s.jsonl"
    write_lines(path, [assistant_line(call, "msg_1", "req_1", out=1)])
    first = scan([root], tmp_path / "index")
    assert first.totals[0][1] == 1  # only the placeholder so far
    write_lines(path, [assistant_line(call, "msg_1", "req_1")], mode="a")
    check(scan([root], tmp_path / "index"), expected([call], "America/New_York"))


def test_truncated_or_replaced_file_is_rescanned(tmp_path: Path, tz) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    index = tmp_path / "index"
    scan([root], index)
    s3 = root / "-home-dev-app" / "nested" / "deeper" / "s3.jsonl"
    # Rewritten shorter: the old content (a1, a2 copies and c1) was already counted and
    # stays counted; a new message in the rewritten file is added, copies are not doubled.
    e1 = Call("claude-haiku-4-5-20251001", utc(2026, 1, 19, 8, 0), inp=5, out=5, cr=5)
    c1_line = (s3.read_text().splitlines())[2]
    write_lines(s3, [c1_line, assistant_line(e1, "msg_e1", "req_e1")])
    assert s3.stat().st_size < 3 * len(c1_line)
    check(scan([root], index), expected([*calls, e1], "America/New_York"))
    # Replaced by a new file (new inode) of larger size with one more message.
    e2 = Call("claude-haiku-4-5-20251001", utc(2026, 1, 19, 9, 0), inp=6, out=6, cr=6)
    replacement = s3.with_suffix(".tmp")
    write_lines(
        replacement,
        [c1_line, assistant_line(e1, "msg_e1", "req_e1"), assistant_line(e2, "msg_e2", "req_e2")],
    )
    os.replace(replacement, s3)
    check(scan([root], index), expected([*calls, e1, e2], "America/New_York"))


def test_rotated_and_renamed_files(tmp_path: Path, tz) -> None:
    root = tmp_path / "projects"
    index = tmp_path / "index"
    old = [
        Call("claude-opus-4-6", utc(2026, 3, 1, 10, i), inp=i + 1, out=10, cr=100) for i in range(3)
    ]
    path = root / "p" / "session.jsonl"
    write_lines(path, [assistant_line(c, f"msg_old{i}", f"req{i}") for i, c in enumerate(old)])
    check(scan([root], index), expected(old, "America/New_York"))
    # Renamed within the root: same inode, nothing re-read, nothing counted twice.
    moved = root / "p" / "renamed.jsonl"
    os.rename(path, moved)
    check(scan([root], index), expected(old, "America/New_York"))
    # Rotated away (no longer a *.jsonl) and a fresh file started at the old name.
    os.rename(moved, root / "p" / "renamed.jsonl.1")
    new = [
        Call("claude-sonnet-4-5-20250929", utc(2026, 3, 2, 10, i), inp=2, out=20, cr=200)
        for i in range(2)
    ]
    write_lines(path, [assistant_line(c, f"msg_new{i}", f"reqn{i}") for i, c in enumerate(new)])
    # Spend does not un-happen: the rotated-away usage is still reported.
    check(scan([root], index), expected([*old, *new], "America/New_York"))


def test_corrupt_index_is_rebuilt(tmp_path: Path, tz) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    index = tmp_path / "index"
    want = expected(calls, "America/New_York")
    check(scan([root], index), want)
    (index_file,) = index.glob("claude-*.json")
    raw = index_file.read_bytes()
    for damaged in (b"garbage", raw[: len(raw) // 2], raw[:-40] + b"x" * 40, b""):
        index_file.write_bytes(damaged)
        check(scan([root], index), want)
    # A damaged blob (header intact) is noticed as soon as something changed.
    index_file.write_bytes(raw[:-10] + b"0123456789")
    d1 = Call("claude-opus-4-6", utc(2026, 1, 18, 10, 0), inp=1, out=2)
    write_lines(root / "-home-dev-app" / "s1.jsonl", [assistant_line(d1, "msg_d1", "r")], mode="a")
    check(scan([root], index), expected([*calls, d1], "America/New_York"))


def test_damaged_index_body_is_rebuilt_after_a_time_zone_change(tmp_path: Path, tz) -> None:
    # No log changes, so nothing needs the damaged body until the report wants the local
    # days of another time zone: the index must be rebuilt then, on this and every later run.
    root, calls = build_claude_tree(tmp_path / "home")
    index = tmp_path / "index"
    check(scan([root], index), expected(calls, "America/New_York"))
    (index_file,) = index.glob("claude-*.json")
    index_file.write_bytes(index_file.read_bytes()[:-10] + b"0123456789")
    tz("Asia/Tokyo")
    want = expected(calls, "Asia/Tokyo")
    fresh = check(scan([root], tmp_path / "fresh-index"), want)
    for _ in range(2):
        assert check(scan([root], index), want) == fresh


def test_index_damage_found_late_rebuilds_from_the_logs(
    tmp_path: Path, tz, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    index = tmp_path / "index"
    want = expected(calls, "America/New_York")
    check(scan([root], index), want)
    real = usagelogs.build_report
    failures = []

    def damaged_once(*args: Any) -> usagelogs.CostReport:
        if not failures:
            failures.append(1)
            raise usagelogs.IndexCorrupt("found late")
        return real(*args)

    monkeypatch.setattr(usagelogs, "build_report", damaged_once)
    check(scan([root], index), want)
    assert failures == [1]


def test_new_empty_log_file(tmp_path: Path, tz) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    index = tmp_path / "index"
    want = expected(calls, "America/New_York")
    check(scan([root], index), want)
    empty = root / "-home-dev-new" / "s.jsonl"
    empty.parent.mkdir()
    empty.touch()  # a session file that was just created
    check(scan([root], index), want)
    c2 = Call("claude-opus-4-6", utc(2026, 1, 18, 10, 0), inp=1, out=2)
    write_lines(empty, [assistant_line(c2, "msg_c2", "req_c2")])
    check(scan([root], index), expected([*calls, c2], "America/New_York"))


def test_dedup_across_roots_and_symlinked_root(tmp_path: Path, tz) -> None:
    home = tmp_path / "home"
    root, calls = build_claude_tree(home)
    other = tmp_path / "other-config" / "projects"
    (other / "copied").mkdir(parents=True)
    (other / "copied" / "s1.jsonl").write_bytes((root / "-home-dev-app" / "s1.jsonl").read_bytes())
    link = tmp_path / "link-to-claude"
    link.symlink_to(home / ".claude")
    roots = usagelogs.default_roots(
        "claude", {"CLAUDE_CONFIG_DIR": f"{tmp_path / 'other-config'},{link}"}, str(home)
    )
    assert roots[:2] == [other, link / "projects"]
    check(scan(roots, tmp_path / "index"), expected(calls, "America/New_York"))


def test_huge_lines_skipped_and_counted(
    tmp_path: Path, tz, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scanner, "CHUNK", 1024)
    monkeypatch.setattr(scanner, "MAX_LINE", 4096)
    root = tmp_path / "projects"
    ok = Call("claude-opus-4-6", utc(2026, 4, 1, 12, 0), inp=1, out=1, cr=1)
    huge = Call("claude-opus-4-6", utc(2026, 4, 1, 12, 5), inp=1000, out=1000)
    lines = [
        assistant_line(ok, "msg_ok", "r1"),
        assistant_line(huge, "msg_huge", "r2", text="x" * 20_000),  # usage at the end, > MAX_LINE
        user_line(utc(2026, 4, 1, 12, 6), text="y" * 20_000),  # huge but not usage: not counted
        assistant_line(ok, "msg_ok2", "r3"),
    ]
    write_lines(root / "p" / "s.jsonl", lines)
    report = scan([root], tmp_path / "index")
    check(report, expected([ok, ok], "America/New_York"))
    assert report.skipped_lines == 1


def test_deadline_saves_progress(tmp_path: Path, tz, monkeypatch: pytest.MonkeyPatch) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    index = tmp_path / "index"
    with pytest.raises(usagelogs.ScanIncomplete, match="did not finish"):
        scan([root], index, deadline=time.monotonic())
    check(scan([root], index, deadline=time.monotonic() + 30), expected(calls, "America/New_York"))


def test_concurrent_scanners_agree(tmp_path: Path, tz) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    want = expected(calls, "America/New_York")
    results: list[Any] = []

    def worker() -> None:
        try:
            results.append(scan([root], tmp_path / "index"))
        except BaseException as exc:  # surfaced below
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        assert not isinstance(result, BaseException), result
        check(result, want)


def test_missing_roots_give_an_empty_report(tmp_path: Path, tz) -> None:
    report = scan([tmp_path / "nope"], tmp_path / "index")
    doc = usagelogs.report_json(report)
    assert doc["days"] == [] and doc["totals"]["costUsd"] == 0 and doc["skippedLines"] == 0


# -- Codex ------------------------------------------------------------------------------------------


def codex_event(
    at: datetime, total: tuple[int, int, int, int] | None, last: tuple[int, int, int, int] | None
) -> str:
    def usage(v: tuple[int, int, int, int] | None) -> dict[str, int] | None:
        if v is None:
            return None
        inp, cached, out, reasoning = v
        return {
            "input_tokens": inp,
            "cached_input_tokens": cached,
            "output_tokens": out,
            "reasoning_output_tokens": reasoning,
            "total_tokens": inp + out,
        }

    info = (
        None
        if total is None and last is None
        else {"total_token_usage": usage(total), "last_token_usage": usage(last)}
    )
    if info is not None and total is None:
        del info["total_token_usage"]
    return json.dumps(
        {
            "timestamp": _ts(at),
            "type": "event_msg",
            "payload": {"type": "token_count", "info": info, "rate_limits": {}},
        }
    )


def turn_context(at: datetime, model: str) -> str:
    return json.dumps(
        {"timestamp": _ts(at), "type": "turn_context", "payload": {"cwd": "/x", "model": model}}
    )


def codex_call(model: str, at: datetime, delta: tuple[int, int, int, int]) -> Call:
    inp, cached, out, _ = delta
    return Call(model, at, inp=inp - cached, out=out, cr=cached)


def test_codex_cumulative_totals_become_deltas(tmp_path: Path, tz) -> None:
    sessions = tmp_path / "codex" / "sessions"
    path = sessions / "2026" / "01" / "15" / "rollout-2026-01-15T04-00-00-abc.jsonl"
    m1, m2 = "gpt-5.1-codex", "gpt-6-sol"
    t = [
        utc(2026, 1, 15, 4, 55),
        utc(2026, 1, 15, 5, 5),
        utc(2026, 1, 15, 5, 6),
        utc(2026, 1, 15, 5, 30),
    ]
    lines = [
        json.dumps(
            {
                "timestamp": _ts(t[0]),
                "type": "session_meta",
                "payload": {"id": "abc", "instructions": "…"},
            }
        ),
        turn_context(t[0], m1),
        codex_event(t[0], None, None),  # rate limits only
        codex_event(t[0], (1000, 200, 50, 10), (1000, 200, 50, 10)),
        codex_event(t[0], (1000, 200, 50, 10), (1000, 200, 50, 10)),  # repeated: adds nothing
        turn_context(t[1], m2),
        codex_event(t[1], (301_000, 1200, 90, 10), (300_000, 1000, 40, 0)),  # > 272K: long context
        codex_event(t[2], (301_500, 1300, 100, 10), (500, 100, 10, 0)),
        '{"timestamp":"x","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":"n/a"}}}',
        '{"type":"event_msg","payload":{"type":"token_count"',  # truncated
    ]
    write_lines(path, lines)
    calls = [
        codex_call(m1, t[0], (1000, 200, 50, 10)),
        codex_call(m2, t[1], (300_000, 1000, 40, 0)),
        codex_call(m2, t[2], (500, 100, 10, 0)),
    ]
    index = tmp_path / "index"
    roots = usagelogs.default_roots("codex", {"CODEX_HOME": str(tmp_path / "codex")}, str(tmp_path))
    assert roots == [sessions]
    report = scan(roots, index, provider="codex")
    check(report, expected(calls, "America/New_York"))
    assert report.skipped_lines == 2
    # Appended events continue from the saved cumulative totals; a counter that restarts
    # (a resumed session) falls back to last_token_usage; a second file is its own session.
    more = [
        codex_event(t[3], (302_000, 1300, 130, 10), (500, 0, 30, 0)),
        codex_event(t[3], (700, 100, 20, 0), (700, 100, 20, 0)),
    ]
    write_lines(path, more, mode="a")
    other = sessions / "2026" / "01" / "16" / "rollout-2026-01-16T09-00-00-def.jsonl"
    t5 = utc(2026, 1, 16, 9, 0)
    write_lines(
        other, [turn_context(t5, "codex-unknown-model"), codex_event(t5, (10, 0, 5, 0), None)]
    )
    calls += [
        codex_call(m2, t[3], (500, 0, 30, 0)),
        codex_call(m2, t[3], (700, 100, 20, 0)),
        Call("codex-unknown-model", t5, inp=10, out=5),
    ]
    (sessions / "2026" / "notes.jsonl").write_text("{}\n")  # not rollout-*: ignored
    check(scan(roots, index, provider="codex"), expected(calls, "America/New_York"))


def test_default_roots_order() -> None:
    home = "/home/u"
    assert usagelogs.default_roots("claude", {}, home) == [
        Path("/home/u/.claude/projects"),
        Path("/home/u/.config/claude/projects"),
    ]
    assert usagelogs.default_roots("claude", {"CLAUDE_CONFIG_DIR": "/cfg"}, home)[0] == Path(
        "/cfg/projects"
    )
    assert usagelogs.default_roots("codex", {}, home) == [Path("/home/u/.codex/sessions")]
    with pytest.raises(ValueError):
        usagelogs.default_roots("gemini", {}, home)


# -- pricing ----------------------------------------------------------------------------------------


def test_bundled_pricing_resolves_real_model_names() -> None:
    table = pricing_mod.bundled_table()
    assert table.date >= "2026-01-01"
    cases = {
        "claude-sonnet-4-5-20250929": "claude-sonnet-4-5",
        "claude-opus-4-6": "claude-opus-4-6",
        "claude-opus-4-6[1m]": "claude-opus-4-6",
        "anthropic/claude-haiku-4-5": "claude-haiku-4-5",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0": "claude-sonnet-4-5",
        "claude-sonnet-4-5@20250929": "claude-sonnet-4-5",
        "claude-opus-4-0": "claude-opus-4",
        "claude-opus-4-20250514": "claude-opus-4",
        "claude-3-5-haiku-latest": "claude-3-5-haiku",
        "claude-sonnet-4-5-thinking": "claude-sonnet-4-5",
        "gpt-5-codex": "gpt-5-codex",
        "gpt-5-2025-08-07": "gpt-5",
        "openai/gpt-5.1-codex-max": "gpt-5.1-codex-max",
        "gpt-5.6": "gpt-5.6-sol",
        "GPT-6-Sol": "gpt-6-sol",
        # Price-neutral qualifiers: reasoning effort, thinking, snapshot dates, -latest.
        "gpt-5.1-codex-max-xhigh": "gpt-5.1-codex-max",
        "gpt-5-high": "gpt-5",
        "gpt-5-codex-minimal": "gpt-5-codex",
        "o4-mini-high": "o4-mini",
        "o3-2025-04-16": "o3",
        "claude-sonnet-4-5-20250929-thinking": "claude-sonnet-4-5",
        "gpt-5-mini-2025-08-07": "gpt-5-mini",
        "codex-mini-latest": "codex-mini-latest",
    }
    for name, key in cases.items():
        assert table.resolve(name) == key, name
    # A different version number is never priced as its neighbour.
    for name in ("claude-opus-4-9", "claude-sonnet-9", "gpt-7", "gpt-5.9-codex", "", "unknown"):
        assert table.resolve(name) is None, name
    # Nor is another size or tier of a listed model (their prices differ up to 20x).
    for name in (
        "o3-pro",
        "o3-mini",
        "o3-mini-high",
        "o3-deep-research",
        "o4-mini-deep-research",
        "gpt-5-pro",
        "gpt-5-codex-mini",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-5.4-nano",
        "gpt-5.4-pro",
        "gpt-5.1-codex-max-turbo",
        "claude-opus-4-6-max",
    ):
        assert table.resolve(name) is None, name


def test_long_context_prices_whole_request() -> None:
    price = TABLE.price("claude-sonnet-4-5-20250929")
    assert price is not None
    assert price.rates_for(None).input == 3
    assert price.rates_for(200_000).input == 6  # class "above 200K"
    assert price.rates_for(100_000).input == 3


def test_pricing_override_newer_date_wins(tmp_path: Path) -> None:
    bundled = pricing_mod.bundled_table()
    override = tmp_path / "pricing.json"
    assert pricing_mod.load_pricing(override).origin == "bundled"  # missing
    override.write_text(
        json.dumps({"date": "2099-01-01", "models": {"claude-opus-4-6": {"input": 1, "output": 2}}})
    )
    table = pricing_mod.load_pricing(override)
    assert table.date == "2099-01-01" and table.price("claude-opus-4-6").base.cache_read == 1  # type: ignore[union-attr]
    override.write_text(
        json.dumps({"date": "2000-01-01", "models": {"x": {"input": 1, "output": 2}}})
    )
    assert pricing_mod.load_pricing(override).date == bundled.date
    override.write_text("{not json")
    table = pricing_mod.load_pricing(override)
    assert table.date == bundled.date and "ignoring" in table.warnings[0]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "JSON object"),
        ({"date": "2026-13-01", "models": {"a": {"input": 1, "output": 1}}}, "real date"),
        ({"date": "2026-01-01", "models": {}}, "non-empty"),
        ({"date": "2026-01-01", "models": {"a": {"input": -1, "output": 1}}}, "between 0"),
        ({"date": "2026-01-01", "models": {"a": {"input": 1}}}, "output is required"),
        (
            {"date": "2026-01-01", "models": {"a": {"input": 1, "output": 1, "cachewrite": 1}}},
            "unknown key",
        ),
        ({"date": "2026-01-01", "models": {"A b": {"input": 1, "output": 1}}}, "lower-case"),
        (
            {
                "date": "2026-01-01",
                "models": {
                    "a": {"input": 1, "output": 1, "longContext": {"input": 2, "output": 2}}
                },
            },
            "threshold",
        ),
        (
            {
                "date": "2026-01-01",
                "models": {"a": {"input": 1, "output": 1}},
                "aliases": {"b": "c"},
            },
            "unknown model",
        ),
        (
            {"date": "2026-01-01", "currency": "EUR", "models": {"a": {"input": 1, "output": 1}}},
            "USD",
        ),
    ],
)
def test_pricing_validation(doc: Any, message: str) -> None:
    with pytest.raises(pricing_mod.PricingError, match=message):
        pricing_mod.parse_table(doc)


def test_new_threshold_rebuilds_index(tmp_path: Path, tz) -> None:
    root, calls = build_claude_tree(tmp_path / "home")
    index = tmp_path / "index"
    check(scan([root], index), expected(calls, "America/New_York"))
    prices = json.loads(json.dumps(PRICES))
    prices["claude-opus-4-6"]["longContext"] = {"threshold": 5000, "input": 50, "output": 250}
    table = pricing_mod.parse_table({"date": "2026-02-01", "models": prices})
    report = usagelogs.scan("claude", roots=[root], index_dir=index, pricing=table)
    a3 = next(c for c in calls if c.cr == 9_000)
    doc = usagelogs.report_json(report)
    old = expected(calls, "America/New_York")["totals"][4]
    extra = (a3.inp * 45 + a3.out * 225 + a3.cr * 4.5) / 1e6  # 10x input price, cache read scaled
    assert doc["totals"]["costUsd"] == pytest.approx(old + extra, abs=1e-5)


def test_fast_path_agrees_with_full_parse() -> None:
    from usagestat.core.usagelogs.readers import _claude_fast

    call = Call("claude-opus-4-6", utc(2026, 1, 1), inp=1, out=2, cw5=3, cw1h=4, cr=5)
    standard = assistant_line(call, "msg_1", "req_1")
    fast = _claude_fast(standard.encode())
    full = json.loads(standard)
    assert fast is not None
    assert fast["message"]["usage"] == full["message"]["usage"]
    assert {k: v for k, v in fast["message"].items() if k != "usage"} == {
        k: v for k, v in full["message"].items() if k not in ("usage", "content", "stop_reason")
    }
    outer = {k: v for k, v in fast.items() if k != "message"}
    assert {"type", "timestamp", "requestId"} <= set(outer)
    assert all(full[k] == v for k, v in outer.items())
    assert (
        _claude_fast(json.dumps({**full, "cwd": "/odd{dir"}, separators=(",", ":")).encode())
        is None
    )
    # Layouts the fast path does not vouch for fall back to a full parse.
    assert _claude_fast(assistant_line(call, "m", "r", usage_last=False).encode()) is None
    nested = json.loads(standard)
    nested = {"toolUseResult": {"message": {"model": "fake", "content": []}}, **nested}
    assert _claude_fast(json.dumps(nested, separators=(",", ":")).encode()) is None
    trailing = json.loads(standard)
    trailing["message"]["container"] = None  # a key after usage
    assert _claude_fast(json.dumps(trailing, separators=(",", ":")).encode()) is None


def test_symlinks_inside_a_root_are_not_followed(tmp_path: Path, tz) -> None:
    root = tmp_path / "projects"
    inside = Call("claude-opus-4-6", utc(2026, 5, 1, 12, 0), inp=1, out=1)
    outside = Call("claude-opus-4-6", utc(2026, 5, 1, 13, 0), inp=1000, out=1000)
    write_lines(root / "p" / "s.jsonl", [assistant_line(inside, "msg_in", "r")])
    elsewhere = tmp_path / "private"
    write_lines(elsewhere / "x.jsonl", [assistant_line(outside, "msg_out", "r")])
    (root / "p" / "link.jsonl").symlink_to(elsewhere / "x.jsonl")
    (root / "linkdir").symlink_to(elsewhere, target_is_directory=True)
    check(scan([root], tmp_path / "index"), expected([inside], "America/New_York"))
