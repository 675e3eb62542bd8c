"""The overview (``o``): per run name and type, how many, how slow, how often failing."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from jsontrace.render import format_duration, format_tokens, plural, printable
from jsontrace.stats import NameStats

__all__ = ["OverviewScreen"]

_COLUMNS = ("name", "type", "runs", "errors", "p50", "p95", "max", "first chunk", "tokens")


def _rate(row: NameStats) -> Text:
    rate = row.error_rate
    if rate is None:
        return Text("–", style="dim", justify="right")
    return Text(f"{rate:.0%}", style="bold red" if row.errors else "", justify="right")


def _cells(row: NameStats) -> tuple[Text, ...]:
    def ms(value: float | None) -> Text:
        return Text(format_duration(value) or "–", justify="right")

    tokens = format_tokens(row.input_tokens, row.output_tokens) if row.calls_with_usage else "–"
    runs = f"{row.runs:,}" + (f" ({row.running:,} running)" if row.running else "")
    return (
        Text(printable(row.name), style="bold"),
        Text(printable(row.run_type), style="dim"),
        Text(runs, justify="right"),
        _rate(row),
        ms(row.p50_ms),
        ms(row.p95_ms),
        ms(row.max_ms),
        ms(row.first_chunk_p50_ms),
        Text(tokens, justify="right"),
    )


class OverviewScreen(ModalScreen[None]):
    """A table of :func:`jsontrace.stats.compute` rows; the app fills it when computed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,o", "dismiss", "Close"),
    ]

    def __init__(self, scope: str) -> None:
        super().__init__()
        self._scope = scope

    def compose(self) -> Any:
        with Vertical(id="overview-box"):
            yield Static(
                Text(f"Overview of {printable(self._scope)}: computing…", style="bold"),
                id="overview-title",
            )
            table: DataTable[Text] = DataTable(id="overview-table", zebra_stripes=True)
            table.cursor_type = "row"
            yield table
            yield Static(
                Text(
                    "Durations of finished runs; p50/p95: median and 95th percentile; "
                    "first chunk: median time to the first streamed value; "
                    "tokens: prompt→generated, summed · escape closes",
                    style="dim",
                ),
                id="overview-help",
            )

    def on_mount(self) -> None:
        self._table().focus()

    def _table(self) -> DataTable[Text]:
        table: DataTable[Text] = self.query_one(DataTable)
        if not table.columns:  # the rows may come before the screen is mounted
            for column in _COLUMNS:
                table.add_column(column, key=column)
        return table

    def show(self, rows: list[NameStats], runs: int) -> None:
        """Fill the table (most total time first, as :func:`~jsontrace.stats.compute` orders them)."""
        table = self._table()
        table.clear()
        for row in rows:
            table.add_row(*_cells(row))
        title = f"Overview of {printable(self._scope)}: {plural(runs, 'run')}, {plural(len(rows), 'name')}"
        self.query_one("#overview-title", Static).update(Text(title, style="bold"))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
