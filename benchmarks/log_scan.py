"""Native log scan vs ``ccusage`` on the same synthetic Claude Code log tree.

Generates a ~1 GB tree (``--quick``: ~100 MB) shaped like real Claude Code
history — user prompts, large tool results, assistant replies streamed as
several lines sharing one ``message.id``, sub-agent usage inside tool results —
under a temp dir, then measures in fresh processes:

* cold scan (empty index) time and MB/s, and peak RSS of that process;
* warm rescan (nothing changed), as the time of the ``scan()`` call;
* rescan after appending ~1 MB to a few sessions;
* ``npx --yes ccusage@latest daily --json --offline`` on the same tree in the
  same run (``CLAUDE_CONFIG_DIR`` pointing at it, a throw-away HOME so no cache
  helps it). When the latest release cannot be installed the row says so.

Targets (SPEC §10): cold >= 5x faster than ccusage, warm < 100 ms, peak < 200 MB.
The corpus is deleted afterwards (``--keep`` keeps it).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import ROOT, Row, main  # type: ignore[no-redef]
else:
    from ._common import ROOT, Row, main

MODELS = [
    ("claude-opus-4-6", 40),
    ("claude-sonnet-4-5-20250929", 25),
    ("claude-haiku-4-5-20251001", 15),
    ("claude-opus-5-5", 12),
    ("claude-sonnet-5-5", 7),
    ("claude-experimental-preview", 1),
]
_WORDS = (
    "the of and to in is for that with on as this by from it be are was an at or function return "
    "const value error file path test import class def self data result string number true false "
    "null undefined await async export module config server client request response handler"
).split()


def _text(rnd: random.Random, n: int) -> str:
    """JSON-escaped prose/code of about ``n`` characters (with the escapes real logs have)."""
    out: list[str] = []
    size = 0
    while size < n:
        w = rnd.choice(_WORDS)
        sep = rnd.choice((" ", " ", " ", " ", "\\n", "\\\"", ", ", "(", ") ", "\\t"))
        out.append(w)
        out.append(sep)
        size += len(w) + len(sep)
    return "".join(out)


class _Corpus:
    """A pool of pre-built text blocks so generating 1 GB takes seconds, not minutes."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.small = [_text(self.rnd, self.rnd.randint(40, 400)) for _ in range(200)]
        self.medium = [_text(self.rnd, self.rnd.randint(600, 2500)) for _ in range(200)]
        self.large = [_text(self.rnd, self.rnd.randint(3000, 20000)) for _ in range(60)]
        names, weights = zip(*MODELS, strict=True)
        self.models = list(names)
        self.weights = list(weights)


def _session(c: _Corpus, cwd: str, session_id: str, start: float, budget: int) -> tuple[str, int]:
    rnd = c.rnd
    lines: list[str] = []
    size = 0
    now = start
    parent = None
    version = rnd.choice(("2.1.63", "2.1.101", "2.1.138"))
    head = f'"isSidechain":false,"userType":"external","cwd":"{cwd}","sessionId":"{session_id}","version":"{version}","gitBranch":"main"'
    model = rnd.choices(c.models, c.weights)[0]
    cache = rnd.randint(8_000, 40_000)
    msgs = 0
    while size < budget:
        now += rnd.uniform(3, 40)
        uid = str(uuid.UUID(int=rnd.getrandbits(128)))
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{rnd.randint(0, 999):03d}Z"
        kind = rnd.random()
        if kind < 0.12 or parent is None:
            line = (
                f'{{"parentUuid":{json.dumps(parent)},{head},"type":"user","message":{{"role":"user",'
                f'"content":"{rnd.choice(c.small)}"}},"uuid":"{uid}","timestamp":"{ts}"}}'
            )
        elif kind < 0.45:
            body = rnd.choice(c.large if rnd.random() < 0.5 else c.medium)
            extra = ""
            if rnd.random() < 0.03:  # a Task tool result carries the sub-agent's usage
                extra = (
                    ',"toolUseResult":{"status":"completed","totalTokens":51234,'
                    '"usage":{"input_tokens":12,"cache_creation_input_tokens":3000,'
                    '"cache_read_input_tokens":40000,"output_tokens":800}}'
                )
            line = (
                f'{{"parentUuid":"{parent}",{head},"type":"user","message":{{"role":"user","content":'
                f'[{{"tool_use_id":"toolu_{uid[:20]}","type":"tool_result","content":"{body}"}}]}}'
                f'{extra},"uuid":"{uid}","timestamp":"{ts}"}}'
            )
        else:
            if rnd.random() < 0.05:
                model = rnd.choices(c.models, c.weights)[0]
            msgs += 1
            msg_id = f"msg_01{uuid.UUID(int=rnd.getrandbits(128)).hex[:22]}"
            req_id = f"req_011C{uuid.UUID(int=rnd.getrandbits(128)).hex[:20]}"
            cache_write = rnd.randint(0, 4000)
            cache += cache_write
            if cache > 180_000:
                cache = rnd.randint(8_000, 30_000)
            inp = rnd.randint(1, 30)
            out = rnd.randint(20, 2500)
            blocks = rnd.choice((1, 2, 2, 3))
            for b in range(blocks):
                final = b == blocks - 1
                content = (
                    f'{{"type":"tool_use","id":"toolu_{uid[:20]}","name":"Edit","input":'
                    f'{{"file_path":"{cwd}/src/app.py","old_string":"{rnd.choice(c.small)}",'
                    f'"new_string":"{rnd.choice(c.medium)}"}}}}'
                    if final and rnd.random() < 0.6
                    else f'{{"type":"text","text":"{rnd.choice(c.medium)}"}}'
                )
                line_uid = str(uuid.UUID(int=rnd.getrandbits(128)))
                line = (
                    f'{{"parentUuid":"{parent}",{head},"message":{{"model":"{model}","id":"{msg_id}",'
                    f'"type":"message","role":"assistant","content":[{content}],'
                    f'"stop_reason":{"null" if not final else chr(34) + "tool_use" + chr(34)},"stop_sequence":null,'
                    f'"usage":{{"input_tokens":{inp},"cache_creation_input_tokens":{cache_write},'
                    f'"cache_read_input_tokens":{cache},"cache_creation":{{"ephemeral_5m_input_tokens":{cache_write},'
                    f'"ephemeral_1h_input_tokens":0}},"output_tokens":{out if final else rnd.randint(1, 2)},'
                    f'"service_tier":"standard"}}}},"requestId":"{req_id}","type":"assistant",'
                    f'"uuid":"{line_uid}","timestamp":"{ts}"}}'
                )
                if not final:
                    lines.append(line)
                    size += len(line) + 1
                parent = line_uid
        lines.append(line)
        size += len(line) + 1
        parent = uid
    return "\n".join(lines) + "\n", msgs


def generate(root: Path, target_bytes: int, seed: int = 7, days: int = 45) -> dict[str, int]:
    """Write a Claude Code tree ``root/projects/<project>/<session>.jsonl`` of about ``target_bytes``."""
    c = _Corpus(seed)
    rnd = c.rnd
    projects = root / "projects"
    end = time.time() - 3600
    total = files = messages = 0
    while total < target_bytes:
        project = f"-home-dev-src-project{rnd.randint(1, 40):02d}"
        (projects / project).mkdir(parents=True, exist_ok=True)
        budget = int(min(target_bytes - total, rnd.choice((30_000, 150_000, 600_000, 1_500_000, 4_000_000))))
        sid = str(uuid.UUID(int=rnd.getrandbits(128)))
        start = end - rnd.uniform(0, days * 86400)
        text, msgs = _session(c, "/home/dev/src/" + project[-9:], sid, start, max(budget, 5000))
        data = text.encode()
        (projects / project / f"{sid}.jsonl").write_bytes(data)
        total += len(data)
        files += 1
        messages += msgs
    return {"bytes": total, "files": files, "messages": messages}


def append(root: Path, nbytes: int, seed: int = 11) -> int:
    """Append about ``nbytes`` of new session lines to a few existing files."""
    c = _Corpus(seed)
    files = sorted((root / "projects").rglob("*.jsonl"))[:5]
    written = 0
    for index, path in enumerate(files):
        text, _ = _session(c, "/home/dev/src/appended", f"appended-{index}", time.time() - 600, nbytes // len(files))
        with open(path, "ab") as handle:
            handle.write(text.encode())
        written += len(text)
    return written


_SCAN = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
from pathlib import Path
from usagestat.core import usagelogs
t1 = time.perf_counter()
report = usagelogs.scan("claude", roots=[Path({corpus!r}) / "projects"], index_dir={index!r})
t2 = time.perf_counter()
doc = usagelogs.report_json(report)
print(json.dumps({{"import": t1 - t0, "scan": t2 - t1, "totals": doc["totals"], "skipped": doc["skippedLines"]}}))
"""


def _run_scan(corpus: Path, index: Path) -> dict[str, float]:
    """One scan in a fresh interpreter: its own timings, wall time and peak RSS (wait4)."""
    code = _SCAN.format(root=str(ROOT), corpus=str(corpus), index=str(index))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    # communicate() has reaped the child; its peak RSS is the max over reaped children so far,
    # so scans run before any other child (ccusage) is started.
    import resource

    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise RuntimeError(f"scan failed: {err.decode(errors='replace')[-2000:]}")
    result = json.loads(out)
    result["wall"] = wall
    result["rss_mb"] = rss_kb / 1024.0
    return result


def _ccusage(corpus: Path, home: Path) -> tuple[float | None, str, dict | None]:
    """Seconds for ``ccusage daily --json`` (after an unmeasured install), with a note."""
    if shutil.which("npx") is None:
        return None, "npx not found", None
    env = dict(os.environ)
    env.update(
        {
            "CLAUDE_CONFIG_DIR": str(corpus),
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "npm_config_cache": os.environ.get("npm_config_cache", str(Path.home() / ".npm")),
            "NO_COLOR": "1",
        }
    )
    specs = [os.environ.get("CCUSAGE_SPEC", "ccusage@latest")]
    notes: list[str] = []
    for spec in specs:
        try:
            probe = subprocess.run(
                ["npx", "--yes", spec, "--version"], env=env, capture_output=True, text=True, timeout=600
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            notes.append(f"{spec}: install failed ({exc})")
            continue
        if probe.returncode != 0:
            first = (probe.stderr or probe.stdout).strip().splitlines()[:1]
            notes.append(f"{spec} not runnable: {first[0] if first else probe.returncode}")
            continue
        version = probe.stdout.strip().splitlines()[-1] if probe.stdout.strip() else spec
        start = time.perf_counter()
        run = subprocess.run(
            ["npx", "--yes", spec, "daily", "--json", "--offline"],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        elapsed = time.perf_counter() - start
        if run.returncode != 0:
            notes.append(f"{spec} failed: {(run.stderr or '').strip()[:200]}")
            continue
        try:
            doc = json.loads(run.stdout)
        except ValueError:
            doc = None
        return elapsed, f"ccusage {version}", doc
    return None, "; ".join(notes) or "not measured", None


def run(quick: bool) -> list[Row]:
    target = (100 if quick else 1000) * 1_000_000
    keep = "--keep" in sys.argv
    tmp = Path(tempfile.mkdtemp(prefix="usagestat-logbench-"))
    try:
        corpus = tmp / "claude"
        stats = generate(corpus, target)
        mb = stats["bytes"] / 1e6
        index = tmp / "index"
        cold = _run_scan(corpus, index)
        warm_runs = [_run_scan(corpus, index) for _ in range(5)]
        warm_ms = sorted(r["scan"] for r in warm_runs)[len(warm_runs) // 2] * 1000
        warm_wall = sorted(r["wall"] for r in warm_runs)[len(warm_runs) // 2] * 1000
        appended = append(corpus, 1_000_000)
        after = _run_scan(corpus, index)
        peak = max(r["rss_mb"] for r in [cold, *warm_runs, after])
        cc_seconds, cc_note, cc_doc = _ccusage(corpus, tmp / "home")

        cold_ms = cold["scan"] * 1000
        rows = []
        if cc_seconds is not None:
            ratio = cold["wall"] / cc_seconds
            note = (
                f"{cc_note}, {cc_seconds:.1f} s; usagestat process wall {cold['wall']:.1f} s "
                f"({cc_seconds / cold['wall']:.1f}x faster)"
            )
            tokens = (cc_doc or {}).get("totals", {})
            if tokens:
                ours = cold["totals"]
                note += (
                    f"; input/cache tokens ccusage {tokens.get('inputTokens')}/{tokens.get('cacheReadTokens')}"
                    f" vs ours {ours['inputTokens']}/{ours['cacheReadTokens']}"
                )
            rows.append(
                Row(
                    f"log scan cold {mb:.0f} MB vs ccusage",
                    cold["wall"] * 1000,
                    cc_seconds * 1000,
                    "<= 0.20x",
                    ratio <= 0.20,
                    note=note,
                )
            )
        else:
            rows.append(
                Row(f"log scan cold {mb:.0f} MB vs ccusage", cold["wall"] * 1000, None, "not measured", True, note=cc_note)
            )
        rows += [
            Row(
                "log scan cold throughput",
                mb / cold["scan"],
                None,
                "(report)",
                True,
                unit="MB/s",
                note=f"{stats['files']} files, {stats['messages']} replies, scan() {cold_ms:.0f} ms",
            ),
            Row(
                "log scan warm rescan",
                warm_ms,
                None,
                "< 100 ms",
                warm_ms < 100,
                note=f"scan() call in a fresh process; whole process {warm_wall:.0f} ms",
            ),
            Row(
                "log scan after appending 1 MB",
                after["scan"] * 1000,
                None,
                "(report)",
                True,
                note=f"{appended / 1e6:.2f} MB appended to 5 sessions",
            ),
            Row("log scan peak memory", peak, None, "< 200 MB", peak < 200, unit="MB"),
        ]
        return rows
    finally:
        if keep:
            print(f"corpus kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(run))
