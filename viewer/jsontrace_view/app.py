"""The Textual app: a live tree of traces beside the selected run's details.

Data flow (toolong's shape): watchdog hints and a periodic rescan wake one
reader worker thread (:meth:`TraceViewer._read_loop`), the only place where the
plain reading side meets Textual. It files events in the shared
:class:`~jsontrace.store.RunStore` under :attr:`TraceViewer.store_lock` and posts
progress and notices as messages. A timer (:meth:`TraceViewer.flush`, every
``flush_interval`` s) takes the runs that changed since its last tick and
updates only their nodes, so thousands of events per second cost a few UI
updates per second.

Memory stays bounded: the store keeps an index, not values (those are read
from the files when a run is shown), and once loaded the worker moves finished
traces beyond the newest :attr:`TraceViewer.window` out of memory
(:meth:`jsontrace.store.RunStore.evict`); the tree holds only the runs it shows.
CPU stays low when idle: the safety-net rescan opens only files that changed,
and is spaced out so that it takes at most :data:`RESCAN_CPU_SHARE` of a core
(a directory of 100,000 files takes a while to list).
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Input, ProgressBar, Tree
from textual.worker import Worker, get_current_worker

from jsontrace.reader import Batch, DirectoryReader
from jsontrace.render import health, plural, printable
from jsontrace.store import ERROR, RUNNING, RunRecord, RunStore, bulk_load

from .messages import DataReady, Loaded, LoadProgress, Notice
from .watch import RESCAN, DirectoryWatcher, Hints
from .widgets import HelpScreen, PagerScreen, RunDetail, RunTree, StatusBar
from .widgets.detail import document

__all__ = ["TraceViewer"]

#: The shortest time between two safety-net rescans when no hint arrives.
RESCAN_INTERVAL_S = 2.0
#: With --poll, the rescan is how changes are found: this often, at most.
POLL_INTERVAL_S = 0.25
#: A rescan is spaced out so that rescanning takes at most this share of a core
#: (listing 100,000 files takes a fraction of a second).
RESCAN_CPU_SHARE = 0.02
#: The shortest time between two reads; hints arriving meanwhile are merged.
MIN_READ_INTERVAL_S = 0.02
#: Runs whose deferred chunk lines are decoded per step when the reader has time (a few
#: milliseconds under the store lock), so that the counts of bad and repeated lines
#: become exact soon after loading without holding up the screen.
SETTLE_RUNS = 200
#: Finished traces kept in memory beyond what the tree shows (older ones are read
#: again from the files when asked for).
WINDOW = 2000
#: How long a notice (a file deleted, a FIFO skipped) stays in the status bar.
NOTICE_SECONDS = 10.0


class TraceViewer(App[None]):
    """``jsontrace-view``: browse a directory of jsontrace files, live."""

    CSS_PATH = "viewer.tcss"
    TITLE = "jsontrace"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("f", "follow", "Follow"),
        Binding("slash", "search", "Search"),
        Binding("e", "errors", "Errors only"),
        Binding("escape", "clear", "Clear", show=False),
        Binding("plus", "expand_all", "Expand all"),
        Binding("minus", "collapse_all", "Collapse all"),
        Binding("v", "full", "Page values"),
        Binding("r", "raw", "Raw events"),
        Binding("m", "more", "More", show=False),
    ]

    def __init__(
        self,
        directory: str | Path,
        *,
        poll: bool = False,
        watch: bool = True,
        follow: bool = False,
        clock: Callable[[], float] | None = None,
        flush_interval: float = 0.05,
        limit: int = 500,
        window: int = WINDOW,
    ) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.use_polling = poll
        self.use_watchdog = watch
        self.clock = clock or time.time
        self.flush_interval = flush_interval
        # Chunk lines stay undecoded while the directory loads: most lines are chunks.
        self.reader = DirectoryReader(self.directory, defer_chunks=True)
        self.window = max(window, 2 * limit)
        self.store = RunStore(window=self.window)
        # Reentrant: the tree takes it to expand a node, also when the app already has it.
        self.store_lock = threading.RLock()
        self.hints = Hints()
        self.loaded = False
        self.follow = follow
        self.paused_new = 0  # new traces since follow paused
        self.errors_only = False
        self.search_text = ""
        self.searching = False  # a search worker is running
        self.notice = ""
        self.conditions: list[str] = []  # what is wrong now (the reader's, and watching)
        self._notice_until = 0.0
        self._watch_problem = ""
        self._limit = limit
        self._selected: str | None = None
        # Matching traces while a filter is on (None without one): how many are hidden.
        self._matching: set[str] | None = None
        self._last_flush = 0.0
        self._followed: str | None = None  # the trace follow mode last opened
        self._flush_pending = False
        self._tree = RunTree(limit=limit, lock=self.store_lock, id="tree")
        self._tree.now = self.clock
        self._detail = RunDetail(id="detail")
        self._status = StatusBar(id="status")

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield self._tree
            yield self._detail
        yield Input(placeholder="search names, inputs, outputs; enter applies", id="search")
        yield ProgressBar(id="progress", show_eta=False)
        yield self._status
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.directory)
        self._tree.focus()
        self._update_status()
        self._read_loop()
        self.set_interval(max(self.flush_interval, 0.25), self.flush)  # safety net
        self.set_interval(0.2, self._tick_live)  # live durations of running runs

    def on_unmount(self) -> None:
        self.hints.close()

    # -- reading (worker thread) ----------------------------------------------

    @work(thread=True, exclusive=True, group="reader", exit_on_error=False)
    def _read_loop(self) -> None:
        """Read what exists (with progress), then tail on hints and spaced-out rescans.

        The one bridge from the plain reading side to Textual: watchdog only
        fills :attr:`hints`; this worker reads and posts messages.
        """
        worker = get_current_worker()
        started = time.perf_counter()
        total = self.reader.pending_bytes()
        done = 0
        next_progress = 0.0
        with bulk_load():
            for batch in self.reader.poll():
                if worker.is_cancelled:
                    return
                self._ingest([batch])
                done += batch.source[3] - batch.source[2]
                # Two updates a second: each repaints the screen on the UI thread, which
                # holds the GIL this loading thread needs (four cost a tenth of the load).
                now = time.perf_counter()
                if now >= next_progress:
                    next_progress = now + 0.5
                    self.post_message(LoadProgress(done, total))
        # From now on lines are few at a time: decode chunks at once (exact counts).
        self.reader.defer_chunks = False
        self._post_notices()
        self.post_message(Loaded(time.perf_counter() - started))
        self._tail(worker)

    def _tail(self, worker: Worker[None]) -> None:
        watcher = self._start_watching()
        interval = POLL_INTERVAL_S if self.use_polling else RESCAN_INTERVAL_S
        next_scan = time.monotonic() + interval
        next_evict = 0.0
        unfrozen = False
        try:
            while not worker.is_cancelled and not self.hints.closed:
                settling = self.store.unsettled > 0
                wait = max(0.0, next_scan - time.monotonic())
                names = self.hints.take(MIN_READ_INTERVAL_S if settling else wait)
                if worker.is_cancelled or self.hints.closed:
                    break
                if names is not RESCAN and names and self._read(names):
                    self.post_message(DataReady())
                now = time.monotonic()
                if now >= next_scan:
                    cost = time.thread_time()
                    if self._read(RESCAN):
                        self.post_message(DataReady())
                    cost = time.thread_time() - cost
                    next_scan = time.monotonic() + max(interval, cost / RESCAN_CPU_SHARE)
                    watcher = self._check_watcher(watcher)
                if settling:
                    self._settle_some()
                elif now >= next_evict:
                    next_evict = now + 1.0
                    with self.store_lock:
                        moved = self.store.evict()
                    if moved and not unfrozen:
                        # What loading froze (see bulk_load) can be collected once out of memory.
                        unfrozen = True
                        gc.unfreeze()
                # Under a flood every write is a hint: pausing a moment lets one read
                # take many lines (and leaves the GIL to the UI thread meanwhile).
                time.sleep(MIN_READ_INTERVAL_S)
        finally:
            if watcher is not None:
                watcher.stop()

    def _start_watching(self) -> DirectoryWatcher | None:
        """Watch the directory for hints (not with --poll: rescans are the poll)."""
        if not self.use_watchdog or self.use_polling:
            return None
        watcher = DirectoryWatcher(self.directory, self.hints)
        problem = watcher.start()
        self._watch_problem = problem or ""
        self.post_message(Notice(""))  # the status bar shows the condition (or its end)
        return None if problem else watcher

    def _check_watcher(self, watcher: DirectoryWatcher | None) -> DirectoryWatcher | None:
        """Start watching again if the directory was made again, or could not be watched."""
        if not self.use_watchdog or self.use_polling:
            return watcher
        try:
            inode = os.stat(self.directory).st_ino
        except OSError:
            return watcher  # gone: the reader's condition says so
        if watcher is not None and watcher.inode == inode:
            return watcher
        if watcher is not None:
            watcher.stop()
        return self._start_watching()

    def _settle_some(self) -> None:
        """Decode a slice of deferred chunk lines; tell the screen if a count changed."""
        store = self.store
        with self.store_lock:
            before = (store.events, store.corruption)
            store.settle(SETTLE_RUNS)
            changed = before != (store.events, store.corruption)
        if changed:
            self.post_message(DataReady())

    def _read(self, names: frozenset[str]) -> bool:
        """Read the hinted files (or every changed one); True if any line was read."""
        read = False
        try:
            if names is RESCAN or not names:
                read = self._ingest(self.reader.poll())
            else:
                for name in sorted(names):
                    read = self._ingest(self.reader.read_file(name)) or read
        except Exception as exc:  # a bug must not kill tailing silently
            self.post_message(Notice(f"reader error: {exc!r}"))
            time.sleep(0.5)
        self._post_notices()
        return read

    def _post_notices(self) -> None:
        for text in self.reader.take_notices():
            self.post_message(Notice(text))

    def _ingest(self, batches: Iterable[Batch]) -> bool:
        read = False
        for batch in batches:
            with self.store_lock:
                self.store.add_batch(batch)
            read = True
        return read

    # -- messages from the worker -------------------------------------------------

    def on_load_progress(self, message: LoadProgress) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=max(message.total, 1), progress=message.done)
        self._update_status()

    def on_loaded(self, message: Loaded) -> None:
        self.query_one("#progress", ProgressBar).display = False
        self.loaded = True
        self.rebuild()
        if self.follow:
            self._jump_to_newest()

    def on_data_ready(self, message: DataReady) -> None:
        # Flush now rather than at the next tick, but not more often than the tick.
        wait = self._last_flush + self.flush_interval - time.monotonic()
        if wait <= 0:
            self.flush()
        elif not self._flush_pending:
            self._flush_pending = True
            self.set_timer(wait, self.flush)

    def on_notice(self, message: Notice) -> None:
        if message.text:
            self.notice = message.text
            self._notice_until = time.monotonic() + NOTICE_SECONDS
        self._update_status()

    # -- updating the screen --------------------------------------------------------

    def rebuild(self) -> None:
        """Rebuild the tree from scratch (after loading, or when the filter changes).

        A text search reads every run's inputs and outputs from the files, so it
        runs in a worker and the tree is replaced when it is done; without one
        the store answers from its index.
        """
        if self.search_text:
            self.searching = True
            self._update_status()
            self._search(self.search_text, self.errors_only, self._tree.limit)
            return
        self.searching = False
        with self.store_lock:
            self.store.take_dirty()
            self.store.take_new_roots()
            shown = self.store.traces(limit=self._tree.limit, errors_only=self.errors_only)
            total = self.store.count_traces(errors_only=self.errors_only)
            self._matching = (
                set(self.store.trace_ids(errors_only=True)) if self.errors_only else None
            )
        self._show_matching(shown, total - len(shown))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, text: str, errors_only: bool, limit: int) -> None:
        """Find the traces matching a search, a root at a time so the reader keeps going.

        Keeps the newest *limit* matches (what the tree shows) and counts the rest.
        """
        worker = get_current_worker()
        with self.store_lock:
            self.store.take_dirty()
            self.store.take_new_roots()
            traces = self.store.iter_traces(errors_only=errors_only)
        shown: list[RunRecord] = []
        matching: set[str] = set()
        searched: set[str] = set()
        while True:
            if worker.is_cancelled:
                return
            with self.store_lock:
                root = next(traces, None)
                if root is None:
                    break
                searched.add(root.run_id)
                if self._qualifies(root, text, errors_only):
                    matching.add(root.run_id)
                    if len(shown) < limit:
                        shown.append(root)
        if not worker.is_cancelled:
            self.call_from_thread(self._search_done, shown, matching, text, errors_only, searched)

    def _search_done(
        self,
        shown: list[RunRecord],
        matching: set[str],
        text: str,
        errors_only: bool,
        searched: set[str],
    ) -> None:
        if (text, errors_only) != (self.search_text, self.errors_only):
            return  # the filter changed while searching; its own search follows
        self.searching = False
        # Traces that arrived during the search were filed by flush() against the
        # old tree; check them too, newest first like the rest.
        with self.store_lock:
            late = [
                r for r in self.store.traces() if r.run_id not in searched and self._qualifies(r)
            ]
        self._matching = matching | {r.run_id for r in late}
        shown = late + shown
        self._show_matching(shown, len(self._matching) - len(shown))

    def _show_matching(self, matching: list[RunRecord], hidden: int) -> None:
        with self.store_lock:
            self._tree.show_roots(matching, hidden)
            if not matching:
                self._tree.show_message(self._empty_message())
            node = self._tree.nodes.get(self._selected) if self._selected else None
        if node is None:
            node = self._tree.top_node
            # The cursor may stay on the same line under a new tree, and then no
            # NodeHighlighted arrives: show the run it is on now ourselves.
            self._selected = node.data if node is not None else None
            self._show_detail(self._selected_run())
        self._tree.select(node)
        self._update_status()

    def _empty_message(self) -> str:
        if self._filtering:
            return "No trace matches the filter (escape clears it)."
        place = printable(str(self.directory))
        bad = self.store.bad_lines
        if bad:
            return (
                f"No valid events in {place}: {plural(bad, 'bad line')}"
                f" (jsontrace doctor {place} lists them); waiting for traces…"
            )
        return f"No traces yet in {place}: waiting for *.jsonl files…"

    def flush(self) -> None:
        """Apply what changed since the last tick: new traces, new labels, the detail pane."""
        if not self.loaded:
            return
        self._last_flush = time.monotonic()
        self._flush_pending = False
        tree = self._tree
        with self.store_lock, tree.one_clock_reading():
            dirty = self.store.take_dirty()
            new_roots = self.store.take_new_roots()
            if not dirty and not new_roots:
                self._update_status()
                return
            tree.begin_update()
            was_at_top = tree.cursor_node is None or tree.cursor_node is tree.top_node
            roots = self.store.roots
            inserted = 0
            matching = self._matching
            for run in new_roots:
                if run.run_id in roots and self._qualifies(run):
                    if matching is not None:
                        matching.add(run.run_id)
                    inserted += tree.add_root(run)
            for run in dirty:
                if run.run_id not in roots:
                    # A placeholder root that found its parent: no longer a trace.
                    tree.forget(run.run_id)
                    if matching is not None:
                        matching.discard(run.run_id)
                elif tree.root_key_changed(run):
                    tree.remove_run(run.run_id)
                    tree.add_root(run)
            if matching is not None:
                # A trace can start to match after it arrived: an error or matching text
                # deeper down. Check each changed trace not counted yet, once per flush.
                for root in {run.root for run in dirty}:
                    if (
                        root.run_id in roots
                        and root.run_id not in matching
                        and self._qualifies(root)
                    ):
                        matching.add(root.run_id)
                        inserted += tree.add_root(root)
            tree.refresh_runs(dirty)
            # Every running run shown gets its label from the same clock reading as the
            # runs that changed: a parent never shows less time than its running child.
            tree.refresh_runs(tree.running())
            self._update_hidden()
            selected = self._selected_run()
        if inserted and self.follow:
            if was_at_top and not self.paused_new:
                self._jump_to_newest()
            else:
                self.paused_new += inserted
        elif inserted and self._selected is None and tree.top_node is not None:
            # The first trace in an empty view: put the cursor (and the details) on it.
            self._selected = tree.top_node.data
            tree.select(tree.top_node)
            selected = self._selected_run()
            if selected is not None:
                dirty.add(selected)
        if selected is not None and selected in dirty:
            self._show_detail(selected)
        self._update_status()

    def _update_hidden(self) -> None:
        """How many matching traces are older than those shown (called with the lock held)."""
        tree = self._tree
        count = self.store.trace_count if self._matching is None else len(self._matching)
        tree.hidden_older = count - tree.shown_roots

    def _selected_run(self) -> RunRecord | None:
        """The run under the cursor: the tree's own record (it may have left the store)."""
        if not self._selected:
            return None
        return self._tree.runs.get(self._selected) or self.store.get(self._selected)

    def _tick_live(self) -> None:
        if not self.loaded:
            return
        with self.store_lock:
            self._tree.refresh_live()
            selected = self._selected_run()
        if selected is not None and selected.status == RUNNING:
            self._show_detail(selected)
        if self.notice and time.monotonic() >= self._notice_until:
            self.notice = ""
            self._update_status()

    def _show_detail(self, run: RunRecord | None) -> None:
        with self.store_lock:
            self._detail.show(run, now=self.clock())

    def _update_status(self) -> None:
        if self.follow:
            follow = f"follow paused: {self.paused_new} new" if self.paused_new else "following"
        else:
            follow = ""
        filters = [f"/{self.search_text}"] if self.search_text else []
        if self.searching:
            filters.append("searching…")
        if self.errors_only:
            filters.append("errors only")
        store = self.store
        conditions = self.reader.conditions
        if self._watch_problem:
            conditions.append(self._watch_problem)
        self.conditions = conditions
        if self._tree.message and self.loaded and not self._filtering and not store.roots:
            self._tree.show_message(self._empty_message())  # bad lines may have come
        self._status.set_state(
            directory=str(self.directory),
            files=len(self.reader.files),
            traces=store.trace_count,
            runs=store.run_count,
            events=store.events,
            health=health(store.bad_lines, store.corruption),
            follow=follow,
            filter_text=" + ".join(filters),
            notice=" · ".join([*conditions, self.notice] if self.notice else conditions),
        )

    # -- filters ---------------------------------------------------------------------

    @property
    def _filtering(self) -> bool:
        return self.errors_only or bool(self.search_text)

    def _qualifies(
        self, root: RunRecord, text: str | None = None, errors_only: bool | None = None
    ) -> bool:
        """Whether a trace passes the filters (called with the lock held; loads values to search)."""
        text = self.search_text if text is None else text
        errors_only = self.errors_only if errors_only is None else errors_only
        if errors_only and not (root.error_below or root.status == ERROR):
            return False
        if text:
            needle = text.lower()
            runs = list(root.walk())
            self.store.preload(runs)  # one read of the trace's lines
            return any(needle in run.text() for run in runs)
        return True

    # -- selection and follow ------------------------------------------------------

    @on(Tree.NodeHighlighted, "#tree")
    def _highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        run_id = event.node.data or None
        if run_id == self._selected:
            return
        self._selected = run_id
        if self.paused_new and event.node is self._tree.top_node:
            self.paused_new = 0
            self._update_status()
        self._show_detail(self._selected_run())

    def _jump_to_newest(self) -> None:
        self.paused_new = 0
        tree = self._tree
        top = tree.top_node
        if top is None:
            return
        # Open the followed trace all the way down; fold the one followed before.
        previous = tree.nodes.get(self._followed) if self._followed else None
        if previous is not None and previous is not top:
            previous.collapse()
        self._followed = top.data
        with self.store_lock, tree.one_clock_reading():
            tree.expand_subtree(top)
        tree.select(top)
        self._tree.scroll_home(animate=False)
        self._update_status()

    # -- actions ---------------------------------------------------------------------

    def action_follow(self) -> None:
        """Start following; when paused, jump to the newest trace; else stop."""
        if self.follow and not self.paused_new:
            self.follow = False
        else:
            self.follow = True
            self._jump_to_newest()
        self._update_status()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("visible")
        search.focus()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.search_text = event.value.strip()
        if not self.search_text:
            event.input.remove_class("visible")
        self._tree.focus()
        self.rebuild()

    def action_errors(self) -> None:
        self.errors_only = not self.errors_only
        self.rebuild()

    def action_clear(self) -> None:
        search = self.query_one("#search", Input)
        changed = self._filtering
        search.value = ""
        search.remove_class("visible")
        self.search_text = ""
        self.errors_only = False
        self.notice = ""
        self._tree.focus()
        if changed:
            self.rebuild()
        else:
            self._update_status()

    def action_expand_all(self) -> None:
        with self.store_lock, self._tree.one_clock_reading():
            self._tree.expand_everything()

    def action_collapse_all(self) -> None:
        self._tree.collapse_everything()

    def action_more(self) -> None:
        self._tree.limit += self._limit
        self.store.window = max(self.store.window or 0, 2 * self._tree.limit)
        self.rebuild()

    def action_full(self) -> None:
        """Page through the selected run's values in full (``v``)."""
        run = self._detail.run
        if run is None:
            return
        with self.store_lock:
            text = document(run, raw=self._detail.raw)
        self.push_screen(PagerScreen(f"{run.name} · {run.run_id}", text))

    def action_raw(self) -> None:
        self._detail.raw = not self._detail.raw
        self._show_detail(self._detail.run)
