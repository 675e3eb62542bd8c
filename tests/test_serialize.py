"""Safe conversion to JSON: every value becomes something JSON holds, nothing raises."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import sys
from collections import namedtuple
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest

from jsontrace import _serialize
from jsontrace._serialize import MAX_DEPTH, default, describe_error, safe_repr, to_jsonable
from jsontrace.format import TRUNCATION_MARK
from jsontrace.processors import Renderer


def convert(value: Any, *, max_chars: int = 1000, max_items: int = 100) -> Any:
    return to_jsonable(value, max_chars=max_chars, max_items=max_items)


def rendered(value: Any, *, max_chars: int = 100_000, max_items: int = 10_000) -> Any:
    """What the event's ``inputs`` hold after rendering (both orjson's and the careful path)."""
    line = Renderer(max_chars=max_chars, max_items=max_items)(None, "emit", {"inputs": value})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    return orjson.loads(line)["inputs"]


@dataclasses.dataclass
class Point:
    x: int
    y: list[int]


class Model:
    """Looks like a pydantic model."""

    def model_dump(self) -> dict[str, Any]:
        return {"name": "m", "when": dt.date(2024, 1, 2)}


class V1Model:
    """Looks like a pydantic v1 model."""

    def dict(self) -> dict[str, Any]:
        return {"v": 1}


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __str__(self) -> str:
        raise RuntimeError("no str")


class BadAttr:
    """An object whose __getattr__ raises something other than AttributeError."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(name)

    def __repr__(self) -> str:
        return "<BadAttr>"


class BadPath:
    def __fspath__(self) -> str:
        return "/x"

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        return "<BadPath>"


Pair = namedtuple("Pair", "a b")


class Plain:
    def __repr__(self) -> str:
        return "<Plain>"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Point(1, [2]), {"x": 1, "y": [2]}),
        (Model(), {"name": "m", "when": "2024-01-02"}),
        (V1Model(), {"v": 1}),
        (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), "2024-01-02T03:04:05+00:00"),
        (dt.timedelta(seconds=1.5), 1.5),
        (b"caf\xc3\xa9", "café"),
        (b"\xff\xfe", {"$bytes_b64": "//4="}),
        (bytearray(b"ab"), "ab"),
        ({3}, [3]),
        (frozenset({"a"}), ["a"]),
        (ValueError("bad"), {"type": "ValueError", "message": "bad"}),
        (Path("/tmp/x"), "/tmp/x"),
        (decimal.Decimal("1.10"), "1.10"),
        (complex(1, 2), "(1+2j)"),
        (Pair(1, 2), {"a": 1, "b": 2}),  # namedtuples keep their field names
        (Plain(), "<Plain>"),
        (BadRepr(), "<BadRepr object (repr failed)>"),
        (BadAttr(), "<BadAttr>"),
        (BadPath(), "<BadPath>"),
        (2**64, str(2**64)),
        (-(2**70), str(-(2**70))),
        ("\udcff lone", "\\udcff lone"),
        # Keys orjson writes are named as orjson names them ("null"); the rest by str().
        ({1: "a", (2, 3): "b", None: "c"}, {"1": "a", "(2, 3)": "b", "null": "c"}),
        (Plain, repr(Plain)),
    ],
)
def test_values_json_cannot_hold_are_converted(value: Any, expected: Any) -> None:
    """Each awkward value becomes the documented JSON stand-in, on the careful path and when
    rendered as part of an event."""
    assert expected == convert(value)
    assert expected == rendered(value)


def test_default_never_raises() -> None:
    """orjson's hook survives a released memoryview and objects that raise from everything."""
    view = memoryview(b"abc")
    view.release()
    assert default(view).startswith("<released memory at")
    assert "<BadRepr object (repr failed)>" == default(BadRepr())
    assert "<BadAttr>" == default(BadAttr())


def test_self_referencing_containers_do_not_loop() -> None:
    """A dict or list that contains itself is written with a cycle marker."""
    loop: dict[str, Any] = {"a": 1}
    loop["self"] = loop
    items: list[Any] = [1]
    items.append(items)
    assert {"a": 1, "self": "<cycle: dict>"} == rendered(loop)
    assert [1, "<cycle: list>"] == rendered(items)


def test_shared_but_not_cyclic_values_are_kept() -> None:
    """The same list twice in a dict is not a cycle and is written twice."""
    shared = [1, 2]
    assert {"a": [1, 2], "b": [1, 2]} == convert({"a": shared, "b": shared})


def test_nesting_deeper_than_orjson_allows_is_cut() -> None:
    """Nesting beyond orjson's limit is rendered, cut at MAX_DEPTH with a mark."""
    deep: list[Any] = []
    node = deep
    for _ in range(1000):
        child: list[Any] = []
        node.append(child)
        node = child
    value = rendered(deep)
    depth = 0
    while isinstance(value, list):
        value = value[0]
        depth += 1
    assert MAX_DEPTH == depth
    assert f"{TRUNCATION_MARK}nesting deeper than {MAX_DEPTH}]" == value


def test_ints_too_long_for_str_are_written_in_hex() -> None:
    """An int past Python's digit limit for str() is written as hexadecimal, not lost."""
    if not hasattr(sys, "get_int_max_str_digits"):
        pytest.skip("no int digit limit on this Python")
    huge = 1 << 20_000
    assert hex(huge)[:50] == convert(huge, max_chars=50)[:50]


def test_huge_string_is_truncated_with_the_exact_count() -> None:
    """A 100 MB string is cut to max_chars with a mark saying exactly how many chars went."""
    size = 100 * 1024 * 1024
    text = "a" * size
    value = rendered({"text": text}, max_chars=1000)["text"]
    assert "a" * 1000 + f"{TRUNCATION_MARK}{size - 1000} chars]" == value


def test_long_lists_and_dicts_are_truncated_with_the_exact_count() -> None:
    """Lists and dicts longer than max_items keep max_items and say how many were dropped."""
    assert [0, 1, 2, f"{TRUNCATION_MARK}7 items]"] == convert(list(range(10)), max_items=3)
    assert {"0": 0, "1": 1, "…": f"{TRUNCATION_MARK}8 keys]"} == convert(
        {str(i): i for i in range(10)}, max_items=2
    )
    assert [0, 1, f"{TRUNCATION_MARK}3 items]"] == rendered(list(range(5)), max_items=2)


def test_strings_at_the_limit_are_not_marked() -> None:
    """A string of exactly max_chars characters is written whole."""
    assert "abc" == _serialize.truncate_str("abc", 3)
    assert f"ab{TRUNCATION_MARK}1 chars]" == _serialize.truncate_str("abc", 2)


def test_dict_keys_and_bytes_inside_containers_are_cut_too() -> None:
    """Long keys are cut like any string."""
    assert {f"kk{TRUNCATION_MARK}3 chars]": 1} == convert({"kkkkk": 1}, max_chars=2)


def test_hostile_containers_are_described() -> None:
    """A mapping whose iteration raises is described instead of raising."""

    class Hostile(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError("no")

    qualname = Hostile.__qualname__
    assert {"a": f"<{qualname} could not be read: RuntimeError>"} == convert({"a": Hostile(x=1)})


def test_describe_error_holds_type_message_and_traceback() -> None:
    """An exception is recorded with its type, message and formatted traceback."""
    try:
        raise KeyError("missing")
    except KeyError as exc:
        record = describe_error(exc)
    assert "KeyError" == record["type"]
    assert "'missing'" == record["message"]
    assert record["traceback"].startswith("Traceback") and "KeyError" in record["traceback"]


def test_describe_error_survives_a_raising_str() -> None:
    """An exception whose __str__ raises is still described."""

    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    record = describe_error(Broken())
    assert f"{__name__}.{Broken.__qualname__}" == record["type"]
    assert "Broken()" == record["message"]  # str() failed, so repr()


def test_safe_repr() -> None:
    """safe_repr is repr, or a description when repr raises."""
    assert "[1]" == safe_repr([1])
    assert "<BadRepr object (repr failed)>" == safe_repr(BadRepr())


def test_enums_are_written_the_same_in_small_and_large_events() -> None:
    """The careful walk writes an enum member as orjson does: its value, not its text."""
    import enum

    class Level(enum.Enum):
        LOW = 1

    assert {"level": 1} == to_jsonable({"level": Level.LOW}, max_chars=100, max_items=10)


def test_keys_that_are_not_strings_are_named_as_orjson_names_them() -> None:
    """The careful walk names None, booleans, numbers, enums and dates as keys the way a dict
    written whole does ("null", "true"), so a dict reads the same whether it was cut or not."""
    import enum

    class Level(enum.Enum):
        LOW = 1

    value = {None: 1, True: 2, 3: 3, 1.5: 4, Level.LOW: 5, dt.date(2024, 1, 2): 6}
    assert orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)) == convert(value)


def test_str_subclass_keys_come_out_as_plain_strings() -> None:
    """A str-valued enum key is written as its value, a plain str, like any key of the walk."""
    import enum

    class Name(str, enum.Enum):
        A = "a"

    converted = convert({Name.A: 1, "b": 2})
    assert {"a": 1, "b": 2} == converted
    assert all(type(key) is str for key in converted)


# -- array-likes: numpy, pandas, tensors ------------------------------------------------------


class Tensor:
    """Looks like a torch tensor: no numpy, a tolist()."""

    def tolist(self) -> list[list[float]]:
        return [[0.5, 1.0]]

    def __bool__(self) -> bool:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")


class ArrayLike:
    """Converts to a numpy array on request (__array__), as xarray or polars series do."""

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        return np.array([1, 2, 3])


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: np.array([0.5, 0.25], dtype=np.float32), [0.5, 0.25]),
        (lambda: np.arange(6).reshape(2, 3), [[0, 1, 2], [3, 4, 5]]),
        (lambda: np.arange(10)[::3], [0, 3, 6, 9]),  # not contiguous: orjson asks default
        (lambda: np.array([1, "a", None], dtype=object), [1, "a", None]),
        (lambda: np.float64(0.5), 0.5),
        (lambda: np.int64(3), 3),
        (lambda: np.bool_(True), True),
        (lambda: pd.Series([1, 2], name="x"), [1, 2]),
        (
            lambda: pd.DataFrame({"doc": ["a", "b"], "score": [0.5, 0.25]}),
            {"columns": ["doc", "score"], "data": [["a", 0.5], ["b", 0.25]]},
        ),
        (
            lambda: pd.DataFrame({"at": pd.to_datetime(["2024-01-02"])}),
            {"columns": ["at"], "data": [["2024-01-02T00:00:00"]]},
        ),
        (Tensor, [[0.5, 1.0]]),
        (ArrayLike, [1, 2, 3]),
    ],
)
def test_arrays_frames_and_tensors_are_written_as_data(make: Any, expected: Any) -> None:
    """numpy arrays and scalars, pandas frames and series, objects with tolist() or __array__
    become lists and numbers (a frame: columns and rows), never their repr."""
    assert expected == convert(make())
    assert expected == rendered(make())
    assert expected == rendered({"nested": [make()]})["nested"][0]


def test_a_frame_is_cut_to_max_items_rows_without_converting_the_rest() -> None:
    """A frame of many rows is written with max_items of them and a mark with the number left."""
    import jsontrace

    jsontrace.configure(max_items=3)
    frame = pd.DataFrame({"n": range(100_000)})
    assert {"columns": ["n"], "data": [[0], [1], [2], f"{TRUNCATION_MARK}99997 items]"]} == (
        rendered(frame, max_items=3)
    )


def test_a_mock_is_not_taken_for_an_array_or_a_frame() -> None:
    """An object that answers every attribute is written as its repr, as before."""
    from unittest import mock

    assert convert(mock.MagicMock()).startswith("<MagicMock")


def test_a_list_cut_already_is_not_cut_again() -> None:
    """The chunks a run keeps end with their own mark at max_items: it is written as it is."""
    kept = [0, 1, f"{TRUNCATION_MARK}98 items]"]
    assert kept == convert(kept, max_items=2)
    assert [0, 1, f"{TRUNCATION_MARK}2 items]"] == convert([0, 1, 2, 3], max_items=2)


# -- BaseException from a value's own code ----------------------------------------------------


class StopsRepr:
    """A value whose __repr__ raises KeyboardInterrupt (or SystemExit)."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        raise self.exc


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3), GeneratorExit()])
def test_a_repr_raising_a_base_exception_is_described_not_raised(exc: BaseException) -> None:
    """jsontrace calls a value's __repr__ only to record it: whatever it raises stays inside and the
    value is described."""
    assert "<StopsRepr object (repr failed)>" == safe_repr(StopsRepr(exc))
    assert "<StopsRepr object (repr failed)>" == default(StopsRepr(exc))
    assert {"v": "<StopsRepr object (repr failed)>"} == rendered({"v": StopsRepr(exc)})


# -- array-likes through tracing: no event is lost ---------------------------------------------


def _doctor_ok(directory: Path) -> None:
    from jsontrace import doctor

    report = doctor.check(directory)
    assert [] == report.problems
    assert 0 == report.running


@pytest.mark.parametrize("redact", [True, False])
def test_a_function_returning_an_array_keeps_its_end(log_dir: Path, redact: bool) -> None:
    """embed() returning a numpy array: the run ends ok with the vector as its outputs."""
    import jsontrace
    from tests.conftest import read_events

    jsontrace.configure(redact=redact)

    @jsontrace.traceable(run_type="embedding")
    def embed(text: str) -> Any:
        return np.array([0.5, -1.0, 0.25], dtype=np.float32)

    vector = embed("hello")
    assert [0.5, -1.0, 0.25] == vector.tolist()
    _start, end = read_events(log_dir)
    assert ("ok", [0.5, -1.0, 0.25]) == (end["status"], end["outputs"])
    _doctor_ok(log_dir)


def test_a_generator_yielding_arrays_keeps_every_chunk(log_dir: Path) -> None:
    """A stream of arrays (scores per batch): every chunk written, seq without gaps, a clean end."""
    import jsontrace
    from tests.conftest import read_events

    @jsontrace.traceable
    def scores() -> Iterator[Any]:
        for i in range(3):
            yield np.full(2, i, dtype=np.int64)

    assert [[0, 0], [1, 1], [2, 2]] == [s.tolist() for s in scores()]
    events = read_events(log_dir)
    chunks = [e for e in events if e["event"] == "run.chunk"]
    assert [[0, 0], [1, 1], [2, 2]] == [c["chunk"] for c in chunks]
    assert [0, 1, 2] == [c["seq"] for c in chunks]
    assert (3, [[0, 0], [1, 1], [2, 2]]) == (events[-1]["chunk_count"], events[-1]["outputs"])
    _doctor_ok(log_dir)


def test_a_data_frame_input_is_written_as_columns_and_rows(log_dir: Path) -> None:
    """A pandas frame passed in (retrieved documents) is written as columns and rows, secrets in
    it redacted like any text; a Series output as a list."""
    import jsontrace
    from tests.conftest import read_events

    @jsontrace.traceable
    def rank(docs: Any, api_key: str) -> Any:
        return docs["score"] * 2

    frame = pd.DataFrame({"doc": ["alpha", "key sk-" + "a" * 30], "score": [0.5, 0.25]})
    assert [1.0, 0.5] == rank(frame, api_key="k").tolist()
    start, end = read_events(log_dir)
    assert {
        "docs": {"columns": ["doc", "score"], "data": [["alpha", 0.5], ["key [REDACTED]", 0.25]]},
        "api_key": "[REDACTED]",
    } == start["inputs"]
    assert [1.0, 0.5] == end["outputs"]
    _doctor_ok(log_dir)


def test_an_array_added_by_a_user_processor_is_written(log_dir: Path) -> None:
    """A field a structlog processor adds, holding an array, is checked by name without asking the
    array anything, and written."""
    import jsontrace
    from tests.conftest import read_events

    def add_vector(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict["vector"] = np.array([1, 2])
        event_dict["token"] = np.array([3])  # under a secret name: redacted whole
        return event_dict

    jsontrace.configure(processors=[add_vector])
    assert 3 == jsontrace.traceable(lambda: 3)()
    for event in read_events(log_dir):
        assert ([1, 2], "[REDACTED]") == (event["vector"], event["token"])
