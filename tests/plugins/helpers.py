"""Helpers shared by the provider plugin tests (``tests/plugins/test_<id>.py``).

Every plugin is tested for the same scenarios (normal account, refresh or regional
variant, 401/403, 429 with Retry-After, malformed body, missing credential); these
helpers hold the moves those scenarios repeat, so a test file keeps only what is
specific to its provider::

    fixture = fixtures("moonshot")

    def test_errors(plugin_env):
        check_answers(
            plugin_env,
            "GET",
            URL,
            lambda: plugin_env.probe("moonshot", api_key=KEY),
            answer("credential-denied", "HTTP 401", status=401, json={}),
            rate_limited(42),
            answer("failed", "HTML", body="<html>gateway</html>"),
            secrets=(KEY,),
        )
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[2]


def fixtures(plugin_id: str) -> Callable[[str], Any]:
    """A loader for ``plugins/<id>/fixtures/<name>``: JSON parsed, anything else as text."""
    folder = ROOT / "plugins" / plugin_id / "fixtures"

    def load(name: str) -> Any:
        text = (folder / name).read_text(encoding="utf-8")
        return json.loads(text) if name.endswith(".json") else text

    return load


def utc_month() -> tuple[datetime, datetime]:
    """The current UTC calendar month: its first instant and the next month's."""
    now = datetime.now(timezone.utc)
    start = datetime(now.year, now.month, 1, tzinfo=timezone.utc)
    end = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end


def expect(run: Any, state: str, *texts: str, retry_after: float | None = None) -> Any:
    """Assert the probe ended in ``state`` with each of ``texts`` in its message."""
    assert run.state == state, (state, run.state, run.error)
    for text in texts:
        assert run.error is not None and text in run.error, (text, run.error)
    if retry_after is not None:
        assert run.retry_after_sec == retry_after, (retry_after, run.retry_after_sec)
    return run


def ready(run: Any, *, source: str | None = None, plan: str | None = None) -> Any:
    """Assert a ready snapshot (with this source and plan when given); returns the run."""
    assert run.state == "ready", run.error
    if source is not None:
        assert run.json["source"] == source
    if plan is not None:
        assert run.json.get("plan") == plan
    return run


def only_request(env: Any, url: str, method: str | None = None, **headers: str) -> Any:
    """The one request sent to ``url``, checking header values (``x_api_key`` = ``x-api-key``)."""
    (req,) = env.requests_to(url, method)
    for name, value in headers.items():
        assert req.headers.get(name.replace("_", "-")) == value, (name, req.headers.get(name))
    return req


def form(req: Any) -> dict[str, str]:
    """A request's ``application/x-www-form-urlencoded`` body (first value of each field)."""
    return {k: v[0] for k, v in parse_qs(req.text()).items()}


def deeply_nested(data: Any, *path: str | int, depth: int = 3000) -> str:
    """``data`` as JSON text with the member at ``path`` replaced by an array nested
    ``depth`` levels deep (``[[[…1…]]]``), which ``json.dumps`` cannot write itself.
    ``String()`` or ``Number()`` of such a value overflows the JS engine's stack."""
    copy = json.loads(json.dumps(data))
    holder = copy
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = "@@deep@@"
    return json.dumps(copy).replace('"@@deep@@"', "[" * depth + "1" + "]" * depth)


@dataclass(frozen=True)
class Answer:
    """A canned answer (``web.add`` arguments) and the outcome a probe must give for it."""

    state: str
    texts: tuple[str, ...] = ()
    retry_after: float | None = None
    response: Mapping[str, Any] = field(default_factory=dict)


def answer(state: str, *texts: str, retry_after: float | None = None, **response: Any) -> Answer:
    """``response`` (status=, json=, body=, headers=) must end the probe in ``state``."""
    return Answer(state, texts, retry_after, response)


def rate_limited(retry_after: int, *texts: str, **response: Any) -> Answer:
    """A 429 with ``Retry-After: <retry_after>``: ``rate-limited``, retry after that long."""
    canned = {"status": 429, "headers": {"Retry-After": str(retry_after)}, "json": {}}
    return Answer("rate-limited", texts, retry_after, {**canned, **response})


def check_answers(
    env: Any,
    method: str,
    url: str,
    probe: Callable[[], Any],
    *answers: Answer,
    secrets: tuple[str, ...] = (),
) -> None:
    """Serve each answer once at ``method url``, probe, and check the outcome and that
    no secret shows; every request must have matched a route."""
    for expected in answers:
        env.web.add(method, url, times=1, **expected.response)
        run = probe()
        expect(run, expected.state, *expected.texts, retry_after=expected.retry_after)
        env.assert_no_secrets(run, *secrets)
    assert env.web.unmatched == []


def vscode_state_db(env: Any, rel: str, items: Mapping[str, str]) -> Path:
    """A VS Code-style ``state.vscdb`` (``ItemTable`` key/value) under the test HOME."""
    path = env.path(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)"
        )
        db.executemany("INSERT INTO ItemTable VALUES (?, ?)", list(items.items()))
    db.close()
    return path
