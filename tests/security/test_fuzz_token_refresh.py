"""Damaged token answers never log the user out of the other tool (SPEC §3.7).

The bundled plugins that refresh an expired sign-in write the rotated tokens
back into the other tool's own credential file: claude, codex, factory (its
plain ``auth.json`` and the encrypted ``auth.v2.file``), grok, kimi and kiro
(droid uses a browser cookie and groqcloud caches its own JWT in pluginDataDir:
neither rewrites another tool's login). Each gets an expired login in a temp
HOME, a normal usage answer, and a damaged answer from its token endpoint:

* every member of the token answer (``access_token``, ``refresh_token``,
  ``id_token``, ``expires_in`` and the plugin's own ones) in turn replaced by a
  value of the wrong type: numbers (also non-finite, out of range, negative,
  numeric text), objects, arrays, ``""``, ``null``, ``true``, an array nested
  3000 deep, a 2 MB string, or left out;
* an answer that is JSON but not an object (an array, a string, a number ...);
* the damage kinds of ``test_fuzz_plugin_bodies.py`` applied to the answer:
  wrong types per leaf, truncated, random bytes, deep nesting, huge strings,
  escaped lone surrogates, an HTML page, an empty body, odd statuses with an
  odd ``Retry-After``.

(The encrypted factory store gets the 2 MB strings only in a scaled run: its
cipher is pure Python, seconds per 2 MB.)

After every probe:

(a) the snapshot is valid; a failure is one clear message, never a raw
    JavaScript error (``TypeError``, ``RangeError``, "call stack" ...);
(b) the credential file is byte-identical, or still in its own format with the
    access and refresh tokens as non-empty text; the refresh token is the old
    one or, only when that was non-empty text, the answer's; every other
    member is kept, an expiry the file holds is a time its tool can read (not
    ``null``, not beyond ten years), and the file mode is kept. An answer
    carrying a usable rotated pair is always saved: the old refresh token is
    spent once the server answered;
(c) no token, old or new, shows in the snapshot or the log lines.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pluginharness import make_jwt

from usagestat.core import ciphers
from usagestat.plugins.isolation import WorkerPool

from .conftest import SCALE, scaled
from .oracle import check_snapshot, clear_message
from .test_fuzz_plugin_bodies import RAW_JS_ERROR, damage

# The provider tests' helpers (tests/plugins has no __init__.py: pytest puts it on
# sys.path only when it collects those tests).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from helpers import deeply_nested, fixtures

#: What a plugin must never show instead of a message (beyond RAW_JS_ERROR).
UNCLEAR = re.compile(r"call stack|stack overflow|cannot read propert|is not a function|undefined")
#: An expiry a refresh writes must lie within this from now.
TEN_YEARS_MS = 3653 * 86_400_000
#: Stand-ins spliced in as text (json.dumps cannot write them, or they are too big to print).
DEEP = "@@deep@@"
HUGE = "h" * 2_000_000
ABSENT = object()
#: The wrong values each member of a token answer is replaced with, in turn.
WRONG_VALUES: list[Any] = [
    ABSENT,
    None,
    "",
    True,
    0,
    -1,
    0.5,
    1e308,
    -1e308,
    2**53 + 1,
    "NaN",
    "1e999",
    "9" * 40,
    [],
    {},
    ["in-an-array-0123456789"],
    {"token": "in-an-object-0123456789"},
    "\u202e",
    DEEP,
    HUGE,
]
#: Token answers that are JSON but not an object.
NOT_OBJECTS = ["[]", "null", "true", "42", '"a-bare-token-0123456789"', "[{}]"]
GENERIC = ["types", "truncate", "bytes", "nesting", "huge", "surrogates", "html", "empty", "status"]
SEEDED = {"types", "truncate", "bytes", "nesting", "huge", "surrogates", "status"}
NOW_S = time.time()


# ---- reading a credential file the way its own tool does ----------------------------


@dataclass
class Saved:
    """A credential file as its tool reads it."""

    access: Any
    refresh: Any
    expiry_ms: float | None = None  # None: the file holds no expiry
    extras: dict[str, Any] = field(default_factory=dict)  # text a refresh may update
    kept: Any = None  # everything else, which a refresh must never change


def finite(value: Any) -> float:
    assert isinstance(value, (int, float)) and not isinstance(value, bool), value
    assert math.isfinite(value), value
    return float(value)


def iso_ms(value: Any) -> float:
    assert isinstance(value, str), value
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000


def iso(offset_sec: float) -> str:
    moment = datetime.fromtimestamp(time.time() + offset_sec, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def pretty(path: Path, newline: bool = False) -> Any:
    """JSON with 2-space indents (and a final newline when the tool writes one)."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "') and text.endswith("}\n" if newline else "}"), text[:40]
    return json.loads(text)


# ---- the logins ---------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    name: str
    plugin: str
    rel: str  # the credential file under HOME
    token_url: str
    answer: dict[str, Any]  # the provider's normal token answer
    write: Callable[[Any], None]  # an expired login
    read: Callable[[Path], Saved]
    usage: Callable[[Any], None]  # normal usage answers
    old: tuple[str, str]  # the file's access and refresh tokens
    source: str | None = None
    access_key: str = "access_token"
    refresh_key: str = "refresh_token"
    standard: bool = True  # an OAuth token answer (ctx.oauth.requestToken)
    #: The store is encrypted in pure Python (seconds per 2 MB): 2 MB tokens only in a scaled run.
    slow_crypto: bool = False

    @property
    def fields(self) -> list[str]:
        names = ["access_token", "refresh_token", "id_token", "expires_in"] if self.standard else []
        return names + [k for k in self.answer if k not in names]


CLAUDE = fixtures("claude")
CLAUDE_OLD = ("sk-ant-oat01-fixture-access", "sk-ant-ort01-fixture-refresh")


def claude_write(env: Any) -> None:
    data = CLAUDE("credentials.json")
    data["claudeAiOauth"]["expiresAt"] = 1000
    env.file(".claude/.credentials.json", json.dumps(data, separators=(",", ":")), mode=0o640)


def claude_read(path: Path) -> Saved:
    text = path.read_text(encoding="utf-8")
    assert "\n" not in text  # Claude Code's minified JSON
    data = json.loads(text)
    oauth = dict(data["claudeAiOauth"])
    access, refresh = oauth.pop("accessToken"), oauth.pop("refreshToken")
    expiry = finite(oauth.pop("expiresAt"))
    return Saved(access, refresh, expiry, kept={**data, "claudeAiOauth": oauth})


def claude_usage(env: Any) -> None:
    env.web.add("GET", "https://api.anthropic.com/api/oauth/usage", json=CLAUDE("usage.json"))


CODEX = fixtures("codex")
CODEX_OLD = (make_jwt({"exp": int(NOW_S) - 60, "sub": "user-old"}), "rt_fixture-refresh")
CODEX_ID = make_jwt({"https://api.openai.com/auth": {"chatgpt_account_id": "acc-from-id-token"}})


def codex_write(env: Any) -> None:
    data = CODEX("auth.json")
    data["tokens"].update(access_token=CODEX_OLD[0], refresh_token=CODEX_OLD[1], id_token=CODEX_ID)
    env.file(".codex/auth.json", json.dumps(data, indent=2), mode=0o600)


def codex_read(path: Path) -> Saved:
    data = pretty(path)
    tokens = dict(data["tokens"])
    access, refresh = tokens.pop("access_token"), tokens.pop("refresh_token")
    id_token = tokens.pop("id_token")
    iso_ms(data.pop("last_refresh"))  # Codex refreshes by its age: it must stay a date
    return Saved(access, refresh, extras={"id_token": id_token}, kept={**data, "tokens": tokens})


def codex_usage(env: Any) -> None:
    env.web.add("GET", "https://chatgpt.com/backend-api/wham/usage", json=CODEX("usage.json"))


FACTORY = fixtures("factory")
FACTORY_OLD = (
    make_jwt({"sub": "user_01EXAMPLE", "exp": int(NOW_S) - 120, "org_id": "org_01EXAMPLE"}),
    "workos-refresh-token-original-1",
)
FACTORY_LOGIN = {
    "access_token": FACTORY_OLD[0],
    "refresh_token": FACTORY_OLD[1],
    "active_organization_id": "org_01EXAMPLE",
}
FACTORY_KEY = bytes(range(32))


def factory_write(env: Any) -> None:
    env.file(".factory/auth.json", json.dumps(FACTORY_LOGIN, indent=2))


def factory_holder(data: dict[str, Any]) -> Saved:
    rest = dict(data)
    return Saved(rest.pop("access_token"), rest.pop("refresh_token"), kept=rest)


def factory_v2_write(env: Any) -> None:
    iv = bytes(range(16))
    plain = json.dumps({**FACTORY_LOGIN, "v": 2}).encode()
    ct, tag = ciphers.aes_gcm_encrypt(FACTORY_KEY, iv, plain)
    env.file(".factory/auth.v2.key", base64.b64encode(FACTORY_KEY).decode())
    parts = (base64.b64encode(p).decode() for p in (iv, tag, ct))
    env.file(".factory/auth.v2.file", ":".join(parts))


def factory_v2_read(path: Path) -> Saved:
    iv, tag, ct = (base64.b64decode(p) for p in path.read_text().strip().split(":"))
    assert len(iv) == 16
    assert (path.parent / "auth.v2.key").read_text() == base64.b64encode(FACTORY_KEY).decode()
    return factory_holder(json.loads(ciphers.aes_gcm_decrypt(FACTORY_KEY, iv, ct, tag)))


def factory_usage(env: Any) -> None:
    env.web.add(
        "GET", "https://api.factory.ai/api/billing/limits", json=FACTORY("billing-limits.json")
    )
    env.web.add("GET", "https://api.factory.ai/api/app/auth/me", json=FACTORY("auth-me.json"))


GROK = fixtures("grok")
GROK_ENTRY = "https://auth.x.ai::client-0123"
GROK_OLD = ("grok-access-token-old", "grok-refresh-token-old")


def grok_write(env: Any) -> None:
    data = GROK("auth.json")
    data[GROK_ENTRY]["expires_at"] = "2020-01-01T00:00:00Z"
    env.file(".grok/auth.json", json.dumps(data, indent=2) + "\n")


def grok_read(path: Path) -> Saved:
    data = pretty(path, newline=True)
    entry = dict(data.pop(GROK_ENTRY))
    access, refresh = entry.pop("key"), entry.pop("refresh_token")
    expiry = iso_ms(entry.pop("expires_at"))
    extras = {"id_token": entry.pop("id_token")}
    return Saved(access, refresh, expiry, extras, kept={**data, GROK_ENTRY: entry})


def grok_usage(env: Any) -> None:
    billing = "https://cli-chat-proxy.grok.com/v1/billing"
    env.web.add("GET", billing, json=GROK("billing-credits.json"), query={"format": "credits"})
    env.web.add("GET", "https://cli-chat-proxy.grok.com/v1/settings", json=GROK("settings.json"))


KIMI = fixtures("kimi")
KIMI_OLD = ("kimi-access-example", "kimi-refresh-example")


def kimi_write(env: Any) -> None:
    data = {**KIMI("credentials.json"), "expires_at": time.time() - 100, "expires_in": 900}
    data["keep"] = "me"
    env.file(".kimi-code/credentials/kimi-code.json", json.dumps(data, indent=2) + "\n", 0o640)


def kimi_read(path: Path) -> Saved:
    data = pretty(path, newline=True)
    access, refresh = data.pop("access_token"), data.pop("refresh_token")
    expiry = finite(data.pop("expires_at")) * 1000  # unix seconds
    expires_in = finite(data.pop("expires_in"))
    assert 0 < expires_in * 1000 <= TEN_YEARS_MS, expires_in
    extras = {"scope": data.pop("scope"), "token_type": data.pop("token_type")}
    return Saved(access, refresh, expiry, extras, kept=data)


def kimi_usage(env: Any) -> None:
    env.web.add("GET", "https://api.kimi.com/coding/v1/usages", json=KIMI("usages.json"))


KIRO = fixtures("kiro")
KIRO_OLD = ("aoa-EXAMPLE-access", "aor-EXAMPLE-refresh")


def kiro_write(env: Any) -> None:
    token = {**KIRO("kiro-auth-token.json"), "expiresAt": iso(-60)}
    env.file(".aws/sso/cache/kiro-auth-token.json", json.dumps(token, indent=2) + "\n")


def kiro_read(path: Path) -> Saved:
    data = pretty(path, newline=True)
    access, refresh = data.pop("accessToken"), data.pop("refreshToken")
    expiry = iso_ms(data.pop("expiresAt"))
    extras = {"profileArn": data.pop("profileArn")}
    return Saved(access, refresh, expiry, extras, kept=data)


def kiro_usage(env: Any) -> None:
    env.web.add(
        "GET",
        "https://q.us-east-1.amazonaws.com/getUsageLimits",
        json=KIRO("get-usage-limits.json"),
    )


LOGINS = [
    Login(
        "claude",
        "claude",
        ".claude/.credentials.json",
        "https://platform.claude.com/v1/oauth/token",
        CLAUDE("token.json"),
        claude_write,
        claude_read,
        claude_usage,
        CLAUDE_OLD,
    ),
    Login(
        "codex",
        "codex",
        ".codex/auth.json",
        "https://auth.openai.com/oauth/token",
        CODEX("token.json"),
        codex_write,
        codex_read,
        codex_usage,
        CODEX_OLD,
    ),
    Login(
        "factory",
        "factory",
        ".factory/auth.json",
        "https://api.workos.com/user_management/authenticate",
        FACTORY("workos-refresh.json"),
        factory_write,
        lambda path: factory_holder(pretty(path)),
        factory_usage,
        FACTORY_OLD,
    ),
    Login(
        "factory-v2",
        "factory",
        ".factory/auth.v2.file",
        "https://api.workos.com/user_management/authenticate",
        FACTORY("workos-refresh.json"),
        factory_v2_write,
        factory_v2_read,
        factory_usage,
        FACTORY_OLD,
        slow_crypto=True,
    ),
    Login(
        "grok",
        "grok",
        ".grok/auth.json",
        "https://auth.x.ai/oauth2/token",
        {
            "access_token": "grok-access-token-new",
            "refresh_token": "grok-refresh-token-new",
            "id_token": "id-token-new",
            "expires_in": 3600,
            "token_type": "Bearer",
        },
        grok_write,
        grok_read,
        grok_usage,
        GROK_OLD,
    ),
    Login(
        "kimi",
        "kimi",
        ".kimi-code/credentials/kimi-code.json",
        "https://auth.kimi.com/api/oauth/token",
        KIMI("token.json"),
        kimi_write,
        kimi_read,
        kimi_usage,
        KIMI_OLD,
        source="oauth",
    ),
    Login(
        "kiro",
        "kiro",
        ".aws/sso/cache/kiro-auth-token.json",
        "https://prod.us-east-1.auth.desktop.kiro.dev/refreshToken",
        KIRO("refresh-token.json"),
        kiro_write,
        kiro_read,
        kiro_usage,
        KIRO_OLD,
        source="oauth",
        access_key="accessToken",
        refresh_key="refreshToken",
        standard=False,
    ),
]


# ---- damaged answers ----------------------------------------------------------------


@dataclass(frozen=True)
class Damaged:
    label: str
    status: int
    headers: dict[str, str]
    body: bytes


JSON_HEADERS = {"Content-Type": "application/json"}


def short(value: Any) -> str:
    if value is ABSENT:
        return "left out"
    if value == DEEP:
        return "an array nested 3000 deep"
    if value == HUGE:
        return "a 2 MB string"
    return repr(value)[:40]


def with_member(answer: dict[str, Any], name: str, value: Any) -> bytes:
    data = dict(answer)
    if value is ABSENT:
        data.pop(name, None)
        return json.dumps(data).encode()
    if value == DEEP:
        return deeply_nested({**data, name: 0}, name).encode()
    data[name] = value
    return json.dumps(data).encode()


def damaged_answers(login: Login, kind: str) -> list[Damaged]:
    """The damaged token answers of one kind: a member's name, "not-an-object" or a GENERIC kind."""
    if kind in login.fields:
        values = [v for v in WRONG_VALUES if v != HUGE or SCALE > 1 or not login.slow_crypto]
        return [
            Damaged(f"{kind} {short(v)}", 200, JSON_HEADERS, with_member(login.answer, kind, v))
            for v in values
        ]
    if kind == "not-an-object":
        return [Damaged(f"the answer {t}", 200, JSON_HEADERS, t.encode()) for t in NOT_OBJECTS]
    body = json.dumps(login.answer).encode()
    out = []
    for seed in range(scaled(3) if kind in SEEDED else 1):
        rng = random.Random(f"{login.name}:{kind}:{seed}")
        status, headers, damaged = damage(body, kind, rng)
        out.append(Damaged(f"{kind} (seed {seed}, HTTP {status})", status, headers, damaged))
    return out


def usable_pair(login: Login, answer: Damaged) -> tuple[str | None, str | None]:
    """The access and refresh tokens the damaged answer still carries as non-empty text."""
    if answer.status != 200:
        return None, None
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))  # a member may be nested 3000 deep
    try:
        data = json.loads(answer.body)
    except ValueError:
        return None, None
    finally:
        sys.setrecursionlimit(limit)
    if not isinstance(data, dict):
        return None, None
    access, refresh = data.get(login.access_key), data.get(login.refresh_key)
    return (
        access if isinstance(access, str) and access else None,
        refresh if isinstance(refresh, str) and refresh else None,
    )


# ---- the checks ---------------------------------------------------------------------


def check_outcome(env: Any, login: Login, answer: Damaged, run: Any) -> None:
    where = f"{login.name}, token answer: {answer.label}"
    # (a) a valid snapshot; a failure is one clear message
    check_snapshot(run.json)
    if run.error is not None:
        clear_message(run.error)
        assert not RAW_JS_ERROR.search(run.error), f"{where}: {run.error[:200]}"
        assert not UNCLEAR.search(run.error), f"{where}: {run.error[:200]}"
    assert env.requests_to(login.token_url, "POST"), f"{where}: no refresh was attempted"
    # (c) no token shows in the snapshot or the log lines
    new_access, new_refresh = usable_pair(login, answer)
    fixture_pair = (login.answer[login.access_key], login.answer[login.refresh_key])
    secrets = [*login.old, *fixture_pair, new_access or "", new_refresh or ""]
    env.assert_no_secrets(run, *(s for s in secrets if len(s) >= 8))


def check_file(
    login: Login, answer: Damaged, path: Path, before: bytes, mode: int, old: Saved
) -> bool:
    """Whether the file was rewritten (and is still a good login)."""
    where = f"{login.name}, token answer: {answer.label}"
    assert path.stat().st_mode & 0o777 == mode, f"{where}: the file mode changed"
    new_access, new_refresh = usable_pair(login, answer)
    if path.read_bytes() == before:
        # Nothing saved: only right when the answer held no usable rotated pair.
        assert not (new_access and new_refresh), f"{where}: the rotated tokens were lost"
        return False
    try:
        saved = login.read(path)
    except Exception as exc:  # any way of failing to read it is the bug
        raise AssertionError(f"{where}: the file no longer reads as before: {exc!r}") from exc
    assert isinstance(saved.access, str) and saved.access, f"{where}: access token lost"
    assert isinstance(saved.refresh, str) and saved.refresh, f"{where}: refresh token lost"
    assert saved.access in (old.access, new_access), f"{where}: access token replaced by garbage"
    assert saved.refresh in (old.refresh, new_refresh), f"{where}: refresh token replaced"
    if new_access and new_refresh:
        assert (saved.access, saved.refresh) == (new_access, new_refresh), where
    assert saved.kept == old.kept, f"{where}: other members of the file changed"
    for name, value in saved.extras.items():
        if value != old.extras[name]:
            assert isinstance(value, str) and value, f"{where}: {name} = {short(value)}"
    if saved.expiry_ms != old.expiry_ms:
        now_ms = time.time() * 1000
        assert saved.expiry_ms is not None, f"{where}: the expiry was dropped"
        assert now_ms - 60_000 < saved.expiry_ms < now_ms + TEN_YEARS_MS, (
            f"{where}: expiry written as {saved.expiry_ms!r}"
        )
    return True


@pytest.fixture(scope="module")
def pool():
    workers = WorkerPool(size=1)
    yield workers
    workers.close()


@pytest.fixture(scope="module")
def outcomes():
    """What the damaged answers led to, per login (shown with ``-s``)."""
    seen: Counter[tuple[str, str, str]] = Counter()
    yield seen
    print("\ntoken refresh: outcome, credential file -> probes")
    for name in dict.fromkeys(login.name for login in LOGINS):
        rows = sorted((k[1:], n) for k, n in seen.items() if k[0] == name)
        print(f"  {name}: " + ", ".join(f"{state} {file} {n}" for (state, file), n in rows))


def cases() -> list[Any]:
    out = []
    for login in LOGINS:
        for kind in [*login.fields, "not-an-object", *GENERIC]:
            if kind == "huge" and login.slow_crypto and SCALE == 1:
                continue
            out.append(pytest.param(login, kind, id=f"{login.name}-{kind}"))
    return out


@pytest.mark.parametrize(("login", "kind"), cases())
def test_damaged_token_answer_keeps_the_login(
    plugin_env, pool, outcomes, login: Login, kind: str
) -> None:
    path = plugin_env.path(login.rel)
    for answer in damaged_answers(login, kind):
        plugin_env.web.reset()
        login.write(plugin_env)
        before, mode = path.read_bytes(), path.stat().st_mode & 0o777
        old = login.read(path)
        plugin_env.web.add(
            "POST", login.token_url, status=answer.status, headers=answer.headers, body=answer.body
        )
        login.usage(plugin_env)
        run = plugin_env.probe(login.plugin, source=login.source, pool=pool)
        check_outcome(plugin_env, login, answer, run)
        saved = check_file(login, answer, path, before, mode, old)
        outcomes[login.name, run.state, "saved" if saved else "kept"] += 1


def test_every_plugin_that_writes_a_login_back_is_covered() -> None:
    """A new plugin with ``fsWrite`` for another tool's login must be added to LOGINS."""
    root = Path(__file__).resolve().parents[2] / "plugins"
    writers = {
        p.parent.name
        for p in root.glob("*/plugin.json")
        if (json.loads(p.read_text()).get("permissions") or {}).get("fsWrite")
    }
    assert writers == {login.plugin for login in LOGINS}
