"""Messages the reader worker posts to the app (from its thread; ``post_message`` is thread-safe).

New events do not travel as messages: the worker files them in the shared
:class:`~jsontrace.store.RunStore` and the app's flush timer picks up what
changed, so a flood of events costs the UI one update per tick.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

__all__ = ["DataReady", "LoadProgress", "Loaded", "Notice", "TracesDropped"]


@dataclass
class LoadProgress(Message):
    """Part of the directory's existing content has been read."""

    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LoadProgress)


@dataclass
class Loaded(Message):
    """Everything that existed at start-up has been read; live tailing begins."""

    seconds: float


@dataclass
class DataReady(Message):
    """New events were filed in the store: flush soon (merged while waiting in the queue)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DataReady)


@dataclass
class Notice(Message):
    """Something the user should know: a file truncated or deleted, watching failed."""

    text: str


@dataclass
class TracesDropped(Message):
    """Traces out of memory left the store with their files: counts and searches change."""

    count: int
