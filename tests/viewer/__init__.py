"""Tests of the viewer package, jsontrace_view."""
