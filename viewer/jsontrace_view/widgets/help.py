"""The help screen (``?``): every key, in one place."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
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
    ("tab", "next pane: tree, details, waterfall"),
    ("f", "follow the newest trace and what streams in it (on at start when it still runs"
          " or none is there yet; moving pauses it, f resumes)"),
    ("/", "search (below); enter applies, escape clears"),
    ("n  N", "next / previous match"),
    ("e", "errors only"),
    ("s", "sort traces: by time, by duration (the slowest match first), errors first"),
    ("m", "show more traces (newest 500 shown; m adds 500, read again from files)"),
    ("w", "show or hide the waterfall of the selected trace"),
    ("c", "copy or save the selected run's inputs, outputs, error, ids, its trace as JSON lines;"
          " or open one in $EDITOR/$PAGER"),
    ("x", "save the selected run's whole trace as JSON lines to a file"),
    ("o", "overview: per name, runs, p50/p95 latency, first chunk, error rate, tokens"),
    ("v", "page through the selected run's values in full (space/b, g/G, escape)"),
    ("r", "show the raw events of the selected run"),
    ("escape", "clear search and filters"),
    ("?", "this help"),
    ("q, ctrl+c", "quit"),
]  # fmt: skip

SEARCH = [
    ("status:error", "running, ok, error, cancelled, interrupted (a,b: either)"),
    ("type:llm", "run type: chain, llm, tool, retriever, ..."),
    ("name:retr*", "name; * and ? are wildcards (also in tag:, type:, model:)"),
    ("tag:beta  model:gpt-4o*", "a tag; an llm call's model"),
    ("id:01a2", "run or trace id starts with"),
    ("latency>2s  age<1h", "duration; started within the last hour (ms s m h d)"),
    ("ttft>500ms  chunks>=10", "time to first chunk; streamed chunks"),
    ("tokens>1000", "an llm call's tokens"),
    ('hello  "two words"', "free text in names, inputs, outputs, errors"),
    ("-status:ok", "a leading - negates; all terms hold for one run"),
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
        search = Table(
            title="search (/): all terms must hold for one run",
            show_header=False,
            box=None,
            padding=(0, 2),
        )
        search.add_column(style="bold magenta", no_wrap=True)
        search.add_column()
        for example, what in SEARCH:
            search.add_row(example, what)
        with VerticalScroll(id="help-box"):
            yield Static(table)
            yield Static(search, id="help-search")
            yield Static(
                Text(
                    "Example, the slowest llm call of the last hour: / type:llm age<1h enter,"
                    " then s (slowest first): the cursor is on it, the waterfall below shows"
                    " where its trace spent its time, x saves that trace to a file."
                ),
                id="help-example",
            )
            yield Static(
                "Statuses: ● running  ✓ ok  ✗ error  ⊘ cancelled  ↯ interrupted", id="help-legend"
            )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
