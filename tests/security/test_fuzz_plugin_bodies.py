"""Damaged provider API bodies into every bundled plugin's parser (SPEC §3.3, §3.5).

Every bundled plugin is probed with a config API key, cookie and settings, so
that those that can make requests do; a fake internet answers each request
with one of that provider's own fixture files (the one whose name best matches
the path), damaged in one of several ways: truncated, random bytes, values of
the wrong type or out of range, deep nesting, huge strings, escaped lone
surrogates, an HTML page, an empty body, odd statuses and headers.

Every outcome must be a valid snapshot with, for a failure, one clear message
(no Python internals), within the deadline, and no other plugin affected. A
plugin that trips over a damaged body with a raw JavaScript error ("TypeError:
cannot read property …") is contained but unhelpful: those are listed in the
test output (and in docs/security.md) for the plugin owners, not failed.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from fakeweb import FakeRequest, FakeResponse, FakeWeb, Route

from usagestat.core.config import Config, ProviderEntry
from usagestat.core.serialize import to_json
from usagestat.plugins.discovery import discover
from usagestat.plugins.instances import resolve_instances, select
from usagestat.plugins.isolation import WorkerPool
from usagestat.plugins.probe import ProbeOptions, probe_many

from .conftest import scaled
from .oracle import check_snapshot, clear_message

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = {
    p.parent.name: json.loads(p.read_text())
    for p in sorted((REPO / "plugins").glob("*/plugin.json"))
}
MUTATIONS = [
    "types",
    "truncate",
    "bytes",
    "types",
    "nesting",
    "huge",
    "surrogates",
    "html",
    "empty",
    "status",
]
RAW_JS_ERROR = re.compile(
    r"\b(TypeError|ReferenceError|RangeError|SyntaxError|InternalError)\b|maximum call stack"
)


def fixtures_by_host() -> dict[str, list[Path]]:
    by_host: dict[str, list[Path]] = defaultdict(list)
    for plugin_id, manifest in MANIFESTS.items():
        files = [
            p
            for p in sorted((REPO / "plugins" / plugin_id / "fixtures").glob("*"))
            if p.suffix in (".json", ".html", ".xml", ".jsonl") and p.is_file()
        ]
        for host in (manifest.get("permissions") or {}).get("http", []):
            by_host[host.split(":")[0]].extend(files)
    return by_host


def _leaves(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, (*path, index))
    else:
        yield path


def _set(data, path, value):
    target = data
    for key in path[:-1]:
        target = target[key]
    if path:
        target[path[-1]] = value
    return data if path else value


WRONG = [
    None,
    "",
    -1,
    0,
    1e308,
    -1e308,
    "NaN",
    "1e999",
    [],
    {},
    True,
    "9" * 40,
    "\u202e",
    2**53 + 1,
]


def damage(body: bytes, kind: str, rng: random.Random) -> tuple[int, dict[str, str], bytes]:
    """One damaged answer (status, headers, body) made from a real fixture body."""
    headers = {"Content-Type": "application/json"}
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if kind == "truncate":
        return 200, headers, body[: rng.randrange(max(1, len(body)))]
    if kind == "bytes":
        return 200, headers, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    if kind == "html":
        page = b"<!DOCTYPE html><html><body><h1>Just a moment...</h1></body></html>"
        return 200, {"Content-Type": "text/html"}, page
    if kind == "empty":
        return 200, headers, b""
    if kind == "status":
        status = rng.choice([204, 302, 404, 429, 500, 503])
        extra = {"Retry-After": rng.choice(["soon", "-5", "99999999999", "Wed, 99 Foo", "1e3"])}
        if status == 302:
            extra["Location"] = "https://evil.example.net/"
        return status, {**headers, **extra}, body
    if data is None:
        return 200, headers, body[::-1]
    leaves = list(_leaves(data))
    if kind == "types":
        for path in rng.sample(leaves, min(len(leaves), rng.randint(1, 6))):
            data = _set(data, path, rng.choice(WRONG))
        return 200, headers, json.dumps(data).encode()
    if kind == "nesting":
        # spliced in as text: json.dumps itself cannot encode 3000 levels
        depth = rng.choice([50, 900, 3000])
        text = json.dumps(_set(data, rng.choice(leaves), "\0deep"))
        return 200, headers, text.replace('"\\u0000deep"', "[" * depth + "1" + "]" * depth).encode()
    if kind == "huge":
        path = rng.choice(leaves)
        return (
            200,
            headers,
            json.dumps(_set(data, path, "x" * rng.choice([5000, 2_000_000]))).encode(),
        )
    if kind == "surrogates":
        text = json.dumps(data)
        return 200, headers, re.sub(r'"([^"\\]{2,})"', r'"\1\\ud800"', text, count=5).encode()
    raise AssertionError(kind)


class DamagedWeb(FakeWeb):
    """Answers every request with a damaged fixture of the provider it was sent to."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.by_host = fixtures_by_host()
        self.kind = "types"
        self.seed = 0
        self.broken: list[str] = []

    def _fixture_for(self, req: FakeRequest) -> bytes:
        candidates = []
        for host, files in self.by_host.items():
            if req.host == host or (host.startswith("*.") and req.host.endswith(host[1:])):
                candidates.extend(files)
        if not candidates:
            return b'{"error": "unknown host"}'
        words = set(re.findall(r"[a-z]+", req.path.lower()))
        best = max(candidates, key=lambda p: len(words & set(re.findall(r"[a-z]+", p.stem))))
        return best.read_bytes()

    def _route(self, req: FakeRequest) -> Route | None:
        with self._lock:
            self.requests.append(req)
        rng = random.Random(f"{self.seed}:{self.kind}:{req.url}")
        try:
            status, headers, body = damage(self._fixture_for(req), self.kind, rng)
        except Exception as exc:  # the fake internet's own bug: it would drop the connection
            self.broken.append(f"{self.kind} {req.url}: {exc!r}")
            raise
        response = FakeResponse(status, headers, body)
        return Route("*", req.scheme, req.host, req.port, req.path, None, lambda _r: response)


@pytest.fixture(scope="module")
def world(tmp_path_factory, fakeweb_ca):
    ca, ca_path = fakeweb_ca
    web = DamagedWeb(ca=ca, ca_path=ca_path).start()
    pool = WorkerPool(size=4)
    yield web, pool
    pool.close()
    web.stop()


def probe_all(web: DamagedWeb, pool: WorkerPool, tmp: Path) -> dict[str, dict]:
    entries = [
        ProviderEntry(
            id=plugin_id,
            instance_id=plugin_id,
            index=n,
            api_key=f"sk-fuzz-{plugin_id}-0123456789",
            cookie_header=f"session=fuzz-{plugin_id}-0123456789",
            settings={"region": "us"},
        )
        for n, plugin_id in enumerate(MANIFESTS)
    ]
    config = Config(
        path=tmp / "none.toml",
        ca_bundle=web.ca_path,
        probe_timeout_sec=20,
        max_parallel=4,
        providers=entries,
    )
    registry = discover([], [], include_cwd=False)
    instances = select(resolve_instances(config, registry), registry, list(MANIFESTS))
    outcomes = probe_many(instances, config, ProbeOptions(pool=pool))
    assert [o.snapshot.instance_id for o in outcomes] == list(MANIFESTS)
    return {o.snapshot.instance_id: to_json(o.snapshot) for o in outcomes}


def test_damaged_api_bodies(world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    web, pool = world
    home = tmp_path / "home"
    home.mkdir()
    for name, value in {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TZ": "UTC",
        **web.env(),
    }.items():
        monkeypatch.setenv(name, value)
    raw_js_errors: Counter[str] = Counter()
    states: Counter[str] = Counter()
    rounds = [(seed, kind) for seed in range(scaled(1)) for kind in MUTATIONS]
    for seed, kind in rounds:
        web.seed, web.kind = seed, kind
        before = len(web.requests)
        results = probe_all(web, pool, tmp_path)
        assert len(web.requests) > before, "no plugin reached the fake internet"
        for plugin_id, snap in results.items():
            check_snapshot(snap)
            states[snap["state"]] += 1
            if snap["error"]:
                message = snap["error"]["message"]
                clear_message(message)
                assert "timed out" not in message, (plugin_id, kind, message)
                if RAW_JS_ERROR.search(message):
                    raw_js_errors[f"{plugin_id} ({kind}): {message[:90]}"] += 1
    assert web.broken == []
    requested = {r.host for r in web.requests}
    print(
        f"\nplugin bodies: {len(rounds)} rounds x {len(MANIFESTS)} plugins, "
        f"{len(web.requests)} damaged answers to {len(requested)} hosts, states {dict(states)}"
    )
    if raw_js_errors:
        print("raw JavaScript errors (contained; the message could be clearer):")
        for name, count in sorted(raw_js_errors.items()):
            print(f"  {name}: {count}")
