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
# The third group, "7fff-" (version 7, then the 12 bits of fraction), for each fraction:
# a list lookup instead of a format per id.
_THIRD = [f"{0x7000 | fraction:04x}-" for fraction in range(4096)]
_VARIANT = 0b10 << 62  # RFC 9562's variant, the top two of the last 64 bits


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
        text = ms.to_bytes(6, "big").hex()
        _prefix, _prefix_ms = f"{text[:8]}-{text[8:]}-", ms
    # The variant and 62 random bits, as "vxxx-xxxxxxxxxxxx": bytes.hex() puts the
    # separator 6 bytes from the right, and is much cheaper than a format spec.
    last = (_VARIANT | _bits(62)).to_bytes(8, "big").hex("-", 6)
    return f"{_prefix}{_THIRD[stamp & 0xFFF]}{last}"
