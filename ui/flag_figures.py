"""Figures, tables and labels of the flags page (选择性上报预警): funnel plots, the indicator trend, worded tables.

The figures only draw: every number (the typical value, the limits, the between-unit variance τ² that widens them,
each unit's level) comes computed in the screen model (``reports.reporting.funnel`` / ``evidence_card``, from
``analytics.flags.funnel_data``). A funnel plot (Spiegelhalter 2005) places every unit by its volume (x) and its
value (y) around the typical value, with limits that narrow as the volume grows; units are coloured by the flag
level of their family (red 疑似, amber 建议核查), which also accounts for the other indicators, the number of units
tested (FDR) and persistence — so a dot outside a limit is not always flagged, and that is intended. Indicators
without one typical value (A2, A3 odds ratios, B2 observed/expected volume) are drawn standardised: z against
volume, limits at ±1.96 and ±3.09. Words come from the catalogs ``reporting`` and ``flags``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.figures import DARK
from ui.i18n import catalog, label
from ui.safe import chart_text

T = catalog("reporting")
FT = catalog("flags")  # the vocabulary the wall shares: levels, unit types, families, indicators

LEVEL_COLOURS = {"red": "#e5484d", "amber": "#f0b43c", "none": "#4aa3f0", "insufficient": "#8b96a5"}
LIMIT_COLOURS = {"95": "rgba(221,230,240,0.45)", "998": "rgba(229,72,77,0.75)", "target": "rgba(221,230,240,0.8)"}


# --- labels -----------------------------------------------------------------------------------------------------------
def unit_text(unit_type: str, name, shown_id) -> str:
    """A unit as the page names it: a street's or community's name, else its kind and (masked) id."""
    if isinstance(name, str) and name:
        return name
    return f"{FT(unit_type)} {shown_id}"


def family_text(family: str) -> str:
    """``B · 冲量``: the family's code and its one name (catalog ``flags``, key ``fam_<family>``)."""
    return f"{family} · {FT('fam_' + family)}"


def indicator_text(indicator: str) -> str:
    return f"{indicator} · {FT('ind_' + indicator)}" if f"ind_{indicator}" in FT else indicator


def fmt_p(p) -> str:
    """A p- or q-value for the card and the list."""
    if p is None or not np.isfinite(float(p)):
        return "—"
    return "< 0.0001" if float(p) < 1e-4 else f"{float(p):.4f}"


def fmt_value(x, kind: str) -> str:
    """An indicator value: a count for ``kind == "count"``, else a percentage."""
    if x is None or not np.isfinite(float(x)):
        return "—"
    return f"{float(x):.0f}" if kind == "count" else f"{100 * float(x):.0f}%"


def status_text(status) -> str:
    """A review's status code (reviewed / confirmed / dismissed) in words; empty for none."""
    return T(f"s_{status}") if isinstance(status, str) and f"s_{status}" in T else ""


def observed_text(card) -> str:
    """What was seen (a ``reports.reporting.EvidenceCard``): the lead indicator, the unit's and the typical value."""
    if not card.enough:
        return T("observed_insufficient")
    return T(
        "observed_text",
        indicator=T("desc_" + card.indicator),
        value=fmt_value(card.observed, card.value_kind),
        usual=fmt_value(card.expected, card.value_kind),
    )


def stats_text(card) -> str:
    """The card's small print: the family p, the unit's q, persistent / backed by a second family."""
    extra = [T(k) for k, on in (("persistent", card.persistent), ("backed", card.backed)) if on]
    return " · ".join([T("stats", p=fmt_p(card.family_p), q=fmt_p(card.q))] + extra)


# --- tables -----------------------------------------------------------------------------------------------------------
LEVEL_STYLES = {"red": "color: #ff6b6b; font-weight: 600", "amber": "color: #f0b43c"}


def flag_table(flags: pd.DataFrame):
    """The flag list (``reports.reporting.FlagList.flags``) as the page shows it: worded columns, levels coloured
    (text, not emoji: intranet browsers often lack an emoji font)."""
    from ui.flags_cache import short_reason  # the one-line reason the wall shows too

    table = pd.DataFrame(
        {
            T("c_level"): flags["level"].map(FT),
            T("c_unit"): flag_units(flags),
            T("c_type"): flags["unit_type"].map(FT),
            T("c_street"): flags["street_name"].fillna(""),
            T("c_family"): flags["family"].map(family_text),
            T("c_reason"): [short_reason(r) for _, r in flags.iterrows()],
            T("c_q"): flags["q"].map(fmt_p),
            T("c_persistent"): flags["persistent"].astype(bool),
            T("c_review"): flags["review"].map(status_text),
        }
    )
    colours = {FT(level): style for level, style in LEVEL_STYLES.items()}
    return table.style.map(lambda v: colours.get(v, ""), subset=[T("c_level")])


def flag_units(frame: pd.DataFrame) -> list[str]:
    """``unit_text`` of every row of a frame with ``unit_type``, ``name``, ``shown_id``."""
    return [unit_text(t, n, s) for t, n, s in zip(frame["unit_type"], frame["name"], frame["shown_id"])]


def flag_labels(flags: pd.DataFrame) -> dict:
    """{flag_id: "level · unit · family"}: the evidence-card picker's options."""
    return {
        k: f"{FT(lv)} · {n} · {family_text(f)}"
        for k, lv, n, f in zip(flags["flag_id"], flags["level"], flag_units(flags), flags["family"])
    }


def cases_table(cases: pd.DataFrame) -> pd.DataFrame:
    """The cases behind a flag with worded columns and a link to each case on the backlog page."""
    table = pd.DataFrame(
        {
            T("case_no"): cases["case_no"],
            T("channel"): cases["channel"].map(lambda c: label("channels", c)),
            T("category"): cases["category"],
            T("grid"): cases["grid_id"],
            T("reported"): cases["reported_at"],
            T("status"): cases["status"].map(lambda s: label("statuses", s)),
        }
    )
    if "lag_min" in cases:
        table[T("lag")] = cases["lag_min"].astype(float).round(1)
    table[T("open_case")] = [f"/backlog?case={int(i)}" for i in cases["id"]]
    return table


def review_table(history: pd.DataFrame) -> pd.DataFrame:
    """A unit's reviews (``reports.reporting.review_history``) with worded columns."""
    return pd.DataFrame(
        {
            T("r_at"): history["created_at"],
            T("r_by"): history["reviewer"],
            T("r_status"): history["status"].map(status_text),
            T("r_family"): history["family"].map(family_text),
            T("r_note"): history["note"],
            T("r_period"): pd.to_datetime(history["period_end"]).dt.date,
        }
    )


def thin_table(thin: pd.DataFrame) -> pd.DataFrame:
    """Streets and communities without enough data."""
    return pd.DataFrame({T("c_unit"): flag_units(thin), T("c_type"): thin["unit_type"].map(FT)})


# --- figures ----------------------------------------------------------------------------------------------------------
def _layout(fig: go.Figure, height: int, title: str | None) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=8, r=8, t=40 if title else 8, b=8),
        title=title,
        legend=dict(orientation="h", y=-0.18, x=0),
        hovermode="closest",
        **DARK,
    )
    fig.update_xaxes(gridcolor="rgba(255,255,255,0.08)", zeroline=False)
    fig.update_yaxes(gridcolor="rgba(255,255,255,0.08)", zeroline=False)
    return fig


def make_funnel_figure(model, *, height: int = 380, title: str | None = None) -> go.Figure:
    """The funnel plot of a ``reports.reporting.FunnelModel``: limits and target lines, one marker trace per level
    (flagged units large, units without enough data hollow), the open flag's unit ringed."""
    fig = go.Figure()
    points, limits = model.points, model.limits
    if points.empty:
        return _layout(fig, height, title)
    if len(limits):
        n = limits["n"].to_numpy(float)
        for key, lo, hi, dash, colour in (
            ("fig_limit998", "lo998", "hi998", "solid", LIMIT_COLOURS["998"]),
            ("fig_limit95", "lo95", "hi95", "dot", LIMIT_COLOURS["95"]),
        ):
            line = dict(color=colour, width=1.5, dash=dash)
            fig.add_scatter(x=n, y=limits[lo], mode="lines", line=line, name=T(key), hoverinfo="skip", legendgroup=key)
            fig.add_scatter(
                x=n,
                y=limits[hi],
                mode="lines",
                line=line,
                name=T(key),
                hoverinfo="skip",
                legendgroup=key,
                showlegend=False,
            )
        fig.add_scatter(
            x=[n[0], n[-1]],
            y=[model.target, model.target],
            mode="lines",
            name=T("fig_target"),
            hoverinfo="skip",
            line=dict(color=LIMIT_COLOURS["target"], width=1.5, dash="dash"),
        )
    if model.proportion:
        fig.update_yaxes(tickformat=".0%", title_text=T("fig_value"))
    else:
        fig.update_yaxes(title_text=T("fig_z"))
    fmt = (lambda v: f"{v:.1%}") if model.proportion else (lambda v: f"{v:.2f}")
    for level in ("insufficient", "none", "amber", "red"):
        part = points[points["level"] == level]
        if part.empty:
            continue
        big = level in ("red", "amber")
        hover = [
            f"<b>{chart_text(unit_text(t, nm, sid))}</b><br>{T('fig_value')}: {fmt(y)}<br>{T('fig_volume')}: {v:,.0f}"
            + ("" if not np.isfinite(z) else f"<br>z = {z:.2f}")
            for t, nm, sid, y, v, z in zip(
                part["unit_type"], part["name"], part["shown_id"], part["y"], part["n"], part["z"].astype(float)
            )
        ]
        marker = dict(
            color=LEVEL_COLOURS[level],
            size=13 if big else 8,
            line=dict(color="#ffffff", width=1.5) if big else dict(width=0),
        )
        if level == "insufficient":
            marker = dict(color="rgba(0,0,0,0)", size=7, line=dict(color=LEVEL_COLOURS[level], width=1))
        fig.add_scatter(
            x=part["n"],
            y=part["y"],
            mode="markers",
            name=FT(level),
            marker=marker,
            text=hover,
            hovertemplate="%{text}<extra></extra>",
        )
    sel = points[points["selected"]]
    if len(sel):
        fig.add_scatter(
            x=sel["n"],
            y=sel["y"],
            mode="markers",
            name=T("fig_selected"),
            hoverinfo="skip",
            marker=dict(size=24, color="rgba(0,0,0,0)", line=dict(color="#ffffff", width=2.5)),
        )
    fig.update_xaxes(type="log", title_text=T("fig_volume"))
    return _layout(fig, height, title)


def make_indicator_trend_figure(trend: pd.DataFrame, value_kind: str, *, height: int = 200) -> go.Figure:
    """The unit's lead indicator across the flag windows and the typical value of similar units (``trend`` of a
    ``reports.reporting.EvidenceCard``: ``window_end``, ``observed``, ``expected``)."""
    fig = go.Figure()
    fig.add_scatter(
        x=trend["window_end"],
        y=trend["observed"],
        name=T("this_unit"),
        mode="lines+markers",
        line=dict(color=LEVEL_COLOURS["amber"], width=3),
        marker=dict(size=9),
    )
    fig.add_scatter(
        x=trend["window_end"],
        y=trend["expected"],
        name=T("typical"),
        mode="lines+markers",
        line=dict(color=LIMIT_COLOURS["target"], width=2, dash="dash"),
        marker=dict(size=7),
    )
    if value_kind == "share":
        fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(tickformat="%m-%d")
    fig = _layout(fig, height, None)
    fig.update_layout(legend=dict(orientation="h", y=1.15, x=0))
    return fig
