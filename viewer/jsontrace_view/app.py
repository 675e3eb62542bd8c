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
Traces out of memory whose files are deleted (the writer's retention) leave
the store too, so with retention their index is bounded by what is on disk.
CPU stays low when idle: the safety-net rescan opens only files that changed,
is spaced out so that it takes at most :data:`RESCAN_CPU_SHARE` of a core (a
directory of 100,000 files takes a while to list), and backs off while hints
work and it finds nothing; rows redraw their age only when its text changes.
"""

from __future__ import annotations

import gc
import heapq
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Input, ProgressBar, Tree
from textual.worker import Worker, get_current_worker

from jsontrace.query import QueryError, parse
from jsontrace.reader import Batch, DirectoryReader
from jsontrace.render import health, plural, printable
from jsontrace.stats import compute
from jsontrace.store import ERROR, RUNNING, RunRecord, RunStore, bulk_load, root_order

from . import _memory, _takeaway
from ._search import Search
from .messages import DataReady, Loaded, LoadProgress, Notice, TracesDropped
from .watch import RESCAN, DirectoryWatcher, Hints
from .widgets import HelpScreen, PagerScreen, RunDetail, RunTree, StatusBar, Waterfall
from .widgets.detail import document
from .widgets.overview import OverviewScreen
from .widgets.takeaway import Choice, SavePathScreen, TakeAwayScreen
from .widgets.waterfall import bars_of

__all__ = ["TraceViewer"]

#: The shortest time between two safety-net rescans when no hint arrives.
RESCAN_INTERVAL_S = 2.0
#: With --poll, the rescan is how changes are found: this often, at most.
POLL_INTERVAL_S = 0.25
#: A rescan is spaced out so that rescanning takes at most this share of a core
#: (listing 100,000 files takes a fraction of a second).
RESCAN_CPU_SHARE = 0.02
#: While watchdog hints arrive, a safety-net rescan that finds nothing new doubles the
#: wait before the next one, up to this (idle on 100,000 files, each rescan is a stat each).
RESCAN_MAX_INTERVAL_S = 32.0
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
#: The orders of the trace list that ``s`` cycles through.
SORTS = ("time", "duration", "errors")
#: Keys that move the cursor: pressed while following, they pause it (so do clicks and the wheel).
MOVES = frozenset(
    {"up", "down", "left", "right", "j", "k", "h", "l", "pageup", "pagedown", "home", "end",
     "enter", "space", "n", "N"}
)  # fmt: skip
#: Traces whose matches are opened in the tree when a search is applied (n/N open the rest).
REVEAL_TRACES = 20


def deepest_running(root: RunRecord) -> RunRecord | None:
    """The running run deepest in *root*'s tree (the latest started among equals): what streams."""
    best: tuple[int, tuple[str, str]] | None = None
    found = None
    stack = [(root, 0)]
    while stack:
        run, depth = stack.pop()
        if run.status == RUNNING:
            key = (depth, (run.start_ts or "", run.run_id))
            if best is None or key > best:
                best, found = key, run
        stack.extend((child, depth + 1) for child in run.children)
    return found


def with_running_ancestors(runs: Iterable[RunRecord]) -> set[RunRecord]:
    """*runs* and the running runs above them: drawn at one clock time, a parent's live
    duration is never behind that of the child that just streamed."""
    out = set(runs)
    for run in list(out):
        parent = run.parent
        while parent is not None and parent.status == RUNNING and parent not in out:
            out.add(parent)
            parent = parent.parent
    return out


class TraceViewer(App[None]):
    """``jsontrace-view``: browse a directory of jsontrace files, live."""

    CSS_PATH = "viewer.tcss"
    TITLE = "jsontrace"
    # The footer shows the keys in this order, and at 80 columns all of them (v and r
    # among them: the command palette's key is left out for room); ? lists every key.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help"),
        Binding("slash", "search", "Search"),
        Binding("f", "follow", "Follow"),
        Binding("v", "full", "Page"),
        Binding("r", "raw", "Raw"),
        Binding("c", "take_away", "Copy"),
        Binding("w", "waterfall", "Waterfall"),
        Binding("o", "overview", "Stats"),
        Binding("q", "quit", "Quit"),
        Binding("e", "errors", "Errors", show=False),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Previous match", show=False),
        Binding("s", "sort", "Sort", show=False),
        Binding("x", "export", "Export", show=False),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("escape", "clear", "Clear", show=False),
        Binding("plus", "expand_all", "Expand all", show=False),
        Binding("minus", "collapse_all", "Collapse all", show=False),
        Binding("m", "more", "More", show=False),
    ]

    def __init__(
        self,
        directory: str | Path,
        *,
        poll: bool = False,
        watch: bool = True,
        follow: bool | None = None,
        clock: Callable[[], float] | None = None,
        flush_interval: float = 0.05,
        limit: int = 500,
        window: int = WINDOW,
        tune_allocator: bool = False,
    ) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.use_polling = poll
        self.use_watchdog = watch
        self.clock = clock or time.time
        self.flush_interval = flush_interval
        # Chunk lines stay undecoded while the directory loads: most lines are chunks.
        self.reader = DirectoryReader(self.directory, defer_chunks=True)
        self._files_gone = 0  # deleted + rewritten files seen by the reader (see _read)
        #: Safety-net rescans done while tailing, and the CPU seconds they took (benchmarks).
        self.rescans = 0
        self.rescan_cpu = 0.0
        self.window = max(window, 2 * limit)
        self.store = RunStore(window=self.window)
        # Reentrant: the tree takes it to expand a node, also when the app already has it.
        self.store_lock = threading.RLock()
        self._unfrozen = False  # whether gc.unfreeze() ran after the first eviction
        self.hints = Hints()
        self.loaded = False
        #: Whether to fix the allocator's policy once loaded (jsontrace-view does; see _memory).
        self._tune_allocator = tune_allocator
        # None: follow if the newest trace is still running once loaded, or there is none.
        self._follow_auto = follow is None
        self.follow = bool(follow)
        self.follow_paused = False  # the user moved away; f resumes
        self.paused_new = 0  # new traces since follow paused
        self.errors_only = False
        self.search_text = ""
        self.search = Search()
        self.searching = False  # a search worker is running
        self.sort = SORTS[0]
        self._notice = ""
        self.conditions: list[str] = []  # what is wrong now (the reader's, and watching)
        self._notice_until = 0.0
        self._watch_problem = ""
        self._limit = limit
        self._selected: str | None = None
        # Matching traces while a filter is on (None without one): how many are hidden.
        self._matching: set[str] | None = None
        self._last_flush = 0.0
        self._followed: str | None = None  # the trace follow mode last opened
        self._match_at = -1  # the match n/N went to last
        self._flush_pending = False
        self._waterfall_root: str | None = None
        self._tree = RunTree(limit=limit, lock=self.store_lock, id="tree")
        self._tree.now = self.clock
        self._detail = RunDetail(id="detail")
        self._waterfall = Waterfall(id="waterfall")
        self._status = StatusBar(id="status")

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield self._tree
            yield self._detail
        yield self._waterfall
        yield Input(
            placeholder="search: status:error type:llm name:retr* tag:beta latency>2s age<1h text"
            " (enter applies, ? lists all)",
            id="search",
        )
        yield ProgressBar(id="progress", show_eta=False)
        yield self._status
        yield Footer(show_command_palette=False)

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
        base = interval = POLL_INTERVAL_S if self.use_polling else RESCAN_INTERVAL_S
        next_scan = time.monotonic() + interval
        next_evict = 0.0
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
                    found = self._read(RESCAN)
                    if found:
                        self.post_message(DataReady())
                    cost = time.thread_time() - cost
                    self.rescans += 1
                    self.rescan_cpu += cost
                    watcher = self._check_watcher(watcher)
                    # Only a safety net while hints work: back off while it finds nothing.
                    backoff = not found and watcher is not None
                    interval = min(interval * 2, RESCAN_MAX_INTERVAL_S) if backoff else base
                    next_scan = time.monotonic() + max(interval, cost / RESCAN_CPU_SHARE)
                if settling:
                    self._settle_some()
                elif now >= next_evict:
                    next_evict = now + 1.0
                    with self.store_lock:
                        self._evict()  # also between reads, once a second
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
                read = self._ingest(self.reader.poll(), evict=True)
            else:
                for name in sorted(names):
                    read = self._ingest(self.reader.read_file(name), evict=True) or read
        except Exception as exc:  # a bug must not kill tailing silently
            self.post_message(Notice(f"reader error: {exc!r}"))
            time.sleep(0.5)
        gone = self.reader.deleted_files + self.reader.truncations
        if gone != self._files_gone:
            # Traces out of memory whose files went cannot be listed again: drop them.
            self._files_gone = gone
            with self.store_lock:
                dropped = self.store.forget_gone_files()
            if dropped:
                self.post_message(TracesDropped(dropped))
        self._post_notices()
        return read

    def _post_notices(self) -> None:
        for text in self.reader.take_notices():
            self.post_message(Notice(text))

    def _ingest(self, batches: Iterable[Batch], *, evict: bool = False) -> bool:
        """Add *batches* to the store; with *evict*, keep it to its window after each one.

        A writer faster than the reader makes one read last as long as the flood, so the
        window is kept here, batch by batch, and not only between reads: ``evict`` costs
        nothing until the traces in memory pass the window and its slack.
        """
        read = False
        for batch in batches:
            with self.store_lock:
                self.store.add_batch(batch)
                if evict:
                    self._evict()
            read = True
        return read

    def _evict(self) -> None:
        """Move finished traces beyond the window out of memory (the caller holds the lock)."""
        if self.store.evict() and not self._unfrozen:
            # What loading froze (see bulk_load) can be collected once out of memory.
            self._unfrozen = True
            gc.unfreeze()

    # -- messages from the worker -------------------------------------------------

    def on_load_progress(self, message: LoadProgress) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=max(message.total, 1), progress=message.done)
        self._update_status()

    def on_loaded(self, message: Loaded) -> None:
        self.query_one("#progress", ProgressBar).display = False
        self.loaded = True
        if self._tune_allocator:
            # Now, not before: the load runs faster under glibc's own policy, the tail
            # that follows (for days) needs the fixed one.
            self._tune_allocator = False
            _memory.keep_large_blocks_apart()
        if self._follow_auto:
            # Opened on an app that is writing, or on an empty directory (the app is
            # about to start): watch it stream without touching a key.
            with self.store_lock:
                newest = max(self.store.roots.values(), key=root_order, default=None)
                self.follow = newest is None or newest.status == RUNNING
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

    def on_traces_dropped(self, message: TracesDropped) -> None:
        if self._matching is not None:
            self.rebuild()  # the search's matches may include some of them: search again
            return
        with self.store_lock:
            self._update_hidden()
        self._update_status()

    @property
    def notice(self) -> str:
        """The latest notice (a file deleted, a search's parse error, "saved … to …")."""
        return self._notice

    @notice.setter
    def notice(self, text: str) -> None:
        # Every notice stays a while, then the status bar drops it (see _tick_live).
        self._notice = text
        self._notice_until = time.monotonic() + NOTICE_SECONDS

    def on_notice(self, message: Notice) -> None:
        if message.text:
            self.notice = message.text
        self._update_status()

    # -- updating the screen --------------------------------------------------------

    def rebuild(self) -> None:
        """Rebuild the tree from scratch (after loading, or when the filter or the order changes).

        A search, or an order other than newest first, looks at every trace (those
        moved out of memory are read again from the files, one at a time; free text
        reads inputs and outputs), so it runs in a worker and the tree is replaced
        when it is done; otherwise the store answers from its index.
        """
        try:
            self.search.apply(self.search_text, self.errors_only)
        except QueryError as exc:  # the box was checked on enter; a caller set bad text
            self.notice = f"search: {exc}"
            self.search.apply("", self.errors_only)
        self._tree.sort_key = self._sort_key
        self._tree.hidden_word = "older" if self.sort == "time" else "more"
        self._match_at = -1
        if not self.search.query.empty or self.sort != "time":
            self.searching = True
            self._update_status()
            self._search(self.search_text, self.errors_only, self.sort, self._tree.limit)
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
    def _search(self, text: str, errors_only: bool, sort: str, limit: int) -> None:
        """Find (and order) the traces that pass, a root at a time so the reader keeps going.

        Every trace is looked at, those moved out of memory too (rebuilt from the
        files one at a time, not kept); the first *limit* in the tree's order are
        kept (what the tree shows) and the rest counted.
        """
        worker = get_current_worker()
        search, key, now = self.search, self._sort_key, self.clock()
        reads_values = search.query.reads_values
        with self.store_lock:
            self.store.take_dirty()
            self.store.take_new_roots()
            traces = self.store.iter_traces(errors_only=errors_only)
        best: list[tuple[tuple[Any, ...], RunRecord]] = []  # a heap: the lowest kept key first
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
                if reads_values:
                    self.store.preload(root.walk())  # one read of the trace's lines
                if not search.qualifies(root, now):
                    continue
                matching.add(root.run_id)
                # Keys end with the run id: they never tie, the records are never compared.
                item = (key(root), root)
            if len(best) < limit:
                heapq.heappush(best, item)
            elif item[0] > best[0][0]:
                heapq.heapreplace(best, item)
        shown = [root for _, root in sorted(best, key=itemgetter(0), reverse=True)]
        if not worker.is_cancelled:
            self.call_from_thread(
                self._search_done, shown, matching, (text, errors_only, sort), searched
            )

    def _search_done(
        self,
        shown: list[RunRecord],
        matching: set[str],
        asked: tuple[str, bool, str],
        searched: set[str],
    ) -> None:
        if asked != (self.search_text, self.errors_only, self.sort):
            return  # the filter or order changed meanwhile; its own search follows
        self.searching = False
        # Traces that arrived during the search were filed by flush() against the
        # old tree; check them too (they are new, so in memory), ordered with the rest.
        now = self.clock()
        with self.store_lock:
            late = [
                root
                for root in list(self.store.roots.values())
                if root.run_id not in searched and self.search.qualifies(root, now)
            ]
            self._matching = matching | {root.run_id for root in late}
            if late:
                shown = sorted(late + shown, key=self._sort_key, reverse=True)
        self._show_matching(shown, len(self._matching) - len(shown))
        self._reveal_matches()

    def _show_matching(self, matching: list[RunRecord], hidden: int) -> None:
        with self.store_lock:
            # The rows preview their inputs: one read of the shown traces' lines.
            self.store.preload(matching[: self._tree.limit])
            self._tree.highlight = self.search.highlight()
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

    def _reveal_matches(self) -> None:
        """Open the matches of the first traces and put the cursor on the first match (the slowest when sorted by duration)."""
        with self.store_lock:
            shown = self._shown_roots()
            for root in shown[:REVEAL_TRACES]:
                for run in self.search.in_order([root]):
                    self._tree.reveal(run)
            first = self.search.in_order(shown[:1])
            if self.sort == "duration" and first:
                now = self.clock()
                first = [max(first, key=lambda r: r.duration_ms(now) or -1.0)]
            node = self._tree.reveal(first[0]) if first else None
        if node is not None:
            self._match_at = self._match_index(first[0].run_id)
            self._tree.select_in_context(node)

    def flush(self) -> None:
        """Apply what changed since the last tick: new traces, new labels, the detail pane."""
        if not self.loaded:
            return
        self._last_flush = time.monotonic()
        self._flush_pending = False
        tree = self._tree
        now = self.clock()
        with self.store_lock, tree.one_clock_reading():
            dirty = self.store.take_dirty()
            new_roots = self.store.take_new_roots()
            if not dirty and not new_roots:
                self._update_status()
                return
            tree.begin_update()
            roots = self.store.roots
            inserted = 0
            matching = self._matching
            added: list[RunRecord] = []
            for run in new_roots:
                if run.run_id in roots and self.search.qualifies(run, now):
                    added.append(run)
            for run in dirty:
                if run.run_id not in roots:
                    # A placeholder root that found its parent: no longer a trace.
                    tree.forget(run.run_id)
                    self.search.forget_root(run.run_id)
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
                        and root not in added
                        and self.search.qualifies(root, now)
                    ):
                        added.append(root)
                # Runs of shown traces that start or stop matching get their mark changed.
                for run in dirty:
                    self.search.rematch(run, now)
                # Marks first: the rows made below are drawn with them.
                tree.highlight = self.search.highlight()
            for run in added:
                if matching is not None:
                    matching.add(run.run_id)
                if tree.add_root(run):
                    inserted += 1
                    for match in self.search.in_order([run]):
                        tree.reveal(match)  # a new trace's matches are opened, as a search's are
            tree.refresh_runs(with_running_ancestors(dirty))
            # Every running run shown gets its label from the same clock reading as the
            # runs that changed: a parent never shows less time than its running child.
            tree.refresh_runs(tree.running())
            self._update_hidden()
            selected = self._selected_run()
            waterfall_changed = self._waterfall_root in {run.root.run_id for run in dirty}
        if self.follow and not self.follow_paused:
            self._follow_newest(inserted)
        elif inserted and self.follow:
            self.paused_new += inserted
        elif inserted and self._selected is None and tree.top_node is not None:
            # The first trace in an empty view: put the cursor (and the details) on it.
            self._selected = tree.top_node.data
            self._tree.select(tree.top_node)
            selected = self._selected_run()
            if selected is not None:
                dirty.add(selected)
        if selected is not None and selected in dirty:
            self._show_detail(selected)
        if waterfall_changed:  # a run of the drawn trace changed: its bars too
            self._update_waterfall(selected, force=True)
        self._update_status()

    def _update_hidden(self) -> None:
        """How many matching traces are not shown (called with the lock held)."""
        tree = self._tree
        count = self.store.trace_count if self._matching is None else len(self._matching)
        tree.hidden_older = count - tree.shown_roots

    def _selected_run(self) -> RunRecord | None:
        """The run under the cursor: the tree's own record (it may have left the store)."""
        if not self._selected:
            return None
        return self._tree.runs.get(self._selected) or self.store.get(self._selected)

    def _find_run(self, run_id: str) -> RunRecord | None:
        """A run of the selected trace, or any in memory (a trace rebuilt from the files is not)."""
        selected = self._selected_run()
        if selected is not None:
            for run in selected.root.walk():
                if run.run_id == run_id:
                    return run
        return self._tree.runs.get(run_id) or self.store.get(run_id)

    def _tick_live(self) -> None:
        if not self.loaded:
            return
        with self.store_lock:
            self._tree.refresh_live()
            selected = self._selected_run()
            running = selected is not None and selected.root.status == RUNNING
        if selected is not None and selected.status == RUNNING:
            self._show_detail(selected)
        elif running:
            self._update_waterfall(selected, force=True)  # its running bars grow
        if self.notice and time.monotonic() >= self._notice_until:
            self.notice = ""
            self._update_status()

    def _show_detail(self, run: RunRecord | None) -> None:
        with self.store_lock:
            self._detail.show(run, now=self.clock())
        self._update_waterfall(run, force=run is not None and run.status == RUNNING)

    def _update_waterfall(self, run: RunRecord | None, *, force: bool = False) -> None:
        """Draw the selected run's trace (again, if *force*), its row highlighted."""
        waterfall = self._waterfall
        if not waterfall.display:
            self._waterfall_root = None
            return
        if run is None:
            waterfall.show([], now=self.clock(), selected=None)
            self._waterfall_root = None
            return
        with self.store_lock:
            root = run.root
            if force or root.run_id != self._waterfall_root:
                bars, left_out = bars_of(root, self.clock())
                waterfall.show(bars, now=self.clock(), selected=run.run_id, left_out=left_out)
            else:
                waterfall.select(run.run_id)
        self._waterfall_root = root.run_id

    def _update_status(self) -> None:
        if self.follow:
            if self.follow_paused:
                follow = f"follow paused: {self.paused_new} new (f resumes)"
            else:
                follow = "following"
        else:
            follow = ""
        filters = [f"/{self.search_text}"] if self.search_text else []
        if self.searching:
            filters.append("searching…" if not self.search.query.empty else "sorting…")
        elif self.search_text and not self.search.query.empty:
            count = self.search.count
            filters.append(
                f"{plural(count, 'match', 'matches')} in {plural(len(self.search.matches), 'trace')}"
                + (" (n/N)" if count else "")
            )
        if self.errors_only:
            filters.append("errors only")
        if self.sort == "duration":
            slowest = "match" if self.search_text and not self.search.query.empty else "trace"
            filters.append(f"sorted by duration: slowest {slowest} first")
        elif self.sort == "errors":
            filters.append("sorted by errors: traces with an error first")
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
            filter_text=" · ".join(filters),
            notice=" · ".join([*conditions, self.notice] if self.notice else conditions),
        )

    # -- filters and order -------------------------------------------------------------

    @property
    def _filtering(self) -> bool:
        return self.search.active

    def _sort_key(self, root: RunRecord) -> tuple[Any, ...]:
        """The trace list's order (highest first): newest, slowest (match), or with errors first."""
        if self.sort == "duration":
            return (self.search.slowest_ms(root, self.clock()), *root_order(root))
        if self.sort == "errors":
            return (root.error_below or root.status == ERROR, *root_order(root))
        return root_order(root)

    def _shown_roots(self) -> list[RunRecord]:
        """The traces with nodes, top to bottom."""
        tree = self._tree
        return [tree.runs[node.data] for node in tree.root.children if node.data in tree.runs]

    # -- selection and follow ------------------------------------------------------

    @on(Tree.NodeHighlighted, "#tree")
    def _highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        run_id = event.node.data or None
        if run_id == self._selected:
            return
        self._selected = run_id
        self._show_detail(self._selected_run())

    def _moved_by_user(self) -> None:
        """You moved (a key, a click, the wheel): following stays where you are until f."""
        if self.follow and not self.follow_paused:
            self.follow_paused = True
            self.paused_new = 0
            self._update_status()

    def _newest_shown(self) -> RunRecord | None:
        return max(self._shown_roots(), key=root_order, default=None)

    def _jump_to_newest(self) -> None:
        """Open the newest trace all the way down; the cursor on what streams in it."""
        self.paused_new = 0
        self.follow_paused = False
        tree = self._tree
        with self.store_lock:
            newest = self._newest_shown()
        if newest is None:
            self._update_status()
            return
        top = tree.nodes[newest.run_id]
        # Fold the trace followed before.
        previous = tree.nodes.get(self._followed) if self._followed else None
        if previous is not None and previous is not top:
            previous.collapse()
        self._followed = newest.run_id
        with self.store_lock, tree.one_clock_reading():
            tree.expand_subtree(top)
        if top is tree.top_node:
            tree.scroll_home(animate=False)
        self._follow_target(newest)
        self._update_status()

    def _follow_newest(self, inserted: int) -> None:
        """While following: a new trace is jumped to; in the followed one, the cursor goes to what streams."""
        with self.store_lock:
            newest = self._newest_shown()
        if newest is None:
            return
        if inserted or newest.run_id != self._followed:
            self._jump_to_newest()
        else:
            self._follow_target(newest)

    def _follow_target(self, root: RunRecord) -> None:
        with self.store_lock:
            target = deepest_running(root) or root
            if target.run_id == self._selected:
                return
            node = self._tree.reveal(target)
        self._tree.select(node)

    # -- actions ---------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        # "/" is acted on as the app receives it, before it is passed to the focused
        # widget: keys typed in the same burst (a paste, a fast typist) are already
        # queued behind it and must reach the search box, not the tree ("/e" is a search
        # for "e", never errors-only). Here too a move of the user's (a key, a click, the
        # wheel) pauses following, which the app's own cursor moves must not.
        on_main = len(self.screen_stack) == 1 and not isinstance(self.focused, Input)
        if isinstance(event, events.Key) and on_main:
            if event.key == "slash":
                self.action_search()
                return
            if event.key in MOVES:
                self._moved_by_user()
        elif on_main and isinstance(
            event, (events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)
        ):
            self._moved_by_user()
        await super().on_event(event)

    def action_follow(self) -> None:
        """Start following; when paused, jump to the newest trace; else stop."""
        if self.follow and not self.follow_paused:
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
        # Focus now, not with focus() (a callback after the queued messages).
        self.screen.set_focus(search)

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        # Say what is wrong while it is typed; nothing is applied before enter.
        try:
            parse(event.value)
        except QueryError as exc:
            self.notice = f"search: {exc}"
        else:
            if self.notice.startswith("search: "):
                self.notice = ""
        self._update_status()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            parse(text)
        except QueryError as exc:
            self.notice = f"search: {exc}"  # the box stays open to fix it
            self._update_status()
            return
        self.search_text = text
        event.input.remove_class("visible")  # the status bar shows it; / edits it again
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

    def action_next_match(self) -> None:
        self._go_to_match(1)

    def action_previous_match(self) -> None:
        self._go_to_match(-1)

    def _match_index(self, run_id: str | None) -> int:
        with self.store_lock:
            order = [run.run_id for run in self.search.in_order(self._shown_roots())]
        return order.index(run_id) if run_id in order else -1

    def _go_to_match(self, step: int) -> None:
        """The next (or previous) matching run, trace after trace, opening its path."""
        with self.store_lock:
            order = self.search.in_order(self._shown_roots())
            if not order:
                self.notice = "no matches: / searches" if self.search.query.empty else "no matches"
                self._update_status()
                return
            ids = [run.run_id for run in order]
            at = ids.index(self._selected) if self._selected in ids else self._match_at
            if at < 0 and step < 0:
                at = 0
            self._match_at = (at + step) % len(order)
            node = self._tree.reveal(order[self._match_at])
        self.notice = f"match {self._match_at + 1:,} of {len(order):,}" + (
            f" (of {self.search.count:,}: m shows more traces)"
            if len(order) < self.search.count
            else ""
        )
        if node is not None:
            self._tree.select_in_context(node)
        self._update_status()

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        # The status bar says the order while it is not the usual one; back to it, once.
        self.notice = "sorted by time: newest trace first" if self.sort == "time" else ""
        self.rebuild()

    def action_waterfall(self) -> None:
        self._waterfall.display = not self._waterfall.display
        with self.store_lock:
            selected = self._selected_run()
        self._update_waterfall(selected, force=True)

    @on(Waterfall.Selected)
    def _waterfall_selected(self, message: Waterfall.Selected) -> None:
        with self.store_lock:
            run = self._find_run(message.run_id)
            node = self._tree.reveal(run) if run is not None else None
        if node is not None:
            self._tree.select(node)  # (the key or click that did it paused following)

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

    # -- taking things away ------------------------------------------------------------

    def _run_to_take(self) -> RunRecord | None:
        """The selected run, or None with a notice saying to select one."""
        run = self._selected_run()
        if run is None:
            self.notice = "select a run first"
            self._update_status()
        return run

    def action_take_away(self) -> None:
        with self.store_lock:
            run = self._run_to_take()
            if run is None:
                return
            targets = [t for t in _takeaway.TARGETS if t.present(run)]
            title = f"Take away from {run.name} ({run.run_id})"
        self.push_screen(TakeAwayScreen(title, targets), self._took)

    def action_export(self) -> None:
        """Save the selected run's whole trace as JSON lines, asking where."""
        whole = next(t for t in _takeaway.TARGETS if t.key == "j")
        with self.store_lock:
            if self._run_to_take() is None:
                return
        self._took(Choice(whole, "save"))

    def _took(self, choice: Choice | None) -> None:
        if choice is None:
            return
        with self.store_lock:
            run = self._run_to_take()
            if run is None:
                return
            text = choice.target.text(run, _takeaway.Files(self.directory, self.reader))
            default = _takeaway.default_path(run, choice.target)
        what = choice.target.what(run)
        if choice.action == "copy":
            self._copy(text, what)
        elif choice.action == "save":
            self.push_screen(
                SavePathScreen(what, str(default)),
                lambda path: self._save(path, text, what),
            )
        else:
            self._open(text, choice.target.suffix)

    def _copy(self, text: str, what: str) -> None:
        size = len(text.encode())
        if size > _takeaway.MAX_CLIPBOARD_BYTES:
            self.notice = f"{what} is {size:,} bytes, too much for the clipboard: s in the c menu (or x) saves it to a file"
        else:
            self.copy_to_clipboard(text)  # OSC 52: the terminal puts it on the clipboard
            self.notice = f"copied {what} to the clipboard ({size:,} bytes)"
        self._update_status()

    def _save(self, path: str | None, text: str, what: str) -> None:
        if path is None:
            return
        target = Path(path).expanduser()
        try:
            _takeaway.write_new(target, text.encode())
        except FileExistsError:
            self.notice = f"{target} exists: nothing written (c or x again, and another name)"
        except OSError as exc:
            self.notice = f"cannot write {target}: {exc.strerror or exc}"
        else:
            self.notice = f"saved {what} to {target}"
        self._update_status()

    def _open(self, text: str, suffix: str) -> None:
        """Show a value in $EDITOR or $PAGER: the app gives them the terminal meanwhile."""
        with tempfile.TemporaryDirectory(prefix="jsontrace-") as folder:
            path = Path(folder) / f"value{suffix}"
            path.write_text(text)
            command = _takeaway.open_command(path)
            if command is None:
                self.notice = "nothing to open it with: set $EDITOR or $PAGER"
            else:
                try:
                    with self.suspend():
                        subprocess.run(command, check=False)
                except SuspendNotSupported:
                    self.notice = "this terminal cannot hand over to an editor: c copies instead"
                except OSError as exc:
                    self.notice = f"cannot run {command[0]}: {exc.strerror or exc}"
        self._update_status()

    # -- the overview --------------------------------------------------------------------

    def action_overview(self) -> None:
        scope = (
            f"the runs matching /{self.search_text}"
            if not self.search.query.empty
            else ("the traces with errors" if self.errors_only else "everything loaded")
        )
        screen = OverviewScreen(scope)
        self.push_screen(screen)
        self._compute_overview(screen)

    @work(thread=True, exclusive=True, group="overview", exit_on_error=False)
    def _compute_overview(self, screen: OverviewScreen) -> None:
        """The overview's rows, worked out off the screen's thread.

        Over every trace, those moved out of memory too (rebuilt from the files one
        at a time), taking the store lock a trace at a time so the reader goes on.
        """
        worker = get_current_worker()
        search, now = self.search, self.clock()
        with self.store_lock:
            traces = self.store.iter_traces(errors_only=self.errors_only)
        counted = 0

        def runs() -> Iterator[RunRecord]:
            nonlocal counted
            while not worker.is_cancelled:
                with self.store_lock:
                    root = next(traces, None)
                    if root is None:
                        return
                    if not search.query.empty:
                        ids = search.matches.get(root.run_id, set())
                        found = [run for run in root.walk() if run.run_id in ids]
                    elif search.qualifies(root, now):
                        found = [run for run in root.walk() if run.seen]
                    else:
                        found = []
                counted += len(found)
                yield from found

        rows = compute(runs())
        if not worker.is_cancelled:
            self.call_from_thread(screen.show, rows, counted)
