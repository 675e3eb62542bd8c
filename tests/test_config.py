"""Configuration: defaults, environment variables, and configure() validation."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import jsontrace
from jsontrace import _config
from jsontrace._config import CONFIG, Config


def from_env(**env: str) -> tuple[Config, list[str]]:
    """The configuration the environment *env* gives, and the warnings it raised."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        config = _config._from_env(env)
    return config, [
        str(w.message) for w in seen if issubclass(w.category, jsontrace.JsonTraceWarning)
    ]


def test_defaults() -> None:
    """Without environment: ./logs, on, 64 MiB segments, keep all, 100k chars, 10k items, redact."""
    config, warned = from_env()
    assert (
        Config(
            dir=Path("logs").absolute(),
            enabled=True,
            max_bytes=64 * 1024 * 1024,
            max_segments=None,
            max_chars=100_000,
            max_items=10_000,
            redact=True,
        )
        == config
    )
    assert [] == warned


@pytest.mark.parametrize(
    ("env", "field", "expected"),
    [
        ({"JSONTRACE_DIR": "/var/traces"}, "dir", Path("/var/traces")),
        ({"JSONTRACE_DIR": "  "}, "dir", Path("logs").absolute()),
        ({"JSONTRACE_ENABLED": "0"}, "enabled", False),
        ({"JSONTRACE_ENABLED": " Off "}, "enabled", False),
        ({"JSONTRACE_ENABLED": "yes"}, "enabled", True),
        ({"JSONTRACE_REDACT": "false"}, "redact", False),
        ({"JSONTRACE_REDACT": "1"}, "redact", True),
        ({"JSONTRACE_MAX_BYTES": "1048576"}, "max_bytes", 1048576),
        ({"JSONTRACE_MAX_BYTES": "64M"}, "max_bytes", 64 * 1024**2),
        ({"JSONTRACE_MAX_BYTES": "8k"}, "max_bytes", 8 * 1024),
        ({"JSONTRACE_MAX_BYTES": "2G"}, "max_bytes", 2 * 1024**3),
    ],
)
def test_valid_environment_values(env: dict[str, str], field: str, expected: Any) -> None:
    """Each variable sets its field, silently."""
    config, warned = from_env(**env)
    assert expected == getattr(config, field)
    assert [] == warned


@pytest.mark.parametrize(
    ("name", "value", "field", "default"),
    [
        ("JSONTRACE_ENABLED", "maybe", "enabled", True),
        ("JSONTRACE_REDACT", "", "redact", True),
        ("JSONTRACE_MAX_BYTES", "lots", "max_bytes", 64 * 1024 * 1024),
        ("JSONTRACE_MAX_BYTES", "-5", "max_bytes", 64 * 1024 * 1024),
        ("JSONTRACE_MAX_BYTES", "0", "max_bytes", 64 * 1024 * 1024),
        ("JSONTRACE_MAX_BYTES", "1.5M", "max_bytes", 64 * 1024 * 1024),
        ("JSONTRACE_MAX_BYTES", "", "max_bytes", 64 * 1024 * 1024),
    ],
)
def test_invalid_environment_values_warn_and_use_the_default(
    name: str, value: str, field: str, default: Any
) -> None:
    """A typo in an environment variable warns (naming it) and falls back to the default."""
    config, warned = from_env(**{name: value})
    assert default == getattr(config, field)
    assert 1 == len(warned)
    assert name in warned[0]


def test_reset_defaults_rereads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """reset_defaults() returns to what the environment says now."""
    monkeypatch.setenv("JSONTRACE_MAX_BYTES", "1k")
    jsontrace.configure(max_chars=5)
    jsontrace.reset_defaults()
    assert (1024, 100_000) == (CONFIG.max_bytes, CONFIG.max_chars)


def test_configure_changes_only_what_it_is_given() -> None:
    """Arguments left as None keep their values."""
    jsontrace.configure(max_chars=10, redact_keys=["ssn"])
    jsontrace.configure(max_items=20)
    assert (10, 20, ("ssn",)) == (CONFIG.max_chars, CONFIG.max_items, CONFIG.redact_keys)


def test_configure_accepts_paths_and_iterables(tmp_path: Path) -> None:
    """dir takes str or PathLike; key and pattern lists take any iterable of strings."""
    jsontrace.configure(dir=str(tmp_path), redact_keys=(k for k in ["a"]), redact_patterns={"x\\d"})
    assert (tmp_path, ("a",), ("x\\d",)) == (CONFIG.dir, CONFIG.redact_keys, CONFIG.redact_patterns)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_bytes": 0}, "max_bytes=...) must be an int >= 1, got 0"),
        ({"max_bytes": -1}, "max_bytes=...) must be an int >= 1, got -1"),
        ({"max_bytes": True}, "max_bytes=...) must be an int >= 1, got True"),
        ({"max_bytes": "64M"}, "max_bytes=...) must be an int >= 1, got '64M'"),
        ({"max_chars": 1.5}, "max_chars=...) must be an int >= 1, got 1.5"),
        ({"max_items": 0}, "max_items=...) must be an int >= 1, got 0"),
        ({"max_segments": -1, "max_items": 5}, "max_segments=...) must be an int >= 0, got -1"),
        ({"enabled": "no"}, "enabled=...) must be True or False, got 'no'"),
        ({"redact": 0}, "redact=...) must be True or False, got 0"),
        ({"redact_keys": "session"}, "redact_keys=...) must be a list of strings, got 'session'"),
        ({"redact_keys": [""]}, "redact_keys=...) must hold non-empty strings, got ''"),
        ({"redact_keys": [3]}, "redact_keys=...) must hold non-empty strings, got 3"),
        ({"redact_patterns": "abc"}, "redact_patterns=...) must be a list of strings, got 'abc'"),
        ({"redact_patterns": ["("]}, "redact_patterns=...): '(' is invalid"),
        ({"redact_patterns": ["(?i)secret"]}, "write flags scoped, as '(?i:...)'"),
        ({"dir": ""}, "dir=...) must be a non-empty path, got ''"),
        ({"dir": 3}, "dir=...) must be a non-empty path, got 3"),
    ],
)
def test_invalid_configure_arguments_raise_and_change_nothing(
    kwargs: dict[str, Any], message: str
) -> None:
    """A setting that can never work raises ValueError naming it; the configuration stays."""
    before = _config.replace(CONFIG)
    with pytest.raises(ValueError, match=re.escape(message)):
        jsontrace.configure(**{"max_segments": 7, **kwargs})
    assert before == CONFIG


def test_a_bad_environment_value_never_stops_the_app_under_w_error() -> None:
    """With -W error, an invalid JSONTRACE_ENABLED still lets `from jsontrace import traceable` work."""
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", "from jsontrace import traceable; print('ok')"],
        env={**os.environ, "JSONTRACE_ENABLED": "maybe"},
        capture_output=True,
        text=True,
    )
    assert ("ok", 0) == (done.stdout.strip(), done.returncode), done.stderr


def test_relative_directory_is_fixed_at_configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative dir is made absolute when set: a later chdir does not move where files go."""
    monkeypatch.chdir(tmp_path)
    jsontrace.configure(dir="rel-logs")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    jsontrace.traceable(lambda: 1)()
    assert 1 == len(list((tmp_path / "rel-logs").glob("*.jsonl")))
    assert not (tmp_path / "elsewhere" / "rel-logs").exists()
