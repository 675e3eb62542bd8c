"""A small query language over runs: what the viewer's ``/`` search understands.

::

    query = parse("type:llm latency>2s age<1h")     # QueryError (one line) when malformed
    query.matches(run, now=time.time())              # one RunRecord
    query.find(root, now=now)                        # the matching runs of a trace, in tree order

Terms are separated by spaces and must all hold for the same run (AND):

=====================  =====================================================
``status:error``       status is one of running, ok, error, cancelled, interrupted
``type:llm``           run type (``chain``, ``llm``, ``tool``, ``retriever``, ...)
``name:retr*``         name; ``*`` and ``?`` are wildcards, case does not matter
``tag:beta``           one of the tags (wildcards too)
``id:01a2``            run id or trace id starts with this
``model:gpt-4o*``      an llm call's model (wildcards too)
``latency>2s``         duration (also ``duration``); ``>`` ``>=`` ``<`` ``<=`` ``=``;
                       units ms, s, m, h, d (a bare number is seconds)
``age<1h``             started less than an hour before now
``ttft>500ms``         time to the first streamed chunk
``chunks>=10``         number of streamed chunks
``tokens>1000``        an llm call's tokens, prompt and generated
``hello``              free text: name, type, error, inputs, outputs (any case);
                       ``"two words"`` for a phrase
=====================  =====================================================

``a,b`` after a field matches either value (``status:error,cancelled``), and a
leading ``-`` negates a term (``-status:ok``). An empty query matches every run.

Nothing here imports Textual: the viewer runs queries in a worker thread, and
scripts can use the same language.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Final

from .store import CANCELLED, ERROR, INTERRUPTED, OK, RUNNING

if TYPE_CHECKING:
    from .store import RunRecord

__all__ = ["FIELDS", "METRICS", "Query", "QueryError", "parse"]

STATUSES: Final = (RUNNING, OK, ERROR, CANCELLED, INTERRUPTED)
#: Fields written ``field:value``.
FIELDS: Final = ("status", "type", "name", "tag", "id", "model")
#: Numbers compared with ``>``, ``>=``, ``<``, ``<=`` or ``=``; the aliases map to one metric.
METRICS: Final = ("latency", "age", "ttft", "chunks", "tokens")
_ALIASES: Final = {"duration": "latency", "first_chunk": "ttft"}
_DURATIONS: Final = frozenset({"latency", "age", "ttft"})
_UNITS_MS: Final = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0, "d": 86_400_000.0}
_OPS: Final[dict[str, Callable[[float, float], bool]]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
}
_COMPARISON = re.compile(r"^([a-z_]+):?(>=|<=|>|<|=)(.*)$")
_AMOUNT = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)([a-z]*)$")


class QueryError(ValueError):
    """A query that cannot be parsed; ``str()`` is one line saying what is wrong and what to do."""


#: Whether a term holds for a run; *text* gives the run's lower-cased searchable text.
_Test = Callable[["RunRecord", float, Callable[["RunRecord"], str]], bool]


@dataclass(frozen=True)
class _Term:
    source: str
    test: _Test
    negated: bool
    reads_values: bool  # needs inputs/outputs/tags, which may have to be read from the files

    def holds(self, run: RunRecord, now: float, text: Callable[[RunRecord], str]) -> bool:
        return self.test(run, now, text) is not self.negated


@dataclass(frozen=True)
class Query:
    """A parsed query: every term must hold (see the module docstring for the language)."""

    text: str
    terms: tuple[_Term, ...] = ()

    @property
    def empty(self) -> bool:
        """True for a query without terms (it matches every run)."""
        return not self.terms

    @property
    def reads_values(self) -> bool:
        """Whether matching needs a run's values (free text, tags), not only its index fields."""
        return any(term.reads_values for term in self.terms)

    def matches(
        self, run: RunRecord, *, now: float, text: Callable[[RunRecord], str] | None = None
    ) -> bool:
        """Whether every term holds for *run*; *now* (epoch seconds) is for ``age`` and running durations.

        *text* returns the lower-cased text free-text terms search (default:
        :meth:`RunRecord.text`); index-field terms are checked first, so it is
        called only for runs that pass them.
        """
        get_text = text or _run_text
        return all(term.holds(run, now, get_text) for term in self.terms)

    def find(
        self, root: RunRecord, *, now: float, text: Callable[[RunRecord], str] | None = None
    ) -> list[RunRecord]:
        """The runs of *root*'s tree that match, depth first, children in start order."""
        return [run for run in root.walk() if self.matches(run, now=now, text=text)]

    def any_match(
        self, root: RunRecord, *, now: float, text: Callable[[RunRecord], str] | None = None
    ) -> bool:
        """Whether some run of *root*'s tree matches (stops at the first)."""
        return any(self.matches(run, now=now, text=text) for run in root.walk())


def _run_text(run: RunRecord) -> str:
    return run.text()


def parse(text: str) -> Query:
    """Parse a query; raises :class:`QueryError` with a one-line message when it is malformed."""
    terms = [_term(word) for word in _words(text)]
    # Cheap index tests first: free text reads (and lower-cases) whole values.
    terms.sort(key=lambda term: term.reads_values)
    return Query(text.strip(), tuple(terms))


def _words(text: str) -> Iterator[str]:
    """Split on whitespace outside double quotes; the quotes stay in each word (see :func:`_term`)."""
    word: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            if word:
                yield "".join(word)
            word = []
            continue
        word.append(char)
    if quoted:
        raise QueryError('a " is not closed: close the phrase with another "')
    if word:
        yield "".join(word)


_FIELD_NAME = re.compile(r"[a-z_]+")


def _term(word: str) -> _Term:
    negated = word.startswith("-") and len(word) > 1
    body = word[1:] if negated else word
    if body in ("", "-", '""'):
        raise QueryError(f"{word!r} searches for nothing: put a field or text after it")
    if '"' in body:  # a phrase is text, also one that looks like a field; or a field's quoted value
        head = body.partition('"')[0]
        unquoted = body.replace('"', "")
        if head.endswith(":") and _FIELD_NAME.fullmatch(head[:-1]):
            return _field(word, head[:-1], unquoted[len(head) :], negated)
        return _free_text(word, unquoted, negated)
    comparison = _COMPARISON.match(body)
    if comparison is not None and _metric(comparison.group(1)) is not None:
        return _compare(
            word, comparison.group(1), comparison.group(2), comparison.group(3), negated
        )
    field, colon, value = body.partition(":")
    if colon and _FIELD_NAME.fullmatch(field):
        return _field(word, field, value, negated)
    if comparison is not None and _FIELD_NAME.fullmatch(comparison.group(1)):
        raise _unknown(comparison.group(1), word)
    return _free_text(word, body, negated)


def _metric(name: str) -> str | None:
    name = _ALIASES.get(name, name)
    return name if name in METRICS else None


def _unknown(name: str, word: str) -> QueryError:
    near = [f for f in (*FIELDS, *METRICS, *_ALIASES) if f.startswith(name[:2])]
    hint = f"did you mean {near[0]}? " if near else ""
    return QueryError(
        f"unknown field {name!r} in {word!r}: {hint}fields are {', '.join(FIELDS)};"
        f' numbers {", ".join(METRICS)}; quote it ("{word}") to search the text'
    )


def _field(word: str, field: str, value: str, negated: bool) -> _Term:
    if field in METRICS or field in _ALIASES:
        raise QueryError(
            f"{field} compares a number: write {field}>2s or {field}<100ms, not {word!r}"
        )
    values = [v.lower() for v in value.split(",") if v]
    if not values:
        raise QueryError(f"{word!r} has no value: write {field}:something")
    if field == "status":
        unknown = [v for v in values if v not in STATUSES]
        if unknown:
            raise QueryError(f"unknown status {unknown[0]!r}: statuses are {', '.join(STATUSES)}")
        wanted = frozenset(values)
        return _Term(word, lambda run, now, text: run.status in wanted, negated, False)
    if field == "type":
        return _Term(word, lambda run, now, text: _globs(values, [run.run_type]), negated, False)
    if field == "name":
        return _Term(word, lambda run, now, text: _globs(values, [run.name]), negated, False)
    if field == "tag":
        return _Term(word, lambda run, now, text: _globs(values, run.tags), negated, True)
    if field == "id":
        return _Term(word, lambda run, now, text: _id_starts(run, values), negated, False)
    if field == "model":
        return _Term(word, lambda run, now, text: _globs(values, [run.model or ""]), negated, True)
    raise _unknown(field, word)


def _globs(patterns: Sequence[str], candidates: Sequence[str]) -> bool:
    return any(fnmatchcase(c.lower(), p) for c in candidates for p in patterns)


def _id_starts(run: RunRecord, prefixes: Sequence[str]) -> bool:
    ids = (run.run_id.lower(), run.trace_id.lower())
    return any(i.startswith(p) for i in ids for p in prefixes)


def _compare(word: str, name: str, op: str, amount: str, negated: bool) -> _Term:
    metric = _metric(name)
    assert metric is not None  # checked by the caller
    limit = _amount(word, metric, amount)
    compare = _OPS[op]
    value = _VALUES[metric]

    def test(run: RunRecord, now: float, text: Callable[[RunRecord], str]) -> bool:
        got = value(run, now)
        return got is not None and compare(got, limit)

    # Token counts are in the end event's usage object, a value rather than an index field.
    return _Term(word, test, negated, metric == "tokens")


def _amount(word: str, metric: str, amount: str) -> float:
    found = _AMOUNT.match(amount.strip().lower())
    if metric in _DURATIONS:
        example = "latency>2s, age<1h, ttft>500ms" if metric != "age" else "age<1h, age<30m"
        if found is None or (found.group(2) and found.group(2) not in _UNITS_MS):
            raise QueryError(
                f"{word!r}: {metric} needs a duration such as {example} (units ms, s, m, h, d)"
            )
        return float(found.group(1)) * _UNITS_MS[found.group(2) or "s"]
    if found is None or found.group(2):
        raise QueryError(f"{word!r}: {metric} needs a whole number, like {metric}>=10")
    return float(found.group(1))


def _age_ms(run: RunRecord, now: float) -> float | None:
    started = run.started_at
    return None if started is None else (now - started) * 1000


def _latency_ms(run: RunRecord, now: float) -> float | None:
    duration = run.duration_ms(now)
    return duration if duration is not None and math.isfinite(duration) else None


_VALUES: Final[dict[str, Callable[[RunRecord, float], float | None]]] = {
    "latency": _latency_ms,
    "age": _age_ms,
    "ttft": lambda run, now: run.first_chunk_ms,
    "chunks": lambda run, now: float(run.chunk_count),
    "tokens": lambda run, now: _tokens(run),
}


def _tokens(run: RunRecord) -> float | None:
    usage = run.usage
    return None if usage is None else float(usage["total_tokens"])


def _free_text(word: str, body: str, negated: bool) -> _Term:
    needle = body.lower()
    return _Term(word, lambda run, now, text: needle in text(run), negated, True)
