"""RunRecord's llm properties: usage, model, provider, cost (priced when read) and a trace's totals."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jsontrace import pricing
from jsontrace.render import render_tree
from jsontrace.store import RunStore

from .events import end, start

USAGE = {"input_tokens": 312, "output_tokens": 85, "total_tokens": 397}


def store_of(*events: Any) -> RunStore:
    store = RunStore()
    store.add_events(events)
    return store


def llm(
    run_id: str,
    parent: str | None = None,
    *,
    model: str = "gpt-4o-mini",
    usage: Any = USAGE,
    **extra: Any,
) -> list[dict[str, Any]]:
    """An llm run's start and end, the end carrying *model* and *usage*."""
    return [
        start(run_id, parent, run_type="llm", metadata={"ls_provider": "openai"}),
        end(run_id, model=model, usage=usage, **extra),
    ]


def test_usage_model_provider_and_cost_of_a_run() -> None:
    """A run's usage and model are the end event's; the provider LangSmith's ls_provider; cost from the price table."""
    run = store_of(*llm("a")).get("a")
    assert run is not None
    assert USAGE == run.usage
    assert ("gpt-4o-mini", "openai") == (run.model, run.provider)
    assert pytest.approx(312 * 0.15 / 1e6 + 85 * 0.60 / 1e6) == run.cost


def test_the_model_falls_back_to_ls_model_name_and_usage_is_normalised_when_read() -> None:
    """An end without ``model`` names the model from metadata ls_model_name; usage in an SDK's shape is read too."""
    store = store_of(
        start("a", run_type="llm", metadata={"ls_model_name": "claude-3-5-haiku"}),
        end("a", usage={"input_tokens": 10, "output_tokens": 4, "cache_read_input_tokens": 6}),
    )
    run = store.get("a")
    assert run is not None
    assert "claude-3-5-haiku" == run.model
    assert {
        "input_tokens": 16,
        "output_tokens": 4,
        "total_tokens": 20,
        "input_token_details": {"cache_read": 6},
    } == run.usage


def test_cost_is_worked_out_when_read_so_a_new_price_reprices_old_traces() -> None:
    """The files hold tokens only: changing a price changes the cost of runs already loaded."""
    run = store_of(*llm("a", model="my-finetune")).get("a")
    assert run is not None
    assert None is run.cost
    pricing.set_prices({"my-finetune": {"input": 1.0, "output": 2.0}})
    assert pytest.approx((312 * 1.0 + 85 * 2.0) / 1e6) == run.cost


def test_runs_without_usage_have_none() -> None:
    """A run with no usage (or unreadable usage) has usage, model and cost None; a chain has no provider."""
    store = store_of(start("a"), end("a"), *llm("b", usage={"input_tokens": "lots"}, model=""))
    for run_id in ("a", "b"):
        run = store.get(run_id)
        assert run is not None
        assert (None, None) == (run.usage, run.cost), run_id
    assert None is store.get("a").provider  # type: ignore[union-attr]
    assert None is store.get("b").model  # type: ignore[union-attr]


def test_totals_add_up_every_call_below_a_run() -> None:
    """A trace's totals: tokens of every run with usage at any depth, cost of those with a price, the rest counted."""
    store = store_of(
        start("root"),
        start("chain", "root"),
        *llm("one", "chain"),
        *llm(
            "two",
            "root",
            model="claude-sonnet-4",
            usage={"input_tokens": 100, "output_tokens": 10, "total_tokens": 110},
        ),
        *llm("three", "root", model="unpriced-model"),
        end("chain"),
        end("root"),
    )
    root = store.get("root")
    assert root is not None
    totals = root.totals()
    assert (3, 1) == (totals.calls, totals.unpriced)
    assert (312 + 100 + 312, 85 + 10 + 85, 397 + 110 + 397) == (
        totals.input_tokens,
        totals.output_tokens,
        totals.total_tokens,
    )
    assert pytest.approx(store.get("one").cost + store.get("two").cost) == totals.cost  # type: ignore[union-attr, operator]
    assert (1, 0) == (store.get("chain").totals().calls, store.get("chain").totals().unpriced)  # type: ignore[union-attr]
    lines = list(render_tree(store))
    assert "Σ 724→180 tok  ≥$" in lines[0]


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "input_tokens",
                    "output_tokens",
                    "total_tokens",
                    "prompt_tokens",
                    "input_token_details",
                    "cache_read",
                    "total_cost",
                    "x",
                ]
            ),
            inner,
        )
    ),
    max_leaves=10,
)


@settings(deadline=None)
@given(usage=_values, model=_values, metadata=_values)
def test_any_usage_model_or_metadata_in_a_file_is_read_without_raising(
    usage: Any, model: Any, metadata: Any
) -> None:
    """Whatever the files hold under ``usage``, ``model`` and ``metadata``, the llm properties and the tree are total."""
    store = store_of(
        start("root"),
        start("a", "root", metadata=metadata),
        end("a", usage=usage, model=model),
        end("root"),
    )
    run = store.get("a")
    assert run is not None
    found = run.usage
    assert found is None or found["total_tokens"] >= 0
    assert run.model is None or isinstance(run.model, str)
    assert run.cost is None or run.cost >= 0
    assert store.get("root").totals().calls in (0, 1)  # type: ignore[union-attr]
    list(render_tree(store))
