"""Run ids: UUIDv7 text, unique across processes and hosts and sortable by time."""

from __future__ import annotations

import random
import time

__all__ = ["uuid7"]

# random reseeds itself in a forked child (os.register_at_fork), so children of a
# fork never repeat their parent's ids.
_bits = random.getrandbits
# The last 60-bit timestamp (48 bits of ms, 12 of fraction) handed out in this process.
_last = 0


# The text of the last millisecond's 48 bits, "xxxxxxxx-xxxx-": most ids made in a
# burst share it, and formatting it is a third of the cost of an id.
_prefix_ms = -1
_prefix = ""


def uuid7() -> str:
    """A new UUIDv7 (RFC 9562) as text: 48 bits of Unix milliseconds, then randomness.

    The 12 bits after the version hold the sub-millisecond fraction (the RFC's
    method 3). Each id's timestamp is above the previous one in this process
    (one tick, ~250 ns, when the clock has not moved or went back), so ids made
    in one process sort in creation order.
    """
    global _last, _prefix_ms, _prefix
    # In units of 1/4096 ms: the 48 bits of ms followed by the 12 bits of fraction.
    stamp = time.time_ns() * 4096 // 1_000_000
    if stamp <= _last:
        stamp = _last + 1
    _last = stamp
    ms = stamp >> 12
    if ms != _prefix_ms:
        text = f"{ms:012x}"
        _prefix, _prefix_ms = f"{text[:8]}-{text[8:]}-", ms
    # Version, fraction, variant and randomness: the last 10 bytes. bytes.hex() is
    # much cheaper than format specs in an f-string.
    low = ((0x7000 | (stamp & 0xFFF)) << 64) | (0b10 << 62) | _bits(62)
    text = low.to_bytes(10, "big").hex()
    return f"{_prefix}{text[:4]}-{text[4:8]}-{text[8:]}"
