"""The per-model price table: the bundled ``usagestat/core/pricing.json`` or a newer override.

Prices live in data, not code, so ``usagestat pricing update --from FILE`` can
refresh them offline. Token counts in the log index never depend on prices:
a new table re-prices all history at report time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

PRICE_FIELDS = ("input", "output", "cacheWrite", "cacheWrite1h", "cacheRead")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MODEL_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_MAX_PRICE = (
    10_000.0  # $/MTok; anything above is a typo (cents vs dollars, per-token vs per-million)
)


class PricingError(ValueError):
    """A price table that cannot be used; the message names the offending field."""


@dataclass(frozen=True)
class Rates:
    """USD per million tokens for each token kind of one request class."""

    input: float
    output: float
    cache_write: float
    cache_write_1h: float
    cache_read: float

    def as_json(self) -> dict[str, float]:
        return {
            "input": self.input,
            "output": self.output,
            "cacheWrite": self.cache_write,
            "cacheWrite1h": self.cache_write_1h,
            "cacheRead": self.cache_read,
        }


@dataclass(frozen=True)
class ModelPrice:
    base: Rates
    long: Rates | None = None
    threshold: int | None = None  # prompt tokens above which ``long`` applies to the whole request

    def rates_for(self, prompt_tokens_above: int | None) -> Rates:
        """``prompt_tokens_above`` is the largest threshold the request exceeded (None: none)."""
        if (
            self.long is not None
            and self.threshold is not None
            and prompt_tokens_above is not None
            and prompt_tokens_above >= self.threshold
        ):
            return self.long
        return self.base


@dataclass
class PricingTable:
    date: str
    models: dict[str, ModelPrice]
    aliases: dict[str, str] = field(default_factory=dict)
    origin: str = "bundled"
    warnings: list[str] = field(default_factory=list)
    _cache: dict[str, str | None] = field(default_factory=dict, repr=False)

    @property
    def thresholds(self) -> set[int]:
        return {m.threshold for m in self.models.values() if m.threshold is not None}

    def resolve(self, model: str) -> str | None:
        """The table key that prices ``model``, or None when it is unknown (never guessed)."""
        try:
            return self._cache[model]
        except KeyError:
            pass
        key = _resolve(model, self.models, self.aliases)
        self._cache[model] = key
        return key

    def price(self, model: str) -> ModelPrice | None:
        key = self.resolve(model)
        return self.models[key] if key is not None else None


# -- model-name matching -------------------------------------------------------------------

_PROVIDER_PREFIX = re.compile(r"^(?:[a-z]{2,4}\.)?(?:anthropic|openai)\.")  # Bedrock: us.anthropic.
_SUFFIXES = (
    re.compile(r"\[[0-9a-z]+\]$"),  # claude-opus-4-6[1m]
    re.compile(r"-v\d+(?::\d+)?$"),  # Bedrock -v1:0
    re.compile(r"@\d{8}$"),  # Vertex claude-sonnet-4-5@20250929
    re.compile(r"@latest$"),
    re.compile(r"-\d{8}$"),  # claude-sonnet-4-5-20250929
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # gpt-5-2025-08-07
    # Qualifiers that do not change the price per token: an alias of the newest snapshot,
    # extended thinking, reasoning effort (gpt-5.1-codex-max-xhigh). Size and tier words
    # (-mini, -nano, -pro, -max, -turbo, -deep-research…) name other models with other
    # prices: they are never removed, and such a model is priced only when the table (or
    # its aliases) lists it.
    re.compile(r"-(?:latest|thinking|minimal|low|medium|high|xhigh)$"),
)


def _candidates(model: str) -> list[str]:
    name = model.strip().lower()
    out = [name]
    if "/" in name:  # anthropic/claude-…, openrouter/openai/gpt-5
        name = name.rsplit("/", 1)[1]
        out.append(name)
    stripped = _PROVIDER_PREFIX.sub("", name)
    if stripped != name:
        name = stripped
        out.append(name)
    changed = True
    while changed:
        changed = False
        for pattern in _SUFFIXES:
            new = pattern.sub("", name)
            if new != name and new:
                name = new
                out.append(name)
                changed = True
    return out


def _resolve(model: str, models: dict[str, ModelPrice], aliases: dict[str, str]) -> str | None:
    """Only the name itself or the name without price-neutral suffixes: never a neighbour.

    ``o3-pro`` is not ``o3`` and ``claude-opus-4-9`` is not ``claude-opus-4``; a model
    the table does not list is unpriced (its tokens still count).
    """
    if not model:
        return None
    for name in _candidates(model):
        if name in models:
            return name
        if name in aliases and aliases[name] in models:
            return aliases[name]
    return None


# -- loading and validation ----------------------------------------------------------------


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PricingError(f"{where} must be a number")
    number = float(value)
    if not (0.0 <= number <= _MAX_PRICE):
        raise PricingError(f"{where} must be between 0 and {_MAX_PRICE:g} (USD per million tokens)")
    return number


def _rates(obj: Any, where: str, fallback: Rates | None = None) -> Rates:
    if not isinstance(obj, dict):
        raise PricingError(f"{where} must be an object")
    for key in obj:
        if key not in (*PRICE_FIELDS, "threshold", "provider", "note"):
            raise PricingError(f"{where}: unknown key {key!r}")
    for required in ("input", "output"):
        if required not in obj:
            raise PricingError(f"{where}.{required} is required")
    inp = _number(obj["input"], f"{where}.input")
    out = _number(obj["output"], f"{where}.output")
    scale = (inp / fallback.input) if fallback and fallback.input else 1.0

    def optional(key: str, default: float) -> float:
        return _number(obj[key], f"{where}.{key}") if key in obj else default

    if fallback is None:
        # A missing cache price falls back to a *higher* known price, never to $0.
        cache_write = optional("cacheWrite", inp)
        cache_write_1h = optional("cacheWrite1h", cache_write)
        cache_read = optional("cacheRead", inp)
    else:
        cache_write = optional("cacheWrite", fallback.cache_write * scale)
        cache_write_1h = optional("cacheWrite1h", fallback.cache_write_1h * scale)
        cache_read = optional("cacheRead", fallback.cache_read * scale)
    return Rates(inp, out, cache_write, cache_write_1h, cache_read)


def parse_table(data: Any, origin: str = "bundled") -> PricingTable:
    """Validate a decoded pricing.json document; raises :class:`PricingError` on the first problem."""
    if not isinstance(data, dict):
        raise PricingError("the pricing file must hold a JSON object")
    day = data.get("date")
    if not isinstance(day, str) or not _DATE.match(day):
        raise PricingError("'date' must be YYYY-MM-DD")
    try:
        date.fromisoformat(day)
    except ValueError:
        raise PricingError(f"'date' is not a real date: {day}")
    currency = data.get("currency", "USD")
    if currency != "USD":
        raise PricingError("'currency' must be USD")
    models_obj = data.get("models")
    if not isinstance(models_obj, dict) or not models_obj:
        raise PricingError("'models' must be a non-empty object")
    models: dict[str, ModelPrice] = {}
    for name, entry in models_obj.items():
        if not isinstance(name, str) or not _MODEL_KEY.match(name):
            raise PricingError(
                f"model name {name!r} must be lower-case letters, digits, '.', '_' or '-'"
            )
        where = f"models.{name}"
        if not isinstance(entry, dict):
            raise PricingError(f"{where} must be an object")
        base = _rates({k: v for k, v in entry.items() if k != "longContext"}, where)
        long_rates = None
        threshold = None
        if "longContext" in entry:
            lc = entry["longContext"]
            if not isinstance(lc, dict):
                raise PricingError(f"{where}.longContext must be an object")
            raw = lc.get("threshold")
            if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
                raise PricingError(f"{where}.longContext.threshold must be a positive integer")
            threshold = raw
            long_rates = _rates(lc, f"{where}.longContext", fallback=base)
        models[name] = ModelPrice(base, long_rates, threshold)
    aliases_obj = data.get("aliases", {})
    if not isinstance(aliases_obj, dict):
        raise PricingError("'aliases' must be an object")
    aliases: dict[str, str] = {}
    for alias, target in aliases_obj.items():
        if not isinstance(target, str) or target not in models:
            raise PricingError(f"alias {alias!r} points at unknown model {target!r}")
        aliases[str(alias).lower()] = target
    return PricingTable(date=day, models=models, aliases=aliases, origin=origin)


def read_table(path: Path, origin: str | None = None) -> PricingTable:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PricingError(f"cannot read {path}: {exc.strerror or exc}")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PricingError(f"{path} is not valid JSON: {exc}")
    return parse_table(data, origin=origin or str(path))


def bundled_bytes() -> bytes:
    """The shipped table; read through importlib.resources so it also works inside the .pyz."""
    from importlib import resources

    return resources.files("usagestat.core").joinpath("pricing.json").read_bytes()


def bundled_table() -> PricingTable:
    return parse_table(json.loads(bundled_bytes()), origin="bundled")


def load_pricing(override: Path | None = None) -> PricingTable:
    """The bundled table, or ``override`` (``<data>/pricing.json``) when its date is newer.

    A broken override is ignored with a warning rather than failing a report.
    """
    table = bundled_table()
    if override is None:
        from usagestat.core import paths

        override = paths.pricing_override_path()
    if not Path(override).exists():
        return table
    try:
        user = read_table(Path(override))
    except PricingError as exc:
        table.warnings.append(f"ignoring {override}: {exc}")
        return table
    if user.date > table.date:
        return user
    return table
