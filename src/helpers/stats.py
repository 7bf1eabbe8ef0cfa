"""Statistics for inference timing: bootstrap ratio intervals and TOST equivalence.

Timing arms are measured in interleaved repetitions (A B A B ...) on identical
inputs, so repetition ``i`` of arm A and repetition ``i`` of arm B share the
machine's state at that moment: they are *paired*. The ratio of interest is a
throughput ratio, ``throughput(A) / throughput(B)``; with the same work per
repetition this equals ``sum(B seconds) / sum(A seconds)``.

Equivalence is judged with two one-sided t-tests (TOST, Schuirmann 1987) on
the per-repetition log throughput ratios: the arms are called equivalent when
the mean log ratio is shown to lie inside ``[log(1 - margin), log(1 + margin)]``
(by default 0.98x to 1.02x) at level ``alpha``. This is the same decision as
the ``1 - 2*alpha`` (90 %) confidence interval lying inside the margin.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .errors import StudyError, check_choice, check_positive

VERDICTS = ("equivalent", "not equivalent", "inconclusive")


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


def bootstrap_ratio_ci(
    a_times: Sequence[float],
    b_times: Sequence[float],
    n_boot: int = 10000,
    alpha: float = 0.05,
    seed: int = 0,
    paired: bool = True,
) -> tuple[float, float, float]:
    """Throughput ratio of arm A over arm B with a percentile bootstrap interval.

    ``a_times`` and ``b_times`` are the seconds that each repetition of arm A
    and arm B took for the same work. The point estimate is
    ``sum(b) / sum(a)`` (A's throughput over B's; > 1 means A is faster).
    With ``paired=True`` (interleaved repetitions) repetition indices are
    resampled jointly, so the pairs stay together; with ``paired=False`` the
    two samples are resampled independently. Returns ``(ratio, lo, hi)``,
    the ``1 - alpha`` percentile interval from ``n_boot`` resamples with a
    fixed ``seed`` (so the result is reproducible).
    """
    a = _positive_array("a_times", a_times)
    b = _positive_array("b_times", b_times)
    check_positive("n_boot", n_boot, integer=True)
    if not 0 < alpha < 1:
        raise StudyError(f"alpha must be between 0 and 1, got {alpha!r}")
    if paired and a.size != b.size:
        raise StudyError(f"paired bootstrap needs equal repetition counts, got {a.size} and {b.size}")
    ratio = float(b.sum() / a.sum())
    rng = np.random.default_rng(seed)
    if paired:
        idx = rng.integers(0, a.size, size=(n_boot, a.size))
        boot = b[idx].sum(axis=1) / a[idx].sum(axis=1)
    else:
        ia = rng.integers(0, a.size, size=(n_boot, a.size))
        ib = rng.integers(0, b.size, size=(n_boot, b.size))
        boot = (b[ib].mean(axis=1)) / (a[ia].mean(axis=1))
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return ratio, float(lo), float(hi)


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
    ``"not equivalent"`` when the ``1 - 2*alpha`` interval lies wholly outside
    the bounds; otherwise ``"inconclusive"``. ``ci`` is that interval mapped
    back to the ratio scale. With zero spread the test degenerates to comparing
    the mean with the bounds (p = 0 or 1).
    """
    from scipy import stats as sps

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
        verdict = "not equivalent"
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
