"""Intervals of a mean paired difference that fit the number of pairs.

A comparison of two variants over common random numbers yields one difference per pair of runs
(same scenario, design point and replicate). The interval of their mean is chosen by the number of
pairs ``n``:

* ``n < 2``: no interval (method ``"none"``).
* from 2 pairs to fewer than :data:`MIN_BOOTSTRAP_PAIRS`: the paired t-interval, ``mean ± t(n-1) · sd / √n``
  (method ``"t"``). It assumes the mean difference is roughly normal, which holds well for means of
  many simulated weeks; with few pairs it is the honest choice, since it widens with ``t(n-1)``.
* from :data:`MIN_BOOTSTRAP_PAIRS` pairs on: the bias-corrected and accelerated bootstrap
  (``scipy.stats.bootstrap``, ``method="BCa"``; method ``"bca"``), which needs no normality but
  estimates its corrections from the pairs themselves, so it needs enough of them.

Percentile and BCa bootstrap intervals are too narrow with few observations (their coverage falls
short of the nominal level, roughly by the factor ``√((n-1)/n)`` and more in skewed data:
Hesterberg, T. C. (2015), "What teachers should know about the bootstrap", *The American
Statistician* 69(4), 371-386), which is why the bootstrap starts only at :data:`MIN_BOOTSTRAP_PAIRS`.
Every table of intervals names its method (a column ``method``) and every text output says it.

:func:`halfwidth_in_display_units` turns an interval into the unit people read (points for rates and
shares, the metric's own unit otherwise); ``kyojosim sweep --target-halfwidth`` compares it with the
target.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..errors import KyojoError
from ..measures.outcomes import METRICS

Method = Literal["auto", "t", "bca", "percentile"]
METHODS: tuple[str, ...] = ("auto", "t", "bca", "percentile")
"""Interval methods a caller may ask for (``auto``: t below :data:`MIN_BOOTSTRAP_PAIRS` pairs, else BCa)."""

MIN_BOOTSTRAP_PAIRS = 30
"""Fewest pairs from which ``auto`` uses the BCa bootstrap instead of the paired t-interval (see the module)."""

METHOD_TEXT: dict[str, str] = {
    "t": "paired t-interval",
    "bca": "BCa bootstrap",
    "percentile": "percentile bootstrap",
    "none": "no interval (fewer than 2 pairs)",
}
"""How each method is named in text output."""


class IntervalError(KyojoError):
    """An interval cannot be computed as asked (unknown method, bad level)."""


def check_method(method: str, level: float) -> None:
    """Raise :class:`IntervalError` for an unknown method or a level outside (0, 1)."""
    if method not in METHODS:
        raise IntervalError(f"interval method: got {method!r}; allowed: {', '.join(METHODS)}")
    if not 0.0 < float(level) < 1.0:
        raise IntervalError(f"interval level: got {level!r}; allowed: a coverage between 0 and 1, e.g. 0.95")


def chosen_method(n_pairs: int, method: str = "auto") -> str:
    """Return the method used for ``n_pairs`` pairs when ``method`` is asked (``"none"`` below 2 pairs)."""
    if n_pairs < 2:
        return "none"
    if method == "auto":
        return "t" if n_pairs < MIN_BOOTSTRAP_PAIRS else "bca"
    return method


def t_interval(d: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Paired t-interval of the mean of the differences ``d`` (no ``nan``; at least 2 values)."""
    from scipy import stats

    n = d.size
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        return mean, mean
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1)) * sd / np.sqrt(n)
    return mean - half, mean + half


def bootstrap_interval(d: np.ndarray, method: str, level: float, n_boot: int,
                       rng: np.random.Generator) -> tuple[float, float]:
    """BCa or percentile bootstrap interval of the mean of ``d`` (``scipy.stats.bootstrap``)."""
    from scipy import stats

    mean = float(d.mean())
    if np.all(d == d[0]):
        return mean, mean
    res = stats.bootstrap((d,), np.mean, n_resamples=int(n_boot), confidence_level=level,
                          method="BCa" if method == "bca" else "percentile", vectorized=True, rng=rng)
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return lo, hi


def mean_interval(d: np.ndarray, method: str = "auto", level: float = 0.95, n_boot: int = 2000,
                  rng: np.random.Generator | None = None) -> tuple[float, float, str]:
    """Interval of the mean of paired differences, with the method that fits their number.

    Args:
        d: The differences (``nan`` values are left out).
        method: ``"auto"``, ``"t"``, ``"bca"`` or ``"percentile"`` (see the module).
        level: Coverage of the interval.
        n_boot: Bootstrap resamples (bootstrap methods only).
        rng: Generator of the bootstrap resamples (default: ``np.random.default_rng(0)``).

    Returns:
        ``(lo, hi, method_used)``; ``(nan, nan, "none")`` with fewer than two values.
    """
    check_method(method, level)
    d = np.asarray(d, dtype=np.float64)
    d = d[~np.isnan(d)]
    used = chosen_method(d.size, method)
    if used == "none":
        return float("nan"), float("nan"), used
    if used == "t":
        lo, hi = t_interval(d, level)
    else:
        lo, hi = bootstrap_interval(d, used, level, n_boot, rng if rng is not None else np.random.default_rng(0))
    return lo, hi, used


def display_factor(metric: str) -> float:
    """Factor from a metric's stored unit to the unit its differences are read in (100 for rates and shares)."""
    m = METRICS.get(metric)
    return 100.0 if m is not None and m.percent else 1.0


def display_unit(metric: str) -> str:
    """Return the unit a difference of ``metric`` is read in: ``points`` for rates and shares, else its unit."""
    m = METRICS.get(metric)
    if m is None:
        return ""
    return "points" if m.percent else m.unit


def halfwidth_in_display_units(metric: str, lo: float, hi: float) -> float:
    """Half the width of ``[lo, hi]`` in the unit differences of ``metric`` are read in (points for rates)."""
    return (float(hi) - float(lo)) / 2.0 * display_factor(metric)


__all__ = ["METHODS", "METHOD_TEXT", "MIN_BOOTSTRAP_PAIRS", "IntervalError", "check_method", "chosen_method",
           "display_factor", "display_unit", "halfwidth_in_display_units", "mean_interval", "t_interval"]
