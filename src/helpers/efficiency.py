"""The inference-efficiency chapter's measurements, built on :mod:`helpers.timing`.

Every arm of a task is loaded as it would be deployed (the fine-tuned model with
its task head; for retrieval tasks the arm's encoder), fed the task's real test
inputs in every language (encoded by :mod:`helpers.preprocess` exactly as in
evaluation, length-bucketed), and timed interleaved with the other arms in this
process. Rows go to ``results/inference.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import pandas as pd

from .config import StudyConfig
from .errors import check_positive

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def load_arm_model(cfg: StudyConfig, arm: str, task: str):
    """The deployed model of ``arm`` on ``task`` (fine-tuned head, or the encoder for retrieval)."""
    from . import pipeline
    from .evaluation import saved_model_dir
    from .models import load_model
    from .preprocess import HEAD_FOR_FORMAT
    from .tasks import get_task
    from .training import RETRIEVAL

    path, _ = pipeline.arm_model(cfg, arm, task)
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
                     labels={"sweep": "arms", "profile": cfg.profile, "task": task, "language": "all",
                             "padding": "bucketed", "seed": cfg.seed})


def pooled_rows(rows: Sequence[dict]) -> list[dict]:
    """Sum seconds and tokens over tasks per (arm, repetition): one workload of every task.

    Arms ran interleaved within each task and repetition, so the sums stay
    paired by repetition index.
    """
    acc: dict[tuple, dict] = {}
    for r in rows:
        key = (r["arm"], int(r["repetition"]))
        a = acc.setdefault(key, {"sweep": "pooled", "arm": r["arm"], "repetition": int(r["repetition"]),
                                 "seconds": 0.0, "tokens": 0, "sequences": 0})
        a["seconds"] += float(r["seconds"])
        a["tokens"] += int(r["tokens"])
        a["sequences"] += int(r["sequences"])
    out = []
    for a in acc.values():
        a["tokens_per_s"] = a["tokens"] / a["seconds"]
        a["sequences_per_s"] = a["sequences"] / a["seconds"]
        out.append(a)
    return out


def ratio_table(rows: Sequence[dict], by: Sequence[str]) -> pd.DataFrame:
    """STILTs/direct throughput ratios with bootstrap CI and the TOST verdict at +/-2%."""
    from .timing import ratio_summary

    table = pd.DataFrame(ratio_summary(list(rows), "direct", by=tuple(by)))
    return table[table["arm"] != "direct"].reset_index(drop=True) if len(table) else table


def compression_scores(cfg: StudyConfig, tasks: Sequence[str], dtypes: Sequence[str] = ("fp32", "bf16", "int8"),
                       limit: int = 12) -> pd.DataFrame:
    """Zero-shot score of every arm at each precision (scored again, as MLPerf requires)."""
    import copy

    from . import evaluation, pipeline
    from .metrics import primary_metric
    from .models import load_tokenizer
    from .timing import cast

    tokenizer = load_tokenizer(cfg.model)
    rows = []
    for task in tasks:
        metric = primary_metric(task)
        for arm in cfg.arms:
            base = load_arm_model(cfg, arm, task).float().eval()
            _, run_dir = pipeline.arm_model(cfg, arm, task)
            for dt in dtypes:
                model = base if dt == "fp32" else cast(copy.deepcopy(base), dt)
                scores = evaluation.evaluate_zero_shot(
                    model, task, list(cfg.test_languages(task)), cfg.data_source(), arm=arm,
                    intermediate=None if arm == "direct" else arm, profile=cfg.profile, seed=cfg.seed,
                    run_dir=run_dir, max_length=pipeline.eval_max_length(cfg, task), limit=limit,
                    tokenizer=tokenizer, doc_stride=pipeline.eval_doc_stride(cfg, task))
                values = [r["value"] for r in scores if r["metric"] == metric]
                rows.append({"task": task, "arm": arm, "dtype": dt, "metric": metric,
                             "value": sum(values) / len(values)})
    return pd.DataFrame(rows)
