"""What LLM calls cost: a price table per model, applied to recorded token counts when traces are read.

::

    from jsontrace import pricing

    pricing.set_prices({"my-finetune": {"input": 0.30, "output": 1.20}})   # USD per million tokens
    pricing.cost("gpt-4o-mini", {"input_tokens": 312, "output_tokens": 85, "total_tokens": 397})

Cost is never written into the trace files: they hold token counts and the
model's name, and the cost is worked out from them whenever a trace is read
(by the viewer, ``--print``, exporters), so correcting a price corrects every
trace already recorded, and a file never carries a price that went stale.

The table is :data:`DEFAULT_PRICES` (dated :data:`DEFAULT_PRICES_AS_OF`),
overridden by a JSON file named in ``JSONTRACE_PRICES`` (read on first use)
and by :func:`set_prices`. A file maps model names to prices::

    {"gpt-4o-mini": {"input": 0.15, "output": 0.60, "cached_input": 0.075},
     "my-finetune": {"input": 0.30, "output": 1.20}}

A model is found by its exact name, else by its name without a date suffix
(``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``, ``claude-sonnet-4-20250514``
as ``claude-sonnet-4``) or a provider prefix (``openai/gpt-4o``).
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from ._errors import report_once
from .format import Usage

__all__ = [
    "DEFAULT_PRICES",
    "DEFAULT_PRICES_AS_OF",
    "Cost",
    "Price",
    "Totals",
    "cost",
    "load_prices",
    "price_for",
    "prices",
    "problem",
    "reset_prices",
    "set_prices",
    "total",
]

_ENV = "JSONTRACE_PRICES"
_PER = 1_000_000


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens. Cached prompt tokens cost ``cached_input`` (reads) and
    ``cache_write`` (Anthropic's cache writes), each ``input`` when not given."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None


@dataclass(frozen=True)
class Cost:
    """What one call cost, in US dollars (the parts are None when only a total was stated)."""

    total: float
    input: float | None = None
    output: float | None = None


#: When :data:`DEFAULT_PRICES` was checked against the providers' published prices.
DEFAULT_PRICES_AS_OF: Final = "2025-08-15"

#: A small table of common models (standard tier, USD per million tokens), from
#: platform.openai.com/docs/pricing and docs.anthropic.com/en/docs/about-claude/pricing
#: as of :data:`DEFAULT_PRICES_AS_OF`. Prices change: override with :func:`set_prices`
#: or ``JSONTRACE_PRICES``.
DEFAULT_PRICES: Final[Mapping[str, Price]] = {
    # OpenAI: cached input is what a prompt-cache hit costs.
    "gpt-5": Price(1.25, 10.00, cached_input=0.125),
    "gpt-5-mini": Price(0.25, 2.00, cached_input=0.025),
    "gpt-5-nano": Price(0.05, 0.40, cached_input=0.005),
    "gpt-4.1": Price(2.00, 8.00, cached_input=0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, cached_input=0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, cached_input=0.025),
    "gpt-4o": Price(2.50, 10.00, cached_input=1.25),
    "gpt-4o-mini": Price(0.15, 0.60, cached_input=0.075),
    "o3": Price(2.00, 8.00, cached_input=0.50),
    "o3-mini": Price(1.10, 4.40, cached_input=0.55),
    "o4-mini": Price(1.10, 4.40, cached_input=0.275),
    # Anthropic: cache hits 0.1x input, 5-minute cache writes 1.25x input.
    "claude-opus-4-1": Price(15.00, 75.00, cached_input=1.50, cache_write=18.75),
    "claude-opus-4": Price(15.00, 75.00, cached_input=1.50, cache_write=18.75),
    "claude-sonnet-4": Price(3.00, 15.00, cached_input=0.30, cache_write=3.75),
    "claude-3-7-sonnet": Price(3.00, 15.00, cached_input=0.30, cache_write=3.75),
    "claude-3-5-sonnet": Price(3.00, 15.00, cached_input=0.30, cache_write=3.75),
    "claude-3-5-haiku": Price(0.80, 4.00, cached_input=0.08, cache_write=1.00),
    "claude-3-haiku": Price(0.25, 1.25, cached_input=0.03, cache_write=0.30),
}

# A dated snapshot or alias of a model: "-2024-07-18", "-20250514", "-latest".
_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest)\Z")
_FIELDS = ("input", "output", "cached_input", "cache_write")

_lock = threading.Lock()
_table: dict[str, Price] | None = None  # built on first use
_overrides: dict[str, Price] = {}
_replaced = False  # set_prices(replace=True): the overrides are the whole table
_problem: str | None = None


def _to_price(model: str, value: object) -> Price:
    if isinstance(value, Price):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(
            f"the price of {model!r} must be an object like {{'input': 0.15, 'output': 0.6}}, got {value!r}"
        )
    unknown = sorted(set(value) - set(_FIELDS))
    if unknown:
        raise ValueError(
            f"the price of {model!r} has unknown keys {unknown} (known: {', '.join(_FIELDS)})"
        )
    numbers: dict[str, float | None] = {}
    for name in _FIELDS:
        number = value.get(name)
        if number is None and name in ("input", "output"):
            raise ValueError(f"the price of {model!r} needs {name!r} (USD per million tokens)")
        if number is not None and (
            type(number) not in (int, float) or not math.isfinite(number) or number < 0
        ):
            raise ValueError(
                f"the price of {model!r}: {name!r} must be a number >= 0, got {number!r}"
            )
        numbers[name] = None if number is None else float(number)
    return Price(**numbers)  # type: ignore[arg-type]  # input and output checked above


def _check(table: Mapping[str, object]) -> dict[str, Price]:
    if not isinstance(table, Mapping):
        raise ValueError(f"a price table maps model names to prices, got {type(table).__name__}")
    checked = {}
    for model, value in table.items():
        if not isinstance(model, str) or not model:
            raise ValueError(f"a price table's keys are model names, got {model!r}")
        checked[model] = _to_price(model, value)
    return checked


def load_prices(path: str | os.PathLike[str]) -> dict[str, Price]:
    """The price table in a JSON file; ``ValueError`` with one line saying what is wrong."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ValueError(
            f"cannot read the price table {os.fspath(path)!r}: {exc.strerror or exc}"
        ) from None
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"the price table {os.fspath(path)!r} is not JSON: {exc}") from None
    try:
        return _check(data)
    except ValueError as exc:
        raise ValueError(f"the price table {os.fspath(path)!r}: {exc}") from None


def _from_env() -> dict[str, Price]:
    global _problem
    path = os.environ.get(_ENV, "").strip()
    if not path:
        return {}
    try:
        return load_prices(path)
    except ValueError as exc:
        # Read while traces are shown: the viewer goes on with the defaults and says why.
        _problem = f"{_ENV}: {exc}; using the default prices"
        report_once("pricing:env", _problem)
        return {}


def prices() -> Mapping[str, Price]:
    """The table in use: the defaults, then ``JSONTRACE_PRICES``, then :func:`set_prices`."""
    table = _table
    if table is None:
        with _lock:
            table = _table if _table is not None else _build()
    return table


def _build() -> dict[str, Price]:
    global _table
    _table = dict(_overrides) if _replaced else {**DEFAULT_PRICES, **_from_env(), **_overrides}
    return _table


def set_prices(table: Mapping[str, Price | Mapping[str, float]], *, replace: bool = False) -> None:
    """Add or change prices (USD per million tokens); with *replace*, drop the defaults and the file's.

    ``ValueError`` for a table that cannot be right (a negative price, a missing
    ``output``), before anything changes.
    """
    global _replaced
    checked = _check(table)
    with _lock:
        if replace:
            _overrides.clear()
            _replaced = True
        _overrides.update(checked)
        _build()


def reset_prices() -> None:
    """Back to the defaults and ``JSONTRACE_PRICES`` (read again on next use)."""
    global _table, _problem, _replaced
    with _lock:
        _overrides.clear()
        _replaced = False
        _table = None
        _problem = None


def problem() -> str | None:
    """Why the ``JSONTRACE_PRICES`` file was not used, if it was not (one line)."""
    prices()
    return _problem


def price_for(model: str | None) -> Price | None:
    """The price of *model*: its exact name, else without a date suffix or provider prefix."""
    if not model:
        return None
    table = prices()
    for name in _candidates(model):
        price = table.get(name)
        if price is not None:
            return price
    return None


def _candidates(model: str) -> list[str]:
    names = [model]
    if "/" in model:  # "openai/gpt-4o", as routers and gateways name models
        names.append(model.rsplit("/", 1)[1])
    for name in list(names):
        bare = _SUFFIX.sub("", name)
        if bare != name:
            names.append(bare)
    return names


def cost(model: str | None, usage: Usage | None) -> Cost | None:
    """What *usage* of *model* cost, or None when either is unknown.

    Costs stated in the usage itself (``input_cost`` and ``output_cost``, or
    ``total_cost``: LangSmith's keys) are taken as they are. Cached prompt
    tokens (``input_token_details.cache_read``) cost ``cached_input``, cache
    writes (``cache_creation``) ``cache_write``; both are part of ``input_tokens``.
    """
    if usage is None:
        return None
    stated = _stated(usage)
    if stated is not None:
        return stated
    price = price_for(model)
    if price is None:
        return None
    details = usage.get("input_token_details") or {}
    read = min(details.get("cache_read", 0), usage["input_tokens"])
    written = min(details.get("cache_creation", 0), usage["input_tokens"] - read)
    fresh = usage["input_tokens"] - read - written
    cached = price.input if price.cached_input is None else price.cached_input
    write = price.input if price.cache_write is None else price.cache_write
    spent_in = (fresh * price.input + read * cached + written * write) / _PER
    spent_out = usage["output_tokens"] * price.output / _PER
    return Cost(total=spent_in + spent_out, input=spent_in, output=spent_out)


def _stated(usage: Usage) -> Cost | None:
    spent_in, spent_out = usage.get("input_cost"), usage.get("output_cost")
    total = usage.get("total_cost")
    if spent_in is None and spent_out is None:
        return None if total is None else Cost(total=total)
    if total is None:
        total = (spent_in or 0.0) + (spent_out or 0.0)
    return Cost(total=total, input=spent_in, output=spent_out)


@dataclass(frozen=True)
class Totals:
    """Tokens and cost summed over several calls (a trace's runs)."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    #: US dollars over the calls that could be priced; None when none could.
    cost: float | None = None
    #: Calls with usage, and how many of them had no price.
    calls: int = 0
    unpriced: int = 0


def total(calls: Iterable[tuple[str | None, Usage | None]]) -> Totals:
    """The :class:`Totals` of ``(model, usage)`` pairs; pairs without usage are skipped."""
    tokens_in = tokens_out = tokens = counted = unpriced = 0
    spent: float | None = None
    for model, usage in calls:
        if usage is None:
            continue
        counted += 1
        tokens_in += usage["input_tokens"]
        tokens_out += usage["output_tokens"]
        tokens += usage["total_tokens"]
        found = cost(model, usage)
        if found is None:
            unpriced += 1
        else:
            spent = found.total + (spent or 0.0)
    return Totals(tokens_in, tokens_out, tokens, spent, counted, unpriced)
