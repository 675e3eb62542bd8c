"""The one configuration object, read from the environment once and changed by ``configure``.

Everything the hot path needs is a plain attribute of a single module-level
:class:`Config` instance, so the decorator reads ``_config.CONFIG.enabled``
(one attribute load) rather than calling a function per event.

This module holds state only: whoever derives something from the settings
(the pipeline builds its processor chains from them) registers with
:func:`on_change` and is told after every change.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = ["CONFIG", "Config", "configure", "on_change", "reset_defaults"]

_DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_DEFAULT_MAX_CHARS = 100_000
_DEFAULT_MAX_ITEMS = 10_000


@dataclass
class Config:
    """Settings of the tracer. Change them with :func:`jsontrace.configure`."""

    #: Directory for the segment files; created (mode 0700) on the first write.
    #: Made absolute when set, so a later os.chdir() does not move the files.
    dir: Path = field(default_factory=lambda: Path("logs").absolute())
    #: Master switch. Off, a traced function costs one attribute check.
    enabled: bool = True
    #: A segment file that would grow past this many bytes is closed and a new one opened.
    max_bytes: int = _DEFAULT_MAX_BYTES
    #: Keep at most this many of this process's segment files (None: keep all).
    max_segments: int | None = None
    #: Strings longer than this are cut, with a mark saying how much was dropped.
    max_chars: int = _DEFAULT_MAX_CHARS
    #: Lists and dicts longer than this are cut the same way.
    max_items: int = _DEFAULT_MAX_ITEMS
    #: Scrub secrets (keys like ``api_key``, strings like ``sk-...``) before writing.
    redact: bool = True
    #: Extra key names (matched as the last ``_``-separated part, any case) to redact.
    redact_keys: tuple[str, ...] = ()
    #: Extra regular expressions whose matches inside strings are redacted.
    redact_patterns: tuple[str, ...] = ()
    #: The user's structlog processors, run on every event before redaction and rendering.
    processors: tuple[Callable[[Any, str, Any], Any], ...] = ()


def _from_env(env: os._Environ[str] | dict[str, str]) -> Config:
    config = Config()
    if (value := env.get("JSONTRACE_DIR")) is not None and value.strip():
        config.dir = Path(value).absolute()
    if (value := env.get("JSONTRACE_ENABLED")) is not None:
        config.enabled = _parse_bool("JSONTRACE_ENABLED", value, default=True)
    if (value := env.get("JSONTRACE_REDACT")) is not None:
        config.redact = _parse_bool("JSONTRACE_REDACT", value, default=True)
    if (value := env.get("JSONTRACE_MAX_BYTES")) is not None:
        config.max_bytes = _parse_size("JSONTRACE_MAX_BYTES", value, _DEFAULT_MAX_BYTES)
    return config


def _parse_bool(name: str, value: str, *, default: bool) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    # A typo in an environment variable must not stop the user's app from starting.
    _warn_env(f"{name}={value!r} is not a boolean (use 1 or 0); using {int(default)}")
    return default


def _parse_size(name: str, value: str, default: int) -> int:
    text = value.strip().lower()
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    multiplier = 1
    if text[-1:] in units:
        multiplier = units[text[-1]]
        text = text[:-1]
    try:
        size = int(text) * multiplier
    except ValueError:
        size = 0
    if size <= 0:
        _warn_env(f"{name}={value!r} is not a positive size (e.g. 1048576 or 64M); using {default}")
        return default
    return size


def _warn_env(message: str) -> None:
    from ._errors import JsonTraceWarning

    # Under "-W error" a warning raises: a typo in the environment must not stop
    # the app at import.
    with contextlib.suppress(Exception):
        warnings.warn(message, JsonTraceWarning, stacklevel=3)


CONFIG: Config = _from_env(os.environ)


def configure(
    *,
    dir: str | os.PathLike[str] | None = None,
    enabled: bool | None = None,
    max_bytes: int | None = None,
    max_segments: int | None = None,
    max_chars: int | None = None,
    max_items: int | None = None,
    redact: bool | None = None,
    redact_keys: Iterable[str] | None = None,
    redact_patterns: Iterable[str] | None = None,
    processors: Iterable[Callable[[Any, str, Any], Any]] | None = None,
) -> None:
    """Change the tracer's settings; arguments left as None keep their current value.

    *processors* are structlog processors of your own, run on every event after
    jsontrace's fields are set and before redaction and rendering (see
    :mod:`jsontrace.processors`); ``processors=[]`` removes them again.

    Raises ``ValueError`` at once for a setting that can never work (a negative
    size, an invalid regular expression), because that is a programming error
    caught at start-up, not a runtime failure of tracing. Nothing changes then.
    """
    changes: dict[str, Any] = {}
    if dir is not None:
        changes["dir"] = _check_dir(dir)
    for name, flag in (("enabled", enabled), ("redact", redact)):
        if flag is not None:
            if not isinstance(flag, bool):
                raise ValueError(f"configure({name}=...) must be True or False, got {flag!r}")
            changes[name] = flag
    for name, value in (
        ("max_bytes", max_bytes),
        ("max_chars", max_chars),
        ("max_items", max_items),
    ):
        if value is not None:
            changes[name] = _check_int(name, value, minimum=1)
    if max_segments is not None:
        # 0 means "keep every segment" (the default), since None already means "no change".
        changes["max_segments"] = _check_int("max_segments", max_segments, minimum=0) or None
    if redact_keys is not None:
        changes["redact_keys"] = _check_strings("redact_keys", redact_keys)
    if redact_patterns is not None:
        changes["redact_patterns"] = _check_strings("redact_patterns", redact_patterns)
    if processors is not None:
        changes["processors"] = _check_processors(processors)
    _apply(replace(CONFIG, **changes))


def _check_dir(value: str | os.PathLike[str]) -> Path:
    try:
        text = os.fspath(value)
    except TypeError:
        text = None
    if not isinstance(text, str) or not text:
        raise ValueError(f"configure(dir=...) must be a non-empty path, got {value!r}")
    return Path(text).absolute()


def _check_int(name: str, value: object, *, minimum: int) -> int:
    # bool is an int subclass, but max_bytes=True is a mistake, not a size of 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"configure({name}=...) must be an int >= {minimum}, got {value!r}")
    return value


def _check_strings(name: str, values: object) -> tuple[str, ...]:
    # A bare string is iterable too: redact_keys="session" would redact every key
    # ending in "_s", "_e", ...
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"configure({name}=...) must be a list of strings, got {values!r}")
    items = tuple(values)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValueError(f"configure({name}=...) must hold non-empty strings, got {item!r}")
    return items


def _check_processors(values: object) -> tuple[Callable[[Any, str, Any], Any], ...]:
    if not isinstance(values, Iterable) or isinstance(values, (str, bytes)):
        raise ValueError(f"configure(processors=...) must be a list of callables, got {values!r}")
    items = tuple(values)
    for item in items:
        if not callable(item):
            raise ValueError(f"configure(processors=...) must hold callables, got {item!r}")
    return items


def _check_patterns(config: Config) -> None:
    """Raise ``ValueError`` for redaction patterns that cannot work, before they take effect."""
    if not config.redact_patterns:
        return
    from ._redact import Redactor

    for pattern in config.redact_patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"configure(redact_patterns=...): {pattern!r} is invalid: {exc}"
            ) from None
    try:
        # The patterns are joined into one expression, where a global flag like "(?i)"
        # that was fine alone is an error (Python 3.10 only warns, and then applies
        # the flag to every pattern: make that an error too).
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            Redactor(keys=config.redact_keys, patterns=config.redact_patterns)
    except (re.error, DeprecationWarning) as exc:
        raise ValueError(
            f"configure(redact_patterns=...): {exc}; write flags scoped, as '(?i:...)'"
        ) from None


_listeners: list[Callable[[], None]] = []


def on_change(listener: Callable[[], None]) -> None:
    """Call *listener* after every change of the settings."""
    _listeners.append(listener)


def reset_defaults() -> None:
    """Return to the settings taken from the environment at import (for tests)."""
    _apply(_from_env(os.environ))


def _apply(new: Config) -> None:
    _check_patterns(new)  # raises before anything changes
    # Mutate the one shared object so that modules holding a reference to CONFIG see it.
    for name in Config.__dataclass_fields__:
        setattr(CONFIG, name, getattr(new, name))
    for listener in _listeners:
        listener()
