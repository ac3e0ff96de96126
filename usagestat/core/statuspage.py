"""Provider status from Statuspage (``<statusPageUrl>/api/v2/status.json``).

Used by ``usagestat status`` and ``usage --status``. Every outcome is a
:class:`ProviderStatus`; failures (network, HTTP status, unexpected body,
timeout) give indicator ``unknown`` with the reason in ``error``, never an
exception, so one slow status page cannot break the others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from .models import ProviderStatus

INDICATORS = ("none", "minor", "major", "critical", "maintenance")
TIMEOUT_SEC = 10.0
MAX_BODY = 1024 * 1024
_SUFFIX = "/api/v2/status.json"


def status_json_url(status_page_url: str) -> str:
    """``https://status.example.com`` -> ``https://status.example.com/api/v2/status.json``."""
    base = status_page_url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    return base if base.endswith(_SUFFIX) else base + _SUFFIX


def fetch_status(
    provider_id: str,
    display_name: str,
    status_page_url: str | None,
    ca_bundle: str | None = None,
    timeout: float = TIMEOUT_SEC,
) -> ProviderStatus:
    """The status of one provider (indicator ``unknown`` when there is no page or it fails)."""
    if not status_page_url:
        return ProviderStatus(provider_id, display_name, None, "unknown", None, None)
    import json
    import os

    from .httpclient import HttpError, request

    url = status_json_url(status_page_url)

    def failed(reason: str) -> ProviderStatus:
        return ProviderStatus(provider_id, display_name, url, "unknown", None, reason)

    try:
        response = request(
            url,
            timeout=timeout,
            ca_bundle=os.path.expanduser(ca_bundle) if ca_bundle else None,
            headers={"Accept": "application/json"},
            max_body=MAX_BODY,
        )
    except HttpError as exc:
        return failed(str(exc))
    if response.status != 200:
        return failed(f"status page answered HTTP {response.status}")
    try:
        data = json.loads(response.body.decode("utf-8"))
        status = data["status"]
        indicator = status.get("indicator")
        description = status.get("description")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return failed("status page returned an unexpected body (not Statuspage JSON)")
    if indicator not in INDICATORS:
        return failed(f"status page returned an unknown indicator {str(indicator)[:40]!r}")
    if isinstance(description, str):
        from .results import clean_text  # an escaped lone surrogate cannot be printed as UTF-8

        description = " ".join(clean_text(description).split())[:200] or None
    else:
        description = None
    return ProviderStatus(provider_id, display_name, url, indicator, description, None)


def fetch_statuses(
    targets: Sequence[tuple[str, str, str | None]],
    ca_bundle: str | None = None,
    timeout: float = TIMEOUT_SEC,
) -> list[ProviderStatus]:
    """Fetch ``(provider_id, display_name, statusPageUrl)`` targets in parallel.

    One thread per distinct page; the whole call returns within about
    ``timeout`` seconds, a page still pending by then is reported as timed
    out. Results keep the order of ``targets``.
    """
    results: dict[str, ProviderStatus] = {}
    lock = threading.Lock()
    unique: dict[str, tuple[str, str]] = {}
    for pid, name, url in targets:
        if url and url not in unique:
            unique[url] = (pid, name)

    def worker(url: str, pid: str, name: str) -> None:
        found = fetch_status(pid, name, url, ca_bundle, timeout)
        with lock:
            results[url] = found

    threads = []
    for url, (pid, name) in unique.items():
        thread = threading.Thread(target=worker, args=(url, pid, name), daemon=True)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + timeout + 1.0
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    out = []
    for pid, name, url in targets:
        if not url:
            out.append(ProviderStatus(pid, name, None, "unknown", None, None))
            continue
        with lock:
            found = results.get(url)
        if found is None:
            message = f"http request failed: timed out after {timeout:g}s"
            out.append(ProviderStatus(pid, name, status_json_url(url), "unknown", None, message))
        else:
            out.append(
                ProviderStatus(
                    pid, name, found.status_url, found.indicator, found.description, found.error
                )
            )
    return out
