"""Probe provider instances: isolated, in parallel, each within its own deadline.

This is the "probe these providers" logic the CLI and the daemon share. Every
outcome is a validated :class:`UsageSnapshot`; failures are error snapshots
(SPEC §2.1), never exceptions, so one provider can never break another.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import usagestat
from usagestat.core import paths
from usagestat.core.config import Config, SecretCommandError, resolve_api_key
from usagestat.core.models import UsageSnapshot
from usagestat.core.pace import compute_pace
from usagestat.core.redact import Redactor
from usagestat.core.results import (
    InvalidResult,
    error_snapshot,
    parse_probe_error,
    parse_probe_result,
)
from usagestat.core.timeutil import format_timestamp, now_utc

from .instances import Instance
from .isolation import WorkerFailed, WorkerPool, WorkerProcess, kill_all_workers
from .manifest import DEFAULT_MODE

DEFAULT_TIMEOUT_SEC = 30.0

LogSink = Callable[[str, str, str], None]  # (instance_id, level, message)


@dataclass
class ProbeOutcome:
    instance: Instance
    snapshot: UsageSnapshot
    duration_sec: float
    retry_after_sec: float | None = None

    @property
    def ok(self) -> bool:
        return not self.snapshot.is_error


@dataclass
class ProbeOptions:
    source: str | None = None  # CLI --source
    isolated: bool = True  # False = in-process (--debug, unit tests)
    pool: WorkerPool | None = None  # warm workers (daemon)
    on_log: LogSink | None = None
    on_start: Callable[[Instance], None] | None = None
    on_done: Callable[[ProbeOutcome], None] | None = None
    extra_secrets: list[str] = field(default_factory=list)


def probe_timeout(instance: Instance, config: Config) -> float:
    """The first that is set: instance, $USAGESTAT_PROBE_TIMEOUT_SEC, config, manifest, 30 s."""
    if instance.entry and instance.entry.probe_timeout_sec:
        return instance.entry.probe_timeout_sec
    env = os.environ.get("USAGESTAT_PROBE_TIMEOUT_SEC")
    if env:
        try:
            value = float(env)
            if value > 0:
                return value
        except ValueError:
            pass
    if config.probe_timeout_sec:
        return config.probe_timeout_sec
    if instance.plugin and instance.plugin.manifest.probe_timeout_sec:
        return instance.plugin.manifest.probe_timeout_sec
    return DEFAULT_TIMEOUT_SEC


def resolved_source(instance: Instance, options: ProbeOptions) -> str:
    if options.source:
        return options.source
    if instance.entry and instance.entry.source:
        return instance.entry.source
    return "auto"


def _fail(
    instance: Instance, state: str, message: str, started: float, retry: float | None = None
) -> ProbeOutcome:
    snapshot = error_snapshot(
        provider_id=instance.provider_id,
        instance_id=instance.instance_id,
        display_name=instance.display_name,
        state=state,
        message=message,
        fetched_at=format_timestamp(now_utc()),
        status_page_url=instance.status_page_url,
    )
    return ProbeOutcome(instance, snapshot, time.monotonic() - started, retry)


def build_request(
    instance: Instance,
    config: Config,
    source_mode: str,
    api_key: str | None,
    timeout: float,
) -> dict[str, Any]:
    """The JSON request a worker runs (script included, so the child reads no plugin files)."""
    assert instance.plugin is not None
    plugin = instance.plugin
    manifest = plugin.manifest
    entry = instance.entry
    data_dir = paths.data_dir()
    plugin_data = data_dir / "plugin-data" / instance.instance_id
    provider: dict[str, Any] = {
        "id": instance.provider_id,
        "instanceId": instance.instance_id,
        "displayName": instance.display_name,
        "writeCredentials": entry.write_credentials if entry else True,
        "settings": dict(entry.settings) if entry else {},
    }
    if entry:
        for key, value in (
            ("apiKey", api_key),
            ("cookieHeader", entry.cookie_header),
            ("region", entry.region),
            ("workspaceId", entry.workspace_id),
            ("baseUrl", entry.base_url),
        ):
            if value:
                provider[key] = value
    elif api_key:
        provider["apiKey"] = api_key
    secrets = [s for s in (api_key, entry.cookie_header if entry else None) if s]
    return {
        "op": "probe",
        "pluginId": instance.provider_id,
        "instanceId": instance.instance_id,
        "script": plugin.read_script(),
        "scriptName": str(plugin.script_path),
        "timeoutSec": timeout,
        "permissions": manifest.permissions.to_json() if manifest.permissions else None,
        "dataDir": str(data_dir),
        "privateRoots": [str(paths.config_dir()), str(data_dir), str(paths.cache_dir())],
        "caBundle": os.path.expanduser(config.ca_bundle) if config.ca_bundle else None,
        "baseUrl": entry.base_url if entry else None,
        "writeCredentials": provider["writeCredentials"],
        "secrets": secrets,
        # The environment as the caller sees it now: a warm worker started
        # earlier (daemon pool, test session) probes with the current values.
        "env": dict(os.environ),
        "ctx": {
            "pluginId": instance.provider_id,
            "nowIso": format_timestamp(now_utc()),
            "sourceMode": source_mode,
            "webUrl": manifest.web_url,
            "provider": provider,
            "homeDir": os.path.expanduser("~"),
            "app": {
                "version": usagestat.__version__,
                "platform": paths.platform_name(),
                "appDataDir": str(data_dir),
                "pluginDataDir": str(plugin_data),
            },
        },
    }


def _run_request(
    request: dict[str, Any], timeout: float, options: ProbeOptions, instance_id: str
) -> dict[str, Any]:
    def on_log(level: str, message: str) -> None:
        if options.on_log is not None:
            options.on_log(instance_id, level, message)

    if not options.isolated:
        return _run_in_process(request, timeout, on_log)
    pool = options.pool
    worker = pool.acquire() if pool else WorkerProcess()
    try:
        return worker.probe(request, timeout, on_log)
    finally:
        if pool is not None:
            pool.release(worker)
        else:
            worker.close()


def _run_in_process(
    request: dict[str, Any], timeout: float, on_log: Callable[[str, str], None]
) -> dict[str, Any]:
    """Run the probe in this process (``--debug``), still within its deadline.

    The probe runs on its own thread while this one waits for at most the
    deadline (plus the grace an isolated worker gets). Past it the engine's time
    limit is set on the probe's context (host calls fail, promise jobs stop; see
    :class:`runtime.Interrupt`) and the probe is reported ``timed-out`` like an
    isolated one; a synchronous loop keeps its thread until the process exits.
    """
    from .isolation import GRACE_SEC
    from .runtime import Interrupt
    from .worker import handle

    class _Channel:
        def write(self, text: str) -> None:
            import json

            data = json.loads(text)
            if "log" in data:
                on_log(data["log"]["level"], data["log"]["message"])

        def flush(self) -> None:
            pass

    interrupt = Interrupt(timeout)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["reply"] = handle(request, _Channel(), interrupt=interrupt)  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised on the caller's thread (--debug shows it)
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"probe-{request.get('instanceId')}", daemon=True)
    thread.start()
    thread.join(timeout + GRACE_SEC)
    if thread.is_alive():
        interrupt.fire()
        raise WorkerFailed.timed_out(timeout)
    if "error" in box:
        raise box["error"]
    return box["reply"]


def probe_instance(
    instance: Instance, config: Config, options: ProbeOptions | None = None
) -> ProbeOutcome:
    """Probe one instance; always returns an outcome (an error snapshot on failure)."""
    options = options or ProbeOptions()
    started = time.monotonic()
    redactor = Redactor(options.extra_secrets)
    if instance.entry:
        redactor.add(instance.entry.api_key, instance.entry.cookie_header)
    source = resolved_source(instance, options)
    timeout = probe_timeout(instance, config)

    if instance.is_custom:
        from .custom import probe_custom

        return probe_custom(instance, config, timeout, started, redactor, options)
    if instance.plugin is None:
        problem = instance.broken.first_problem if instance.broken else "plugin not found"
        return _fail(
            instance, "failed", f"plugin {instance.provider_id} is invalid: {problem}", started
        )
    manifest = instance.plugin.manifest
    if source != "auto" and manifest.supported_modes and source not in manifest.supported_modes:
        return _fail(
            instance,
            "unsupported",
            f"{manifest.name} does not support source {source!r} "
            f"(supports: {', '.join(manifest.supported_modes)})",
            started,
        )
    try:
        api_key = resolve_api_key(instance.entry) if instance.entry else None
    except SecretCommandError as exc:
        return _fail(instance, "missing-auth", str(exc), started)
    redactor.add(api_key)
    try:
        request = build_request(instance, config, source, api_key, timeout)
    except (OSError, UnicodeDecodeError, KeyError) as exc:
        return _fail(instance, "failed", f"cannot read plugin script: {exc}", started)
    try:
        reply = _run_request(request, timeout, options, instance.instance_id)
    except WorkerFailed as failure:
        return _fail(instance, failure.state, failure.message, started)
    except OSError as exc:
        return _fail(instance, "failed", f"cannot start probe worker: {exc}", started)
    redactor.add(*(reply.get("secrets") or []))
    fetched_at = format_timestamp(now_utc())
    if not reply.get("ok"):
        failure = parse_probe_error(reply.get("error"))
        return _fail(
            instance, failure.state, redactor(failure.message), started, failure.retry_after_sec
        )
    try:
        result = parse_probe_result(reply.get("value"))
    except InvalidResult as exc:
        return _fail(
            instance,
            "failed",
            f"plugin {instance.provider_id} returned an invalid result: {exc}",
            started,
        )
    return ProbeOutcome(
        instance,
        snapshot_from_result(instance, result, fetched_at, source, redactor),
        time.monotonic() - started,
        result.retry_after_sec,
    )


def snapshot_from_result(
    instance: Instance, result: Any, fetched_at: str, source: str, redactor: Redactor
) -> UsageSnapshot:
    """A ready snapshot from a validated result (``no-data`` when it has no lines)."""
    if not result.metrics:
        return error_snapshot(
            provider_id=instance.provider_id,
            instance_id=instance.instance_id,
            display_name=instance.display_name,
            state="no-data",
            message="the provider returned no usage data",
            fetched_at=fetched_at,
            status_page_url=instance.status_page_url,
        )
    if result.source:
        resolved = result.source
    elif source != "auto":
        resolved = source
    elif instance.plugin:
        resolved = instance.plugin.manifest.resolved_auto_mode
    else:
        resolved = "custom" if instance.is_custom else DEFAULT_MODE
    _scrub_lines(result.metrics, redactor)
    snapshot = UsageSnapshot(
        provider_id=instance.provider_id,
        instance_id=instance.instance_id,
        display_name=instance.configured_name or result.display_name or instance.display_name,
        source=resolved,
        plan=redactor(result.plan) if result.plan else None,
        metrics=result.metrics,
        fetched_at=fetched_at,
        status_page_url=instance.status_page_url,
    )
    snapshot.pace = compute_pace(snapshot.metrics, now_utc())
    return snapshot


def _scrub_lines(lines: list[Any], redactor: Redactor) -> None:
    """A plugin must not echo a secret into a line; scrub every text member."""
    for line in lines:
        for attr in ("label", "value", "text", "subtitle"):
            value = getattr(line, attr, None)
            if isinstance(value, str) and value:
                setattr(line, attr, redactor(value))


def probe_many(
    instances: Sequence[Instance],
    config: Config,
    options: ProbeOptions | None = None,
    max_parallel: int | None = None,
) -> list[ProbeOutcome]:
    """Probe in parallel (at most ``maxParallel`` at once); results keep input order."""
    options = options or ProbeOptions()
    limit = max(1, max_parallel or config.max_parallel)
    results: list[ProbeOutcome | None] = [None] * len(instances)
    if not instances:
        return []
    next_index = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal next_index
        while True:
            with lock:
                if next_index >= len(instances):
                    return
                index = next_index
                next_index += 1
            instance = instances[index]
            if options.on_start:
                options.on_start(instance)
            outcome = probe_instance(instance, config, options)
            results[index] = outcome
            if options.on_done:
                options.on_done(outcome)

    threads = [
        threading.Thread(target=work, daemon=True) for _ in range(min(limit, len(instances)))
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
    except KeyboardInterrupt:
        kill_all_workers()
        raise
    return [outcome for outcome in results if outcome is not None]
