"""The inference-efficiency chapter's measurements, built on :mod:`helpers.timing`.

Every arm of a task is loaded as it would be deployed (the fine-tuned model with
its task head; for retrieval tasks the arm's encoder), fed the task's real test
inputs in every language (encoded by :mod:`helpers.preprocess` exactly as in
evaluation, length-bucketed), and timed interleaved with the other arms in this
process. Rows go to ``results/inference.csv``.

The arm comparison (:func:`time_arms_pooled`) is calibrated by an A/A control:
``direct-aa`` is a second copy of the direct arm's model, loaded independently
from the same run directory and timed exactly like every other arm. Its ratio
to ``direct`` is the harness's own error bar: whatever it reports for two
identical models is what the harness adds to any comparison.

The deployed models and their inputs come from :mod:`helpers.deployed`; the
accuracy and speed of compressed variants are :mod:`helpers.compression`'s
(its names stay importable from here). torch is imported inside the functions
that use it (import cost).
"""

from __future__ import annotations

import gc
import math
import random
import statistics
from dataclasses import dataclass, field
from typing import Callable, Sequence

import pandas as pd
from scipy import stats as sps

from . import models
from .config import StudyConfig
from .deployed import AA_ARM, load_arm_model, task_inputs
from .devices import own_storage, prepare_model
from .errors import StudyError, check_positive
from .interleave import ratio_summary
from .peaks import count_subnormal
from .sweeps import sweep_flush_denormal
from .timing import batch_latency, peak_memory_mb, resolve_device, time_entries, timed_pass

# The chapter's other measurements, importable from here as before (moved to their own modules).
from .compression import (COMPRESSION_COLUMNS, COMPRESSION_KEY, COMPRESSIONS, MLPERF_KEEP,  # noqa: F401
                          compress, compression_scores, compression_speed, ffn_linear_names,
                          linear_input_outliers, mlperf_verdicts, module_precisions, module_role,
                          outliers_by_role, record_compression)

#: The equivalence margin of the arm comparison (+/-1 %).
MARGIN = 0.01


def arm_protocol(profile: str) -> dict:
    """The arm comparison's settings for ``profile`` (keyword arguments of :func:`time_arms_pooled`).

    Every profile but ``smoke``: 24 repetitions of pooled passes of at least
    5 s each (12, the issue's minimum, left the A/A interval about +/-1.0 %
    wide on this 2-core machine; 24 narrow it by about a third), 16 test examples per task (spread over its languages), the
    arms taking turns batch by batch (``interleave="batch"``: see
    :func:`helpers.timing.time_entries`). ``smoke`` (a seconds-long check of
    the machinery on a tiny model): 4 repetitions of 0.5 s, 8 examples.
    """
    if profile == "smoke":
        return {"repeats": 4, "min_seconds": 0.5, "examples": 8, "batch_size": 16, "interleave": "batch"}
    return {"repeats": 24, "min_seconds": 5.0, "examples": 16, "batch_size": 16, "interleave": "batch"}


def load_sequence(arms: Sequence[str], seed: int, task: str) -> list[str]:
    """The order in which :func:`time_arms_pooled` loads ``arms`` for ``task``: a permutation seeded by both.

    Fixed for a given seed and task (a rerun loads in the same order), and
    different from task to task, so that no arm is always loaded first or last.
    """
    return random.Random(f"load-order:{seed}:{task}").sample(list(arms), len(arms))


@dataclass
class ArmTiming:
    """What :func:`time_arms_pooled` measured.

    ``rows``: one per task, arm and repetition (``sweep="arms"``, with the
    ``position`` the pass held in its repetition); ``pooled``: one per arm and
    repetition, seconds and tokens summed over the tasks (``sweep="pooled"``,
    ``task="all"``); ``subnormal``: per arm and task, the subnormal values in
    the model's weights (:func:`helpers.timing.count_subnormal`);
    ``calibration``: per task, the examples, the copies of its inputs in each
    pass, the seconds of the calibration (the median model's second untimed
    pass) and the ``load_order`` of the timed models; ``latency``:
    per arm, on the latency task, the p50/p90/p99 latency of single requests
    (batch 1, each test example as evaluation encodes it) and the peak memory
    of one pass over the task's batches (:func:`helpers.timing.peak_memory_mb`);
    ``batches``: with ``interleave="batch"``, one row per timed batch (arm,
    task, repetition, ``batch_index``, ``position`` on that batch, seconds),
    which :func:`position_effects` reads.
    """

    rows: list[dict]
    pooled: list[dict]
    subnormal: pd.DataFrame
    calibration: pd.DataFrame
    latency: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict = field(default_factory=dict)
    batches: pd.DataFrame = field(default_factory=pd.DataFrame)


def time_arms_pooled(
    cfg: StudyConfig,
    *,
    tasks: Sequence[str] | None = None,
    arms: Sequence[str] | None = None,
    aa: bool = True,
    repeats: int = 12,
    min_seconds: float = 5.0,
    examples: int = 16,
    batch_size: int = 16,
    prime: int = 1,
    interleave: str = "batch",
    device: str = "cpu",
    dtype: str | None = None,
    latency_task: str | None = None,
    ballast: bool = True,
    log: Callable[[str], None] | None = None,
) -> ArmTiming:
    """The study's arm comparison: every arm (and the A/A copy) on every task's inputs, pooled.

    For each task in turn, every arm's deployed model (plus ``direct-aa``, a
    second copy of direct loaded independently, when ``aa``) is loaded and
    fed the same batches: ``examples`` test examples spread over all the
    task's languages, encoded as evaluation encodes them, length-bucketed.
    Every model's tensors are first copied into storage of their own
    (:func:`helpers.devices.own_storage`: as loaded, the first model loaded
    ran slower than later copies of it). The models load in a seeded order of
    their own for each task (:func:`load_sequence`), so no arm always loads
    first or last. Every model then runs two untimed passes (a warm-up and a
    calibration pass), and the median of the calibration passes sets how many
    copies of the inputs a pass holds, so that a pass lasts at least
    ``min_seconds / len(tasks)`` (x 1.1): the pooled pass of an arm (its
    passes over every task in one repetition, summed) lasts at least
    ``min_seconds``. Then ``repeats`` repetitions run every model once over
    those batches. With ``interleave="batch"`` (the default) the models take
    turns batch by batch, each batch in a balanced order (Williams Latin
    squares: each arm holds each position equally often), so every arm's
    pass spans the same seconds of wall time as every other's; with
    ``"pass"`` each model runs its whole pass in turn, the passes in the
    balanced order of :func:`helpers.timing.schedule`, each preceded by
    ``prime`` untimed batches of its own model. The task's models are
    freed before the next task's are loaded (six e5-small models at a time,
    not sixty). With ``ballast`` (the default) each task first loads a copy
    of direct that is held but never timed, so that no timed model is the
    first one loaded in its task. On ``latency_task`` (default: the first task), after the
    timed repetitions, each arm's latency at batch 1 and peak memory are
    measured too (``latency`` of :class:`ArmTiming`).
    """
    import torch

    tasks = list(tasks or cfg.tasks)
    arms = list(arms or cfg.arms)
    if "direct" not in arms:
        raise StudyError(f"the arm comparison needs the direct arm as its baseline; valid arms: {', '.join(cfg.arms)}")
    check_positive("repeats", repeats, integer=True)
    check_positive("min_seconds", min_seconds)
    if repeats < 2:
        raise StudyError(f"repeats must be at least 2 for an interval, got {repeats}")
    all_arms = arms + ([AA_ARM] if aa else [])
    device = resolve_device(device)
    tokenizer = models.load_tokenizer(cfg.model)
    per_task_s = 1.1 * min_seconds / len(tasks)
    latency_task = latency_task or tasks[0]
    prime = prime if interleave == "pass" else 0  # time_entries primes whole passes only
    rows, sub_rows, cal_rows, lat_rows = [], [], [], []
    batch_log: list | None = [] if interleave == "batch" else None
    for t_index, task in enumerate(tasks):
        base = task_inputs(cfg, task, tokenizer, examples=examples, batch_size=batch_size)
        # Nothing but its weights may set one model apart from another. The ballast (a copy of direct, held,
        # never timed) is the first model loaded, whatever a first load does to a model's speed (make
        # harness-probe). The timed models load in a seeded order of their own per task, so where a model
        # sits in memory is not tied to its arm. Every model gets the same two untimed passes, and the
        # calibration is the median of their second passes (direct used to get one pass more than the others).
        held = prepare_model(own_storage(load_arm_model(cfg, "direct", task)), device, dtype) if ballast else None
        load_order = load_sequence(all_arms, cfg.seed, task)
        loaded = {}
        for arm in load_order:
            loaded[arm] = prepare_model(own_storage(load_arm_model(cfg, arm, task)), device, dtype)
        loaded = {arm: loaded[arm] for arm in all_arms}
        sub_rows += [{"arm": arm, "task": task, **count_subnormal(model)} for arm, model in loaded.items()]
        for model in loaded.values():
            timed_pass(model, base, device)
        first = statistics.median(timed_pass(model, base, device) for model in loaded.values())
        copies = max(1, math.ceil(per_task_s / first)) if first > 0 else 1
        batches = list(base) * copies
        cal_rows.append({"task": task, "examples": examples, "batches": len(base), "copies": copies,
                         "calibration_s": first, "target_s": per_task_s, "load_order": " ".join(load_order)})
        if log:
            log(f"{task}: {len(base)} batches x {copies} copies per pass ({first:.3f} s per copy)")
        entries = [({"sweep": "arms", "profile": cfg.profile, "task": task, "language": "all", "arm": arm,
                     "padding": "bucketed", "seed": cfg.seed}, model, batches) for arm, model in loaded.items()]
        rows += time_entries(entries, warmup=0, repeats=repeats, device=device, order="balanced",
                             seed=cfg.seed * 1000 + t_index, prime=prime, interleave=interleave,
                             batch_log=batch_log)
        if task == latency_task:
            singles = task_inputs(cfg, task, tokenizer, examples=examples, batch_size=1)
            for arm, model in loaded.items():
                lat_rows.append({"arm": arm, "task": task, **batch_latency(model, singles, warmup=2, device=device),
                                 "peak_memory_mb": peak_memory_mb(model, base, device)})
        del loaded, entries, held
        gc.collect()
    settings = {"repeats": repeats, "min_seconds": min_seconds, "examples": examples, "batch_size": batch_size,
                "prime": prime, "interleave": interleave, "order": "balanced", "threads": torch.get_num_threads(), "arms": all_arms,
                "tasks": tasks, "ballast": ballast, "load_order": "seeded"}
    return ArmTiming(rows=rows, pooled=pooled_rows(rows), subnormal=pd.DataFrame(sub_rows),
                     calibration=pd.DataFrame(cal_rows), latency=pd.DataFrame(lat_rows), settings=settings,
                     batches=pd.DataFrame(batch_log or []))


POOLED_SUMS = ("seconds", "tokens", "padded_tokens", "sequences", "batches")
POOLED_SAME = ("profile", "device", "device_name", "dtype", "threads", "padding", "seed")


def pooled_rows(rows: Sequence[dict]) -> list[dict]:
    """Sum seconds and tokens over tasks per (arm, repetition): one workload of every task.

    Arms ran interleaved within each task and repetition, so the sums stay
    paired by repetition index. Rows have ``sweep="pooled"``, ``task`` and
    ``language`` ``"all"``, the summed counts, the largest ``batch`` and
    ``length``, and the columns every pooled row shares (profile, device,
    dtype, threads, ...) when they are the same in all of its task rows.
    """
    acc: dict[tuple, dict] = {}
    for r in rows:
        key = (str(r["arm"]), int(r["repetition"]))
        a = acc.get(key)
        if a is None:
            a = acc[key] = {"sweep": "pooled", "arm": key[0], "task": "all", "language": "all",
                            "repetition": key[1], **{c: 0 for c in POOLED_SUMS}, "batch": 0, "length": 0,
                            **{c: r.get(c) for c in POOLED_SAME if c in r}}
        for c in POOLED_SUMS:
            if c in r and r[c] not in (None, ""):
                a[c] += float(r[c]) if c == "seconds" else int(r[c])
        for c in ("batch", "length"):
            if r.get(c) not in (None, ""):
                a[c] = max(a[c], int(r[c]))
        for c in POOLED_SAME:
            if c in a and a[c] != r.get(c):
                a[c] = ""
    out = []
    for a in acc.values():
        a["tokens_per_s"] = a["tokens"] / a["seconds"]
        a["sequences_per_s"] = a["sequences"] / a["seconds"]
        out.append(a)
    return out


def ratio_table(rows: Sequence[dict], by: Sequence[str], *, margin: float = MARGIN) -> pd.DataFrame:
    """Each arm's throughput ratio to direct: geometric mean, t intervals and the TOST verdict at ``+/- margin``.

    The A/A control (``direct-aa``) comes first, then the other arms in the
    order they appear; direct's own row is left out.
    """
    table = pd.DataFrame(ratio_summary(list(rows), "direct", by=tuple(by), margin=margin))
    if not len(table):
        return table
    table = table[table["arm"] != "direct"]
    first = table["arm"] == AA_ARM
    return pd.concat([table[first], table[~first]]).reset_index(drop=True)


def position_effects(rows) -> pd.DataFrame:
    """How the place of a model in the running order moves its time: the harness's position check.

    ``rows``: the per-batch log of a batch-by-batch comparison
    (:attr:`ArmTiming.batches`, with ``batch_index``), or the per-pass rows of
    a pass-by-pass one. Each batch's (or pass's) seconds are divided by the
    mean over the models of the same batch of the same (task, repetition),
    or of the same (task, repetition) for passes: the mean of that relative
    time, per ``position``, with the count and a 95 % t half-width. Every
    group holds each position once, so the positions' relative times average
    to 1, and a position away from 1 is slower or faster than the others
    (a median would put every position above 1 when times are skewed right).
    Under a balanced order every arm holds every position equally often, so a
    position effect adds noise, not bias; this table shows whether there is one.
    """
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    if frame.empty:
        return frame
    unit = "batches" if "batch_index" in frame else "passes"
    groups = ["task", "repetition"] + (["batch_index"] if unit == "batches" else [])
    frame["relative"] = frame["seconds"] / frame.groupby(groups)["seconds"].transform("mean")
    out = frame.groupby("position")["relative"].agg(["count", "mean", "std"])
    out["half_width_95"] = [float(sps.t.ppf(0.975, n - 1)) * sd / math.sqrt(n) if n > 1 else math.nan
                            for n, sd in zip(out["count"], out["std"])]
    return out.rename(columns={"count": unit, "mean": "relative time"}).drop(columns="std")


def subnormal_by_arm(subnormal: pd.DataFrame) -> pd.DataFrame:
    """Subnormal values in the weights of each arm, summed over its task models."""
    if subnormal.empty:
        return subnormal
    out = subnormal.groupby("arm", sort=False)[["values", "subnormal", "zero"]].sum()
    out["subnormal per million"] = out["subnormal"] / out["values"] * 1e6
    return out


def flush_denormal_check(cfg: StudyConfig, task: str, *, repeats: int = 4, min_seconds: float = 1.0,
                         examples: int = 16, batch_size: int = 16) -> list[dict]:
    """The direct arm on ``task`` with flush-to-zero of subnormals off and on, interleaved (CPU).

    The inputs are copied until one pass lasts at least ``min_seconds``
    (as in :func:`time_arms_pooled`). Rows have ``sweep="flush_denormal"``
    and arms ``flush_denormal=off`` / ``flush_denormal=on``.
    """
    model = prepare_model(load_arm_model(cfg, "direct", task), "cpu")
    base = task_inputs(cfg, task, models.load_tokenizer(cfg.model), examples=examples, batch_size=batch_size)
    timed_pass(model, base, "cpu")
    first = timed_pass(model, base, "cpu")
    batches = list(base) * max(1, math.ceil(min_seconds / first)) if first > 0 else list(base)
    return sweep_flush_denormal(model, batches, warmup=0, repeats=repeats, seed=cfg.seed,
                                labels={"profile": cfg.profile, "task": task, "language": "all", "seed": cfg.seed})


def harness_findings(timed: ArmTiming, flush_rows: Sequence[dict] = ()) -> dict:
    """The checks of the harness, as numbers for the chapter's prose.

    ``position_max_dev``: the largest deviation of a position's mean relative
    time from 1 (:func:`position_effects`, per batch when the arms took turns
    batch by batch), and ``position_resolved``: how
    many positions' 95 % intervals exclude 1; ``subnormal_total`` and
    ``subnormal_max_per_million``: subnormal weights over all arms
    (:func:`subnormal_by_arm`); with ``flush_rows``
    (:func:`flush_denormal_check`), ``flush_ratio``/``flush_lo``/``flush_hi``
    (tokens/s with flush-to-zero on over off, 90 % t interval) and
    ``flush_verdict`` at +/-1 %; ``min_pass_s``: the shortest pooled pass.
    """
    pos = position_effects(timed.batches if not timed.batches.empty else timed.rows)
    dev = (pos["relative time"] - 1).abs()
    resolved = ((pos["relative time"] - pos["half_width_95"] > 1) | (pos["relative time"] + pos["half_width_95"] < 1))
    sub = subnormal_by_arm(timed.subnormal)
    out = {
        "position_max_dev": float(dev.max()) if len(dev) else math.nan,
        "position_resolved": int(resolved.sum()),
        "positions": int(len(pos)),
        "subnormal_total": int(sub["subnormal"].sum()) if len(sub) else 0,
        "subnormal_max_per_million": float(sub["subnormal per million"].max()) if len(sub) else 0.0,
        "min_pass_s": float(min(r["seconds"] for r in timed.pooled)) if timed.pooled else math.nan,
        "repetitions": int(max(r["repetition"] for r in timed.pooled) + 1) if timed.pooled else 0,
    }
    if flush_rows:
        (on,) = [r for r in ratio_summary(list(flush_rows), "flush_denormal=off", by=("sweep",), margin=MARGIN)
                 if r["arm"] == "flush_denormal=on"]
        out.update({"flush_ratio": on["ratio"], "flush_lo": on["ci_lo"], "flush_hi": on["ci_hi"],
                    "flush_verdict": on["verdict"]})
    return out
