"""Chapter logic of the training-cost chapter (08): the ledger per arm and the extrapolation to ``full``.

The ledger is ``results/training_cost.csv`` (written by the training phases);
the per-arm sums are :func:`helpers.analysis.arm_training_cost`; the
extrapolation is :mod:`helpers.scaling` on the committed GPU training table
(:mod:`helpers.gpu`) and a training step timed on this machine. This module
chooses the views the chapter shows and the facts its prose glues.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from . import analysis, gpu, scaling
from .config import StudyConfig, get_profile
from .models import load_tokenizer

LEDGER_COLUMNS = ["arm", "phase", "task", "examples", "tokens", "steps", "flops", "wall_s", "peak_mem_mb"]
FLOPS_COLUMNS = ["intermediate flops", "target flops", "total flops", "x direct (flops)"]
WALL_COLUMNS = ["intermediate wall_s", "target wall_s", "total wall_s", "x direct (wall_s)"]
INPUT_NAMES = {"tokens": "real tokens/example", "sequences": "sequences/example",
               "padded_dynamic": "positions/example (dynamic)", "padded_max": "positions/example (max length)",
               "measured_on": "measured on"}
GPU_ROUNDING = {"s/step": 4, "tokens/s": 0, "GFLOP/token (fwd+bwd)": 3, "TFLOP/s": 1, "of datasheet peak": 3}
HOURS = ["H200 bf16-hours", "H200 TF32-hours", "H200 bf16-hours padded"]
MNLI_ARM = "one STILTs arm: + MNLI"
MULTI_ARM = "multi (nine mixed, one pass each)"
DIRECT_ARM = "direct (all targets)"
HOURS_PER_YEAR = 8766


def ledger(cfg: StudyConfig) -> pd.DataFrame:
    """The training ledger of this profile and seed."""
    table = analysis.load_table("training_cost.csv", profile=cfg.profile)
    return table[table["seed"] == cfg.seed]


def ledger_table(table: pd.DataFrame) -> pd.DataFrame:
    """Every training run of the ledger, by phase, arm and task."""
    return table[LEDGER_COLUMNS].sort_values(["phase", "arm", "task"]).reset_index(drop=True)


def flops_table(cost: pd.DataFrame) -> pd.DataFrame:
    """Each arm's training FLOPs per phase and against direct, to 4 significant digits."""
    return cost[FLOPS_COLUMNS].map(lambda v: float(f"{v:.4g}"))


def cost_facts(cost: pd.DataFrame) -> dict:
    """Glued values of this profile's ledger (``tc_*``): direct's wall minutes and TFLOPs, the STILTs range."""
    stilts = cost.drop(index="direct") if "direct" in cost.index else cost
    return {
        "tc_direct_wall_min": round(float(cost.loc["direct", "total wall_s"]) / 60, 1),
        "tc_min_x": round(float(stilts["x direct (flops)"].min()), 2),
        "tc_max_x": round(float(stilts["x direct (flops)"].max()), 2),
        "tc_direct_tflops": round(float(cost.loc["direct", "total flops"]) / 1e12, 2),
    }


def cost_figure(cost: pd.DataFrame, show: bool = True):
    """Training TFLOPs per arm, stacked by phase."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    (cost[["intermediate flops", "target flops"]] / 1e12).plot.barh(stacked=True, ax=ax, color=["#dd8452", "#4c72b0"])
    ax.set_xlabel("training TFLOPs (this profile)")
    ax.set_title("training cost per arm: intermediate + target phases")
    fig.tight_layout()
    return analysis.show_figure(fig, show)  # displayed once and closed (see analysis.show_figure)


def full_inputs(cfg: StudyConfig) -> pd.DataFrame:
    """Tokens, sequences and padded positions per training example of every task of the ``full`` profile."""
    full = get_profile("full")
    return scaling.full_study_inputs(load_tokenizer(cfg.model), full.intermediates, full.tasks)


def inputs_table(inputs: pd.DataFrame) -> pd.DataFrame:
    """The measured inputs of the extrapolation, with readable column names."""
    cols = ["phase", "examples", "epochs", "tokens", "sequences", "padded_dynamic", "padded_max", "measured_on"]
    return inputs[cols].rename(columns=INPUT_NAMES).round(1)


def gpu_training_table() -> pd.DataFrame:
    """The committed GPU training throughput (:func:`helpers.gpu.training_summary`), rounded."""
    return gpu.training_summary().round(GPU_ROUNDING)


def cpu_step(cfg: StudyConfig, *, steps: int = 2):
    """One XLM-R Large training step timed on this machine after a warm-up step; prints it in one line."""
    batch, length = scaling.cpu_step_shape(cfg.profile)
    step = scaling.measure_training_step("xlmr-large", batch=batch, length=length, steps=steps)
    print(f"XLM-R Large shape, training step on {step.device}: {step.seconds_per_step:.1f} s per step of "
          f"{step.batch}x{step.length} tokens = {step.tokens_per_s:.1f} tokens/s, of which AdamW "
          f"{step.optimizer_seconds:.1f} s; {step.flops_per_token / 1e9:.2f} GFLOP per token (forward + backward)")
    return step


def extrapolate(inputs: pd.DataFrame, step) -> pd.DataFrame:
    """Per task: PFLOPs and hours on the measured H200 (bf16 and TF32) and on this CPU."""
    measured = {"H200 bf16": gpu.training_throughput(dtype="bf16"), "H200 TF32": gpu.training_throughput(dtype="tf32")}
    return scaling.extrapolate_full(inputs, gpu=measured, cpu=step)


def extrapolation_table(ext: pd.DataFrame) -> pd.DataFrame:
    """The per-task extrapolation, real tokens in millions."""
    table = ext[["phase", "tokens", "PFLOPs", "measured length used", *HOURS, "CPU-hours"]].copy()
    table["tokens"] = table["tokens"] / 1e6
    return table.rename(columns={"tokens": "real tokens (M)"}).round(
        {"real tokens (M)": 1, "PFLOPs": 1, "H200 bf16-hours": 2, "H200 TF32-hours": 2, "H200 bf16-hours padded": 2,
         "CPU-hours": 0})


def full_arms(cfg: StudyConfig, ext: pd.DataFrame) -> pd.DataFrame:
    """The extrapolation summed per arm of the ``full`` study, recorded in ``full_extrapolation.csv``."""
    arms = scaling.arm_costs(ext, get_profile("full").intermediates)
    scaling.record_full_extrapolation(cfg.profile, arms)
    return arms


def arms_table(arms: pd.DataFrame) -> pd.DataFrame:
    """Each arm's PFLOPs, its extra over direct and the hours, rounded."""
    return arms[["PFLOPs", "extra PFLOPs vs direct", "x direct", *HOURS, "CPU-hours"]].round(
        {"PFLOPs": 1, "extra PFLOPs vs direct": 1, "x direct": 2, "H200 bf16-hours": 1, "H200 TF32-hours": 1,
         "H200 bf16-hours padded": 1, "CPU-hours": 0})


def full_facts(inputs: pd.DataFrame, arms: pd.DataFrame, step) -> dict:
    """Glued values of the extrapolation (``tc_*``): the GPU measurement, token counts, the whole study and
    its arms in PFLOPs and hours, and the CPU step."""
    whole = arms.index[-1]
    facts = gpu.training_throughput(dtype="bf16")[128]
    rows = gpu.training_summary()
    large = rows[(rows["model"] == "xlmr-large") & (rows["batch x length"] == "32 x 128")]
    return {
        "tc_gpu_label": f"{facts['gpu']}, {facts['date']}",
        "tc_h200_shape": f"{facts['batch']} x 128",
        "tc_h200_bf16_tps": f"{facts['tokens_per_s']:,.0f}",
        "tc_h200_best_frac": f"{large['of datasheet peak'].max():.0%}",
        "tc_anli_share": f"{scaling.ANLI_PLUS['anli'] / sum(scaling.ANLI_PLUS.values()):.0%}",
        "tc_anli_tokens": f"{inputs.loc['anli', 'tokens']:.0f}",
        "tc_hellaswag_tokens": f"{inputs.loc['hellaswag', 'tokens']:.0f}",
        "tc_cosmosqa_tokens": f"{inputs.loc['cosmosqa', 'tokens']:.0f}",
        "tc_study_pflops": f"{arms.loc[whole, 'PFLOPs']:,.0f}",
        "tc_study_h200_bf16": f"{arms.loc[whole, 'H200 bf16-hours']:,.1f}",
        "tc_study_h200_tf32": f"{arms.loc[whole, 'H200 TF32-hours']:,.1f}",
        "tc_study_h200_padded": f"{arms.loc[whole, 'H200 bf16-hours padded']:,.1f}",
        "tc_study_cpu_years": f"{arms.loc[whole, 'CPU-hours'] / HOURS_PER_YEAR:,.0f}",
        "tc_direct_h200_bf16": f"{arms.loc[DIRECT_ARM, 'H200 bf16-hours']:,.1f}",
        "tc_mnli_h200_bf16": f"{arms.loc[MNLI_ARM, 'H200 bf16-hours']:,.1f}",
        "tc_full_mnli_x": f"{arms.loc[MNLI_ARM, 'x direct']:.2f}",
        "tc_full_multi_x": f"{arms.loc[MULTI_ARM, 'x direct']:.2f}",
        "tc_full_direct_pflops": f"{arms.loc[DIRECT_ARM, 'PFLOPs']:,.0f}",
        "tc_cpu_shape": f"{step.batch} x {step.length}",
        "tc_large_step_tps": f"{step.tokens_per_s:.1f}",
        "tc_cpu_opt_pct": f"{step.optimizer_seconds / step.seconds_per_step:.0%}",
    }
