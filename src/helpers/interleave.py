"""The A/A-calibrated comparison protocol: in which order arms run, and how their speeds are compared.

:func:`schedule` orders the entries of each repetition (alternating, Williams
Latin squares, seeded permutations or fixed); :func:`ratio_summary` turns
interleaved timing rows into per-arm throughput ratios with t intervals and a
TOST equivalence verdict (:func:`helpers.stats.paired_ratio_summary`).
"""

from __future__ import annotations

import math
import random
import statistics
from typing import Mapping, Sequence

from .errors import StudyError, check_choice, check_positive
from .stats import paired_ratio_summary

ORDERS = ("alternate", "balanced", "random", "fixed")


def williams_square(n: int) -> list[list[int]]:
    """A Williams design for ``n`` entries: rows are orders in which every entry holds every position.

    Row ``i`` is the first row ``0, 1, n-1, 2, n-2, ...`` shifted by ``i``
    (mod ``n``). For even ``n`` the ``n`` rows are a Latin square in which
    every ordered pair of entries is adjacent exactly once (balanced for the
    entry that ran just before); for odd ``n`` the mirrored rows are added
    (``2n`` rows, each position and each ordered pair twice).
    """
    check_positive("entries", n, integer=True)
    first, lo, hi = [0], 1, n - 1
    while len(first) < n:
        if len(first) % 2:
            first.append(lo)
            lo += 1
        else:
            first.append(hi)
            hi -= 1
    rows = [[(x + i) % n for x in first] for i in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return rows


def schedule(n_entries: int, repeats: int, order: str = "alternate", seed: int = 0) -> list[list[int]]:
    """The order in which entries run in each repetition.

    ``alternate``: A B, B A, A B, ... (first and last swap; with more than two
    entries the middle ones never hold the ends); ``balanced``: consecutive
    blocks of a Williams design (:func:`williams_square`: ``n`` rows for even
    ``n``, ``2n`` for odd), each block with its entries relabelled and its rows
    shuffled by a seeded permutation, so every entry holds every position
    equally often in each complete block (and follows every other entry
    equally often); a last, incomplete block is balanced only as far as it
    goes. ``random``: a seeded permutation per repetition; ``fixed``: A B
    every time.
    """
    check_choice("order", order, ORDERS)
    rng = random.Random(seed)
    base = list(range(n_entries))
    out: list[list[int]] = []
    if order == "balanced":
        while len(out) < repeats:
            labels = rng.sample(base, n_entries)
            block = [[labels[x] for x in row] for row in williams_square(n_entries)]
            rng.shuffle(block)
            out += block
        return out[:repeats]
    for r in range(repeats):
        if order == "alternate":
            out.append(base if r % 2 == 0 else base[::-1])
        elif order == "random":
            out.append(rng.sample(base, n_entries))
        else:
            out.append(base)
    return out



def ratio_summary(
    rows: Sequence[Mapping[str, object]],
    baseline_arm: str = "direct",
    *,
    by: Sequence[str] = ("sweep", "task", "language", "device", "batch", "length"),
    margin: float = 0.01,
    alpha: float = 0.05,
) -> list[dict]:
    """Per arm (within each group of ``by`` columns): throughput ratio vs the baseline arm.

    Repetitions are paired by their ``repetition`` index (they ran
    interleaved). Repetition ``i`` gives the ratio ``r_i`` = baseline seconds
    per real token / arm seconds per real token (> 1: the arm is faster);
    ``ratio`` is the geometric mean of the ``r_i`` with a Student t interval
    on ``log r_i`` (``ci_lo``/``ci_hi`` at ``1 - 2*alpha``, 90 % by default;
    ``ci95_lo``/``ci95_hi`` at 95 %) and the TOST verdict at ``+/- margin``
    (``equivalent``, ``different`` or ``inconclusive``; see
    :func:`helpers.stats.paired_ratio_summary`). ``tokens_per_s`` is the
    arm's median. The baseline's own row has ratio 1. A group with fewer than
    two paired repetitions gets its point ratio and an ``inconclusive``
    verdict.
    """
    groups: dict[tuple, dict[str, dict[int, float]]] = {}
    tps: dict[tuple, dict[str, list[float]]] = {}
    for row in rows:
        gkey = tuple(row.get(c) for c in by)
        arm = str(row["arm"])
        spt = float(row["seconds"]) / float(row["tokens"])
        groups.setdefault(gkey, {}).setdefault(arm, {})[int(row["repetition"])] = spt
        tps.setdefault(gkey, {}).setdefault(arm, []).append(float(row["tokens_per_s"]))
    arms_seen = sorted({str(r["arm"]) for r in rows})
    if rows and baseline_arm not in arms_seen:
        raise StudyError(f"baseline arm {baseline_arm!r} is not among the timed arms; valid arms: {', '.join(arms_seen)}")
    out = []
    for gkey, arms in groups.items():
        if baseline_arm not in arms:
            continue
        base = arms[baseline_arm]
        for arm, reps in arms.items():
            common = sorted(set(reps) & set(base))
            a = [reps[i] for i in common]
            b = [base[i] for i in common]
            entry = dict(zip(by, gkey))
            entry.update({"arm": arm, "baseline": baseline_arm, "n": len(common),
                          "tokens_per_s": statistics.median(tps[gkey][arm])})
            if len(common) >= 2:
                summary = paired_ratio_summary(a, b, margin=margin, alpha=alpha)
                entry.update({k: summary[k] for k in ("ratio", "ci_lo", "ci_hi", "ci95_lo", "ci95_hi", "verdict",
                                                      "p_lower", "p_upper", "sd_log")})
            else:
                entry.update({"ratio": sum(b) / sum(a) if a else math.nan, "ci_lo": math.nan, "ci_hi": math.nan,
                              "ci95_lo": math.nan, "ci95_hi": math.nan, "verdict": "inconclusive",
                              "p_lower": math.nan, "p_upper": math.nan, "sd_log": math.nan})
            entry["margin"] = margin
            out.append(entry)
    return out
