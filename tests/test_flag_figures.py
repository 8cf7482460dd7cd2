"""Funnel and trend figures of the flags page: pure functions on small frames."""
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from ui.flag_figures import (LEVEL_COLOURS, Z998, funnel_indicators, funnel_limits, make_funnel_figure,
                             make_indicator_trend_figure)


def _indicators():
    rng = np.random.default_rng(3)
    n = np.array([40, 80, 120, 200, 300, 500, 60, 10], dtype=float)
    obs = np.clip(0.6 + rng.normal(0, 0.04, len(n)), 0, 1)
    obs[5] = 0.2                                      # the suspicious one, at high volume
    rows = pd.DataFrame({"unit_type": "street", "unit_id": np.arange(1, 9), "family": "A", "indicator": "A1",
                         "observed": obs, "expected": 0.6, "n": n, "z": rng.normal(0, 1, len(n)),
                         "enough": n >= 30})
    rows.loc[5, "z"] = -6.0
    rows.loc[~rows["enough"], "z"] = np.nan
    a2 = rows.assign(indicator="A2", expected=0.5)
    return pd.concat([rows, a2], ignore_index=True)


def test_funnel_limits_narrow_with_volume_and_keep_tau():
    lo, hi = funnel_limits(0.6, 0.0, np.array([10, 1000]), Z998)
    assert hi[0] - lo[0] > hi[1] - lo[1] > 0
    lo_t, hi_t = funnel_limits(0.6, 0.01, np.array([1e6]), Z998)
    assert hi_t[0] - lo_t[0] == pytest.approx(2 * Z998 * 0.1, rel=1e-3)      # τ keeps the limits open
    assert lo.min() >= 0 and hi.max() <= 1


def test_proportion_funnel_draws_limits_target_and_marks_flagged_units():
    fig = make_funnel_figure(_indicators(), "A", indicator="A1", levels={("street", 6): "red"},
                             names={("street", 6): "测试街道6"}, highlight=("street", 6))
    names = [t.name for t in fig.data]
    assert "99.8% 控制限" in names and "95% 控制限" in names and "类似单元典型值" in names
    red = next(t for t in fig.data if t.name == "疑似")
    assert red.marker.color == LEVEL_COLOURS["red"] and list(red.x) == [500] and "测试街道6" in red.text[0]
    thin = next(t for t in fig.data if t.name == "数据不足")
    assert list(thin.x) == [10]                                                # shown hollow, not as clean
    target = next(t for t in fig.data if t.name == "类似单元典型值")
    assert target.y[0] == pytest.approx(0.6)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.tickformat == ".0%"
    assert any(t.name == "当前查看" for t in fig.data)
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"                        # dark-friendly


def test_non_proportion_indicator_is_standardised():
    fig = make_funnel_figure(_indicators(), "A", indicator="A2")
    limits = [t for t in fig.data if t.name == "99.8% 控制限"]
    assert sorted(round(t.y[0], 2) for t in limits) == [-3.09, 3.09]
    assert fig.layout.yaxis.tickformat is None


def test_funnel_of_a_missing_family_is_an_empty_figure():
    fig = make_funnel_figure(_indicators(), "C")
    assert len(fig.data) == 0


def test_labels_can_be_translated():
    fig = make_funnel_figure(_indicators(), "A", indicator="A1", labels={"none": "No signal"})
    assert "No signal" in [t.name for t in fig.data]


def test_funnel_indicators_lists_proportions_first():
    assert funnel_indicators(_indicators(), "A") == ["A1", "A2"]


def test_trend_figure_keeps_windows_with_enough_data():
    history = pd.DataFrame({"unit_type": "verifier", "unit_id": "V1", "indicator": "C1",
                            "observed": [0.5, 0.7, 0.9], "expected": [0.01, 0.01, 0.02],
                            "enough": [True, False, True],
                            "window_end": [datetime(2024, 6, 2), datetime(2024, 6, 16), datetime(2024, 6, 30)]})
    fig = make_indicator_trend_figure(history, "verifier", "V1", "C1")
    assert list(fig.data[0].y) == [0.5, 0.9] and list(fig.data[1].y) == [0.01, 0.02]
