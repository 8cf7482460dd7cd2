"""The wall's HTML/SVG charts: values where the data says, escaped names, sane axes, empty data drawn."""
import re

import pandas as pd

from ui.figures import COLOURS
from ui.html_charts import _nice_ticks, oe_bars_html, share_bars_html, trend_svg


def _widths(html: str) -> list[float]:
    return [float(w) for w in re.findall(r"width:([\d.]+)%;(?:top|background)", html)]


def test_share_bars_are_relative_to_the_largest_and_sorted():
    mix = pd.DataFrame({"label": ["热线", "巡查", "APP"], "share": [0.2, 0.7, 0.1]})
    html = share_bars_html(mix, "label", "share", title="案件来源")
    assert html.index("巡查") < html.index("热线") < html.index("APP")            # largest on top
    assert _widths(html) == [100.0, round(100 * 0.2 / 0.7, 1), round(100 * 0.1 / 0.7, 1)]
    assert "70%" in html and "案件来源" in html


def test_oe_bars_go_right_of_one_in_green_and_left_in_red():
    frame = pd.DataFrame({"label": ["甲局", "乙局", "丙局"], "oe": [1.10, 0.80, 1.00]})
    html = oe_bars_html(frame, "label")
    rows = html.split("title=")[1:]
    assert [re.search(r"'(.*?)'", r).group(1) for r in rows] == ["甲局", "丙局", "乙局"]     # best first
    good, even, bad = rows
    assert COLOURS["good"] in good and "left:50.0%" in good
    # the largest deviation nearly spans its half of the track (15 % headroom for the printed value)
    assert COLOURS["bad"] in bad and f"left:{50 - 50 / 1.15:.1f}%" in bad
    assert "1.10" in good and "0.80" in bad


def test_names_are_escaped():
    hostile = "<img src=x onerror=alert(1)>"
    html = share_bars_html(pd.DataFrame({"label": [hostile], "share": [1.0]}), "label", "share") + \
        oe_bars_html(pd.DataFrame({"label": [hostile], "oe": [0.9]}), "label")
    assert "<img" not in html and "&lt;img" in html


def test_trend_svg_scales_points_to_the_axis():
    daily = pd.DataFrame({"day": pd.date_range("2026-11-01", periods=3), "new": [0, 50, 100],
                          "closed": [100, 50, 0]})
    svg = trend_svg(daily, {"new": "新增", "closed": "结案"}, width=500, height=240)
    lines = re.findall(r"points='([^']*)'", svg)
    new = [tuple(map(float, p.split(","))) for p in lines[1].split()]      # closed is drawn first, then new
    assert new[0][1] > new[1][1] > new[2][1]                               # rising line goes up the screen
    assert new[0][0] < new[1][0] < new[2][0]
    assert "11-01" in svg and "新增" in svg and "结案" in svg


def test_trend_svg_draws_with_no_data():
    empty = pd.DataFrame({"day": pd.Series([], dtype="datetime64[ns]"), "new": [], "closed": []})
    svg = trend_svg(empty, {"new": "new", "closed": "closed"})
    assert svg.startswith("<div") and "polyline" not in svg


def test_nice_ticks_cover_the_peak_with_round_steps():
    assert _nice_ticks(3450) == [0, 1000, 2000, 3000, 4000]
    assert _nice_ticks(7) == [0, 2, 4, 6, 8]
    assert _nice_ticks(0) == [0.0, 1.0]
