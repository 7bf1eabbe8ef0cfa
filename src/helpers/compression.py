"""Accuracy under compression: each arm scored again in bf16 and dynamic int8 (as MLPerf requires), and why.

:func:`compression_scores` re-runs zero-shot evaluation of every arm in each
variant of :data:`COMPRESSIONS` and judges it by MLPerf Inference's rule (at
least 99 % of the fp32 score); :func:`compression_speed` times the variants;
:func:`module_precisions` and :func:`linear_input_outliers` show which modules
run in which precision and what int8 does to the inputs of every Linear layer.
torch is imported inside the functions (import cost).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import deployed, evaluation, generate, models, pipeline, sources, stats
from .config import StudyConfig
from .devices import cast, quantize_int8
from .errors import StudyError, check_choice, check_positive
from .metrics import primary_metric
from .runs import results_root, upsert_rows
from .timing import time_arms

#: The compressed variants scored again: ``int8`` is torch's dynamic quantisation of every Linear layer
#: (task head included); ``int8-mixed`` keeps the feed-forward blocks' Linear layers in fp32
#: (:func:`ffn_linear_names`), whose inputs carry the encoder's outlier dimensions.
COMPRESSIONS = ("fp32", "bf16", "int8", "int8-mixed")
#: MLPerf Inference's rule for a compressed model: at least 99 % of the fp32 score.
MLPERF_KEEP = 0.99
COMPRESSION_KEY = ("profile", "model", "source", "task", "arm", "dtype", "examples", "seed")
#: ``change``, ``change_lo``, ``change_hi``: the compressed score minus the same arm's fp32 score (points)
#: with its paired bootstrap 95 % interval over the same test items.
COMPRESSION_COLUMNS = COMPRESSION_KEY + ("metric", "languages", "value", "fp32_value", "keep", "mlperf_99",
                                         "change", "change_lo", "change_hi", "run_dir")
#: Test examples per language the compression check scores (at least 100, issue 12). The generated
#: benchmark's reference test files hold 64 per language; :func:`compression_source` reads a larger
#: test split from the same generator. ``smoke`` (a seconds-long check of the machinery) keeps its files.
COMPRESSION_EXAMPLES = 128


def compression_examples(profile: str) -> int | None:
    """Test examples per language the compression check scores in ``profile``; ``None``: every example."""
    return None if profile == "smoke" else COMPRESSION_EXAMPLES


def ffn_linear_names(model) -> list[str]:
    """The Linear modules of the encoder's feed-forward blocks (BERT / XLM-R names).

    In every layer ``intermediate.dense`` (hidden -> 4 x hidden) and the
    layer's ``output.dense`` (4 x hidden -> hidden), not the attention
    block's ``attention.output.dense``.
    """
    import torch

    pattern = re.compile(r"(^|\.)layer\.\d+\.(intermediate|output)\.dense$")
    return [name for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and pattern.search(name)]


def compress(model, variant: str):
    """A copy of fp32 ``model`` in one of :data:`COMPRESSIONS` (``fp32`` returns ``model`` itself)."""
    check_choice("compression", variant, COMPRESSIONS)
    if variant == "fp32":
        return model
    if variant == "int8-mixed":
        return quantize_int8(model, keep_fp32=ffn_linear_names(model))
    return cast(copy.deepcopy(model), variant)


def module_role(name: str) -> str:
    """What a module of a BERT / XLM-R model does, from its name (for the precision and outlier tables)."""
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


def _example_key(example: dict) -> str:
    """An example's content, without its position-dependent identifiers, as a comparable string."""
    return repr(sorted((k, repr(v)) for k, v in example.items() if k not in ("id", "idx", "guid")))


def compression_source(cfg: StudyConfig, task: str, per_language: int | None) -> tuple[sources.Source, int | None]:
    """The test files the compression check scores ``task`` on, and the limit per language to pass.

    ``per_language=None`` keeps the profile's own test files, every example.
    A directory or hub source scores the first ``per_language`` examples of
    each language's test file (all, where a file holds fewer). The generated
    ``embedded`` benchmark holds 64 test examples per language; for more, the
    check reads the benchmark that the same generator writes with
    ``per_language`` test examples per language (:func:`helpers.generate.embedded_root`).
    The generator draws every split from a seeded stream of its own, so that
    benchmark's training files are the ones the runs were trained on, and its
    test files hold every reference test example plus new ones drawn the same
    way. Both facts are checked here, for ``task``: a mismatch stops with one line.
    """
    source = cfg.data_source()
    if per_language is None:
        return source, None
    check_positive("per_language", per_language, integer=True)
    langs = list(cfg.test_languages(task))
    if source.kind != "embedded":
        return source, per_language
    ref_n = min(len(sources.load_examples(task, "test", lang, source)) for lang in langs)
    if per_language <= ref_n:
        return source, per_language
    larger = sources.Source("embedded", generate.embedded_root(n_test=per_language))
    for train_task, *splits in _training_stages(task):
        for split in filter(None, splits):
            if sources.load_examples(train_task, split, "en", source) != sources.load_examples(train_task, split, "en", larger):
                raise StudyError(f"the {per_language}-per-language benchmark's {train_task} {split} file differs from "
                                 f"the one the runs trained on ({source.root}); score compression on the reference "
                                 "test files (per_language=None)")
    for lang in langs:
        ref = {_example_key(ex) for ex in sources.load_examples(task, "test", lang, source)}
        new = {_example_key(ex) for ex in sources.load_examples(task, "test", lang, larger)}
        if not ref <= new:
            raise StudyError(f"the {per_language}-per-language {task} test file in {lang} lacks {len(ref - new)} of the "
                             "reference test examples; score compression on the reference test files (per_language=None)")
    return larger, None


def _training_stages(task: str) -> tuple[tuple[str, str, str | None], ...]:
    from .tasks import own_model_targets, target_stages

    return target_stages(task) if task in own_model_targets() else ()


def compression_scores(cfg: StudyConfig, tasks: Sequence[str], dtypes: Sequence[str] = ("fp32", "int8", "int8-mixed"),
                       limit: int | None = None, direct_only: Sequence[str] = (), *,
                       source: sources.Source | None = None, n_boot: int = 2000) -> pd.DataFrame:
    """Zero-shot score of every arm in each compressed variant, scored again (as MLPerf requires).

    ``dtypes`` are :data:`COMPRESSIONS` and must include ``fp32``, the
    reference. ``limit``: test examples per language; ``None`` scores every
    example of the test files. ``source``: the test files (default: the
    profile's; :func:`compression_source` gives a larger held-out set). One
    row per (task, arm, dtype): the primary metric averaged over the task's
    test languages, ``examples`` (per language: the smallest count scored),
    the fp32 score of the same arm and examples, ``keep`` and the MLPerf
    verdict (:func:`mlperf_verdicts`), and ``change`` with its paired
    bootstrap 95 % interval (``n_boot`` replicates resampling the same test
    items for both variants, :func:`helpers.stats.paired_bootstrap_gain`):
    whether the data can tell the compressed score from the fp32 one.
    """
    for dt in dtypes:
        check_choice("compression", dt, COMPRESSIONS)
    if "fp32" not in dtypes:
        raise StudyError("dtypes must include fp32, the reference each compressed score is compared with; "
                         f"valid: {', '.join(COMPRESSIONS)}")
    if limit is not None:
        check_positive("limit", limit, integer=True)
    check_positive("n_boot", n_boot, integer=True)
    tokenizer = models.load_tokenizer(cfg.model)
    source = source if source is not None else cfg.data_source()
    source_id = pipeline.source_id(cfg)
    rows, items = [], {}
    for task in tasks:
        metric = primary_metric(task)
        langs = list(cfg.test_languages(task))
        examples = min(len(sources.load_examples(task, "test", lang, source, limit=limit)) for lang in langs)
        for arm in cfg.arms:
            base = deployed.load_arm_model(cfg, arm, task).float().eval()
            _, run_dir = pipeline.arm_model(cfg, arm, task)
            for dt in dtypes:
                if dt in direct_only and arm != "direct":
                    continue
                scored = items.setdefault((task, arm, dt), [])
                scores = evaluation.evaluate_zero_shot(
                    compress(base, dt), task, langs, source, arm=arm,
                    intermediate=None if arm == "direct" else arm, profile=cfg.profile, seed=cfg.seed,
                    run_dir=run_dir, max_length=pipeline.eval_max_length(cfg, task), limit=limit,
                    tokenizer=tokenizer, doc_stride=pipeline.eval_doc_stride(cfg, task),
                    model_name=cfg.model, source_id=source_id, items=scored)
                values = [r["value"] for r in scores if r["metric"] == metric]
                rows.append({"profile": cfg.profile, "model": cfg.model, "source": source_id, "task": task,
                             "arm": arm, "dtype": dt, "examples": examples, "seed": cfg.seed, "metric": metric,
                             "languages": len(values), "value": sum(values) / len(values), "run_dir": run_dir})
    for row in rows:
        if row["dtype"] == "fp32":
            row.update(change=0.0, change_lo=0.0, change_hi=0.0)
            continue
        key = (row["task"], row["arm"])
        gain = stats.paired_bootstrap_gain(items[(*key, row["dtype"])], items[(*key, "fp32")], row["task"], n_boot=n_boot)
        row.update(change=gain.gain, change_lo=gain.lo, change_hi=gain.hi)
    return pd.DataFrame(mlperf_verdicts(rows), columns=list(COMPRESSION_COLUMNS))


def record_compression(frame: pd.DataFrame, path: Path | None = None) -> Path:
    """Upsert :func:`compression_scores` rows into ``results/compression.csv`` (key :data:`COMPRESSION_KEY`)."""
    target = Path(path) if path else results_root() / "compression.csv"
    return upsert_rows(target, frame.to_dict("records"), key=COMPRESSION_KEY, columns=COMPRESSION_COLUMNS)


def compression_speed(cfg: StudyConfig, task: str, dtypes: Sequence[str], *, examples: int = 64,
                      batch_size: int = 16, repeats: int = 3) -> list[dict]:
    """Tokens/s of the direct arm's deployed model in each variant of ``dtypes``, interleaved (CPU).

    Rows as :func:`helpers.timing.time_arms` writes them, ``sweep="compression"``
    and ``arm`` the variant; they go to ``results/inference.csv``.
    """
    for dt in dtypes:
        check_choice("compression", dt, COMPRESSIONS)
    base = deployed.load_arm_model(cfg, "direct", task).float().eval()
    batches = deployed.task_inputs(cfg, task, models.load_tokenizer(cfg.model), examples=examples, batch_size=batch_size)
    variants = {dt: compress(base, dt) for dt in dtypes}
    return time_arms(variants, batches, repeats=repeats, warmup=1, device="cpu", dtype=None, order="balanced",
                     seed=cfg.seed, labels={"sweep": "compression", "profile": cfg.profile, "task": task,
                                            "language": "all", "padding": "bucketed", "seed": cfg.seed})
