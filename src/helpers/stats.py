"""Statistics for inference timing: paired log-ratio intervals and TOST equivalence.

Timing arms are measured in interleaved repetitions on identical inputs, so
repetition ``i`` of arm A and repetition ``i`` of arm B share the machine's
state at that moment: they are *paired*. The quantity of interest is a
throughput ratio, ``throughput(A) / throughput(B)``; repetition ``i`` gives
one ratio ``r_i = b_i / a_i`` (seconds of B over seconds of A for the same
work).

The study's estimate (:func:`paired_ratio_summary`) is the geometric mean of
the ``r_i``, ``exp(mean(log r_i))``, with a Student t interval on the log
ratios (``n - 1`` degrees of freedom, not a normal ``z``: with 12 repetitions
``t`` is 9 % wider at 90 %). Equivalence is judged with two one-sided t-tests
(TOST, Schuirmann 1987) on the same log ratios: the arms are called
*equivalent* when the mean log ratio is shown to lie inside
``[log(1 - margin), log(1 + margin)]`` (the study uses +/-1 %) at level
``alpha``, which is the same decision as the ``1 - 2*alpha`` (90 %) interval
lying inside the bounds; *different* when that interval lies wholly outside
them; otherwise *inconclusive*.

An earlier protocol gave a paired percentile bootstrap of ``sum(b) / sum(a)``
over 4 repetitions instead; with so few pairs that interval is far too narrow
(its coverage is well below the nominal level), which is how it reported
intervals that excluded 1. The t interval replaced it.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats as sps

from .errors import StudyError, check_choice

VERDICTS = ("equivalent", "different", "inconclusive")


def _positive_array(what: str, values: Sequence[float]) -> np.ndarray:
    arr = np.asarray(list(values), dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise StudyError(f"{what} must be a non-empty list of numbers, got {len(arr)} values")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise StudyError(f"{what} must be positive finite numbers (seconds or ratios), got {arr.tolist()}")
    return arr


def paired_ratios(a_times: Sequence[float], b_times: Sequence[float]) -> list[float]:
    """Per-repetition throughput ratios A/B of paired repetitions: ``b_i / a_i``."""
    a = _positive_array("a_times", a_times)
    b = _positive_array("b_times", b_times)
    if a.size != b.size:
        raise StudyError(f"paired repetitions need equal counts, got {a.size} and {b.size}")
    return (b / a).tolist()


def tost_equivalence(
    ratios_or_log_ratios: Sequence[float],
    margin: float = 0.02,
    alpha: float = 0.05,
    *,
    scale: str = "ratio",
) -> dict:
    """Two one-sided t-tests that a throughput ratio lies within ``1 +/- margin``.

    ``ratios_or_log_ratios`` are per-repetition ratios (``scale="ratio"``,
    e.g. from :func:`paired_ratios`) or their natural logs (``scale="log"``).
    The tests run on the log ratios ``x`` (mean ``m``, standard error ``se``,
    ``n - 1`` degrees of freedom) against the bounds ``lo = log(1 - margin)``
    and ``hi = log(1 + margin)``:

    * ``p_lower``: H0 ``m <= lo``, p = ``P(T >= (m - lo) / se)``;
    * ``p_upper``: H0 ``m >= hi``, p = ``P(T <= (m - hi) / se)``.

    Verdict: ``"equivalent"`` when both p-values are below ``alpha``;
    ``"different"`` when the ``1 - 2*alpha`` interval lies wholly outside
    the bounds; otherwise ``"inconclusive"``. ``ci`` is that interval mapped
    back to the ratio scale. With zero spread the test degenerates to comparing
    the mean with the bounds (p = 0 or 1).
    """
    check_choice("scale", scale, ("ratio", "log"))
    if not 0 < margin < 1:
        raise StudyError(f"margin must be between 0 and 1 (0.02 = 2 %), got {margin!r}")
    if not 0 < alpha < 0.5:
        raise StudyError(f"alpha must be between 0 and 0.5, got {alpha!r}")
    if scale == "ratio":
        x = np.log(_positive_array("ratios", ratios_or_log_ratios))
    else:
        x = np.asarray(list(ratios_or_log_ratios), dtype=float)
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise StudyError("log ratios must be a non-empty list of finite numbers")
    n = int(x.size)
    if n < 2:
        raise StudyError(f"TOST needs at least 2 repetitions, got {n}")
    lo_b, hi_b = math.log(1 - margin), math.log(1 + margin)
    m = float(x.mean())
    sd = float(x.std(ddof=1))
    se = sd / math.sqrt(n)
    df = n - 1
    if se == 0.0:
        p_lower = 0.0 if m > lo_b else 1.0
        p_upper = 0.0 if m < hi_b else 1.0
        ci_log = (m, m)
    else:
        p_lower = float(sps.t.sf((m - lo_b) / se, df))
        p_upper = float(sps.t.cdf((m - hi_b) / se, df))
        tq = float(sps.t.ppf(1 - alpha, df))
        ci_log = (m - tq * se, m + tq * se)
    if p_lower < alpha and p_upper < alpha:
        verdict = "equivalent"
    elif ci_log[1] < lo_b or ci_log[0] > hi_b:
        verdict = "different"
    else:
        verdict = "inconclusive"
    return {
        "verdict": verdict,
        "p_lower": p_lower,
        "p_upper": p_upper,
        "ci": (math.exp(ci_log[0]), math.exp(ci_log[1])),
        "ci_level": 1 - 2 * alpha,
        "ratio": math.exp(m),
        "n": n,
        "margin": margin,
        "bounds": (1 - margin, 1 + margin),
    }


def log_ratio_interval(ratios: Sequence[float], level: float = 0.90) -> tuple[float, float, float]:
    """Geometric mean of ``ratios`` and its Student t interval: ``(ratio, lo, hi)``.

    With ``x_i = log r_i`` (``n`` values, mean ``m``, sample standard
    deviation ``s``), the interval is ``exp(m -/+ t_{(1+level)/2, n-1} s /
    sqrt(n))``. Needs at least two ratios; zero spread gives a point interval.
    """
    x = np.log(_positive_array("ratios", ratios))
    if x.size < 2:
        raise StudyError(f"an interval needs at least 2 repetitions, got {x.size}")
    if not 0 < level < 1:
        raise StudyError(f"level must be between 0 and 1 (0.90 = 90 %), got {level!r}")
    m = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(x.size)
    half = float(sps.t.ppf((1 + level) / 2, x.size - 1)) * se
    return math.exp(m), math.exp(m - half), math.exp(m + half)


def paired_ratio_summary(
    a_times: Sequence[float],
    b_times: Sequence[float],
    margin: float = 0.01,
    alpha: float = 0.05,
) -> dict:
    """Throughput ratio of A over B from paired repetitions, with intervals and the TOST verdict.

    ``a_times``/``b_times`` are seconds (or seconds per token) of paired
    repetitions doing the same work. Per repetition ``r_i = b_i / a_i``;
    ``ratio`` is their geometric mean (> 1: A is faster); ``ci_lo``/``ci_hi``
    the ``1 - 2*alpha`` t interval (90 % by default, the one TOST decides
    with), ``ci95_lo``/``ci95_hi`` the 95 % one; ``verdict`` and the two
    one-sided p-values come from :func:`tost_equivalence` at ``+/- margin``;
    ``sd_log`` is the standard deviation of the log ratios (the harness's
    per-repetition noise).
    """
    ratios = paired_ratios(a_times, b_times)
    tost = tost_equivalence(ratios, margin=margin, alpha=alpha)
    _, lo95, hi95 = log_ratio_interval(ratios, 0.95)
    return {
        "ratio": tost["ratio"],
        "ci_lo": tost["ci"][0],
        "ci_hi": tost["ci"][1],
        "ci_level": tost["ci_level"],
        "ci95_lo": lo95,
        "ci95_hi": hi95,
        "verdict": tost["verdict"],
        "p_lower": tost["p_lower"],
        "p_upper": tost["p_upper"],
        "n": tost["n"],
        "margin": margin,
        "sd_log": float(np.log(np.asarray(ratios)).std(ddof=1)),
    }
