"""Chapter logic of the trade-off, answer and status chapters (09-11).

:mod:`helpers.analysis` holds pure functions of tables; this module reads the
results tables of one build, calls those functions and the inference
statistics of :mod:`helpers.efficiency`, and returns what a chapter shows: the
per-arm summary, the trade-off figure, the facts the prose glues, and what the
build does not cover.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from myst_nb import glue

from . import analysis, reported, runs, stats
from .config import PROFILES, StudyConfig, get_profile
from .efficiency import AA_ARM, MARGIN, pooled_rows, ratio_table
from .tasks import task_languages


def glue_all(facts: dict) -> None:
    """Glue every ``name -> value`` of ``facts`` for the chapter's prose ({glue:text}`name`; nothing displayed)."""
    for name, value in facts.items():
        glue(name, value, display=False)


# --------------------------------------------------------------------------- per-arm summary
def inference_rows(inf: pd.DataFrame) -> list[dict]:
    """The pooled arm rows of ``inference.csv`` (``sweep="pooled"``), or the ``arms`` rows pooled here."""
    if inf.empty:
        return []
    pooled = inf[inf["sweep"] == "pooled"]
    if len(pooled):
        return pooled.to_dict("records")
    return pooled_rows(inf[inf["sweep"] == "arms"].to_dict("records"))


def arm_summary(profile: str, arms: tuple[str, ...], seed: int = 1) -> pd.DataFrame:
    """One row per arm: accuracy, gain, training cost and inference throughput ratio.

    Every column is computed from the results tables: ``zero_shot.csv``
    (average over languages, then over tasks as XTREME-R averages; the gain's
    paired bootstrap 95 % interval over test items from ``zero_shot_items.csv``,
    :func:`bootstrap_gains`), ``training_cost.csv``
    (FLOPs and wall seconds of both phases) and ``inference.csv`` (the pooled
    arm rows: ratio to direct as the geometric mean of per-repetition ratios,
    its 90 % t interval and the TOST verdict at +/-1 %, see
    :func:`helpers.efficiency.ratio_table`). The A/A control is not an arm
    here: :func:`aa_calibration` reads it.
    """
    zero = analysis.load_table("zero_shot.csv", profile)
    zero = zero[zero["seed"] == seed] if not zero.empty else zero
    groups = analysis.group_table(analysis.arm_task_table(zero, arms))
    out = pd.DataFrame(index=list(arms))
    out["accuracy"] = groups["average"]
    out["gain vs direct"] = out["accuracy"] - out.loc["direct", "accuracy"]
    average = bootstrap_gains(profile, arms, seed)
    average = average[average["task"] == "average"].set_index("arm")
    out["gain lo"] = average["lo"]
    out["gain hi"] = average["hi"]
    out["gain significant"] = ((average["lo"] > 0) | (average["hi"] < 0)).reindex(out.index).astype("boolean")
    ledger = analysis.load_table("training_cost.csv", profile)
    ledger = ledger[ledger["seed"] == seed]
    cost = analysis.arm_training_cost(ledger, arms)
    out["training TFLOPs"] = cost["total flops"] / 1e12
    out["training x direct"] = cost["x direct (flops)"]
    out["training wall_s"] = cost["total wall_s"]
    pooled = inference_rows(analysis.load_table("inference.csv", profile))
    if pooled:
        tps = pd.DataFrame(pooled).groupby("arm")["tokens_per_s"].median()
        out["tokens/s"] = tps
        ratios = ratio_table(pooled, by=("sweep",), margin=MARGIN).set_index("arm")
        out["ratio vs direct"] = ratios["ratio"]
        out["ci_lo"] = ratios["ci_lo"]
        out["ci_hi"] = ratios["ci_hi"]
        out["verdict"] = ratios["verdict"]
        out.loc["direct", ["ratio vs direct", "ci_lo", "ci_hi"]] = 1.0
        out.loc["direct", "verdict"] = "(baseline)"
    return out


def gain_cell(row, mark: bool = False) -> str:
    """``gain [lo, hi]`` in points with signs, e.g. ``+1.2 [-0.3, +2.6]``; with ``mark``, a ``*`` where the
    interval excludes 0."""
    star = "*" if mark and (row["lo"] > 0 or row["hi"] < 0) else ""
    return f"{row['gain']:+.1f} [{row['lo']:+.1f}, {row['hi']:+.1f}]{star}"


def bootstrap_gains(profile: str, arms: tuple[str, ...], seed: int = 1,
                    tasks: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every STILTs arm's gain over direct per task and on the average over tasks, with paired bootstrap
    95 % intervals over the test items (:func:`helpers.stats.gain_intervals`); only ``tasks`` when given.
    Empty (with its columns) without items, without direct or without a second arm."""
    items = analysis.load_table("zero_shot_items.csv", profile)
    if items.empty or "direct" not in arms or len(arms) < 2:
        return pd.DataFrame(columns=["arm", "task", "gain", "lo", "hi", "items"])
    items = items[items["arm"].isin(arms)]
    if tasks is not None:
        items = items[items["target_task"].isin(tasks)]
    return pd.DataFrame(stats.gain_intervals(items, seed=seed))


def aa_calibration(profile: str) -> dict | None:
    """The A/A control of the pooled arm comparison, or None when ``inference.csv`` has none.

    Keys: ``ratio``, ``ci_lo``/``ci_hi`` (90 %), ``ci95_lo``/``ci95_hi``,
    ``verdict`` (TOST at +/-1 %), ``n`` (repetitions), ``sd_log``,
    ``min_pass_s`` (the shortest pooled pass of any arm and repetition) and
    ``margin``.
    """
    pooled = inference_rows(analysis.load_table("inference.csv", profile))
    if not pooled or AA_ARM not in {str(r["arm"]) for r in pooled}:
        return None
    table = ratio_table(pooled, by=("sweep",), margin=MARGIN).set_index("arm")
    row = table.loc[AA_ARM]
    out = {k: (float(row[k]) if k != "verdict" else str(row[k]))
           for k in ("ratio", "ci_lo", "ci_hi", "ci95_lo", "ci95_hi", "verdict", "sd_log")}
    out["n"] = int(row["n"])
    out["min_pass_s"] = float(min(float(r["seconds"]) for r in pooled))
    out["margin"] = MARGIN
    return out


def model_size_speed(profile: str) -> pd.Series:
    """Median tokens/s of each model-size preset timed by the inference chapter (``sweep="model_size"``)."""
    inf = analysis.load_table("inference.csv", profile)
    if inf.empty or "sweep" not in inf:
        return pd.Series(dtype=float)
    return inf[inf["sweep"] == "model_size"].groupby("arm")["tokens_per_s"].median()


def break_even(summary: pd.DataFrame, cfg: StudyConfig, *, measured_accuracy: set[str] | None = None,
               prefix: str = "not computed") -> tuple[pd.DataFrame, list[str]]:
    """:func:`helpers.analysis.break_even_table` on this build's model-size timings; prints each reason."""
    table, reasons = analysis.break_even_table(summary, model_size_speed(cfg.profile), cfg.model,
                                               measured_accuracy=measured_accuracy)
    for reason in reasons:
        print(f"{prefix}:", reason)
    return table, reasons


# --------------------------------------------------------------------------- trade-off (09)
def compression_speed_factor(profile: str) -> pd.Series:
    """Each compressed variant's median tokens/s over fp32's on the same inputs (``sweep="compression"``)."""
    inf = analysis.load_table("inference.csv", profile)
    comp_speed = (inf[inf["sweep"] == "compression"].groupby("arm")["tokens_per_s"].median()
                  if "sweep" in inf else pd.Series(dtype=float))
    return comp_speed / comp_speed["fp32"] if "fp32" in comp_speed else pd.Series(dtype=float)


def compression_points(summary: pd.DataFrame, profile: str) -> pd.DataFrame:
    """:func:`helpers.analysis.compression_points` on ``compression.csv`` and the measured speed factors."""
    comp = analysis.load_table("compression.csv", profile)
    tps = summary["tokens/s"] if "tokens/s" in summary else pd.Series(dtype=float)
    points = analysis.compression_points(comp, tps, compression_speed_factor(profile))
    if points.empty:
        print("no compression scores: run the inference chapter (07_inference) to write results/compression.csv")
    return points


def tradeoff_figure(summary: pd.DataFrame, points: pd.DataFrame, show: bool = True):
    """Left: every arm at its fp32 accuracy and speed (marker size: training compute) with the Pareto front;
    right: each compressed variant at its measured score and speed."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    overall = summary.reset_index().rename(columns={"index": "arm"})
    overall["pareto"] = analysis.pareto_front(overall, "tokens/s", "accuracy").values
    sns.scatterplot(data=overall, x="tokens/s", y="accuracy", hue="arm", size="training TFLOPs", sizes=(40, 260),
                    ax=axes[0])
    front = overall[overall["pareto"]].sort_values("tokens/s")
    axes[0].plot(front["tokens/s"], front["accuracy"], color="grey", lw=1, ls="--")
    axes[0].set_xlabel("inference throughput, fp32 (real tokens / s, this machine)")
    axes[0].set_ylabel("zero-shot average over every task (0-100)")
    axes[0].set_title("every arm in fp32 (marker size = training compute)")
    axes[0].legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=7)
    timed = points.dropna(subset=["tokens/s"])
    if len(timed):
        sns.scatterplot(data=timed, x="tokens/s", y="score", hue="arm", style="dtype", s=90, ax=axes[1])
        axes[1].set_title(f"measured score under compression ({', '.join(sorted(set(timed['task'])))})")
        axes[1].legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=7)
    axes[1].set_xlabel("inference throughput (real tokens / s, this machine)")
    axes[1].set_ylabel("score on the compression task (0-100)")
    fig.tight_layout()
    return analysis.show_figure(fig, show)  # displayed once and closed (see analysis.show_figure)


def tradeoff_facts(summary: pd.DataFrame, points: pd.DataFrame, breakeven: pd.DataFrame, why_not: list[str],
                   profile: str) -> dict:
    """The trade-off chapter's glued values (``to_*``)."""
    speed_factor = compression_speed_factor(profile)
    stilts = summary.drop(index="direct")
    sig = stilts["gain significant"].fillna(False).astype(bool)
    mixed = points[points["dtype"] == "int8-mixed"]
    full = points[points["dtype"] == "int8"]
    return {
        "to_n_significant": int((sig & (stilts["gain vs direct"] > 0)).sum()),
        "to_n_worse": int((sig & (stilts["gain vs direct"] < 0)).sum()),
        "to_n_stilts": int(len(sig)),
        "to_n_breakeven": int(len(breakeven)),
        "to_why_not": "; ".join(why_not) if why_not else "none",
        "to_mixed_keeps": f"{int((mixed['mlperf_99'] == 'keeps 99%').sum())} of {len(mixed)}",
        "to_int8_keep": f"{full['keep'].min():.3f}" if len(full) else "not scored",
        "to_mixed_factor": f"{speed_factor.get('int8-mixed', float('nan')):.3f}",
        "to_int8_factor": f"{speed_factor.get('int8', float('nan')):.3f}",
    }


# --------------------------------------------------------------------------- the answer (10)
def answer_facts(summary: pd.DataFrame, aa: dict | None, profile: str) -> dict:
    """The answer chapter's glued values (``ans_*``): inference verdicts beside the A/A control,
    the best arm's gain, the training cost in this profile and at full scale, the reported gain."""
    stilts = summary.drop(index="direct")
    best = stilts["gain vs direct"].idxmax()
    full = analysis.load_table("full_extrapolation.csv", profile).set_index("arm")
    return {
        "ans_inference_headline": analysis.inference_headline(summary, aa),
        "ans_aa": ("none in this run" if aa is None
                   else f"{aa['ratio']:.4f} [{aa['ci_lo']:.4f}, {aa['ci_hi']:.4f}], {aa['verdict']}"),
        "ans_aa_reps": 0 if aa is None else aa["n"],
        "ans_ratio_min": f"{stilts['ratio vs direct'].min():.4f}",
        "ans_ratio_max": f"{stilts['ratio vs direct'].max():.4f}",
        "ans_ci_lo": f"{stilts['ci_lo'].min():.4f}",
        "ans_ci_hi": f"{stilts['ci_hi'].max():.4f}",
        "ans_verdicts": ", ".join(f"{a}: {v}" for a, v in stilts["verdict"].items()),
        "ans_direct_tps": f"{summary.loc['direct', 'tokens/s']:.0f}",
        "ans_best_arm": best,
        "ans_best_gain": f"{stilts.loc[best, 'gain vs direct']:+.2f}",
        "ans_best_gain_ci": f"[{stilts.loc[best, 'gain lo']:+.2f}, {stilts.loc[best, 'gain hi']:+.2f}]",
        "ans_n_sig": int((stilts["gain significant"].fillna(False) & (stilts["gain vs direct"] > 0)).sum()),
        "ans_n_stilts": len(stilts),
        "ans_direct_acc": f"{summary.loc['direct', 'accuracy']:.2f}",
        "ans_best_acc": f"{stilts.loc[best, 'accuracy']:.2f}",
        "ans_train_x_min": f"{stilts['training x direct'].min():.2f}",
        "ans_train_x_max": f"{stilts['training x direct'].max():.2f}",
        "ans_full_mnli_x": f"{full.loc['one STILTs arm: + MNLI', 'x direct']:.2f}",
        "ans_full_multi_x": f"{full.loc['multi (nine mixed, one pass each)', 'x direct']:.2f}",
        "ans_reported_gain": f"+{reported.PHANG_BEST_TASK_GAIN:.1f}",
        "ans_data_limit": DATA_LIMITS.get(get_profile(profile).source, get_profile(profile).description),
        "ans_seed_note": seed_note(profile),
    }


#: What the accuracy figures of a build can and cannot show, by the profile's data source.
DATA_LIMITS = {
    "embedded": ("multilingual-e5-small fine-tuned on 64 generated English examples per task and tested on "
                 "generated data in ten languages: they show that the machinery reproduces the comparison, not "
                 "the size of the gains on the real benchmark (the `realdata` plan measures that)"),
    "realdata": ("multilingual-e5-small fine-tuned on a few hundred real English examples per task and tested on "
                 "real XTREME-R files (sizes and sources in 02_data): real data, but a small encoder and small "
                 "training sets on a CPU budget, so the gains are not the paper's XLM-R Large gains"),
    "xtreme-dir": ("multilingual-e5-small on the XTREME-R files of a local download, all test examples; the "
                   "training sets are the recipes' sizes"),
    "hub": "XLM-R Large with the papers' recipes on the real datasets",
}


def seed_note(profile: str) -> str:
    """One sentence on the seeds of this build: one seed, or the direct arm's spread over seeds per task."""
    spread = stats.seed_spread(analysis.load_table("zero_shot.csv", profile))
    if not spread:
        return ("One seed: the inference comparison does not depend on it (weights, not shapes); the accuracy "
                "gains do")
    parts = ", ".join(f"{r['task']} {r['sd']:.1f} points over {r['seeds']} seeds" for r in spread)
    return (f"The direct arm was also trained with other seeds on some tasks; its standard deviation over seeds "
            f"is {parts}. A gain smaller than that is within seed noise")


def gpu_beside_cpu(summary: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """:func:`helpers.analysis.gpu_beside_cpu` on the committed ``inference_gpu.csv`` and this machine's name."""
    return analysis.gpu_beside_cpu(summary, analysis.load_table("inference_gpu.csv"), cfg.model, runs.device_name())


def reported_beside_measured(cfg: StudyConfig) -> pd.DataFrame:
    """The reported X-STILTs gain per task beside every measured STILTs arm's gain with its 95 % interval.

    Each measured column is one arm's gain over direct, ``gain [lo, hi]`` from
    :func:`bootstrap_gains`; no column picks the best of several noisy arms.
    """
    gains = bootstrap_gains(cfg.profile, cfg.arms, cfg.seed)
    table = reported.xstilts_table()
    if not gains.empty:
        gains = gains[gains["task"] != "average"]
        cells = gains.assign(cell=[gain_cell(r) for r in gains.to_dict("records")])
        measured = cells.pivot(index="task", columns="arm", values="cell")
        measured.columns = [f"{a} gain (measured)" for a in measured.columns]
        table = table.join(measured, how="outer")
    return table.reindex(list(cfg.tasks))


# --------------------------------------------------------------------------- status (11)
def phase_times(profile: str) -> pd.DataFrame:
    """``phase_times.csv`` for one profile, indexed by notebook (empty when nothing was recorded)."""
    times = pd.DataFrame(runs.read_table(runs.results_root() / "phase_times.csv"))
    return times[times["profile"] == profile].set_index("notebook") if len(times) else times


def _listed(values, empty: str = "none") -> str:
    values = list(values)
    return ", ".join(str(v) for v in values) if values else empty


def coverage(cfg: StudyConfig) -> pd.DataFrame:
    """What this build covers and what it does not, read from the results tables and the plan.

    One row per dimension (profiles, model, target tasks, arms, languages,
    seeds, hardware) with ``this build`` (what the tables hold for the
    profile) and ``not covered`` (what the ``full`` study or the other
    profiles would add, or what the plan asked for and the tables lack).
    """
    zero = analysis.load_table("zero_shot.csv")
    inf = analysis.load_table("inference.csv", cfg.profile)
    gpu_rows = analysis.load_table("inference_gpu.csv")
    run_profiles = sorted(set(zero["profile"])) if not zero.empty else []
    mine = zero[zero["profile"] == cfg.profile] if not zero.empty else zero
    full = get_profile("full")
    tasks_done = [t for t in cfg.tasks if not mine.empty and t in set(mine["target_task"])]
    arms_done = [a for a in cfg.arms if not mine.empty and a in set(mine["arm"])]
    tested = sum(len(set(mine[mine["target_task"] == t]["language"])) for t in tasks_done)
    in_registry = sum(len(task_languages(t)) for t in tasks_done)
    seeds = sorted({int(s) for s in mine["seed"]}) if not mine.empty else []
    devices = sorted({str(d) for d in inf["device"]}) if not inf.empty and "device" in inf else []
    gpu_names = sorted({str(d) for d in gpu_rows["device_name"]}) if not gpu_rows.empty else []
    rows = [
        ("profiles", _listed(run_profiles), _listed(p for p in PROFILES if p not in run_profiles)),
        ("model", cfg.model, "" if cfg.model == full.model else f"{full.model} (the full profile)"),
        ("target tasks", f"{len(tasks_done)} of {len(full.tasks)}",
         _listed([t for t in full.tasks if t not in tasks_done])),
        ("arms", _listed(arms_done), _listed([a for a in full.arms if a not in arms_done])),
        ("test languages (task x language)", f"{tested} of {in_registry} in XTREME-R",
         f"{in_registry - tested} task-language pairs without test data here"),
        ("seeds", _listed(seeds), "one seed only: no spread over seeds" if len(seeds) < 2 else ""),
        ("inference hardware", _listed(devices, "not timed"),
         "" if any(d != "cpu" for d in devices) else
         f"no GPU in this build; committed GPU tables measured on {_listed(gpu_names)}"),
    ]
    return pd.DataFrame(rows, columns=["dimension", "this build", "not covered"]).set_index("dimension")


def status_facts(cfg: StudyConfig, times: pd.DataFrame, cover: pd.DataFrame) -> dict:
    """The status chapter's glued values (``status_*``)."""
    total = round(times["wall_s"].astype(float).sum() / 60, 1) if len(times) else 0.0
    return {
        "status_total_min": total,
        "status_n_phases": int(len(times)),
        "status_profiles_missing": cover.loc["profiles", "not covered"],
        "status_tasks_missing": cover.loc["target tasks", "not covered"] or "none",
        "status_seeds": cover.loc["seeds", "this build"],
        "status_gpu": cover.loc["inference hardware", "not covered"] or "GPU timed in this build",
    }

