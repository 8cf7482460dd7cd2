"""Cauchy combination, Bonferroni and Benjamini–Hochberg against formulas, hand computation and statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from analytics import combine


def test_cauchy_matches_formula():
    p = np.array([0.01, 0.2, 0.5])
    t = np.mean(np.tan((0.5 - p) * np.pi))
    assert combine.cauchy_combine(p) == pytest.approx(0.5 - np.arctan(t) / np.pi)
    w = np.array([2.0, 1.0, 1.0])
    t_w = np.sum(w / w.sum() * np.tan((0.5 - p) * np.pi))
    assert combine.cauchy_combine(p, w) == pytest.approx(0.5 - np.arctan(t_w) / np.pi)


def test_cauchy_properties():
    assert combine.cauchy_combine([0.3]) == pytest.approx(0.3)
    assert combine.cauchy_combine([0.04, 0.04, 0.04]) == pytest.approx(0.04)  # identical p -> same p
    tiny = combine.cauchy_combine([1e-20, 0.5])
    assert 1e-20 < tiny < 1e-19  # ~ 2 * min p for a strong signal
    assert np.isnan(combine.cauchy_combine([np.nan]))
    assert combine.cauchy_combine([np.nan, 0.2]) == pytest.approx(0.2)
    # An indicator pointing the innocent way (p ~ 1) is capped and cannot cancel a strong signal.
    assert combine.cauchy_combine([1e-6, 0.999999]) < 1e-4


def test_cauchy_is_calibrated_under_the_null():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=(20000, 3))
    comb = np.array([combine.cauchy_combine(r) for r in p])
    assert np.mean(comb < 0.05) == pytest.approx(0.05, abs=0.01)


def test_bonferroni():
    assert combine.bonferroni([0.01, 0.2, 0.6]).tolist() == pytest.approx([0.03, 0.6, 1.0])
    assert combine.bonferroni_min([0.01, np.nan, 0.2]) == pytest.approx(0.02)
    assert np.isnan(combine.bonferroni_min([np.nan]))


def test_bh_hand_example():
    # m = 5: sorted p 0.005, 0.01, 0.03, 0.04, 0.5 -> m p / rank = 0.025, 0.025, 0.05, 0.05, 0.5
    p = np.array([0.04, 0.005, 0.5, 0.03, 0.01])
    q = combine.benjamini_hochberg(p)
    assert q.tolist() == pytest.approx([0.05, 0.025, 0.5, 0.05, 0.025])


def test_bh_matches_statsmodels_and_keeps_nan():
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-3, 20)])
    q = combine.benjamini_hochberg(p)
    assert q == pytest.approx(multipletests(p, method="fdr_bh")[1])
    p2 = p.copy()
    p2[[3, 50]] = np.nan
    q2 = combine.benjamini_hochberg(p2)
    ok = np.isfinite(p2)
    assert np.isnan(q2[[3, 50]]).all()
    assert q2[ok] == pytest.approx(multipletests(p2[ok], method="fdr_bh")[1])
