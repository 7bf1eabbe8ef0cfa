"""Analysis of the results tables: accuracy per arm, STILTs gains, training cost per
arm, extrapolation to the ``full`` profile, the trade-off and its break-even point.

Everything here is a pure function of the tidy tables in ``results/`` (read with
:func:`load_table`), so every number in the analysis chapters traces back to a row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import runs

GROUP_ORDER = ("classification", "structured-prediction", "question-answering", "retrieval")


def load_table(name: str, profile: str | None = None) -> pd.DataFrame:
    """A results table as a DataFrame (numeric columns converted), optionally one profile's rows."""
    path = runs.results_root() / name
    frame = pd.DataFrame(runs.read_table(path))
    if frame.empty:
        return frame
    for col in frame.columns:
        converted = pd.to_numeric(frame[col], errors="coerce")
        if converted.notna().all():
            frame[col] = converted
    if profile is not None and "profile" in frame.columns:
        frame = frame[frame["profile"] == profile].reset_index(drop=True)
    return frame


# --------------------------------------------------------------------------- accuracy
def primary_scores(zero_shot: pd.DataFrame) -> pd.DataFrame:
    """Keep each task's primary metric (as the registry names it) and average seeds."""
    from .metrics import primary_metric

    if zero_shot.empty:
        return zero_shot
    keep = zero_shot[[primary_metric(t) == m for t, m in zip(zero_shot["target_task"], zero_shot["metric"])]]
    return (
        keep.groupby(["arm", "target_task", "language"], as_index=False)["value"].mean()
    )


def arm_task_table(zero_shot: pd.DataFrame, arms: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Arms x tasks: the primary metric averaged over languages (then seeds)."""
    scores = primary_scores(zero_shot)
    table = scores.groupby(["arm", "target_task"])["value"].mean().unstack("target_task")
    if arms:
        table = table.reindex([a for a in arms if a in table.index])
    return table


def group_table(task_table: pd.DataFrame) -> pd.DataFrame:
    """Arms x groups (tasks averaged within group) plus the overall average over groups."""
    from .tasks import get_task

    groups: dict[str, list[str]] = {}
    for task in task_table.columns:
        groups.setdefault(get_task(task).group, []).append(task)
    out = pd.DataFrame(index=task_table.index)
    for group in GROUP_ORDER:
        if group in groups:
            out[group] = task_table[groups[group]].mean(axis=1)
    out["average"] = out.mean(axis=1)
    return out


def gains(table: pd.DataFrame, baseline: str = "direct") -> pd.DataFrame:
    """Each arm minus the baseline arm, column by column (points on the 0-100 scale)."""
    if baseline not in table.index:
        raise KeyError(f"baseline arm {baseline!r} is not in the table")
    return table.drop(index=baseline) - table.loc[baseline]


def best_per_task(task_table: pd.DataFrame, baseline: str = "direct") -> pd.DataFrame:
    """The best STILTs arm of each task and its gain over the baseline."""
    stilts = task_table.drop(index=baseline)
    return pd.DataFrame(
        {
            "best arm": stilts.idxmax(),
            "best score": stilts.max(),
            baseline: task_table.loc[baseline],
            "gain": stilts.max() - task_table.loc[baseline],
        }
    )


# --------------------------------------------------------------------------- training cost
def arm_training_cost(ledger: pd.DataFrame, arms: tuple[str, ...]) -> pd.DataFrame:
    """Training cost of each arm: its intermediate phase plus its target-task phase.

    ``multi`` carries the cost of its multi-task run; a single-task STILTs arm the
    cost of its own intermediate run; ``direct`` has none. Columns: wall_s,
    flops, tokens for the intermediate phase, the target phase and their sum,
    and the extra over ``direct``.
    """
    rows = []
    for arm in arms:
        mine = ledger[ledger["arm"] == arm]
        inter = mine[mine["phase"] == "intermediate"]
        target = mine[mine["phase"] == "target"]
        row = {"arm": arm}
        for what in ("wall_s", "flops", "tokens"):
            row[f"intermediate {what}"] = float(inter[what].sum())
            row[f"target {what}"] = float(target[what].sum())
            row[f"total {what}"] = row[f"intermediate {what}"] + row[f"target {what}"]
        rows.append(row)
    out = pd.DataFrame(rows).set_index("arm")
    if "direct" in out.index:
        for what in ("wall_s", "flops"):
            out[f"extra {what} vs direct"] = out[f"total {what}"] - out.loc["direct", f"total {what}"]
            out[f"x direct ({what})"] = out[f"total {what}"] / out.loc["direct", f"total {what}"]
    return out


@dataclass(frozen=True)
class Extrapolation:
    """Hours and FLOPs of a training phase at full scale."""

    task: str
    examples: int
    tokens_per_example: float
    epochs: float
    tokens: float
    flops: float
    hours_here: float
    hours_gpu: float | None


def extrapolate(
    sizes: dict[str, int],
    tokens_per_example: dict[str, float],
    epochs: dict[str, float],
    train_tokens_per_s: float,
    flops_per_token: float,
    gpu_train_tokens_per_s: float | None = None,
) -> pd.DataFrame:
    """Training time and FLOPs of each task at full scale.

    ``sizes`` are training-set sizes (examples), ``tokens_per_example`` the mean
    real tokens per example (measured with the real tokenizer), ``epochs`` the
    recipe's epochs, ``train_tokens_per_s`` the measured throughput of a training
    step of the full model on this hardware, ``flops_per_token`` the counted
    training FLOPs per token (forward + backward).
    """
    rows = []
    for task, n in sizes.items():
        tokens = n * tokens_per_example[task] * epochs[task]
        rows.append(
            Extrapolation(
                task=task,
                examples=int(n),
                tokens_per_example=float(tokens_per_example[task]),
                epochs=float(epochs[task]),
                tokens=tokens,
                flops=tokens * flops_per_token,
                hours_here=tokens / train_tokens_per_s / 3600.0,
                hours_gpu=(tokens / gpu_train_tokens_per_s / 3600.0) if gpu_train_tokens_per_s else None,
            ).__dict__
        )
    return pd.DataFrame(rows).set_index("task")


# --------------------------------------------------------------------------- trade-off
def pareto_front(points: pd.DataFrame, x: str, y: str, maximize_x: bool = True, maximize_y: bool = True) -> pd.Series:
    """Boolean mask of the points no other point beats on both ``x`` and ``y``."""
    sx = 1 if maximize_x else -1
    sy = 1 if maximize_y else -1
    vals = list(zip(points[x] * sx, points[y] * sy))
    mask = []
    for i, (xi, yi) in enumerate(vals):
        dominated = any(
            (xj >= xi and yj >= yi) and (xj > xi or yj > yi) for j, (xj, yj) in enumerate(vals) if j != i
        )
        mask.append(not dominated)
    return pd.Series(mask, index=points.index)


def break_even_tokens(extra_training_seconds: float, fast_tokens_per_s: float, slow_tokens_per_s: float) -> float:
    """Inference tokens after which a one-off training cost equals a slower model's extra cost.

    STILTs pays ``extra_training_seconds`` once and serves at ``fast_tokens_per_s``;
    an alternative that buys accuracy at inference instead (a larger model) serves
    at ``slow_tokens_per_s``. Past the returned number of tokens served, STILTs is
    cheaper in machine time. ``inf`` when the alternative is not slower.
    """
    extra_per_token = 1.0 / slow_tokens_per_s - 1.0 / fast_tokens_per_s
    if extra_per_token <= 0:
        return math.inf
    return extra_training_seconds / extra_per_token


def fmt_interval(ratio: float, lo: float, hi: float, digits: int = 3) -> str:
    """'1.002 [0.991, 1.013]'."""
    return f"{ratio:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


# --------------------------------------------------------------------------- the answer
def arm_summary(profile: str, arms: tuple[str, ...], seed: int = 1) -> pd.DataFrame:
    """One row per arm: accuracy, gain, training cost and inference throughput ratio.

    Every column is computed from the results tables: ``zero_shot.csv``
    (average over languages, tasks, then groups), ``training_cost.csv`` (FLOPs
    and wall seconds of both phases) and ``inference.csv`` (the interleaved
    ``arms`` sweep, pooled over tasks; ratio to direct with a bootstrap interval
    and the TOST verdict at +/-2%).
    """
    from .efficiency import pooled_rows, ratio_table

    zero = load_table("zero_shot.csv", profile)
    zero = zero[zero["seed"] == seed] if not zero.empty else zero
    groups = group_table(arm_task_table(zero, arms))
    out = pd.DataFrame(index=list(arms))
    out["accuracy"] = groups["average"]
    out["gain vs direct"] = out["accuracy"] - out.loc["direct", "accuracy"]
    ledger = load_table("training_cost.csv", profile)
    ledger = ledger[ledger["seed"] == seed]
    cost = arm_training_cost(ledger, arms)
    out["training TFLOPs"] = cost["total flops"] / 1e12
    out["training x direct"] = cost["x direct (flops)"]
    out["training wall_s"] = cost["total wall_s"]
    inf = load_table("inference.csv", profile)
    inf = inf[inf["sweep"] == "arms"] if not inf.empty else inf
    if not inf.empty:
        pooled = pooled_rows(inf.to_dict("records"))
        tps = pd.DataFrame(pooled).groupby("arm")["tokens_per_s"].median()
        out["tokens/s"] = tps
        ratios = ratio_table(pooled, by=("sweep",)).set_index("arm")
        out["ratio vs direct"] = ratios["ratio"]
        out["ci_lo"] = ratios["ci_lo"]
        out["ci_hi"] = ratios["ci_hi"]
        out["verdict"] = ratios["verdict"]
        out.loc["direct", ["ratio vs direct", "ci_lo", "ci_hi"]] = 1.0
        out.loc["direct", "verdict"] = "(baseline)"
    return out
