"""Combining p-values: Cauchy combination inside a family, Bonferroni across families, Benjamini–Hochberg across
units. Pure numpy; each function returns floats or arrays aligned with its input.
"""

from __future__ import annotations

import numpy as np

# One-sided p-values near 1 (an indicator pointing the "innocent" way) would send tan() to -inf and cancel a real
# signal in another indicator; capping them is the usual practical fix (the test stays valid: it only gets
# slightly conservative).
P_CAP_HIGH = 0.99
P_FLOOR = 1e-300


def cauchy_combine(pvalues, weights=None) -> float:
    """Cauchy combination test (Liu & Xie 2020): ``T = sum w_i tan((0.5 - p_i) pi)``, ``p = 0.5 - arctan(T) / pi``
    with weights summing to 1. Valid under arbitrary dependence between the indicators.

    NaN p-values are ignored; returns NaN if none is left. p-values are clipped to [1e-300, 0.99].
    """
    p = np.asarray(pvalues, dtype=float)
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=float)
    ok = np.isfinite(p) & np.isfinite(w)
    if not ok.any():
        return float("nan")
    p, w = np.clip(p[ok], P_FLOOR, P_CAP_HIGH), w[ok] / w[ok].sum()
    # For tiny p, tan((0.5 - p) pi) ~ 1 / (p pi): use it to keep precision.
    terms = np.where(p < 1e-15, 1.0 / (p * np.pi), np.tan((0.5 - p) * np.pi))
    t = float((w * terms).sum())
    if t > 1e15:
        return float(1.0 / (t * np.pi))
    return float(0.5 - np.arctan(t) / np.pi)


def bonferroni(pvalues, m: int | None = None) -> np.ndarray:
    """Bonferroni-adjusted p-values ``min(1, m p)`` (``m`` defaults to the number of non-NaN p-values)."""
    p = np.asarray(pvalues, dtype=float)
    m = int(np.isfinite(p).sum()) if m is None else int(m)
    return np.minimum(1.0, p * max(m, 1))


def bonferroni_min(pvalues) -> float:
    """One p-value for "any of these families": ``min(1, m * min p)`` over the non-NaN p-values (NaN if none)."""
    p = np.asarray(pvalues, dtype=float)
    p = p[np.isfinite(p)]
    return float("nan") if p.size == 0 else float(min(1.0, p.size * p.min()))


def benjamini_hochberg(pvalues) -> np.ndarray:
    """Benjamini–Hochberg q-values (step-up adjusted p-values), aligned with the input; NaN stays NaN.

    q_(i) = min_{j >= i} (m p_(j) / j), capped at 1, where m counts the non-NaN p-values.
    """
    p = np.asarray(pvalues, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return q
    order = ok[np.argsort(p[ok], kind="mergesort")]
    ranked = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q
