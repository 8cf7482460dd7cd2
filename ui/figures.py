"""Plotly figure builders: pure ``make_*_figure(frame) -> Figure`` functions for a dark wall and the pages."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

DARK = dict(paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", font=dict(color="#dde6f0", size=14))
COLOURS = {"new": "#f0b43c", "closed": "#4cc38a", "bar": "#4aa3f0", "bad": "#e5484d", "good": "#4cc38a"}


def _layout(fig: go.Figure, height: int, title: str | None = None, legend: bool = True,
            font_size: float = 14) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=8, r=8, t=int(2.5 * font_size) if title else 6, b=6),
                      title=dict(text=title, font=dict(size=font_size * 1.15)) if title else None,
                      showlegend=legend, legend=dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right"),
                      **{**DARK, "font": dict(color=DARK["font"]["color"], size=font_size)})
    # Explicit tick fonts and automargin: otherwise plotly shrinks long (Chinese) category labels to fit.
    fig.update_xaxes(gridcolor="rgba(255,255,255,0.08)", tickfont=dict(size=font_size * 0.9), automargin=True)
    fig.update_yaxes(gridcolor="rgba(255,255,255,0.08)", tickfont=dict(size=font_size * 0.9), automargin=True)
    return fig


def make_trend_figure(daily: pd.DataFrame, labels: dict[str, str], height: int = 230,
                      title: str | None = None, font_size: float = 14) -> go.Figure:
    """New vs closed per day; ``daily`` has day, new, closed."""
    fig = go.Figure()
    fig.add_scatter(x=daily["day"], y=daily["new"], name=labels["new"], mode="lines",
                    line=dict(color=COLOURS["new"], width=3))
    fig.add_scatter(x=daily["day"], y=daily["closed"], name=labels["closed"], mode="lines",
                    line=dict(color=COLOURS["closed"], width=3))
    fig.update_xaxes(tickformat="%m-%d")        # language-neutral dates
    return _layout(fig, height, title, font_size=font_size)


def make_share_bar_figure(frame: pd.DataFrame, label_col: str, value_col: str, height: int = 230,
                          title: str | None = None, percent: bool = True, font_size: float = 14) -> go.Figure:
    """Horizontal bars (largest on top), e.g. the channel mix."""
    data = frame.sort_values(value_col)
    text = [f"{v:.0%}" if percent else f"{v:,.0f}" for v in data[value_col]]
    fig = go.Figure(go.Bar(x=data[value_col], y=data[label_col], orientation="h", text=text,
                           textposition="outside", cliponaxis=False, marker_color=COLOURS["bar"]))
    fig.update_xaxes(showticklabels=False, showgrid=False, range=[0, float(data[value_col].max() or 1) * 1.18])
    return _layout(fig, height, title, legend=False, font_size=font_size)
