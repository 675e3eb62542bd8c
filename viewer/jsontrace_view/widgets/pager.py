"""The pager (``v``): a run's values in full, one screenful at a time.

The detail pane shows the first screenful of each value; the pager holds the
whole text (the run's values as pretty JSON, and its raw lines when ``r`` is
on) as one string and gives its widget only the page on screen, so a 50 MB
input is paged through, never laid out whole (which froze the app for 20 s and
took 2 GB).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from jsontrace.render import printable

from .._text import page_end, page_start_before

__all__ = ["PagerScreen"]


class PagerScreen(ModalScreen[None]):
    """Pages through one text: space/b (or page keys) next/previous, g/G start/end, escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,v", "dismiss", "Close"),
        Binding("space,pagedown,f,down,j", "next", "Next page"),
        Binding("b,pageup,up,k", "previous", "Previous page"),
        Binding("g,home", "first", "Start"),
        Binding("G,end", "last", "End"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.heading = title
        self.text = text
        self.start = 0  # where the page on screen starts in the text
        self.end = 0
        self._back: list[int] = []  # starts of the pages before, for "previous"
        self._header = Static(id="pager-header")
        self._body = Static(id="pager-body")

    def compose(self) -> Any:
        with Vertical(id="pager-box"):
            yield self._header
            yield self._body

    def on_mount(self) -> None:
        self.call_after_refresh(self._show)

    def on_resize(self) -> None:
        self._show()

    @property
    def page_size(self) -> tuple[int, int]:
        """Rows and columns a page may fill."""
        size = self._body.content_size
        rows = size.height if size.height > 2 else max(5, self.app.size.height - 6)
        cols = size.width if size.width > 10 else max(20, self.app.size.width - 6)
        return rows, cols

    @property
    def page(self) -> str:
        """The text on screen (raw: made printable when shown)."""
        return self.text[self.start : self.end]

    def _show(self) -> None:
        rows, cols = self.page_size
        self.end = page_end(self.text, self.start, rows, cols)
        total = len(self.text)
        shown = f"{self.start + 1:,}–{self.end:,}" if total else "0"
        percent = f" ({self.end * 100 // total}%)" if total else ""
        where = f"  characters {shown} of {total:,}{percent}"
        keys = "  ·  space/b page, g/G start/end, escape closes"
        heading = Text(printable(self.heading), style="bold")
        # Before the first layout: the screen less the box's border and padding.
        width = self._header.content_size.width or self.app.size.width - 4
        # Narrow (80 columns): the key hints go first (the help, ?, lists them under v),
        # then the heading is shortened, so that where you are in the value always shows.
        if heading.cell_len + len(where) + len(keys) > width:
            keys = ""
            room = width - len(where)
            if room < 8:  # too little to say anything: the position alone
                heading, where = Text(), where.lstrip()
                if len(where) > width:  # a late page of a huge value: no word, the numbers
                    where = where.removeprefix("characters ")
            else:
                heading.truncate(room, overflow="ellipsis")
        header = Text.assemble(heading, where, (keys, "dim"), no_wrap=True)
        self._header.update(header)
        self._body.update(Text(printable(self.page, multiline=True)))

    def action_next(self) -> None:
        if self.end < len(self.text):
            self._back.append(self.start)
            self.start = self.end
            self._show()

    def action_previous(self) -> None:
        if self._back:
            self.start = self._back.pop()
        else:
            rows, cols = self.page_size
            self.start = page_start_before(self.text, self.start, rows, cols)
        self._show()

    def action_first(self) -> None:
        self._back.clear()
        self.start = 0
        self._show()

    def action_last(self) -> None:
        rows, cols = self.page_size
        self._back.clear()
        self.start = page_start_before(self.text, len(self.text), rows, cols)
        self._show()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
