"""The transformers Trainer as the study runs it: counting, resumable, stopped by a non-finite loss.

- :class:`CountingTrainer` counts the real (non-pad) tokens and sequences of
  every training batch, stops with :class:`NonFiniteLoss` when the loss stops
  being finite, and leaves frozen parameters out of its checkpoints;
  :class:`CounterCheckpoint` saves those counters beside each checkpoint, so a
  resumed run reports the tokens (and FLOPs) of an uninterrupted one.
- :func:`start_trainer` resumes from the last complete checkpoint;
  :func:`training_args` maps a :class:`helpers.recipes.Recipe` onto
  ``TrainingArguments``.
- :class:`TrainResult`, :func:`cached` and :func:`load_data`: what single-task
  (:mod:`helpers.training`) and multi-task (:mod:`helpers.multitask`) training share.

torch and transformers are imported at the top: this module is only imported to train.
"""

from __future__ import annotations

import json
import shutil
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import get_last_checkpoint

from . import costs, recipes, runs, sources
from .distributed import cleanup_work
from .errors import StudyError


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced (or found cached)."""

    run_dir: Path
    phase: str
    task: str
    arm: str
    metrics: dict
    best_step: int | None
    cost: dict
    cached: bool = False
    params: dict = field(default_factory=dict)


def cached(run_dir: Path, params: dict, phase: str, task: str, arm: str) -> TrainResult | None:
    """The finished run in ``run_dir`` when it was trained with exactly ``params``; else ``None``."""
    path = run_dir / "params.json"
    if not (run_dir / "metrics.json").exists() or not path.exists():
        return None
    if runs.read_json(path) != json.loads(json.dumps(params, default=str)):
        return None
    metrics = runs.read_json(run_dir / "metrics.json")
    cost = runs.read_json(run_dir / "cost.json") if (run_dir / "cost.json").exists() else {}
    return TrainResult(run_dir, phase, task, arm, metrics.get("dev", {}), metrics.get("best_step"), cost,
                       cached=True, params=params)


# --------------------------------------------------------------------------- data
def load_examples(source, task: str, split: str, lang: str = "en") -> list[dict]:
    """Canonical examples from a source object (``load_examples`` method) or a source kind."""
    if hasattr(source, "load_examples"):
        return list(source.load_examples(task, split, lang))
    return list(sources.load_examples(task, split, lang, source))


def load_data(source, stage: tuple[str, str, str | None], recipe: recipes.Recipe) -> tuple[list[dict], list[dict]]:
    """The English (train, dev) examples of a stage, capped by the recipe.

    A dev split of ``None`` holds out the last tenth of the training data (at most
    ``max_dev_examples``), deterministically.
    """
    task, train_split, dev_split = stage
    train = load_examples(source, task, train_split)
    if not train:
        raise StudyError(f"task {task} has no English {train_split} examples in source {costs.source_id(source)}")
    if dev_split is None:  # hold out a deterministic slice of the training data
        n_dev = max(1, min(recipe.max_dev_examples or len(train), len(train) // 10))
        dev, train = train[-n_dev:], train[:-n_dev]
    else:
        dev = load_examples(source, task, dev_split)
    return _cap(train, recipe.max_train_examples), _cap(dev, recipe.max_dev_examples)


def _cap(examples: list[dict], limit: int | None) -> list[dict]:
    return examples if limit is None else examples[:limit]


# --------------------------------------------------------------------------- the Trainer
class NonFiniteLoss(StudyError):
    """Training diverged: the loss (or the trained weights) stopped being finite."""

    def __init__(self, what: str, step: int | None, value: float, learning_rate: float):
        where = f"at step {step}" if step is not None else "at the end of training"
        super().__init__(
            f"training {what} stopped {where}: the loss is {value} (not finite), so nothing was published; "
            f"the learning rate {learning_rate:g} is likely too large (or the data degenerate): it must be a "
            f"value that trains, e.g. the recipe's default"
        )


class CountingTrainer(Trainer):
    """Counts the real (non-pad) tokens and sequences of every training batch."""

    tokens_seen = 0
    examples_seen = 0
    study_what = "the run"  # named in the non-finite-loss message

    def training_step(self, model, inputs, num_items_in_batch=None):
        mask = inputs.get("attention_mask")
        if mask is not None:
            self.tokens_seen += int(mask.sum())
            self.examples_seen += int(mask.shape[0])
        loss = super().training_step(model, inputs, num_items_in_batch)
        if not bool(torch.isfinite(loss).all()):
            raise NonFiniteLoss(self.study_what, int(self.state.global_step) + 1, float(loss.float().mean()),
                                self.args.learning_rate)
        return loss

    def _save(self, output_dir=None, state_dict=None):
        """A checkpoint without the frozen parameters (the embedded profile's 96M-parameter embedding
        matrix: 384 of a checkpoint's 470 MB). A checkpoint is only ever loaded back into the model
        that wrote it (a resume, or the best epoch at the end), which still holds those parameters
        unchanged; the Trainer loads checkpoints non-strictly. Run directories leave them out too
        (:func:`helpers.models.save_trained`)."""
        if state_dict is None:
            model = self.accelerator.unwrap_model(self.model)
            frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
            if frozen:
                state_dict = {k: v for k, v in model.state_dict().items() if k not in frozen}
        return super()._save(output_dir, state_dict=state_dict)


class CounterCheckpoint(TrainerCallback):
    """Saves the token counters and elapsed time beside each checkpoint (for resumes)."""

    def __init__(self, trainer_ref, clock):
        self.trainer_ref = trainer_ref
        self.clock = clock

    def on_save(self, args, state, control, **kwargs):
        trainer = self.trainer_ref()
        path = Path(args.output_dir) / f"checkpoint-{state.global_step}" / "study_counters.json"
        if state.is_world_process_zero and path.parent.is_dir():
            runs.atomic_write_json(path, {"tokens": trainer.tokens_seen, "examples": trainer.examples_seen,
                                          "wall_s": self.clock()})


def start_trainer(args: TrainingArguments, what: str, **kwargs) -> tuple[CountingTrainer, str | None, dict, Callable]:
    """A quiet :class:`CountingTrainer` resuming from the last complete checkpoint under ``args.output_dir``.

    Returns the trainer, that checkpoint (``None``: a fresh start), the counters saved with it and
    the run's clock (seconds, the resumed run's earlier time included). ``what`` names the run in the
    non-finite-loss message.
    """
    checkpoint = last_checkpoint(Path(args.output_dir))
    before = resumed_counters(checkpoint)
    t0 = time.perf_counter()
    clock = lambda: before["wall_s"] + time.perf_counter() - t0  # noqa: E731
    trainer = CountingTrainer(args=args, **kwargs)
    trainer.remove_callback(PrinterCallback)  # no per-evaluation lines on stdout (metrics land in metrics.json)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(CounterCheckpoint(weakref.ref(trainer), clock))
    trainer.tokens_seen, trainer.examples_seen = before["tokens"], before["examples"]
    trainer.study_what = what
    return trainer, checkpoint, before, clock


def run_trainer(trainer: CountingTrainer, checkpoint: str | None, work: Path) -> None:
    """``trainer.train`` from ``checkpoint``; a diverged run removes its work directory and raises one line."""
    try:
        trainer.train(resume_from_checkpoint=checkpoint)
        bad = [n for n, p in trainer.model.named_parameters() if p.requires_grad and not bool(torch.isfinite(p).all())]
        if bad:
            raise NonFiniteLoss(trainer.study_what, None, float("nan"), trainer.args.learning_rate)
    except NonFiniteLoss:
        cleanup_work(work)
        raise


def training_args(recipe: recipes.Recipe, out: Path, *, metric: str | None, label_names=None,
                  group=True) -> TrainingArguments:
    """The recipe as ``TrainingArguments``: checkpoints under ``out``, the best one by ``metric`` kept."""
    strategy = "epoch" if recipe.eval_every == "epoch" else "steps"
    steps = recipe.eval_every if strategy == "steps" else None
    on_gpu = torch.cuda.is_available()
    kwargs = dict(
        output_dir=str(out),
        per_device_train_batch_size=recipe.batch_size,
        per_device_eval_batch_size=max(recipe.batch_size, 32),
        gradient_accumulation_steps=recipe.grad_accum,
        num_train_epochs=float(recipe.epochs),
        max_steps=recipe.max_steps or -1,
        learning_rate=recipe.learning_rate,
        warmup_steps=float(recipe.warmup_ratio),
        weight_decay=recipe.weight_decay,
        eval_strategy=strategy if metric else "no",
        save_strategy=strategy,
        logging_strategy="no",
        report_to="none",
        seed=recipe.seed,
        data_seed=recipe.seed,
        use_cpu=not on_gpu,
        bf16=recipe.bf16,
        # fused AdamW: one kernel for all parameters; on the 2-core AVX2 CPU an update of e5-small's
        # 21M trainable parameters takes 0.03 s instead of 0.09 s (the per-tensor loop)
        optim="adamw_torch_fused",
        disable_tqdm=True,
        dataloader_num_workers=0,
        save_only_model=False,
        train_sampling_strategy="group_by_length" if group else "sequential",
    )
    if steps:
        kwargs.update(eval_steps=steps, save_steps=steps)
    if metric:
        kwargs.update(load_best_model_at_end=True, metric_for_best_model=metric, greater_is_better=True,
                      save_total_limit=2)
    if label_names:
        kwargs["label_names"] = list(label_names)
    return TrainingArguments(**kwargs)


def last_checkpoint(out: Path) -> str | None:
    """The newest checkpoint that is complete, counters included.

    The Trainer writes a checkpoint, then our callback writes its token
    counters beside it; a kill between the two leaves a checkpoint without
    counters, which is removed so that the run resumes from the one before
    (otherwise the resumed run would report no tokens and no FLOPs).
    """
    if not out.is_dir():
        return None
    while True:
        last = get_last_checkpoint(str(out))
        if last is None or (Path(last) / "study_counters.json").exists():
            return last
        shutil.rmtree(last)


def resumed_counters(checkpoint: str | None) -> dict:
    if checkpoint and (Path(checkpoint) / "study_counters.json").exists():
        return runs.read_json(Path(checkpoint) / "study_counters.json")
    return {"tokens": 0, "examples": 0, "wall_s": 0.0}


def logged_eval(state, step: int | None, metric: str) -> dict | None:
    """The dev metrics the Trainer logged when it evaluated the selected checkpoint at ``step``.

    The model kept at the end is that checkpoint (``load_best_model_at_end``), so
    evaluating it again would only repeat the logged numbers.
    """
    for entry in reversed(state.log_history):
        if entry.get("step") == step and f"eval_{metric}" in entry:
            return {name: float(entry[f"eval_{name}"]) for name in (metric, "loss") if f"eval_{name}" in entry}
    return None


def best_step(state) -> int | None:
    if state.best_model_checkpoint:
        return int(str(state.best_model_checkpoint).rsplit("-", 1)[-1])
    return int(state.global_step)


# --------------------------------------------------------------------------- recipe pieces
def freeze_embeddings(model) -> None:
    model.get_input_embeddings().weight.requires_grad_(False)


def freeze_layers(model, k: int) -> None:
    """Freeze the lowest ``k`` transformer layers (their weights keep the initial values)."""
    if k <= 0:
        return
    base = getattr(model, "base_model", model)
    layers = base.encoder.layer
    if k > len(layers):
        raise StudyError(f"freeze_layers must be at most the {len(layers)} layers of the encoder, got {k}")
    for layer in layers[:k]:
        layer.requires_grad_(False)


def step_flops(model, collator, features, n: int) -> tuple[int, int]:
    """FLOPs and real tokens of one forward+backward on the first ``n`` features."""
    batch = collator([features[i] for i in range(min(n, len(features)))])
    was_training = model.training
    model.train()
    device = next(model.parameters()).device
    batch = {k: v.to(device) for k, v in batch.items()}
    try:
        flops = costs.count_flops(model, batch)
    finally:
        model.train(was_training)
        model.zero_grad(set_to_none=True)
    return flops, int(batch["attention_mask"].sum()) if torch.is_tensor(batch.get("attention_mask")) else 0


def write_run(tmp: Path, tokenizer, params: Mapping, cost_row: Mapping, metrics: Mapping) -> None:
    """The files of a finished run beside its weights: tokenizer, params, versions, cost, metrics."""
    tokenizer.save_pretrained(str(tmp))
    runs.atomic_write_json(tmp / "params.json", params)
    runs.atomic_write_json(tmp / "versions.json", runs.library_versions())
    runs.atomic_write_json(tmp / "cost.json", cost_row)
    runs.atomic_write_json(tmp / "metrics.json", metrics)
