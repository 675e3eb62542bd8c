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


def uuid7() -> str:
    """A new UUIDv7 (RFC 9562) as text: 48 bits of Unix milliseconds, then randomness.

    The 12 bits after the version hold the sub-millisecond fraction (the RFC's
    method 3). Each id's timestamp is above the previous one in this process
    (one tick, ~250 ns, when the clock has not moved or went back), so ids made
    in one process sort in creation order.
    """
    global _last
    ms, rest = divmod(time.time_ns(), 1_000_000)
    stamp = (ms << 12) | (rest * 4096 // 1_000_000)
    if stamp <= _last:
        stamp = _last + 1
    _last = stamp
    value = ((stamp >> 12) << 80) | (0x7 << 76) | ((stamp & 0xFFF) << 64) | (0b10 << 62) | _bits(62)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
