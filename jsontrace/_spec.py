"""What a traced function records, prepared once when it is decorated."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import _context
from ._config import CONFIG
from ._context import current_run, current_scope
from ._errors import report_once, safe_repr
from ._extra import parse_extra
from ._inputs import make_binder
from ._run import Hooks, Run
from ._run_tree import end_hook
from ._tracing_context import place, tracing_forced

__all__ = ["Spec"]


class Spec:
    """What a decorated function records, computed once at decoration time."""

    __slots__ = (
        "bind",
        "enabled",
        "hooks",
        "metadata",
        "name",
        "process_inputs",
        "project_name",
        "run_type",
        "tags",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None,
        run_type: str,
        metadata: Mapping[str, Any] | None,
        tags: Sequence[str] | None,
        reduce_fn: Callable[[list[Any]], Any] | None,
        process_inputs: Callable[[dict[str, Any]], Any] | None,
        process_outputs: Callable[[Any], Any] | None,
        process_chunk: Callable[[Any], Any] | None,
        enabled: bool | None,
        project_name: str | None = None,
    ) -> None:
        self.name = name or getattr(fn, "__name__", None) or safe_repr(fn)
        self.run_type = run_type
        self.metadata = dict(metadata) if metadata else {}
        self.tags = list(dict.fromkeys(tags)) if tags else []
        self.project_name = project_name
        self.hooks = Hooks(reduce_fn, process_outputs, process_chunk)
        self.process_inputs = process_inputs
        self.enabled = enabled
        self.bind = make_binder(fn)

    def active(self) -> bool:
        enabled = self.enabled
        if enabled is not None:
            return enabled
        return CONFIG.enabled or (_context.forcing and tracing_forced())

    def start(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        extra: Mapping[str, Any] | None,
        *,
        generator: bool,
    ) -> Run | None:
        """Start a run for a call, or return None: not traced here, or jsontrace itself failed (reported once).

        *extra* is LangSmith's call-time ``langsmith_extra`` (see :mod:`jsontrace._extra`);
        where the run goes and what it inherits is :func:`jsontrace._tracing_context.place`.
        """
        metadata: Mapping[str, Any]
        try:
            if (
                extra is None
                and current_scope.get() is None
                and current_run.get() is None
                and self.project_name is None
            ):
                # What place() gives a root run called without langsmith_extra outside any
                # tracing_context block: the decorator's own (Run copies them).
                call, parent, tags, metadata = None, None, self.tags, self.metadata
            else:
                call = parse_extra(extra) if extra is not None else None
                placed = place(self.tags, self.metadata, self.project_name, call, self.enabled)
                if placed is None:  # switched off by a tracing_context block
                    return None
                parent, tags, metadata = placed
            warnings: list[str] | None = None
            stop: BaseException | None = None
            inputs = self.bind(args, kwargs)
            if self.process_inputs is not None:
                try:
                    inputs = self.process_inputs(inputs)
                except BaseException as exc:
                    # Record nothing rather than what process_inputs was meant to hide.
                    message = f"process_inputs of {self.name!r} raised {type(exc).__name__}: {safe_repr(exc)}"
                    report_once(f"hook:{self.name}:process_inputs", message)
                    inputs, warnings = {}, [message]
                    if not isinstance(exc, Exception):
                        stop = exc  # KeyboardInterrupt, SystemExit: see _run
            if call is None:
                run = Run(
                    self.name, self.run_type, inputs, tags, metadata, parent, self.hooks, generator,
                    warnings,
                )  # fmt: skip
            else:
                run = Run(
                    call.name or self.name,
                    self.run_type,
                    inputs,
                    tags,
                    metadata,
                    parent,
                    self.hooks,
                    generator,
                    warnings,
                    call.run_id,
                    end_hook(call.on_end) if call.on_end else None,
                )
            if stop is not None:
                # The call stops before the function runs: its run ends here, with the stop.
                run.fail(stop)
                raise stop
            return run
        except Exception as exc:
            report_once(f"start:{self.name}", f"could not trace {self.name!r}: {safe_repr(exc)}")
            return None
