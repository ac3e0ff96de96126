"""The isolated probe worker: ``python -I`` child that runs probes sent on stdin.

Protocol (JSON lines): the parent writes one request per line; the worker
answers with zero or more ``{"log": {...}}`` lines and one ``{"reply": ...}``
line per request. The worker keeps a private copy of fd 1 for the protocol and
points fd 1 at stderr, so a stray print can never corrupt a reply. A worker may
serve many probes (a warm pool); each probe gets a fresh JS context and a fresh
host session, and all its locks are released when it ends.

A warm worker is cheap to reuse: a request may leave out ``env`` (unchanged
since the previous one) and send a plugin script only the first time, with a
``scriptId`` that later requests name instead; with ``prepareNext`` the worker
makes the next probe's context (core prelude evaluated) while it waits.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False  # avoids importing typing in the worker (start-up time)
if TYPE_CHECKING:
    from typing import IO, Any

    from .runtime import Interrupt, PreparedContext

MAX_REPLY = 4 * 1024 * 1024


def _emit(channel: IO[str], payload: dict[str, Any]) -> None:
    channel.write(json.dumps(payload, ensure_ascii=True) + "\n")
    channel.flush()


def handle(
    request: dict[str, Any],
    channel: IO[str] | None,
    prepared: PreparedContext | None = None,
    interrupt: Interrupt | None = None,
) -> dict[str, Any]:
    """Serve one probe request; return the reply (also used in-process, with ``interrupt``)."""
    from usagestat.core.redact import Redactor

    from .host import HostSession, ProbeDeadline
    from .permissions import PermissionPolicy, Permissions
    from .runtime import run_probe

    deadline = ProbeDeadline.after(float(request.get("timeoutSec") or 30.0))
    env = request.get("env")
    if isinstance(env, dict) and env != dict(os.environ):
        _apply_environment(env)
    raw_permissions = request.get("permissions")
    declared = None
    if isinstance(raw_permissions, dict):
        declared = Permissions.from_json(raw_permissions)
    redactor = Redactor(request.get("secrets") or [])
    policy = PermissionPolicy(
        plugin_id=request["pluginId"],
        declared=declared,
        home=request["ctx"]["homeDir"],
        plugin_data_dir=request["ctx"]["app"]["pluginDataDir"],
        private_roots=list(request.get("privateRoots") or []),
        base_url=request.get("baseUrl"),
        write_credentials=bool(request.get("writeCredentials", True)),
    )

    def log(level: str, message: str) -> None:
        if channel is not None:
            _emit(channel, {"log": {"level": level, "message": message}})

    session = HostSession(
        plugin_id=request["pluginId"],
        instance_id=request["instanceId"],
        policy=policy,
        deadline=deadline,
        data_dir=request["dataDir"],
        ca_bundle=request.get("caBundle"),
        log=log,
        redactor=redactor,
    )
    if channel is not None:
        session.on_group = lambda pgid, running: _emit(channel, {"group": [pgid, running]})
    try:
        outcome = run_probe(request, session, prepared, interrupt)
    finally:
        session.release_locks()
    outcome["hostCalls"] = session.calls
    outcome["secrets"] = redactor.secrets
    return outcome


def _apply_environment(env: dict[str, str]) -> None:
    """Take the parent's current environment (a warm worker may outlive a change)."""
    import time

    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in env.items()})
    if hasattr(time, "tzset"):
        time.tzset()


def _encode_reply(outcome: dict[str, Any]) -> str:
    text = json.dumps({"reply": outcome}, ensure_ascii=True)
    if len(text) > MAX_REPLY:
        text = json.dumps(
            {"reply": {"ok": False, "error": {"message": "probe result is larger than 4 MiB"}}},
            ensure_ascii=True,
        )
    return text


def _load_engine_file(path: str) -> None:
    """Import ``_quickjs`` from ``path`` with the machinery that is already loaded.

    ``importlib.util`` would import ``contextlib``, ``warnings`` and more (about
    2 ms of every cold probe) for the same two calls.
    """
    bootstrap = sys.modules.get("_frozen_importlib")
    external = sys.modules.get("_frozen_importlib_external")
    try:
        spec = external.spec_from_file_location("_quickjs", path)  # type: ignore[union-attr]
        module = bootstrap.module_from_spec(spec)  # type: ignore[union-attr]
    except AttributeError:  # pragma: no cover - an interpreter without them
        import importlib.util

        spec = importlib.util.spec_from_file_location("_quickjs", path)
        if spec is None:
            return
        module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["_quickjs"] = module


def _prepare() -> PreparedContext | None:
    from .runtime import PreparedContext

    try:
        return PreparedContext()
    except Exception:  # run_probe then makes a context itself and reports the problem
        return None


def main() -> None:
    """Serve requests from stdin until EOF or ``{"op": "exit"}``, then exit at once."""
    protocol = os.fdopen(os.dup(1), "w", encoding="ascii", newline="\n")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    engine_path = os.environ.get("USAGESTAT_ENGINE_FILE")
    startup_error: str | None = None
    try:
        if engine_path and "_quickjs" not in sys.modules:
            _load_engine_file(engine_path)
        from .engine import load_engine

        load_engine()
    except Exception as exc:  # reported per request below
        startup_error = f"{exc}"
    # Warm up: the engine and a context with the core prelude, before the first request.
    prepared = None if startup_error else _prepare()
    scripts: dict[int, str] = {}  # scriptId -> source, sent once per worker
    _emit(protocol, {"ready": True})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
        except ValueError:
            _emit(
                protocol,
                {"reply": {"ok": False, "error": {"message": "worker got a malformed request"}}},
            )
            continue
        if request.get("op") == "exit":
            break
        if startup_error:
            outcome = {"ok": False, "error": {"message": startup_error}}
        elif not _resolve_script(request, scripts):
            outcome = {"ok": False, "error": {"message": "probe worker lost the plugin script"}}
        else:
            try:
                outcome = handle(request, protocol, prepared)
            except Exception as exc:  # never die on one bad request
                outcome = {
                    "ok": False,
                    "error": {"message": f"worker error: {type(exc).__name__}: {exc}"},
                }
        prepared = None
        protocol.write(_encode_reply(outcome) + "\n")
        protocol.flush()
        if request.get("prepareNext") and not startup_error:
            prepared = _prepare()  # while the parent has no work for us
    # Nothing is left to finish: skip the interpreter's tear-down (~10 ms the parent waits for).
    protocol.flush()
    sys.stderr.flush()
    os._exit(0)


def _resolve_script(request: dict[str, Any], scripts: dict[int, str]) -> bool:
    """Fill ``request["script"]`` from the cache, or remember a newly sent script."""
    key = request.get("scriptId")
    if key is None:
        return True
    script = request.get("script")
    if isinstance(script, str):
        scripts[key] = script
        return True
    cached = scripts.get(key)
    if cached is None:
        return False
    request["script"] = cached
    return True


if __name__ == "__main__":  # pragma: no cover
    main()
