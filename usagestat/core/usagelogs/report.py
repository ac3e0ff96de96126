"""From indexed quarter-hour rows to the SPEC §2.2 Cost object (local-time days, priced).

Prices are applied here, at report time, so a pricing update re-prices all
history. A model the table does not know keeps its tokens but gets
``costUsd: null`` and is listed in ``unpricedModels``; it never counts as $0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .pricing import PricingTable, Rates
from .store import RootIndex

TOKEN_KEYS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")


@dataclass
class ModelUsage:
    model: str
    tokens: list[int] = field(
        default_factory=lambda: [0, 0, 0, 0]
    )  # input, output, cache write, cache read
    cost: float | None = 0.0

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)


@dataclass
class DayUsage:
    date: str
    models: dict[str, ModelUsage] = field(default_factory=dict)

    @property
    def tokens(self) -> list[int]:
        out = [0, 0, 0, 0]
        for usage in self.models.values():
            for i in range(4):
                out[i] += usage.tokens[i]
        return out

    @property
    def cost(self) -> float:
        return sum(m.cost for m in self.models.values() if m.cost is not None)


@dataclass
class CostReport:
    provider: str
    pricing_date: str
    days: list[DayUsage]
    unpriced_models: list[str]
    skipped_lines: int
    since: date | None = None
    until: date | None = None

    @property
    def totals(self) -> tuple[list[int], float]:
        tokens = [0, 0, 0, 0]
        cost = 0.0
        for day in self.days:
            for i, value in enumerate(day.tokens):
                tokens[i] += value
            cost += day.cost
        return tokens, cost

    def by_model(self) -> list[ModelUsage]:
        """The range's usage per model, most expensive first."""
        merged: dict[str, ModelUsage] = {}
        for day in self.days:
            for usage in day.models.values():
                target = merged.setdefault(usage.model, ModelUsage(usage.model))
                for i in range(4):
                    target.tokens[i] += usage.tokens[i]
                if usage.cost is None or target.cost is None:
                    target.cost = None
                else:
                    target.cost += usage.cost
        return _sorted_models(merged.values())


def _sorted_models(models: Any) -> list[ModelUsage]:
    return sorted(models, key=lambda m: (m.cost is None, -(m.cost or 0.0), m.model))


def build_report(
    provider: str,
    indexes: list[RootIndex],
    pricing: PricingTable,
    since: date | None,
    until: date | None,
) -> CostReport:
    since_s = since.isoformat() if since else None
    until_s = until.isoformat() if until else None
    rates: dict[tuple[str, int], Rates | None] = {}
    days: dict[str, DayUsage] = {}
    unpriced: set[str] = set()
    for index in indexes:
        boundaries = index.boundaries
        models = index.models
        for (day, mid, tier), row in index.days().items():
            if (since_s and day < since_s) or (until_s and day > until_s):
                continue
            model = models[mid]
            key = (model, tier)
            if key not in rates:
                price = pricing.price(model)
                exceeded = boundaries[tier - 1] if tier > 0 else None
                rates[key] = price.rates_for(exceeded) if price is not None else None
            rate = rates[key]
            inp, out, cw5, cw1h, cr = row
            bucket = days.get(day)
            if bucket is None:
                bucket = days[day] = DayUsage(day)
            usage = bucket.models.get(model)
            if usage is None:
                usage = bucket.models[model] = ModelUsage(model)
            tokens = usage.tokens
            tokens[0] += inp
            tokens[1] += out
            tokens[2] += cw5 + cw1h
            tokens[3] += cr
            if rate is None:
                usage.cost = None
                unpriced.add(model)
            elif usage.cost is not None:
                usage.cost += (
                    inp * rate.input
                    + out * rate.output
                    + cw5 * rate.cache_write
                    + cw1h * rate.cache_write_1h
                    + cr * rate.cache_read
                ) / 1_000_000
    # A model whose rows cancel out (merged duplicates) leaves no trace.
    for bucket in days.values():
        for name in [n for n, u in bucket.models.items() if not any(u.tokens)]:
            del bucket.models[name]
    ordered = [days[d] for d in sorted(days) if days[d].models]
    still_unpriced = sorted(
        {m for d in ordered for m, u in d.models.items() if u.cost is None} & unpriced
    )
    return CostReport(
        provider=provider,
        pricing_date=pricing.date,
        days=ordered,
        unpriced_models=still_unpriced,
        skipped_lines=sum(index.skipped_lines for index in indexes),
        since=since,
        until=until,
    )


def _money(value: float) -> float:
    return round(value, 6)


def _tokens_json(tokens: list[int]) -> dict[str, int]:
    return dict(zip(TOKEN_KEYS, tokens, strict=True))


def report_json(report: CostReport) -> dict[str, Any]:
    """The SPEC §2.2 Cost object."""
    days = []
    for day in report.days:
        models = [
            {
                "model": usage.model,
                **_tokens_json(usage.tokens),
                "costUsd": _money(usage.cost) if usage.cost is not None else None,
            }
            for usage in _sorted_models(day.models.values())
        ]
        days.append(
            {
                "date": day.date,
                **_tokens_json(day.tokens),
                "costUsd": _money(day.cost),
                "models": models,
            }
        )
    tokens, cost = report.totals
    return {
        "provider": report.provider,
        "pricingDate": report.pricing_date,
        "days": days,
        "totals": {**_tokens_json(tokens), "costUsd": _money(cost)},
        "unpricedModels": list(report.unpriced_models),
        "skippedLines": report.skipped_lines,
    }
