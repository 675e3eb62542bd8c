"""This machine and its processes: the host name writers record, and whether a writer is alive.

Both sides need them: the writer stamps ``host`` and ``pid`` on every
``run.start`` (and names its files after them), and readers use the pair to
tell a run that is still going from one whose process died (interrupted).
"""

from __future__ import annotations

import os
import time

__all__ = ["HOST", "process_alive"]


def _hostname() -> str:
    # os.uname() instead of socket.gethostname(): the same name, without the few
    # milliseconds that importing socket costs `import jsontrace`.
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket

    return socket.gethostname()


#: This machine's name, as writers record it in ``host``.
HOST: str = _hostname()

# A viewer asks about the same few pids for every running run on every repaint.
_TTL_S = 2.0
_cache: dict[int, tuple[float, bool]] = {}


def process_alive(host: object, pid: object) -> bool | None:
    """Whether the writer process *pid* on *host* still runs.

    ``None`` when that cannot be known here: another host, or a pid that is
    not a positive int. The answer is cached for a couple of seconds.
    """
    if host != HOST or type(pid) is not int or pid <= 0:
        return None
    now = time.monotonic()
    cached = _cache.get(pid)
    if cached is not None and now - cached[0] < _TTL_S:
        return cached[1]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        alive = False
    except (OSError, OverflowError):
        alive = True  # EPERM: it exists, owned by someone else; a huge pid: do not guess
    else:
        alive = True
    _cache[pid] = (now, alive)
    return alive
