"""The viewer's allocator policy: large blocks in their own pages, so that freeing returns them.

The viewer runs for days. Its index of traces out of memory lives in columns
(``array``, ``bytearray``) that grow by a few percent at a time, and its reader
reads 256 KiB blocks. glibc serves a block above its *mmap threshold* from
pages of its own and gives them back on ``free``; below it, from the heap,
which only shrinks from the top. The threshold is dynamic: it rises to the size
of the largest mmapped block freed so far, so after the first blocks are read
every block of up to 256 KiB comes from the heap. There a column that grows
moves to a new place and leaves its old place as a hole that a column never
fits again, and each block read leaves one more hole between the small objects
allocated meanwhile. Measured (``benchmarks/viewer_load.py``'s tail, 5,000
events/s, from the first minute to the fifth): glibc's heaps grew 4.6 MiB, the
UI thread's and the reading thread's about equally, more than half of it free
holes. With the threshold fixed at :data:`MMAP_THRESHOLD` they grew 0.2 MiB,
and RSS only by the index itself (docs/performance.md, "Fourth round").

The viewer sets the policy once the directory is loaded, not before: loading
1M events took 20-47% longer under it (three alternating pairs on a busy
machine; every block of 64 KiB or more in fresh pages, faulted in and unmapped
again), and what it prevents is the slow growth of a viewer left tailing,
which only starts then.

Fixing the threshold also switches glibc's adjustment off, which is the point.
Elsewhere (macOS, musl) nothing is done: the knob and the behaviour it
corrects are glibc's. A user who chose a threshold (``MALLOC_MMAP_THRESHOLD_`` or
``GLIBC_TUNABLES``) keeps it.
"""

from __future__ import annotations

import os
from typing import Final

__all__ = ["MMAP_THRESHOLD", "keep_large_blocks_apart"]

#: Blocks at least this big get pages of their own: above the viewer's small
#: objects and event lines, below its read blocks and columns.
MMAP_THRESHOLD: Final = 64 << 10
_M_MMAP_THRESHOLD: Final = -3  # from glibc's malloc.h


def keep_large_blocks_apart() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD`; whether it was set.

    Call it once, when the directory is loaded (``TraceViewer(tune_allocator=True)``
    does). Does nothing, and says so, when the C library is not glibc or the user
    already chose a threshold.
    """
    if _user_chose():
        return False
    try:
        libc_version = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, OSError, ValueError):
        return False
    if not libc_version or not libc_version.startswith("glibc"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def _user_chose() -> bool:
    return "MALLOC_MMAP_THRESHOLD_" in os.environ or "mmap_threshold" in os.environ.get(
        "GLIBC_TUNABLES", ""
    )
