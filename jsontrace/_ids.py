"""Run ids: UUIDv7 text, unique across processes and hosts and sortable by time."""

from __future__ import annotations

import random
import time

__all__ = ["uuid7"]

# random reseeds itself in a forked child (os.register_at_fork), so children of a
# fork never repeat their parent's ids.
_bits = random.getrandbits


def uuid7() -> str:
    """A new UUIDv7 (RFC 9562) as text: 48 bits of Unix milliseconds, then randomness.

    The 12 bits after the version hold the sub-millisecond fraction (the RFC's
    method 3), so ids made in one process sort in creation order to ~250 ns.
    """
    ns = time.time_ns()
    ms, rest = divmod(ns, 1_000_000)
    value = (
        (ms << 80)
        | (0x7 << 76)
        | ((rest * 4096 // 1_000_000) << 64)
        | (0b10 << 62)
        | _bits(62)
    )
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
