"""The state of a search in the viewer: the query, which runs match, in which traces, in what order.

No Textual here. The app owns one :class:`Search`; its worker calls
:meth:`Search.qualifies` for every trace (a root at a time, under the store
lock, those moved out of memory too), and each flush calls
:meth:`Search.rematch` for the runs that changed, so matches stay right while
traces arrive and runs finish.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from jsontrace.query import Query, parse
from jsontrace.store import ERROR, RunRecord

__all__ = ["Search"]

_EMPTY: Final = parse("")


class Search:
    """A query and its matches: run ids per trace root, counted."""

    def __init__(self) -> None:
        self.query: Query = _EMPTY
        self.errors_only = False
        #: Matching run ids per trace root id (only for traces that have some).
        self.matches: dict[str, set[str]] = {}
        self.count = 0

    @property
    def active(self) -> bool:
        """Whether anything is filtered (a query, or errors only)."""
        return self.errors_only or not self.query.empty

    def apply(self, text: str, errors_only: bool) -> None:
        """A new search (raises :class:`jsontrace.query.QueryError` for a malformed query)."""
        self.query = parse(text)
        self.errors_only = errors_only
        self.clear_matches()

    def clear_matches(self) -> None:
        self.matches = {}
        self.count = 0

    def qualifies(self, root: RunRecord, now: float) -> bool:
        """Whether a trace passes (records its matches; call with the store lock held)."""
        if self.errors_only and not (root.error_below or root.status == ERROR):
            return False
        if self.query.empty:
            return True
        found = {run.run_id for run in self.query.find(root, now=now)}
        self._set(root.run_id, found)
        return bool(found)

    def rematch(self, run: RunRecord, now: float) -> bool:
        """Check one changed run again; True if its match changed (its row needs a new look)."""
        if self.query.empty:
            return False
        root_id = run.root.run_id
        found = self.matches.get(root_id, set())
        was = run.run_id in found
        now_matches = self.query.matches(run, now=now)
        if was == now_matches:
            return False
        updated = set(found)
        if now_matches:
            updated.add(run.run_id)
        else:
            updated.discard(run.run_id)
        self._set(root_id, updated)
        return True

    def forget_root(self, root_id: str) -> None:
        """A root found its parent: its matches now belong to the parent's trace."""
        self._set(root_id, set())

    def _set(self, root_id: str, found: set[str]) -> None:
        self.count += len(found) - len(self.matches.get(root_id, ()))
        if found:
            self.matches[root_id] = found
        else:
            self.matches.pop(root_id, None)

    def highlight(self) -> set[str]:
        """Every matching run id (for the tree's marks)."""
        return set().union(*self.matches.values()) if self.matches else set()

    def in_order(self, roots: Iterable[RunRecord]) -> list[RunRecord]:
        """The matching runs of these traces, trace by trace in the order given, each in tree order."""
        found: list[RunRecord] = []
        for root in roots:
            ids = self.matches.get(root.run_id)
            if ids:
                found.extend(run for run in root.walk() if run.run_id in ids)
        return found

    def slowest_ms(self, root: RunRecord, now: float) -> float:
        """The longest matching run of a trace (the trace itself without a query); -1 if unknown."""
        ids = self.matches.get(root.run_id)
        runs: Iterable[RunRecord] = (
            (r for r in root.walk() if r.run_id in ids) if ids and not self.query.empty else (root,)
        )
        return max((d for r in runs if (d := r.duration_ms(now)) is not None), default=-1.0)
