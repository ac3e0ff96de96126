"""Today / Yesterday / Last 30 Days lines of the claude and codex plugins (ctx.host.usage.scanLogs).

The logs are written under the test's HOME, dated relative to now (TZ=UTC in
the harness); the quota endpoints answer from the plugins' own fixtures.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from helpers import fixtures
from pluginharness import make_jwt

NOW = datetime.now(timezone.utc)


def _ts(days_ago: int) -> str:
    at = (NOW - timedelta(days=days_ago)).replace(hour=12, minute=0, second=0, microsecond=0)
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _assistant(msg_id: str, days_ago: int, model: str, inp: int, out: int, cr: int = 0) -> str:
    return json.dumps(
        {
            "message": {
                "model": model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "ok"}],
                "usage": {"input_tokens": inp, "cache_read_input_tokens": cr, "output_tokens": out},
            },
            "requestId": "r" + msg_id,
            "type": "assistant",
            "timestamp": _ts(days_ago),
        },
        separators=(",", ":"),
    )


def _claude_ready(env) -> None:
    env.file(".claude/.credentials.json", fixtures("claude")("credentials.json"))
    env.fake_command("secret-tool", "exit 1")
    env.web.add(
        "GET", "https://api.anthropic.com/api/oauth/usage", json=fixtures("claude")("usage.json")
    )


def test_claude_cost_lines(plugin_env):
    _claude_ready(plugin_env)
    lines = [
        # claude-opus-4-6: $5 / $25 / cache read $0.50 per MTok (bundled table)
        _assistant("t1", 0, "claude-opus-4-6", 1_000_000, 100_000, cr=2_000_000),  # $8.50
        _assistant("t1", 0, "claude-opus-4-6", 1_000_000, 100_000, cr=2_000_000),  # duplicate
        _assistant("y1", 1, "claude-opus-4-6", 200_000, 20_000),  # $1.50
        _assistant("o1", 10, "claude-prototype-z", 1000, 1000),  # unpriced
        _assistant("old", 45, "claude-opus-4-6", 9_000_000, 0),  # outside the 30 days
    ]
    plugin_env.file(".claude/projects/-home-dev-app/session.jsonl", "\n".join(lines) + "\n")
    # Claude Code's XDG location, also read by `usagestat cost`.
    xdg = [
        _assistant("x1", 0, "claude-opus-4-6", 400_000, 0),  # $2.00
        _assistant("y1", 1, "claude-opus-4-6", 200_000, 20_000),  # copied from above: once
    ]
    plugin_env.file(".config/claude/projects/-home-dev-lib/s.jsonl", "\n".join(xdg) + "\n")
    run = plugin_env.probe("claude")
    assert run.state == "ready", run.error
    assert run.metric("Session")["type"] == "progress"  # the quota lines are still there
    assert run.metric("Today") == {
        "type": "text",
        "label": "Today",
        "value": "$10.50 · 3.5M tokens",
        "detail": True,
    }
    assert run.metric("Yesterday")["value"] == "$1.50 · 220K tokens"
    assert run.metric("Last 30 Days")["value"] == "≥ $12.00 · 3.7M tokens"
    labels = [m["label"] for m in run.metrics]
    assert labels[-3:] == ["Today", "Yesterday", "Last 30 Days"]
    index = plugin_env.home / ".local" / "share" / "usagestat" / "log-index"
    assert len(list(index.glob("claude-*.json"))) == 2


def test_claude_cost_lines_after_index_damage_and_a_time_zone_change(plugin_env):
    _claude_ready(plugin_env)
    lines = [
        _assistant("t1", 0, "claude-opus-4-6", 1_000_000, 100_000, cr=2_000_000),  # $8.50
        _assistant("y1", 1, "claude-opus-4-6", 200_000, 20_000),  # $1.50
    ]
    plugin_env.file(".claude/projects/-home-dev-app/session.jsonl", "\n".join(lines) + "\n")
    assert plugin_env.probe("claude").metric("Today")["value"] == "$8.50 · 3.1M tokens"
    index = plugin_env.home / ".local" / "share" / "usagestat" / "log-index"
    (index_file,) = index.glob("claude-*.json")
    index_file.write_bytes(index_file.read_bytes()[:-10] + b"0123456789")  # body; header intact
    # Another name for UTC: the cached local days no longer apply, the dates stay the same.
    plugin_env.setenv("TZ", "Etc/UTC")
    for _ in range(2):
        run = plugin_env.probe("claude")
        assert run.state == "ready", run.error
        assert run.metric("Today")["value"] == "$8.50 · 3.1M tokens"
        assert run.metric("Yesterday")["value"] == "$1.50 · 220K tokens"
        assert run.metric("Last 30 Days")["value"] == "$10.00 · 3.3M tokens"
        assert not any("cost lines skipped" in message for _, message in run.logs), run.logs


def test_no_logs_no_lines_and_scan_failure_does_not_fail_the_probe(plugin_env):
    _claude_ready(plugin_env)
    run = plugin_env.probe("claude")
    assert run.state == "ready", run.error
    assert not run.has_metric("Today")
    # Logs exist but the index cannot be written (its folder is a file): the quota lines
    # still come back and the failure is logged.
    plugin_env.file(
        ".claude/projects/p/s.jsonl", _assistant("a", 0, "claude-opus-4-6", 10, 10) + "\n"
    )
    plugin_env.file(".local/share/usagestat/log-index", "not a directory")
    run = plugin_env.probe("claude")
    assert run.state == "ready", run.error
    assert run.has_metric("Session") and not run.has_metric("Today")
    assert any("cost lines skipped" in message for _, message in run.logs), run.logs


def test_codex_cost_lines(plugin_env):
    data = fixtures("codex")("auth.json")
    access = make_jwt({"exp": int(time.time()) + 3600, "sub": "user-a"})
    data["tokens"].update(access_token=access, refresh_token="rt_fixture")
    plugin_env.file(".codex/auth.json", data)
    plugin_env.fake_command("secret-tool", "exit 1")
    plugin_env.web.add(
        "GET", "https://chatgpt.com/backend-api/wham/usage", json=fixtures("codex")("usage.json")
    )
    events = [
        {"timestamp": _ts(0), "type": "turn_context", "payload": {"model": "gpt-5.1-codex"}},
        {
            "timestamp": _ts(0),
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {
                    "total_token_usage": {
                        # $1.25 uncached input, $0.125 cached, $10 output per MTok
                        "input_tokens": 2_000_000,
                        "cached_input_tokens": 1_000_000,
                        "output_tokens": 100_000,
                        "reasoning_output_tokens": 40_000,
                        "total_tokens": 2_100_000,
                    }
                },
            },
        },
    ]
    plugin_env.file(
        ".codex/sessions/2026/01/01/rollout-2026-01-01T00-00-00-abc.jsonl",
        "\n".join(json.dumps(e) for e in events) + "\n",
    )
    run = plugin_env.probe("codex")
    assert run.state == "ready", run.error
    assert run.metric("Today")["value"] == "$2.38 · 2.1M tokens"
    assert run.metric("Yesterday")["value"] == "$0.00 · 0 tokens"
    assert run.metric("Last 30 Days")["value"] == "$2.38 · 2.1M tokens"
