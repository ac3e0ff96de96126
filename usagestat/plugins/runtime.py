"""Run one plugin's ``probe(ctx)`` in a fresh QuickJS context.

This module runs inside the isolated worker process (and in-process for
``--debug`` and unit tests). It knows nothing about subprocesses: it takes a
probe request (plain JSON data) and returns an outcome dict
``{"ok": true, "value": <raw result>}`` or ``{"ok": false, "error": {...}}``.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache

from .engine import load_engine

TYPE_CHECKING = False  # avoids importing typing in the worker (start-up time)

if TYPE_CHECKING:
    from typing import Any

    from .host import HostSession

HEAP_LIMIT = 128 * 1024 * 1024
STACK_LIMIT = 1024 * 1024
MAX_JOBS = 1_000_000


_EXTEND = re.compile(r'__usagestat_extend\(\s*["\']([A-Za-z_$][\w$]*)["\']')


@lru_cache(maxsize=1)
def prelude_files() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Every ``prelude/*.js`` as (file name, source, namespaces it defines), in name order."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prelude")
    texts: list[tuple[str, str]] = []
    if os.path.isdir(here):  # a normal install: plain files (keeps the worker import-light)
        for name in sorted(n for n in os.listdir(here) if n.endswith(".js")):
            with open(os.path.join(here, name), encoding="utf-8") as handle:
                texts.append((name, handle.read()))
    else:  # inside usagestat.pyz
        from . import resources

        folder = resources.package_dir() / "plugins" / "prelude"
        for name in sorted(c.name for c in folder.iterdir() if c.name.endswith(".js")):
            texts.append((name, (folder / name).read_text(encoding="utf-8")))
    return tuple((name, text, tuple(_EXTEND.findall(text))) for name, text in texts)


@lru_cache(maxsize=1)
def _core_count() -> int:
    """How many leading prelude files define no extension (always evaluated first)."""
    files = prelude_files()
    count = 0
    while count < len(files) and not files[count][2]:
        count += 1
    return count


@lru_cache(maxsize=64)
def _prelude_for(needed: frozenset[str], start: int = 0) -> str:
    parts = [
        text
        for _name, text, spaces in prelude_files()[start:]
        if not spaces or needed & set(spaces)
    ]
    return "\n;\n".join(parts)


@lru_cache(maxsize=64)
def _needed(script: str) -> frozenset[str]:
    """The extension namespaces a script uses, directly or through other extensions."""
    files = prelude_files()
    all_spaces = {space for _n, _t, spaces in files for space in spaces}
    words = set(re.findall(r"[A-Za-z_$][\w$]*", script)) & all_spaces
    texts = {space: text for _n, text, spaces in files for space in spaces}
    pending = list(words)
    while pending:
        space = pending.pop()
        for other in set(re.findall(r"[A-Za-z_$][\w$]*", texts[space])) & all_spaces:
            if other not in words:
                words.add(other)
                pending.append(other)
    return frozenset(words)


def prelude_source(script: str | None = None) -> str:
    """The prelude a script needs: the core, plus each extension namespace it mentions.

    Extension files (``__usagestat_extend("sigv4", …)``) are evaluated only when
    the plugin's source mentions the namespace as a word, directly or through
    another extension it loads; a probe then parses only the helpers it uses,
    which keeps a warm probe cheap as the shared library grows. ``None`` = all.
    """
    if script is None:
        spaces = frozenset(s for _n, _t, found in prelude_files() for s in found)
        return _prelude_for(spaces)
    return _prelude_for(_needed(script))


def prelude_core() -> str:
    """The leading files every probe evaluates (what :class:`PreparedContext` runs ahead)."""
    return "\n;\n".join(text for _n, text, _s in prelude_files()[: _core_count()])


def prelude_rest(script: str) -> str:
    """What :func:`prelude_source` adds after :func:`prelude_core` for this script."""
    return _prelude_for(_needed(script), _core_count())


class _Forward:
    """The ``__host`` callable of a prepared context: forwards to its probe's session.

    A separate object (not a method of :class:`PreparedContext`) so that the
    context and its callable form no reference cycle (QUICKJS-NOTES.md quirk j).
    """

    __slots__ = ("session",)

    def __init__(self) -> None:
        self.session: HostSession | None = None

    def bridge(self, name: str, args_json: str) -> str:
        session = self.session
        if session is None:
            return '{"error": "host calls are only allowed inside probe()"}'
        return session.bridge(name, args_json)


class PreparedContext:
    """A fresh context with the core prelude already evaluated, for exactly one probe.

    A warm worker makes the next one while it waits for a request, so a probe
    only evaluates the extensions it needs and the plugin script. No plugin code
    has run in it before the probe that takes it (SPEC §3.5: a fresh context for
    every probe); :meth:`take` refuses a second use.
    """

    def __init__(self) -> None:
        engine = load_engine()
        self.forward = _Forward()
        context = engine.Context()
        context.set_memory_limit(HEAP_LIMIT)
        context.set_max_stack_size(STACK_LIMIT)
        context.add_callable("__host", self.forward.bridge)
        context.eval(prelude_core())
        self.context: Any = context
        self.used = False

    def take(self, host: HostSession) -> Any:
        """The context, bound to ``host``; None if it has served a probe already."""
        if self.used:
            return None
        self.used = True
        self.forward.session = host
        return self.context


class Interrupt:
    """Stops an in-process probe (``--debug``) from another thread: there is no child to kill.

    The engine's time limit is the binding's only interrupt, and while it is set
    every host call is refused (QUICKJS-NOTES.md quirk a), so it cannot cover a
    whole probe. In-process, the plugin's top level runs under a time limit of
    what is left of the deadline (host calls belong inside ``probe`` anyway;
    ``plugin validate`` refuses them at the top level), and :meth:`fire` (the
    deadline has passed) sets a zero limit: from then on every host call fails
    and the next promise job is interrupted at once. A synchronous loop inside
    ``probe`` is not interrupted (nothing in the binding can do that); the
    caller stops waiting for it and reports ``timed-out``.
    """

    __slots__ = ("context", "fired", "timeout")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.context: Any = None
        self.fired = False

    def attach(self, context: Any) -> None:
        self.context = context
        if self.fired:
            context.set_time_limit(0)

    def fire(self) -> None:
        self.fired = True
        context = self.context
        if context is not None:
            context.set_time_limit(0)


def _clean_js_error(text: str, script_name: str) -> str:
    text = text.replace("<input>", script_name).strip()
    return text


def _oom(context: Any) -> bool:
    try:
        usage = context.memory()
    except Exception:
        return False
    return usage.get("malloc_size", 0) > HEAP_LIMIT * 0.8


def run_probe(
    request: dict[str, Any],
    host: HostSession,
    prepared: PreparedContext | None = None,
    interrupt: Interrupt | None = None,
) -> dict[str, Any]:
    """Evaluate prelude + plugin script and drive ``probe`` to completion.

    ``prepared`` (a warm worker's unused :class:`PreparedContext`) saves
    evaluating the core prelude; without it a new context is made here.
    ``interrupt`` (in-process probes only) applies the probe deadline with the
    engine's time limit where host calls allow it (see :class:`Interrupt`).
    """
    engine = load_engine()
    script_name = request.get("scriptName") or "plugin.js"
    heap_limit = int(request.get("heapLimit") or HEAP_LIMIT)
    context = prepared.take(host) if prepared is not None else None
    if context is not None:
        prelude = prelude_rest(request["script"])
        if heap_limit != HEAP_LIMIT:
            context.set_memory_limit(heap_limit)
    else:
        context = engine.Context()
        context.set_memory_limit(heap_limit)
        context.set_max_stack_size(STACK_LIMIT)
        context.add_callable("__host", host.bridge)
        prelude = prelude_source(request["script"])
    if interrupt is not None:
        interrupt.attach(context)
    try:
        if prelude:
            context.eval(prelude)
    except engine.JSException as exc:  # pragma: no cover - the prelude is ours
        if interrupt is not None and interrupt.fired:
            return _timed_out(interrupt)
        return _error(f"internal error in the plugin prelude: {exc}")
    try:
        if interrupt is not None and not interrupt.fired:
            context.set_time_limit(max(0.01, host.deadline.remaining()))
        try:
            context.eval(request["script"])
        finally:
            if interrupt is not None and not interrupt.fired:
                context.set_time_limit(-1)
    except engine.StackOverflow:
        return _error(f"{script_name}: stack overflow while loading the plugin")
    except engine.JSException as exc:
        if interrupt is not None and _interrupted(exc):
            return _timed_out(interrupt)
        if _oom(context) or str(exc).strip() == "null":
            return _error(
                f"{script_name}: out of memory while loading the plugin (JS heap limit 128 MiB)"
            )
        return _error(f"{script_name}: {_clean_js_error(str(exc), script_name)}")
    except SystemError as exc:
        return _error(f"{script_name}: {exc}")
    spec = json.dumps(request["ctx"], ensure_ascii=True)
    try:
        context.get("__usagestat_start")(spec)
        jobs = 0
        while context.execute_pending_job():
            jobs += 1
            if jobs > MAX_JOBS:
                return _error("probe queued too many promise jobs (runaway async loop)")
        outcome = context.get("__usagestat_outcome")()
    except engine.StackOverflow:
        return _error("probe failed: stack overflow (too much recursion)")
    except engine.JSException as exc:
        if interrupt is not None and interrupt.fired:
            return _timed_out(interrupt)
        if _oom(context) or str(exc).strip() == "null":
            return _error("probe ran out of memory (JS heap limit 128 MiB)", code="failed")
        return _error(f"probe failed: {_clean_js_error(str(exc), script_name)}")
    except (SystemError, MemoryError) as exc:
        return _error(f"probe failed: {exc}")
    if outcome is None:
        return _error(
            "probe returned a promise that never settles (there are no timers in the engine)"
        )
    try:
        data = json.loads(outcome)
    except RecursionError:
        return _error("probe result is nested too deeply")
    except ValueError:  # pragma: no cover - produced by our prelude
        return _error("probe outcome could not be decoded")
    if not data.get("ok"):
        error = data.get("error") or {}
        stack = error.pop("stack", "") if isinstance(error, dict) else ""
        if stack:
            host.log("debug", f"{script_name} stack: {_clean_js_error(stack, script_name)}")
    return data


def check_script(script: str, script_name: str, plugin_id: str) -> str | None:
    """Evaluate a plugin against a stub host; return the first problem or None.

    Used by ``plugin validate``: the top level of the script runs, but ``probe``
    is never called, so no host call happens.
    """
    engine = load_engine()
    context = engine.Context()
    context.set_memory_limit(64 * 1024 * 1024)
    context.set_max_stack_size(STACK_LIMIT)
    # Top-level code must not touch the host; time-limit it since no callable is needed.
    context.add_callable("__host", _refuse_host)
    try:
        context.eval(prelude_source(script))
        context.set_time_limit(2)
        context.eval(script)
        context.set_time_limit(-1)
        problem = context.get("__usagestat_check")(plugin_id)
    except engine.JSException as exc:
        text = _clean_js_error(str(exc), script_name)
        if "interrupted" in text:
            return "the script's top level runs for more than 2 s"
        return f"script error: {text}"
    except SystemError as exc:
        return f"script error: {exc}"
    return problem or None


def _refuse_host(name: str, _args: str) -> str:
    return json.dumps(
        {"error": f"host function {name} called while loading the script (only inside probe)"}
    )


def _interrupted(exc: BaseException) -> bool:
    return str(exc).startswith("InternalError: interrupted")


def _timed_out(interrupt: Interrupt) -> dict[str, Any]:
    return _error(f"probe timed out after {interrupt.timeout:g}s", code="timed-out")


def _error(message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": re.sub(r"\s+\n", "\n", message).strip()}
    if code:
        error["code"] = code
    return {"ok": False, "error": error}
