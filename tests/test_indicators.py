"""Pure indicator maths on hand-made numbers: rates, zero denominators, composite score, grades, percentiles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics import indicators as ind
from core import i18n, settings

WEIGHTS = {"disposal_rate": 30, "ontime_rate": 20, "rework_free": 20, "overdue_free": 20, "extension_free": 10}
GRADES = {"A": 90, "B": 75, "C": 60, "D": 40}


def test_rate_zero_denominator_is_nan():
    out = ind.rate(pd.Series([1, 0, 3]), pd.Series([2, 0, 0]))
    assert out.iloc[0] == 0.5 and math.isnan(out.iloc[1]) and math.isnan(out.iloc[2])
    assert ind.rate(3, 4) == 0.75
    assert math.isnan(ind.rate(0, 0))


def _cats(**cols):
    base = dict(
        department_id=[1],
        category_id=[1],
        disposed=[0],
        ontime=[0],
        ontime_original=[0],
        rework=[0],
        extended=[0],
        overdue=[0],
        overdue_extended=[0],
        hours_n=[0],
    )
    base.update(cols)
    return pd.DataFrame(base)


EMPTY_EVENTS = pd.DataFrame(columns=["department_id", "dispatched", "returned"])
EMPTY_SAT = pd.DataFrame(columns=["department_id", "satisfied", "basic", "unsatisfied", "answered"])
EMPTY_HOURS = pd.DataFrame(columns=["department_id", "lo", "width", "n"])


def test_department_table_rates():
    cats = pd.DataFrame(
        dict(
            department_id=[1, 1],
            category_id=[1, 2],
            disposed=[6, 2],
            ontime=[5, 1],
            ontime_original=[4, 1],
            rework=[1, 1],
            extended=[1, 0],
            overdue=[1, 1],
            overdue_extended=[0, 1],
            hours_n=[6, 2],
        )
    )
    events = pd.DataFrame(dict(department_id=[1], dispatched=[10], returned=[1]))
    sat = pd.DataFrame(dict(department_id=[1], satisfied=[3], basic=[1], unsatisfied=[1], answered=[5]))
    t = ind.department_table(cats, events, sat, EMPTY_HOURS).iloc[0]
    assert (t["disposed"], t["overdue"], t["due"]) == (8, 2, 10)
    assert t["disposal_rate"] == 0.8 and t["ontime_rate"] == 0.6 and t["ontime_original_rate"] == 0.5
    assert t["rework_rate"] == 2 / 8 and t["extension_rate"] == 0.2 and t["overdue_rate"] == 0.2
    assert t["return_rate"] == 0.1
    assert t["satisfaction_rate"] == pytest.approx((3 + 0.9) / 5)
    assert math.isnan(t["median_hours"])


def test_department_only_overdue_has_no_rework_rate():
    t = ind.department_table(_cats(overdue=[3]), EMPTY_EVENTS, EMPTY_SAT, EMPTY_HOURS).iloc[0]
    assert t["due"] == 3 and t["disposal_rate"] == 0.0 and math.isnan(t["rework_rate"])
    # the score leaves the unknown component out and rescales the others: (0·30 + 0·20 + 0·20 + 1·10) / 80
    score = ind.composite_score(ind.department_table(_cats(overdue=[3]), EMPTY_EVENTS, EMPTY_SAT, EMPTY_HOURS), WEIGHTS)
    assert score.iloc[0] == pytest.approx(100 * 10 / 80)


def test_composite_score_and_normalisation():
    table = pd.DataFrame(
        dict(
            disposal_rate=[1.0, 0.9],
            ontime_rate=[1.0, 0.8],
            rework_rate=[0.0, 0.1],
            overdue_rate=[0.0, 0.1],
            extension_rate=[0.0, 0.2],
        )
    )
    s = ind.composite_score(table, WEIGHTS)
    assert s.iloc[0] == pytest.approx(100.0)
    assert s.iloc[1] == pytest.approx(0.9 * 30 + 0.8 * 20 + 0.9 * 20 + 0.9 * 20 + 0.8 * 10)
    # the same weights at any scale give the same score
    doubled = {k: 2 * v for k, v in WEIGHTS.items()}
    assert ind.composite_score(table, doubled).tolist() == pytest.approx(s.tolist())
    assert sum(ind.normalised_weights({"disposal_rate": 1, "ontime_rate": 3}).values()) == pytest.approx(100)
    assert ind.normalised_weights({"disposal_rate": 1, "ontime_rate": 3})["ontime_rate"] == pytest.approx(75)
    # a zero-weight component does not matter
    only = ind.composite_score(table, {"ontime_rate": 1, "rework_free": 0})
    assert only.tolist() == pytest.approx([100.0, 80.0])


def test_all_missing_score_is_nan():
    table = pd.DataFrame(
        dict(
            disposal_rate=[np.nan],
            ontime_rate=[np.nan],
            rework_rate=[np.nan],
            overdue_rate=[np.nan],
            extension_rate=[np.nan],
        )
    )
    assert math.isnan(ind.composite_score(table, WEIGHTS).iloc[0])


@pytest.mark.parametrize("bad", [{"speed": 10}, {"disposal_rate": 0}, {"disposal_rate": -1, "ontime_rate": 5}])
def test_bad_weights_raise(bad):
    with pytest.raises(ValueError):
        ind.normalised_weights(bad)


def test_settings_defaults_are_valid():
    assert set(settings.get("score_weights")) == set(ind.SCORE_COMPONENTS)
    ind.normalised_weights(settings.get("score_weights"))


@pytest.mark.parametrize(
    "score,grade",
    [
        (100, "A"),
        (90, "A"),
        (89.99, "B"),
        (75, "B"),
        (60, "C"),
        (59.9, "D"),
        (40, "D"),
        (39.99, "E"),
        (0, "E"),
        (float("nan"), None),
        (None, None),
    ],
)
def test_grades(score, grade):
    assert ind.grade_of(score, GRADES) == grade


def test_grades_follow_thresholds_setting():
    assert ind.grade_of(80, {"A": 80, "B": 50}) == "A"
    assert ind.grades(pd.Series([95.0, 50.0, np.nan]), GRADES).tolist() == ["A", "D", None]


def test_percentiles_from_histogram():
    hist = pd.DataFrame(dict(department_id=[1] * 3 + [2], lo=[0, 1, 2, 40], width=[1, 1, 1, 8], n=[2, 0, 2, 4]))
    p = ind.percentiles_from_histogram(hist, "department_id").set_index("department_id")
    # unit 1: 4 values, two in [0,1), two in [2,3): median target 2 falls at the end of the first bin
    assert p.loc[1, "median_hours"] == pytest.approx(1.0)
    assert p.loc[1, "p90_hours"] == pytest.approx(2 + 1 * (3.6 - 2) / 2)
    # unit 2: all in one 8-hour bin: spread evenly
    assert p.loc[2, "median_hours"] == pytest.approx(44.0)
    assert p.loc[2, "p90_hours"] == pytest.approx(40 + 8 * 0.9)


def test_simulate_rate_shapes_and_zero_trials():
    rng = np.random.default_rng(1)
    sims = ind.simulate_rate([10, 0, 5], [10, 0, 10], 500, rng)
    assert sims.shape == (3, 500)
    assert np.isnan(sims[1]).all()
    assert sims[0].std() > 0  # 100 % still varies
    assert abs(sims[2].mean() - 0.5) < 0.03


def test_every_indicator_is_named_and_documented():
    """Each indicator has a name and a formula in both languages (the ``indicators`` catalog, keyed by code), and
    its Chinese name is in docs/indicators.md."""
    doc = (settings.PROJECT_ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    for scope, defined in (("department", ind.DEPARTMENT_INDICATORS), ("street", ind.STREET_INDICATORS)):
        for i in defined:
            for lang in i18n.LANGUAGES:
                assert i18n.translate("indicators", f"{scope}.{i.key}", lang), (scope, i.key, lang)
                assert i18n.translate("indicators", f"{scope}.{i.key}.formula", lang), (scope, i.key, lang)
            assert i18n.translate("indicators", f"{scope}.{i.key}", "zh") in doc, (scope, i.key)


def test_satisfaction_is_defined_once():
    """满意率 = (满意 + 0.9 × 基本满意) / 有效回访数 for scalars and columns; nothing answered is unknown, not 0 %."""
    assert ind.satisfaction_rate(3, 1, 5) == pytest.approx((3 + 0.9) / 5)
    assert math.isnan(ind.satisfaction_rate(0, 0, 0))
    rates = ind.satisfaction_rate(pd.Series([1, 0]), pd.Series([1, 0]), pd.Series([2, 0]))
    assert rates.iloc[0] == pytest.approx(0.95) and math.isnan(rates.iloc[1])
