"""The viewer's widgets and screens."""

from __future__ import annotations

from .detail import RunDetail
from .help import HelpScreen
from .pager import PagerScreen
from .run_tree import RunTree
from .status import StatusBar
from .waterfall import Waterfall

__all__ = ["HelpScreen", "PagerScreen", "RunDetail", "RunTree", "StatusBar", "Waterfall"]
