"""Funnel limits and the additive over-dispersion estimate on constructed data with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from analytics import funnel


def test_winsorise_clips_tails():
    v = np.arange(11, dtype=float)
    w = funnel.winsorise(v, 0.10)
    assert w.min() == 1.0 and w.max() == 9.0 and w[5] == 5.0


def test_tau2_zero_without_overdispersion():
    rng = np.random.default_rng(1)
    se = rng.uniform(0.05, 0.2, 300)
    y = rng.normal(0.0, se)
    assert funnel.overdispersion_tau2(y, se, 0.0) < 0.002


@pytest.mark.parametrize("tau", [0.1, 0.3])
def test_tau2_recovers_planted_overdispersion(tau):
    rng = np.random.default_rng(7)
    se = rng.uniform(0.05, 0.2, 2000)
    y = rng.normal(0.0, np.sqrt(se**2 + tau**2))
    est = funnel.overdispersion_tau2(y, se, 0.0, winsor=0.0)
    assert est == pytest.approx(tau**2, rel=0.15)
    # Winsorising trims the tails, so it underestimates a little — but a few extreme (gaming) units cannot inflate it.
    est_w = funnel.overdispersion_tau2(y, se, 0.0, winsor=0.10)
    y_out = y.copy()
    y_out[:40] = -5.0
    assert funnel.overdispersion_tau2(y_out, se, 0.0, winsor=0.10) == pytest.approx(est_w, rel=0.15)
    assert funnel.overdispersion_tau2(y_out, se, 0.0, winsor=0.0) > 5 * tau**2


def test_tau2_matches_hand_computation():
    y = np.array([0.0, 1.0, -1.0, 2.0])
    se = np.array([0.5, 0.5, 0.5, 0.5])
    z = y / se
    phi = np.mean(z**2)  # (0 + 4 + 4 + 16) / 4 = 6
    w = 1 / se**2
    expected = (4 * phi - 3) / (w.sum() - (w**2).sum() / w.sum())  # (24 - 3) / (16 - 4) = 1.75
    assert funnel.overdispersion_tau2(y, se, 0.0, winsor=0.0) == pytest.approx(expected) == pytest.approx(1.75)


def test_funnel_z_and_planted_outlier():
    rng = np.random.default_rng(3)
    se = rng.uniform(0.05, 0.2, 300)
    y = rng.normal(0.5, np.sqrt(se**2 + 0.15**2))
    y[0], se[0] = -0.8, 0.1  # a planted low unit
    f = funnel.funnel_z(y, se)
    assert f.target == pytest.approx(0.5, abs=0.05)
    assert f.tau2 == pytest.approx(0.15**2, rel=0.4)
    assert f.z[0] < -5 and f.p_low[0] < 1e-6
    # With tau2 the honest units are not over-flagged (two-sided 99.8 % limits: ~0.6 expected of 299).
    assert (np.abs(f.z[1:]) > 3.09).sum() <= 3
    # Without it, many honest units fall outside the limits.
    naive = funnel.funnel_z(y, se, f.target, tau2=0.0)
    assert (np.abs(naive.z[1:]) > 3.09).sum() > 15


def test_proportion_funnel_pooled_target_and_limits():
    frame = funnel.proportion_funnel([10, 20, 30], [100, 100, 100])
    assert frame["expected"].iloc[0] == pytest.approx(0.2)
    assert frame["observed"].tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert frame["z"].iloc[1] == pytest.approx(0.0)
    assert (frame["lower"] < frame["observed"].iloc[1]).all() and (frame["upper"] > 0.2).all()


def test_log_odds_ratio_with_correction():
    lor, se = funnel.log_odds_ratio(10, 10, 10, 10)
    assert lor == pytest.approx(0.0) and se == pytest.approx(np.sqrt(4 / 10.5))
    lor0, se0 = funnel.log_odds_ratio(0, 10, 10, 10)
    assert np.isfinite(lor0) and lor0 < -2


def test_limits_widen_with_tau2():
    lo0, hi0 = funnel.limits(0.5, [0.1], 0.0)
    lo1, hi1 = funnel.limits(0.5, [0.1], 0.04)
    assert lo1[0] < lo0[0] < 0.5 < hi0[0] < hi1[0]


def test_innocent_side_tau2_ignores_a_third_of_units_gaming():
    """A third of the units pushed far to the suspicious (low) side inflate a two-sided winsorised τ²; estimated
    from the innocent side of the median only, τ² stays near the honest value."""
    rng = np.random.default_rng(41)
    n_honest, n_game = 24, 12
    se = np.full(n_honest + n_game, 0.05)
    y = np.concatenate([0.5 + rng.normal(0, 0.1, n_honest), 0.5 - 0.4 + rng.normal(0, 0.1, n_game)])
    y = y + rng.normal(0, 0.05, y.size)
    two_sided = funnel.overdispersion_tau2(y, se, 0.5, winsor=0.25)
    one_sided = funnel.overdispersion_tau2(y, se, 0.5, winsor=0.25, innocent_side=1)
    assert one_sided < two_sided
    assert one_sided == pytest.approx(0.1**2, rel=0.8)
    # Fewer than 3 units on the innocent side: falls back to the winsorised estimate.
    assert funnel.overdispersion_tau2(
        [0.1, 0.5, 0.6], [0.05] * 3, 0.5, winsor=0.25, innocent_side=1
    ) == funnel.overdispersion_tau2([0.1, 0.5, 0.6], [0.05] * 3, 0.5, winsor=0.25)


def test_proportion_limits_narrow_with_volume_and_keep_tau():
    lo, hi = funnel.proportion_limits(0.6, 0.0, np.array([10, 1000]), 3.090232)
    assert hi[0] - lo[0] > hi[1] - lo[1] > 0
    lo_t, hi_t = funnel.proportion_limits(0.6, 0.01, np.array([1e6]), 3.090232)
    assert hi_t[0] - lo_t[0] == pytest.approx(2 * 3.090232 * 0.1, rel=1e-3)  # τ keeps the limits open
    assert lo.min() >= 0 and hi.max() <= 1
