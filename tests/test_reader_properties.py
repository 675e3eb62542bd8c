"""Property-based tests of the reader (and the doctor) over hostile bytes: never raise, lose nothing good."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jsontrace.doctor import check
from jsontrace.reader import DirectoryReader
from jsontrace.store import RunStore

_json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=10,
)
_good_line = _json_value.map(lambda value: orjson.dumps(value) + b"\n")
_bad_line = st.one_of(
    st.binary(max_size=40).filter(lambda b: b"\n" not in b).map(lambda b: b + b"\n"),
    _good_line.map(
        lambda line: line[: max(1, len(line) // 2)].replace(b"\n", b"") + b"\n"
    ),  # truncated JSON
    st.just(b"\xff\xfe invalid utf-8 \x80\n"),
    st.just(b"[" * 300 + b"]" * 300 + b"\n"),  # nested past orjson's limit
    st.just(b'{"event": "run.start", "run_id": ' + b"9" * 5000 + b"}\n"),  # huge number
)
_lines = st.lists(st.tuples(st.booleans(), st.one_of(_good_line, _bad_line)), max_size=25)


def _is_valid(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lines, st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=8))
def test_any_bytes_written_in_any_pieces_are_read_once_and_never_raise(
    tagged: list[tuple[bool, bytes]], pieces: list[int]
) -> None:
    """Whatever the lines and however the writes split them, every valid line arrives exactly once,
    in order, every other line is counted as bad, and nothing raises (reader, model and doctor)."""
    data = b"".join(line for _, line in tagged)
    expected = [orjson.loads(line) for _, line in tagged if _is_valid(line)]
    bad = sum(1 for _, line in tagged if not _is_valid(line))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trace-x.jsonl"
        path.write_bytes(b"")
        reader = DirectoryReader(tmp, block_size=32)
        store = RunStore()
        seen: list[Any] = []
        offset, index = 0, 0
        while offset < len(data):
            size = pieces[index % len(pieces)]
            index += 1
            with path.open("ab") as f:
                f.write(data[offset : offset + size])
            offset += size
            for batch in reader.poll():
                seen.extend(batch.events)
                store.add_batch(batch)
        assert expected == seen
        assert bad == reader.bad_lines
        store.summary()
        check(tmp).summary()
