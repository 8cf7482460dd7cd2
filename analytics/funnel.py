"""Funnel-plot limits with an additive over-dispersion term (Spiegelhalter 2005, "Funnel plots for comparing
institutional performance"; "Handling over-dispersion of performance indicators").

Each unit i has an estimate ``y_i`` with a within-unit standard error ``s_i`` and the comparison has a target
``theta0`` (the "typical" value). Without over-dispersion ``z_i = (y_i - theta0) / s_i``; real units differ for many
innocent reasons (staffing, land use, income), so ~20 % of honest units would fall outside 99.8 % limits. The
additive random-effects model widens every unit's limits by a between-unit variance ``tau2``:

    z_i = (y_i - theta0) / sqrt(s_i**2 + tau2)

``tau2`` is estimated DerSimonian–Laird style from *winsorised* naive z-scores, so a few gaming units do not inflate
it and hide themselves:

    phi  = mean(winsorised z_i**2) / c      (c = E[winsorised Z**2] for normal Z: 0.679 at 10 %)
    tau2 = max(0, (I * phi - (I - 1)) / (sum w_i - sum w_i**2 / sum w_i)),   w_i = 1 / s_i**2

All functions return plain numpy arrays / floats / DataFrames; lower z is "more suspicious" only by the convention of
the caller (``analytics.flags`` orients every indicator so that low = suspicious).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


def winsorise(values, fraction: float = 0.10) -> np.ndarray:
    """Return ``values`` with the lowest and highest ``fraction`` pulled in to the corresponding quantiles."""
    v = np.asarray(values, dtype=float)
    if v.size == 0 or fraction <= 0:
        return v.copy()
    lo, hi = np.quantile(v, [fraction, 1 - fraction])
    return np.clip(v, lo, hi)


def _winsor_consistency(fraction: float) -> float:
    """E[Z_w**2] for a standard normal Z winsorised at its ``fraction`` and ``1 - fraction`` quantiles."""
    if fraction <= 0:
        return 1.0
    a = stats.norm.ppf(1 - fraction)
    return float((1 - 2 * fraction) - 2 * a * stats.norm.pdf(a) + 2 * fraction * a * a)


def overdispersion_tau2(estimates, ses, target: float, winsor: float = 0.10, innocent_side: int = 0) -> float:
    """Additive between-unit variance ``tau2`` (≥ 0) from a winsorised DerSimonian–Laird moment estimate.

    ``winsor`` is the fraction pulled in at each tail (0.10 = Spiegelhalter's 10 %/90 %). A value ≥ 0.5 switches to
    the median-absolute-deviation scale of the z-scores (breakdown 50 %), for comparisons where a large share of
    units may be gaming (e.g. 18 streets of which several are planted). Returns 0.0 when there are fewer than 3
    usable units or the units are no more variable than chance predicts.

    ``innocent_side`` (+1: values above the target cannot be gaming, −1: below; 0: both tails may be): the spread is
    estimated from the z-scores on that side of their median only (the median of their distances × 1.4826 is the
    normal σ of a half-normal), so any number of gaming units on the suspicious side cannot inflate τ² and hide
    themselves. Needs at least 3 units on the innocent side, else falls back to ``winsor``.
    """
    y = np.asarray(estimates, dtype=float)
    s = np.asarray(ses, dtype=float)
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    y, s = y[ok], s[ok]
    n = y.size
    if n < 3:
        return 0.0
    if innocent_side:
        z = (y - target) / s
        d = np.sign(innocent_side) * (z - np.median(z))
        d = d[d >= 0]
        if d.size >= 3:
            phi = float((1.4826 * np.median(d)) ** 2)
            w = 1.0 / s**2
            denom = w.sum() - (w**2).sum() / w.sum()
            return 0.0 if denom <= 0 else max(0.0, (n * phi - (n - 1)) / denom)
    if winsor >= 0.5:
        z = (y - target) / s
        phi = float((1.4826 * np.median(np.abs(z - np.median(z)))) ** 2)
        w = 1.0 / s**2
        denom = w.sum() - (w**2).sum() / w.sum()
        return 0.0 if denom <= 0 else max(0.0, (n * phi - (n - 1)) / denom)
    z = winsorise((y - target) / s, winsor)
    # Winsorising also shrinks the honest spread; divide by E[winsorised Z**2] for normal Z so that the estimate is
    # unbiased when there are no outliers (without this it recovers only ~40 % of a planted tau2).
    phi = float(np.mean(z**2)) / _winsor_consistency(winsor)
    w = 1.0 / s**2
    denom = w.sum() - (w**2).sum() / w.sum()
    if denom <= 0:
        return 0.0
    return max(0.0, (n * phi - (n - 1)) / denom)


def robust_target(estimates, ses) -> float:
    """A typical value that a few extreme units cannot drag: the inverse-variance weighted median."""
    y = np.asarray(estimates, dtype=float)
    s = np.asarray(ses, dtype=float)
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    if not ok.any():
        return float("nan")
    y, w = y[ok], 1.0 / s[ok] ** 2
    order = np.argsort(y)
    cum = np.cumsum(w[order])
    return float(y[order][np.searchsorted(cum, 0.5 * cum[-1])])


@dataclass(frozen=True)
class Funnel:
    """Result of ``funnel_z``: per-unit ``z`` and one-sided lower-tail ``p`` (small = unusually low), with the
    ``target`` and ``tau2`` used."""

    z: np.ndarray
    p_low: np.ndarray
    target: float
    tau2: float


def funnel_z(
    estimates,
    ses,
    target: float | None = None,
    *,
    tau2: float | None = None,
    winsor: float = 0.10,
    innocent_side: int = 0,
) -> Funnel:
    """z-scores of unit estimates against a target with additive over-dispersion.

    ``target`` defaults to the robust (weighted-median) value; ``tau2`` defaults to the winsorised estimate (or the
    innocent-side estimate, see ``overdispersion_tau2``).
    Units with a missing estimate or standard error get ``z = nan`` and ``p = nan``.
    """
    y = np.asarray(estimates, dtype=float)
    s = np.asarray(ses, dtype=float)
    t = robust_target(y, s) if target is None else float(target)
    t2 = overdispersion_tau2(y, s, t, winsor, innocent_side) if tau2 is None else float(tau2)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (y - t) / np.sqrt(s**2 + t2)
    z = np.where(np.isfinite(s) & (s > 0), z, np.nan)
    return Funnel(z=z, p_low=stats.norm.cdf(z), target=t, tau2=t2)


def proportion_funnel(events, totals, target: float | None = None, *, winsor: float = 0.10) -> pd.DataFrame:
    """Funnel for proportions ``events / totals`` (normal approximation, s = sqrt(p0 (1 - p0) / n)).

    Returns a DataFrame with ``observed`` (the unit's proportion), ``expected`` (the target p0), ``z``, ``p_low``
    (one-sided: unusually low), ``lower``/``upper`` (99.8 % limits for that unit's n, including tau2) and ``tau2``.
    The target defaults to the pooled proportion of all units.
    """
    y = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        obs = np.where(n > 0, y / n, np.nan)
    p0 = (
        float(y.sum() / n.sum())
        if target is None and n.sum() > 0
        else (float(target) if target is not None else float("nan"))
    )
    p0c = min(max(p0, 1e-6), 1 - 1e-6)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(n > 0, np.sqrt(p0c * (1 - p0c) / np.where(n > 0, n, 1)), np.nan)
    f = funnel_z(obs, s, p0, winsor=winsor)
    half = stats.norm.ppf(0.999) * np.sqrt(s**2 + f.tau2)
    return pd.DataFrame(
        {
            "observed": obs,
            "expected": p0,
            "z": f.z,
            "p_low": f.p_low,
            "lower": p0 - half,
            "upper": p0 + half,
            "tau2": f.tau2,
        }
    )


def log_odds_ratio(a, b, c, d, correction: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Log odds ratio ``log((a/b) / (c/d))`` and its Woolf standard error, with ``correction`` added to every cell
    (Haldane–Anscombe), so zero cells stay finite. Returns ``(log_or, se)`` arrays."""
    a, b, c, d = (np.asarray(x, dtype=float) + correction for x in (a, b, c, d))
    return np.log(a * d / (b * c)), np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)


def proportion_limits(p0: float, tau2: float, n, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits of a proportion at volumes ``n``: p0 ± z·sqrt(p0(1−p0)/n + τ²), clipped to [0, 1]
    (the drawn funnel of a proportion with additive over-dispersion)."""
    se = np.sqrt(p0 * (1 - p0) / np.asarray(n, dtype=float) + max(tau2, 0.0))
    return np.clip(p0 - z * se, 0, 1), np.clip(p0 + z * se, 0, 1)


def limits(target: float, ses, tau2: float = 0.0, coverage: float = 0.998) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided funnel limits ``(lower, upper)`` at ``coverage`` for the given standard errors (for plots)."""
    s = np.asarray(ses, dtype=float)
    half = stats.norm.ppf(0.5 + coverage / 2) * np.sqrt(s**2 + tau2)
    return target - half, target + half
