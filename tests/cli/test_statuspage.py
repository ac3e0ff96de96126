"""Statuspage fetching behind ``status`` and ``usage --status``: parallel, bounded, never raising."""

from __future__ import annotations

import json
import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from usagestat.core.statuspage import fetch_statuses, status_json_url


def _slow(seconds: float, indicator: str = "none"):
    def handler(_request):
        time.sleep(seconds)
        return Response(
            json.dumps({"status": {"indicator": indicator, "description": "ok"}}),
            content_type="application/json",
        )

    return handler


@pytest.fixture
def threaded_server():
    """A server answering requests concurrently (the default fixture serves one at a time)."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_status_json_url() -> None:
    assert status_json_url("https://status.x.com") == "https://status.x.com/api/v2/status.json"
    assert status_json_url("https://status.x.com/") == "https://status.x.com/api/v2/status.json"
    assert (
        status_json_url("https://status.x.com/api/v2/status.json?a=1")
        == "https://status.x.com/api/v2/status.json"
    )


def test_pages_are_fetched_in_parallel(threaded_server) -> None:
    httpserver = threaded_server
    arrived = {"a": threading.Event(), "b": threading.Event()}
    overlapped: list[bool] = []

    def meets(own: str, other: str, indicator: str):
        """Answers only once the other page's request is in flight too (or after 5 s)."""

        def handler(request):
            arrived[own].set()
            overlapped.append(arrived[other].wait(5))
            return _slow(0, indicator)(request)

        return handler

    httpserver.expect_request("/a/api/v2/status.json").respond_with_handler(meets("a", "b", "none"))
    httpserver.expect_request("/b/api/v2/status.json").respond_with_handler(
        meets("b", "a", "minor")
    )
    found = fetch_statuses(
        [
            ("a", "A", httpserver.url_for("/a")),
            ("b", "B", httpserver.url_for("/b")),
            ("c", "C", None),
            ("a2", "A again", httpserver.url_for("/a")),
        ],
        timeout=5,
    )
    assert overlapped and all(overlapped)  # one after another, each would wait its 5 s
    assert [s.indicator for s in found] == ["none", "minor", "unknown", "none"]
    assert found[2].status_url is None and found[2].error is None
    assert found[3].provider_id == "a2" and found[3].display_name == "A again"


def test_a_hung_page_is_unknown_after_the_timeout(threaded_server) -> None:
    httpserver = threaded_server
    httpserver.expect_request("/slow/api/v2/status.json").respond_with_handler(_slow(1.5))
    started = time.monotonic()
    (found,) = fetch_statuses([("x", "X", httpserver.url_for("/slow"))], timeout=0.5)
    assert time.monotonic() - started < 1.4
    assert found.indicator == "unknown"
    assert "timed out" in (found.error or "")


def test_unexpected_bodies_are_unknown_with_a_reason(httpserver) -> None:
    httpserver.expect_request("/html/api/v2/status.json").respond_with_data("<html>")
    httpserver.expect_request("/odd/api/v2/status.json").respond_with_json(
        {"status": {"indicator": "purple"}}
    )
    html, odd = fetch_statuses(
        [("h", "H", httpserver.url_for("/html")), ("o", "O", httpserver.url_for("/odd"))]
    )
    assert html.indicator == odd.indicator == "unknown"
    assert "unexpected body" in (html.error or "")
    assert "unknown indicator" in (odd.error or "")
