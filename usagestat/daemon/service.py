"""Start, run, reload and stop the daemon.

Start-up order matters: everything that can refuse to start (config, token,
engine, the port) is checked before any thread exists, so a failure is one
line on stderr and exit status 1. The cache is loaded before the first probe
starts, so a restarted daemon serves its last good data at once.
"""

from __future__ import annotations

import argparse
import errno
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass

import usagestat
from usagestat.core.config import Config, ConfigError, load_config
from usagestat.core.serialize import to_json
from usagestat.core.timeutil import now_utc, parse_timestamp
from usagestat.plugins.discovery import Registry, discover
from usagestat.plugins.engine import EngineUnavailable
from usagestat.plugins.instances import Instance, Resolution, resolve_instances
from usagestat.plugins.isolation import WorkerPool, engine_file, kill_all_workers
from usagestat.plugins.probe import ProbeOptions, ProbeOutcome, probe_instance, probe_timeout
from usagestat.plugins.summary import summaries

from . import openapi
from .app import App, DaemonServer, Limits
from .log import Log
from .scheduler import Scheduler
from .security import Policy, SecurityError, is_loopback, is_wildcard, read_token_file
from .store import Store, encode

SHUTDOWN_POLL_SEC = 0.2


class StartError(Exception):
    """The daemon cannot start; the message is the one line the user sees."""


@dataclass
class Settings:
    """Config plus the command-line overrides, as the daemon applies them."""

    config: Config
    refresh_sec: int
    bind: str
    port: int
    token: str | None


def load_settings(args: argparse.Namespace) -> Settings:
    """Config file + flags; raises StartError for anything that must stop a (re)start."""
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise StartError(str(exc))
    bind = args.bind if args.bind is not None else config.daemon.bind
    port = args.port if args.port is not None else config.daemon.port
    token = None
    if config.daemon.api_token_file:
        try:
            token = read_token_file(config.daemon.api_token_file)
        except SecurityError as exc:
            raise StartError(str(exc))
    if not is_loopback(bind) and token is None:
        raise StartError(
            f"refusing to listen on {bind} without an API token: set [daemon] apiTokenFile "
            "to a file only you can read (or bind to 127.0.0.1)"
        )
    refresh = args.refresh_sec if args.refresh_sec is not None else config.refresh_sec
    return Settings(config, refresh, bind, port, token)


def display_host(bind: str) -> str:
    host = bind.strip().strip("[]")
    if is_wildcard(bind):
        host = "::1" if ":" in host else "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def open_server(settings: Settings, limits: Limits) -> DaemonServer:
    host = settings.bind.strip().strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    shown = f"{display_host(settings.bind) if not is_wildcard(settings.bind) else settings.bind}:{settings.port}"
    try:
        return DaemonServer((host, settings.port), family, None, limits)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartError(f"{shown} is already in use (is another usagestat daemon running?)")
        if exc.errno == errno.EACCES:
            raise StartError(f"not allowed to listen on {shown} (ports below 1024 need privileges)")
        if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
            raise StartError(f"cannot listen on {shown}: no such local address")
        raise StartError(f"cannot listen on {shown}: {exc.strerror or exc}")


class Daemon:
    def __init__(self, args: argparse.Namespace, prog: str, log: Log) -> None:
        self.args = args
        self.prog = prog
        self.log = log
        self.stop_event = threading.Event()
        self.reload_event = threading.Event()
        self.stop_reason = "stop requested"

    # -- plugins and instances ----------------------------------------------------------
    def _resolve(self, config: Config) -> tuple[Registry, Resolution, list[Instance]]:
        registry = discover(self.args.plugin_dir, config.plugin_dirs)
        resolution = resolve_instances(config, registry)
        for warning in resolution.warnings:
            self.log.warn(warning)
        for broken in registry.broken:
            self.log.warn(
                f"plugin {broken.key} ({broken.folder}) is invalid and skipped: {broken.first_problem}"
            )
        for shadow in registry.shadowed:
            self.log.info(f"plugin {shadow.id} from {shadow.winner} shadows the bundled one")
        enabled = [inst for inst in resolution.instances if inst.enabled]
        return registry, resolution, enabled

    def _secrets(self, settings: Settings) -> None:
        self.log.add_secrets(settings.token)
        for entry in settings.config.providers:
            self.log.add_secrets(entry.api_key, entry.cookie_header)
            for key, value in entry.settings.items():
                if isinstance(value, str) and any(
                    w in key.lower() for w in ("key", "secret", "token", "password", "cookie")
                ):
                    self.log.add_secrets(value)

    def _policy(self, settings: Settings, port: int) -> Policy:
        return Policy(
            settings.bind, port, settings.token, list(settings.config.daemon.cors_origins)
        )

    def _openapi_body(self, settings: Settings, port: int) -> bytes:
        base = f"http://{display_host(settings.bind)}:{port}"
        return encode(openapi.build(usagestat.__version__, base, token=settings.token is not None))

    def _probe(self, instance: Instance) -> ProbeOutcome:
        options = ProbeOptions(pool=self.pool, on_log=self._plugin_log)
        return probe_instance(instance, self.settings.config, options)

    def _plugin_log(self, instance_id: str, level: str, message: str) -> None:
        level = level if level in ("debug", "warn", "error") else "info"
        self.log.emit(level, f"[{instance_id}] {message}")

    def _deadline(self, instance: Instance) -> float:
        return probe_timeout(instance, self.settings.config) + 1.0

    def _cache_age(self, instance_id: str) -> float | None:
        snap = self.store.output(instance_id)
        if snap is None or snap.is_error:
            return None
        fetched = parse_timestamp(snap.fetched_at)
        return (now_utc() - fetched).total_seconds() if fetched else None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        settings = load_settings(self.args)
        self.settings = settings
        self._secrets(settings)
        try:
            location = engine_file()  # in the .pyz this extracts the vendored engine
        except EngineUnavailable as exc:  # unsupported platform, noexec cache, ...
            raise StartError(str(exc))
        if location is None:
            raise StartError(
                "the QuickJS engine is not installed (pip install quickjs-ng==0.17.0.2, "
                "or run the single-file usagestat.pyz)"
            )
        self.limits = Limits.from_env()
        self.server = open_server(settings, self.limits)
        self.port = int(self.server.server_address[1])
        for warning in settings.config.warnings:
            self.log.warn(
                f"config: {warning.path}: {warning.message}"
                if warning.path
                else f"config: {warning.message}"
            )

        registry, resolution, enabled = self._resolve(settings.config)
        self.store = Store(self.log)
        cached = self.store.load_cache()
        self.store.set_instances(enabled)
        config = settings.config
        self.pool = WorkerPool(config.max_parallel)
        self.scheduler = Scheduler(
            self.store,
            self.log,
            self._probe,
            threads=config.max_parallel,
            refresh_sec=settings.refresh_sec,
        )
        self.scheduler.configure(enabled, last_fetch_age=self._cache_age)
        self.app = App(
            store=self.store,
            scheduler=self.scheduler,
            policy=self._policy(settings, self.port),
            log=self.log,
            version=usagestat.__version__,
            providers_body=encode(to_json(summaries(resolution, registry))),
            openapi_body=self._openapi_body(settings, self.port),
            probe_deadline=self._deadline,
        )
        self.server.app = self.app
        self.server_thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SEC},
            name="http",
            daemon=True,
        )
        self.server_thread.start()
        self.store.start_writer()
        self.scheduler.start()
        names = ", ".join(i.instance_id for i in enabled) or "none"
        self.log.info(
            f"usagestat {usagestat.__version__}: polling {len(enabled)} instance(s) every "
            f"{settings.refresh_sec}s ({names}); {cached} cached snapshot(s) loaded"
        )
        auth = "bearer token required" if settings.token else "no token (loopback only)"
        self.log.info(f"listening on http://{display_host(settings.bind)}:{self.port} ({auth})")

    def reload(self) -> None:
        """SIGHUP: adopt the new config and plugins, or keep the old ones and say why."""
        self.log.info("reloading config and plugins (SIGHUP)")
        try:
            settings = load_settings(self.args)
        except StartError as exc:
            self.log.error(f"reload rejected, keeping the previous config: {exc}")
            return
        old = self.settings
        if (settings.bind, settings.port) != (old.bind, old.port):
            self.log.warn(
                "bind/port changes take effect after a restart; still listening on the old address"
            )
            settings.bind, settings.port = old.bind, old.port
        try:
            registry, resolution, enabled = self._resolve(settings.config)
            providers_body = encode(to_json(summaries(resolution, registry)))
        except Exception as exc:  # discovery never raises by design; keep serving if it does
            self.log.error(f"reload rejected, keeping the previous plugins: {exc!r}")
            return
        for warning in settings.config.warnings:
            self.log.warn(
                f"config: {warning.path}: {warning.message}"
                if warning.path
                else f"config: {warning.message}"
            )
        self._secrets(settings)
        self.settings = settings
        config = settings.config
        self.pool.size = max(1, config.max_parallel)
        self.app.policy = self._policy(settings, self.port)
        self.app.openapi_body = self._openapi_body(settings, self.port)
        self.app.providers_body = providers_body
        self.store.set_instances(enabled)
        self.scheduler.configure(
            enabled,
            refresh_sec=settings.refresh_sec,
            threads=config.max_parallel,
            last_fetch_age=self._cache_age,
        )
        self.log.info(f"reloaded: polling {len(enabled)} instance(s) every {settings.refresh_sec}s")

    def run_forever(self) -> None:
        while not self.stop_event.is_set():
            self.stop_event.wait(0.5)
            if self.reload_event.is_set() and not self.stop_event.is_set():
                self.reload_event.clear()
                self.reload()

    def stop(self) -> None:
        """Stop within about a second: no new probes, in-flight ones killed, cache flushed."""
        started = time.monotonic()
        self.log.info(f"stopping ({self.stop_reason})")
        self.scheduler.stop()
        self.store.closing = True  # results of killed probes are not real results
        kill_all_workers()
        self.server.shutdown()
        self.server.server_close()
        self.store.close()
        kill_all_workers()
        self.pool.close()
        self.log.info(f"stopped in {time.monotonic() - started:.2f}s")

    # -- signals ------------------------------------------------------------------------
    def install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def on_stop(signum: int, _frame: object) -> None:
            self.stop_reason = signal.Signals(signum).name
            self.stop_event.set()

        def on_reload(_signum: int, _frame: object) -> None:
            self.reload_event.set()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, on_reload)


def run(args: argparse.Namespace, prog: str) -> int:
    log = Log(verbose=bool(args.verbose or args.debug))
    daemon = Daemon(args, prog, log)
    daemon.install_signals()
    try:
        daemon.start()
    except StartError as exc:
        sys.stderr.write(f"{prog}: {exc}\n")
        kill_all_workers()
        return 1
    except KeyboardInterrupt:
        kill_all_workers()
        return 130
    try:
        daemon.run_forever()
    except KeyboardInterrupt:  # only before our handler is installed (not the main thread)
        daemon.stop_reason = "interrupted"
    daemon.stop()
    return 0


__all__ = ["Daemon", "StartError", "run"]
