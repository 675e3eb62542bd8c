"""jsontrace-view: a live terminal viewer for jsontrace files (Textual).

The reading side lives in :mod:`jsontrace.reader` and :mod:`jsontrace.store` and
never imports Textual or watchdog; this package is the UI on top of it.
"""
