"""Fair league tables on hand-made numbers: O/E case-mix adjustment, Byar interval, rank intervals, ties, volume,
rank change."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics import fairness as fair


def _cats(rows):
    """rows: (unit, category, due, ontime) → the query-shaped frame (disposed = due, no overdue)."""
    return pd.DataFrame([dict(department_id=u, category_id=c, disposed=n, overdue=0, ontime=o) for u, c, n, o in rows])


MIX = _cats([(1, 1, 10, 10), (2, 3, 10, 5), (3, 1, 10, 9), (3, 3, 10, 5)])


def test_expected_uses_district_rate_of_each_category():
    e = fair.expected_by_category(MIX, "department_id").set_index(["department_id", "category_id"])
    assert e.loc[(1, 1), "district_rate"] == pytest.approx(19 / 20)
    assert e.loc[(2, 3), "district_rate"] == pytest.approx(10 / 20)
    assert e.loc[(3, 3), "expected"] == pytest.approx(5.0)
    assert e.loc[(3, 1), "late"] == 1


def test_oe_does_not_punish_hard_case_mix():
    oe = fair.observed_expected(fair.expected_by_category(MIX, "department_id"), "department_id").set_index(
        "department_id"
    )
    assert oe.loc[1, "oe"] == pytest.approx(10 / 9.5)
    assert oe.loc[2, "oe"] == pytest.approx(1.0)  # raw rate 50 %, but that is its categories
    assert oe.loc[3, "oe"] == pytest.approx(14 / 14.5)
    for u in (1, 2, 3):
        assert oe.loc[u, "oe_lo"] <= oe.loc[u, "oe"] <= oe.loc[u, "oe_hi"]


def test_overdue_counts_as_not_on_time():
    cats = pd.DataFrame(
        [
            dict(department_id=1, category_id=1, disposed=8, overdue=2, ontime=8),
            dict(department_id=2, category_id=1, disposed=10, overdue=0, ontime=10),
        ]
    )
    oe = fair.observed_expected(fair.expected_by_category(cats, "department_id"), "department_id").set_index(
        "department_id"
    )
    assert oe.loc[1, "oe"] == pytest.approx(8 / (10 * 18 / 20))


def test_zero_expected_is_nan():
    cats = _cats([(1, 1, 5, 0)])
    oe = fair.observed_expected(fair.expected_by_category(cats, "department_id"), "department_id").iloc[0]
    assert math.isnan(oe["oe"])


def test_byar_matches_exact_poisson():
    for k in (5, 10, 50):
        lo, hi = fair.byar_interval([k])
        exact_lo = stats.chi2.ppf(0.025, 2 * k) / 2
        exact_hi = stats.chi2.ppf(0.975, 2 * (k + 1)) / 2
        assert lo[0] == pytest.approx(exact_lo, rel=0.03)
        assert hi[0] == pytest.approx(exact_hi, rel=0.03)
    lo, hi = fair.byar_interval([1])  # Byar is rough at 1 but stays below the count
    assert 0 < lo[0] < 0.1 and hi[0] == pytest.approx(stats.chi2.ppf(0.975, 4) / 2, rel=0.03)
    lo, hi = fair.byar_interval([0])
    assert lo[0] == 0 and hi[0] == pytest.approx(3.69, rel=0.03)


def _table(rates, n):
    return pd.DataFrame(dict(department_id=range(1, len(rates) + 1), value=rates, n=n))


def _samples(rates, n, draws=2000, seed=0):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.binomial(k, r, draws) / k for r, k in zip(rates, n)])


def test_rank_intervals_separated_and_tied():
    rates, n = [0.99, 0.98, 0.80, 0.60], [2000, 2000, 500, 500]
    t = fair.rank_units(_table(rates, n), "value", _samples(rates, n), [True] * 4, prefix="r")
    assert t["r_rank"].tolist() == [1, 2, 3, 4]
    assert (t["r_rank_lo"] <= t["r_rank"]).all() and (t["r_rank"] <= t["r_rank_hi"]).all()
    # 99 % vs 98 % on 2,000 cases each are not quite certain; 80 % and 60 % are clearly apart from everyone
    assert t.loc[2, "r_status"] == "clear" and t.loc[3, "r_status"] == "clear"
    assert t.loc[3, "r_rank_lo"] == 4 and t.loc[3, "r_rank_hi"] == 4


def test_close_rates_on_small_volume_are_tied():
    rates, n = [0.95, 0.94, 0.93], [40, 40, 40]
    t = fair.rank_units(_table(rates, n), "value", _samples(rates, n), [True] * 3, prefix="r")
    assert t["r_tied"].all() and set(t["r_status"]) == {"tied"}
    assert t.loc[0, "r_rank_hi"] >= 2


def test_lower_is_better_and_min_volume():
    rates, n = [0.10, 0.02, 0.05], [100, 100, 5]
    t = fair.rank_units(
        _table(rates, n), "value", _samples(rates, n), np.array(n) >= 30, prefix="r", higher_is_better=False
    )
    assert t.loc[1, "r_rank"] == 1 and t.loc[0, "r_rank"] == 2
    assert pd.isna(t.loc[2, "r_rank"]) and t.loc[2, "r_status"] == "low_volume" and not t.loc[2, "r_ranked"]


def test_missing_value_is_no_data():
    t = fair.rank_units(_table([0.9, float("nan")], [50, 50]), "value", np.full((2, 10), 0.9), [True, True], prefix="r")
    assert t.loc[1, "r_status"] == "no_data" and t.loc[0, "r_rank"] == 1


def test_rank_change():
    cur = pd.DataFrame(dict(department_id=[1, 2, 3, 4], r=[1, 2, 3, None], ok=[True, True, True, False]))
    prev = pd.DataFrame(dict(department_id=[1, 2, 3, 4], r=[3, 2, None, 1], ok=[True, True, False, True]))
    out = fair.rank_change(
        cur.astype({"r": "Int64"}), prev.astype({"r": "Int64"}), "department_id", "r", "ok", out="chg"
    ).set_index("department_id")
    assert out.loc[1, "chg"] == 2 and out.loc[2, "chg"] == 0
    assert pd.isna(out.loc[3, "chg"]) and pd.isna(out.loc[4, "chg"])


def test_simulate_oe_centres_on_oe():
    table = pd.DataFrame(dict(oe_due=[200, 0], late=[20, 0], expected=[190.0, 0.0]))
    sims = fair.simulate_oe(table, 4000, np.random.default_rng(3))
    assert abs(np.nanmean(sims[0]) - 180 / 190) < 0.01
    assert np.isnan(sims[1]).all()
