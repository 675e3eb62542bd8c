"""The trace tree: one root per trace, newest first; children created on expand."""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from jsontrace.render import printable
from jsontrace.store import RUNNING, RunRecord, root_order

from .._text import run_label

__all__ = ["RunTree"]

#: A root's sort key: shown highest first, ending with the run id (see :attr:`RunTree.sort_key`).
Key = tuple[Any, ...]
#: How a run that matches a search is marked in its row.
MATCH_STYLE = "on #4a4a00"
#: Node data: the run id, or "" for the "older traces" marker.
RunNode = TreeNode[str]


def _age_text(age: float) -> int:
    """Which text :func:`jsontrace.render.format_started` shows for an age (equal: the same)."""
    if 0 <= age < 60:
        return int(age)  # seconds
    if 0 <= age < 3600:
        return 60 + int(age // 60)  # minutes
    return -1  # the clock time, which does not move


class RunTree(Tree[str]):
    """A :class:`~textual.widgets.Tree` of runs that the app updates in batches.

    Only the newest :attr:`limit` matching traces get nodes (more on request),
    and a run's children get nodes when it is first expanded, so the tree stays
    cheap however many runs the store holds; how many older ones match is a
    number the app keeps (:attr:`hidden_older`), not a list of them. A repaint
    reads the clock once for every label (:meth:`refresh_runs`), so a running
    parent never shows less time than its running child.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("l", "expand_node", "Expand", show=False),
        Binding("h", "collapse_or_parent", "Collapse", show=False),
        Binding("right", "expand_node", "Expand", show=False),
        Binding("left", "collapse_or_parent", "Collapse", show=False),
    ]

    def __init__(
        self,
        *,
        limit: int = 500,
        lock: AbstractContextManager[object] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__("traces", id=id)
        # The store's lock, taken where the tree reads runs on its own (expanding a
        # node): reading a run may decode its chunk lines, which changes the store.
        # Reentrant, since the app also expands nodes while it holds it.
        self.store_lock: AbstractContextManager[object] = lock or contextlib.nullcontext()
        self.show_root = False
        self.guide_depth = 3
        # Enter and clicks toggle in action_select_cursor, synchronously (see there).
        self.auto_expand = False
        self.limit = limit
        self.now: Callable[[], float | None] = lambda: None
        #: Roots are shown highest key first: by default the newest (:func:`root_order`).
        #: The key must end with the run id; the app sets another to sort by duration.
        self.sort_key: Callable[[RunRecord], Key] = root_order
        #: What the "… N older traces" line calls the traces not shown.
        self.hidden_word = "older"
        #: Runs that match the current search: their rows are marked.
        self.highlight: set[str] = set()
        self.runs: dict[str, RunRecord] = {}
        self.nodes: dict[str, RunNode] = {}
        self._populated: set[str] = set()
        # Runs that expand_subtree() opened: when they get (more) children, those open
        # too, so a trace opened by follow or expand-all stays open down to its leaves.
        self._opened: set[str] = set()
        # Nodes created since the last refresh_runs(), with the clock reading their label used
        # (None: a reading of its own). Only a label made with the current reading is current:
        # a node made by show_roots() between two ticks is not, at the next tick.
        self._fresh: dict[str, float | None] = {}
        self._keys: list[Key] = []  # shown roots' sort keys, ascending (oldest first)
        self._root_keys: dict[str, Key] = {}
        self._hidden = 0  # traces that qualify but are older than the `limit` shown
        self._now: float | None = None  # the clock reading of the repaint in progress
        self._live_at: float | None = None  # the clock reading of the last refresh_live
        self._more_node: RunNode | None = None
        self._note: RunNode | None = None
        self._was_expanded: set[str] = set()  # runs expanded before the last show_roots()

    # -- labels -----------------------------------------------------------------

    def process_label(self, label: str | Text) -> Text:
        """Labels are Text we built; a plain str is shown literally, never as markup."""
        return label if isinstance(label, Text) else Text(label)

    def render_label(self, node: RunNode, base_style: Style, style: Style) -> Text:
        """Top-level leaves get a blank where traces have the arrow, so labels line up; a
        label wider than the room left of its guides ends in "…" (see :meth:`_room`)."""
        label = super().render_label(node, base_style, style)
        if not node.allow_expand and node.parent is self.root:
            label = Text.assemble("  ", label)
        room = self._room(node)
        if room and label.cell_len > room:
            label.truncate(room, overflow="ellipsis")
        return label

    def get_label_width(self, node: RunNode) -> int:
        # The default renders every label on each rebuild; the label length is enough.
        width: int = node.label.cell_len + 2  # type: ignore[union-attr]  # always Text here
        room = self._room(node)
        return min(width, room) if room else width

    def _room(self, node: RunNode) -> int:
        """The cells a label of *node* has right of its guides; 0 before the tree has a size.

        Rows are cut here, not by the scroll crop: cut there, every row's last segment is
        split by Rich's ``Segment._split_cells``, whose cache (16,384 entries, ~700 bytes
        each) a busy directory fills with rows seen once, and a horizontal scrollbar
        takes a line to show what the detail pane shows anyway.
        """
        # The vertical scrollbar's cells are kept free whether it shows or not: it comes and
        # goes as traces expand, and rows measured for the wider room would then overflow.
        width = self.size.width - self.styles.scrollbar_size_vertical
        if width <= 0:
            return 0
        depth, parent = 0, node.parent
        while parent is not None and parent is not self.root:
            depth, parent = depth + 1, parent.parent
        return max(1, width - depth * self.guide_depth)

    @contextlib.contextmanager
    def one_clock_reading(self) -> Iterator[None]:
        """Labels made inside use one reading of the clock (nested: the outermost one's)."""
        if self._now is not None:
            yield
            return
        self._now = self.now()
        try:
            yield
        finally:
            self._now = None

    def label_for(self, run: RunRecord) -> Text:
        """The current label of a run (live durations use the app's clock, read once per repaint); matches marked."""
        now = self._now
        label = run_label(run, self.now() if now is None else now, top=run.parent is None)
        if run.run_id in self.highlight:
            label.stylize(MATCH_STYLE)
        return label

    # -- building -----------------------------------------------------------------

    @property
    def hidden_older(self) -> int:
        """How many traces qualify but are not shown (older than the newest :attr:`limit`)."""
        return self._hidden

    @hidden_older.setter
    def hidden_older(self, count: int) -> None:
        if count != self._hidden:
            self._hidden = max(0, count)
            self._update_more()

    def show_roots(self, roots: list[RunRecord], hidden: int = 0) -> None:
        """Replace every node: the first :attr:`limit` of *roots* (given highest key first).

        *hidden* more qualify but are not shown (roots beyond the limit count too).
        Runs that were expanded are expanded again (a filter or a new sort order
        does not fold what you opened).
        """
        # Remembered also for traces a filter hides, so they open again when it is cleared.
        shown = set(self.nodes)
        expanded = {run_id for run_id, node in self.nodes.items() if node.is_expanded}
        self._was_expanded = (self._was_expanded - shown) | expanded
        opened = set(self._opened)
        self.clear()
        self.nodes.clear()
        self.runs.clear()
        self._populated.clear()
        self._opened.clear()
        self._root_keys.clear()
        self._keys = []
        self._more_node = None
        self._note = None
        with self.one_clock_reading():
            for run in roots[: self.limit]:
                key = self.sort_key(run)
                self._add_run(self.root, run)
                self._keys.insert(0, key)
                self._root_keys[run.run_id] = key
        self._hidden = hidden + max(0, len(roots) - self.limit)
        self._update_more()
        self._reopen(self._was_expanded, opened)

    def _reopen(self, expanded: set[str], opened: set[str]) -> None:
        stack = list(self.root.children)
        while stack:
            node = stack.pop()
            if node.data in opened:
                self._opened.add(node.data)
            if node.data in expanded and node.allow_expand:
                self.populate(node)
                node.expand()
                stack.extend(node.children)

    def show_message(self, text: str) -> None:
        """A one-line note in place of traces (removed by the next trace or :meth:`show_roots`)."""
        label = Text(printable(text), style="italic dim")
        if self._note is None:
            self._note = self.root.add_leaf(label, "")
        elif label != self._note.label:
            self._note.set_label(label)

    @property
    def message(self) -> str:
        """The note shown in place of traces ("" when traces are shown)."""
        return self._note.label.plain if self._note is not None else ""  # type: ignore[union-attr]

    def add_root(self, run: RunRecord) -> bool:
        """Insert a new root in date order; False if shown already or older than everything shown.

        One older than everything shown (when :attr:`limit` are shown) counts as hidden.
        """
        if run.run_id in self._root_keys:
            return False
        if self._note is not None:
            self._note.remove()
            self._note = None
        key = self.sort_key(run)
        position = bisect_left(self._keys, key)
        if position == 0 and len(self._keys) >= self.limit:
            self.hidden_older += 1
            return False
        self._keys.insert(position, key)
        self._root_keys[run.run_id] = key
        self._add_run(self.root, run, before=len(self._keys) - 1 - position)
        if len(self._keys) > self.limit:
            self._drop_oldest()
        return True

    def _drop_oldest(self) -> None:
        run_id = self._keys[0][-1]  # a root's key ends with its run id
        self.remove_run(run_id)
        self.hidden_older += 1

    def forget(self, run_id: str) -> bool:
        """A run is no longer a trace (a placeholder root found its parent): drop its node.

        Returns whether it was shown.
        """
        if run_id in self._root_keys:
            self.remove_run(run_id)
            return True
        return False

    def remove_run(self, run_id: str) -> None:
        """Remove a run's node (and its subtree's) if it has one."""
        node = self.nodes.get(run_id)
        if node is None:
            return
        key = self._root_keys.pop(run_id, None)
        if key is not None:
            del self._keys[bisect_left(self._keys, key)]
        for run in self.runs[run_id].walk():
            if self.nodes.pop(run.run_id, None) is not None:
                del self.runs[run.run_id]  # the tree holds no run it does not show
            self._populated.discard(run.run_id)
            self._opened.discard(run.run_id)
        node.remove()

    def root_key_changed(self, run: RunRecord) -> bool:
        """Whether a shown root's sort key changed (e.g. its start event arrived)."""
        key = self._root_keys.get(run.run_id)
        return key is not None and key != self.sort_key(run)

    def is_root(self, run_id: str) -> bool:
        """Whether this run is shown as a trace (top-level node)."""
        return run_id in self._root_keys

    @property
    def shown_roots(self) -> int:
        """How many traces have nodes."""
        return len(self._keys)

    def _add_run(self, parent: RunNode, run: RunRecord, before: int | None = None) -> RunNode:
        node = parent.add(
            self.label_for(run), run.run_id, before=before, allow_expand=bool(run.children)
        )
        self.nodes[run.run_id] = node
        self.runs[run.run_id] = run
        self._fresh[run.run_id] = self._now
        return node

    def populate(self, node: RunNode) -> None:
        """Create the children's nodes of a run (once; later children come via refresh)."""
        run_id = node.data
        if not run_id or run_id in self._populated:
            return
        self._populated.add(run_id)
        with self.store_lock:
            for child in self.runs[run_id].sorted_children():
                if child.run_id not in self.nodes:
                    self._add_run(node, child)

    def begin_update(self) -> None:
        """Start a tick: nodes made from now until :meth:`refresh_runs` have current labels."""
        self._fresh.clear()

    def refresh_runs(self, runs: Iterable[RunRecord]) -> None:
        """New labels for changed runs that have nodes; new children under populated nodes.

        Under a run that :meth:`expand_subtree` opened (and that is still expanded),
        new children are opened too, as is the run itself when its first child arrives:
        a child read a tick after its parent's start is shown like one read with it.
        """
        with self.one_clock_reading():
            self._refresh_runs(runs)

    def _refresh_runs(self, runs: Iterable[RunRecord]) -> None:
        changed = False
        opening: list[RunNode] = []
        for run in runs:
            node = self.nodes.get(run.run_id)
            if node is None:
                continue
            if self._now is not None and self._fresh.get(run.run_id) == self._now:
                continue  # made this tick: its label is current
            label = self.label_for(run)
            if label != node.label:
                # set_label() schedules one repaint callback per node; with hundreds of
                # changed runs per tick, one refresh() below is far cheaper. The line
                # cache is keyed on node._updates, so bumping it invalidates this line.
                node._label = label
                node._updates += 1
                changed = True
            opened = run.run_id in self._opened
            if run.children and not node.allow_expand:
                node.allow_expand = True
                changed = True
                if opened:
                    opening.append(node)  # opened while childless: open it now
            if run.run_id in self._populated and len(node.children) < len(run.children):
                for child in run.sorted_children():
                    if child.run_id not in self.nodes:
                        child_node = self._add_run(node, child)
                        if opened and node.is_expanded:
                            opening.append(child_node)
        if opening:
            self.expand_subtree(*opening)
        self._fresh.clear()
        if changed:
            self.refresh()

    def running(self) -> list[RunRecord]:
        """The shown runs that are running."""
        return [run for run in self.runs.values() if not run.has_end and run.status == RUNNING]

    def refresh_live(self) -> None:
        """Update the labels of running runs (their durations grow) and of young traces on screen.

        A trace's row says how long ago it started while that is under an hour
        (in seconds for the first minute, then in minutes); only the rows on
        screen whose age text changed since the last call are redrawn for it,
        so an idle screen of older traces redraws one row in a while, not every
        row every second. One clock reading for all.
        """
        with self.one_clock_reading():
            runs = self.running()
            now, before = self._now, self._live_at
            self._live_at = now
            if now is not None:
                top = self.scroll_offset.y
                for line in self._tree_lines[top : top + self.size.height]:
                    run = self.runs.get(line.node.data or "")
                    started = run.started_at if run is not None and run.parent is None else None
                    if run is None or started is None:
                        continue
                    age = now - started
                    if before is None or _age_text(age) != _age_text(before - started):
                        runs.append(run)
            self.refresh_runs(runs)

    def _update_more(self) -> None:
        if self.hidden_older <= 0:
            if self._more_node is not None:
                self._more_node.remove()
                self._more_node = None
            return
        label = Text(
            f"… {self.hidden_older:,} {self.hidden_word} traces (m: show more)", style="italic dim"
        )
        if self._more_node is None:
            self._more_node = self.root.add_leaf(label, "")
        else:
            self._more_node.set_label(label)

    # -- navigation -------------------------------------------------------------

    @property
    def top_node(self) -> RunNode | None:
        """The newest shown trace's node."""
        children = self.root.children
        return children[0] if children and children[0].data else None

    def select(self, node: RunNode | None) -> None:
        """Put the cursor on *node*, even one added since the last repaint."""
        if node is None:
            return
        # Reading the private line cache rebuilds it, giving new nodes their line
        # numbers; move_cursor() before that would see line -1 and drop the cursor.
        if self._tree_lines:
            self.move_cursor(node)

    def select_in_context(self, node: RunNode | None) -> None:
        """Put the cursor on *node* and scroll so that its trace's first line shows too, if it can."""
        self.select(node)
        if node is None or not self._tree_lines:
            return
        top = node
        while top.parent is not None and top.parent is not self.root:
            top = top.parent
        height = self.scrollable_content_region.height
        if 0 <= node.line - top.line < height - 1:
            self.scroll_to(y=top.line, animate=False, immediate=True)
        else:
            self.scroll_to(y=max(0, node.line - height // 2), animate=False, immediate=True)

    def reveal(self, run: RunRecord) -> RunNode | None:
        """The node of *run*, its ancestors expanded (and populated) so it is on a line; None if its trace is not shown."""
        path = []
        ancestor: RunRecord | None = run
        while ancestor is not None and ancestor.run_id not in self.nodes:
            path.append(ancestor)
            ancestor = ancestor.parent
        if ancestor is None:
            return None
        node = self.nodes[ancestor.run_id]
        for step in reversed(path):
            self.populate(node)
            node.expand()
            child = self.nodes.get(step.run_id)
            if child is None:
                return None
            node = child
        parent = node.parent
        while parent is not None and parent is not self.root:
            parent.expand()
            parent = parent.parent
        return node

    def action_expand_node(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand:
            self.populate(node)
            node.expand()

    def action_collapse_or_parent(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def expand_everything(self) -> None:
        """Expand every shown trace fully (creating nodes as needed)."""
        self.expand_subtree(*self.root.children)

    def expand_subtree(self, *nodes: RunNode) -> None:
        """Expand these nodes and all their descendants (creating nodes as needed).

        They stay open as they grow: see :meth:`refresh_runs`.
        """
        stack = list(nodes)
        while stack:
            node = stack.pop()
            if not node.data:
                continue
            self._opened.add(node.data)
            if node.allow_expand:
                self.populate(node)
                node.expand()
                stack.extend(node.children)

    def collapse_everything(self) -> None:
        """Collapse every node (and stop opening new children of opened ones)."""
        self._opened.clear()
        self._was_expanded.clear()
        for node in self.root.children:
            node.collapse_all()

    def action_select_cursor(self) -> None:
        # Tree's auto_expand toggles on the NodeSelected message, one message later:
        # keys typed meanwhile (enter then down) would miss the new children.
        node = self.cursor_node
        if node is not None:
            self._toggle_node(node)
        super().action_select_cursor()

    def _toggle_node(self, node: RunNode) -> None:
        # Create the children before the node opens: populating on NodeExpanded
        # comes a message later, and keys typed meanwhile would skip them.
        self.populate(node)
        super()._toggle_node(node)

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        self.populate(event.node)
