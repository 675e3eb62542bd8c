"""Redaction: secrets in event payloads become ``[REDACTED]`` before anything is written.

:class:`Redactor` is a structlog processor (see :mod:`jsontrace.processors`).
It recognises secret *keys* (``api_key``, ``authorization``, ``password`` ...)
anywhere in a payload, and secret *shapes* inside strings (``sk-...``,
``Bearer ...``, URL passwords ...). The cost matters: every streamed chunk
passes through it, so each check is gated by cheap substring tests and the
careful walk runs only for payloads that may hold a secret.

Given the limits the renderer cuts to (``max_chars``, ``max_items``), its cost
follows what is written, not what the app passed: a string is scanned up to
:data:`CUT_MARGIN` characters past the cut, a list or dict up to ``max_items``
entries, and what lies beyond is left as it is for the renderer to cut.
"""

from __future__ import annotations

import itertools
import re
import string
import sys
from collections.abc import Iterable
from typing import Any

import orjson

from . import format as fmt
from ._serialize import default, key_text, to_jsonable

__all__ = ["CUT_MARGIN", "ENVELOPE", "REDACTED", "Redactor"]

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
# Not secrets though they end in "token": tokenizer settings ("eos_token": "</s>") and
# pagination cursors ("next_page_token", "nextPageToken", AWS's "NextToken",
# "ContinuationToken"), which a client sends back for the next page of results. Tokens
# that grant access ("access_token", "refresh_token", "id_token", "session_token")
# stay secret.
_HARMLESS_KEYS = re.compile(
    r"(?:^|[_.\-]|(?<=[a-z0-9])(?=[A-Z]))"
    r"(?ai:(?:bos|eos|pad|unk|sep|cls|mask|stop|page|next|continuation|pagination|resumption)"
    r"[_-]?token)\Z"
)

# -- token shapes in free text ----------------------------------------------------------
#
# Each pattern starts with a literal, never a look-behind, so that the regex engine
# jumps from one occurrence of the literal to the next instead of trying every
# position (with look-behinds, 100 kB of prose cost 40 ms). What the look-behind said,
# "not right after a letter or digit" (so "task-specific-..." holds no "sk-" key), is
# checked in Python on the few candidates. A plain `in` test of the literal comes
# first, so text without it costs one substring search per shape.
_ALNUM = frozenset(string.ascii_letters + string.digits)


class _Shape:
    """One token shape: two literals every match holds, and the pattern of the whole match."""

    __slots__ = ("anywhere", "candidates", "first", "pattern", "replacement", "second")

    def __init__(
        self,
        first: str,
        pattern: str,
        *,
        second: str = "",
        candidates: str | None = None,
        anywhere: bool = False,
        replacement: str = REDACTED,
    ) -> None:
        #: Tested with `in` before the pattern runs, in this order (in the lower-cased
        #: text when there are *candidates*). A single character first: that test is a
        #: memchr, the cheapest scan of a long text. "" for none.
        self.first = first
        self.second = second
        self.pattern = re.compile(pattern)
        #: For a pattern that ignores case: a pattern over the lower-cased text finding
        #: every place a match can start. A case-insensitive pattern has no literal
        #: prefix for the engine to jump to (2 ms per 100 kB of prose); this one has,
        #: and it passes over words such as "basic ideas" in C.
        self.candidates = None if candidates is None else re.compile(candidates)
        #: The match may follow a letter or digit.
        self.anywhere = anywhere
        self.replacement = replacement

    def search(self, text: str, low: str | None, pos: int = 0) -> re.Match[str] | None:
        """The first match at or after *pos*; *low* is ``text.lower()`` of the same length, or None."""
        while True:
            if self.candidates is not None and low is not None:
                candidate = self.candidates.search(low, pos)
                if candidate is None:
                    return None
                start = candidate.start()
                match = self.pattern.match(text, start)
                if match is None:
                    pos = start + 1
                    continue
            else:
                match = self.pattern.search(text, pos)
                if match is None:
                    return None
                start = match.start()
            if self.anywhere or start == 0 or text[start - 1] not in _ALNUM:
                return match
            pos = start + 1

    def sub(self, text: str, low: str | None) -> str:
        """*text* with every match replaced; the very same object when nothing matched."""
        pieces: list[str] = []
        last = 0
        match = self.search(text, low)
        while match is not None:
            pieces.append(text[last : match.start()])
            pieces.append(match.expand(self.replacement))
            last = match.end()
            match = self.search(text, low, last)
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)


_SHAPES = (
    # OpenAI, Anthropic ("sk-ant-..."), project keys
    _Shape("-", r"sk-[A-Za-z0-9_\-]{20,}", second="sk-"),
    # A bearer token must hold a digit or punctuation, so "the bearer instruments" stays.
    _Shape(
        "bearer",
        r"(?ai:bearer)\s+(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/])[A-Za-z0-9\-._~+/]{8,}=*",
        candidates=r"bearer\s+[a-z0-9\-._~+/]{8}",
    ),
    _Shape("_", r"gh[pousr]_[A-Za-z0-9]{30,}"),  # GitHub tokens
    _Shape("_", r"github_pat_[A-Za-z0-9_]{22,}", second="github_pat_"),  # fine-grained ones
    _Shape("-", r"xox[abposr]-[A-Za-z0-9\-]{10,}", second="xox"),  # Slack tokens
    # AWS access key ids (temporary ones too), Google API keys
    _Shape("A", r"A(?:[KS]IA[0-9A-Z]{16}|Iza[0-9A-Za-z\-_]{35})"),
    # HTTP Basic credentials: base64 holding a digit, "+", "/", "=" or a capital after
    # its first letter, so "basic knowledge" and "Basic Income" stay.
    _Shape(
        "basic",
        r"(?ai:basic)\s+(?=[A-Za-z0-9+/]*(?:[0-9+/=]|[A-Za-z0-9+/][A-Z]))[A-Za-z0-9+/]{8,}=*",
        candidates=r"basic\s+[a-z0-9+/]{8}",
    ),
    # The password in a URL: "https://user:[REDACTED]@host" (the user is kept).
    _Shape(
        "@",
        r"://([^\s/?#@:]{1,256}:)[^\s/?#@]{1,256}@",
        second="://",
        anywhere=True,
        replacement=r"://\1" + REDACTED + "@",
    ),
)


def _may_hold_shape(text: str) -> bool:
    """One character every shape holds, for each: False means no shape can be there."""
    return "-" in text or "_" in text or "A" in text or "@" in text or "b" in text or "B" in text


def _has_shape(text: str) -> bool:
    """Whether *text* holds one of the token shapes."""
    low = _lowered(text)
    for shape in _SHAPES:
        if shape.candidates is None:
            if shape.first in text and shape.second in text and shape.search(text, None):
                return True
        elif low is not None and shape.first in low and shape.search(text, _same(low, text)):
            return True
    return False


def _sub_shapes(text: str) -> str:
    """*text* with every token shape replaced; the very same object when there was none."""
    for shape in _SHAPES:
        if shape.candidates is None:
            if shape.first in text and shape.second in text:
                text = shape.sub(text, None)
        else:
            low = _lowered(text)  # again: an earlier shape may have changed the text
            if low is not None and shape.first in low:
                text = shape.sub(text, _same(low, text))
    return text


def _lowered(text: str) -> str | None:
    """``text.lower()`` if a shape that ignores case may be there (all hold a "b")."""
    return text.lower() if "b" in text or "B" in text else None


def _same(low: str, text: str) -> str | None:
    # str.lower() keeps the length but for a few letters ("İ" becomes two): then the
    # positions differ, and the shape's pattern searches the text on its own.
    return low if len(low) == len(text) else None


#: Characters scanned past the cut (``max_chars``): a secret that starts before the
#: cut and ends within the margin is redacted whole, so that cutting never leaves part
#: of it readable. Every built-in shape is shorter, or an unbounded run of key
#: characters that is redacted as far as it was scanned.
CUT_MARGIN = 1024

# -- the pre-check over a rendered dict or list ------------------------------------------
#
# It must find at least everything the exact checks find (a false alarm only costs the
# slow path), and cost well under a microsecond: Python's re pays per attempted
# position, so each part is anchored on bytes that are rare in ordinary values.
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
# Basic credentials as rendered JSON: the whitespace may be escaped or not ASCII.
_BASIC_JSON = re.compile(
    rb"(?i:basic)(?:\s|\\[tnr]|\\u[0-9a-fA-F]{4}|[\x80-\xff])+"
    rb"(?=[A-Za-z0-9+/]*(?:[0-9+/=]|[A-Za-z0-9+/][A-Z]))[A-Za-z0-9+/]{8,}"
)
# A URL with a password, as rendered JSON (quotes end the string).
_URL_PASSWORD_JSON = re.compile(rb'://[^\s/?#@:"]{1,256}:[^\s/?#@"]{1,256}@')
# As the renderer renders: numpy arrays are lists here too, not their repr.
_RENDER_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY

_SCALARS = (int, float, bool)
_CONTAINERS = (dict, list)
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
_NO_LIMIT = sys.maxsize


def _blank(value: Any) -> bool:
    """None or "": nothing a secret key could hide (never asks the value itself)."""
    return value is None or (type(value) is str and not value)


class Redactor:
    """Replace secrets by ``[REDACTED]`` and list the dotted paths of what was replaced.

    It runs on the event dict, before rendering, so that truncation can never
    cut a secret in two and leave half of it readable. Per payload field:

    * a string (every streamed token) is tested for the literals token shapes
      start with, and searched for the shapes only when one is there;
    * a dict or list (inputs, outputs, metadata) is rendered with orjson, which
      also converts objects such as pydantic models, and the bytes are
      pre-checked for anything that looks like a secret key or token; only on a
      hit is it parsed back and walked, every key and string;
    * numbers, booleans, None and empty containers cost nothing.

    Given *max_chars* and *max_items*, the limits the renderer cuts to, it
    scans only what will be written: strings up to :data:`CUT_MARGIN`
    characters past the cut, and the first *max_items* entries of a value
    whose rendering is too long to be written whole (walked, not pre-checked).
    Without them, everything is scanned.

    It never asks a value for its truth, length or equality (a numpy array
    answers those with an error): it looks only at types.

    Custom *patterns* cannot be pre-checked on JSON text reliably (escapes,
    anchors, Unicode classes differ), so with any of them every dict or list
    is walked and every string searched: a few microseconds more per event.
    """

    def __init__(
        self,
        *,
        keys: Iterable[str] = (),
        patterns: Iterable[str] = (),
        max_chars: int | None = None,
        max_items: int | None = None,
    ) -> None:
        extra_patterns = tuple(patterns)
        names = sorted({*(_SECRET_KEYS), *(k.lower() for k in keys)}, key=len, reverse=True)
        alternatives = "|".join(re.escape(name).replace("_", "[_-]?") for name in names)
        # Case-insensitive for the name, case-sensitive for the camelCase hump before it.
        self._key = re.compile(rf"(?:^|[_.\-]|(?<=[a-z0-9])(?=[A-Z]))(?ai:{alternatives})\Z")
        # The user's patterns, joined: one search per string (they cannot be gated).
        self._extra = (
            re.compile("|".join(f"(?:{p})" for p in extra_patterns)) if extra_patterns else None
        )
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
        #: No patterns of the user's: text without any of the one-character gates
        #: (``-``, ``_``, ``A``, ``@``, ``b``, ``B``) holds no secret.
        self.gated = not extra_patterns
        self._key_cache: dict[str, bool] = {}
        #: Strings are scanned up to here: the cut plus the margin.
        self._scan_chars = _NO_LIMIT if max_chars is None else max_chars + CUT_MARGIN
        #: Containers are scanned up to this many entries.
        self._max_items = _NO_LIMIT if max_items is None else max_items
        # A rendering shorter than this holds no string or list the renderer cuts (as in
        # Renderer: a character is one byte or more, a list item two), so pre-checking
        # it whole scans only what is written.
        self._whole_below = (
            _NO_LIMIT if max_chars is None or max_items is None else min(max_chars, 2 * max_items)
        )
        # Chunk events of this shape take the fast path; custom patterns cannot be
        # gated, so with any of them none does.
        self._chunk_shape = frozenset() if extra_patterns else _CHUNK_SHAPE

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
        if event_dict.keys() == self._chunk_shape:
            # The hottest event: one payload field, usually a short string token.
            chunk = event_dict[fmt.CHUNK_VALUE]
            kind = type(chunk)
            if kind is str:
                # _may_hold_shape() inlined: a hit goes the long way. Each test is a
                # memchr, so a long chunk costs little more here.
                if not (
                    "-" in chunk
                    or "_" in chunk
                    or "A" in chunk
                    or "@" in chunk
                    or "b" in chunk
                    or "B" in chunk
                ):
                    return event_dict
            elif chunk is None or kind in _SCALARS:
                return event_dict
        found: list[tuple[str, Any]] | None = None
        for key, value in event_dict.items():
            if value is None or key in _NOT_SCANNED:
                continue
            if key not in _PAYLOAD and not _blank(value) and self._is_secret_key(key):
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
            elif kind in _SCALARS or (kind in _CONTAINERS and not value):
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
                continue
            before = len(paths)
            scrubbed = self._scrub(value, key, paths)
            if len(paths) > before:
                # Only then: a false alarm of the pre-checks leaves the app's own value,
                # which the renderer writes (and cuts) exactly as with redaction off.
                event_dict[key] = scrubbed
        if paths:
            event_dict[fmt.REDACTED] = paths
        return event_dict

    def clean_value(self, value: Any) -> bool:
        """Whether a payload field holding *value* passes :meth:`__call__` unchanged.

        The same checks as the call makes of a field (a chunk, inputs, outputs),
        on the value alone: True means nothing in it is replaced (a False may
        still be a false alarm, which the call itself then finds).
        """
        kind = type(value)
        if kind is str:
            # The one-character gates of _may_hold_shape inlined (every streamed token
            # comes here); custom patterns cannot be gated.
            if self._extra is None and not (
                "-" in value
                or "_" in value
                or "A" in value
                or "@" in value
                or "b" in value
                or "B" in value
            ):
                return True
            return not self._in_text(value)
        if value is None or kind in _SCALARS or (kind in _CONTAINERS and not value):
            return True
        return self._suspect(value) is None

    def clean_fields(self, event_dict: dict[str, Any], fields: tuple[str, ...]) -> bool:
        """Whether *event_dict* passes :meth:`__call__` unchanged, when its payload is *fields*.

        For events whose other fields are all the library's own (``ENVELOPE``,
        the name and run type), which the call never scans.
        """
        for field in fields:
            value = event_dict[field]
            if value is None:
                continue
            kind = type(value)
            if kind is dict or kind is list:
                if not value:  # what costs nothing in clean_value, without calling it
                    continue
                if kind is dict and len(value) <= _DIRECT_ITEMS and not self._always:
                    # Most inputs and metadata: checked here, without clean_value's two calls.
                    verdict = self._check_flat(value)
                    if verdict is False:
                        continue
                    if verdict:
                        return False
                if not self.clean_value(value):  # not flat: rendered and checked as a whole
                    return False
                continue
            if kind in _SCALARS:
                continue
            if not self.clean_value(value):
                return False
        return True

    def _suspect(self, value: Any) -> Any:
        """*value* as plain data to walk if it may hold a secret, else None."""
        found = False
        if type(value) is dict and len(value) <= _DIRECT_ITEMS and not self._always:
            verdict = self._check_flat(value)
            if verdict is False:
                return None
            # True: a secret, found maybe before an entry that is not plain (a dataclass,
            # a tuple, an enum) and that _scrub could not walk as given: the value is
            # rendered first, as for None, so that what is walked is what is written.
            found = bool(verdict)
        try:
            rendered: bytes | None = orjson.dumps(value, default=default, option=_RENDER_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            rendered = None  # a cycle, a huge int...: walked below
        if rendered is not None and len(rendered) <= self._whole_below:
            if not found and not self._always and not self._may_hold_secret(rendered):
                return None
            return orjson.loads(rendered)
        # Too long to be written whole: the pre-check would scan what the renderer
        # drops. Walk what will be written instead, leaving the rest as it is.
        return to_jsonable(value, max_chars=None, max_items=self._max_items, keep_rest=True)

    def _check_flat(self, value: dict[Any, Any]) -> bool | None:
        """For a dict of plain values (inputs, metadata): whether it holds a secret.

        None when an entry is not plain (a nested container, an object): the
        caller then renders and pre-checks the whole value instead.
        """
        # _is_secret_key's cache and clean_value's one-character gates inlined: this runs
        # for the inputs of every call.
        cached = self._key_cache.get
        gated = self._extra is None
        for key, item in value.items():
            # The cache holds string keys only (a verdict is about the key's text): a key
            # found there equals one (a str-valued enum member too, written as that text).
            secret = cached(key)
            if secret is None:
                if type(key) is not str:
                    return None
                secret = self._is_secret_key(key)
            if item is None:
                continue
            kind = type(item)
            if kind is str:
                # The same rule as _scrub: anything but None or "" under a secret key.
                if item and secret:
                    return True
                if gated and not (
                    "-" in item
                    or "_" in item
                    or "A" in item
                    or "@" in item
                    or "b" in item
                    or "B" in item
                ):
                    continue
                if self._in_text(item):
                    return True
            elif kind is int or kind is float or kind is bool:
                if secret:
                    return True
            else:
                return None
        return False

    def _in_text(self, text: str) -> bool:
        """Whether free text holds something shaped like a secret, as far as it is written."""
        if len(text) > self._scan_chars:
            text = text[: self._scan_chars]
        if self._extra is not None and self._extra.search(text) is not None:
            return True
        # The one-character gates first: most short text stops there, and for long text
        # they are what _has_shape would test first anyway.
        return _may_hold_shape(text) and _has_shape(text)

    def _is_secret_key(self, key: object) -> bool:
        # Keys that are not strings (``{0: ...}``, an enum) are judged by the name written.
        key = key if type(key) is str else key_text(key)
        verdict = self._key_cache.get(key)
        if verdict is None:
            verdict = self._key.search(key) is not None and _HARMLESS_KEYS.search(key) is None
            if len(self._key_cache) >= _KEY_CACHE_SIZE:
                self._key_cache.clear()
            self._key_cache[key] = verdict
        return verdict

    def _scrub_text(self, text: str) -> str:
        """*text* with every secret shape replaced; the very same object when there was none."""
        if self._extra is not None:
            replaced, count = self._extra.subn(REDACTED, text)
            if count:
                text = replaced
        return _sub_shapes(text)

    def _scrub_str(self, text: str) -> str:
        """:meth:`_scrub_text` of what will be written, the rest left as it is."""
        scan = self._scan_chars
        if len(text) <= scan:
            return self._scrub_text(text)
        end = scan
        while True:
            piece = text[:end]
            head = self._scrub_text(piece)
            # Redactions shorten the head; scan on until the margin past the cut is
            # scanned text again, so the renderer's cut never reaches unscanned text.
            if len(head) >= scan or end >= len(text):
                break
            end += scan - len(head)
        return text if head is piece else head + text[end:]

    def _scrub(self, value: Any, path: str, paths: list[str]) -> Any:
        if isinstance(value, str):
            scrubbed = self._scrub_str(value)
            if scrubbed != value:
                paths.append(path)
            return scrubbed
        if isinstance(value, dict):
            out = {}
            entries = iter(value.items())
            for key, item in itertools.islice(entries, self._max_items):
                name = key if type(key) is str else key_text(key)  # as the file names it
                where = f"{path}.{name}"
                if not _blank(item) and self._is_secret_key(name):
                    out[key] = REDACTED
                    paths.append(where)
                else:
                    out[key] = self._scrub(item, where, paths)
            out.update(entries)  # past max_items: cut by the renderer, never written
            return out
        if isinstance(value, list):
            scanned = value[: self._max_items]
            if _is_pair_list(scanned):  # headers as [name, value] pairs
                out_list = [
                    self._scrub_pair(item, f"{path}[{i}]", paths) for i, item in enumerate(scanned)
                ]
            else:
                out_list = [
                    self._scrub(item, f"{path}[{i}]", paths) for i, item in enumerate(scanned)
                ]
            out_list.extend(value[self._max_items :])
            return out_list
        return value

    def _scrub_pair(self, pair: list[Any], path: str, paths: list[str]) -> list[Any]:
        name, item = pair
        if not _blank(item) and self._is_secret_key(name):
            paths.append(f"{path}[1]")
            return [name, REDACTED]
        # The name is text too (a row of a frame looks like a pair): scanned like any string.
        return [self._scrub(name, f"{path}[0]", paths), self._scrub(item, f"{path}[1]", paths)]


def _is_pair_list(value: list[Any]) -> bool:
    """Whether *value* is a list of ``[name, value]`` pairs, as headers often are."""
    return all(type(item) is list and len(item) == 2 and type(item[0]) is str for item in value)
