"""Where spans go: the interface the exporter loop sends batches to, and what a send returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._otlp_map import Span

__all__ = ["Delivery", "Sink", "SinkError"]


class SinkError(Exception):
    """A batch was not accepted; the message is one line for the user (no secrets in it).

    ``spans_accepted`` counts the spans of the batch that were accepted before
    the failure (a batch split after a 413 can be partly sent).
    """

    def __init__(self, message: str, *, spans_accepted: int = 0) -> None:
        super().__init__(message)
        self.spans_accepted = spans_accepted


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the receiver said of one batch: spans accepted, rejected (partial success), why."""

    accepted: int
    rejected: int = 0
    message: str = ""


class Sink:
    """Receives batches of spans; ``send`` returns once the batch is accepted or raises."""

    name: str = ""

    def send(self, spans: list[Span]) -> Delivery:
        raise NotImplementedError

    def close(self) -> None:
        """Release files and connections."""
