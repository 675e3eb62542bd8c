"""Redaction: secrets in event payloads become ``[REDACTED]`` before anything is written.

:class:`Redactor` is a structlog processor (see :mod:`jsontrace.processors`).
It recognises secret *keys* (``api_key``, ``authorization``, ``password`` ...)
anywhere in a payload, and secret *shapes* inside strings (``sk-...``,
``Bearer ...``, URL passwords ...). The cost matters: every streamed chunk
passes through it, so each check is gated by cheap substring tests and the
careful walk runs only for payloads that may hold a secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from . import format as fmt
from ._serialize import default, to_jsonable

__all__ = ["ENVELOPE", "REDACTED", "Redactor"]

REDACTED = "[REDACTED]"

#: Keys of ours that hold no user data: never scanned, never truncated.
ENVELOPE = frozenset(
    {
        fmt.EVENT,
        fmt.RUN_ID,
        fmt.TRACE_ID,
        fmt.VERSION,
        fmt.TS,
        fmt.PARENT_RUN_ID,
        fmt.PID,
        fmt.HOST,
        fmt.CHUNK_SEQ,
        fmt.STATUS,
        fmt.CHUNK_COUNT,
        fmt.DURATION_MS,
        fmt.FIRST_CHUNK_MS,
        fmt.REDACTED,
    }
)

# Key names whose values are secrets: matched against the end of a key, after a "_",
# "-" or "." or a camelCase hump, so "openai_api_key", "X-Api-Key" and "openaiApiKey"
# match but "max_tokens", "prompt_tokens" and "token_count" do not. An "_" in a name
# also matches "-" or nothing ("api_key" matches "apiKey").
_SECRET_KEYS = (
    "api_key",
    "auth",  # requests' auth=(user, password)
    "authorization",
    "password",
    "passwd",
    "passphrase",
    "secret",
    "secret_key",
    "access_key",
    "private_key",
    "token",
    "cookie",
    "credentials",
)
# Tokenizer settings, not secrets: "eos_token": "</s>" stays readable.
_HARMLESS_KEYS = re.compile(r"(?ai:(?:bos|eos|pad|unk|sep|cls|mask|stop)[_-]?token)\Z")
# Shapes of tokens inside free text.
# Each starts at a word boundary, so "task-specific-fine-tuning" is not an "sk-" key;
# a bearer token must hold a digit or punctuation, so "the bearer instruments" stays.
_SECRET_PATTERNS = (
    r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{20,}",  # OpenAI, Anthropic ("sk-ant-..."), project keys
    r"(?<![A-Za-z0-9])(?i:bearer)\s+(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/])[A-Za-z0-9\-._~+/]{8,}=*",
    r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{22,}",  # GitHub fine-grained tokens
    r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9\-]{10,}",  # Slack tokens
    r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}",  # AWS access key ids
    r"(?<![A-Za-z0-9])AIza[0-9A-Za-z\-_]{35}",  # Google API keys
)
# Two more shapes, each searched only when a plain substring test says it may be there:
# inside the one combined expression they tripled the cost of every streamed token.
#
# HTTP Basic credentials: base64 holding a digit, "+", "/", "=" or a capital after its
# first letter, so "basic knowledge" and "Basic Income" stay. Gate: "asic" or "ASIC".
_BASIC_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9])(?i:basic)\s+(?=[A-Za-z0-9+/]*(?:[0-9+/=]|[A-Za-z0-9+/][A-Z]))"
    r"[A-Za-z0-9+/]{8,}=*"
)
# The password in a URL: "https://user:[REDACTED]@host" (the user is kept). Gate: "://".
_URL_PASSWORD = re.compile(r"(?<=://)([^\s/?#@:]{1,256}:)[^\s/?#@]{1,256}(?=@)")
# The pre-check over a rendered dict or list value. It must find at least everything
# the exact checks find (a false alarm only costs the slow path), and cost well under
# a microsecond: Python's re pays per attempted position, so each part is anchored on
# bytes that are rare in ordinary values.
#
# Token shapes ending in "-" or "_", searched in the reversed, lower-cased text:
# anchored on the "-" or "_", then the letters before it.
_REVERSED_SHAPES = (b"-ks", b"-[abposr]xox", b"_[pousr]hg", b"_tap_buhtig")
# Shapes with a capital first letter, searched case-sensitively as the patterns are.
_CAPITAL_SHAPES = re.compile(rb"A(?:[KS]IA|Iza)")
# "bearer" and "basic" alone: the whitespace after them may be JSON-escaped ("\\t") or
# not ASCII.
_BEARER = b"bearer"
_BASIC = b"basic"
_KEEP_USER = r"\1" + REDACTED
# Basic credentials as rendered JSON: the whitespace may be escaped or not ASCII.
_BASIC_JSON = re.compile(
    rb"(?i:basic)(?:\s|\\[tnr]|\\u[0-9a-fA-F]{4}|[\x80-\xff])+"
    rb"(?=[A-Za-z0-9+/]*(?:[0-9+/=]|[A-Za-z0-9+/][A-Z]))[A-Za-z0-9+/]{8,}"
)
# A URL with a password, as rendered JSON (quotes end the string).
_URL_PASSWORD_JSON = re.compile(rb'://[^\s/?#@:"]{1,256}:[^\s/?#@"]{1,256}@')
_SCALARS = (int, float, bool)
# The keys of a run.chunk event exactly as the library writes it.
_CHUNK_SHAPE = frozenset(
    {fmt.EVENT, fmt.RUN_ID, fmt.TRACE_ID, fmt.VERSION, fmt.TS, fmt.CHUNK_SEQ, fmt.CHUNK_VALUE}
)
# Fields the redactor never scans: ours, or names rather than data.
_NOT_SCANNED = ENVELOPE | {fmt.NAME, fmt.RUN_TYPE}
# The payload fields jsontrace writes; any other field was added by a user processor,
# and its own name is checked like a key inside a payload.
_PAYLOAD = frozenset(
    {
        fmt.INPUTS,
        fmt.OUTPUTS,
        fmt.CHUNK_VALUE,
        fmt.METADATA,
        fmt.ERROR,
        fmt.TAGS,
        fmt.TRACE_WARNINGS,
    }
)
_WHOLE: Any = object()  # marks a field redacted as a whole
# Key verdicts are cached (parameter names repeat on every call); cleared when large.
_KEY_CACHE_SIZE = 4096
# A dict with at most this many plain entries is checked directly, key by key.
_DIRECT_ITEMS = 32
# Limits for making a value plain data before scanning it: none that matter (the
# Renderer truncates afterwards; redacting first means no secret is cut in two).
_SCAN_CHARS = _SCAN_ITEMS = 1 << 62


class Redactor:
    """Replace secrets by ``[REDACTED]`` and list the dotted paths of what was replaced.

    It runs on the event dict, before rendering, so that truncation can never
    cut a secret in two and leave half of it readable. Per payload field:

    * a string (every streamed token) is searched once with the exact token
      patterns;
    * a dict or list (inputs, outputs, metadata) is rendered with orjson, which
      also converts objects such as pydantic models, and the bytes are
      pre-checked for anything that looks like a secret key or token; only on a
      hit is it parsed back and walked, every key and string;
    * numbers, booleans, None and empty containers cost nothing.

    Custom *patterns* cannot be pre-checked on JSON text reliably (escapes,
    anchors, Unicode classes differ), so with any of them every dict or list
    is walked: a few microseconds more per event.
    """

    def __init__(self, *, keys: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        extra_patterns = tuple(patterns)
        names = sorted({*(_SECRET_KEYS), *(k.lower() for k in keys)}, key=len, reverse=True)
        alternatives = "|".join(re.escape(name).replace("_", "[_-]?") for name in names)
        # Case-insensitive for the name, case-sensitive for the camelCase hump before it.
        self._key = re.compile(rf"(?:^|[_.\-]|(?<=[a-z0-9])(?=[A-Z]))(?ai:{alternatives})\Z")
        self._text = re.compile("|".join(f"(?:{p})" for p in (*_SECRET_PATTERNS, *extra_patterns)))
        # In the reversed text a key reads ':"yek_ipa...': anchored on ':"', which only
        # ends keys (inside strings a quote is escaped). The exact check is in _scrub.
        reversed_names = b"|".join(
            re.escape(orjson.dumps(name)[1:-1][::-1]).replace(b"_", b"[_-]?") for name in names
        )
        self._reversed_gate = re.compile(
            b':"(?:' + reversed_names + b")|" + b"|".join(_REVERSED_SHAPES)
        )
        # A header pair inside a list of pairs: '[["x-api-key","...' or ',["x-api-key",...'.
        # Searched only when the text holds a list in a list (a plain list of strings
        # such as a generator's outputs would make every '","' a candidate).
        forward_names = b"|".join(
            re.escape(orjson.dumps(name)[1:-1]).replace(b"_", b"[_-]?") for name in names
        )
        self._pair_gate = re.compile(b'[\\[,]\\["[^"]{0,64}?(?:' + forward_names + b')",')
        self._always = bool(extra_patterns)
        self._key_cache: dict[str, bool] = {}

    def _may_hold_secret(self, rendered: bytes) -> bool:
        lowered = rendered.lower()
        return (
            self._reversed_gate.search(lowered[::-1]) is not None
            or _BEARER in lowered
            or _CAPITAL_SHAPES.search(rendered) is not None
            or (_BASIC in lowered and _BASIC_JSON.search(rendered) is not None)
            or (b"@" in rendered and _URL_PASSWORD_JSON.search(rendered) is not None)
            or (
                (b'[["' in lowered or b',["' in lowered)
                and self._pair_gate.search(lowered) is not None
            )
        )

    def __call__(self, _logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        if event_dict.keys() == _CHUNK_SHAPE:
            # The hottest event: one payload field, usually a short string token.
            chunk = event_dict[fmt.CHUNK_VALUE]
            if type(chunk) is str:
                # _in_text() inlined, and only its cheap gates: a hit goes the long way.
                if (
                    self._text.search(chunk) is None
                    and "://" not in chunk
                    and "asic" not in chunk
                    and "ASIC" not in chunk
                ):
                    return event_dict
            elif chunk is None or type(chunk) in _SCALARS:
                return event_dict
        found: list[tuple[str, Any]] | None = None
        for key, value in event_dict.items():
            if value is None or key in _NOT_SCANNED:
                continue
            if key not in _PAYLOAD and value != "" and self._is_secret_key(key):
                # A field a user processor added under a secret name: gone whole, as a
                # secret key's value is inside a payload.
                if found is None:
                    found = []
                found.append((key, _WHOLE))
                continue
            kind = type(value)
            if kind is str:
                if not self._in_text(value):
                    continue
            elif kind in _SCALARS or not value:
                continue
            else:
                value = self._suspect(value)
                if value is None:
                    continue
            if found is None:
                found = []
            found.append((key, value))
        if found is None:
            return event_dict
        paths: list[str] = []
        for key, value in found:
            if value is _WHOLE:
                event_dict[key] = REDACTED
                paths.append(key)
            else:
                event_dict[key] = self._scrub(value, key, paths)
        if paths:
            event_dict[fmt.REDACTED] = paths
        return event_dict

    def _suspect(self, value: Any) -> Any:
        """*value* as plain JSON data if it may hold a secret, else None."""
        if type(value) is dict and len(value) <= _DIRECT_ITEMS and not self._always:
            verdict = self._check_flat(value)
            if verdict is not None:
                return value if verdict else None
        try:
            rendered = orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            # A cycle, a huge int...: the careful walk makes it plain data first.
            value = to_jsonable(value, max_chars=_SCAN_CHARS, max_items=_SCAN_ITEMS)
            rendered = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        if not self._always and not self._may_hold_secret(rendered):
            return None
        return orjson.loads(rendered)

    def _check_flat(self, value: dict[Any, Any]) -> bool | None:
        """For a dict of plain values (inputs, metadata): whether it holds a secret.

        None when an entry is not plain (a nested container, an object): the
        caller then renders and pre-checks the whole value instead.
        """
        for key, item in value.items():
            if type(key) is not str:
                return None
            kind = type(item)
            if item is None or kind in _SCALARS:
                # The same rule as _scrub: anything but None or "" under a secret key.
                if item is not None and self._is_secret_key(key):
                    return True
                continue
            if kind is not str:
                return None
            if (item and self._is_secret_key(key)) or self._in_text(item):
                return True
        return False

    def _in_text(self, text: str) -> bool:
        """Whether free text holds something shaped like a secret."""
        return (
            self._text.search(text) is not None
            or ("://" in text and _URL_PASSWORD.search(text) is not None)
            or (("asic" in text or "ASIC" in text) and _BASIC_CREDENTIALS.search(text) is not None)
        )

    def _is_secret_key(self, key: str) -> bool:
        verdict = self._key_cache.get(key)
        if verdict is None:
            verdict = self._key.search(key) is not None and _HARMLESS_KEYS.search(key) is None
            if len(self._key_cache) >= _KEY_CACHE_SIZE:
                self._key_cache.clear()
            self._key_cache[key] = verdict
        return verdict

    def _scrub(self, value: Any, path: str, paths: list[str]) -> Any:
        if isinstance(value, str):
            scrubbed = self._text.sub(REDACTED, value)
            if "://" in scrubbed:
                scrubbed = _URL_PASSWORD.sub(_KEEP_USER, scrubbed)
            if "asic" in scrubbed or "ASIC" in scrubbed:
                scrubbed = _BASIC_CREDENTIALS.sub(REDACTED, scrubbed)
            if scrubbed != value:
                paths.append(path)
            return scrubbed
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                where = f"{path}.{key}"
                if item not in (None, "") and self._is_secret_key(key):
                    out[key] = REDACTED
                    paths.append(where)
                else:
                    out[key] = self._scrub(item, where, paths)
            return out
        if isinstance(value, list):
            if _is_pair_list(value):  # headers as [name, value] pairs
                return [
                    self._scrub_pair(item, f"{path}[{i}]", paths) for i, item in enumerate(value)
                ]
            return [self._scrub(item, f"{path}[{i}]", paths) for i, item in enumerate(value)]
        return value

    def _scrub_pair(self, pair: list[Any], path: str, paths: list[str]) -> list[Any]:
        name, item = pair
        if item not in (None, "") and self._is_secret_key(name):
            paths.append(f"{path}[1]")
            return [name, REDACTED]
        return [name, self._scrub(item, f"{path}[1]", paths)]


def _is_pair_list(value: list[Any]) -> bool:
    """Whether *value* is a list of ``[name, value]`` pairs, as headers often are."""
    return all(type(item) is list and len(item) == 2 and type(item[0]) is str for item in value)
