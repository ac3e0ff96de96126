"""opencode-go: official Go usage endpoint with the stored key, and the local SQLite estimate."""

from __future__ import annotations

import calendar
import json
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from helpers import answer, check_answers, expect, fixtures, rate_limited, ready

fixture = fixtures("opencode-go")
USAGE = fixture("usage.json")
ERRORS = fixture("errors.json")
AUTH = fixture("auth.json")
URL = "https://opencode.ai/zen/go/v1/usage"
DATA = ".local/share/opencode"
HOUR = 3600 * 1000


def iso(ms: int) -> str:
    """RFC 3339 as usagestat prints it (milliseconds only when not zero)."""
    text = datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{ms % 1000:03d}Z" if ms % 1000 else "Z")


def write_db(path: Path, rows: list[dict], with_time_created: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    extra = ", time_created INTEGER" if with_time_created else ""
    con.execute(f"CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT{extra}, data TEXT)")
    for i, row in enumerate(rows):
        data = {"role": "assistant", "providerID": "opencode-go", "modelID": "kimi-k2", **row}
        values = [f"msg{i}", "ses1"] + ([None] if with_time_created else []) + [json.dumps(data)]
        con.execute(f"INSERT INTO message VALUES ({','.join('?' * len(values))})", values)
    con.commit()
    con.close()


def msg(ts: int, cost: float, **extra) -> dict:
    return {"cost": cost, "time": {"created": ts}, **extra}


def add_months(ms: int, months: int) -> int:
    d = datetime.fromtimestamp(ms / 1000, timezone.utc)
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    day = min(d.day, calendar.monthrange(y, m)[1])
    return int(d.replace(year=y, month=m, day=day, microsecond=0).timestamp() * 1000)


def test_api_with_key_from_opencode_auth_file(plugin_env):
    plugin_env.file(f"{DATA}/auth.json", AUTH)
    plugin_env.web.add("GET", URL, json=USAGE)
    run = ready(plugin_env.probe("opencode-go"), source="api", plan="Go")
    session = run.metric("Session")
    assert session["used"] == 37.5 and session["limit"] == 100.0
    assert session["resetsAt"] == "2030-01-01T05:00:00Z"
    assert session["periodDurationMs"] == 5 * HOUR
    weekly = run.metric("Weekly")
    assert weekly["used"] == 12.0 and weekly["periodDurationMs"] == 7 * 24 * HOUR
    monthly = run.metric("Monthly")
    assert monthly["used"] == 100.0 and monthly["color"] == "red"
    assert (
        monthly["resetsAt"] == "2030-01-20T09:30:00Z"
        and monthly["periodDurationMs"] == 30 * 24 * HOUR
    )
    (req,) = plugin_env.requests_to(URL)
    assert req.method == "GET" and req.headers["authorization"] == "Bearer sk-go-example-key"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "sk-go-example-key", "other-provider-secret", "other-refresh")


def test_config_key_wins_over_env_and_env_over_file(plugin_env):
    plugin_env.file(f"{DATA}/auth.json", AUTH)
    plugin_env.setenv("OPENCODE_API_KEY", "sk-env-key-2222")
    plugin_env.web.add("GET", URL, json=USAGE)
    assert plugin_env.probe("opencode-go", api_key="sk-config-key-1111").state == "ready"
    assert plugin_env.probe("opencode-go").state == "ready"
    auths = [r.headers["authorization"] for r in plugin_env.requests_to(URL)]
    assert auths == ["Bearer sk-config-key-1111", "Bearer sk-env-key-2222"]


def test_data_dir_override(plugin_env):
    custom = plugin_env.tmp / "oc-data"
    custom.mkdir()
    (custom / "auth.json").write_text(
        json.dumps({"opencode-go": {"type": "api", "key": "sk-custom-dir"}})
    )
    plugin_env.setenv("OPENCODE_DATA_DIR", str(custom))
    plugin_env.web.add("GET", URL, json=USAGE)
    assert plugin_env.probe("opencode-go", source="api").state == "ready"
    assert plugin_env.requests_to(URL)[0].headers["authorization"] == "Bearer sk-custom-dir"


def test_rejected_rate_limited_and_malformed_answers(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        URL,
        lambda: plugin_env.probe("opencode-go", api_key="sk-bad-key-3333"),
        answer("credential-denied", "opencode auth login", status=401, json=ERRORS["auth"]),
        answer(
            "credential-denied",
            "No active OpenCode Go subscription",
            status=403,
            json=ERRORS["entitlement"],
        ),
        rate_limited(90),
        answer("failed", "HTML", body="<html>oops</html>"),
        answer("failed", "missing usage", json={"windows": []}),
        answer("failed", "usage.rolling.percent", json={"usage": {"rolling": {"percent": "n/a"}}}),
        secrets=("sk-bad-key-3333",),
    )


def test_missing_key_and_no_history(plugin_env):
    expect(plugin_env.probe("opencode-go"), "missing-auth", "opencode auth login")
    expect(plugin_env.probe("opencode-go", source="api"), "missing-auth", "OPENCODE_API_KEY")
    # An auth.json without a Go entry does not count as a key.
    plugin_env.file(f"{DATA}/auth.json", {"anthropic": AUTH["anthropic"]})
    assert plugin_env.probe("opencode-go").state == "missing-auth"
    assert plugin_env.web.requests == []


def test_local_estimate_from_history_databases(plugin_env):
    now = int(time.time() * 1000)
    anchor = now - 40 * 24 * HOUR
    recent = [msg(now - 1 * HOUR, 1.2), msg(now - 2 * HOUR, 1.8), msg(now - 6 * HOUR, 3.0)]
    noise = [
        msg(now - HOUR, 50.0, providerID="anthropic"),
        msg(now - HOUR, 50.0, role="user"),
        {"time": {"created": now - HOUR}},  # no cost
    ]
    write_db(plugin_env.path(f"{DATA}/opencode.db"), [msg(anchor, 10.0), *recent, *noise])
    write_db(
        plugin_env.path(f"{DATA}/opencode-next.db"),
        [msg(now - 3 * HOUR, 0.6)],
        with_time_created=False,
    )
    plugin_env.path(f"{DATA}/notes.db").write_text("not a database")
    run = plugin_env.probe("opencode-go")  # no key: auto falls back to local
    assert run.state == "ready", run.error
    assert run.json["source"] == "local" and run.json["plan"] == "Go (estimated)"
    session = run.metric("Session")
    assert abs(session["used"] - (1.2 + 1.8 + 0.6) / 12 * 100) < 1e-9
    assert session["resetsAt"] == iso(now - 3 * HOUR + 5 * HOUR)
    assert session["periodDurationMs"] == 5 * HOUR
    today = datetime.fromtimestamp(now / 1000, timezone.utc)
    monday = datetime(today.year, today.month, today.day, tzinfo=timezone.utc) - timedelta(
        days=today.weekday()
    )
    monday_ms = int(monday.timestamp() * 1000)
    costs = [(now - HOUR, 1.2), (now - 2 * HOUR, 1.8), (now - 6 * HOUR, 3.0), (now - 3 * HOUR, 0.6)]
    week = sum(c for ts, c in costs if ts >= monday_ms)
    weekly = run.metric("Weekly")
    assert abs(weekly["used"] - week / 30 * 100) < 1e-9
    assert weekly["resetsAt"] == iso(monday_ms + 7 * 24 * HOUR)
    # The monthly window is anchored on the first Go message (40 days ago):
    # it started one month after it and ends two months after it.
    monthly = run.metric("Monthly")
    assert abs(monthly["used"] - 6.6 / 60 * 100) < 1e-9
    assert monthly["resetsAt"] == iso(add_months(anchor, 2))
    assert monthly["periodDurationMs"] == add_months(anchor, 2) - add_months(anchor, 1)
    assert run.metric("Source")["detail"] is True
    assert plugin_env.web.requests == []


def test_local_caps_from_settings_and_clamping(plugin_env):
    now = int(time.time() * 1000)
    write_db(plugin_env.path(f"{DATA}/opencode.db"), [msg(now - HOUR, 30.0)])
    run = plugin_env.probe("opencode-go", source="local", settings={"sessionCapUsd": 60})
    assert run.state == "ready", run.error
    assert run.metric("Session")["used"] == 50.0
    assert run.metric("Monthly")["used"] == 50.0
    assert run.metric("Weekly")["used"] == 100.0  # $30 of $30


def test_local_with_key_but_no_history_says_no_data(plugin_env):
    plugin_env.file(f"{DATA}/auth.json", AUTH)
    run = plugin_env.probe("opencode-go", source="local")
    assert run.state == "ready", run.error
    assert run.metric("Status") == {
        "type": "badge",
        "label": "Status",
        "text": "No usage data",
        "color": "grey",
    }
    plugin_env.assert_no_secrets(run, "sk-go-example-key")
