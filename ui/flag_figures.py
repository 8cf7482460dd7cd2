"""Figures of the flags page (选择性上报预警): funnel plots and the indicator trend. Pure functions, dark-friendly.

A funnel plot (Spiegelhalter 2005) places every unit by its volume (x) and its value (y) around the typical value,
with control limits that narrow as the volume grows. The limits are widened by the same between-unit variance τ²
that ``analytics.flags`` used (re-estimated here from the same rows with ``analytics.funnel.overdispersion_tau2``),
so a unit outside the drawn limits is unusual *after* honest differences between units. Units are coloured by the
flag level of their family (red 疑似, amber 建议核查), which also accounts for the other indicators, the number of
units tested (FDR) and persistence — so a dot outside a limit is not always flagged, and that is intended.

Indicators that are not simple proportions (A2, A3 odds ratios, B2 observed/expected volume) have no single typical
value to draw around; they are shown standardised: z-score against volume, limits at ±1.96 and ±3.09.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.flags import FlagConfig
from analytics.funnel import overdispersion_tau2
from ui.figures import DARK

# Proportion indicators with a common typical value (expected = p0 for every unit) and their suspicious side.
PROPORTION = {"A1": "low", "A1F": "low", "A4": "low", "B1": "high", "B3": "high", "C1": "high", "C2": "high",
              "C3": "low", "D1": "high", "D2": "high"}
# The drawn limits use the analysis's own spread settings (one source: FlagConfig's defaults).
_CONFIG = FlagConfig()
WINSOR = {"A": _CONFIG.winsor, "B": _CONFIG.winsor, "C": _CONFIG.winsor_people, "D": _CONFIG.winsor_people}
PEOPLE_FAMILIES = ("C", "D")      # per-person families: between-person spread floored like the analysis
LEVEL_COLOURS = {"red": "#e5484d", "amber": "#f0b43c", "none": "#4aa3f0", "insufficient": "#8b96a5"}
LIMIT_COLOURS = {"95": "rgba(221,230,240,0.45)", "998": "rgba(229,72,77,0.75)", "target": "rgba(221,230,240,0.8)"}
Z95, Z998 = 1.959964, 3.090232
DEFAULT_LABELS = {
    "red": "疑似", "amber": "建议核查", "none": "未见异常", "insufficient": "数据不足",
    "volume": "数据量", "value": "指标值", "z": "标准化得分 z（越低越可疑）", "target": "类似单元典型值",
    "limit95": "95% 控制限", "limit998": "99.8% 控制限", "observed": "本单元", "expected": "类似单元",
    "selected": "当前查看",
}


def funnel_indicators(indicators: pd.DataFrame, family: str) -> list[str]:
    """The indicators of ``family`` present in ``indicators``, proportion indicators first (they draw as funnels)."""
    found = indicators.loc[indicators["family"] == family, "indicator"].dropna().unique().tolist()
    return sorted(found, key=lambda i: (i not in PROPORTION, i))


def funnel_limits(p0: float, tau2: float, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits of a proportion at volumes ``n``: p0 ± z·sqrt(p0(1−p0)/n + τ²), clipped to [0, 1]."""
    se = np.sqrt(p0 * (1 - p0) / np.asarray(n, dtype=float) + max(tau2, 0.0))
    return np.clip(p0 - z * se, 0, 1), np.clip(p0 + z * se, 0, 1)


def _layout(fig: go.Figure, height: int, title: str | None) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=8, r=8, t=40 if title else 8, b=8), title=title,
                      legend=dict(orientation="h", y=-0.18, x=0), hovermode="closest", **DARK)
    fig.update_xaxes(gridcolor="rgba(255,255,255,0.08)", zeroline=False)
    fig.update_yaxes(gridcolor="rgba(255,255,255,0.08)", zeroline=False)
    return fig


def make_funnel_figure(indicators: pd.DataFrame, family: str, *, indicator: str | None = None,
                       unit_type: str | None = None, levels: dict | None = None, names: dict | None = None,
                       highlight: tuple | None = None, labels: dict | None = None, height: int = 380,
                       title: str | None = None) -> go.Figure:
    """Funnel plot of one indicator of ``family`` for one unit type.

    ``indicators``: rows of ``FlagReport.indicators`` (unit_type, unit_id, family, indicator, observed, expected, n,
    z, enough). ``levels``: {(unit_type, unit_id): level} of this family (red / amber / none / insufficient) —
    flagged units are drawn large in red/amber. ``names``: {(unit_type, unit_id): display name}. ``highlight``:
    (unit_type, unit_id) ringed as the unit being looked at. Units without enough data are hollow grey dots.
    """
    lab = {**DEFAULT_LABELS, **(labels or {})}
    rows = indicators[indicators["family"] == family]
    if indicator is None:
        choices = funnel_indicators(indicators, family)
        indicator = choices[0] if choices else None
    rows = rows[rows["indicator"] == indicator]
    if unit_type is None and len(rows):
        unit_type = rows["unit_type"].value_counts().index[0]
    rows = rows[rows["unit_type"] == unit_type].copy()
    fig = go.Figure()
    if rows.empty:
        return _layout(fig, height, title)
    rows["n"] = rows["n"].astype(float)
    rows = rows[rows["n"] > 0]
    levels, names = levels or {}, names or {}
    keys = list(zip(rows["unit_type"], rows["unit_id"]))
    rows["level"] = [levels.get(k, "none") if e else "insufficient" for k, e in zip(keys, rows["enough"])]
    rows["name"] = [str(names.get(k, k[1])) for k in keys]
    proportion = indicator in PROPORTION
    ok = rows[rows["enough"].astype(bool) & rows["z"].notna()]
    if proportion:
        rows["y"] = rows["observed"].astype(float)
        if len(ok):
            p0 = float(np.nanmedian(ok["expected"].astype(float)))
            n_ok = ok["n"].to_numpy(float)
            tau2 = overdispersion_tau2(ok["observed"].to_numpy(float), np.sqrt(p0 * (1 - p0) / n_ok), p0,
                                       WINSOR.get(family, _CONFIG.winsor)) if 0 < p0 < 1 else 0.0
            if family in PEOPLE_FAMILIES:
                tau2 = max(tau2, _CONFIG.min_icc_people * p0 * (1 - p0))
            grid = np.unique(np.geomspace(max(1.0, rows["n"].min()), max(rows["n"].max(), 2.0), 120))
            for key, z, dash in (("limit998", Z998, "solid"), ("limit95", Z95, "dot")):
                lo, hi = funnel_limits(p0, tau2, grid, z)
                colour = LIMIT_COLOURS["998" if key == "limit998" else "95"]
                fig.add_scatter(x=grid, y=lo, mode="lines", line=dict(color=colour, width=1.5, dash=dash),
                                name=lab[key], hoverinfo="skip", legendgroup=key)
                fig.add_scatter(x=grid, y=hi, mode="lines", line=dict(color=colour, width=1.5, dash=dash),
                                name=lab[key], hoverinfo="skip", legendgroup=key, showlegend=False)
            fig.add_scatter(x=[grid[0], grid[-1]], y=[p0, p0], mode="lines", name=lab["target"], hoverinfo="skip",
                            line=dict(color=LIMIT_COLOURS["target"], width=1.5, dash="dash"))
        fig.update_yaxes(tickformat=".0%", title_text=lab["value"])
    else:
        rows["y"] = rows["z"].astype(float)
        if len(ok):
            x0, x1 = max(1.0, rows["n"].min()), max(rows["n"].max(), 2.0)
            for z, key, dash in ((-Z998, "limit998", "solid"), (Z998, "limit998", "solid"),
                                 (-Z95, "limit95", "dot"), (Z95, "limit95", "dot")):
                colour = LIMIT_COLOURS["998" if key == "limit998" else "95"]
                fig.add_scatter(x=[x0, x1], y=[z, z], mode="lines", name=lab[key], hoverinfo="skip",
                                line=dict(color=colour, width=1.5, dash=dash), legendgroup=key,
                                showlegend=z < 0)
            fig.add_scatter(x=[x0, x1], y=[0, 0], mode="lines", name=lab["target"], hoverinfo="skip",
                            line=dict(color=LIMIT_COLOURS["target"], width=1.5, dash="dash"))
        fig.update_yaxes(title_text=lab["z"])
    fmt = (lambda v: f"{v:.1%}") if proportion else (lambda v: f"{v:.2f}")
    for level in ("insufficient", "none", "amber", "red"):
        part = rows[(rows["level"] == level) & rows["y"].notna()]
        if part.empty:
            continue
        big = level in ("red", "amber")
        hover = [f"<b>{n}</b><br>{lab['value']}: {fmt(y)}<br>{lab['volume']}: {v:,.0f}"
                 + ("" if not np.isfinite(z) else f"<br>z = {z:.2f}")
                 for n, y, v, z in zip(part["name"], part["y"], part["n"], part["z"].astype(float))]
        marker = dict(color=LEVEL_COLOURS[level], size=13 if big else 8,
                      line=dict(color="#ffffff", width=1.5) if big else dict(width=0))
        if level == "insufficient":
            marker = dict(color="rgba(0,0,0,0)", size=7, line=dict(color=LEVEL_COLOURS[level], width=1))
        fig.add_scatter(x=part["n"], y=part["y"], mode="markers", name=lab[level], marker=marker,
                        text=hover, hovertemplate="%{text}<extra></extra>")
    if highlight is not None:
        hit = np.array([(t, str(u)) == (highlight[0], str(highlight[1]))
                        for t, u in zip(rows["unit_type"], rows["unit_id"])], dtype=bool)
        sel = rows[hit & rows["y"].notna().to_numpy()]
        if len(sel):
            fig.add_scatter(x=sel["n"], y=sel["y"], mode="markers", name=lab["selected"], hoverinfo="skip",
                            marker=dict(size=24, color="rgba(0,0,0,0)", line=dict(color="#ffffff", width=2.5)))
    fig.update_xaxes(type="log", title_text=lab["volume"])
    return _layout(fig, height, title)


def make_indicator_trend_figure(history: pd.DataFrame, unit_type: str, unit_id, indicator: str, *,
                                labels: dict | None = None, height: int = 200) -> go.Figure:
    """The unit's indicator across the flag windows (``history``: indicator rows with ``window_end``): the unit's
    value and the typical value of similar units. Windows without enough data are left out."""
    lab = {**DEFAULT_LABELS, **(labels or {})}
    h = history[(history["unit_type"] == unit_type) & (history["unit_id"].astype(str) == str(unit_id))
                & (history["indicator"] == indicator)]
    h = h[h["enough"].astype(bool)].sort_values("window_end")
    fig = go.Figure()
    fig.add_scatter(x=h["window_end"], y=h["observed"], name=lab["observed"], mode="lines+markers",
                    line=dict(color=LEVEL_COLOURS["amber"], width=3), marker=dict(size=9))
    fig.add_scatter(x=h["window_end"], y=h["expected"], name=lab["expected"], mode="lines+markers",
                    line=dict(color=LIMIT_COLOURS["target"], width=2, dash="dash"), marker=dict(size=7))
    if indicator in PROPORTION or indicator in ("A2", "A3"):
        fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(tickformat="%m-%d")
    fig = _layout(fig, height, None)
    fig.update_layout(legend=dict(orientation="h", y=1.15, x=0))
    return fig
