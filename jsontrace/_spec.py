"""What a traced function records, prepared once when it is decorated."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._config import CONFIG
from ._context import current_run
from ._errors import report_once, safe_repr
from ._inputs import make_binder
from ._run import Hooks, Run

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
    ) -> None:
        self.name = name or getattr(fn, "__name__", None) or safe_repr(fn)
        self.run_type = run_type
        self.metadata = dict(metadata) if metadata else {}
        self.tags = list(tags) if tags else []
        self.hooks = Hooks(reduce_fn, process_outputs, process_chunk)
        self.process_inputs = process_inputs
        self.enabled = enabled
        self.bind = make_binder(fn)

    def active(self) -> bool:
        enabled = self.enabled
        return CONFIG.enabled if enabled is None else enabled

    def start(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        extra: Mapping[str, Any] | None,
        *,
        generator: bool,
    ) -> Run | None:
        """Start a run for a call, or return None if jsontrace itself failed (reported once).

        *extra* is LangSmith's call-time ``langsmith_extra`` (name, tags, metadata).
        """
        try:
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
            name, tags, metadata = self.name, self.tags, self.metadata
            if extra:
                name = extra.get("name") or name
                tags = [*tags, *(extra.get("tags") or ())]
                metadata = {**metadata, **(extra.get("metadata") or {})}
            run = Run(
                name,
                parent=current_run.get(),
                run_type=self.run_type,
                inputs=inputs,
                tags=tags,
                metadata=metadata,
                hooks=self.hooks,
                is_generator=generator,
                warnings=warnings,
            )
            if stop is not None:
                # The call stops before the function runs: its run ends here, with the stop.
                run.fail(stop)
                raise stop
            return run
        except Exception as exc:
            report_once(f"start:{self.name}", f"could not trace {self.name!r}: {safe_repr(exc)}")
            return None
