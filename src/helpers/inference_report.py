"""Chapter logic of the inference chapter (07): what it times, on which inputs, and the facts it glues.

The measurements themselves are :mod:`helpers.efficiency` (arms, compression),
:mod:`helpers.timing` and :mod:`helpers.sweeps`; this module fixes the
chapter's choices as named constants and parameters (the task the secondary
checks run on, the sentences per language of the sweeps, the precisions
compared) and turns each measurement into the table or the facts the chapter
shows. Every call and argument is the one the chapter has always made, so its
numbers do not depend on this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from . import analysis, compression, efficiency, gpu, pipeline, runs, sweeps, timing
from .config import StudyConfig
from .models import load_model
from .sources import load_examples

POOLED_COLUMNS = ["arm", "n", "tokens_per_s", "ratio", "ci_lo", "ci_hi", "ci95_lo", "ci95_hi", "verdict"]
"""Columns of the pooled ratio table the chapter shows (A/A control first)."""

SWEEP_DTYPES = ("fp32", "bf16", "int8")
"""Precisions of the secondary precision sweep (speed only, the direct arm's encoder)."""

COMPRESSION_VARIANTS = ("fp32", "int8", "int8-mixed")
"""Variants scored again for accuracy and timed: the fp32 reference, dynamic int8 of every Linear layer,
and int8 with the feed-forward blocks kept in fp32."""

DIRECT_ONLY = ("int8",)
"""Variants scored on the direct arm only (to show their loss, not as a deployment option)."""

FFN_ROLES = ["FFN in (hidden -> 4h)", "FFN out (4h -> hidden)"]
ATTENTION_ROLES = ["attention q/k/v", "attention output"]


@dataclass(frozen=True)
class Deployment:
    """Where and how the arms are timed: device, deployed dtype and the arm protocol
    (:func:`helpers.efficiency.arm_protocol`)."""

    device: str
    dtype: str
    protocol: dict


def deployment(cfg: StudyConfig) -> Deployment:
    """The device (``auto``), its default dtype and the profile's arm protocol; prints them in one line."""
    device = timing.resolve_device("auto")
    dep = Deployment(device, timing.default_dtype(device), efficiency.arm_protocol(cfg.profile))
    print(f"device: {runs.device_name()}, deployed dtype: {dep.dtype}, protocol: {dep.protocol}")
    return dep


def focus_task(cfg: StudyConfig) -> str:
    """The task of the secondary checks and sweeps: XNLI when the profile has it, else its first task."""
    return "xnli" if "xnli" in cfg.tasks else cfg.tasks[0]


def time_arms(cfg: StudyConfig, dep: Deployment) -> efficiency.ArmTiming:
    """Every arm and the A/A copy timed in pooled, balanced passes; rows recorded in ``inference.csv``."""
    timed = efficiency.time_arms_pooled(cfg, device=dep.device, dtype=dep.dtype, **dep.protocol)
    timing.record_inference(timed.rows + timed.pooled)
    return timed


def pooled_facts(pooled: pd.DataFrame, timed: efficiency.ArmTiming, dep: Deployment) -> dict:
    """Glued values of the pooled comparison (``inf_*``): the A/A control, the arms' ratios and verdicts."""
    aa = pooled.set_index("arm").loc[efficiency.AA_ARM]
    stilts = pooled[pooled["arm"] != efficiency.AA_ARM]
    direct_tps = pd.DataFrame(timed.pooled).groupby("arm")["tokens_per_s"].median()["direct"]
    return {
        "inf_aa_ratio": f"{aa['ratio']:.4f}",
        "inf_aa_ci": f"[{aa['ci_lo']:.4f}, {aa['ci_hi']:.4f}]",
        "inf_aa_ci95": f"[{aa['ci95_lo']:.4f}, {aa['ci95_hi']:.4f}]",
        "inf_aa_verdict": aa["verdict"],
        "inf_n_reps": int(aa["n"]),
        "inf_min_seconds": f"{dep.protocol['min_seconds']:g}",
        "inf_pooled_min_ratio": f"{stilts['ratio'].min():.4f}",
        "inf_pooled_max_ratio": f"{stilts['ratio'].max():.4f}",
        "inf_verdicts": ", ".join(f"{a}: {v}" for a, v in zip(stilts["arm"], stilts["verdict"])),
        "inf_n_equivalent": int((stilts["verdict"] == "equivalent").sum()),
        "inf_n_arms": int(len(stilts)),
        "inf_direct_tps": f"{direct_tps:.0f}",
        "inf_aa_lean": aa_lean_sentence(aa["ratio"], aa["ci_lo"], aa["ci_hi"]),
        "inf_direct_loaded_first": direct_loaded_first(timed.calibration),
        "inf_load_tasks": int(len(timed.calibration)),
    }


def aa_lean_sentence(ratio: float, lo: float, hi: float, margin: float = efficiency.MARGIN) -> str:
    """What this run's A/A ratio (direct-aa over direct, with its 90 % interval) says about a lean of direct."""
    if lo <= 1.0 <= hi:
        return ("Its 90% interval holds 1: in this run the harness shows no lean of direct against its own "
                "copy.")
    side, word = ("above", "slower") if lo > 1.0 else ("below", "faster")
    where = "inside" if 1 - margin <= lo and hi <= 1 + margin else "reaching beyond"
    return (f"Its 90% interval lies {side} 1: in this run direct still ran {100 * abs(ratio - 1):.2f}% {word} "
            f"than its own copy, a lean {where} the ±{100 * margin:g}% margin.")


def direct_loaded_first(calibration: pd.DataFrame) -> int:
    """In how many tasks the direct model was loaded before its A/A copy (``load_order`` of the calibration)."""
    orders = [str(o).split() for o in calibration["load_order"]]
    return sum(o.index("direct") < o.index(efficiency.AA_ARM) for o in orders)


def throughput_figure(timed: efficiency.ArmTiming, dep: Deployment, show: bool = True):
    """Tokens/s of every arm and the A/A copy per task (95 % percentile band over repetitions)."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    sns.barplot(data=pd.DataFrame(timed.rows), x="task", y="tokens_per_s", hue="arm",
                hue_order=timed.settings["arms"], errorbar=("pi", 95), ax=ax)
    ax.set_ylabel("real tokens / s")
    ax.set_title(f"inference throughput of every arm and the A/A copy ({dep.device}, {dep.dtype}, interleaved)")
    fig.tight_layout()
    return analysis.show_figure(fig, show)  # displayed once and closed (see analysis.show_figure)


def harness_checks(cfg: StudyConfig, timed: efficiency.ArmTiming, dep: Deployment, *, repeats: int = 4) -> dict:
    """Flush-to-zero off and on timed on :func:`focus_task` (``repeats`` repetitions of passes a fifth of the
    protocol's), recorded; returns :func:`helpers.efficiency.harness_findings`."""
    flush_rows = efficiency.flush_denormal_check(cfg, focus_task(cfg), repeats=repeats,
                                                 min_seconds=dep.protocol["min_seconds"] / 5)
    timing.record_inference(flush_rows)
    return efficiency.harness_findings(timed, flush_rows)


def harness_facts(findings: dict) -> dict:
    """Glued values of the harness checks (position, subnormal numbers, flush-to-zero, shortest pass)."""
    return {
        "inf_pos_dev": f"{100 * findings['position_max_dev']:.2f}%",
        "inf_pos_resolved": findings["position_resolved"],
        "inf_positions": findings["positions"],
        "inf_subnormal_total": findings["subnormal_total"],
        "inf_flush_ratio": f"{findings['flush_ratio']:.4f}",
        "inf_flush_ci": f"[{findings['flush_lo']:.4f}, {findings['flush_hi']:.4f}]",
        "inf_flush_verdict": findings["flush_verdict"],
        "inf_min_pass": f"{findings['min_pass_s']:.2f}",
    }


def flush_table(findings: dict) -> pd.DataFrame:
    """The flush-to-zero ratio (on over off), its 90 % interval and verdict, as a one-column table."""
    return pd.Series({k: findings[k] for k in ("flush_ratio", "flush_lo", "flush_hi", "flush_verdict")}).to_frame(
        "flush-to-zero on / off")


def cost_per_token(cfg: StudyConfig, timed: efficiency.ArmTiming, dep: Deployment, tokenizer, *,
                   examples: int = 8, batch_size: int = 8) -> pd.DataFrame:
    """FLOPs per token of each task's direct model (counted on one batch of ``examples`` test inputs),
    the direct arm's median tokens/s and the fraction of this machine's measured fp32 matmul peak."""
    peak = timing.measure_matmul_peak("fp32", dep.device)
    frame = pd.DataFrame(timed.rows)
    direct_tps = frame[frame["arm"] == "direct"].groupby("task")["tokens_per_s"].median()
    rows = []
    for task_name in cfg.tasks:
        model = efficiency.load_arm_model(cfg, "direct", task_name).eval()
        batch = efficiency.task_inputs(cfg, task_name, tokenizer, examples=examples, batch_size=batch_size)[0]
        fpt = timing.flops_per_token(model, batch)
        rows.append({"task": task_name, "GFLOP/token": fpt / 1e9, "tokens/s": direct_tps[task_name],
                     **timing.utilisation(fpt, direct_tps[task_name], peak)})
    cost = pd.DataFrame(rows).set_index("task")
    cost["fraction_of_peak"] = cost["fraction_of_peak"].astype(float)
    print(f"measured fp32 matmul peak: {peak / 1e9:.1f} GFLOP/s")
    return cost[["GFLOP/token", "tokens/s", "achieved_flops", "fraction_of_peak"]]


def example_text(ex: dict, fields: tuple[str, ...] = ("text_a", "context", "question"), tokens: bool = True) -> str:
    """The first non-empty text field of a canonical example (a tagging example's tokens joined when
    ``tokens``); ``""`` when none is."""
    for name in fields:
        if ex.get(name):
            return ex[name]
    return " ".join(ex.get("tokens", [])) if tokens else ""


@dataclass
class SweepInputs:
    """The sweeps' inputs: the task, its test sentences, the direct arm's pretrained encoder and tokenizer."""

    task: str
    texts: list[str]
    encoder: object
    tokenizer: object


def sweep_inputs(cfg: StudyConfig, tokenizer, *, per_language: int = 4) -> SweepInputs:
    """``per_language`` test sentences of :func:`focus_task` in each test language, and the profile's encoder."""
    task = focus_task(cfg)
    texts = [example_text(ex) for lang in cfg.test_languages(task)
             for ex in load_examples(task, "test", lang, cfg.data_source(), limit=per_language)]
    return SweepInputs(task, texts, load_model(cfg.model, head="encoder"), tokenizer)


def run_sweeps(cfg: StudyConfig, dep: Deployment, inp: SweepInputs, *, repeats: int = 2) -> pd.DataFrame:
    """Batch size, length, padding, precision (:data:`SWEEP_DTYPES`) and early exit, each ``repeats``
    interleaved repetitions; rows recorded. Returns the rows."""
    enc, tok, texts, device = inp.encoder, inp.tokenizer, inp.texts, dep.device
    rows = []
    rows += sweeps.sweep_batch_size(enc, tok, texts, batch_sizes=(1, 8, 32), max_length=128, device=device,
                                    repeats=repeats)
    rows += sweeps.sweep_length(enc, tok, texts, lengths=(32, 64, 128), batch_size=16, sequences=16, device=device,
                                repeats=repeats)
    rows += sweeps.sweep_padding(enc, tok, texts, batch_size=16, max_length=128, device=device, repeats=repeats)
    rows += sweeps.sweep_dtype(enc, tok, texts, dtypes=SWEEP_DTYPES, batch_size=16, max_length=128, device=device,
                               repeats=repeats)
    rows += sweeps.sweep_early_exit(enc, tok, texts, batch_size=16, max_length=128, device=device, repeats=repeats)
    timing.record_inference(rows, profile=cfg.profile, task=inp.task, language="all")
    return pd.DataFrame(rows)


def sweep_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Median tokens/s of each sweep setting."""
    return frame.groupby(["sweep", "arm", "batch", "length"])["tokens_per_s"].median().round(1).to_frame()


SWEEP_AXES = {"batch_size": ("batch", "batch size"), "length": ("length", "sequence length (tokens, all real)"),
              "padding": ("padding", "padding"), "dtype": ("dtype", "precision"), "early_exit": ("layers", "layers run")}


def sweep_figure(frame: pd.DataFrame, show: bool = True):
    """One panel per sweep: tokens/s against its setting."""
    fig, axes = plt.subplots(1, len(SWEEP_AXES), figsize=(16, 3.4))
    for ax, (name, (xcol, label)) in zip(axes, SWEEP_AXES.items()):
        sns.barplot(data=frame[frame["sweep"] == name], x=xcol, y="tokens_per_s", ax=ax, errorbar=("pi", 95),
                    color="#4c72b0")
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel(label)
        ax.set_ylabel("real tokens / s" if ax is axes[0] else "")
    fig.tight_layout()
    return analysis.show_figure(fig, show)  # displayed once and closed (see analysis.show_figure)


def model_size_table(cfg: StudyConfig, dep: Deployment, inp: SweepInputs, *, sentences: int = 16,
                     repeats: int = 2) -> pd.DataFrame:
    """The same ``sentences`` through the profile's encoder and the XLM-R Base and Large shapes (smoke: the
    tiny encoder and e5-small), random weights; median tokens/s and how many times slower than the first."""
    presets = (("tiny", "e5-small") if cfg.profile == "smoke"
               else tuple(dict.fromkeys((cfg.model, "xlmr-base", "xlmr-large"))))
    rows = sweeps.sweep_model_size(inp.texts[:sentences], presets=presets, batch_size=8, max_length=64,
                                   device=dep.device, repeats=repeats)
    timing.record_inference(rows, profile=cfg.profile, task=inp.task, language="all")
    sizes = pd.DataFrame(rows).groupby("arm")["tokens_per_s"].median().reindex(list(presets)).to_frame("tokens_per_s")
    sizes[f"x slower than {presets[0]}"] = sizes.loc[presets[0], "tokens_per_s"] / sizes["tokens_per_s"]
    return sizes


def language_table(cfg: StudyConfig, dep: Deployment, inp: SweepInputs, *, per_language: int = 16,
                   repeats: int = 2) -> pd.DataFrame:
    """Tokens, words and characters per second per language (``per_language`` test sentences each)."""
    by_lang = {lang: [example_text(ex, ("text_a", "context"), tokens=False)
                      for ex in load_examples(inp.task, "test", lang, cfg.data_source(), limit=per_language)]
               for lang in cfg.test_languages(inp.task)}
    rows = sweeps.sweep_languages(inp.encoder, inp.tokenizer, by_lang, batch_size=16, max_length=128,
                                  device=dep.device, repeats=repeats)
    timing.record_inference(rows, profile=cfg.profile, task=inp.task)
    cols = ["tokens_per_s", "words_per_s", "characters_per_s", "tokens_per_word"]
    return pd.DataFrame(rows).groupby("language")[cols].median()


def compression_task(cfg: StudyConfig) -> str:
    """The task compression is checked on: XNLI when the profile has it, else its first trainable target."""
    return "xnli" if "xnli" in cfg.tasks else pipeline.trainable_targets(cfg)[0]


def direct_model(cfg: StudyConfig, task: str):
    """The direct arm's deployed model of ``task`` in fp32, in evaluation mode."""
    return efficiency.load_arm_model(cfg, "direct", task).float().eval()


def outliers(cfg: StudyConfig, task: str, model, tokenizer, *, examples: int = 160,
             batch_size: int = 16) -> pd.DataFrame:
    """Inputs of every Linear layer over ``examples`` test inputs of ``task``, summarised per module role."""
    batches = efficiency.task_inputs(cfg, task, tokenizer, examples=examples, batch_size=batch_size)
    return efficiency.outliers_by_role(efficiency.linear_input_outliers(model, batches))


def score_compression(cfg: StudyConfig, task: str, *, repeats: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    """Every arm scored again on ``task`` in :data:`COMPRESSION_VARIANTS` (int8 on the direct arm only), on
    :func:`helpers.compression.compression_examples` test examples per language
    (:func:`helpers.compression.compression_source`), and the variants timed on the direct arm; both recorded.
    Returns the scores and each variant's median tokens/s."""
    source, limit = compression.compression_source(cfg, task, compression.compression_examples(cfg.profile))
    comp = compression.compression_scores(cfg, [task], dtypes=COMPRESSION_VARIANTS, limit=limit,
                                          direct_only=DIRECT_ONLY, source=source)
    compression.record_compression(comp)
    speed = compression.compression_speed(cfg, task, COMPRESSION_VARIANTS, repeats=repeats)
    timing.record_inference(speed)
    return comp, pd.DataFrame(speed).groupby("arm")["tokens_per_s"].median()


def compression_table(comp: pd.DataFrame) -> pd.DataFrame:
    """Scores of each (task, arm, variant) with the fp32 score, the share kept and the MLPerf verdict."""
    table = comp.set_index(["task", "arm", "dtype"])[["examples", "value", "fp32_value", "keep", "mlperf_99"]].copy()
    table["change [95% CI]"] = [f"{r.change:+.1f} [{r.change_lo:+.1f}, {r.change_hi:+.1f}]" for r in comp.itertuples()]
    return table


def compression_facts(task: str, comp: pd.DataFrame, comp_tps: pd.Series, by_role: pd.DataFrame) -> dict:
    """Glued values of the compression section (``comp_*``)."""
    direct_int8 = comp[(comp["arm"] == "direct") & (comp["dtype"] == "int8")].iloc[0]
    mixed = comp[comp["dtype"] == "int8-mixed"]
    worst_max, worst_zeroed = "max_abs (worst layer)", "zeroed by int8 (worst layer)"
    return {
        "comp_task": task,
        "comp_examples": int(comp["examples"].min()),
        "comp_languages": int(comp["languages"].min()),
        "comp_int8_fp32": f"{direct_int8['fp32_value']:.1f}",
        "comp_int8_value": f"{direct_int8['value']:.1f}",
        "comp_int8_keep": f"{direct_int8['keep']:.3f}",
        "comp_ffn_max": f"{by_role.loc[FFN_ROLES, worst_max].max():.1f}",
        "comp_ffn_zeroed": f"{100 * by_role.loc[FFN_ROLES, worst_zeroed].max():.0f}%",
        "comp_attn_max": f"{by_role.loc[ATTENTION_ROLES, worst_max].max():.1f}",
        "comp_head_zeroed": f"{100 * by_role.filter(like='task head', axis=0)[worst_zeroed].max():.0f}%",
        "comp_mixed_keeps": int((mixed["mlperf_99"] == "keeps 99%").sum()),
        "comp_mixed_arms": int(len(mixed)),
        "comp_mixed_min_keep": f"{mixed['keep'].min():.3f}",
        "comp_int8_change": _change_cell(direct_int8),
        "comp_mixed_resolved": int(((mixed["change_hi"] < 0) | (mixed["change_lo"] > 0)).sum()),
        "comp_mixed_widest": f"{(mixed['change_hi'] - mixed['change_lo']).max():.1f}",
        "comp_margin": f"{(1 - compression.MLPERF_KEEP) * mixed['fp32_value'].max():.1f}",
        "comp_speed_int8": f"{comp_tps['int8'] / comp_tps['fp32']:.3f}",
        "comp_speed_mixed": f"{comp_tps['int8-mixed'] / comp_tps['fp32']:.3f}",
    }


def _change_cell(row) -> str:
    """``-28.6 [-31.0, -26.1]``: a compressed score's change from fp32 with its 95 % interval (points)."""
    return f"{row['change']:+.1f} [{row['change_lo']:+.1f}, {row['change_hi']:+.1f}]"


def gpu_facts() -> dict:
    """Glued values of the GPU section (``gpu_*``) from :func:`helpers.gpu.gap_facts`."""
    facts = gpu.gap_facts()
    out = {f"gpu_{key}": f"{facts[key] / 1e3:.0f}k" for key in ("full_tps", "real_tps")}
    out.update({f"gpu_{key}": f"{100 * facts[key]:.1f}%"
                for key in ("full_of_datasheet", "real_of_datasheet", "real_of_measured")})
    out["gpu_real_speed_spread"] = f"{facts['real_speed_spread']:.2f}"
    out["gpu_real_flops_spread"] = f"{facts['real_flops_spread']:.1f}"
    out["gpu_name"] = facts["gpu"]
    out["gpu_date"] = facts["date"]
    return out
