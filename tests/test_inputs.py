"""Input binding: the shortcut for small all-positional signatures records what the general binder records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jsontrace import _inputs
from jsontrace._inputs import make_binder


def _function(params: int, method: bool) -> Callable[..., Any]:
    names = ", ".join(["self"] * method + [f"p{i}" for i in range(params)])
    namespace: dict[str, Any] = {}
    if method:
        exec(f"class C:\n    def f({names}): pass\n", namespace)
        return namespace["C"].f  # type: ignore[no-any-return]
    exec(f"def f({names}): pass\n", namespace)
    return namespace["f"]  # type: ignore[no-any-return]


_KEYWORDS = st.dictionaries(st.sampled_from(["p0", "p1", "p4", "self", "x"]), st.integers())


@given(
    st.integers(0, 5),
    st.booleans(),
    st.sampled_from([0, 0, 0, -1, 1, 2]),  # mostly the right number of arguments
    st.one_of(st.just({}), _KEYWORDS),
)
def test_small_positional_signatures_bind_as_the_general_binder_does(
    params: int, method: bool, offset: int, kwargs: dict[str, int]
) -> None:
    """For functions and methods of 0 to 5 parameters called with any number of positional
    arguments and any keywords, the binder gives the general binder's inputs, keys in order."""
    fn = _function(params, method)
    args = list(range(100, 100 + max(0, params + method + offset)))
    fast = make_binder(fn)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_inputs, "_positional", lambda names, skip, general: None)
        general = make_binder(fn)
    assert list(general(tuple(args), dict(kwargs)).items()) == list(
        fast(tuple(args), dict(kwargs)).items()
    )


def test_a_well_formed_call_records_the_arguments_by_name() -> None:
    """add(1, 2) records {"a": 1, "b": 2}; a method leaves self out."""

    def add(a: int, b: int) -> int:
        return a + b

    class Calc:
        def add(self, a: int, b: int) -> int:
            return a + b

    assert {"a": 1, "b": 2} == make_binder(add)((1, 2), {})
    assert {"a": 1, "b": 2} == make_binder(Calc.add)((Calc(), 1, 2), {})
