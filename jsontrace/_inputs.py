"""Binding a call's arguments to parameter names: what ``run.start`` records as ``inputs``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["make_binder"]


def make_binder(
    fn: Callable[..., Any],
) -> Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]:
    """A fast ``(args, kwargs) -> inputs`` for *fn*: names, defaults applied, self/cls left out.

    ``inspect.Signature.bind`` costs microseconds per call; this does the same
    for well-formed calls with precomputed names, and falls back to recording
    ``args``/``kwargs`` as given when a call does not fit (the function itself
    will then raise its own TypeError).
    """
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return lambda args, kwargs: {"args": list(args), **kwargs}
    # self/cls is left out only for functions defined in a class body
    # ("Class.method" in the qualified name), not for any function whose first
    # parameter happens to be called that.
    owner = getattr(fn, "__qualname__", "").rpartition(".")[0].rpartition(".")[2]
    in_class = bool(owner) and owner != "<locals>"
    skip = (
        1
        if in_class
        and params
        and params[0].name in ("self", "cls")
        and params[0].kind
        in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        else 0
    )
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    names = [p.name for p in positional]
    defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    keyword_only = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    var_args = next((p.name for p in params if p.kind is inspect.Parameter.VAR_POSITIONAL), None)
    var_kwargs = next((p.name for p in params if p.kind is inspect.Parameter.VAR_KEYWORD), None)
    recorded = names[skip:] + keyword_only
    simple = not defaults and not keyword_only and var_args is None and var_kwargs is None
    simple_names = tuple(names[skip:])
    count = len(names)

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if simple and not kwargs and len(args) == count:
            # The common call, all arguments positional: zip stops at the shorter side,
            # and both have len(names) - skip items here.
            return dict(zip(simple_names, args[skip:] if skip else args))  # noqa: B905
        if len(args) > len(names) and var_args is None:
            return {"args": list(args[skip:]), **kwargs}
        given = dict(zip(names, args, strict=False))  # fewer args than names is normal
        inputs: dict[str, Any] = {}
        for name in recorded:
            if name in given:
                inputs[name] = given[name]
            elif name in kwargs:
                inputs[name] = kwargs[name]
            elif name in defaults:
                inputs[name] = defaults[name]
        if var_args is not None:
            inputs[var_args] = list(args[len(names) :])
        clashing: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in given:  # f(x, /, **kw) called as f(1, x=2): this x went into **kw
                clashing[key] = value
            elif key not in inputs:
                inputs[key] = value
        if clashing and var_kwargs is not None:  # without **kwargs the call itself fails
            # Under the **kwargs parameter's name, as inspect.Signature.bind puts it.
            name = var_kwargs if var_kwargs not in inputs else f"**{var_kwargs}"
            inputs.setdefault(name, clashing)
        return inputs

    if simple:
        return _positional(simple_names, skip, bind) or bind
    return bind


Binder = Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]


def _positional(names: tuple[str, ...], skip: int, general: Binder) -> Binder | None:
    """For up to three parameters, all positional: the dict built as a display, not by zip.

    ``dict(zip(names, args))`` costs three times ``{a: args[0], b: args[1]}``; any
    other call (keywords, a wrong count) is *general*'s.
    """
    count = len(names) + skip
    if not names:

        def bind0(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            return {} if not kwargs and len(args) == count else general(args, kwargs)

        return bind0
    if len(names) == 1:
        (first,) = names

        def bind1(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            if not kwargs and len(args) == count:
                return {first: args[skip]}
            return general(args, kwargs)

        return bind1
    if len(names) == 2:
        first, second = names

        def bind2(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            if not kwargs and len(args) == count:
                return {first: args[skip], second: args[skip + 1]}
            return general(args, kwargs)

        return bind2
    if len(names) == 3:
        first, second, third = names

        def bind3(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            if not kwargs and len(args) == count:
                return {first: args[skip], second: args[skip + 1], third: args[skip + 2]}
            return general(args, kwargs)

        return bind3
    return None
