"""UUIDv7 run ids: format, order, uniqueness, also across a fork."""

from __future__ import annotations

import os
import re
import time
import types
import uuid

import pytest

from jsontrace import _ids
from jsontrace._ids import uuid7


def test_format_version_and_variant() -> None:
    """Canonical 8-4-4-4-12 lowercase hex, version 7, RFC 9562 variant (10xx)."""
    text = uuid7()
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", text
    )
    parsed = uuid.UUID(text)
    assert 7 == parsed.version
    assert uuid.RFC_4122 == parsed.variant


def test_timestamp_is_unix_milliseconds() -> None:
    """The first 48 bits are the creation time in Unix milliseconds."""
    before = time.time_ns() // 1_000_000
    ms = int(uuid7().replace("-", "")[:12], 16)
    after = time.time_ns() // 1_000_000
    assert before <= ms <= after


def test_ids_sort_in_creation_order() -> None:
    """Ids made one after another sort in that order."""
    ids = [uuid7() for _ in range(10_000)]
    assert ids == sorted(ids)


def test_ids_sort_in_creation_order_when_the_clock_stands_still_or_goes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A coarse clock (same reading) or one stepped back still gives increasing ids."""
    readings = iter([5_000_000_000] * 100 + [4_000_000_000] * 100)
    monkeypatch.setattr(_ids, "time", types.SimpleNamespace(time_ns=lambda: next(readings)))
    monkeypatch.setattr(_ids, "_last", 0)
    ids = [uuid7() for _ in range(200)]
    assert ids == sorted(ids)
    assert 200 == len(set(ids))


def test_ids_are_unique() -> None:
    """No repeats among many ids."""
    ids = [uuid7() for _ in range(100_000)]
    assert len(ids) == len(set(ids))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_ids_are_unique_across_a_fork() -> None:
    """A forked child does not repeat the ids its parent makes."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            os.write(write, "\n".join(uuid7() for _ in range(2000)).encode())
        finally:
            os._exit(0)
    os.close(write)
    mine = {uuid7() for _ in range(2000)}
    chunks = []
    while data := os.read(read, 65536):
        chunks.append(data)
    os.close(read)
    os.waitpid(pid, 0)
    theirs = set(b"".join(chunks).decode().split("\n"))
    assert 2000 == len(theirs)
    assert set() == mine & theirs


def test_text_is_the_canonical_form_of_the_uuid_built_from_clock_and_random_bits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each id is exactly str(uuid.UUID(...)) of its fields: 48 bits of ms, version 7, the 12
    bits of fraction, the variant, 62 random bits (checked over many clocks and random values,
    including the extremes of each field)."""
    import random

    rng = random.Random(15)
    clocks = [0, 1, 999_999, 1_000_000, 2**62, 1_764_000_000_999_999_999]
    clocks += [rng.randrange(2**63) for _ in range(2000)]
    randoms = [0, 2**62 - 1] + [rng.randrange(2**62) for _ in range(len(clocks) - 2)]
    for ns, bits in zip(clocks, randoms, strict=True):
        monkeypatch.setattr(_ids, "time", types.SimpleNamespace(time_ns=lambda ns=ns: ns))
        monkeypatch.setattr(_ids, "_bits", lambda _n, bits=bits: bits)
        monkeypatch.setattr(_ids, "_last", -1)  # no earlier id: the clock is taken as it is
        stamp = ns * 4096 // 1_000_000
        fields = (stamp >> 12) << 80 | 0x7 << 76 | (stamp & 0xFFF) << 64 | 0b10 << 62 | bits
        assert str(uuid.UUID(int=fields)) == uuid7()
