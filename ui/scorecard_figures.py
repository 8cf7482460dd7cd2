"""Plotly figures of the scorecard pages: pure ``make_*_figure(frame, ...) -> Figure`` functions, dark-friendly.

They take the small frames of the scorecard models (``reports.departments.Scorecard.table``, ``Ranking.table``,
``DepartmentView.peers`` …) and labels already translated by the caller, so they can be tested without Streamlit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.figures import COLOURS, DARK
from ui.safe import chart_text

GREY = "#8b98a5"
FAINT = "rgba(255,255,255,0.08)"


def _layout(fig: go.Figure, height: int, title: str | None = None, legend: bool = False) -> go.Figure:
    top = (40 if title else 8) + (26 if legend else 0)
    fig.update_layout(
        height=height,
        margin=dict(l=8, r=16, t=top, b=8),
        title=dict(text=title, y=0.99, yanchor="top"),
        showlegend=legend,
        legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0),
        **DARK,
    )
    fig.update_xaxes(gridcolor=FAINT, zerolinecolor=FAINT)
    fig.update_yaxes(gridcolor=FAINT, zerolinecolor=FAINT)
    return fig


def short_label(text, limit: int = 22) -> str:
    """Axis labels longer than ``limit`` characters are cut with "…" (the hover text keeps the full name)."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _labels(series: pd.Series) -> list[str]:
    """Short axis labels, unless shortening would make two of them equal (a category axis would merge them)."""
    short = [short_label(v) for v in series]
    shown = short if len(set(short)) == len(set(map(str, series))) else [str(v) for v in series]
    return [chart_text(v) for v in shown]  # names are data: Plotly's label markup would render their <a href>


def _height(n: int, per_row: int = 26, minimum: int = 260) -> int:
    return max(minimum, 60 + per_row * n)


def make_oe_figure(
    table: pd.DataFrame,
    label_col: str,
    *,
    title: str | None = None,
    hover_template: str = "",
    reference_label: str = "1.0",
) -> go.Figure:
    """O/E per unit as a dot with its 95 % interval (best on top), a line at 1 (= the district on the same case mix).
    Red when the whole interval is below 1, green when above, grey when it cannot be told from 1. Units without an
    O/E are left out. ``hover_template`` may use {label}, {oe}, {lo}, {hi}, {rank}."""
    data = table[table["oe"].notna()].sort_values("oe", ascending=True)
    colours = np.where(data["oe_hi"] < 1, COLOURS["bad"], np.where(data["oe_lo"] > 1, COLOURS["good"], GREY))
    hover = [
        hover_template.format(label=chart_text(lab), oe=oe, lo=lo, hi=hi, rank="—" if pd.isna(r) else int(r))
        if hover_template
        else f"{chart_text(lab)}: {oe:.3f} ({lo:.3f}–{hi:.3f})"
        for lab, oe, lo, hi, r in zip(
            data[label_col],
            data["oe"],
            data["oe_lo"],
            data["oe_hi"],
            data.get("oe_rank", pd.Series([np.nan] * len(data))),
        )
    ]
    fig = go.Figure(
        go.Scatter(
            x=data["oe"],
            y=_labels(data[label_col]),
            mode="markers",
            marker=dict(size=10, color=list(colours), line=dict(width=0)),
            error_x=dict(
                type="data",
                symmetric=False,
                array=(data["oe_hi"] - data["oe"]).to_numpy(),
                arrayminus=(data["oe"] - data["oe_lo"]).to_numpy(),
                color=GREY,
                thickness=1.5,
                width=3,
            ),
            hovertext=hover,
            hoverinfo="text",
        )
    )
    fig.add_vline(
        x=1.0,
        line=dict(color="#dde6f0", width=1, dash="dot"),
        annotation_text=reference_label,
        annotation_position="top",
    )
    fig.update_yaxes(type="category")
    return _layout(fig, _height(len(data)), title)


def make_indicator_figure(
    table: pd.DataFrame,
    label_col: str,
    value_col: str,
    *,
    percent: bool = True,
    higher_is_better: bool = True,
    title: str | None = None,
    unranked_col: str | None = None,
) -> go.Figure:
    """Horizontal bars of one indicator, best on top; units not ranked (``unranked_col`` False) are drawn grey."""
    data = table[table[value_col].notna()].sort_values(value_col, ascending=not higher_is_better)
    data = data.iloc[::-1]
    ranked = data[unranked_col].astype(bool) if unranked_col and unranked_col in data else pd.Series(True, data.index)
    colours = [COLOURS["bar"] if r else GREY for r in ranked]
    text = [f"{v:.1%}" if percent else f"{v:,.1f}" for v in data[value_col]]
    fig = go.Figure(
        go.Bar(
            x=data[value_col],
            y=_labels(data[label_col]),
            orientation="h",
            marker_color=colours,
            text=text,
            textposition="auto",
            hovertext=[chart_text(v) for v in data[label_col]],
            hoverinfo="text+x",
        )
    )
    if percent and len(data):
        low = max(0.0, float(data[value_col].min()) - 0.05) if higher_is_better else 0.0
        high = 1.0 if higher_is_better else min(1.0, float(data[value_col].max()) * 1.15 + 0.01)
        fig.update_xaxes(range=[low, high], tickformat=".0%")
    fig.update_yaxes(type="category")
    return _layout(fig, _height(len(data)), title)


def make_rank_interval_figure(
    table: pd.DataFrame, label_col: str, prefix: str, *, title: str | None = None
) -> go.Figure:
    """Each ranked unit's rank (dot) and 95 % rank interval (bar), rank 1 on top: overlapping bars are units the
    data cannot order."""
    data = table[table[f"{prefix}_ranked"].astype(bool)].sort_values(f"{prefix}_rank", ascending=False)
    rank = data[f"{prefix}_rank"].astype(float)
    lo, hi = data[f"{prefix}_rank_lo"].astype(float), data[f"{prefix}_rank_hi"].astype(float)
    fig = go.Figure(
        go.Scatter(
            x=rank,
            y=_labels(data[label_col]),
            mode="markers",
            marker=dict(size=9, color=COLOURS["bar"]),
            error_x=dict(
                type="data",
                symmetric=False,
                array=(hi - rank).to_numpy(),
                arrayminus=(rank - lo).to_numpy(),
                color=GREY,
                thickness=1.5,
                width=3,
            ),
            hovertext=[
                f"{chart_text(lab)}: {int(r)} ({int(a)}–{int(b)})"
                for lab, r, a, b in zip(data[label_col], rank, lo, hi)
            ],
            hoverinfo="text",
        )
    )
    n = int(rank.max()) if len(rank) else 1
    fig.update_xaxes(range=[0.5, n + 0.5], dtick=max(1, n // 10))
    fig.update_yaxes(type="category")
    return _layout(fig, _height(len(data)), title)


def make_trend_figure(
    trend: pd.DataFrame, series: dict[str, str], *, percent_cols=(), title: str | None = None, height: int = 280
) -> go.Figure:
    """Lines per period (x = period start) for the columns in ``series`` ({column: label}); columns in
    ``percent_cols`` on a percent axis, the others (e.g. O/E) on a second axis."""
    fig = go.Figure()
    palette = [COLOURS["bar"], COLOURS["new"], COLOURS["closed"], "#c792ea"]
    for i, (col, lab) in enumerate(series.items()):
        fig.add_scatter(
            x=trend["start"],
            y=trend[col],
            name=lab,
            mode="lines+markers",
            line=dict(color=palette[i % len(palette)], width=2.5),
            yaxis="y" if col in percent_cols else "y2",
        )
    fig.update_layout(
        yaxis=dict(tickformat=".0%", gridcolor=FAINT), yaxis2=dict(overlaying="y", side="right", showgrid=False)
    )
    return _layout(fig, height, title, legend=True)


def make_peer_figure(
    values: pd.DataFrame,
    labels: dict[str, str] | None = None,
    *,
    title: str | None = None,
    unit_label: str = "",
    peer_label: str = "",
) -> go.Figure:
    """The department against its peers, one row per rate indicator: ``key``, ``value`` (the department),
    ``median``, ``q1``, ``q3`` of the ranked departments (a grey band and a tick) — all in [0, 1]. ``labels`` maps
    the keys to the row labels (default: the keys)."""
    data = values.iloc[::-1]
    rows = [(labels or {}).get(k, k) for k in data["key"]]
    fig = go.Figure()
    fig.add_bar(
        x=(data["q3"] - data["q1"]),
        base=data["q1"],
        y=rows,
        orientation="h",
        marker_color="rgba(139,152,165,0.35)",
        name=peer_label,
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=data["median"],
        y=rows,
        mode="markers",
        name=peer_label,
        marker=dict(symbol="line-ns-open", size=18, color=GREY, line=dict(width=2)),
        showlegend=False,
    )
    fig.add_scatter(
        x=data["value"],
        y=rows,
        mode="markers",
        name=unit_label,
        marker=dict(size=12, color=COLOURS["new"]),
        text=[f"{v:.1%}" for v in data["value"]],
        hoverinfo="y+text",
    )
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(type="category")
    return _layout(fig, _height(len(data), 34), title, legend=True)


def make_category_figure(
    cats: pd.DataFrame, label_col: str, *, title: str | None = None, labels: tuple[str, str] = ("", "")
) -> go.Figure:
    """Per category of one unit: its on-time rate (dot) next to the reference (district) rate (tick)."""
    data = cats.sort_values("due").tail(15)
    rate = data["ontime"] / data["due"].where(data["due"] > 0)
    fig = go.Figure()
    fig.add_scatter(
        x=data["district_rate"],
        y=_labels(data[label_col]),
        mode="markers",
        name=labels[1],
        marker=dict(symbol="line-ns-open", size=18, color=GREY, line=dict(width=2)),
    )
    fig.add_scatter(
        x=rate,
        y=_labels(data[label_col]),
        mode="markers",
        name=labels[0],
        marker=dict(
            size=11, color=[COLOURS["bad"] if r < d else COLOURS["good"] for r, d in zip(rate, data["district_rate"])]
        ),
        text=[f"{r:.1%} / n={n}" for r, n in zip(rate, data["due"])],
        hoverinfo="y+text",
    )
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(type="category")
    return _layout(fig, _height(len(data), 30), title, legend=True)


def make_oe_ranking_figure(
    frame: pd.DataFrame, label_col: str, *, height: int = 330, title: str | None = None
) -> go.Figure:
    """Compact O/E bars for the wall's mini-ranking: one bar per unit from 1 to its O/E (best on top), green above
    1, red below, the O/E printed. ``frame`` is already cut to what should be shown (e.g. best 5 and worst 5 of the
    ranked units of ``reports.departments.scorecard(...).table``)."""
    data = frame.sort_values("oe", ascending=True)
    delta = data["oe"] - 1.0
    colours = [COLOURS["good"] if d >= 0 else COLOURS["bad"] for d in delta]
    fig = go.Figure(
        go.Bar(
            x=delta,
            base=1.0,
            y=_labels(data[label_col]),
            orientation="h",
            marker_color=colours,
            text=[f"{v:.2f}" for v in data["oe"]],
            textposition="outside",
            cliponaxis=False,
            hovertext=[chart_text(v) for v in data[label_col]],
            hoverinfo="text+x",
        )
    )
    span = float(delta.abs().max()) if len(delta) else 0.1
    span = max(span * 1.3, 0.02)
    fig.update_xaxes(range=[1 - span, 1 + span], tickformat=".2f")
    fig.add_vline(x=1.0, line=dict(color="#dde6f0", width=1, dash="dot"))
    fig.update_yaxes(type="category")
    return _layout(fig, height, title)
