"""Analysis of the results tables: accuracy per arm, STILTs gains, training cost per
arm, extrapolation to the ``full`` profile, the trade-off and its break-even point.

Everything here is a pure function of the tidy tables in ``results/`` (read with
:func:`load_table`), so every number in the analysis chapters traces back to a row.
Reading a build's tables together with the inference statistics of
:mod:`helpers.efficiency` (the per-arm summary, the A/A control) is
:mod:`helpers.report`'s job; this module imports neither it nor any training code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import pandas as pd

from . import runs
from .metrics import primary_metric
from .tasks import get_task

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
# Aggregation follows XTREME-R: a task's score is the mean of its primary metric over its test
# languages; the overall score is the mean over TASKS (not over groups); group scores (tasks averaged
# within a group) are shown beside it. A NaN anywhere stays NaN up the chain (never silently dropped),
# and :func:`task_coverage` says which (arm, task) scores are partial or hold NaN.
def primary_scores(zero_shot: pd.DataFrame) -> pd.DataFrame:
    """Keep each task's primary metric (as the registry names it) and average seeds (a NaN seed gives NaN)."""
    if zero_shot.empty:
        return zero_shot
    keep = zero_shot[[primary_metric(t) == m for t, m in zip(zero_shot["target_task"], zero_shot["metric"])]]
    return (
        keep.groupby(["arm", "target_task", "language"], as_index=False)["value"].mean(skipna=False)
    )


def arm_task_table(zero_shot: pd.DataFrame, arms: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Arms x tasks: the primary metric averaged over the languages present (then seeds).

    A language whose score is NaN makes the task's score NaN; a task covering
    fewer languages than expected is still averaged over those present:
    :func:`task_coverage` marks it partial.
    """
    scores = primary_scores(zero_shot)
    table = scores.groupby(["arm", "target_task"])["value"].mean(skipna=False).unstack("target_task")
    if arms:
        table = table.reindex([a for a in arms if a in table.index])
    return table


def task_coverage(zero_shot: pd.DataFrame, expected: Mapping[str, Iterable[str]] | None = None) -> pd.DataFrame:
    """Per (arm, task): how many languages its score covers, against how many it should.

    Columns: ``arm``, ``target_task``, ``languages`` (languages with a finite
    primary score), ``nan_languages`` (languages whose primary score is NaN:
    counted here, and they make :func:`arm_task_table`'s score NaN),
    ``languages_registry`` (the task's XTREME-R languages, :mod:`helpers.tasks`),
    ``languages_expected`` (the languages the profile evaluates, ``expected[task]``;
    the registry's when not given), ``missing`` (expected languages without a
    finite score, comma-separated) and ``partial``: the score covers fewer
    languages than the registry's or than the profile evaluates.
    """
    cols = ["arm", "target_task", "languages", "nan_languages", "languages_registry", "languages_expected",
            "missing", "partial"]
    scores = primary_scores(zero_shot)
    if scores.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for (arm, task), grp in scores.groupby(["arm", "target_task"], sort=False):
        finite = [str(l) for l, v in zip(grp["language"], grp["value"]) if pd.notna(v) and math.isfinite(float(v))]
        registry = tuple(get_task(task).languages)
        wanted = tuple(expected[task]) if expected is not None and task in expected else registry
        n = len(set(finite))
        rows.append({"arm": arm, "target_task": task, "languages": n, "nan_languages": int(len(grp) - len(finite)),
                     "languages_registry": len(registry), "languages_expected": len(wanted),
                     "missing": ", ".join(l for l in wanted if l not in set(finite)),
                     "partial": bool(n < len(registry) or n < len(wanted))})
    return pd.DataFrame(rows, columns=cols)


def group_table(task_table: pd.DataFrame) -> pd.DataFrame:
    """Arms x groups (tasks averaged within each group) plus ``average``, the mean over tasks.

    ``average`` follows XTREME-R's definition of the overall score: the mean of
    the task scores (each the mean over the task's languages), not the mean of
    the group columns, which are shown beside it. A NaN task score makes its
    group and the average NaN.
    """
    groups: dict[str, list[str]] = {}
    for task in task_table.columns:
        groups.setdefault(get_task(task).group, []).append(task)
    out = pd.DataFrame(index=task_table.index)
    for group in GROUP_ORDER:
        if group in groups:
            out[group] = task_table[groups[group]].mean(axis=1, skipna=False)
    out["average"] = task_table.mean(axis=1, skipna=False)
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
def inference_headline(summary: pd.DataFrame, aa: dict | None) -> str:
    """One sentence: the inference verdict of the STILTs arms, with the A/A calibration beside it."""
    stilts = summary.drop(index="direct")
    if "verdict" not in stilts.columns or stilts["verdict"].isna().all():
        return "no inference measurement: run the inference chapter (07_inference) first"
    margin = f"±{100 * (aa['margin'] if aa else 0.01):g}%"
    counts = stilts["verdict"].value_counts()
    n = len(stilts)
    parts = [f"{counts.get(v, 0)} of {n} STILTs arms {v}" for v in ("equivalent", "different", "inconclusive")
             if counts.get(v, 0)]
    text = f"tokens/s against direct at a {margin} margin: " + ", ".join(parts)
    if aa is None:
        return text + " (no A/A control in this run: the harness's own error bar is unknown)"
    cal = (f"the A/A control (direct against a second copy of itself) reads {aa['ratio']:.4f} "
           f"[{aa['ci_lo']:.4f}, {aa['ci_hi']:.4f}], {aa['verdict']}")
    if aa["verdict"] != "equivalent":
        cal += f": the harness cannot resolve {margin} here, so no arm verdict at that margin is trustworthy"
    return f"{text}; {cal}"


def break_even_table(summary: pd.DataFrame, size_speed: pd.Series, model: str,
                     measured_accuracy: set[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Break-even volumes only where the measurements support one, and why not elsewhere.

    A break-even compares a STILTs arm (extra training once, then the direct
    arm's speed) with a larger model (no extra training, slower at every
    token). It means something only when both buy accuracy that was measured:
    the STILTs arm's gain over direct must be significant
    (``summary["gain significant"]``), and the larger model's accuracy on
    this benchmark must have been measured (``measured_accuracy``: the
    presets that were). Returns ``(table, reasons)``: the supported
    comparisons with their break-even tokens (:func:`break_even_tokens`),
    and one sentence for each comparison left out.
    """
    measured_accuracy = set(measured_accuracy or ())
    reasons: list[str] = []
    stilts = summary.drop(index="direct")
    sig = stilts[stilts.get("gain significant", pd.Series(False, index=stilts.index)).fillna(False).astype(bool)]
    if sig.empty:
        reasons.append("no STILTs arm's accuracy gain over direct is significant (95% interval over tasks "
                       "includes 0), so there is no accuracy that extra training buys to set against a larger model")
    bigger = [p for p in size_speed.index if p != model]
    unmeasured = [p for p in bigger if p not in measured_accuracy]
    if unmeasured:
        reasons.append(f"the accuracy of {', '.join(unmeasured)} was never measured on this benchmark (timed with "
                       "random weights, for speed only), so it is not known what a larger model would buy")
    rows = []
    for arm in sig.index:
        extra_s = float(summary.loc[arm, "training wall_s"] - summary.loc["direct", "training wall_s"])
        for alt in bigger:
            if alt not in measured_accuracy:
                continue
            rows.append({"STILTs arm": arm, "gain vs direct": float(summary.loc[arm, "gain vs direct"]),
                         "extra training s": extra_s, "alternative": alt,
                         "alternative tokens/s": float(size_speed[alt]), f"{model} tokens/s": float(size_speed[model]),
                         "break-even tokens": break_even_tokens(extra_s, float(size_speed[model]),
                                                                float(size_speed[alt]))})
    return pd.DataFrame(rows), reasons


def supported_pareto(summary: pd.DataFrame) -> pd.DataFrame:
    """The arms' Pareto front on what was measured: accuracy, training compute and inference speed.

    Differences the measurements do not resolve are ties: an accuracy gain
    whose 95 % interval includes 0 counts as equal accuracy, and a speed
    ratio that is not ``different`` at +/-1 % counts as equal speed. Arm X
    dominates arm Y when X is at least as accurate, at least as fast, needs
    no more training FLOPs, and is strictly better on one of them. Returns
    the arms with their accuracy class, speed class, training TFLOPs and
    ``on front``.
    """
    rows = []
    for arm in summary.index:
        significant = summary.loc[arm].get("gain significant", False)
        acc = 0
        if arm != "direct" and pd.notna(significant) and bool(significant):
            acc = 1 if summary.loc[arm, "gain vs direct"] > 0 else -1
        verdict = summary.loc[arm].get("verdict", "inconclusive")
        speed = (1 if summary.loc[arm, "ratio vs direct"] > 1 else -1) if verdict == "different" else 0
        rows.append({"arm": arm, "accuracy vs direct": acc, "speed vs direct": speed,
                     "training TFLOPs": float(summary.loc[arm, "training TFLOPs"])})
    frame = pd.DataFrame(rows).set_index("arm")

    def dominates(x, y) -> bool:
        ge = (x["accuracy vs direct"] >= y["accuracy vs direct"] and x["speed vs direct"] >= y["speed vs direct"]
              and x["training TFLOPs"] <= y["training TFLOPs"])
        gt = (x["accuracy vs direct"] > y["accuracy vs direct"] or x["speed vs direct"] > y["speed vs direct"]
              or x["training TFLOPs"] < y["training TFLOPs"])
        return ge and gt

    frame["on front"] = [not any(dominates(frame.loc[o], frame.loc[a]) for o in frame.index if o != a)
                         for a in frame.index]
    label = {1: "better", 0: "same (not resolved)", -1: "worse"}
    frame["accuracy vs direct"] = frame["accuracy vs direct"].map(label)
    frame["speed vs direct"] = frame["speed vs direct"].map(label)
    frame.loc["direct", ["accuracy vs direct", "speed vs direct"]] = "(baseline)"
    return frame


def gpu_beside_cpu(summary: pd.DataFrame, gpu: pd.DataFrame, model: str, cpu_device: str = "") -> pd.DataFrame:
    """Tokens/s of the study's model on this CPU beside the committed GPU measurements.

    CPU: the direct arm's median pooled tokens/s (real test inputs of every
    task). GPU (``inference_gpu.csv``): for each GPU and model, the median
    tokens/s on real sentences (``sweep="gpu_real"``) and on full 128 x 128
    synthetic batches (``gpu_grid``), with the fraction of peak the file
    records and the dtype. Empty GPU table: the CPU row only.
    """
    rows = []
    if "tokens/s" in summary.columns:
        rows.append({"device": cpu_device or "this CPU", "model": f"{model} (direct arm)", "dtype": "fp32",
                     "workload": "every task's real test inputs, bucketed", "tokens/s": float(summary.loc["direct", "tokens/s"]),
                     "fraction of peak": math.nan})
    if not gpu.empty:
        for (sweep, batch, length), want in {("gpu_real", None, None): "real sentences (Tatoeba), bucketed",
                                             ("gpu_grid", 128, 128): "synthetic 128 x 128, every position real"}.items():
            sub = gpu[gpu["sweep"] == sweep]
            if batch is not None:
                sub = sub[(sub["batch"] == batch) & (sub["length"] == length)]
            for (dev, arm, dtype), grp in sub.groupby(["device_name", "arm", "dtype"], sort=False):
                frac = grp["fraction_of_peak"].median() if "fraction_of_peak" in grp else math.nan
                label = want if batch is not None else f"{want}, batch {int(grp['batch'].iloc[0])}"
                rows.append({"device": dev, "model": arm, "dtype": dtype, "workload": label,
                             "tokens/s": float(grp["tokens_per_s"].median()), "fraction of peak": float(frac)})
    return pd.DataFrame(rows, columns=["device", "model", "dtype", "workload", "tokens/s", "fraction of peak"])


def compression_points(comp: pd.DataFrame, arm_tokens_per_s: pd.Series, speed_factor: pd.Series) -> pd.DataFrame:
    """Each scored (task, arm, precision) at its MEASURED score and its speed on this machine.

    ``comp``: rows of ``compression.csv`` (one profile); ``arm_tokens_per_s``:
    each arm's deployed fp32 tokens/s (``arm_summary``'s ``tokens/s``);
    ``speed_factor``: each variant's tokens/s over fp32's, measured on the same
    inputs (``inference.csv``, ``sweep="compression"``). A variant that was
    never timed gets no speed (NaN), and a variant that was never scored gets
    no row: nothing here assumes that compression keeps accuracy or speed.
    Where a (task, arm, dtype) was scored at several example counts, the
    largest is kept.
    """
    cols = ["task", "arm", "dtype", "examples", "score", "fp32 score", "keep", "mlperf_99", "tokens/s"]
    if comp.empty:
        return pd.DataFrame(columns=cols)
    latest = comp.sort_values("examples").groupby(["task", "arm", "dtype"], as_index=False).last()
    out = pd.DataFrame({
        "task": latest["task"], "arm": latest["arm"], "dtype": latest["dtype"], "examples": latest["examples"],
        "score": latest["value"].astype(float), "fp32 score": latest["fp32_value"].astype(float),
        "keep": latest["keep"].astype(float), "mlperf_99": latest["mlperf_99"],
    })
    tps = out["arm"].map(arm_tokens_per_s).astype(float)
    out["tokens/s"] = tps * out["dtype"].map(speed_factor).astype(float)
    return out[cols].reset_index(drop=True)


def show_figure(fig, show: bool = True):
    """Display ``fig`` once and close it (returns None), or return it untouched when ``show`` is False.

    A chapter must not rely on a trailing ``;`` to keep the returned figure from being displayed a second
    time: nbval executes cells without storing them in the history, where IPython looks for that ``;``,
    so a returned, still open figure is shown twice there (by the display hook and by the inline
    backend) and the chapter's output differs from the committed one. Displaying explicitly and closing
    gives exactly one output in papermill, Jupyter and nbval alike.
    """
    if not show:
        return fig
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)
    return None


def zero_shot_heatmap(primary: pd.DataFrame, tasks: tuple[str, ...], arms: tuple[str, ...], *, ncols: int = 5,
                      show: bool = True):
    """Zero-shot score per language and arm, one panel per task, with one shared colour bar (0-100).

    ``primary`` holds :func:`primary_scores` rows (arm, target_task,
    language, value). Each task is its own panel, so its languages stay
    together; rows are languages, columns arms (labels rotated), and the
    figure grows with the number of tasks and languages so no labels
    overlap. Returns the matplotlib figure. matplotlib and seaborn are
    imported here, not at module level: the rest of this module is pure
    table code that the analysis tests import without a plotting stack.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    tasks = tuple(t for t in tasks if t in set(primary["target_task"])) if len(primary) else ()
    ncols = max(1, min(ncols, len(tasks)))
    nrows = max(1, math.ceil(len(tasks) / ncols))
    most = max((primary[primary["target_task"] == t]["language"].nunique() for t in tasks), default=1)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols + 1.2, (0.24 * most + 1.3) * nrows),
                             squeeze=False, layout="constrained")
    norm = Normalize(vmin=0, vmax=100)
    for ax, task_name in zip(axes.flat, tasks):
        sub = primary[primary["target_task"] == task_name].pivot(index="language", columns="arm", values="value")
        sub = sub[[a for a in arms if a in sub.columns]]
        sns.heatmap(sub, ax=ax, cmap="viridis", norm=norm, cbar=False, annot=False, linewidths=0.2)
        ax.set_title(task_name, fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.tick_params(axis="y", labelrotation=0, labelsize=7)
    for ax in list(axes.flat)[len(tasks):]:
        ax.set_visible(False)
    fig.colorbar(ScalarMappable(norm=norm, cmap="viridis"), ax=axes, shrink=0.8, label="primary metric (0-100)")
    fig.suptitle("zero-shot score per language and arm, one panel per task")
    return show_figure(fig, show)
