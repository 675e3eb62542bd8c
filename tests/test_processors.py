"""The processors: timestamps, rendering to one line, redaction of secrets."""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jsontrace
from jsontrace import processors
from jsontrace.processors import REDACTED, Redactor, Renderer, stamp_time
from jsontrace.testing import capture_traces

Events = Callable[[], list[dict[str, Any]]]


def redact(event: dict[str, Any], redactor: Redactor | None = None) -> dict[str, Any]:
    """*event* after the redactor, as it would be written (rendered and parsed back)."""
    result = (redactor or Redactor())(None, "emit", dict(event))
    rendered = orjson.dumps(result, default=processors.default, option=orjson.OPT_NON_STR_KEYS)
    parsed: dict[str, Any] = orjson.loads(rendered)
    return parsed


# -- stamp_time ----------------------------------------------------------------------------


def test_stamp_time_writes_rfc3339_utc_with_microseconds() -> None:
    """ts in nanoseconds becomes RFC 3339 UTC text with microseconds and Z."""
    second = calendar.timegm((2024, 2, 29, 23, 59, 58, 0, 0, 0))
    event = stamp_time(None, "emit", {"ts": second * 1_000_000_000 + 123_456_789})
    assert "2024-02-29T23:59:58.123456Z" == event["ts"]


def test_stamp_time_is_right_when_seconds_alternate() -> None:
    """The cached second's text is never used for another second, even going back."""
    base = calendar.timegm((2024, 1, 1, 0, 0, 0, 0, 0, 0)) * 1_000_000_000
    stamps = [
        stamp_time(None, "emit", {"ts": base + n * 1_000_000_000})["ts"] for n in (0, 1, 0, 1)
    ]
    assert [
        "2024-01-01T00:00:00.000000Z",
        "2024-01-01T00:00:01.000000Z",
        "2024-01-01T00:00:00.000000Z",
        "2024-01-01T00:00:01.000000Z",
    ] == stamps


def test_stamp_time_cache_is_one_object() -> None:
    """Second and text are cached together, so a thread never sees one without the other."""
    stamp_time(None, "emit", {"ts": 5_000_000_000})
    assert (5, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(5))) == processors._second_cache


# -- Renderer ------------------------------------------------------------------------------


def test_renderer_writes_one_line_in_key_order() -> None:
    """An ordinary event is orjson's rendering plus a newline, keys in insertion order."""
    event = {"event": "run.start", "run_id": "r", "inputs": {"text": "a\nb"}}
    line = Renderer(max_chars=100, max_items=10)(None, "emit", dict(event))
    assert b'{"event":"run.start","run_id":"r","inputs":{"text":"a\\nb"}}\n' == line


def test_renderer_leaves_envelope_fields_alone_on_the_careful_path() -> None:
    """When the payload is walked (a cycle here), ids and counters are written as they are."""
    loop: list[Any] = []
    loop.append(loop)
    event = {"event": "run.end", "run_id": "r" * 300, "chunk_count": 2**62, "outputs": loop}
    parsed = orjson.loads(Renderer(max_chars=100, max_items=10)(None, "emit", event))
    assert {
        "event": "run.end",
        "run_id": "r" * 300,
        "chunk_count": 2**62,
        "outputs": ["<cycle: list>"],
    } == (parsed)


def test_renderer_truncates_only_beyond_the_limits() -> None:
    """A long line whose strings and lists are within the limits is not changed."""
    event = {"inputs": ["x" * 90] * 10}
    line = Renderer(max_chars=100, max_items=10)(None, "emit", event)
    assert event == orjson.loads(line)


# -- Redactor: keys ------------------------------------------------------------------------

SECRET_KEYS = [
    "api_key",
    "openai_api_key",
    "OPENAI_API_KEY",
    "apiKey",
    "openaiApiKey",
    "X-Api-Key",
    "Authorization",
    "Proxy-Authorization",
    "password",
    "userPassword",
    "passwd",
    "token",
    "access_token",
    "accessToken",
    "refresh_token",
    "secret",
    "client_secret",
    "aws_secret_access_key",
    "secret_key",
    "cookie",
    "Set-Cookie",
    "credentials",
    "private_key",
    "auth",
    # Tokens that grant access, also next to pagination words: secrets.
    "id_token",
    "idToken",
    "session_token",
    "csrf_token",
    "next_api_token",
    "homepage_token",  # "page" counts as a word of its own only
]
HARMLESS_KEYS = [
    "max_tokens",
    "prompt_tokens",
    "completion_tokens",
    "token_count",
    "maxTokens",
    "tokens",
    "eos_token",
    "pad_token",
    "author",
    "oauth",
    "secretary",
    "keyword",
    # Pagination cursors: a client sends them back for the next page; they grant nothing.
    "next_page_token",
    "nextPageToken",
    "page_token",
    "pageToken",
    "NextToken",
    "next_token",
    "ContinuationToken",
    "NextContinuationToken",
    "continuation_token",
    "pagination_token",
    "resumptionToken",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_values_under_secret_keys_are_redacted(key: str) -> None:
    """A value under a secret-looking key becomes [REDACTED] and its path is listed."""
    event = redact({"event": "run.start", "inputs": {"prompt": "hi", key: "hunter2"}})
    assert {"prompt": "hi", key: REDACTED} == event["inputs"]
    assert [f"inputs.{key}"] == event["redacted"]


@pytest.mark.parametrize("key", HARMLESS_KEYS)
def test_values_under_ordinary_keys_stay(key: str) -> None:
    """Counts, settings and pagination cursors whose names merely contain "token" or "secret" are kept."""
    event = {"event": "run.start", "inputs": {key: "256"}}
    assert event == redact(event)


def test_secret_keys_are_found_at_any_depth_and_in_every_field() -> None:
    """inputs, outputs, metadata, chunk, error, lists of dicts: every place, every path listed."""
    event = redact(
        {
            "event": "run.end",
            "run_id": "r",
            "inputs": {"config": {"headers": [{"Authorization": "x"}]}},
            "outputs": {"token": "t"},
            "metadata": {"password": "p"},
            "chunk": {"api_key": "k"},
            "error": {"secret": "s"},
        }
    )
    assert REDACTED == event["inputs"]["config"]["headers"][0]["Authorization"]
    assert [
        "inputs.config.headers[0].Authorization",
        "outputs.token",
        "metadata.password",
        "chunk.api_key",
        "error.secret",
    ] == event["redacted"]


def test_a_whole_structure_under_a_secret_key_is_redacted() -> None:
    """requests' auth=(user, password) under "auth" is replaced entirely."""
    event = redact({"event": "run.start", "inputs": {"auth": ["me", "pw"], "url": "u"}})
    assert {"auth": REDACTED, "url": "u"} == event["inputs"]


def test_empty_secret_values_are_left_as_they_are() -> None:
    """None and "" under a secret key hide nothing and are kept (no redacted field)."""
    event = {"event": "run.start", "inputs": {"api_key": None, "token": ""}}
    assert event == redact(event)


@pytest.mark.parametrize("key", ["x\ny_password", "a\\b_token", "tab\t_api_key"])
def test_keys_with_escapes_in_json_are_still_found(key: str) -> None:
    """A key holding a character JSON escapes (newline, backslash) is still checked."""
    event = redact({"event": "run.start", "inputs": {key: "p"}})
    assert {key: REDACTED} == event["inputs"]


@pytest.mark.parametrize(
    "chunk",
    [
        {"": {0: False, None: "n", "api_key": "k"}},  # checked whole (rendered first)
        {"a": "sk-" + "0" * 20, "": {0: False, None: "n", "api_key": "k"}},  # walked as given
    ],
    ids=["rendered-or-cut", "raw-to-scrub"],
)
def test_keys_that_are_not_strings_are_judged_by_their_text(chunk: dict[Any, Any]) -> None:
    """{0: ...} and {None: ...} are kept under the keys JSON writes and a secret beside them is
    still redacted, whether the value was rendered before the walk or walked as the app gave it
    (a token found first by the quick check of a flat dict)."""
    for limits in ({}, {"max_chars": 16, "max_items": 10}):
        event = redact({"event": "run.chunk", "chunk": chunk}, Redactor(**limits))
        assert {"0": False, "null": "n", "api_key": REDACTED} == event["chunk"][""]
        assert "chunk..api_key" in event["redacted"]


def test_an_enum_key_is_judged_by_the_name_the_file_shows() -> None:
    """{Field.P: ...} is written "password": redacted as that, also when the dict is
    walked as the app gave it, and its path names it so."""
    import enum

    class Field(enum.Enum):
        P = "password"  # its text, "Field.P", looks like no secret

    for chunk in (
        {"x": {Field.P: "hunter2"}},
        {"a": "sk-" + "0" * 20, "x": {Field.P: "hunter2"}},
    ):
        event = redact({"event": "run.chunk", "chunk": chunk})
        assert {"password": REDACTED} == event["chunk"]["x"]
        assert "chunk.x.password" in event["redacted"]


def test_a_token_first_does_not_let_what_follows_through() -> None:
    """A flat dict whose first entry is a token, then values that are not plain JSON (a
    dataclass, a tuple, an enum, header pairs named by an enum): each secret is redacted as it
    would be without the token before it."""
    import dataclasses
    import enum

    @dataclasses.dataclass
    class Config:
        api_key: str

    class Token(enum.Enum):
        T = "sk-" + "1" * 24

    class Header(str, enum.Enum):
        AUTH = "authorization"

    for value, secret in (
        (Config(api_key="hunter2secret"), "hunter2secret"),
        (("x", {"password": "hunter2"}), "hunter2"),
        (Token.T, "sk-" + "1" * 24),
        ([[Header.AUTH, "Bearer hunter2"]], "hunter2"),
    ):
        alone = redact({"event": "run.chunk", "chunk": {"v": value}})
        after = redact({"event": "run.chunk", "chunk": {"a": "sk-" + "0" * 20, "v": value}})
        assert secret not in orjson.dumps(alone).decode(), alone
        assert secret not in orjson.dumps(after).decode(), after
        assert alone["chunk"]["v"] == after["chunk"]["v"]


def test_envelope_fields_are_never_redacted() -> None:
    """Ids, host and the like are left alone even if they look like tokens."""
    event = {"event": "run.start", "run_id": "sk-" + "a" * 30, "host": "AKIA" + "A" * 16}
    assert event == redact(event)


# -- Redactor: token shapes in text -------------------------------------------------------

TOKENS = [
    "sk-" + "a1B2" * 6,
    "sk-proj-" + "x" * 40,
    "sk-ant-api03-" + "Z" * 30,
    "Bearer abcdefgh12345678",
    "bearer\tabcdefgh12345678",  # escaped as \\t in the JSON text
    "Bearer\u00a0abcdefgh12345678",  # a non-breaking space
    "ghp_" + "A" * 36,
    "github_pat_" + "B" * 30,
    "xoxb-1234567890-abcdef",
    "AKIA" + "ABCDEFGHIJKLMNOP",
    "ASIA" + "ABCDEFGHIJKLMNOP",
    "AIza" + "C" * 35,
    "Basic dXNlcjpwYXNzd29yZA==",  # HTTP Basic credentials
    "basic dXNlcjpwYXNz",  # no padding, no digit: a capital after the first letter
]


@pytest.mark.parametrize("token", TOKENS)
def test_token_shapes_inside_strings_are_redacted(token: str) -> None:
    """A token inside free text is replaced, the surrounding text kept."""
    event = redact({"event": "run.chunk", "chunk": f"use {token} now", "tags": [token]})
    assert "use [REDACTED] now" == event["chunk"]
    assert [REDACTED] == event["tags"]
    assert ["chunk", "tags[0]"] == event["redacted"]


@pytest.mark.parametrize(
    "text",
    [
        "sk-short",
        "ask-me-anything",
        "the bearer of news",
        "AKIA",
        "basic knowledge",
        "Basic Income",
        "BASIC instructions",
        "mailto:bob@example.com",
        "ssh://git@github.com/org/repo",
    ],
)
def test_text_that_only_resembles_a_token_stays(text: str) -> None:
    """Short or ordinary words are not mistaken for tokens."""
    event = {"event": "run.chunk", "chunk": text}
    assert event == redact(event)


def test_custom_keys_and_patterns_extend_the_defaults() -> None:
    """redact_keys and redact_patterns add to the built-in ones (anchored patterns too)."""
    redactor = Redactor(keys=["ssn"], patterns=[r"^emp-\d{4}$", r"(?i:internal)-\d+"])
    event = redact(
        {
            "event": "run.start",
            "inputs": {"user_ssn": "1", "id": "emp-1234", "note": "INTERNAL-42 ok", "api_key": "k"},
        },
        redactor,
    )
    assert {"user_ssn": REDACTED, "id": REDACTED, "note": "[REDACTED] ok", "api_key": REDACTED} == (
        event["inputs"]
    )


def test_events_without_secrets_are_passed_through_untouched() -> None:
    """The common case returns the very same dict with the very same values, unparsed."""
    inputs = {"prompt": "hello world", "max_tokens": 5}
    event = {"event": "run.start", "inputs": inputs, "chunk": "hello world"}
    assert event is Redactor()(None, "emit", event)
    assert inputs is event["inputs"]


# -- through the public API ------------------------------------------------------------------


class Settings:
    """Looks like a pydantic model holding a key."""

    def __init__(self) -> None:
        self.model = "gpt"
        self.api_key = "plain-secret"

    def model_dump(self) -> dict[str, Any]:
        return {"model": self.model, "api_key": self.api_key}


@jsontrace.traceable
def call_llm(prompt: str, settings: Any, api_key: str, max_tokens: int = 5) -> str:
    return f"reply to {prompt}"


def test_redaction_on_by_default_in_written_events(events: Events) -> None:
    """Traced calls have secret inputs scrubbed in the file, model objects included."""
    call_llm("hi", Settings(), api_key="sk-" + "k" * 30)
    start = events()[0]
    assert {
        "prompt": "hi",
        "settings": {"model": "gpt", "api_key": REDACTED},
        "api_key": REDACTED,
        "max_tokens": 5,
    } == start["inputs"]
    assert ["inputs.settings.api_key", "inputs.api_key"] == start["redacted"]
    assert "plain-secret" not in str(events())


def test_secret_in_an_error_traceback_is_redacted(events: Events) -> None:
    """A key quoted in an exception message is scrubbed from message and traceback."""

    @jsontrace.traceable
    def fails() -> None:
        raise RuntimeError("Incorrect API key provided: sk-" + "z" * 30)

    with pytest.raises(RuntimeError):
        fails()
    error = events()[-1]["error"]
    assert "Incorrect API key provided: [REDACTED]" == error["message"]
    assert "sk-zzz" not in error["traceback"]


def test_configure_redact_false_turns_it_off(events: Events) -> None:
    """configure(redact=False) writes values as they are."""
    jsontrace.configure(redact=False)
    call_llm("hi", None, api_key="k")
    assert "k" == events()[0]["inputs"]["api_key"]
    assert "redacted" not in events()[0]


def test_env_redact_0_turns_it_off(
    events: Events, monkeypatch: pytest.MonkeyPatch, log_dir: Any
) -> None:
    """JSONTRACE_REDACT=0 writes values as they are."""
    monkeypatch.setenv("JSONTRACE_REDACT", "0")
    jsontrace.reset_defaults()
    jsontrace.configure(dir=log_dir)
    call_llm("hi", None, api_key="k")
    assert "k" == events()[0]["inputs"]["api_key"]


def test_configured_keys_and_patterns_apply_to_traces() -> None:
    """configure(redact_keys=..., redact_patterns=...) is used by the pipeline."""
    jsontrace.configure(redact_keys=["prompt"], redact_patterns=[r"reply"])
    with capture_traces() as traces:
        call_llm("hi", None, api_key="")
    run = traces.run("call_llm")
    assert REDACTED == run.inputs["prompt"]
    assert "[REDACTED] to hi" == run.outputs


ENVELOPE = {
    "event": "run.chunk",
    "run_id": "0191c3b0-0000-7000-8000-000000000000",
    "trace_id": "0191c3b0-0000-7000-8000-000000000000",
    "v": 1,
    "ts": "2024-01-01T00:00:00.000000Z",
}


def test_ordinary_events_of_our_shape_take_the_fast_path() -> None:
    """A real event with nothing secret is returned unchanged, with no redacted field."""
    event = {**ENVELOPE, "seq": 0, "chunk": "ask-me anything"}
    assert {**ENVELOPE, "seq": 0, "chunk": "ask-me anything"} == Redactor()(None, "emit", event)


def test_fields_before_the_timestamp_are_still_searched() -> None:
    """Only our exact envelope is skipped: a field placed before ts is checked like any other."""
    event = {"event": "run.chunk", "chunk": "key sk-" + "a" * 30, "ts": ENVELOPE["ts"]}
    assert "key [REDACTED]" == redact(event)["chunk"]


def test_truncation_never_leaves_part_of_a_secret(events: Events) -> None:
    """Redaction runs before truncation: a token across the cut is redacted whole, not half kept."""
    jsontrace.configure(max_chars=50)
    secret = "sk-" + "a" * 40

    @jsontrace.traceable
    def stream() -> Any:
        yield "x" * 40 + " " + secret

    list(stream())
    chunk = next(e for e in events() if e["event"] == "run.chunk")["chunk"]
    assert "aaaa" not in chunk
    assert chunk.startswith("x" * 40 + " [REDA")
    assert chunk.endswith("chars]")


def test_flat_and_nested_dicts_are_judged_alike() -> None:
    """A secret key is redacted the same whether its dict is flat (checked directly) or nested."""
    for value in (12345, 1.5, True, "hunter2"):
        flat = redact({"event": "run.start", "inputs": {"token": value, "n": 1}})
        nested = redact({"event": "run.start", "inputs": {"outer": {"token": value}, "n": [1]}})
        assert REDACTED == flat["inputs"]["token"] == nested["inputs"]["outer"]["token"]
        assert ["inputs.token"] == flat["redacted"]


def test_key_verdicts_are_cached_but_stay_correct() -> None:
    """Repeated keys are judged once; the verdict does not leak between different keys."""
    redactor = Redactor()
    for _ in range(3):
        assert {"password": REDACTED, "prompt": "hi"} == redact(
            {"event": "run.start", "inputs": {"password": "p", "prompt": "hi"}}, redactor
        )["inputs"]
    assert {"password": True, "prompt": False} == redactor._key_cache


def test_chunk_events_of_the_written_shape_are_still_scrubbed() -> None:
    """The fast path for run.chunk events still redacts tokens in strings and secrets in dicts."""
    shaped = {**ENVELOPE, "seq": 0}
    assert "[REDACTED]" == redact({**shaped, "chunk": "sk-" + "a" * 30})["chunk"]
    assert {"api_key": REDACTED} == redact({**shaped, "chunk": {"api_key": "x"}})["chunk"]
    assert 7 == redact({**shaped, "chunk": 7})["chunk"]


@pytest.mark.parametrize(
    "text",
    [
        "task-specific-fine-tuning-and-more-words",
        "risk-adjusted-return-calculations",
        "the bearer instruments were sold",
    ],
)
def test_ordinary_words_are_not_mistaken_for_tokens(text: str) -> None:
    """Token shapes start at a word boundary; a bearer token needs a digit or punctuation."""
    assert {"event": "run.chunk", "chunk": text} == redact({"event": "run.chunk", "chunk": text})


def test_namespaces_and_namedtuples_are_redacted_by_key() -> None:
    """argparse/SimpleNamespace objects and namedtuples are written with their keys, so secrets go."""
    import argparse
    from collections import namedtuple
    from types import SimpleNamespace

    creds = namedtuple("creds", "user api_key")
    event = redact(
        {
            "event": "run.start",
            "inputs": {
                "args": argparse.Namespace(api_key="prod-7f3a", model="gpt"),
                "ns": SimpleNamespace(password="pw", n=1),
                "creds": creds("bob", "prod-key"),
            },
        }
    )
    assert {"api_key": REDACTED, "model": "gpt"} == event["inputs"]["args"]
    assert {"password": REDACTED, "n": 1} == event["inputs"]["ns"]
    assert {"user": "bob", "api_key": REDACTED} == event["inputs"]["creds"]


@pytest.mark.parametrize("field", ["chunk", "tags"])
def test_a_password_in_a_url_is_redacted_and_the_user_kept(field: str) -> None:
    """scheme://user:password@host loses the password only, in text and in containers."""
    url = "postgres://bob:s3cr3t@db.local:5432/app"
    value: Any = f"connect to {url} now" if field == "chunk" else [url]
    event = redact({"event": "run.chunk", field: value})

    expected = "postgres://bob:[REDACTED]@db.local:5432/app"
    assert (f"connect to {expected} now" if field == "chunk" else [expected]) == event[field]


def test_header_pairs_under_secret_names_are_redacted() -> None:
    """Headers as [name, value] pairs (ASGI, httpx lists) lose the values of secret names."""
    headers = [("Authorization", "Bearer xyz"), ("X-Api-Key", "k-1"), ("Accept", "json")]
    event = redact({"event": "run.start", "inputs": {"headers": headers, "words": ["token", "a"]}})

    assert [["Authorization", REDACTED], ["X-Api-Key", REDACTED], ["Accept", "json"]] == (
        event["inputs"]["headers"]
    )
    assert ["token", "a"] == event["inputs"]["words"]  # a list of words is not a header list
    assert ["inputs.headers[0][1]", "inputs.headers[1][1]"] == event["redacted"]


def test_ordinary_lists_and_text_do_not_take_the_slow_path() -> None:
    """A generator's outputs like ["token", ...] or 'basic knowledge' deep inside stay the same objects.

    The slow path parses the value back and walks every string: on a long stream's
    end event that cost more than the stream's chunks together.
    """
    outputs = ["token"] * 50
    nested = {"a": {"text": "basic knowledge of the token budget"}, "pairs": [["k", "v"]]}
    event = Redactor()(None, "emit", {"event": "run.end", "outputs": outputs, "metadata": nested})

    assert event["outputs"] is outputs
    assert event["metadata"] is nested


_SECRETISH_TEXT = st.sampled_from(
    [
        "Basic dXNlcjpwYXNz",
        "basic\tdXNlcjpwYXNzd29yZA==",
        "Basic\u00a0QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "basic knowledge",
        "postgres://bob:s3cr3t@db:5432/x",
        "ssh://git@host/repo",
        "Bearer abc123def456",
        "sk-" + "a1B2" * 6,
        "token",
        "x",
        "",
    ]
)
_KEY_NAMES = st.sampled_from(
    ["api_key", "X-Api-Key", "Authorization", "token", "max_tokens", "eos_token", "name", "k"]
)
_VALUES = st.recursive(
    st.one_of(_SECRETISH_TEXT, st.text(max_size=12), st.integers(-(2**63), 2**63 - 1), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(_KEY_NAMES, inner, max_size=4),
        st.lists(st.lists(st.one_of(_KEY_NAMES, inner), min_size=2, max_size=2), max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_VALUES, st.dictionaries(_KEY_NAMES, _VALUES, max_size=4))
def test_the_pre_checks_never_miss_what_a_full_walk_redacts(outputs: Any, metadata: Any) -> None:
    """Whatever the cheap gates let through unwalked, walking every value would not change either."""
    walk_all = Redactor()
    walk_all._always = True  # what custom patterns force: no pre-check, every value walked
    event = {"event": "run.end", "outputs": outputs, "metadata": metadata}

    assert redact(event, walk_all) == redact(event)


# -- Redactor: token shapes, found from their literal -----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x" + "sk-" + "a" * 30, "x" + "sk-" + "a" * 30),  # inside a word: not a key
        ("(sk-" + "a" * 30 + ")", "([REDACTED])"),
        ("_sk-" + "a" * 30, "_[REDACTED]"),  # "_" is not a letter or digit
        ("xsk-" + "a" * 30 + " sk-" + "b" * 30, "xsk-" + "a" * 30 + " [REDACTED]"),
        ("taskbar sk-" + "c" * 25, "taskbar [REDACTED]"),
        ("BEARER abcdefgh12345678", "[REDACTED]"),
        ("bEaReR abcdefgh12345678", "[REDACTED]"),
        ("İ then Bearer abcdefgh12345678", "İ then [REDACTED]"),  # lower() changes the length
        ("the Bearer of news, basic Income", "the Bearer of news, basic Income"),
        (
            "jdbc:postgresql://bob:pw@db and http://x:y@z",
            "jdbc:postgresql://bob:[REDACTED]@db and http://x:[REDACTED]@z",
        ),
    ],
)
def test_token_shapes_start_where_a_word_starts(text: str, expected: str) -> None:
    """A shape counts where no letter or digit comes right before it; a rejected candidate does not
    hide a real token after it; ASCII case does not matter where the shape ignores case."""
    assert expected == redact({"event": "run.chunk", "chunk": text})["chunk"]


# -- Redactor: its cost follows what is written ------------------------------------------------


def test_a_long_string_is_scanned_only_as_far_as_it_is_written() -> None:
    """Past the cut and its margin a string is not scanned: a secret there is left to the
    renderer, which cuts it away; the string is passed on as the very same object."""
    from jsontrace._redact import CUT_MARGIN

    tail_secret = "sk-" + "t" * 30
    text = "x" * (100 + CUT_MARGIN + 10) + " " + tail_secret
    event = {**ENVELOPE, "seq": 0, "chunk": text}
    result = Redactor(max_chars=100, max_items=10)(None, "emit", dict(event))
    assert text is result["chunk"]
    assert "redacted" not in result
    jsontrace.configure(max_chars=100)

    @jsontrace.traceable
    def stream() -> Any:
        yield text

    with capture_traces() as traces:
        list(stream())
    (chunk,) = traces.run("stream").chunks
    assert chunk.startswith("x" * 100 + "…[truncated ")
    assert "ttt" not in str(traces.events)


def test_a_secret_across_the_cut_of_a_long_string_is_redacted_whole() -> None:
    """A token that starts before the cut and ends after it is redacted, not cut in half."""
    jsontrace.configure(max_chars=100)

    @jsontrace.traceable
    def stream() -> Any:
        yield "x" * 90 + " sk-" + "a" * 60 + " " + "y" * 50_000

    with capture_traces() as traces:
        list(stream())
    (chunk,) = traces.run("stream").chunks
    assert chunk.startswith("x" * 90 + " [REDACTED…[truncated ")
    assert "aaaa" not in chunk


def test_redactions_that_shorten_the_text_do_not_bring_unscanned_text_before_the_cut() -> None:
    """Many secrets near the start shrink the text when redacted: scanning goes on, so what moves
    up before the cut has been scanned too."""
    jsontrace.configure(max_chars=100)
    text = ("sk-" + "a" * 60 + " ") * 60 + "x" * 5_000

    @jsontrace.traceable
    def stream() -> Any:
        yield text

    with capture_traces() as traces:
        list(stream())
    (chunk,) = traces.run("stream").chunks
    assert "aaaa" not in chunk
    assert chunk.startswith("[REDACTED] [REDACTED] ")


def test_a_long_list_or_dict_is_scanned_only_as_far_as_it_is_written() -> None:
    """Entries past max_items are cut by the renderer, so the redactor neither scans nor converts
    them: a secret in the written part is redacted, one past it is left for the cut."""
    secret = "sk-" + "k" * 30
    outputs = [secret, *["x"] * 100, secret]
    metadata = {"api_key": "k", **{f"n{i}": i for i in range(100)}, "password": "p"}
    event = {"event": "run.end", "outputs": outputs, "metadata": metadata}
    result = Redactor(max_chars=1000, max_items=10)(None, "emit", event)
    assert ["outputs[0]", "metadata.api_key"] == result["redacted"]
    assert secret == result["outputs"][-1]
    assert "p" == result["metadata"]["password"]
    line = Renderer(max_chars=1000, max_items=10)(None, "emit", result)
    assert b"kkkk" not in line and b'"p"' not in line


def test_a_long_prose_argument_is_written_cut_and_scrubbed(events: Events) -> None:
    """A 1 MiB argument of prose with URLs and the word token: the call works, the written
    input is cut to max_chars, and a key inside the written part is redacted."""
    prose = ("See https://example.com/docs?page=2 for the token budget. " * 20_000)[: 1 << 20]
    document = "key sk-" + "d" * 40 + " " + prose

    @jsontrace.traceable
    def summarize(doc: str) -> int:
        return len(doc)

    assert len(document) == summarize(document)
    written = events()[0]["inputs"]["doc"]
    assert written.startswith("key [REDACTED] See https://example.com/docs?page=2 for the token")
    assert written.endswith(" chars]")
    assert 100_000 + 40 > len(written)


def test_the_first_item_of_a_pair_is_scanned_as_text_too() -> None:
    """Rows of two (a frame's rows, pairs) are not only header pairs: a token in the first item
    is redacted as in any string."""
    rows = [["key sk-" + "a" * 30, 1], ["plain", 2]]
    event = redact({"event": "run.end", "outputs": rows})
    assert [["key [REDACTED]", 1], ["plain", 2]] == event["outputs"]
    assert ["outputs[0][0]"] == event["redacted"]
