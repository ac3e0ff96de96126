"""Provider status from Statuspage (``<statusPageUrl>/api/v2/status.json``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence

from .models import ProviderStatus

INDICATORS = ("none", "minor", "major", "critical", "maintenance")
TIMEOUT_SEC = 10.0


def status_json_url(status_page_url: str) -> str:
    return status_page_url.rstrip("/") + "/api/v2/status.json"


def fetch_status(
    provider_id: str, display_name: str, status_page_url: str | None, ca_bundle: str | None = None
) -> ProviderStatus:
    if not status_page_url:
        return ProviderStatus(provider_id, display_name, None, "unknown", None, None)
    from .httpclient import HttpError, request

    url = status_json_url(status_page_url)
    try:
        response = request(url, timeout=TIMEOUT_SEC, ca_bundle=ca_bundle, headers={"Accept": "application/json"})
    except HttpError as exc:
        return ProviderStatus(provider_id, display_name, url, "unknown", None, str(exc))
    if response.status != 200:
        return ProviderStatus(provider_id, display_name, url, "unknown", None, f"status page answered HTTP {response.status}")
    try:
        data = json.loads(response.body.decode("utf-8"))
        status = data["status"]
        indicator = status.get("indicator")
        description = status.get("description")
    except (ValueError, KeyError, TypeError, AttributeError):
        return ProviderStatus(provider_id, display_name, url, "unknown", None, "status page returned an unexpected body")
    if indicator not in INDICATORS:
        indicator = "unknown"
    return ProviderStatus(
        provider_id, display_name, url, indicator, description if isinstance(description, str) else None, None
    )


def fetch_statuses(
    targets: Sequence[tuple[str, str, str | None]], ca_bundle: str | None = None
) -> list[ProviderStatus]:
    """Fetch in parallel (one thread per distinct page); results keep input order."""
    results: dict[str, ProviderStatus] = {}
    unique = {url: (pid, name) for pid, name, url in targets if url}
    threads = []

    def worker(url: str, pid: str, name: str) -> None:
        results[url] = fetch_status(pid, name, url, ca_bundle)

    for url, (pid, name) in unique.items():
        thread = threading.Thread(target=worker, args=(url, pid, name), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(TIMEOUT_SEC + 2)
    out = []
    for pid, name, url in targets:
        if not url:
            out.append(ProviderStatus(pid, name, None, "unknown", None, None))
            continue
        found = results.get(url)
        if found is None:
            out.append(ProviderStatus(pid, name, status_json_url(url), "unknown", None, "timed out"))
        else:
            out.append(ProviderStatus(pid, name, found.status_url, found.indicator, found.description, found.error))
    return out
