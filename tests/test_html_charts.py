"""The wall's HTML/SVG panels: values where the data says, escaped names, sane axes, empty data drawn, KPI texts."""

import re

import pandas as pd

from reports.wall import Kpi
from ui.figures import COLOURS
from ui.html_charts import (
    _nice_ticks,
    header_html,
    kpi_texts,
    kpi_tile_html,
    oe_bars_html,
    screen_rem,
    share_bars_html,
    tile_html,
    title_html,
    trend_chart_html,
    trend_svg,
    worst_grids_html,
)


def _widths(html: str) -> list[float]:
    return [float(w) for w in re.findall(r"width:([\d.]+)%;(?:top|background)", html)]


def test_share_bars_are_relative_to_the_largest_and_sorted():
    mix = pd.DataFrame({"label": ["热线", "巡查", "APP"], "share": [0.2, 0.7, 0.1]})
    html = share_bars_html(mix, "label", "share", title="案件来源")
    assert html.index("巡查") < html.index("热线") < html.index("APP")  # largest on top
    assert _widths(html) == [100.0, round(100 * 0.2 / 0.7, 1), round(100 * 0.1 / 0.7, 1)]
    assert "70%" in html and "案件来源" in html


def test_oe_bars_go_right_of_one_in_green_and_left_in_red():
    frame = pd.DataFrame({"label": ["甲局", "乙局", "丙局"], "oe": [1.10, 0.80, 1.00]})
    html = oe_bars_html(frame, "label")
    rows = html.split("title=")[1:]
    assert [re.search(r"'(.*?)'", r).group(1) for r in rows] == ["甲局", "丙局", "乙局"]  # best first
    good, even, bad = rows
    assert COLOURS["good"] in good and "left:50.0%" in good
    # the largest deviation nearly spans its half of the track (15 % headroom for the printed value)
    assert COLOURS["bad"] in bad and f"left:{50 - 50 / 1.15:.1f}%" in bad
    assert "1.10" in good and "0.80" in bad


def test_names_are_escaped():
    hostile = "<img src=x onerror=alert(1)>"
    html = share_bars_html(pd.DataFrame({"label": [hostile], "share": [1.0]}), "label", "share") + oe_bars_html(
        pd.DataFrame({"label": [hostile], "oe": [0.9]}), "label"
    )
    assert "<img" not in html and "&lt;img" in html


def test_trend_svg_scales_points_to_the_axis():
    daily = pd.DataFrame({"day": pd.date_range("2026-11-01", periods=3), "new": [0, 50, 100], "closed": [100, 50, 0]})
    svg = trend_svg(daily, {"new": "新增", "closed": "结案"}, width=500, height=240)
    lines = re.findall(r"points='([^']*)'", svg)
    new = [tuple(map(float, p.split(","))) for p in lines[1].split()]  # closed is drawn first, then new
    assert new[0][1] > new[1][1] > new[2][1]  # rising line goes up the screen
    assert new[0][0] < new[1][0] < new[2][0]
    assert "11-01" in svg and "新增" in svg and "结案" in svg


def test_trend_svg_draws_with_no_data():
    empty = pd.DataFrame({"day": pd.Series([], dtype="datetime64[ns]"), "new": [], "closed": []})
    svg = trend_svg(empty, {"new": "new", "closed": "closed"})
    assert svg.startswith("<svg") and "polyline" not in svg


def test_trend_chart_is_an_svg_image_with_escaped_labels():
    """st.html keeps HTML only, so the chart travels as a data-URI image; names stay text inside it."""
    import base64

    daily = pd.DataFrame({"day": pd.date_range("2026-11-01", periods=2), "new": [3, 4], "closed": [1, 2]})
    html = trend_chart_html(daily, {"new": "<b>新增</b>", "closed": "结案"}, title="趋势")
    assert html.startswith("<div data-testid='wall-chart'>") and "趋势" in html and "<svg" not in html
    svg = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)'", html).group(1)).decode()
    assert svg.startswith("<svg xmlns='http://www.w3.org/2000/svg'") and "polyline" in svg
    assert "&lt;b&gt;新增" in svg and "<b>" not in svg


def test_nice_ticks_cover_the_peak_with_round_steps():
    assert _nice_ticks(3450) == [0, 1000, 2000, 3000, 4000]
    assert _nice_ticks(7) == [0, 2, 4, 6, 8]
    assert _nice_ticks(0) == [0.0, 1.0]


def _css_px(length: str, window_px: float) -> float:
    """Evaluate ``clamp(a rem, b vw, c rem)`` as a browser would (1 rem = 16 px)."""
    low, mid, high = re.fullmatch(r"clamp\(([\d.]+)rem,([\d.]+)vw,([\d.]+)rem\)", length).groups()
    return min(max(float(low) * 16, float(mid) * window_px / 100), float(high) * 16)


def test_screen_rem_is_the_size_at_1080p_and_twice_it_at_4k():
    assert _css_px(screen_rem(1.0), 1920) == 16.0
    assert abs(_css_px(screen_rem(2.4), 3840) - 2 * 2.4 * 16) < 0.05
    assert abs(_css_px(screen_rem(1.0), 2880) - 24) < 0.05  # in between: in proportion to the width
    assert _css_px(screen_rem(0.9), 1280) == 0.9 * 16  # never smaller than at 1080p
    assert _css_px(screen_rem(0.9), 7680) == 2 * 0.9 * 16  # nor larger than twice


def test_wall_html_does_not_depend_on_the_screen():
    """One build per data refresh serves every screen: sizes are CSS lengths relative to the window."""
    html = title_html("标题") + share_bars_html(pd.DataFrame({"l": ["a"], "v": [1.0]}), "l", "v")
    assert "vw" in html and not re.search(r"font-size:[\d.]+(px|rem)", html)


def _pt(change: str) -> str:
    return f"{change} pt"


def test_kpi_texts_of_counts_and_rates():
    assert kpi_texts(Kpi("open", 1918, 1923, "vs_day_ago", False, "good"), _pt) == ("1,918", "-5")
    assert kpi_texts(Kpi("new_today", 136, 136, "vs_yesterday", False, "neutral"), _pt) == ("136", "+0")
    assert kpi_texts(Kpi("ontime", 0.958, 0.95, "vs_week_ago", True, "good"), _pt) == ("95.8%", "+0.8 pt")
    assert kpi_texts(Kpi("ontime", 0.5, 0.50004, "vs_week_ago", True, "bad"), _pt) == ("50.0%", "+0.0 pt")  # not -0.0
    assert kpi_texts(Kpi("closure", 0.5, None, "vs_week_ago", True, "neutral"), _pt) == ("50.0%", None)
    assert kpi_texts(Kpi("satisfaction", None, 0.9, "vs_week_ago", True, "neutral"), _pt) == ("—", None)


def test_kpi_tile_shows_title_value_and_coloured_change():
    html = kpi_tile_html(Kpi("overdue", 121, 130, "vs_day_ago", False, "good"), "超期未处置", "较24小时前", _pt)
    assert "data-testid='kpi'" in html and ">超期未处置<" in html and ">121<" in html
    assert COLOURS["good"] in html and "-9 " in html and "较24小时前" in html
    assert "<span" not in tile_html("预警", "—")  # no change: no second line
    assert "&lt;b&gt;" in tile_html("<b>", "1", "<b>", "bad", "<b>") and "<b>" not in tile_html("<b>", "1", "<b>")


def test_worst_grids_table_escapes_names():
    worst = pd.DataFrame(
        {
            "grid_id": [1, 2],
            "grid": ["<script>x</script>", "网格2"],
            "street": ["街道甲", "街道乙"],
            "overdue": [3, 1],
            "open": [5, 2],
        }
    )
    html = worst_grids_html(worst, {"grid": "网格", "street": "街镇", "overdue": "超期", "open": "在办"})
    assert html.count("<tr") == 3 and "<script>" not in html and "&lt;script&gt;" in html
    assert html.index("街道甲") < html.index("街道乙") and ">3<" in html and ">5<" in html


def test_header_has_the_badge_only_when_given():
    assert "background" not in header_html("城市运行态势") and "演示数据" in header_html("城市运行态势", "演示数据")
