"""Phase (ii), multi-task: one shared encoder, one head per intermediate task (the ``multi`` arm).

Batches are drawn per task with probability proportional to the (capped)
dataset size (:func:`mixing_weights`, :func:`mixture_schedule`); each step
trains one task's batch through :class:`MultiTaskModel`. The final (not best)
encoder is saved under the lineage name ``multi`` (``runs/<profile>/multi/seed<k>``),
with the dev metric of every task in ``metrics.json``. Run directories,
resumes and cost rows work as in :mod:`helpers.training`.

torch and transformers are imported at the top: this module is only imported to train.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn
from transformers import AutoModel, set_seed
from transformers.trainer_utils import EvalPrediction

from . import costs, distributed, models, preprocess, recipes, runs
from .config import get_profile
from .errors import StudyError, check_choice
from .metrics import make_compute_metrics
from .tasks import get_task
from .trainer import (TrainResult, cached, freeze_embeddings, freeze_layers, load_data,
                      run_trainer, start_trainer, training_args, write_run)


def mixing_weights(sizes: Mapping[str, int], *, temperature: float = 1.0, cap: int | None = None) -> dict[str, float]:
    """Task sampling probabilities: ``min(n, cap) ** (1 / temperature)``, normalised.

    ``temperature`` 1 with no cap is examples-proportional mixing; a cap keeps
    a huge task (MNLI, QQP) from drowning the small ones, as in jiant's
    capped proportional sampling.
    """
    if not sizes:
        raise StudyError("multi-task training needs at least one task")
    if not temperature > 0:
        raise StudyError(f"temperature must be positive, got {temperature}")
    raw = {t: float(min(n, cap) if cap else n) ** (1.0 / temperature) for t, n in sizes.items()}
    if any(n <= 0 for n in sizes.values()):
        raise StudyError(f"every task needs training examples; sizes: {dict(sizes)}")
    total = sum(raw.values())
    return {t: v / total for t, v in raw.items()}


def mixture_schedule(sizes: Mapping[str, int], batch_size: int, steps: int, seed: int, *,
                     temperature: float = 1.0, cap: int | None = None) -> list[tuple[str, list[int]]]:
    """A deterministic list of (task, feature indices) batches for ``steps`` steps.

    Each step draws a task from :func:`mixing_weights`, then the next
    ``batch_size`` features of that task's shuffled order (reshuffled when
    exhausted).
    """
    weights = mixing_weights(sizes, temperature=temperature, cap=cap)
    rng = np.random.default_rng(seed)
    names = sorted(weights)
    probs = np.array([weights[t] for t in names])
    orders = {t: list(rng.permutation(sizes[t])) for t in names}
    cursor = {t: 0 for t in names}
    out = []
    for _ in range(steps):
        t = names[int(rng.choice(len(names), p=probs))]
        idx = []
        while len(idx) < min(batch_size, sizes[t]):
            if cursor[t] >= sizes[t]:
                orders[t] = list(rng.permutation(sizes[t]))
                cursor[t] = 0
            idx.append(int(orders[t][cursor[t]]))
            cursor[t] += 1
        out.append((t, idx))
    return out


class MultiTaskModel(nn.Module):
    """One shared encoder (``AutoModel``), one small head per task."""

    def __init__(self, encoder, heads: Mapping[str, tuple[str, int]]):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.kinds = {t: kind for t, (kind, _) in heads.items()}
        self.heads = nn.ModuleDict({t: nn.Sequential(nn.Dropout(0.1), nn.Linear(hidden, _outputs(kind, n)))
                                    for t, (kind, n) in heads.items()})

    def forward(self, task: str, input_ids, attention_mask, labels=None, start_positions=None,
                end_positions=None, token_type_ids=None):
        kind = self.kinds[task]
        shape = input_ids.shape
        if kind == "multiple-choice":
            input_ids = input_ids.view(-1, shape[-1])
            attention_mask = attention_mask.view(-1, shape[-1])
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        head = self.heads[task]
        ce = nn.CrossEntropyLoss(ignore_index=-100)
        if kind == "sequence-classification":
            logits = head(hidden[:, 0])
            loss = ce(logits, labels)
        elif kind == "multiple-choice":
            logits = head(hidden[:, 0]).view(shape[0], shape[1])
            loss = ce(logits, labels)
        elif kind == "token-classification":
            logits = head(hidden)
            loss = ce(logits.view(-1, logits.shape[-1]), labels.view(-1))
        else:
            logits = head(hidden)
            start, end = logits[..., 0], logits[..., 1]
            loss = (ce(start, start_positions) + ce(end, end_positions)) / 2
            logits = torch.stack([start, end])
        return {"loss": loss, "logits": logits}


def _outputs(kind: str, n: int) -> int:
    """Output units of a task head: one score per choice, start/end logits, or one per label."""
    return 1 if kind == "multiple-choice" else (2 if kind == "question-answering" else n)


class BatchList:
    """A map-style dataset whose items are whole pre-drawn batches: (task, features)."""

    def __init__(self, schedule, datasets_by_task):
        self.schedule = schedule
        self.data = datasets_by_task

    def __len__(self):
        return len(self.schedule)

    def __getitem__(self, i):
        task, idx = self.schedule[i]
        return {"task": task, "features": [self.data[task][j] for j in idx]}


def train_multitask(
    tasks: Sequence[str],
    *,
    profile: str,
    source,
    seed: int,
    temperature: float = 1.0,
    cap: int | None = 2**14,
    init: str | None = None,
    run_dir: Path | None = None,
    recipe: recipes.Recipe | None = None,
) -> TrainResult:
    """Phase (ii), multi-task: one shared encoder over ``tasks``; saves the encoder under ``multi``.

    Batches are drawn per task with probability proportional to
    ``min(size, cap) ** (1 / temperature)`` (:func:`mixing_weights`); the
    number of steps is ``epochs x sum(min(size, cap)) / batch``. The dev
    metric of every task is reported; the final (not best) encoder is kept.
    """
    check_choice("profile", profile, recipes.PROFILES)
    tasks = list(tasks)
    if len(tasks) < 1 or len(set(tasks)) != len(tasks):
        raise StudyError(f"multi-task training needs distinct tasks, got {tasks}")
    for t in tasks:
        check_choice("intermediate task", t, [x for x in recipes.INTERMEDIATE if x != "multi"])
    init = init or get_profile(profile).model
    r = dataclasses.replace(recipe or recipes.get_recipe(profile, "multi", "intermediate"), seed=seed)
    run_dir = distributed.claim(Path(run_dir) if run_dir else runs.lineage_dir("multi", None, seed, profile=profile))
    models.check_init(init)
    params = json.loads(json.dumps({
        "code": runs.code_digest(), "phase": "intermediate", "task": "multi", "tasks": tasks, "arm": "multi",
        "init": str(init),
        "profile": profile, "source": costs.source_id(source), "seed": seed, "temperature": temperature, "cap": cap,
        "recipe": r.as_dict(),
    }, default=str))
    what = f"intermediate multi ({', '.join(tasks)})"
    with distributed.run_lock(run_dir):  # one trainer per run directory, even across sweep jobs
        hit = cached(run_dir, params, "intermediate", "multi", "multi")
        if hit:
            return hit

        tokenizer = models.load_tokenizer(str(init))
        feats, devs, specs, heads = {}, {}, {}, {}
        for t in tasks:
            spec = get_task(t)
            fmt = spec.format
            labels = tuple(spec.labels) if spec.labels else None
            train_ex, dev_ex = load_data(source, (t, "train", "dev"), r)
            feats[t] = preprocess.encode(fmt, train_ex, tokenizer, r.max_length, train=True, label_names=labels,
                                         doc_stride=r.doc_stride)
            devs[t] = (dev_ex, labels)
            specs[t] = fmt
            heads[t] = (preprocess.HEAD_FOR_FORMAT[fmt], len(labels) if labels else 0)
        sizes = {t: len(feats[t]) for t in tasks}
        steps = max(1, math.ceil(r.epochs * sum(min(n, cap) if cap else n for n in sizes.values()) / r.batch_size))
        if r.max_steps:
            steps = min(steps, r.max_steps * r.grad_accum)
        schedule = mixture_schedule(sizes, r.batch_size, steps, seed, temperature=temperature, cap=cap)

        set_seed(seed)
        if models.is_checkpoint(init):
            encoder = models.from_saved(AutoModel, init)
        else:
            encoder = models.load_model(str(init), head="encoder")
        if r.freeze_embeddings:
            freeze_embeddings(encoder)
        freeze_layers(encoder, r.freeze_layers)
        model = MultiTaskModel(encoder, heads)
        collators = {t: preprocess.collator_for(specs[t], tokenizer) for t in tasks}

        def collate(items):
            (item,) = items
            batch = collators[item["task"]](item["features"])
            batch["task"] = item["task"]
            return batch

        rr = dataclasses.replace(r, batch_size=1, epochs=1, max_steps=None)
        work = distributed.work_dir(run_dir)
        distributed.open_work(work)
        args = training_args(rr, work / "checkpoints", metric=None, group=False)
        args.remove_unused_columns = False
        trainer, checkpoint, before, clock = start_trainer(args, what, model=model, data_collator=collate,
                                                           train_dataset=BatchList(schedule, feats))
        run_trainer(trainer, checkpoint, work)
        model = trainer.model
        dev_metrics = {t: dev_score(model, t, specs[t], devs[t], tokenizer, r) for t in tasks}
        dev_metrics["mean"] = float(np.mean([dev_metrics[t] for t in tasks]))
        first = schedule[0]
        batch = collators[first[0]]([feats[first[0]][j] for j in first[1]])
        step_flops = costs.count_flops(model, {**batch, "task": first[0]})
        step_tokens = int(batch["attention_mask"].sum())
        tokens = distributed.world_sum(trainer.tokens_seen - before["tokens"]) + before["tokens"]
        cost_row = costs.training_cost_row(
            profile=profile, arm="multi", phase="intermediate", task="multi", seed=seed,
            examples=sum(sizes.values()), tokens=tokens, steps=int(trainer.state.global_step), wall_s=clock(),
            flops=costs.scale_flops(step_flops, step_tokens, tokens), **costs.cost_identity(params, source),
        )

        def write(tmp: Path) -> None:
            models.save_trained(model.encoder, tmp, models.frozen_source(init))
            write_run(tmp, tokenizer, params, cost_row, {
                "dev": dev_metrics, "best_step": int(trainer.state.global_step),
                "weights": mixing_weights(sizes, temperature=temperature, cap=cap)})

        distributed.publish(run_dir, write)
        if distributed.is_main_process():
            costs.record_training_cost(cost_row)
        distributed.cleanup_work(work)
        return TrainResult(run_dir, "intermediate", "multi", "multi", dev_metrics, int(trainer.state.global_step),
                           cost_row, cached=False, params=params)


def dev_score(model, task, fmt, dev, tokenizer, r) -> float:
    """Dev metric (0-100) of one task of the multi-task model, through :func:`helpers.metrics.make_compute_metrics`."""
    dev_ex, labels = dev
    feats = preprocess.encode(fmt, dev_ex, tokenizer, r.max_length, train=True, label_names=labels,
                              doc_stride=r.doc_stride)
    collator = preprocess.collator_for(fmt, tokenizer)
    model.eval()
    preds, golds = [], []
    with torch.inference_mode():
        for idx in preprocess.iter_batches(range(len(feats)), 32):
            batch = collator([feats[i] for i in idx])
            out = model(task=task, **batch)
            logits = out["logits"]
            if fmt == "span-qa":
                preds.append(logits.float().numpy())
            else:
                preds.extend(list(logits.float().numpy()))
                golds.extend(list(batch["labels"].numpy()))
    model.train()
    if fmt == "span-qa":
        qa = preprocess.encode(fmt, dev_ex, tokenizer, r.max_length, train=False, doc_stride=r.doc_stride)
        width = max(p.shape[-1] for p in preds)
        start = np.concatenate([np.pad(p[0], ((0, 0), (0, width - p.shape[-1])), constant_values=-1e4) for p in preds])
        end = np.concatenate([np.pad(p[1], ((0, 0), (0, width - p.shape[-1])), constant_values=-1e4) for p in preds])
        compute = make_compute_metrics(fmt, dev_examples=dev_ex, dev_features={
            "example_id": list(qa["example_id"]), "offset_mapping": list(qa["offset_mapping"])})
        return compute(EvalPrediction(predictions=(start, end), label_ids=None))["f1"]
    if fmt == "tagging":
        width = max(len(p) for p in preds)
        p = np.stack([np.pad(x, ((0, width - len(x)), (0, 0))) for x in preds])
        g = np.stack([np.pad(x, (0, width - len(x)), constant_values=-100) for x in golds])
        return make_compute_metrics(fmt, label_names=labels)(EvalPrediction(predictions=p, label_ids=g))["f1"]
    return make_compute_metrics(fmt)(EvalPrediction(predictions=np.stack(preds), label_ids=np.array(golds)))["accuracy"]
