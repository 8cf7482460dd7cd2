"""The viewer's screen width, measured in the browser, so the wall can scale itself for 4K panels.

CSS scaling (zoom/transform) breaks canvas-based charts, tables and the map, which measure themselves with
getBoundingClientRect. Instead a tiny JavaScript-only component reports ``window.innerWidth``; the wall multiplies
its heights and font sizes by ``scale`` (1 at 1920 px, 2 at 3840 px). The first run renders at scale 1 and the
report triggers one rerun.
"""
from __future__ import annotations

import streamlit as st

BASE_WIDTH = 1920

_JS = """
export default function ({ setStateValue }) {
  const report = () => setStateValue("width", Math.round(window.innerWidth));
  report();
  window.addEventListener("resize", report);
  return () => window.removeEventListener("resize", report);
}
"""
_probe = st.components.v2.component("gridscope_viewport", js=_JS)


def screen_scale(key: str = "viewport") -> float:
    """1.0 … 2.0: the viewer's window width over 1920 px (1.0 until the browser has reported)."""
    result = _probe(key=key, on_width_change=lambda: None)
    width = getattr(result, "width", None) if result is not None else None
    try:
        return min(2.0, max(1.0, float(width) / BASE_WIDTH)) if width else 1.0
    except (TypeError, ValueError):
        return 1.0
