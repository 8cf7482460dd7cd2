"""The dark theme shared by the plotly figures (``ui.scorecard_figures``, ``ui.flag_figures``) and the wall's HTML
charts (``ui.html_charts``)."""

from __future__ import annotations

DARK = dict(paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", font=dict(color="#dde6f0", size=14))
COLOURS = {"new": "#f0b43c", "closed": "#4cc38a", "bar": "#4aa3f0", "bad": "#e5484d", "good": "#4cc38a"}
