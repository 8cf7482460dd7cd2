"""Figures, tables and labels of the flags page: they draw screen models (no statistics) and word them through the
catalogs, in both languages."""

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from analytics.flags import Z998
from reports.reporting import FunnelModel
from ui import flag_figures as ff
from ui.flag_figures import LEVEL_COLOURS, make_funnel_figure, make_indicator_trend_figure


@pytest.fixture(autouse=True)
def chinese(monkeypatch):
    monkeypatch.delenv("GRIDSCOPE_LANGUAGE", raising=False)


def _model(proportion=True) -> FunnelModel:
    n = np.array([40, 80, 120, 200, 300, 500, 60, 10], dtype=float)
    y = np.array([0.62, 0.58, 0.6, 0.61, 0.57, 0.2, 0.63, 0.5]) if proportion else np.linspace(-1, 1, 8)
    levels = ["none"] * 8
    levels[5], levels[7] = "red", "insufficient"
    points = pd.DataFrame(
        {
            "unit_type": "street",
            "unit_id": np.arange(1, 9),
            "key": [str(i) for i in range(1, 9)],
            "name": [f"测试街道{i}" for i in range(1, 9)],
            "shown_id": [str(i) for i in range(1, 9)],
            "n": n,
            "y": y,
            "z": np.linspace(-2, 2, 8),
            "level": levels,
            "selected": [i == 5 for i in range(8)],
        }
    )
    grid = np.array([10.0, 100.0, 500.0])
    if proportion:
        half = Z998 * np.sqrt(0.24 / grid + 0.001)
        limits = pd.DataFrame(
            {"n": grid, "lo95": 0.6 - half / 2, "hi95": 0.6 + half / 2, "lo998": 0.6 - half, "hi998": 0.6 + half}
        )
    else:
        limits = pd.DataFrame({"n": [10.0, 500.0], "lo95": -1.96, "hi95": 1.96, "lo998": -Z998, "hi998": Z998})
    return FunnelModel(
        "A",
        "A1" if proportion else "A2",
        "street",
        proportion,
        0.6 if proportion else 0.0,
        0.001 if proportion else 0.0,
        limits,
        points,
    )


def test_proportion_funnel_draws_the_models_limits_target_and_levels():
    fig = make_funnel_figure(_model())
    names = [t.name for t in fig.data]
    assert "99.8% 控制限" in names and "95% 控制限" in names and "类似单元典型值" in names
    limit = next(t for t in fig.data if t.name == "99.8% 控制限")
    assert list(limit.x) == [10.0, 100.0, 500.0]  # drawn as given, not re-estimated
    red = next(t for t in fig.data if t.name == "疑似")
    assert red.marker.color == LEVEL_COLOURS["red"] and list(red.x) == [500] and "测试街道6" in red.text[0]
    thin = next(t for t in fig.data if t.name == "数据不足")
    assert list(thin.x) == [10]  # shown hollow, not as clean
    target = next(t for t in fig.data if t.name == "类似单元典型值")
    assert list(target.y) == [0.6, 0.6]
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.tickformat == ".0%"
    assert next(t for t in fig.data if t.name == "当前查看").x[0] == 500
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"  # dark-friendly


def test_non_proportion_funnel_is_standardised():
    fig = make_funnel_figure(_model(proportion=False))
    limits = [t for t in fig.data if t.name == "99.8% 控制限"]
    assert sorted(round(t.y[0], 2) for t in limits) == [-3.09, 3.09]
    assert fig.layout.yaxis.tickformat is None and "z" in fig.layout.yaxis.title.text


def test_funnel_without_units_is_an_empty_figure():
    model = _model()
    empty = FunnelModel("C", "C1", None, True, float("nan"), 0.0, model.limits.iloc[0:0], model.points.iloc[0:0])
    assert len(make_funnel_figure(empty).data) == 0


def test_figures_speak_english(monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_LANGUAGE", "en")
    names = [t.name for t in make_funnel_figure(_model()).data]
    assert {
        "99.8 % limit",
        "95 % limit",
        "Typical value",
        "No signal",
        "Suspected",
        "Not enough data",
        "Selected",
    } <= set(names)
    trend = make_indicator_trend_figure(_trend(), "share")
    assert [t.name for t in trend.data] == ["This unit", "Typical of similar units"]


def _trend() -> pd.DataFrame:
    return pd.DataFrame(
        {"window_end": [datetime(2024, 6, 2), datetime(2024, 6, 30)], "observed": [0.5, 0.9], "expected": [0.01, 0.02]}
    )


def test_trend_figure_draws_the_cards_trend():
    fig = make_indicator_trend_figure(_trend(), "share")
    assert list(fig.data[0].y) == [0.5, 0.9] and list(fig.data[1].y) == [0.01, 0.02]
    assert fig.layout.yaxis.tickformat == ".0%"
    assert make_indicator_trend_figure(_trend(), "count").layout.yaxis.tickformat is None


def test_labels_and_values():
    assert ff.family_text("B") == "B · 冲量"
    assert ff.unit_text("street", "测试街道1", "1") == "测试街道1"
    assert ff.unit_text("app_reporter", None, "A0…56") == "APP账号 A0…56"
    assert ff.fmt_p(5e-6) == "< 0.0001" and ff.fmt_p(0.0123) == "0.0123" and ff.fmt_p(float("nan")) == "—"
    assert ff.fmt_value(0.257, "share") == "26%" and ff.fmt_value(41.6, "count") == "42"
    assert ff.status_text("dismissed") == "已排除（有正常原因）" and ff.status_text(None) == ""


def test_the_family_has_one_name_everywhere(monkeypatch):
    """One catalog key per family (flags.po ``fam_<X>``): the list, the card title and the funnel tabs use it."""
    from ui.i18n import catalog

    for lang, family in (("zh", "刷单套奖"), ("en", "Reward farming")):
        monkeypatch.setenv("GRIDSCOPE_LANGUAGE", lang)
        assert catalog("flags")("fam_D") == family
        assert ff.family_text("D").endswith(family)
        assert family in catalog("reporting")("title_red", family=catalog("flags")("fam_D"))
