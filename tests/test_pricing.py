"""jsontrace.pricing: cost from recorded tokens and a price table that users can override."""

from __future__ import annotations

import warnings
from pathlib import Path

import orjson
import pytest

from jsontrace import JsonTraceWarning, pricing
from jsontrace.format import Usage


def usage(tokens_in: int, tokens_out: int, **details: int) -> Usage:
    found: Usage = {
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
    }
    if details:
        found["input_token_details"] = details
    return found


def test_cost_per_million_tokens_from_the_default_table() -> None:
    """gpt-4o-mini at $0.15 in / $0.60 out per million: 312 in, 85 out cost $0.0000978."""
    cost = pricing.cost("gpt-4o-mini", usage(312, 85))
    assert cost is not None
    assert pytest.approx(312 * 0.15 / 1e6) == cost.input
    assert pytest.approx(85 * 0.60 / 1e6) == cost.output
    assert pytest.approx(0.0000978) == cost.total


def test_dated_snapshots_and_provider_prefixes_find_their_model_but_other_models_do_not() -> None:
    """A date or ``-latest`` suffix and a ``provider/`` prefix are dropped; ``gpt-4o-mini`` is never priced as ``gpt-4o``."""
    mini = pricing.DEFAULT_PRICES["gpt-4o-mini"]
    assert mini == pricing.price_for("gpt-4o-mini-2024-07-18")
    assert mini == pricing.price_for("openai/gpt-4o-mini")
    assert pricing.DEFAULT_PRICES["claude-sonnet-4"] == pricing.price_for(
        "claude-sonnet-4-20250514"
    )
    assert pricing.DEFAULT_PRICES["claude-opus-4-1"] == pricing.price_for(
        "claude-opus-4-1-20250805"
    )
    assert pricing.DEFAULT_PRICES["claude-3-7-sonnet"] == pricing.price_for(
        "claude-3-7-sonnet-latest"
    )
    assert None is pricing.price_for("gpt-4o-mini-search-preview")
    assert None is pricing.price_for("my-own-model")
    assert None is pricing.cost("my-own-model", usage(10, 10))
    assert None is pricing.cost("gpt-4o", None)


def test_cached_prompt_tokens_cost_the_cached_price_and_cache_writes_the_write_price() -> None:
    """Cache reads and writes are parts of input_tokens, each at its own price (Anthropic: 0.1x and 1.25x)."""
    cost = pricing.cost(
        "claude-sonnet-4", usage(1_000_000, 0, cache_read=600_000, cache_creation=100_000)
    )
    assert cost is not None
    assert (
        pytest.approx(300_000 * 3.00 / 1e6 + 600_000 * 0.30 / 1e6 + 100_000 * 3.75 / 1e6)
        == cost.input
    )
    openai = pricing.cost("gpt-4o", usage(1000, 0, cache_read=400))
    assert openai is not None
    assert pytest.approx((600 * 2.50 + 400 * 1.25) / 1e6) == openai.input


def test_set_prices_adds_and_overrides_and_replace_drops_the_defaults() -> None:
    """set_prices merges over the defaults; replace=True makes the given table the whole table."""
    pricing.set_prices(
        {"my-finetune": {"input": 1.0, "output": 2.0}, "gpt-4o": pricing.Price(5.0, 15.0)}
    )
    assert pricing.Price(1.0, 2.0) == pricing.price_for("my-finetune")
    assert pricing.Price(5.0, 15.0) == pricing.price_for("gpt-4o-2024-05-13")
    assert pricing.DEFAULT_PRICES["gpt-4o-mini"] == pricing.price_for("gpt-4o-mini")

    pricing.set_prices({"only-this": {"input": 1, "output": 1}}, replace=True)
    assert None is pricing.price_for("gpt-4o-mini")
    pricing.set_prices({"and-this": {"input": 1, "output": 1}})
    assert ["and-this", "only-this"] == sorted(pricing.prices())

    pricing.reset_prices()
    assert pricing.DEFAULT_PRICES == dict(pricing.prices())


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"m": {"input": 1}}, "needs 'output'"),
        ({"m": {"input": -1, "output": 1}}, "'input' must be a number >= 0"),
        ({"m": {"input": 1, "output": 1, "cahced_input": 1}}, "unknown keys ['cahced_input']"),
        ({"m": 0.5}, "must be an object"),
        ({"": {"input": 1, "output": 1}}, "keys are model names"),
    ],
)
def test_set_prices_refuses_a_table_that_cannot_be_right(table: object, message: str) -> None:
    """A wrong table is refused with one line naming the model and the problem; nothing changes."""
    with pytest.raises(ValueError) as raised:
        pricing.set_prices(table)  # type: ignore[arg-type]
    assert message in str(raised.value)
    assert pricing.DEFAULT_PRICES == dict(pricing.prices())


def test_jsontrace_prices_names_a_file_merged_over_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``JSONTRACE_PRICES=file.json`` adds and overrides prices for every reader of the process."""
    path = tmp_path / "prices.json"
    path.write_bytes(
        orjson.dumps(
            {
                "gpt-4o-mini": {"input": 1, "output": 2, "cached_input": 0.5},
                "local": {"input": 0, "output": 0},
            }
        )
    )
    monkeypatch.setenv("JSONTRACE_PRICES", str(path))
    pricing.reset_prices()

    assert pricing.Price(1.0, 2.0, cached_input=0.5) == pricing.price_for("gpt-4o-mini")
    assert pricing.Price(0.0, 0.0) == pricing.price_for("local")
    assert None is pricing.problem()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the price table"),
        (b"{not json", "is not JSON"),
        (b'{"m": {"input": "cheap", "output": 1}}', "'input' must be a number >= 0"),
    ],
    ids=["missing", "not-json", "bad-price"],
)
def test_a_bad_prices_file_is_reported_in_one_line_and_the_defaults_stay(
    content: bytes | None, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing or wrong JSONTRACE_PRICES file: one warning line saying what is wrong; the defaults are used."""
    path = tmp_path / "prices.json"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("JSONTRACE_PRICES", str(path))
    pricing.reset_prices()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert pricing.DEFAULT_PRICES["gpt-4o"] == pricing.price_for("gpt-4o")
    problem = pricing.problem()
    assert problem is not None and message in problem and str(path) in problem
    assert "\n" not in problem
    assert [JsonTraceWarning] == [w.category for w in caught]


def test_load_prices_reads_a_file_and_says_what_is_wrong(tmp_path: Path) -> None:
    """load_prices returns the table of a file, or a ValueError naming the file."""
    good = tmp_path / "good.json"
    good.write_bytes(b'{"m": {"input": 1, "output": 2, "cache_write": 1.25}}')
    assert {"m": pricing.Price(1.0, 2.0, cache_write=1.25)} == pricing.load_prices(good)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"[1, 2]")
    with pytest.raises(ValueError, match=r"bad\.json"):
        pricing.load_prices(bad)


def test_costs_stated_in_the_usage_are_taken_as_they_are() -> None:
    """LangSmith's ``input_cost``/``output_cost``/``total_cost``, when the traced code stated them, beat the table."""
    stated: Usage = {**usage(10, 10), "input_cost": 0.25, "output_cost": 0.5}
    assert pricing.Cost(total=0.75, input=0.25, output=0.5) == pricing.cost("unknown-model", stated)
    only_total: Usage = {**usage(10, 10), "total_cost": 1.5}
    assert pricing.Cost(total=1.5) == pricing.cost("gpt-4o", only_total)


def test_the_default_table_is_dated() -> None:
    """The default table says when its prices were checked (ISO date), and every price is sane."""
    assert 10 == len(pricing.DEFAULT_PRICES_AS_OF) and pricing.DEFAULT_PRICES_AS_OF[4] == "-"
    for model, price in pricing.DEFAULT_PRICES.items():
        assert 0 < price.input <= price.output, model
        assert price.cached_input is None or price.cached_input < price.input, model
