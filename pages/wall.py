"""态势大屏: the one-screen wall display for the command centre (dark, live, no scrolling)."""
from __future__ import annotations

from datetime import timedelta

from html import escape

import pandas as pd
import streamlit as st

from data_access import queries, scorecard_queries, settings
from data_access.workcal import local_now
from ui.access import require_page
from ui.db import get_engine
from ui.flags_cache import active_flags_summary, flags_wall_panel
from ui.html_charts import oe_bars_html, screen_rem, share_bars_html, title_html, trend_chart_html
from ui.map_image import make_district_png
from ui.i18n import COMMON, Catalog, current_language, label, name_column
from ui.live import Loaded, derived, live_cache, panel, resilient, show_freshness
from ui.reference import dataset_facts, grid_shapes, is_demo, street_table
from ui.shell import current_filters, refresh_seconds

require_page("wall")     # 权限: stops here unless the viewer's role may see this page

T = Catalog({
    "title": ("城市运行态势", "City operations"),
    "new_today": ("今日新增", "New today"),
    "open": ("在办案件", "Open backlog"),
    "overdue": ("超期未处置", "Overdue now"),
    "ontime": ("按期处置率(30天)", "On-time disposal (30 d)"),
    "closure": ("结案率(30天)", "Closure rate (30 d)"),
    "satisfaction": ("热线满意率(30天)", "Hotline satisfaction (30 d)"),
    "flags": ("选择性上报预警", "Reporting flags"),
    "vs_yesterday": ("较昨日同期", "vs same time yesterday"),
    "vs_day_ago": ("较24小时前", "vs 24 h ago"),
    "vs_week_ago": ("较上周", "vs a week earlier"),
    "map_title": ("网格超期积案 · 近24小时案件", "Overdue backlog by grid · cases in the last 24 h"),
    "overdue_cases": ("超期案件", "overdue cases"),
    "worst_grids": ("超期积案最多的网格", "Grids with most overdue cases"),
    "grid": ("网格", "Grid"), "street": ("街镇", "Street"),
    "dept_rank": ("部门按期处置 O/E（按案件难度调整）前五/后五 · 30天",
                  "Departments: on-time O/E (case-mix adjusted), best / worst five · 30 d"),
    "channels": ("案件来源(30天)", "Channels (30 d)"),
    "trend": ("近30天 新增 vs 结案", "Last 30 days: new vs closed"),
    "new": ("新增", "New"), "closed": ("结案", "Closed"),
    "flags_pending": ("计算中", "computing"),
    "flags_split": ("疑似 {red} · 建议核查 {amber}", "suspected {red} · worth a look {amber}"),
    "map_legend": ("网格颜色：超期案件数（深蓝为无，越红越多）· 圆点：近24小时案件，按状态着色，白色为最近一个刷新周期内新增",
                   "Grid colour: overdue cases (dark blue none, red most) · dots: cases of the last 24 h by status, "
                   "white = new in the last refresh interval"),
})

# Every size on the wall is given for a 1920-px-wide screen and grows with the window up to 2× on 3840 px, in CSS
# (ui.html_charts.screen_rem): every screen gets the same page, whatever its size, and runs it once.
# The map is one image for every screen, drawn at the size a 4K kiosk shows it (up to Streamlit's 1,460-px limit,
# above which it re-encodes an image on every run) and fitted to its column by the browser: 850 × 730 CSS px on a
# 1080p kiosk screen, 680 × 584 beside the sidebar.
MAP_IMAGE_PX = (1460, 1254)
MAP_SHOWN_PX = 850     # its width on a 1080p kiosk screen: lines, points and labels are sized for it
MAP_LABEL_PX = round(16 * MAP_IMAGE_PX[0] / MAP_SHOWN_PX)      # 16 CSS px there


# --- cached loaders (shared by every screen; one query set per TTL) ------------------------------------------------
@live_cache
def wall_kpis(street_id: int | None) -> dict:
    """KPI strip figures with their comparison values."""
    engine, now = get_engine(), local_now()
    today = queries.now_floor(now)
    day_ago, week_ago = now - timedelta(days=1), now - timedelta(days=7)
    totals = queries.backlog_totals(engine, now, street_id)
    before = queries.backlog_at(engine, day_ago, now, street_id)

    def rates(end):
        disp = queries.disposal_counts(engine, end - timedelta(days=30), end, by=None, street_id=street_id).iloc[0]
        closed = queries.count_closed(engine, end - timedelta(days=30), end, street_id)
        sat = queries.satisfaction_counts(engine, end - timedelta(days=30), end, street_id)
        due = disp["disposed"] + totals["overdue"]
        return (disp["ontime"] / disp["disposed"] if disp["disposed"] else None,
                closed / due if due else None, sat["rate"])

    ontime, closure, satisfaction = rates(now)
    ontime_prev, closure_prev, satisfaction_prev = rates(week_ago)
    return {
        "new_today": queries.count_reported(engine, today, now, street_id),
        "new_yesterday": queries.count_reported(engine, today - timedelta(days=1), day_ago, street_id),
        "open": totals["open"], "open_before": before["open"],
        "overdue": totals["overdue"], "overdue_before": before["overdue"],
        "ontime": ontime, "ontime_prev": ontime_prev, "closure": closure, "closure_prev": closure_prev,
        "satisfaction": satisfaction, "satisfaction_prev": satisfaction_prev,
    }


@live_cache
def wall_map_data(street_id: int | None) -> dict:
    """Per-grid open/overdue counts and the last 24 h of cases as points."""
    engine, now = get_engine(), local_now()
    return {"backlog": queries.open_backlog_by_grid(engine, now, street_id),
            "points": queries.recent_case_points(engine, now - timedelta(hours=24), street_id,
                                                 limit=settings.get("map_max_points"))}


@live_cache
def wall_side_panels(street_id: int | None) -> dict:
    """Channel mix and the 30-day trend."""
    engine, now = get_engine(), local_now()
    start = now - timedelta(days=30)
    return {"channels": queries.channel_mix(engine, start, now, street_id),
            "trend": queries.daily_new_and_closed(engine, queries.now_floor(start) + timedelta(days=1), now,
                                                  street_id)}


@live_cache(ttl=300)
def wall_department_ranking(street_id: int | None) -> pd.DataFrame:
    """The departments page's own case-mix-adjusted ranking (O/E of on-time disposal, 30 days), best first; a
    few queries plus a bootstrap, so refreshed every 5 minutes rather than every 30 s."""
    now = local_now()
    card = scorecard_queries.department_scorecard(get_engine(), now - timedelta(days=30), now, now=now,
                                                  street_id=street_id, with_previous=False, draws=200)
    ranked = card.table[card.table["oe_ranked"]]
    return ranked[["department_id", "name", "name_en", "oe"]].reset_index(drop=True)


# --- layout ---------------------------------------------------------------------------------------------------------
DELTA_COLOURS = {"good": "#4cc38a", "bad": "#e5484d", "neutral": "#9aa7b4"}


def _pct(v):
    return "—" if v is None else f"{v:.1%}"


def _delta_pct(v, prev):
    if v is None or prev is None:
        return None
    change = round((v - prev) * 100, 1) + 0.0       # + 0.0 turns -0.0 into 0.0
    return f"{change:+.1f} pt"


def _tone(change: float | None, good_when_up: bool) -> str:
    if change is None or change == 0:
        return "neutral"
    return "good" if (change > 0) == good_when_up else "bad"


def kpi_tile(container, title: str, value: str, delta: str | None, tone: str, hint: str) -> None:
    """One KPI: label, big value, coloured change — HTML sized by the screen's width (st.metric cannot scale)."""
    delta_html = (f"<div style='font-size:{screen_rem(0.95)};color:{DELTA_COLOURS[tone]}'>{escape(delta)} "
                  f"<span style='color:#7d8a97'>{escape(hint)}</span></div>") if delta else ""
    container.html(
        f"<div data-testid='kpi' style='line-height:1.25'>"
        f"<div style='font-size:{screen_rem(1.0)};color:#aab6c2'>{escape(title)}</div>"
        f"<div style='font-size:{screen_rem(2.4)};font-weight:600'>{escape(value)}</div>{delta_html}</div>")


def panel_title(text: str) -> None:
    st.html(title_html(text))


def kpi_strip(street_id):
    loaded = resilient(wall_kpis, street_id)
    k = loaded.value
    cols = st.columns(7)
    if not loaded.ok:
        show_freshness(loaded, cols[0])
        return loaded
    change = lambda a, b: None if a is None or b is None else a - b  # noqa: E731
    tiles = [
        ("new_today", f"{k['new_today']:,}", f"{k['new_today'] - k['new_yesterday']:+,}",
         "neutral", "vs_yesterday"),
        ("open", f"{k['open']:,}", f"{k['open'] - k['open_before']:+,}",
         _tone(k["open"] - k["open_before"], False), "vs_day_ago"),
        ("overdue", f"{k['overdue']:,}", f"{k['overdue'] - k['overdue_before']:+,}",
         _tone(k["overdue"] - k["overdue_before"], False), "vs_day_ago"),
        ("ontime", _pct(k["ontime"]), _delta_pct(k["ontime"], k["ontime_prev"]),
         _tone(change(k["ontime"], k["ontime_prev"]), True), "vs_week_ago"),
        ("closure", _pct(k["closure"]), _delta_pct(k["closure"], k["closure_prev"]),
         _tone(change(k["closure"], k["closure_prev"]), True), "vs_week_ago"),
        ("satisfaction", _pct(k["satisfaction"]), _delta_pct(k["satisfaction"], k["satisfaction_prev"]),
         _tone(change(k["satisfaction"], k["satisfaction_prev"]), True), "vs_week_ago"),
    ]
    for col, (key, value, delta, tone, hint) in zip(cols, tiles):
        kpi_tile(col, T(key), value, delta, tone, T(hint))
    flags = active_flags_summary()
    if flags is None or "error" in flags:
        kpi_tile(cols[6], T("flags"), "—", T("flags_pending"), "neutral", "")
    else:
        kpi_tile(cols[6], T("flags"), f"{flags['total']:,}",
                 T("flags_split", red=flags["red"], amber=flags["amber"]), "bad" if flags["red"] else "neutral", "")
    return loaded


class _Missing(Exception):
    """Reference data (grid or street outlines) could not be loaded for a derived panel."""

    def __init__(self, loaded: Loaded):
        super().__init__(loaded.error)
        self.loaded = loaded


def _reference(street_id):
    shapes, streets = resilient(grid_shapes, street_id), resilient(street_table)
    for loaded in (shapes, streets):
        if not loaded.ok:
            raise _Missing(loaded)
    rows = streets.value if street_id is None else streets.value[streets.value["id"] == street_id]
    return shapes.value, streets.value, rows


def _view_key(name: str, street_id, loaded: Loaded) -> tuple:
    """What a derived panel depends on: its data's fetch time and how this screen shows it (not the screen's size)."""
    return (name, street_id, loaded.fetched_at, current_language(), refresh_seconds())


def build_map(street_id, data: dict, fetched_at) -> bytes:
    """The map as one PNG (ui/map_image.py: the wall needs no interaction, and a browser without a GPU would spend
    seconds drawing 1,300 polygons in software WebGL); built once per data refresh for every screen."""
    shapes, _, street_rows = _reference(street_id)
    values = data["backlog"].rename(columns={"overdue": "value"})[["grid_id", "value"]]
    # white = reported within the last refresh interval before this data was fetched (the same for every screen)
    new_since = fetched_at - timedelta(seconds=refresh_seconds())
    return make_district_png(shapes, values, street_rows, points=data["points"], new_since=new_since,
                             width_px=MAP_IMAGE_PX[0], height_px=MAP_IMAGE_PX[1], label_px=MAP_LABEL_PX,
                             legend=T("overdue_cases"), supersample=1,   # the browser reduces it on 1080p
                             detail=MAP_IMAGE_PX[0] / MAP_SHOWN_PX)


def district_map(street_id):
    loaded = resilient(wall_map_data, street_id)
    panel_title(T("map_title"))
    if not loaded.ok:
        show_freshness(loaded)
        return loaded
    try:
        png = derived(_view_key("wall-map", street_id, loaded),
                      lambda: build_map(street_id, loaded.value, loaded.fetched_at))
    except _Missing as missing:
        show_freshness(missing.loaded)
        return loaded
    st.image(png, width="stretch")
    st.html(f"<div style='font-size:{screen_rem(0.85)};color:#9aa7b4'>{escape(T('map_legend'))}</div>")
    return loaded


def worst_grids_html(street_id, backlog: pd.DataFrame) -> str:
    shapes, streets, _ = _reference(street_id)
    top = backlog.sort_values(["overdue", "open"], ascending=False).head(10)
    top = top.merge(shapes[["id", "name", "street_id"]], left_on="grid_id", right_on="id") \
        .merge(streets[["id", "name"]].rename(columns={"id": "street_id", "name": "street"}), on="street_id")
    th = "padding:.15rem .3rem;white-space:nowrap;overflow:hidden;border-bottom:1px solid rgba(255,255,255,.25)"
    head = "".join(f"<th style='text-align:{a};{th}'>{escape(T(k))}</th>"
                   for k, a in (("grid", "left"), ("street", "left"), ("overdue", "right"), ("open", "right")))
    cell = "padding:.15rem .3rem;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:0"
    rows = "".join(
        f"<tr style='border-bottom:1px solid rgba(255,255,255,.08)'><td style='{cell};width:52%'>{escape(str(r['name']))}</td>"
        f"<td style='{cell};width:24%;color:#aab6c2'>{escape(str(r['street']))}</td>"
        f"<td style='text-align:right;padding:.15rem .3rem;color:#e5484d'>{int(r['overdue'])}</td>"
        f"<td style='text-align:right;padding:.15rem .3rem'>{int(r['open'])}</td></tr>" for _, r in top.iterrows())
    return (f"<table style='width:100%;table-layout:fixed;border-collapse:collapse;font-size:{screen_rem(0.9)}'>"
            f"<thead><tr style='color:#9aa7b4'>{head}</tr></thead><tbody>{rows}</tbody></table>")


def worst_grids(street_id):
    loaded = resilient(wall_map_data, street_id)
    panel_title(T("worst_grids"))
    if not loaded.ok:
        return
    try:
        html = derived(_view_key("wall-worst", street_id, loaded),
                       lambda: worst_grids_html(street_id, loaded.value["backlog"]))
    except _Missing:
        return      # the map panel beside it shows the notice
    st.html(html)


def ranking_html(ranked: pd.DataFrame) -> str:
    shown = pd.concat([ranked.head(5), ranked.tail(5)]).drop_duplicates("department_id")
    shown = shown.assign(label=shown[name_column("name")].fillna(shown["name"]))
    return oe_bars_html(shown, "label", title=T("dept_rank"))


def department_ranking(street_id):
    loaded = resilient(wall_department_ranking, street_id)
    if not loaded.ok:
        show_freshness(loaded)
        return
    st.html(derived(_view_key("wall-depts", street_id, loaded), lambda: ranking_html(loaded.value)))


# The three charts are HTML/SVG built on the server (ui/html_charts.py): no plotly bundle for the wall's screens.
def channel_panel(street_id, loaded: Loaded):
    def build():
        mix = loaded.value["channels"].assign(label=lambda f: f["channel"].map(lambda c: label("channels", c)))
        return share_bars_html(mix, "label", "share", title=T("channels"))
    st.html(derived(_view_key("wall-channels", street_id, loaded), build))


def trend_panel(street_id, loaded: Loaded):
    def build():
        return trend_chart_html(loaded.value["trend"], {"new": T("new"), "closed": T("closed")}, title=T("trend"))
    st.html(derived(_view_key("wall-trend", street_id, loaded), build))


# --- page -------------------------------------------------------------------------------------------------------------
street_id = current_filters().street_id
header, status = st.columns([3, 2])


@st.fragment(run_every=refresh_seconds())
def live_wall():
    facts = resilient(dataset_facts)
    demo = (f" <span style='font-size:{screen_rem(0.8)};background:#5a3b12;color:#f5b660;padding:.1rem .4rem;"
            f"border-radius:.3rem'>{escape(COMMON('demo_data'))}</span>") if is_demo(facts.value) else ""
    header.html(f"<div style='font-size:{screen_rem(1.8)};font-weight:700'>{escape(T('title'))}{demo}</div>")
    with panel():
        kpis = kpi_strip(street_id)
    left, centre, right = st.columns([1.15, 2.3, 1.35])
    with left:
        with panel():
            worst_grids(street_id)
        side = resilient(wall_side_panels, street_id)
        with panel():
            if side.ok:
                channel_panel(street_id, side)
    with centre:
        with panel():
            map_loaded = district_map(street_id)
    with right:
        with panel():
            department_ranking(street_id)
        with panel():
            if side.ok:
                trend_panel(street_id, side)
        with panel():
            flags_wall_panel()
    loads = [x for x in (kpis, map_loaded, side) if isinstance(x, Loaded)]
    times = [x.fetched_at for x in loads if x.fetched_at]
    oldest = min(times) if times else None
    with status:
        st.html(f"<div style='text-align:right;font-size:{screen_rem(1.15)};padding-top:.4rem'>"
                f"{escape(COMMON('data_as_of', time=oldest.strftime('%H:%M:%S') if oldest else '—'))}</div>")
        worst = next((x for x in loads if x.stale), None)
        if worst is not None:
            show_freshness(worst)


live_wall()
