"""``python -m viewer``: the same as ``jsontrace-view``."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
