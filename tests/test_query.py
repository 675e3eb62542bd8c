"""jsontrace.query: the search language of the viewer's ``/``, parsed and matched against runs."""

from __future__ import annotations

import pytest

from jsontrace.query import QueryError, parse
from jsontrace.store import RunRecord, RunStore

from .events import chunk, end, start, ts_at

NOW = 1_795_000_000.0  # 2026-11-18T05:46:40Z: the events below are later (ts_at: 2026-11-24)


def store_of(*events: object) -> RunStore:
    store = RunStore()
    store.add_events(events)
    return store


@pytest.fixture
def store() -> RunStore:
    """A trace: a chain with a slow llm call that streamed, a failing retriever and a running tool."""
    return store_of(
        start("root", ts=ts_at(0), inputs={"question": "What is the capital of France?"}, tags=["beta"]),
        start("root.llm", "root", ts=ts_at(1), name="ChatModel", run_type="llm"),
        chunk("root.llm", 0, "Par", "root"),
        chunk("root.llm", 1, "is", "root"),
        end("root.llm", trace="root", ts=ts_at(4), duration_ms=3000.0, first_chunk_ms=800.0,
            chunk_count=2, outputs="Paris", model="gpt-4o-mini",
            usage={"input_tokens": 1200, "output_tokens": 30, "total_tokens": 1230}),
        start("root.ret", "root", ts=ts_at(5), name="retrieve_docs", run_type="retriever",
              tags=["beta", "eu"]),
        end("root.ret", "error", trace="root", ts=ts_at(6), duration_ms=120.0,
            error={"type": "TimeoutError", "message": "index unreachable"}),
        start("root.tool", "root", ts=ts_at(7), name="calculator", run_type="tool"),
        end("root", trace="root", ts=ts_at(9), duration_ms=9000.0),
    )  # fmt: skip


def names(store: RunStore, text: str, now: float = NOW) -> list[str]:
    root = store.get("root")
    assert root is not None
    return [run.name for run in parse(text).find(root, now=now)]


def test_an_empty_query_matches_every_run(store: RunStore) -> None:
    """No terms: every run of the trace matches, in tree order."""
    assert ["root", "ChatModel", "retrieve_docs", "calculator"] == names(store, "  ")
    assert parse("").empty


def test_field_terms(store: RunStore) -> None:
    """status, type, name (glob), tag (glob) and id each select what they name."""
    assert ["retrieve_docs"] == names(store, "status:error")
    assert ["calculator"] == names(store, "status:running")
    assert ["ChatModel"] == names(store, "type:llm")
    assert ["retrieve_docs"] == names(store, "name:retr*")
    assert ["ChatModel"] == names(store, "name:chatmodel")  # case does not matter
    assert [] == names(store, "name:retr")  # no wildcard: the whole name
    assert ["root", "retrieve_docs"] == names(store, "tag:beta")
    assert ["retrieve_docs"] == names(store, "tag:e?")
    assert ["root", "ChatModel", "retrieve_docs", "calculator"] == names(store, "id:ROOT")
    assert ["ChatModel"] == names(store, "id:root.l")


def test_commas_are_alternatives_and_a_dash_negates(store: RunStore) -> None:
    """``a,b`` matches either value; ``-term`` keeps the runs where the term does not hold."""
    assert ["retrieve_docs", "calculator"] == names(store, "status:error,running")
    assert ["root", "ChatModel"] == names(store, "-status:error,running")
    assert ["root", "ChatModel", "calculator"] == names(store, "-tag:eu")


def test_comparisons_of_durations_with_units(store: RunStore) -> None:
    """latency/duration, ttft compare durations; ms, s, m, h, d; a bare number is seconds."""
    assert ["root", "ChatModel"] == names(store, "latency>2s")
    assert ["root", "ChatModel"] == names(store, "duration>=3000ms")
    assert ["retrieve_docs"] == names(store, "latency<0.5 -status:running")
    assert ["ChatModel"] == names(store, "latency=3s")
    assert ["ChatModel"] == names(store, "ttft>500ms")
    assert ["ChatModel"] == names(store, "latency:>2.5s type:llm")  # the colon form too
    assert ["root"] == names(store, "latency>0.1m -type:llm")


def test_a_running_run_lasts_until_now(store: RunStore) -> None:
    """A running run's latency is measured to *now*, as the viewer shows it."""
    started = store.get("root.tool").started_at  # type: ignore[union-attr]
    assert started is not None
    assert ["calculator"] == names(store, "status:running latency>1m", now=started + 61)
    assert [] == names(store, "status:running latency>1m", now=started + 59)


def test_age_selects_runs_started_recently(store: RunStore) -> None:
    """age<1h: started less than an hour before now (runs with no start time never match)."""
    started = store.get("root.tool").started_at  # type: ignore[union-attr]
    assert started is not None
    assert ["calculator"] == names(store, "age<1s", now=started + 0.5)
    assert ["root", "ChatModel", "retrieve_docs", "calculator"] == names(
        store, "age<1h", now=started + 60
    )
    assert [] == names(store, "age<1h", now=started + 3601 + 10)


def test_llm_calls_by_model_and_tokens(store: RunStore) -> None:
    """model: globs the llm call's model; tokens compares its prompt and generated tokens together."""
    assert ["ChatModel"] == names(store, "model:gpt-4o*")
    assert [] == names(store, "model:claude*")
    assert ["ChatModel"] == names(store, "tokens>1200")
    assert [] == names(store, "tokens>1230")  # runs without usage never match a comparison


def test_chunks_compares_counts(store: RunStore) -> None:
    """chunks compares the number of streamed chunks."""
    assert ["ChatModel"] == names(store, "chunks>=2")
    assert ["root", "retrieve_docs", "calculator"] == names(store, "chunks=0")


def test_free_text_searches_names_inputs_outputs_and_errors(store: RunStore) -> None:
    """A bare word is searched in any case in the name, inputs, outputs and error; quotes make a phrase."""
    assert ["root"] == names(store, "FRANCE")
    assert ["ChatModel"] == names(store, "paris")
    assert ["retrieve_docs"] == names(store, "unreachable")
    assert ["root"] == names(store, '"capital of"')
    assert [] == names(store, '"of capital"')
    assert ["retrieve_docs"] == names(store, '"index unreachable" type:retriever')
    assert ["ChatModel", "retrieve_docs", "calculator"] == names(store, '-"capital of"')


def test_quotes_make_a_field_like_word_plain_text_and_quote_field_values() -> None:
    """``"a:b"`` searches the text a:b; ``name:"my chain"`` is a name with a space."""
    store = store_of(
        start("r", name="my chain", inputs={"url": "see http://x"}),
        start("s", name="other"),
    )
    runs = [store.get("r"), store.get("s")]
    assert ["my chain"] == [r.name for r in runs if r and parse('"http://x"').matches(r, now=NOW)]
    assert ["my chain"] == [
        r.name for r in runs if r and parse('name:"my chain"').matches(r, now=NOW)
    ]


def test_all_terms_must_hold_for_the_same_run(store: RunStore) -> None:
    """Terms combine with AND on one run: a trace with an llm run and an error run has no 'llm error'."""
    assert [] == names(store, "type:llm status:error")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("staus:error", "unknown field 'staus' in 'staus:error': did you mean status?"),
        (
            "status:eror",
            "unknown status 'eror': statuses are running, ok, error, cancelled, interrupted",
        ),
        ("latency>fast", "'latency>fast': latency needs a duration such as latency>2s"),
        ("latency>", "'latency>': latency needs a duration such as"),
        ("latency>2w", "units ms, s, m, h, d"),
        (
            "latency:2s",
            "latency compares a number: write latency>2s or latency<100ms, not 'latency:2s'",
        ),
        ("chunks>1.5s", "'chunks>1.5s': chunks needs a whole number, like chunks>=10"),
        ("name:", "'name:' has no value: write name:something"),
        ('"open phrase', 'a " is not closed'),
        ("- type:llm", "'-' searches for nothing: put a field or text after it"),
        ('""', "searches for nothing"),
        ("size>3", "unknown field 'size' in 'size>3'"),
        ("http://example.com", 'quote it ("http://example.com") to search the text'),
    ],
)
def test_parse_errors_are_one_line_messages(text: str, message: str | None) -> None:
    """Malformed queries raise QueryError with one line saying what is wrong and what to write."""
    if message is None:
        parse(text)
        return
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_reads_values_tells_index_only_queries_apart() -> None:
    """Only free text and tags need a run's values; the others use the index fields."""
    assert not parse("status:error type:llm name:x* latency>1s age<1h id:a chunks>1").reads_values
    assert parse("tokens>1").reads_values
    assert parse("hello").reads_values
    assert parse("tag:beta").reads_values


def test_free_text_is_asked_only_of_runs_that_pass_the_index_terms(store: RunStore) -> None:
    """The text callback (which may read files) is called only after the cheap terms hold."""
    asked: list[str] = []

    def text(run: RunRecord) -> str:
        asked.append(run.run_id)
        return run.text()

    root = store.get("root")
    assert root is not None
    found = parse("paris type:llm").find(root, now=NOW, text=text)
    assert ["root.llm"] == [run.run_id for run in found]
    assert ["root.llm"] == asked
