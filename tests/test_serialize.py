"""Safe conversion to JSON: every value becomes something JSON holds, nothing raises."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import sys
from collections import namedtuple
from pathlib import Path
from typing import Any

import orjson
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
        ({1: "a", (2, 3): "b", None: "c"}, {"1": "a", "(2, 3)": "b", "None": "c"}),
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
