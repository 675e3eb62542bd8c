"""The lock a fork waits for, held while jsontrace imports its modules or builds its pipeline.

A child forked while another thread is importing a module inherits that module's
import lock, held by a thread the child does not have: the child hangs on its first
import of the module (``from jsontrace import traceable`` in a worker). So the
first-use imports of the public names (``jsontrace.__getattr__``) and the pipeline
build hold :data:`LOCK`, and an at-fork hook takes it before every ``fork()``: the
fork waits until they are done, and the child starts with the lock free.

Whoever holds the lock must not then wait for a lock another at-fork hook takes
(logging's, in ``logging.getLogger``): the forking thread may hold that one already
while it waits for this. ``jsontrace.__getattr__`` imports such modules first.
"""

from __future__ import annotations

import _thread
import os

__all__ = ["LOCK"]

# Re-entrant: the pipeline build can run inside a first-use import (decorating a
# function at import time), and a fork from inside either must not wait for itself.
LOCK = _thread.RLock()

if hasattr(os, "register_at_fork"):
    # The forking thread holds the lock across the fork, so it is released in both
    # processes (in the child that thread is the one thread left, still its owner).
    os.register_at_fork(
        before=LOCK.acquire, after_in_parent=LOCK.release, after_in_child=LOCK.release
    )
