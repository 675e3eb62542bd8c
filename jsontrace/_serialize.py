"""Turning arbitrary Python values into JSON without ever raising.

Two levels, because the hot path must stay cheap:

* :func:`default` is orjson's hook for types it does not know. orjson calls
  it only when it meets such a value, so ordinary events pay nothing.
* :func:`to_jsonable` is the slow, careful walk used when orjson refuses a
  value (cycles, huge ints, non-UTF-8 strings, very deep nesting) or an event
  is too large: it converts everything, cuts long strings and containers with
  a mark saying how much was dropped, and breaks cycles.

Converting a value calls the app's code (``__repr__``, ``model_dump``,
``tolist``...) only because jsontrace records the value, so whatever that code
raises, ``KeyboardInterrupt`` and ``SystemExit`` included, stays here: the value
is recorded as a description instead, and the event is not lost.

Array-likes are written without importing their libraries: numpy arrays and
scalars by orjson itself (``OPT_SERIALIZE_NUMPY``), anything else with
``tolist()`` or ``__array__`` (tensors, pandas Series) as a list, and data frames
(pandas, polars: ``columns``, ``head`` and ``to_numpy``) as
``{"columns": [...], "data": [[row], ...]}`` with at most ``max_items`` rows.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import enum
import itertools
import os
import traceback
import uuid
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import orjson

from ._errors import safe_repr
from .format import TRUNCATION_MARK

__all__ = [
    "MAX_DEPTH",
    "default",
    "describe_error",
    "items_mark",
    "key_text",
    "safe_repr",
    "to_jsonable",
    "truncate_str",
]

#: Below orjson's own recursion limit (254), so the careful walk always succeeds.
MAX_DEPTH = 128
_INT_LIMIT = 2**63


def key_text(key: object) -> str:
    """A dict key as the renderer writes it (orjson's ``OPT_NON_STR_KEYS``: ``None`` is
    "null", ``True`` "true", an enum its value, a ``str`` subclass its text), so a value
    cut here and one written whole name their keys alike, and redaction judges the name
    the file shows; ``str()`` for keys orjson refuses (tuples, objects)."""
    if type(key) is str:
        return key
    if type(key) is int:
        return _safe_str(key)  # what orjson writes, without its round trip (keys are often ints)
    try:
        written: dict[str, None] = orjson.loads(
            orjson.dumps({key: None}, option=orjson.OPT_NON_STR_KEYS)
        )
        return next(iter(written))
    except BaseException:  # see the module docstring: nothing raised here reaches the app
        return _safe_str(key)


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except BaseException:  # see the module docstring: nothing raised here reaches the app
        return safe_repr(value)


def describe_error(exc: BaseException) -> dict[str, str]:
    """The ``{type, message, traceback}`` record of an exception, never raising."""
    cls = type(exc)
    module = cls.__module__
    qualname = cls.__qualname__
    name = qualname if module in {"builtins", "__main__"} else f"{module}.{qualname}"
    try:
        text = "".join(traceback.format_exception(cls, exc, exc.__traceback__))
    except BaseException:  # a broken __str__ must not lose the record
        text = f"{name}: <traceback unavailable>\n"
    return {"type": name, "message": _safe_str(exc), "traceback": text}


def default(obj: Any) -> Any:
    """orjson's ``default``: a JSON-able stand-in for *obj* (orjson recurses into it).

    Never raises: a value that fails to convert (a raising ``__str__`` or
    ``__getattr__``, a released memoryview) becomes its repr or a description.
    """
    try:
        return _convert(obj)
    except BaseException:  # see the module docstring
        return safe_repr(obj)


def _convert(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray, memoryview)):
        raw = bytes(obj)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return {"$bytes_b64": base64.b64encode(raw).decode("ascii")}
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, BaseException):
        return {"type": type(obj).__qualname__, "message": _safe_str(obj)}
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, tuple):
        # A namedtuple keeps its field names, so that the redactor sees its keys.
        as_dict = getattr(obj, "_asdict", None)
        return as_dict() if callable(as_dict) else list(obj)
    if isinstance(obj, SimpleNamespace) or (
        type(obj).__name__ == "Namespace" and type(obj).__module__ == "argparse"
    ):
        return dict(vars(obj))  # argparse results often carry an api_key
    if isinstance(obj, (decimal.Decimal, os.PathLike, complex)):
        return str(obj)
    if isinstance(obj, dt.timedelta):
        return obj.total_seconds()
    if isinstance(obj, (dt.datetime, dt.date, dt.time)):  # subclasses: pandas' Timestamp
        return obj.isoformat()
    array_like = _array_like(obj)
    if array_like is not _NOT_ARRAY:
        return array_like
    # pydantic v2, then v1; both are common in LLM apps (tool schemas, messages).
    for method in ("model_dump", "dict"):
        dump = getattr(obj, method, None)
        if callable(dump) and not isinstance(obj, type):
            try:
                result = dump()
            except Exception:
                break
            if isinstance(result, dict):
                return result
    return safe_repr(obj)


_NOT_ARRAY: Any = object()


def _array_like(obj: Any) -> Any:
    """*obj* as plain data if it is a data frame or array-like, else ``_NOT_ARRAY``.

    Duck-typed, so that neither numpy nor pandas is imported here. orjson writes
    most numpy arrays itself and calls this only for the ones it cannot (another
    dtype, not C-contiguous).
    """
    # Each result is checked, so that an object answering every attribute (a mock)
    # is not taken for an array.
    if isinstance(obj, type):
        return _NOT_ARRAY
    if (
        getattr(obj, "columns", None) is not None
        and callable(getattr(obj, "head", None))
        and callable(getattr(obj, "to_numpy", None))
    ):
        frame = _frame(obj)
        if frame is not None:
            return frame
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        plain = tolist()
        if not callable(getattr(plain, "tolist", None)):
            return plain
    as_array = getattr(obj, "__array__", None)
    if callable(as_array):
        array = as_array()
        if callable(getattr(array, "tolist", None)):
            return array  # a numpy array: orjson, or tolist() above, takes it from there
    return _NOT_ARRAY


def _frame(frame: Any) -> dict[str, Any] | None:
    # Only the rows that will be written are converted: a frame of a million rows
    # costs what max_items rows cost.
    from ._config import CONFIG

    limit = CONFIG.max_items
    total = len(frame)
    # dtype=object: each cell as pandas holds it (a Timestamp for a time). A datetime64
    # array's tolist() gives datetimes or integer nanoseconds depending on its unit,
    # which pandas 2 and 3 choose differently for the same frame.
    data = frame.head(limit).to_numpy(dtype=object).tolist()
    if type(data) is not list:
        return None
    if total > limit:
        data.append(items_mark(total - limit))
    return {"columns": list(frame.columns), "data": data}


def items_mark(dropped: int) -> str:
    """The last entry of a list cut short: ``…[truncated N items]``."""
    return f"{TRUNCATION_MARK}{dropped} items]"


def _is_items_mark(value: Any) -> bool:
    return (
        type(value) is str
        and value.startswith(TRUNCATION_MARK)
        and value.endswith(" items]")
        and value[len(TRUNCATION_MARK) : -len(" items]")].isdigit()
    )


def truncate_str(text: str, limit: int) -> str:
    """*text* cut to *limit* characters plus a mark with the number dropped."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}{TRUNCATION_MARK}{len(text) - limit} chars]"


def to_jsonable(
    value: Any, *, max_chars: int | None, max_items: int, keep_rest: bool = False
) -> Any:
    """A copy of *value* made only of JSON types, cut to the limits; never raises.

    A list already cut by jsontrace (its last entry ``…[truncated N items]``
    right at the limit, as the chunks a run keeps) is not cut a second time.

    *max_chars* None leaves strings whole. With *keep_rest*, the entries of a
    list or dict past *max_items* are kept as they are, unconverted and
    unmarked, instead of being cut: that is for the redactor, which scans only
    what will be written and leaves the cut to the renderer.
    """
    try:
        return _Walker(max_chars, max_items, keep_rest).walk(value, 0)
    except BaseException as exc:  # a bug of ours, or RecursionError deep in the caller's stack
        return f"<{type(value).__qualname__} could not be converted: {type(exc).__name__}>"


class _Walker:
    def __init__(self, max_chars: int | None, max_items: int, keep_rest: bool) -> None:
        self.max_chars = max_chars
        self.max_items = max_items
        self.keep_rest = keep_rest
        self.active: set[int] = set()  # ids on the current path, to break cycles

    def walk(self, value: Any, depth: int) -> Any:
        if value is None or isinstance(value, (bool, float)):
            return value
        if isinstance(value, int):
            return value if -_INT_LIMIT <= value < _INT_LIMIT else self._big_int(value)
        if isinstance(value, str):
            return self._str(value)
        if depth >= MAX_DEPTH:
            return f"{TRUNCATION_MARK}nesting deeper than {MAX_DEPTH}]"
        if isinstance(value, (dt.datetime, dt.date, dt.time)):
            return value.isoformat()
        if isinstance(value, enum.Enum):  # as orjson writes it: the member's value
            return self.walk(value.value, depth + 1)
        if isinstance(value, uuid.UUID):
            return str(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self._container(value, depth, _dataclass_items)
        if isinstance(value, (dict, Mapping)):
            return self._container(value, depth, _mapping_items)
        if isinstance(value, tuple) and callable(getattr(value, "_asdict", None)):
            return self._container(value._asdict(), depth, _mapping_items)  # type: ignore[attr-defined]  # a namedtuple
        if isinstance(value, (list, tuple, set, frozenset)):
            return self._container(value, depth, None)
        converted = default(value)
        if isinstance(converted, str):
            return self._str(converted)
        return self.walk(converted, depth + 1)

    def _str(self, text: str) -> str:
        if self.max_chars is None:
            return text
        # Cut first: checking the encoding of a 100 MB string only to drop most of it is waste.
        return _valid_utf8(truncate_str(text, self.max_chars))

    def _big_int(self, value: int) -> str:
        # Beyond 64 bits JSON readers lose precision, so the exact digits go in a string;
        # past Python's int-to-str digit limit (ValueError), in hexadecimal.
        try:
            text = str(value)
        except ValueError:
            text = hex(value)
        return text if self.max_chars is None else truncate_str(text, self.max_chars)

    def _container(self, value: Any, depth: int, items: Any) -> Any:
        key = id(value)
        if key in self.active:
            return f"<cycle: {type(value).__qualname__}>"
        self.active.add(key)
        try:
            if items is None:
                return self._list(value, depth)
            return self._dict(items(value), depth)
        except BaseException as exc:  # a hostile container (raising __iter__, say)
            return f"<{type(value).__qualname__} could not be read: {type(exc).__name__}>"
        finally:
            self.active.discard(key)

    def _list(self, value: Any, depth: int) -> list[Any]:
        out: list[Any] = []
        items = iter(value)
        for index, item in enumerate(items):
            if index >= self.max_items:
                if self.keep_rest:
                    out.append(item)
                    out.extend(items)
                elif index == len(value) - 1 and _is_items_mark(item):
                    out.append(item)  # cut already, by the run that kept the chunks
                else:
                    out.append(items_mark(len(value) - index))
                break
            out.append(self.walk(item, depth + 1))
        return out

    def _dict(self, sized: tuple[int, Any], depth: int) -> dict[Any, Any]:
        total, pairs = sized
        out: dict[Any, Any] = {}
        for key, item in itertools.islice(pairs, self.max_items):
            name = key if type(key) is str else key_text(key)
            out[self._str(name)] = self.walk(item, depth + 1)
        if total > self.max_items:
            if self.keep_rest:
                out.update(pairs)
            else:
                out["…"] = f"{TRUNCATION_MARK}{total - self.max_items} keys]"
        return out


def _mapping_items(value: Mapping[Any, Any]) -> tuple[int, Any]:
    # No copy of all items: a dict of millions of keys is cut to max_items anyway.
    return len(value), iter(value.items())


def _dataclass_items(value: Any) -> tuple[int, Any]:
    fields = dataclasses.fields(value)
    return len(fields), ((f.name, getattr(value, f.name, None)) for f in fields)


def _valid_utf8(text: str) -> str:
    if text.isascii():  # O(1) in CPython: most text needs no encoding check
        return text
    # Lone surrogates (from surrogateescape decoding, say) cannot be written as UTF-8.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
