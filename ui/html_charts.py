"""The wall's panels as plain HTML and SVG, built on the server (pure functions, no Streamlit): small charts, KPI
tiles, the worst-grids table, the header and captions. They take the screen model (``reports.wall``) and the
words already translated.

Why not plotly on the wall: every new screen fetches and compiles plotly's 4.6 MB bundle and draws three charts in
the browser, about a second of the wall's load on a 2-core machine (bench/RESULTS.md), for charts nobody hovers.
These are bars and one line chart: HTML (in the page's own CJK font) and an SVG image (the system's sans-serif) draw
instantly, scale with the
screen like the rest of the wall (``screen_rem``), and are built once per data refresh for every screen
(``ui.live.derived``).
Every name is escaped (hostile department or channel names stay text).
"""

from __future__ import annotations

import base64
import math
from typing import Callable

import pandas as pd

from reports.wall import Kpi
from ui.figures import COLOURS
from ui.safe import html_text as escape

MUTED = "#9aa7b4"
TONE_COLOURS = {"good": COLOURS["good"], "bad": COLOURS["bad"], "neutral": MUTED}
GRID_LINE = "rgba(255,255,255,0.10)"
SVG_NS = "http://www.w3.org/2000/svg"  # an XML namespace name an SVG image must declare; never fetched
BASE_WIDTH_PX = 1920  # the wall's sizes are given for a 1080p screen's width
REM_PX = 16  # Streamlit's root font size


def screen_rem(size: float) -> str:
    """A CSS length: ``size`` rem on a 1920-px-wide window, growing with the window's width up to twice that at
    3840 px (4K panels). In CSS alone, so the server needs not know the screen: every screen gets the same HTML
    (one build per data refresh) and a 4K screen runs the page once, like a 1080p one."""
    return f"clamp({size:.3g}rem,{size * REM_PX * 100 / BASE_WIDTH_PX:.4g}vw,{2 * size:.3g}rem)"


def title_html(text: str | None) -> str:
    """A wall panel's title (every panel uses this one)."""
    return (
        f"<div style='font-size:{screen_rem(1.05)};font-weight:600;margin:.1rem 0 .35rem'>{escape(text)}</div>"
        if text
        else ""
    )


def _chart(rows: list[str], title: str | None) -> str:
    return f"<div data-testid='wall-chart' style='font-size:{screen_rem(0.9)}'>{title_html(title)}{''.join(rows)}</div>"


def _bar_row(label: str, bar_html: str, value: str, label_width: str) -> str:
    cell = "white-space:nowrap;overflow:hidden;text-overflow:ellipsis"
    return (
        f"<div style='display:flex;align-items:center;gap:.4rem;height:{screen_rem(1.55)}'>"
        f"<div title='{escape(label)}' style='flex:0 0 {label_width};text-align:right;{cell};color:#cfd8e2'>"
        f"{escape(label)}</div><div style='flex:1 1 auto;position:relative;height:{screen_rem(0.95)}'>"
        f"{bar_html}</div><div style='flex:0 0 3.2em;{cell}'>{escape(value)}</div></div>"
    )


def share_bars_html(
    frame: pd.DataFrame, label_col: str, value_col: str, *, title: str | None = None, percent: bool = True
) -> str:
    """Horizontal bars, largest on top (e.g. the channel mix); bar lengths relative to the largest value."""
    data = frame.sort_values(value_col, ascending=False)
    top = float(data[value_col].max()) if len(data) else 0.0
    rows = []
    for label, value in zip(data[label_col], data[value_col]):
        width = 0.0 if top <= 0 else 100.0 * float(value) / top
        bar = (
            f"<div style='position:absolute;left:0;top:0;bottom:0;width:{width:.1f}%;"
            f"background:{COLOURS['bar']};border-radius:2px'></div>"
        )
        rows.append(_bar_row(str(label), bar, f"{value:.0%}" if percent else f"{value:,.0f}", "34%"))
    return _chart(rows, title)


def oe_bars_html(frame: pd.DataFrame, label_col: str, *, title: str | None = None) -> str:
    """O/E ranking: one bar per unit from 1.0 to its O/E (green above, red below), best on top, value printed;
    the axis spans the largest deviation shown."""
    data = frame.sort_values("oe", ascending=False)
    span = max(float((data["oe"] - 1.0).abs().max()) * 1.15 if len(data) else 0.0, 0.02)
    rows = []
    for label, oe in zip(data[label_col], data["oe"]):
        delta = float(oe) - 1.0
        half = min(abs(delta) / span, 1.0) * 50.0  # per cent of the track; 1.0 sits in the middle
        left = 50.0 if delta >= 0 else 50.0 - half
        colour = COLOURS["good"] if delta >= 0 else COLOURS["bad"]
        bar = (
            f"<div style='position:absolute;left:50%;top:-2px;bottom:-2px;border-left:1px dotted {MUTED}'></div>"
            f"<div style='position:absolute;left:{left:.1f}%;width:{half:.1f}%;top:0;bottom:0;"
            f"background:{colour};border-radius:2px'></div>"
        )
        rows.append(_bar_row(str(label), bar, f"{oe:.2f}", "40%"))
    return _chart(rows, title)


def _nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round axis steps (1, 2, 2.5, 5 × 10^k) from 0 to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10.0 ** math.floor(math.log10(raw)) if raw >= 1 else 1.0
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks, value = [], 0.0
    while value < top + step * 0.999:
        ticks.append(value)
        value += step
    return ticks


def trend_svg(daily: pd.DataFrame, labels: dict[str, str], *, width: int = 500, height: int = 240) -> str:
    """New vs closed per day as an SVG document (a line chart); ``daily`` has day, new, closed. ``width`` ×
    ``height`` is the viewBox (CSS px of the column at 1920 px): shown at its column's width with its proportions, so
    a 4K screen's twice-as-wide column draws it, text included, twice as large."""
    w, h = width, height
    font = 14
    left, right, top_pad, bottom = 50, 8, 28, 24
    plot_w, plot_h = w - left - right, h - top_pad - bottom
    days = pd.to_datetime(daily["day"]) if len(daily) else pd.Series([], dtype="datetime64[ns]")
    peak = float(max(daily["new"].max(), daily["closed"].max())) if len(daily) else 0.0
    ticks = _nice_ticks(peak)
    y_max = ticks[-1] or 1.0
    n = len(daily)

    def x_at(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return top_pad + plot_h * (1 - float(v) / y_max)

    parts = [
        f"<line x1='{left}' x2='{w - right}' y1='{y_at(t):.1f}' y2='{y_at(t):.1f}' stroke='{GRID_LINE}'/>"
        f"<text x='{left - 6}' y='{y_at(t) + 4:.1f}' text-anchor='end'>{t:,.0f}</text>"
        for t in ticks
    ]
    step = max(1, round(n / 6))
    parts += [
        f"<text x='{x_at(i):.1f}' y='{h - 5}' text-anchor='middle'>{days.iloc[i]:%m-%d}</text>"
        for i in range(0, n, step)
    ]
    legend_x = w - right
    for key in ("closed", "new"):  # right to left
        label = escape(labels[key])
        text_w = font * (len(labels[key]) + 1)
        legend_x -= text_w + 22
        parts.append(
            f"<line x1='{legend_x}' x2='{legend_x + 16}' y1='10' y2='10' stroke='{COLOURS[key]}' "
            f"stroke-width='3'/><text x='{legend_x + 20}' y='14'>{label}</text>"
        )
        if n:
            points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(daily[key]))
            parts.append(
                f"<polyline fill='none' stroke='{COLOURS[key]}' stroke-width='2.5' "
                f"stroke-linejoin='round' points='{points}'/>"
            )
    # An image of its own (see trend_chart_html): it cannot use the page's fonts, so the system's sans-serif (CJK)
    return (
        f"<svg xmlns='{SVG_NS}' viewBox='0 0 {w} {h}' width='{w}' height='{h}' "
        f"style='font-family:sans-serif;font-size:{font}px;fill:{MUTED}'>{''.join(parts)}</svg>"
    )


def trend_chart_html(daily: pd.DataFrame, labels: dict[str, str], *, title: str | None = None) -> str:
    """The trend chart for ``st.html``: its sanitiser keeps HTML only (no inline SVG), so the SVG is an image, as
    a data URI (a few kB, no request)."""
    data = base64.b64encode(trend_svg(daily, labels).encode()).decode()
    return (
        f"<div data-testid='wall-chart'>{title_html(title)}<img alt='' style='display:block;width:100%' "
        f"src='data:image/svg+xml;base64,{data}'></div>"
    )


# --- KPI tiles, the worst-grids table, header and captions --------------------------------------------------------
def tile_html(title: str, value: str, delta: str | None = None, tone: str = "neutral", hint: str = "") -> str:
    """One KPI: label, big value, coloured change — HTML sized by the screen's width (st.metric cannot scale)."""
    delta_html = (
        (
            f"<div style='font-size:{screen_rem(0.95)};color:{TONE_COLOURS[tone]}'>{escape(delta)} "
            f"<span style='color:#7d8a97'>{escape(hint)}</span></div>"
        )
        if delta
        else ""
    )
    return (
        f"<div data-testid='kpi' style='line-height:1.25'>"
        f"<div style='font-size:{screen_rem(1.0)};color:#aab6c2'>{escape(title)}</div>"
        f"<div style='font-size:{screen_rem(2.4)};font-weight:600'>{escape(value)}</div>{delta_html}</div>"
    )


def kpi_texts(kpi: Kpi, rate_change: Callable[[str], str]) -> tuple[str, str | None]:
    """A KPI's value and change as text: counts with thousands separators, rates in per cent and their change in
    percentage points (``rate_change("+1.2")`` words it, e.g. "+1.2 pt"); no change shown when a rate is missing."""
    if not kpi.is_rate:
        return f"{kpi.value:,}", f"{kpi.change:+,}"
    value = "—" if kpi.value is None else f"{kpi.value:.1%}"
    if kpi.change is None:
        return value, None
    return value, rate_change(f"{round(kpi.change * 100, 1) + 0.0:+.1f}")  # + 0.0 turns -0.0 into 0.0


def kpi_tile_html(kpi: Kpi, title: str, hint: str, rate_change: Callable[[str], str]) -> str:
    value, delta = kpi_texts(kpi, rate_change)
    return tile_html(title, value, delta, kpi.tone, hint)


def worst_grids_html(worst: pd.DataFrame, headers: dict[str, str]) -> str:
    """The worst grids (``reports.wall.WallMap.worst``: grid, street, overdue, open) as a compact table;
    ``headers`` has the four column titles by those names."""
    th = "padding:.15rem .3rem;white-space:nowrap;overflow:hidden;border-bottom:1px solid rgba(255,255,255,.25)"
    head = "".join(
        f"<th style='text-align:{align};{th}'>{escape(headers[key])}</th>"
        for key, align in (("grid", "left"), ("street", "left"), ("overdue", "right"), ("open", "right"))
    )
    cell = "padding:.15rem .3rem;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:0"
    rows = "".join(
        f"<tr style='border-bottom:1px solid rgba(255,255,255,.08)'><td style='{cell};width:52%'>{escape(str(grid))}"
        f"</td><td style='{cell};width:24%;color:#aab6c2'>{escape(str(street))}</td>"
        f"<td style='text-align:right;padding:.15rem .3rem;color:{COLOURS['bad']}'>{int(overdue)}</td>"
        f"<td style='text-align:right;padding:.15rem .3rem'>{int(open_)}</td></tr>"
        for grid, street, overdue, open_ in zip(worst["grid"], worst["street"], worst["overdue"], worst["open"])
    )
    return (
        f"<table style='width:100%;table-layout:fixed;border-collapse:collapse;font-size:{screen_rem(0.9)}'>"
        f"<thead><tr style='color:{MUTED}'>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def header_html(title: str, badge: str | None = None) -> str:
    """The wall's title, with a badge (the demo-data marker) when given."""
    mark = (
        (
            f" <span style='font-size:{screen_rem(0.8)};background:#5a3b12;color:#f5b660;padding:.1rem .4rem;"
            f"border-radius:.3rem'>{escape(badge)}</span>"
        )
        if badge
        else ""
    )
    return f"<div style='font-size:{screen_rem(1.8)};font-weight:700'>{escape(title)}{mark}</div>"


def status_html(text: str) -> str:
    """The "data as of" line, right-aligned in the header."""
    return f"<div style='text-align:right;font-size:{screen_rem(1.15)};padding-top:.4rem'>{escape(text)}</div>"


def caption_html(text: str) -> str:
    """A muted line under a panel (the map's legend)."""
    return f"<div style='font-size:{screen_rem(0.85)};color:{MUTED}'>{escape(text)}</div>"
