"""The take-away menu (``c``): copy a run's value, ids or trace; save it; open it in an editor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from jsontrace.render import printable

from .._takeaway import Target

__all__ = ["Choice", "SavePathScreen", "TakeAwayScreen"]


@dataclass(frozen=True)
class Choice:
    """What the user picked: a target and what to do with it (``copy``, ``save`` or ``open``)."""

    target: Target
    action: str


_HELP = Text.assemble(
    ("its letter", "bold cyan"), " or ", ("enter", "bold cyan"), " copies to the clipboard · ",
    ("s", "bold cyan"), " saves to a file · ", ("e", "bold cyan"), " opens in $EDITOR/$PAGER · ",
    ("escape", "bold cyan"), " closes",
)  # fmt: skip


class TakeAwayScreen(ModalScreen[Choice | None]):
    """A menu of what the selected run offers; a letter or enter copies, s saves, e opens."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("c", "choose('copy')", "Copy"),
        Binding("s", "choose('save')", "Save to a file"),
        Binding("e", "choose('open')", "Open in $EDITOR/$PAGER"),
    ]

    def __init__(self, title: str, targets: list[Target]) -> None:
        super().__init__()
        self._title = title
        self._targets = targets

    def compose(self) -> Any:
        options = [
            Option(Text.assemble((f" {t.key} ", "bold cyan"), " ", t.label), id=f"take-{t.key}")
            for t in self._targets
        ]
        with Vertical(id="takeaway-box"):
            yield Static(Text(printable(self._title), style="bold"), id="takeaway-title")
            yield OptionList(*options, id="takeaway-options")
            yield Static(_HELP, id="takeaway-help")

    def on_key(self, event: Any) -> None:
        # A target's letter copies it at once (the menu's own keys: c, s, e, q).
        target = next((t for t in self._targets if t.key == event.character), None)
        if target is not None and event.character not in "cseq":
            event.stop()
            self.dismiss(Choice(target, "copy"))

    @on(OptionList.OptionSelected, "#takeaway-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.action_choose("copy")

    def action_choose(self, action: str) -> None:
        options = self.query_one(OptionList)
        index = options.highlighted
        if index is None:
            return
        self.dismiss(Choice(self._targets[index], action))

    async def action_dismiss(self, result: Choice | None = None) -> None:
        self.dismiss(result)


class SavePathScreen(ModalScreen[str | None]):
    """Asks where to save (a new file); enter saves, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Cancel")]

    def __init__(self, what: str, default: str) -> None:
        super().__init__()
        self._what = what
        self._default = default

    def compose(self) -> Any:
        with Vertical(id="save-box"):
            yield Static(Text(f"Save {printable(self._what)} to (a new file):", style="bold"))
            yield Input(value=self._default, id="save-path")
            yield Static(Text("enter saves · escape cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#save-path")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    async def action_dismiss(self, result: str | None = None) -> None:
        self.dismiss(result)
