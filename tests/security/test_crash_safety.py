"""kill -9, a full disk and a read-only data dir lose nothing and corrupt nothing (SPEC §6).

* A writer process (tests/security/crashwriter.py, the real SnapshotCache and
  History code) is killed with SIGKILL at random moments, many times: the cache
  is always one complete round (the last acknowledged one or the one in
  flight), every acknowledged history line is there, and a torn line can only
  be the one in flight.
* The real daemon is killed the same way while it probes and writes: it
  restarts from what it left, and every result it had served is in the history
  except at most the one in flight.
* With the disk full (RLIMIT_FSIZE, and a tiny tmpfs where mounting is allowed)
  or the data dir read-only, the daemon logs one clear warning per failed
  write, leaves the files as they were, and keeps serving fresh data from memory.

Iteration counts scale with USAGESTAT_SOAK_SCALE (docs/security.md has the
full-size figures).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from homes import private_home

from usagestat.core.cache import SnapshotCache
from usagestat.core.history import History
from usagestat.core.timeutil import parse_timestamp

from .conftest import scaled
from .crashwriter import INSTANCES

REPO = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("crashwriter.py")
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and rlimits are POSIX")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USAGESTAT_")}
    env.update(PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]), **extra)
    return env


@dataclass
class KillStats:
    iterations: int = 0
    acked_rounds: int = 0
    cache_rounds_seen: set[str] = field(default_factory=set)
    torn_lines: int = 0
    in_flight_lines: int = 0
    leftover_temp_files: int = 0


def at(timestamp: str):
    """A comparable moment ("…:42Z" is later than "…:41.5Z" but sorts before it as text)."""
    return parse_timestamp(timestamp)


def read_history(path: Path, tail: int | None = None) -> tuple[list[dict], int]:
    """(good records, torn lines) of a history file and its rotated generation, read raw.

    ``tail``: only about the last ``tail`` bytes (the first, cut line is dropped).
    """
    good, torn = [], 0
    for part in (path.with_name(path.name + ".1"), path):
        if not part.exists():
            continue
        data = part.read_bytes()
        if tail is not None:
            if len(data) > tail:
                data = data[-tail:].split(b"\n", 1)[-1]
            elif part != path:
                continue
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            try:
                good.append(json.loads(raw))
            except ValueError:
                torn += 1
    return good, torn


def _round_of(fetched_at: str) -> int:
    from datetime import datetime, timezone

    moment = datetime.strptime(fetched_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return int((moment - datetime(2026, 1, 1, tzinfo=timezone.utc)).total_seconds())


def writer_kill_loop(data: Path, iterations: int, seed: int = 11) -> KillStats:
    """Start the writer, SIGKILL it at a random moment, check the files; repeat."""
    rng = random.Random(seed)
    stats = KillStats()
    data.mkdir(parents=True, exist_ok=True)
    next_seq = 1
    max_acked = 0
    history_acked: set[int] = set()
    for _ in range(iterations):
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(data), str(next_seq)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
        )
        out: list[bytes] = []
        reader = threading.Thread(target=lambda p=proc, o=out: o.extend(p.stdout), daemon=True)
        reader.start()
        time.sleep(rng.uniform(0.05, 0.35))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        reader.join(10)
        stats.iterations += 1
        assert not proc.stderr.read(), "the writer failed on its own"
        acks = [int(line.split()[1]) for line in out if line.startswith(b"ack ")]
        assert not [line for line in out if line.startswith(b"warn")], out
        last_attempt = (acks[-1] + 1) if acks else next_seq
        if acks:
            max_acked = acks[-1]
            history_acked.update(acks)
            stats.acked_rounds += len(acks)
        # -- snapshots.json: one complete round, never older than an acknowledged one
        warnings: list[str] = []
        loaded = SnapshotCache(data / "snapshots.json", warn=warnings.append).load()
        assert not warnings, warnings
        if max_acked:
            rounds = {_round_of(s.fetched_at) for s in loaded.values()}
            assert len(loaded) == INSTANCES and len(rounds) == 1, rounds
            (current,) = rounds
            assert max_acked <= current <= last_attempt, (max_acked, current, last_attempt)
            stats.cache_rounds_seen.add("acked" if current == max_acked else "in flight")
        # -- history.jsonl: every acknowledged line, a torn one only for a kill
        records, torn = read_history(data / "history.jsonl")
        seqs = {int(r["metrics"][0]["used"]) for r in records}
        missing = history_acked - seqs
        assert not missing, f"acknowledged history lines lost: {sorted(missing)[:5]}"
        assert torn <= stats.iterations
        stats.torn_lines = torn
        stats.in_flight_lines += int(last_attempt in seqs and last_attempt not in history_acked)
        next_seq = last_attempt + 1
    stats.leftover_temp_files = len(list(data.glob(".snapshots.json.*.tmp")))
    # Readers skip the torn lines and count them; nothing else is lost.
    read = History(data / "history.jsonl").read()
    assert read.skipped_lines == stats.torn_lines
    return stats


@POSIX_ONLY
def test_kill_9_while_writing_cache_and_history(tmp_path: Path) -> None:
    stats = writer_kill_loop(tmp_path / "data", scaled(25))
    assert stats.acked_rounds > stats.iterations  # the kills landed mid-stream, not at start-up
    assert stats.leftover_temp_files <= 1, stats
    print(f"\nwriter kill loop: {stats}")


# -- the real daemon -------------------------------------------------------------------

#: Runs the real daemon with its cache debounce at 50 ms instead of 2 s, so that
#: snapshots.json is rewritten many times a second and a kill often lands mid-write;
#: CRASH_TEST_FSIZE=N caps the size of any file it writes (a disk that is full).
DRIVER = (
    "import os, sys; from usagestat.daemon import store;"
    " limit = int(os.environ.pop('CRASH_TEST_FSIZE', '0'));"
    " import resource, signal;"
    " limit and signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
    " limit and resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit));"
    " store.Store.__init__.__defaults__ = (None, None, float(sys.argv[1]));"
    " from usagestat.daemon import main; sys.exit(main(sys.argv[2:], prog='usagestatd'))"
)
LINES_JS = """
globalThis.__usagestat_plugin = {
  id: "%(id)s",
  probe: function (ctx) {
    var lines = [ctx.line.progress({label: "Quota", used: (Date.now() %% 1000) / 10, limit: 100,
                                    format: {kind: "percent"}})];
    var extra = (ctx.provider.settings || {}).lines || 0;
    for (var i = 0; i < extra; i++) lines.push(ctx.line.text({label: "note " + i, value: "%(fill)s"}));
    return {plan: "Test", metrics: lines};
  }
};
"""


def crash_config(instances: int, lines: int = 0, extra: str = "") -> str:
    text = (
        f'refreshSec = 10\nmaxParallel = 1\n{extra}\n[[providers]]\nid = "mock"\nenabled = false\n'
    )
    for n in range(instances):
        text += f'\n[[providers]]\nid = "crash"\ninstanceId = "crash-{n}"\nsettings = {{ lines = {lines} }}\n'
    return text


_DAEMONS: list = []


@pytest.fixture(autouse=True)
def _no_daemon_outlives_its_test():
    yield
    while _DAEMONS:
        _DAEMONS.pop().kill()


def start_daemon(root: Path, config: str, debounce: float = 0.05, env: dict | None = None):
    """The real daemon (with a short cache debounce), killed after the test at the latest."""
    sys.path.insert(0, str(REPO / "tests"))
    from daemon.harness import Daemon, write_plugin

    home = root / "home"
    home.mkdir(exist_ok=True)
    plugins = root / "plugins"
    if not plugins.exists():
        write_plugin(plugins, "crash", LINES_JS.replace("%(fill)s", "y" * 200))
    (root / "config.toml").write_text(config)
    (root / "config.toml").chmod(0o600)

    class Driven(Daemon):
        def command(self) -> list[str]:
            return [sys.executable, "-c", DRIVER, str(debounce), *super().command()[4:]]

        def start(self, **kwargs):
            assert self.proc is None or self.proc.poll() is not None, "already running"
            return super().start(**kwargs)

    daemon = Driven(home, root / "config.toml", plugins, ["--verbose"], env)
    _DAEMONS.append(daemon)
    return daemon


def hammer(daemon, stop: threading.Event) -> None:
    """Ask for fresh probes all the time (each POST queues every idle instance)."""
    while not stop.is_set():
        try:
            daemon.request("POST", "/v1/refresh", timeout=5)
        except OSError:
            return
        stop.wait(0.02)


@dataclass
class DaemonKillStats:
    iterations: int = 0
    served_results: int = 0
    history_lines: int = 0
    lost_served: int = 0
    torn_lines: int = 0
    cache_instances: int = 0


def daemon_kill_loop(root: Path, iterations: int, instances: int = 12, seed: int = 7):
    rng = random.Random(seed)
    stats = DaemonKillStats()
    last_fetched: dict[str, str] = {}
    served: set[tuple[str, str]] = set()
    known_lost: set[tuple[str, str]] = set()
    daemon = start_daemon(root, crash_config(instances, lines=5))
    data = daemon.data_dir
    try:
        for _ in range(iterations):
            daemon.start()
            # Restarted: the cached data is served at once, before any probe lands.
            if last_fetched:
                first = {s["instanceId"]: s["fetchedAt"] for s in daemon.get("/v1/usage").json()}
                assert set(last_fetched) <= set(first), "cached snapshots were not served"
            stop = threading.Event()
            pounder = threading.Thread(target=hammer, args=(daemon, stop), daemon=True)
            pounder.start()
            time.sleep(rng.uniform(0.15, 0.8))
            now_served = {(s["instanceId"], s["fetchedAt"]) for s in daemon.get("/v1/usage").json()}
            daemon.proc.send_signal(signal.SIGKILL)
            daemon.proc.wait(10)
            stop.set()
            pounder.join(10)
            stats.iterations += 1
            now_served = {pair for pair in now_served if pair[1]} - known_lost
            served |= now_served
            # snapshots.json: complete, and no instance went back in time
            warnings: list[str] = []
            loaded = SnapshotCache(data / "snapshots.json", warn=warnings.append).load()
            assert not warnings, warnings
            for instance_id, snap in loaded.items():
                previous = last_fetched.get(instance_id)
                assert previous is None or at(snap.fetched_at) >= at(previous), instance_id
                last_fetched[instance_id] = snap.fetched_at
            assert len(list(data.glob(".snapshots.json.*.tmp"))) <= 1
            # history.jsonl: everything served is there, but the one result in flight
            records, _ = read_history(data / "history.jsonl", tail=4 << 20)
            in_history = {(r["instanceId"], r["fetchedAt"]) for r in records}
            lost = now_served - in_history
            assert len(lost) <= 1, f"served results missing from the history: {sorted(lost)}"
            known_lost |= lost  # counted once (the cache may serve it again after a restart)
            stats.lost_served += len(lost)
            assert "Traceback" not in daemon.log
        records, torn = read_history(data / "history.jsonl")
        assert torn <= stats.iterations  # at most the line in flight per kill
        stats.torn_lines = torn
        stats.served_results = len(served)
        stats.history_lines = len(records)
        stats.cache_instances = len(last_fetched)
    finally:
        daemon.kill()
    return stats


@POSIX_ONLY
def test_kill_9_the_daemon_while_it_writes(tmp_path: Path) -> None:
    stats = daemon_kill_loop(tmp_path, scaled(10))
    assert stats.cache_instances == 12 and stats.history_lines > stats.iterations * 10
    print(f"\ndaemon kill loop: {stats}")


# -- a full disk and a read-only data dir -----------------------------------------------

FAILED_WRITE = ("could not update", "could not append")


def warm_up(daemon, instances: int) -> dict[str, str]:
    """Start, wait until every instance is cached on disk, stop cleanly; fetchedAt by id."""
    daemon.start()
    daemon.wait_for(lambda: len(daemon.usage()) == instances, timeout=20)
    code, _ = daemon.terminate()
    assert code == 0
    return {
        k: v.fetched_at for k, v in SnapshotCache(daemon.data_dir / "snapshots.json").load().items()
    }


def serves_fresh_data_without_its_disk(daemon, before: dict[str, str]) -> None:
    """Running with writes failing: fresh results served from memory, one clear line each."""
    daemon.start()
    # The cached data is served at once (before any probe), then fresh data from memory.
    assert {s["instanceId"] for s in daemon.get("/v1/usage").json()} == set(before)
    stop = threading.Event()
    pounder = threading.Thread(target=hammer, args=(daemon, stop), daemon=True)
    pounder.start()
    try:

        def all_fresh() -> list[dict] | None:
            usage = daemon.get("/v1/usage").json()
            newer = all(at(s["fetchedAt"]) > at(before[s["instanceId"]]) for s in usage)
            return usage if newer and len(usage) == len(before) else None

        fresh = daemon.wait_for(all_fresh, timeout=20)
        daemon.wait_for(lambda: all(any(w in line for line in daemon.lines) for w in FAILED_WRITE))
    finally:
        stop.set()
        pounder.join(10)
    assert all(snap["state"] == "ready" and not snap["stale"] for snap in fresh)
    assert daemon.get("/health").status == 200
    failures = [line for line in daemon.lines if any(w in line for w in FAILED_WRITE)]
    assert all(" warn " in line for line in failures), failures[:3]
    assert "Traceback" not in daemon.log


def files_untouched(data: Path, cache_bytes: bytes, history_bytes: bytes) -> None:
    assert (data / "snapshots.json").read_bytes() == cache_bytes
    assert (data / "history.jsonl").read_bytes() == history_bytes  # no torn partial line
    assert not list(data.glob(".*.tmp"))


@POSIX_ONLY
def test_disk_full_rlimit_keeps_serving_and_corrupts_nothing(tmp_path: Path) -> None:
    """RLIMIT_FSIZE (works without privileges): every write past the cap fails with EFBIG."""
    daemon = start_daemon(tmp_path, crash_config(6, lines=30))
    before = warm_up(daemon, 6)
    data = daemon.data_dir
    cache_bytes = (data / "snapshots.json").read_bytes()
    history = data / "history.jsonl"
    lines = history.read_bytes().splitlines(keepends=True)
    history.write_bytes(b"")
    while history.stat().st_size < len(cache_bytes) // 2:  # well below the cache's size
        history.write_bytes(history.read_bytes() + lines[0])
    history_bytes = history.read_bytes()
    # The cap lets an append start but not finish (a partial write) and no cache write fit.
    cap = len(history_bytes) + 100
    assert cap < len(cache_bytes)
    limited = start_daemon(tmp_path, crash_config(6, lines=30), env={"CRASH_TEST_FSIZE": str(cap)})
    serves_fresh_data_without_its_disk(limited, before)
    code, seconds = limited.terminate()  # the final flush fails too: still a clean exit
    assert code == 0 and seconds < 5.0, limited.log
    assert "File too large" in limited.log
    files_untouched(data, cache_bytes, history_bytes)
    # Space again: the same daemon code writes what it has.
    free = start_daemon(tmp_path, crash_config(6, lines=30))
    free.start()
    free.wait_for(lambda: (data / "snapshots.json").read_bytes() != cache_bytes, timeout=20)
    free.terminate()
    assert History(history).read().skipped_lines == 0


@pytest.fixture
def mounts(tmp_path: Path):
    """Mount tiny tmpfs file systems (skips the test where mounting is not permitted)."""
    done: list[Path] = []

    def mount(path: Path, size: str) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        if os.name != "posix" or os.geteuid() != 0 or not shutil.which("mount"):
            pytest.skip("mounting a tmpfs needs root (the RLIMIT_FSIZE test covers a full disk)")
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not permitted here: {result.stderr.strip()}")
        done.append(path)
        return path

    yield mount
    for path in reversed(done):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True, capture_output=True)


@POSIX_ONLY
def test_disk_full_tmpfs_and_recovery_without_restart(tmp_path: Path, mounts) -> None:
    daemon = start_daemon(tmp_path, crash_config(6, lines=30))
    data = mounts(daemon.data_dir, "1m")
    before = warm_up(daemon, 6)
    cache_bytes = (data / "snapshots.json").read_bytes()
    history_bytes = (data / "history.jsonl").read_bytes()
    filler = data / "filler"
    with open(filler, "wb", buffering=0) as handle:  # fill the file system up
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    serves_fresh_data_without_its_disk(daemon, before)
    assert "No space left on device" in daemon.log
    files_untouched(data, cache_bytes, history_bytes)
    filler.unlink()  # space again: the running daemon writes what it held
    daemon.request("POST", "/v1/refresh")  # (at its next result; no need to wait for one)
    daemon.wait_for(lambda: (data / "snapshots.json").read_bytes() != cache_bytes, timeout=20)
    daemon.wait_for(lambda: (data / "history.jsonl").stat().st_size > len(history_bytes))
    code, _ = daemon.terminate()
    assert code == 0
    assert History(data / "history.jsonl").read().skipped_lines == 0


def _permissions_stop_us(tmp: Path) -> bool:
    """False for root (CAP_DAC_OVERRIDE writes into a 0500 directory anyway)."""
    probe = tmp / "perm-probe"
    probe.mkdir()
    probe.chmod(0o500)
    try:
        (probe / "x").write_text("x")
    except PermissionError:
        return True
    finally:
        probe.chmod(0o700)
    return False


def _read_only(data: Path, on: bool) -> None:
    """Without root: no write permission on the data dir and its files (EACCES)."""
    for path in [data, *data.rglob("*")]:
        if path.is_dir():
            path.chmod(0o500 if on else 0o700)
        else:
            path.chmod(0o400 if on else 0o600)


@POSIX_ONLY
def test_read_only_data_dir(tmp_path: Path, mounts) -> None:
    """A read-only data dir: serve, warn, touch nothing, resume when writable again.

    Where file permissions stop this process, the data dir and its files lose their
    write permission (EACCES); for root they do not, so the data dir is a tmpfs
    remounted read-only (EROFS).
    """
    daemon = start_daemon(tmp_path, crash_config(4))
    as_root = not _permissions_stop_us(tmp_path)
    data = mounts(daemon.data_dir, "4m") if as_root else daemon.data_dir
    reason = "Read-only file system" if as_root else "Permission denied"
    before = warm_up(daemon, 4)
    cache_bytes = (data / "snapshots.json").read_bytes()
    history_bytes = (data / "history.jsonl").read_bytes()
    if as_root:
        remount(data, "ro")
    else:
        _read_only(data, True)
    try:
        serves_fresh_data_without_its_disk(daemon, before)
        assert reason in daemon.log
        code, _ = daemon.terminate()
        assert code == 0
        # The CLI too: it prints the answer and says why it could not save it.
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **private_home(tmp_path)}
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "usagestat",
                "--config",
                str(tmp_path / "config.toml"),
                "--plugin-dir",
                str(tmp_path / "plugins"),
                "--json",
                "usage",
                "crash-0",
                "--save",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert cli.returncode == 0, cli.stderr
        assert json.loads(cli.stdout)[0]["state"] == "ready"
        assert reason in cli.stderr and "Traceback" not in cli.stderr
        files_untouched(data, cache_bytes, history_bytes)
    finally:
        if as_root:
            remount(data, "rw")
        else:
            _read_only(data, False)
    # Writable again: the daemon picks up where it left off.
    daemon.start()
    daemon.wait_for(lambda: (data / "snapshots.json").read_bytes() != cache_bytes, timeout=20)
    daemon.terminate()
