"""jsontrace_view._memory: the viewer keeps large blocks out of glibc's heap."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def _glibc_version() -> tuple[int, ...]:
    try:
        name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").partition(" ")
    except (AttributeError, ValueError, OSError):
        return ()
    return tuple(int(part) for part in version.split(".")[:2]) if name == "glibc" else ()


# mallinfo2, which the probe reads, came with glibc 2.33.
glibc = pytest.mark.skipif(
    _glibc_version() < (2, 33), reason="the policy is glibc's mmap threshold"
)


# Frees one 1 MiB block (glibc then serves anything smaller from the heap, the way the
# reader's first blocks make it), then says whether a 100 KiB block was given pages of
# its own (mallinfo2's count of mmapped blocks goes up while it is held).
_PROBE = """
import ctypes, json, sys
from jsontrace_view._memory import keep_large_blocks_apart

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info

def own_pages(size):
    before = libc.mallinfo2().hblks
    block = bytearray(size)
    return libc.mallinfo2().hblks - before == 1

applied = keep_large_blocks_apart() if sys.argv[1] == "apply" else None
big = bytearray(1 << 20)
del big
print(json.dumps({"applied": applied, "own_pages": own_pages(100 << 10)}))
"""


def probe(mode: str, **env: str) -> dict[str, object]:
    # The probe runs in a process of its own: the threshold is the whole process's.
    chosen = ("MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")
    environ = {k: v for k, v in os.environ.items() if k not in chosen} | env
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode],
        capture_output=True, text=True, timeout=60, env=environ, check=True,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout)
    return result


@glibc
def test_without_the_policy_a_block_below_a_freed_one_comes_from_the_heap() -> None:
    """The behaviour the policy exists for: glibc's threshold rises after a big block is freed."""
    assert {"applied": None, "own_pages": False} == probe("leave")


@glibc
def test_with_the_policy_blocks_of_64_kib_and_more_get_pages_of_their_own() -> None:
    """Fixed at 64 KiB, the threshold no longer rises: a 100 KiB block is mmapped, and freed back."""
    assert {"applied": True, "own_pages": True} == probe("apply")


@glibc
def test_a_threshold_the_user_chose_is_kept() -> None:
    """With MALLOC_MMAP_THRESHOLD_ set, the viewer leaves glibc as the user configured it."""
    result = probe("apply", MALLOC_MMAP_THRESHOLD_=str(4 << 20))

    assert {"applied": False, "own_pages": False} == result


@glibc
def test_a_threshold_chosen_through_glibc_tunables_is_kept() -> None:
    """GLIBC_TUNABLES=glibc.malloc.mmap_threshold=... counts as a choice too."""
    result = probe("apply", GLIBC_TUNABLES=f"glibc.malloc.mmap_threshold={4 << 20}")

    assert {"applied": False, "own_pages": False} == result
