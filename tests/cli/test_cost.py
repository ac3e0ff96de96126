"""``usagestat cost`` and ``usagestat pricing`` on a generated log tree (clock pinned to 2026-01-15 12:00Z)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .conftest import ROOT, Cli

OPUS = "claude-opus-4-6"  # $5 in, $25 out, $0.50 cache read per MTok in the bundled table
SONNET = "claude-sonnet-4-5-20250929"  # $3 in, $15 out, $3.75 cache write


def _line(msg_id: str, ts: str, model: str, inp: int, out: int, cw: int = 0, cr: int = 0) -> str:
    usage = {
        "input_tokens": inp,
        "cache_creation_input_tokens": cw,
        "cache_read_input_tokens": cr,
        "output_tokens": out,
    }
    return json.dumps(
        {
            "parentUuid": None,
            "message": {
                "model": model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "ok"}],
                "usage": usage,
            },
            "requestId": "req_" + msg_id,
            "type": "assistant",
            "uuid": "u" + msg_id,
            "timestamp": ts,
        },
        separators=(",", ":"),
    )


def _tree(cli: Cli) -> Path:
    root = cli.home / ".claude" / "projects" / "-home-dev-app"
    root.mkdir(parents=True)
    lines = [
        _line("m1", "2026-01-14T23:30:00.000Z", OPUS, 1000, 2000, cr=10_000),
        _line("m1", "2026-01-14T23:30:00.000Z", OPUS, 1000, 2000, cr=10_000),  # duplicate
        _line("m2", "2026-01-15T01:00:00.000Z", SONNET, 100, 1000, cw=4000),
        _line("m3", "2026-01-15T02:00:00.000Z", "claude-prototype-x", 50, 50),
        _line("m4", "2025-11-01T10:00:00.000Z", OPUS, 1, 1),  # outside 30 days
    ]
    (root / "s.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    codex = cli.home / ".codex" / "sessions" / "2026" / "01" / "15"
    codex.mkdir(parents=True)
    events = [
        {
            "timestamp": "2026-01-15T03:00:00Z",
            "type": "turn_context",
            "payload": {"model": "gpt-5.1-codex"},
        },
        {
            "timestamp": "2026-01-15T03:01:00Z",
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {
                    "total_token_usage": {
                        "input_tokens": 2000,
                        "cached_input_tokens": 1000,
                        "output_tokens": 100,
                        "reasoning_output_tokens": 0,
                        "total_tokens": 2100,
                    }
                },
            },
        },
    ]
    (codex / "rollout-2026-01-15T03-00-00-x.jsonl").write_text(
        "\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8"
    )
    return root


OPUS_COST = (1000 * 5 + 2000 * 25 + 10_000 * 0.5) / 1e6
SONNET_COST = (100 * 3 + 1000 * 15 + 4000 * 3.75) / 1e6
CODEX_COST = (1000 * 1.25 + 1000 * 0.125 + 100 * 10) / 1e6


def _by_provider(result: Any) -> dict[str, Any]:
    return {obj["provider"]: obj for obj in result.json()}


def test_cost_json_is_the_spec_cost_object(cli: Cli) -> None:
    _tree(cli)
    result = cli.call("cost", "--json")
    assert result.code == 0, result
    claude = _by_provider(result)["claude"]
    assert set(claude) == {
        "provider",
        "pricingDate",
        "days",
        "totals",
        "unpricedModels",
        "skippedLines",
    }
    assert [d["date"] for d in claude["days"]] == ["2026-01-14", "2026-01-15"]
    assert claude["totals"]["inputTokens"] == 1150
    assert claude["totals"]["costUsd"] == round(OPUS_COST + SONNET_COST, 6)
    assert claude["unpricedModels"] == ["claude-prototype-x"]
    day = claude["days"][1]
    assert set(day) == {
        "date",
        "inputTokens",
        "outputTokens",
        "cacheCreationTokens",
        "cacheReadTokens",
        "costUsd",
        "models",
    }
    proto = next(m for m in day["models"] if m["model"] == "claude-prototype-x")
    assert proto["costUsd"] is None and proto["outputTokens"] == 50
    codex = _by_provider(result)["codex"]
    assert codex["totals"] == {
        "inputTokens": 1000,
        "outputTokens": 100,
        "cacheCreationTokens": 0,
        "cacheReadTokens": 1000,
        "costUsd": round(CODEX_COST, 6),
    }
    # The index makes the second run read nothing new and agree.
    assert cli.call("cost", "--json").json() == result.json()
    assert list((cli.data_dir / "log-index").glob("claude-*.json"))


def test_cost_local_dates_follow_tz(cli: Cli) -> None:
    _tree(cli)
    result = cli.call("cost", "--json", "--provider", "claude", env={"TZ": "Asia/Tokyo"})
    days = result.json()[0]["days"]
    assert [d["date"] for d in days] == ["2026-01-15"]  # 23:30Z is already the 15th in Tokyo


def test_cost_rebuilds_a_damaged_index_after_a_time_zone_change(cli: Cli) -> None:
    _tree(cli)
    assert cli.call("cost", "--json", "--provider", "claude").code == 0
    (index,) = (cli.data_dir / "log-index").glob("claude-*.json")
    index.write_bytes(index.read_bytes()[:-10] + b"0123456789")  # the body; header intact
    tokyo = {"TZ": "Asia/Tokyo"}
    for _ in range(2):  # no log changed: only the other time zone needs the body
        result = cli.call("cost", "--json", "--provider", "claude", env=tokyo)
        assert result.code == 0, result
        assert result.stderr == ""
        claude = result.json()[0]
        assert [d["date"] for d in claude["days"]] == ["2026-01-15"]
        assert claude["totals"]["inputTokens"] == 1150
        assert claude["totals"]["costUsd"] == round(OPUS_COST + SONNET_COST, 6)


def test_cost_days_and_csv(cli: Cli) -> None:
    _tree(cli)
    result = cli.call("cost", "--format", "csv", "--days", "1")
    assert result.code == 0, result
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "date",
        "provider",
        "model",
        "input_tokens",
        "output_tokens",
        "cache_creation_tokens",
        "cache_read_tokens",
        "cost_usd",
    ]
    assert rows[1:] == [
        ["2026-01-15", "claude", "claude-prototype-x", "50", "50", "0", "0", ""],
        ["2026-01-15", "claude", SONNET, "100", "1000", "4000", "0", f"{SONNET_COST:.6f}"],
        ["2026-01-15", "codex", "gpt-5.1-codex", "1000", "100", "0", "1000", f"{CODEX_COST:.6f}"],
    ]
    by_model = cli.call("cost", "--format", "csv", "--by", "model", "--provider", "claude")
    models = list(csv.reader(io.StringIO(by_model.stdout)))[1:]
    assert [r[2] for r in models] == [OPUS, SONNET, "claude-prototype-x"]  # by cost, unpriced last
    assert all(r[0] == "" for r in models)


def test_cost_text_and_plain(cli: Cli) -> None:
    _tree(cli)
    text = cli.call("cost", "--provider", "claude")
    assert text.code == 0, text
    assert text.stdout.startswith(
        "Claude Code · last 30 days, 2025-12-17 … 2026-01-15 · prices of "
    )
    assert "2026-01-14" in text.stdout and "Total" in text.stdout
    assert f"${OPUS_COST + SONNET_COST:.2f}*" in text.stdout
    assert "no price for claude-prototype-x" in text.stdout
    by_model = cli.call("cost", "--by", "model", "--provider", "claude")
    assert "unpriced" in by_model.stdout and OPUS in by_model.stdout
    plain = cli.call("cost", "--plain", "--provider", "codex")
    assert plain.stdout.splitlines()[0] == (
        f"codex 2026-01-15: {round(CODEX_COST, 6)} USD, input 1000, output 100, cache write 0, cache read 1000"
    )
    empty = cli.call("cost", "--provider", "codex", env={"CODEX_HOME": str(cli.tmp / "nowhere")})
    assert "no logs found" in empty.stdout


def test_cost_usage_errors(cli: Cli) -> None:
    assert cli.call("cost", "--days", "0").code == 2
    assert cli.call("cost", "--provider", "gemini").code == 2
    assert cli.call("cost", "--json", "--format", "csv").code == 2
    help_text = cli.call("cost", "--help").stdout
    assert "examples:" in help_text and "usagestat cost --by model" in help_text


def test_pricing_update_installs_and_reprices(cli: Cli, tmp_path: Path) -> None:
    _tree(cli)
    table = json.loads((ROOT / "usagestat" / "core" / "pricing.json").read_text(encoding="utf-8"))
    table["date"] = "2099-01-01"
    table["models"]["claude-prototype-x"] = {"input": 1, "output": 2}
    table["models"][OPUS]["output"] = 50
    new = tmp_path / "prices.json"
    new.write_text(json.dumps(table), encoding="utf-8")
    result = cli.call("pricing", "update", "--from", str(new))
    assert result.code == 0, result
    assert "added    claude-prototype-x" in result.stdout
    assert f"changed  {OPUS} output: 25 → 50" in result.stdout
    installed = cli.data_dir / "pricing.json"
    assert installed.read_bytes() == new.read_bytes()
    assert installed.stat().st_mode & 0o777 == 0o600
    claude = _by_provider(cli.call("cost", "--json"))["claude"]
    assert claude["pricingDate"] == "2099-01-01"
    assert claude["unpricedModels"] == []
    expected = OPUS_COST + 2000 * 25 / 1e6 + SONNET_COST + (50 * 1 + 50 * 2) / 1e6
    assert claude["totals"]["costUsd"] == round(expected, 6)
    shown = cli.call("--json", "pricing", "show").json()
    assert shown["date"] == "2099-01-01" and shown["models"][OPUS]["output"] == 50


def test_pricing_update_rejects_bad_files(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"date": "2026-12-01", "models": {"x": {"input": 1}}}', encoding="utf-8")
    result = cli.call("pricing", "update", "--from", str(bad))
    assert (result.code, result.stderr) == (1, f"usagestat: {bad}: models.x.output is required\n")
    assert not (cli.data_dir / "pricing.json").exists()
    missing = cli.call("pricing", "update", "--from", str(tmp_path / "nope.json"))
    assert missing.code == 1 and "cannot read" in missing.stderr
    old = tmp_path / "old.json"
    old.write_text(
        '{"date": "2020-01-01", "models": {"x": {"input": 1, "output": 1}}}', encoding="utf-8"
    )
    stale = cli.call("pricing", "update", "--from", str(old))
    assert stale.code == 0 and "stays in effect" in stale.stderr
    assert cli.call("pricing").code == 2
