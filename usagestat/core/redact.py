"""Keep secrets out of everything a person or another program can read (SPEC §6).

Two layers: values known to be secret (the API key, cookie, tokens a probe
handled) are replaced wherever they appear, and patterns that look like
credentials (bearer tokens, JWTs, ``sk-``/``ghu_`` keys, cookie values,
``?key=`` query parameters) are masked even when nobody registered them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

MASK = "[redacted]"


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Compiled on first use: most runs (and every healthy probe) never redact."""
    return (
        # Authorization headers and bearer tokens.
        (re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + MASK),
        # JSON Web Tokens.
        (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
        # Vendor key prefixes (OpenAI/Anthropic sk-, session sess-, GitHub ghu_/gho_/ghp_ ...).
        (
            re.compile(
                r"\b(?:sk|sess|rk|pk|ak|wk|xai|gsk|csk|nvapi|AIza)[-_][A-Za-z0-9_-]{8,}"
                r"|\bgh[opusr]_[A-Za-z0-9]{8,}|\bgithub_pat_[A-Za-z0-9_]{8,}"
            ),
            MASK,
        ),
        # Secret-looking query parameters and assignments: ?key=..., token=...
        (
            re.compile(
                r"(?i)((?:[?&]|\b)(?:api[_-]?key|apikey|key|access_token|refresh_token|id_token|"
                r"token|password|passwd|secret|client_secret|sessionkey|session_id|session)=)"
                r"([^\s&\"',;]{6,})"
            ),
            r"\1" + MASK,
        ),
        # The same names as JSON members: "access_token": "...".
        (
            re.compile(
                r"(?i)(\"(?:api[_-]?key|apikey|access_?token|refresh_?token|id_?token|token|"
                r"password|secret|client_?secret|session_?key|cookie|cookieheader)\"\s*:\s*\")"
                r"([^\"]{6,})"
            ),
            r"\1" + MASK,
        ),
        # Cookie and Set-Cookie header lines.
        (re.compile(r"(?im)^(\s*(?:set-)?cookie\s*:\s*)(.+)$"), r"\1" + MASK),
    )


#: Names (env vars, JSON members) whose values are credentials ...
_SECRET_NAME = re.compile(
    r"(?i)(token|secret|passw|api[_-]?key|apikey|cookie|session[_-]?(key|id|token)|private[_-]?key)"
)
#: ... unless the name says the value is about the credential, not the credential.
_NOT_SECRET_NAME = re.compile(
    r"(?i)(expir|type|url|uri|endpoint|path|file|dir|name|count|limit|scope|kind|mode|hint|"
    r"prefix|label|header|source|ttl|_at$|At$|time|date)"
)


def is_secret_name(name: str) -> bool:
    """``ANTHROPIC_API_KEY``, ``refreshToken``, ``sessionKey``: yes; ``tokenType``: no."""
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def secrets_in_json(text: str) -> list[str]:
    """String values under secret names anywhere in a JSON document (none if not JSON)."""
    import json

    if not text or text.lstrip()[:1] not in ("{", "[") or len(text) > 1024 * 1024:
        return []
    try:
        pending = [json.loads(text)]
    except (ValueError, RecursionError):
        return []
    found = []
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str) and is_secret_name(str(key)):
                    found.append(value)
                elif isinstance(value, str) and value.lstrip()[:1] == "{":
                    pending.append(_maybe_json(value))  # a JSON document stored as a string
                else:
                    pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)
    return [value for value in found if len(value) >= 8]


def _maybe_json(text: str) -> object:
    import json

    try:
        return json.loads(text) if len(text) <= 1024 * 1024 else None
    except (ValueError, RecursionError):
        return None


def mask_value(value: str | None) -> str:
    """A display mask that keeps a hint of which secret it is: ``sk-…abcd``."""
    if not value:
        return ""
    if len(value) <= 8:
        return "…"
    prefix = value[:3] if value[:3].isascii() else ""
    return f"{prefix}…{value[-4:]}"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with known secrets and credential-shaped substrings masked."""
    if not text:
        return text
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, replacement in _patterns():
        text = pattern.sub(replacement, text)
    return text


class Redactor:
    """Collects the secrets of one run so every message can be scrubbed of them."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        for secret in secrets:
            if secret and isinstance(secret, str) and len(secret) >= 4:
                self._secrets.add(secret)
                # Cookie headers hold several secrets: register each value too.
                if "=" in secret:
                    for part in secret.split(";"):
                        _, _, value = part.partition("=")
                        if len(value.strip()) >= 6:
                            self._secrets.add(value.strip())

    @property
    def secrets(self) -> list[str]:
        return sorted(self._secrets)

    def __call__(self, text: str) -> str:
        return redact(text, self._secrets)
