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

Accuracy gains (:func:`paired_bootstrap_gain`, :func:`paired_bootstrap_mean_gain`)
are intervals of a different kind: the two arms are scored on the *same* test
items, so the items are resampled jointly (a paired percentile bootstrap over
items, thousands of resamples: the test sets have hundreds of items, not a
handful of repetitions). A task's score is rebuilt from per-item statistics
(:mod:`helpers.itemscores`) exactly as the metric computes it, in each
language, and averaged over languages as the task score is; the mean over
tasks resamples each task independently. :func:`seed_spread` gives the seed
standard deviation of the direct arm, the other source of variation a gain
must be read against.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, NamedTuple, Sequence

import numpy as np
from scipy import stats as sps

from .errors import StudyError, check_choice, check_positive

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


# --------------------------------------------------------------------------- accuracy gains
class BootstrapGain(NamedTuple):
    """A gain in score points (arm minus base) and its percentile bootstrap interval."""

    gain: float
    lo: float
    hi: float


def _item_rows(items) -> list[Mapping]:
    """Items as a list of mappings (a DataFrame's records, or the list itself)."""
    if hasattr(items, "to_dict"):
        return items.to_dict("records")
    return list(items)


def _by_language(items, task: str) -> dict[str, dict[str, Mapping]]:
    out: dict[str, dict[str, Mapping]] = {}
    for n, item in enumerate(_item_rows(items)):
        lang = str(item.get("language", ""))
        key = str(item.get("item", n))
        if key in out.setdefault(lang, {}):
            raise StudyError(f"{task} item {key} appears twice in language {lang or '(none)'}: "
                             f"items are keyed by (language, item)")
        out[lang][key] = item
    return out


def _language_replicates(task: str, arm: Sequence[Mapping], base: Sequence[Mapping], rng: np.random.Generator,
                         n_boot: int) -> tuple[float, np.ndarray]:
    """One language's point gain and ``n_boot`` paired bootstrap gains (the same resampled items for both)."""
    from .itemscores import score_from_items, ratio_terms, stat_matrix

    scale, num, den = ratio_terms(task)
    cols = list(dict.fromkeys([*num, *(den or {})]))
    a, b = stat_matrix(task, arm, cols), stat_matrix(task, base, cols)
    n = a.shape[0]
    idx = rng.integers(0, n, size=(n_boot, n))

    def replicate(stats: np.ndarray) -> np.ndarray:
        sums = {c: stats[:, cols.index(c)][idx].sum(axis=1) for c in cols}  # [n_boot] per column
        numer = sum(num[c] * sums[c] for c in num)
        denom = np.full(n_boot, float(n)) if den is None else sum(den[c] * sums[c] for c in den)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denom > 0, scale * numer / np.where(denom > 0, denom, 1.0), 0.0)

    point = score_from_items(task, arm) - score_from_items(task, base)
    return point, replicate(a) - replicate(b)


def _task_replicates(items_arm, items_base, task: str, n_boot: int, rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """The task's point gain (mean over languages) and its bootstrap replicates."""
    arm, base = _by_language(items_arm, task), _by_language(items_base, task)
    if not arm:
        raise StudyError(f"no {task} items to compare")
    if set(arm) != set(base):
        raise StudyError(f"{task}: the arms were scored in different languages ({', '.join(sorted(arm))} vs "
                         f"{', '.join(sorted(base))}); a paired comparison needs the same test items")
    points, reps = [], []
    for lang in sorted(arm):
        if set(arm[lang]) != set(base[lang]):
            raise StudyError(f"{task} in {lang or '(none)'}: the arms were scored on different items "
                             f"({len(arm[lang])} vs {len(base[lang])}); a paired comparison needs the same test items")
        keys = list(arm[lang])
        point, rep = _language_replicates(task, [arm[lang][k] for k in keys], [base[lang][k] for k in keys], rng, n_boot)
        points.append(point)
        reps.append(rep)
    return float(np.mean(points)), np.mean(np.stack(reps), axis=0)


def _check_bootstrap(n_boot: int, level: float) -> None:
    check_positive("n_boot", n_boot, integer=True)
    if not 0 < level < 1:
        raise StudyError(f"level must be between 0 and 1 (0.95 = 95 %), got {level!r}")


def _interval(point: float, replicates: np.ndarray, level: float) -> BootstrapGain:
    lo, hi = np.quantile(replicates, [(1 - level) / 2, (1 + level) / 2])
    return BootstrapGain(float(point), float(lo), float(hi))


def paired_bootstrap_gain(items_arm, items_base, task: str, n_boot: int = 2000, seed: int = 0,
                          level: float = 0.95) -> BootstrapGain:
    """Gain of an arm over a base arm on ``task`` (score points) with a paired bootstrap interval.

    ``items_arm``/``items_base``: the items of each arm (dicts or a DataFrame
    of ``results/zero_shot_items.csv`` rows with ``language``, ``item`` and
    the task's statistic columns, :mod:`helpers.itemscores`), on the same test
    items. In each language the items are resampled with replacement, the same
    indices for both arms, and each arm's score recomputed from the resampled
    statistics as the metric computes it; the task's gain is the mean over
    languages of the per-language gains, as the task score is a mean over
    languages. Returns ``(gain, lo, hi)``: the gain on the full test sets and
    the ``level`` percentile interval of ``n_boot`` replicates (``seed``
    fixes them). Identical arms give ``(0, 0, 0)``.
    """
    _check_bootstrap(n_boot, level)
    point, reps = _task_replicates(items_arm, items_base, task, n_boot, np.random.default_rng(seed))
    return _interval(point, reps, level)


def paired_bootstrap_mean_gain(per_task: Mapping[str, tuple], n_boot: int = 2000, seed: int = 0,
                               level: float = 0.95) -> BootstrapGain:
    """The mean over tasks of an arm's gains, with a paired bootstrap interval.

    ``per_task`` maps each task to ``(items_arm, items_base)``. Each task is
    resampled independently (as :func:`paired_bootstrap_gain`, its own
    random stream from ``seed`` and the task's position), and the replicate
    of the mean is the mean of the tasks' replicates.
    """
    _check_bootstrap(n_boot, level)
    if not per_task:
        raise StudyError("no tasks to average: give at least one task's (items_arm, items_base)")
    streams = np.random.SeedSequence(seed).spawn(len(per_task))
    points, reps = [], []
    for (task, (items_arm, items_base)), stream in zip(sorted(per_task.items()), streams):
        point, rep = _task_replicates(items_arm, items_base, task, n_boot, np.random.default_rng(stream))
        points.append(point)
        reps.append(rep)
    return _interval(float(np.mean(points)), np.mean(np.stack(reps), axis=0), level)


def gain_intervals(items, base: str = "direct", seed: int | None = None, n_boot: int = 2000, boot_seed: int = 0,
                   level: float = 0.95) -> list[dict]:
    """Every arm's gain over ``base`` per task and averaged over tasks, with paired bootstrap intervals.

    ``items``: rows of ``results/zero_shot_items.csv`` (a DataFrame or dicts)
    of one profile, model, source and eval_limit. ``seed`` picks the seed
    (default: the smallest present; the arms are compared seed with seed).
    Returns rows ``{"arm", "task", "gain", "lo", "hi", "items"}``, one per
    (arm, task that both the arm and ``base`` have), then one per arm with
    ``task`` ``"average"`` (:func:`paired_bootstrap_mean_gain` over those tasks).
    """
    rows = _item_rows(items)
    if not rows:
        raise StudyError("no zero-shot items: run chapter 06_zero_shot first")
    seeds = sorted({int(r["seed"]) for r in rows})
    seed = seeds[0] if seed is None else int(seed)
    if seed not in seeds:
        raise StudyError(f"no zero-shot items of seed {seed}; seeds present: {', '.join(map(str, seeds))}")
    grouped: dict[tuple[str, str], list[Mapping]] = {}
    for r in rows:
        if int(r["seed"]) == seed:
            grouped.setdefault((str(r["arm"]), str(r["target_task"])), []).append(r)
    arms = sorted({arm for arm, _ in grouped if arm != base})
    if not any(arm == base for arm, _ in grouped):
        raise StudyError(f"no zero-shot items of the base arm {base!r}; arms present: "
                         f"{', '.join(sorted({a for a, _ in grouped}))}")
    out = []
    for arm in arms:
        tasks = sorted(t for a, t in grouped if a == arm and (base, t) in grouped)
        per_task = {t: (grouped[(arm, t)], grouped[(base, t)]) for t in tasks}
        for t in tasks:
            g = paired_bootstrap_gain(*per_task[t], t, n_boot=n_boot, seed=boot_seed, level=level)
            out.append({"arm": arm, "task": t, **g._asdict(), "items": len(per_task[t][0])})
        if tasks:
            g = paired_bootstrap_mean_gain(per_task, n_boot=n_boot, seed=boot_seed, level=level)
            out.append({"arm": arm, "task": "average", **g._asdict(), "items": sum(len(a) for a, _ in per_task.values())})
    return out


# --------------------------------------------------------------------------- seeds
def seed_spread(zero_shot, arm: str = "direct", tasks: Iterable[str] | None = None) -> list[dict]:
    """Per task, the spread over seeds of ``arm``'s score (primary metric, mean over languages).

    ``zero_shot``: rows of ``results/zero_shot.csv`` (a DataFrame or dicts) of
    one profile. Only tasks with at least two seeds are listed (``tasks``
    restricts them): ``{"task", "seeds", "mean", "sd"}`` with the sample
    standard deviation (``ddof=1``) of the per-seed task scores.
    """
    from .metrics import primary_metric

    wanted = None if tasks is None else set(tasks)
    scores: dict[str, dict[int, list[float]]] = {}
    for row in _item_rows(zero_shot):
        task = str(row["target_task"])
        if row["arm"] != arm or row["metric"] != primary_metric(task):
            continue
        if wanted is not None and task not in wanted:
            continue
        scores.setdefault(task, {}).setdefault(int(row["seed"]), []).append(float(row["value"]))
    out = []
    for task, by_seed in sorted(scores.items()):
        if len(by_seed) < 2:
            continue
        per_seed = [float(np.mean(v)) for _, v in sorted(by_seed.items())]
        out.append({"task": task, "seeds": len(per_seed), "mean": float(np.mean(per_seed)),
                    "sd": float(np.std(per_seed, ddof=1))})
    return out
