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
"""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from .config import StudyConfig
from .errors import StudyError, check_choice, check_positive

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
#: The A/A control arm: the direct arm's model loaded a second time.
AA_ARM = "direct-aa"
#: The equivalence margin of the arm comparison (+/-1 %).
MARGIN = 0.01


def load_arm_model(cfg: StudyConfig, arm: str, task: str):
    """The deployed model of ``arm`` on ``task`` (fine-tuned head, or the encoder for retrieval).

    ``arm="direct-aa"`` (:data:`AA_ARM`) loads the direct arm's model again,
    from its run directory: a second, independent copy (no tensor shared with
    the first).
    """
    from . import pipeline
    from .evaluation import saved_model_dir
    from .models import load_model
    from .preprocess import HEAD_FOR_FORMAT
    from .tasks import get_task
    from .training import RETRIEVAL

    path, _ = pipeline.arm_model(cfg, "direct" if arm == AA_ARM else arm, task)
    if task in RETRIEVAL:
        return load_model(path, head="encoder")
    return load_model(saved_model_dir(Path(path)), head=HEAD_FOR_FORMAT[get_task(task).format], keep_head=True)


def task_inputs(cfg: StudyConfig, task: str, tokenizer, *, examples: int = 64, batch_size: int = 16) -> list[dict]:
    """Length-bucketed batches of ``task``'s real test inputs, spread over its languages.

    About ``examples`` test examples in all, the same number per language;
    encoded as evaluation encodes them (pairs as pairs, multiple choice as
    [batch, choices, length], QA as doc-stride windows), labels dropped.
    """
    import torch

    from . import pipeline
    from .preprocess import collator_for, encode
    from .sources import load_examples, load_retrieval
    from .tasks import get_task
    from .timing import make_batches

    check_positive("examples", examples, integer=True)
    spec = get_task(task)
    langs = cfg.test_languages(task)
    per_lang = max(1, math.ceil(examples / len(langs)))
    max_length = pipeline.eval_max_length(cfg, task)
    source = cfg.data_source()
    if spec.format == "retrieval":
        texts = []
        for lang in langs:
            rs = load_retrieval(task, lang, source, limit=per_lang)
            texts += [rs.query_prefix + q for q in rs.queries]
            texts += [rs.candidate_prefix + c for c in rs.candidates[:per_lang]]
        return make_batches(tokenizer, texts, batch_size, max_length)
    items = []
    for lang in langs:
        items += load_examples(task, "test", lang, source, limit=per_lang)
    stride = pipeline.eval_doc_stride(cfg, task)
    features = encode(spec.format, items, tokenizer, max_length, train=False,
                      label_names=spec.labels, doc_stride=stride)
    rows = [{k: f[k] for k in MODEL_INPUTS if k in f} for f in features]
    collate = collator_for(spec.format, tokenizer)

    def length(row):
        ids = row["input_ids"]
        return max(len(x) for x in ids) if ids and isinstance(ids[0], list) else len(ids)

    order = sorted(range(len(rows)), key=lambda i: (length(rows[i]), i))
    batches = []
    for start in range(0, len(order), batch_size):
        batch = collate([rows[i] for i in order[start:start + batch_size]])
        batches.append({k: v for k, v in batch.items() if k in MODEL_INPUTS and isinstance(v, torch.Tensor)})
    return batches


def time_task_arms(cfg: StudyConfig, task: str, *, examples: int = 64, batch_size: int = 16,
                   repeats: int | None = None, dtype: str | None = None, device: str = "cpu") -> list[dict]:
    """Every arm of ``task`` timed interleaved on identical inputs; rows for ``inference.csv``."""
    from .models import load_tokenizer
    from .timing import time_arms

    tokenizer = load_tokenizer(cfg.model)
    batches = task_inputs(cfg, task, tokenizer, examples=examples, batch_size=batch_size)
    models = {arm: load_arm_model(cfg, arm, task) for arm in cfg.arms}
    return time_arms(models, batches, repeats=repeats or cfg.timing_repeats, warmup=1, device=device, dtype=dtype,
                     order="balanced", seed=cfg.seed,
                     labels={"sweep": "arms", "profile": cfg.profile, "task": task, "language": "all",
                             "padding": "bucketed", "seed": cfg.seed})


def arm_protocol(profile: str) -> dict:
    """The arm comparison's settings for ``profile`` (keyword arguments of :func:`time_arms_pooled`).

    Every profile but ``smoke``: 12 repetitions of pooled passes of at least
    5 s each, 16 test examples per task (spread over its languages), one
    priming batch before each pass. ``smoke`` (a seconds-long check of the
    machinery on a tiny model): 4 repetitions of 0.5 s, 8 examples.
    """
    if profile == "smoke":
        return {"repeats": 4, "min_seconds": 0.5, "examples": 8, "batch_size": 16, "prime": 1}
    return {"repeats": 12, "min_seconds": 5.0, "examples": 16, "batch_size": 16, "prime": 1}


@dataclass
class ArmTiming:
    """What :func:`time_arms_pooled` measured.

    ``rows``: one per task, arm and repetition (``sweep="arms"``, with the
    ``position`` the pass held in its repetition); ``pooled``: one per arm and
    repetition, seconds and tokens summed over the tasks (``sweep="pooled"``,
    ``task="all"``); ``subnormal``: per arm and task, the subnormal values in
    the model's weights (:func:`helpers.timing.count_subnormal`);
    ``calibration``: per task, the examples, the copies of its inputs in each
    pass and the seconds of the direct arm's calibration pass; ``latency``:
    per arm, on the latency task, the p50/p90/p99 latency of single requests
    (batch 1, each test example as evaluation encodes it) and the peak memory
    of one pass over the task's batches (:func:`helpers.timing.peak_memory_mb`).
    """

    rows: list[dict]
    pooled: list[dict]
    subnormal: pd.DataFrame
    calibration: pd.DataFrame
    latency: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict = field(default_factory=dict)


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
    device: str = "cpu",
    dtype: str | None = None,
    latency_task: str | None = None,
    log: Callable[[str], None] | None = None,
) -> ArmTiming:
    """The study's arm comparison: every arm (and the A/A copy) on every task's inputs, pooled.

    For each task in turn, every arm's deployed model (plus ``direct-aa``, a
    second copy of direct loaded independently, when ``aa``) is loaded and
    fed the same batches: ``examples`` test examples spread over all the
    task's languages, encoded as evaluation encodes them, length-bucketed.
    After one warm-up pass per model, one timed pass of the direct model sets
    how many copies of the inputs a pass holds, so that a pass lasts at least
    ``min_seconds / len(tasks)`` (x 1.1): the pooled pass of an arm (its
    passes over every task in one repetition, summed) lasts at least
    ``min_seconds``. Then ``repeats`` repetitions run every model once, in
    the balanced order of :func:`helpers.timing.schedule` (Williams Latin
    squares: each arm holds each position equally often), each pass preceded
    by ``prime`` untimed batches of its own model. The task's models are
    freed before the next task's are loaded (six e5-small models at a time,
    not sixty). On ``latency_task`` (default: the first task), after the
    timed repetitions, each arm's latency at batch 1 and peak memory are
    measured too (``latency`` of :class:`ArmTiming`).
    """
    import torch

    from .models import load_tokenizer
    from .timing import batch_latency, count_subnormal, peak_memory_mb, prepare_model, resolve_device, time_entries, _timed_pass

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
    tokenizer = load_tokenizer(cfg.model)
    per_task_s = 1.1 * min_seconds / len(tasks)
    latency_task = latency_task or tasks[0]
    rows, sub_rows, cal_rows, lat_rows = [], [], [], []
    for t_index, task in enumerate(tasks):
        base = task_inputs(cfg, task, tokenizer, examples=examples, batch_size=batch_size)
        models = {}
        for arm in all_arms:
            model = prepare_model(load_arm_model(cfg, arm, task), device, dtype)
            sub_rows.append({"arm": arm, "task": task, **count_subnormal(model)})
            models[arm] = model
        for model in models.values():
            _timed_pass(model, base, device)
        first = _timed_pass(models["direct"], base, device)
        copies = max(1, math.ceil(per_task_s / first)) if first > 0 else 1
        batches = list(base) * copies
        cal_rows.append({"task": task, "examples": examples, "batches": len(base), "copies": copies,
                         "calibration_s": first, "target_s": per_task_s})
        if log:
            log(f"{task}: {len(base)} batches x {copies} copies per pass ({first:.3f} s per copy)")
        entries = [({"sweep": "arms", "profile": cfg.profile, "task": task, "language": "all", "arm": arm,
                     "padding": "bucketed", "seed": cfg.seed}, model, batches) for arm, model in models.items()]
        rows += time_entries(entries, warmup=0, repeats=repeats, device=device, order="balanced",
                             seed=cfg.seed * 1000 + t_index, prime=prime)
        if task == latency_task:
            singles = task_inputs(cfg, task, tokenizer, examples=examples, batch_size=1)
            for arm, model in models.items():
                lat_rows.append({"arm": arm, "task": task, **batch_latency(model, singles, warmup=2, device=device),
                                 "peak_memory_mb": peak_memory_mb(model, base, device)})
        del models, entries
        gc.collect()
    settings = {"repeats": repeats, "min_seconds": min_seconds, "examples": examples, "batch_size": batch_size,
                "prime": prime, "order": "balanced", "threads": torch.get_num_threads(), "arms": all_arms,
                "tasks": tasks}
    return ArmTiming(rows=rows, pooled=pooled_rows(rows), subnormal=pd.DataFrame(sub_rows),
                     calibration=pd.DataFrame(cal_rows), latency=pd.DataFrame(lat_rows), settings=settings)


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
    from .timing import ratio_summary

    table = pd.DataFrame(ratio_summary(list(rows), "direct", by=tuple(by), margin=margin))
    if not len(table):
        return table
    table = table[table["arm"] != "direct"]
    first = table["arm"] == AA_ARM
    return pd.concat([table[first], table[~first]]).reset_index(drop=True)


def position_effects(rows: Sequence[dict]) -> pd.DataFrame:
    """How the place of a pass in its repetition moves its time: the harness's position check.

    Each pass's seconds are divided by the median of its (task, repetition):
    the mean of that relative time, per ``position``, with the number of
    passes and a 95 % t half-width. Under a balanced order every arm holds
    every position equally often, so a position effect adds noise, not bias;
    this table shows whether there is one.
    """
    from scipy import stats as sps

    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return frame
    frame["relative"] = frame["seconds"] / frame.groupby(["task", "repetition"])["seconds"].transform("median")
    out = frame.groupby("position")["relative"].agg(["count", "mean", "std"])
    out["half_width_95"] = [float(sps.t.ppf(0.975, n - 1)) * sd / math.sqrt(n) if n > 1 else math.nan
                            for n, sd in zip(out["count"], out["std"])]
    return out.rename(columns={"count": "passes", "mean": "relative time"}).drop(columns="std")


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
    from .models import load_tokenizer
    from .timing import _timed_pass, prepare_model, sweep_flush_denormal

    model = prepare_model(load_arm_model(cfg, "direct", task), "cpu")
    base = task_inputs(cfg, task, load_tokenizer(cfg.model), examples=examples, batch_size=batch_size)
    _timed_pass(model, base, "cpu")
    first = _timed_pass(model, base, "cpu")
    batches = list(base) * max(1, math.ceil(min_seconds / first)) if first > 0 else list(base)
    return sweep_flush_denormal(model, batches, warmup=0, repeats=repeats, seed=cfg.seed,
                                labels={"profile": cfg.profile, "task": task, "language": "all", "seed": cfg.seed})


# --------------------------------------------------------------------------- accuracy under compression
#: The compressed variants scored again: ``int8`` is torch's dynamic quantisation of every Linear layer
#: (task head included); ``int8-mixed`` keeps the feed-forward blocks' Linear layers in fp32
#: (:func:`ffn_linear_names`), whose inputs carry the encoder's outlier dimensions.
COMPRESSIONS = ("fp32", "bf16", "int8", "int8-mixed")
#: MLPerf Inference's rule for a compressed model: at least 99 % of the fp32 score.
MLPERF_KEEP = 0.99
COMPRESSION_KEY = ("profile", "model", "source", "task", "arm", "dtype", "examples", "seed")
COMPRESSION_COLUMNS = COMPRESSION_KEY + ("metric", "languages", "value", "fp32_value", "keep", "mlperf_99", "run_dir")


def ffn_linear_names(model) -> list[str]:
    """The Linear modules of the encoder's feed-forward blocks (BERT / XLM-R names).

    In every layer ``intermediate.dense`` (hidden -> 4 x hidden) and the
    layer's ``output.dense`` (4 x hidden -> hidden), not the attention
    block's ``attention.output.dense``.
    """
    import re

    import torch

    pattern = re.compile(r"(^|\.)layer\.\d+\.(intermediate|output)\.dense$")
    return [name for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and pattern.search(name)]


def compress(model, variant: str):
    """A copy of fp32 ``model`` in one of :data:`COMPRESSIONS` (``fp32`` returns ``model`` itself)."""
    import copy

    from .timing import cast, quantize_int8

    check_choice("compression", variant, COMPRESSIONS)
    if variant == "fp32":
        return model
    if variant == "int8-mixed":
        return quantize_int8(model, keep_fp32=ffn_linear_names(model))
    return cast(copy.deepcopy(model), variant)


def module_role(name: str) -> str:
    """What a module of a BERT / XLM-R model does, from its name (for the precision and outlier tables)."""
    import re

    rules = (("classifier", "task head"), ("qa_outputs", "task head"), ("pooler", "task head (pooler)"),
             ("LayerNorm", "LayerNorm"), ("embeddings", "embeddings"), ("attention.self", "attention q/k/v"),
             ("attention.output.dense", "attention output"), ("intermediate.dense", "FFN in (hidden -> 4h)"))
    for needle, role in rules:
        if needle in name:
            return role
    if re.search(r"layer\.\d+\.output\.dense$", name):
        return "FFN out (4h -> hidden)"
    return "other"


def module_precisions(model) -> pd.DataFrame:
    """Which modules of ``model`` run in which precision: counts per role.

    Linear layers replaced by torch's dynamic quantisation are ``int8``;
    every other module with parameters (Linear kept, embeddings, LayerNorm)
    reports its parameters' dtype.
    """
    import torch

    rows = []
    for name, module in model.named_modules():
        quantized = "quantized" in type(module).__module__ and hasattr(module, "weight")
        own = list(module.parameters(recurse=False))
        if not quantized and not own:
            continue
        if quantized:
            precision = "int8"
        else:
            precision = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}.get(own[0].dtype,
                                                                                              str(own[0].dtype))
        rows.append({"role": module_role(name), "kind": type(module).__name__, "precision": precision})
    frame = pd.DataFrame(rows)
    return frame.groupby(["role", "kind", "precision"]).size().rename("modules").reset_index()


def linear_input_outliers(model, batches: Sequence[dict], *, threshold: float = 6.0) -> pd.DataFrame:
    """What dynamic int8 does to the inputs of every Linear layer of fp32 ``model`` on ``batches``.

    Per Linear module (real tokens only; padding excluded): ``max_abs`` and
    ``median_abs`` of its inputs, ``outlier_dims``: input dimensions whose
    largest magnitude reaches ``threshold`` (6, the outlier threshold of
    LLM.int8()), ``top_dim`` the largest one, ``int8_step``: the mean
    quantisation step torch's dynamic int8 uses on these batches (the
    batch's range over 127 levels: per-tensor, 7-bit activations on x86), and
    ``zeroed``: the share of inputs smaller than half a step, which int8
    rounds to zero.
    """
    import torch

    stats: dict[str, list] = {}
    state: dict[str, torch.Tensor] = {}
    hooks = []

    def hook(name):
        def record(module, inputs, output):
            x = inputs[0].detach().float()
            step = float(x.max().clamp(min=0) - x.min().clamp(max=0)) / 127.0
            mask = state.get("mask")
            real = x[mask.bool()] if mask is not None and x.dim() == 3 and mask.shape == x.shape[:2] else x.reshape(-1, x.shape[-1])
            stats.setdefault(name, []).append((real.abs().amax(0), real.abs().flatten(), step))
        return record

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            hooks.append(module.register_forward_hook(hook(name)))
    try:
        with torch.inference_mode():
            for batch in batches:
                mask = batch.get("attention_mask")
                state["mask"] = mask.reshape(-1, mask.shape[-1]) if mask is not None else None
                model(**batch)
    finally:
        for h in hooks:
            h.remove()
    rows = []
    for name, recs in stats.items():
        per_dim = torch.stack([r[0] for r in recs]).amax(0)
        values = torch.cat([r[1] for r in recs])
        zeroed = sum(float((r[1] < r[2] / 2).sum()) for r in recs) / max(1, values.numel())
        rows.append({"module": name, "role": module_role(name), "max_abs": float(per_dim.max()),
                     "median_abs": float(values.median()), "outlier_dims": int((per_dim >= threshold).sum()),
                     "top_dim": int(per_dim.argmax()), "int8_step": sum(r[2] for r in recs) / len(recs),
                     "zeroed": zeroed})
    return pd.DataFrame(rows)


def outliers_by_role(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`linear_input_outliers` summarised per role: worst layer's max, median share zeroed, ..."""
    grouped = table.groupby("role", sort=False)
    return pd.DataFrame({
        "layers": grouped.size(),
        "max_abs (worst layer)": grouped["max_abs"].max(),
        "median_abs (median layer)": grouped["median_abs"].median(),
        "layers with outlier dims": grouped["outlier_dims"].apply(lambda s: int((s > 0).sum())),
        "zeroed by int8 (median layer)": grouped["zeroed"].median(),
        "zeroed by int8 (worst layer)": grouped["zeroed"].max(),
    })


def mlperf_verdicts(rows: Sequence[dict], keep: float = MLPERF_KEEP) -> list[dict]:
    """``rows`` (task, arm, dtype, value) with ``fp32_value``, ``keep`` (value / fp32) and ``mlperf_99``.

    ``mlperf_99`` is ``"keeps 99%"`` when the compressed score is at least
    ``keep`` times the same arm's fp32 score on the same task and examples,
    else ``"loses"``; the fp32 rows themselves read ``"(reference)"``.
    """
    ref = {(r["task"], r["arm"], r.get("examples")): float(r["value"]) for r in rows if r["dtype"] == "fp32"}
    out = []
    for r in rows:
        base = ref.get((r["task"], r["arm"], r.get("examples")))
        if base is None:
            raise StudyError(f"no fp32 score of arm {r['arm']} on {r['task']} to compare {r['dtype']} with; "
                             "score fp32 too (dtypes must include fp32)")
        ratio = float(r["value"]) / base if base > 0 else (1.0 if float(r["value"]) >= base else 0.0)
        verdict = "(reference)" if r["dtype"] == "fp32" else ("keeps 99%" if ratio >= keep else "loses")
        out.append({**r, "fp32_value": base, "keep": ratio, "mlperf_99": verdict})
    return out


def compression_scores(cfg: StudyConfig, tasks: Sequence[str], dtypes: Sequence[str] = ("fp32", "int8", "int8-mixed"),
                       limit: int | None = None, direct_only: Sequence[str] = ()) -> pd.DataFrame:
    """Zero-shot score of every arm in each compressed variant, scored again (as MLPerf requires).

    ``dtypes`` are :data:`COMPRESSIONS` and must include ``fp32``, the
    reference. ``limit``: test examples per language; ``None`` scores every
    example of the test files. One row per (task, arm, dtype): the primary
    metric averaged over the task's test languages, ``examples`` (per
    language: the smallest count scored), the fp32 score of the same arm and
    examples, ``keep`` and the MLPerf verdict (:func:`mlperf_verdicts`).
    """
    from . import evaluation, pipeline
    from .metrics import primary_metric
    from .models import load_tokenizer
    from .sources import load_examples

    for dt in dtypes:
        check_choice("compression", dt, COMPRESSIONS)
    if "fp32" not in dtypes:
        raise StudyError("dtypes must include fp32, the reference each compressed score is compared with; "
                         f"valid: {', '.join(COMPRESSIONS)}")
    if limit is not None:
        check_positive("limit", limit, integer=True)
    tokenizer = load_tokenizer(cfg.model)
    source = cfg.data_source()
    source_id = pipeline.source_id(cfg)
    rows = []
    for task in tasks:
        metric = primary_metric(task)
        langs = list(cfg.test_languages(task))
        examples = min(len(load_examples(task, "test", lang, source, limit=limit)) for lang in langs)
        for arm in cfg.arms:
            base = load_arm_model(cfg, arm, task).float().eval()
            _, run_dir = pipeline.arm_model(cfg, arm, task)
            for dt in dtypes:
                if dt in direct_only and arm != "direct":
                    continue
                scores = evaluation.evaluate_zero_shot(
                    compress(base, dt), task, langs, source, arm=arm,
                    intermediate=None if arm == "direct" else arm, profile=cfg.profile, seed=cfg.seed,
                    run_dir=run_dir, max_length=pipeline.eval_max_length(cfg, task), limit=limit,
                    tokenizer=tokenizer, doc_stride=pipeline.eval_doc_stride(cfg, task),
                    model_name=cfg.model, source_id=source_id)
                values = [r["value"] for r in scores if r["metric"] == metric]
                rows.append({"profile": cfg.profile, "model": cfg.model, "source": source_id, "task": task,
                             "arm": arm, "dtype": dt, "examples": examples, "seed": cfg.seed, "metric": metric,
                             "languages": len(values), "value": sum(values) / len(values), "run_dir": run_dir})
    return pd.DataFrame(mlperf_verdicts(rows), columns=list(COMPRESSION_COLUMNS))


def record_compression(frame: pd.DataFrame, path: Path | None = None) -> Path:
    """Upsert :func:`compression_scores` rows into ``results/compression.csv`` (key :data:`COMPRESSION_KEY`)."""
    from .runs import results_root, upsert_rows

    target = Path(path) if path else results_root() / "compression.csv"
    return upsert_rows(target, frame.to_dict("records"), key=COMPRESSION_KEY, columns=COMPRESSION_COLUMNS)


def compression_speed(cfg: StudyConfig, task: str, dtypes: Sequence[str], *, examples: int = 64,
                      batch_size: int = 16, repeats: int = 3) -> list[dict]:
    """Tokens/s of the direct arm's deployed model in each variant of ``dtypes``, interleaved (CPU).

    Rows as :func:`helpers.timing.time_arms` writes them, ``sweep="compression"``
    and ``arm`` the variant; they go to ``results/inference.csv``.
    """
    from .models import load_tokenizer
    from .timing import time_arms

    for dt in dtypes:
        check_choice("compression", dt, COMPRESSIONS)
    base = load_arm_model(cfg, "direct", task).float().eval()
    batches = task_inputs(cfg, task, load_tokenizer(cfg.model), examples=examples, batch_size=batch_size)
    models = {dt: compress(base, dt) for dt in dtypes}
    return time_arms(models, batches, repeats=repeats, warmup=1, device="cpu", dtype=None, order="balanced",
                     seed=cfg.seed, labels={"sweep": "compression", "profile": cfg.profile, "task": task,
                                            "language": "all", "padding": "bucketed", "seed": cfg.seed})


def harness_findings(timed: ArmTiming, flush_rows: Sequence[dict] = ()) -> dict:
    """The checks of the harness, as numbers for the chapter's prose.

    ``position_max_dev``: the largest deviation of a position's mean relative
    time from 1 (:func:`position_effects`), and ``position_resolved``: how
    many positions' 95 % intervals exclude 1; ``subnormal_total`` and
    ``subnormal_max_per_million``: subnormal weights over all arms
    (:func:`subnormal_by_arm`); with ``flush_rows``
    (:func:`flush_denormal_check`), ``flush_ratio``/``flush_lo``/``flush_hi``
    (tokens/s with flush-to-zero on over off, 90 % t interval) and
    ``flush_verdict`` at +/-1 %; ``min_pass_s``: the shortest pooled pass.
    """
    from .timing import ratio_summary

    pos = position_effects(timed.rows)
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
