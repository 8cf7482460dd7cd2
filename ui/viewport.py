"""The viewer's screen width, measured in the browser, so the wall can scale itself for 4K panels.

CSS scaling (zoom/transform) breaks canvas-based charts, tables and the map, which measure themselves with
getBoundingClientRect. Instead a tiny JavaScript-only component reports ``window.innerWidth``; the wall multiplies
its heights and font sizes by ``scale`` (1 at 1920 px, 2 at 3840 px). The first run renders at scale 1; only a
window whose scale differs reports its width, which triggers one rerun (a 1080p screen runs the page once).
"""
from __future__ import annotations

import streamlit as st

BASE_WIDTH = 1920

_JS = """
export default function ({ data, setStateValue }) {
  const scaleOf = w => Math.min(2, Math.max(1, w / %d));
  // The server already renders at the scale of the width it knows (1 before any report): report only a width that
  // changes the scale, so a 1080p screen never pays a second run of the page.
  let known = scaleOf((data && data.width) || %d);
  const report = () => {
    const width = Math.round(window.innerWidth);
    if (Math.abs(scaleOf(width) - known) < 0.01) return;
    known = scaleOf(width);
    setStateValue("width", width);
  };
  report();
  window.addEventListener("resize", report);
  return () => window.removeEventListener("resize", report);
}
""" % (BASE_WIDTH, BASE_WIDTH)
_probe = st.components.v2.component("gridscope_viewport", js=_JS)


def screen_scale(key: str = "viewport") -> float:
    """1.0 … 2.0: the viewer's window width over 1920 px (1.0 until the browser has reported a wider one)."""
    known = st.session_state.get(f"_{key}_width")
    result = _probe(key=key, data={"width": known}, on_width_change=lambda: None)
    width = getattr(result, "width", None) if result is not None else None
    try:
        width = float(width) if width else None
    except (TypeError, ValueError):
        width = None
    st.session_state[f"_{key}_width"] = width
    return min(2.0, max(1.0, width / BASE_WIDTH)) if width else 1.0
