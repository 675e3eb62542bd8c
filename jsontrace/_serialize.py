"""Turning arbitrary Python values into JSON without ever raising.

Two levels, because the hot path must stay cheap:

* :func:`default` is orjson's hook for types it does not know. orjson calls
  it only when it meets such a value, so ordinary events pay nothing.
* :func:`to_jsonable` is the slow, careful walk used when orjson refuses a
  value (cycles, huge ints, non-UTF-8 strings, very deep nesting) or an event
  is too large: it converts everything, cuts long strings and containers with
  a mark saying how much was dropped, and breaks cycles.
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

from ._errors import safe_repr
from .format import TRUNCATION_MARK

__all__ = ["MAX_DEPTH", "default", "describe_error", "safe_repr", "to_jsonable", "truncate_str"]

#: Below orjson's own recursion limit (254), so the careful walk always succeeds.
MAX_DEPTH = 128
_INT_LIMIT = 2**63


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return safe_repr(value)


def describe_error(exc: BaseException) -> dict[str, str]:
    """The ``{type, message, traceback}`` record of an exception, never raising."""
    cls = type(exc)
    module = cls.__module__
    qualname = cls.__qualname__
    name = qualname if module in {"builtins", "__main__"} else f"{module}.{qualname}"
    try:
        text = "".join(traceback.format_exception(cls, exc, exc.__traceback__))
    except Exception:  # a broken __str__ must not lose the record
        text = f"{name}: <traceback unavailable>\n"
    return {"type": name, "message": _safe_str(exc), "traceback": text}


def default(obj: Any) -> Any:
    """orjson's ``default``: a JSON-able stand-in for *obj* (orjson recurses into it).

    Never raises: a value that fails to convert (a raising ``__str__`` or
    ``__getattr__``, a released memoryview) becomes its repr or a description.
    """
    try:
        return _convert(obj)
    except Exception:
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


def truncate_str(text: str, limit: int) -> str:
    """*text* cut to *limit* characters plus a mark with the number dropped."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}{TRUNCATION_MARK}{len(text) - limit} chars]"


def to_jsonable(value: Any, *, max_chars: int, max_items: int) -> Any:
    """A copy of *value* made only of JSON types, cut to the limits; never raises."""
    try:
        return _Walker(max_chars, max_items).walk(value, 0)
    except Exception as exc:  # a bug of ours, or RecursionError deep in the caller's stack
        return f"<{type(value).__qualname__} could not be converted: {type(exc).__name__}>"


class _Walker:
    def __init__(self, max_chars: int, max_items: int) -> None:
        self.max_chars = max_chars
        self.max_items = max_items
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
        # Cut first: checking the encoding of a 100 MB string only to drop most of it is waste.
        return _valid_utf8(truncate_str(text, self.max_chars))

    def _big_int(self, value: int) -> str:
        # Beyond 64 bits JSON readers lose precision, so the exact digits go in a string;
        # past Python's int-to-str digit limit (ValueError), in hexadecimal.
        try:
            text = str(value)
        except ValueError:
            text = hex(value)
        return truncate_str(text, self.max_chars)

    def _container(self, value: Any, depth: int, items: Any) -> Any:
        key = id(value)
        if key in self.active:
            return f"<cycle: {type(value).__qualname__}>"
        self.active.add(key)
        try:
            if items is None:
                return self._list(value, depth)
            return self._dict(items(value), depth)
        except Exception as exc:  # a hostile container (raising __iter__, say)
            return f"<{type(value).__qualname__} could not be read: {type(exc).__name__}>"
        finally:
            self.active.discard(key)

    def _list(self, value: Any, depth: int) -> list[Any]:
        out: list[Any] = []
        for index, item in enumerate(value):
            if index >= self.max_items:
                out.append(f"{TRUNCATION_MARK}{len(value) - index} items]")
                break
            out.append(self.walk(item, depth + 1))
        return out

    def _dict(self, sized: tuple[int, Any], depth: int) -> dict[str, Any]:
        total, pairs = sized
        out: dict[str, Any] = {}
        for key, item in itertools.islice(pairs, self.max_items):
            name = key if isinstance(key, str) else _safe_str(key)
            out[self._str(name)] = self.walk(item, depth + 1)
        if total > self.max_items:
            out["…"] = f"{TRUNCATION_MARK}{total - self.max_items} keys]"
        return out


def _mapping_items(value: Mapping[Any, Any]) -> tuple[int, Any]:
    # No copy of all items: a dict of millions of keys is cut to max_items anyway.
    return len(value), iter(value.items())


def _dataclass_items(value: Any) -> tuple[int, Any]:
    fields = dataclasses.fields(value)
    return len(fields), ((f.name, getattr(value, f.name, None)) for f in fields)


def _valid_utf8(text: str) -> str:
    # Lone surrogates (from surrogateescape decoding, say) cannot be written as UTF-8.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
