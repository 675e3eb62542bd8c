"""The help screen (``?``): every key, in one place."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen"]

KEYS = [
    ("↑ ↓  j k", "move"),
    ("→ ←  l h", "expand / collapse (or go to parent)"),
    ("enter, space", "expand or collapse"),
    ("+  -", "expand all / collapse all"),
    ("f", "follow the newest trace (pauses while you look elsewhere)"),
    ("/", "search names, inputs and outputs (enter to apply)"),
    ("e", "errors only"),
    ("escape", "clear search and filters"),
    ("m", "show more older traces"),
    ("v", "page through the selected run's values in full (space/b, g/G, escape)"),
    ("r", "show the raw events of the selected run"),
    ("tab", "switch between tree and details"),
    ("?", "this help"),
    ("q, ctrl+c", "quit"),
]


class HelpScreen(ModalScreen[None]):
    """A modal listing the key bindings; any of escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> Any:
        table = Table(title="jsontrace-view keys", show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for keys, what in KEYS:
            table.add_row(keys, what)
        with VerticalScroll(id="help-box"):
            yield Static(table)
            yield Static(
                "Statuses: ● running  ✓ ok  ✗ error  ⊘ cancelled  ↯ interrupted", id="help-legend"
            )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
