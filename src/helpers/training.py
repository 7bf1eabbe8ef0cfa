"""Phase (ii) and (iii) training with the transformers Trainer.

- :func:`train_target` (phase iii): the English training data of an XTREME-R
  task, from a pretrained preset (``direct`` arm) or from an intermediate
  checkpoint (STILTs arms: the encoder is transferred, the head is new).
- :func:`train_intermediate` (phase ii): one English intermediate task; the
  encoder (without its head) is saved for transfer.
- :func:`train_multitask` (phase ii): one shared encoder, one head per task,
  batches drawn per task with probability proportional to the (capped)
  dataset size; saved under the lineage name ``multi``.

Run directories (``helpers.runs.lineage_dir``) are complete or absent: the
model is built in ``<run_dir>.work`` (Trainer checkpoints in
``<run_dir>.work/checkpoints``, so a killed run resumes from its last
checkpoint and ends with the metrics of an uninterrupted one) and renamed
into place. A finished run holds ``model.safetensors`` + ``config.json``, the
tokenizer, ``params.json`` (resolved recipe and arguments), ``versions.json``,
``metrics.json`` (dev metrics, best step) and ``cost.json``; its training-cost
row goes to ``results/training_cost.csv``. Calling again with the same
parameters returns the cached result without training.

Run directories are keyed by profile (``runs/<profile>/<lineage>/seed<k>``),
so a smoke run never replaces the embedded run of the same lineage. A run
directory given explicitly (``run_dir=``, ``--run-dir``) must be new, empty or
one the study created (it holds ``helpers.runs.OWNER_MARKER``); any other
folder is refused with one line before anything is written, never emptied.
A loss that stops being finite ends the run with one line naming the step;
nothing is published (no run directory, no cost row). Non-finite recipe
values are refused before training (:meth:`helpers.recipes.Recipe.validate`).
Run by hand, the command line writes its cost rows to the private tables of
:func:`helpers.runs.results_root` unless ``STUDY_RESULTS_DIR`` is set.

Command line (also under ``accelerate launch --num_processes 2 --cpu``)::

    python -m helpers.training target --task xnli --arm direct --profile smoke --seed 1
    python -m helpers.training intermediate --task mnli --profile smoke --seed 1
    python -m helpers.training multi --tasks mnli,squad,hellaswag --profile embedded --seed 1
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from . import costs, models, preprocess, recipes, runs
from .errors import StudyError, check_choice, run_cli
from .models import AUTO_CLASSES

# --------------------------------------------------------------------------- what trains on what
#: English training data of each target (phase iii): stages of (data task, train split, dev split).
#: XCOPA trains on SIQA, then COPA (XTREME-R); the small profiles skip SIQA. XQuAD and MLQA share
#: one SQuAD v1.1 model (trained under the name ``xquad``). A dev split of ``None`` holds out
#: a slice of the training data (TyDiQA-GoldP's English dev set is its test set).
TARGET_DATA = {
    "xnli": (("xnli", "train", "dev"),),
    "xcopa": (("siqa", "train", "dev"), ("copa", "train", "dev")),
    "udpos": (("udpos", "train", "dev"),),
    "panx": (("panx", "train", "dev"),),
    "xquad": (("squad", "train", "dev"),),
    "tydiqa": (("tydiqa", "train", None),),
}
# Run directories are reused when their resolved parameters match. This revision is one of them: it
# is bumped when a change to this module changes what a run learns or which checkpoint it keeps, so
# that runs trained by the earlier code are trained again instead of reused.
# 2: span-QA dev F1 from the evaluation's n-best search (max-context rule) and metrics.qa_scores.
TRAINING_REVISION = 2

SHARED_TARGET = {"mlqa": "xquad"}  # targets evaluated with another target's model
RETRIEVAL = ("tatoeba", "lareqa", "mewslix")
TRAINABLE_TARGETS = tuple(TARGET_DATA) + tuple(SHARED_TARGET)
SIQA_PROFILES = ("xtreme-dir", "full")
HEAD_CLASSES = {head: cls for head, cls in AUTO_CLASSES.items() if head != "encoder"}  # the task heads


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


# --------------------------------------------------------------------------- collaborators
def _spec(task: str):
    """The task's registry entry (format, labels, metric)."""
    from .tasks import get_task

    return get_task(task)


def _load_examples(source, task: str, split: str, lang: str = "en") -> list[dict]:
    if hasattr(source, "load_examples"):
        return list(source.load_examples(task, split, lang))
    from .sources import load_examples

    return list(load_examples(task, split, lang, source))


def _source_id(source) -> str:
    if isinstance(source, str):
        return source
    for attr in ("describe", "name", "kind"):
        value = getattr(source, attr, None)
        if callable(value):
            value = value()
        if value:
            root = getattr(source, "root", None)
            return f"{value}:{root}" if root else str(value)
    return type(source).__name__


def source_identity(source) -> str:
    """What identifies a data source in the results tables, the same on every machine.

    ``embedded`` and ``hub`` name themselves (the generated benchmark is a
    function of the code); a directory source adds a digest of its file names
    and sizes (``xtreme-dir:3f2a...``), so two data directories never share rows.
    """
    kind = getattr(source, "kind", None) or getattr(source, "name", None) or _source_id(source)
    root = getattr(source, "root", None)
    if kind in ("embedded", "hub") or root is None:
        return str(kind)
    from .sources import source_fingerprint

    return f"{kind}:{source_fingerprint(Path(root))}"


def _is_checkpoint(init: str | os.PathLike) -> bool:
    return Path(init).is_dir() and (Path(init) / "config.json").exists()


def load_tokenizer(init: str | os.PathLike):
    """The tokenizer of a preset name or of a saved run directory."""
    if _is_checkpoint(init):
        from .models import tokenizer_from_dir

        return tokenizer_from_dir(init)
    from .models import load_tokenizer as preset_tokenizer

    return preset_tokenizer(str(init))


def load_model(init: str | os.PathLike, head: str, num_labels: int | None = None):
    """A model with a new ``head`` on the encoder of a preset or a saved run directory."""
    check_choice("head", head, HEAD_CLASSES)
    if head == "question-answering":
        num_labels = 2  # start and end logits, whatever head the checkpoint's config last described
    if _is_checkpoint(init):
        import transformers

        from .models import from_saved

        cls = getattr(transformers, HEAD_CLASSES[head])
        kwargs = {"num_labels": num_labels} if num_labels else {}
        try:
            return from_saved(cls, init, **kwargs)
        except Exception as exc:  # a truncated or corrupt checkpoint: one clear line
            weights = Path(init) / "model.safetensors"
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            raise StudyError(f"cannot load the checkpoint {weights} ({type(exc).__name__}: {first}); "
                             f"delete {init} and rerun the training that wrote it") from None
    from .models import load_model as preset_model

    return preset_model(str(init), head=head, num_labels=num_labels)


# --------------------------------------------------------------------------- data
def _cap(examples: list[dict], limit: int | None) -> list[dict]:
    return examples if limit is None else examples[:limit]


def _data(source, stage: tuple[str, str, str | None], recipe: recipes.Recipe) -> tuple[list[dict], list[dict]]:
    task, train_split, dev_split = stage
    train = _load_examples(source, task, train_split)
    if not train:
        raise StudyError(f"task {task} has no English {train_split} examples in source {_source_id(source)}")
    if dev_split is None:  # hold out a deterministic slice of the training data
        n_dev = max(1, min(recipe.max_dev_examples or len(train), len(train) // 10))
        dev, train = train[-n_dev:], train[:-n_dev]
    else:
        dev = _load_examples(source, task, dev_split)
    return _cap(train, recipe.max_train_examples), _cap(dev, recipe.max_dev_examples)


# --------------------------------------------------------------------------- dev metrics
def _metric_name(fmt: str) -> str:
    return "f1" if fmt in ("tagging", "span-qa") else "accuracy"


def make_compute_metrics(fmt: str, *, label_names=None, dev_examples=None, dev_features=None):
    """A ``compute_metrics`` for the Trainer: accuracy, seqeval F1 (tagging) or SQuAD F1 (QA), 0-100.

    These select the best checkpoint on the English dev set. QA answers come
    from the zero-shot evaluation's n-best search
    (:func:`helpers.evaluation.extract_answers`) and are scored with
    :func:`helpers.metrics.qa_scores`, so a checkpoint is selected by the
    metric it is reported with.
    """

    def compute(pred) -> dict[str, float]:
        predictions, labels = pred.predictions, pred.label_ids
        if fmt == "span-qa":  # the zero-shot evaluation's n-best extraction and SQuAD F1
            from .evaluation import extract_answers
            from .metrics import qa_scores

            features = [{"example_id": eid, "offset_mapping": offsets}
                        for eid, offsets in zip(dev_features["example_id"], dev_features["offset_mapping"])]
            answers = extract_answers(dev_examples, features, predictions[0], predictions[1])
            return {"f1": qa_scores([answers[str(ex["id"])] for ex in dev_examples], dev_examples)["f1"]}
        if isinstance(predictions, tuple):
            predictions = predictions[0]
        ids = np.asarray(predictions).argmax(-1)
        labels = np.asarray(labels)
        if fmt == "tagging":
            import warnings

            from seqeval.metrics import f1_score

            gold, guess = [], []
            for row_pred, row_gold in zip(ids, labels):
                keep = row_gold != -100
                gold.append([label_names[i] for i in row_gold[keep]])
                guess.append([label_names[i] for i in row_pred[keep]])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return {"f1": 100.0 * float(f1_score(gold, guess))}
        return {"accuracy": 100.0 * float(np.mean(ids == labels))}

    return compute


# --------------------------------------------------------------------------- trainer pieces
class NonFiniteLoss(StudyError):
    """Training diverged: the loss (or the trained weights) stopped being finite."""

    def __init__(self, what: str, step: int | None, value: float, learning_rate: float):
        where = f"at step {step}" if step is not None else "at the end of training"
        super().__init__(
            f"training {what} stopped {where}: the loss is {value} (not finite), so nothing was published; "
            f"the learning rate {learning_rate:g} is likely too large (or the data degenerate): it must be a "
            f"value that trains, e.g. the recipe's default"
        )


def _train(trainer, checkpoint, work: Path) -> None:
    """``trainer.train`` from ``checkpoint``; a diverged run removes its work directory and raises one line."""
    import torch

    try:
        trainer.train(resume_from_checkpoint=checkpoint)
        bad = [n for n, p in trainer.model.named_parameters() if p.requires_grad and not bool(torch.isfinite(p).all())]
        if bad:
            raise NonFiniteLoss(trainer.study_what, None, float("nan"), trainer.args.learning_rate)
    except NonFiniteLoss:
        _cleanup_work(work)
        raise


def _claim(run_dir: Path) -> Path:
    """Check, before anything is written, that the run directory and its work directory are the study's.

    ``run_dir`` must be new, empty or created by the study (:func:`helpers.runs.check_replaceable`);
    ``<run_dir>.work`` must be new or hold the study's marker (or only the stage and checkpoint
    folders that training writes there). Only the main process checks: in a data-parallel run the
    other ranks would race rank 0 while it creates and marks the work directory.
    """
    if not _is_main_process():
        return run_dir
    runs.check_replaceable(run_dir, "run directory")
    work = Path(str(run_dir) + ".work")
    if work.exists() and not runs.is_owned(work):
        ours = work.is_dir() and all(p.name == "checkpoints" or p.name.startswith("stage") for p in work.iterdir())
        if not ours:
            raise StudyError(f"work directory {work} of run directory {run_dir} exists and was not created by the "
                             f"study; it is left as it is: expected no such folder, or one the study created; "
                             f"nothing was written")
    return run_dir


def _open_work(work: Path) -> None:
    if _is_main_process():
        work.mkdir(parents=True, exist_ok=True)
        if not runs.is_owned(work):
            runs.mark_owned(work, "work")


def _trainer_classes():
    import torch
    from transformers import Trainer, TrainerCallback

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

    return CountingTrainer, CounterCheckpoint


def _training_args(recipe: recipes.Recipe, out: Path, *, metric: str | None, label_names=None, group=True):
    import torch
    from transformers import TrainingArguments

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


def _last_checkpoint(out: Path) -> str | None:
    """The newest checkpoint that is complete, counters included.

    The Trainer writes a checkpoint, then our callback writes its token
    counters beside it; a kill between the two leaves a checkpoint without
    counters, which is removed so that the run resumes from the one before
    (otherwise the resumed run would report no tokens and no FLOPs).
    """
    if not out.is_dir():
        return None
    import shutil

    from transformers.trainer_utils import get_last_checkpoint

    while True:
        last = get_last_checkpoint(str(out))
        if last is None or (Path(last) / "study_counters.json").exists():
            return last
        shutil.rmtree(last)


def _resumed_counters(checkpoint: str | None) -> dict:
    if checkpoint and (Path(checkpoint) / "study_counters.json").exists():
        return runs.read_json(Path(checkpoint) / "study_counters.json")
    return {"tokens": 0, "examples": 0, "wall_s": 0.0}


def _world_sum(value: int) -> int:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        import torch

        t = torch.tensor([value], dtype=torch.long)
        dist.all_reduce(t)
        return int(t.item())
    return int(value)


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _run_lock(run_dir: Path):
    """The run directory's lock, taken by rank 0 only.

    Ranks of one distributed job train the same run together: if every rank took the exclusive lock,
    rank 1 would wait on it while rank 0 waits for rank 1 in the first collective, forever.
    """
    return runs.file_lock(run_dir) if _is_main_process() else contextlib.nullcontext()


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def _quiet(trainer) -> None:
    """No per-evaluation log lines on stdout (the metrics land in metrics.json)."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def _freeze_embeddings(model) -> None:
    model.get_input_embeddings().weight.requires_grad_(False)


def _freeze_layers(model, k: int) -> None:
    """Freeze the lowest ``k`` transformer layers (their weights keep the initial values)."""
    if k <= 0:
        return
    base = getattr(model, "base_model", model)
    layers = base.encoder.layer
    if k > len(layers):
        raise StudyError(f"freeze_layers must be at most the {len(layers)} layers of the encoder, got {k}")
    for layer in layers[:k]:
        layer.requires_grad_(False)


def _set_seed(seed: int) -> None:
    from transformers import set_seed

    set_seed(seed)


def _step_flops(model, collator, features, n: int) -> tuple[int, int]:
    """FLOPs and real tokens of one forward+backward on the first ``n`` features."""
    import torch

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


# --------------------------------------------------------------------------- run directories
def _params_match(run_dir: Path, params: Mapping) -> bool:
    path = run_dir / "params.json"
    if not (run_dir / "metrics.json").exists() or not path.exists():
        return False
    return runs.read_json(path) == json.loads(json.dumps(params, default=str))


def _cached(run_dir: Path, params: dict, phase: str, task: str, arm: str) -> TrainResult | None:
    if not _params_match(run_dir, params):
        return None
    metrics = runs.read_json(run_dir / "metrics.json")
    cost = runs.read_json(run_dir / "cost.json") if (run_dir / "cost.json").exists() else {}
    return TrainResult(run_dir, phase, task, arm, metrics.get("dev", {}), metrics.get("best_step"), cost,
                       cached=True, params=params)


def _publish(run_dir: Path, write) -> None:
    """Build the run directory with ``write(tmp_dir)`` and rename it into place (rank 0 only)."""
    if _is_main_process():
        with runs.atomic_directory(run_dir) as tmp:
            write(tmp)
    _barrier()


def _cleanup_work(work: Path) -> None:
    if _is_main_process():
        shutil.rmtree(work, ignore_errors=True)


def _save_encoder_only(model, out: Path, preset: str | None) -> None:
    """Save the encoder of a task model (no head) as a standalone base model (frozen parameters left out)."""
    base = getattr(model, getattr(model, "base_model_prefix", ""), None) or model.base_model
    models.save_trained(base, out, preset)


# --------------------------------------------------------------------------- single-task training
def _train_single(
    *,
    phase: str,
    task: str,
    arm: str,
    lineage: tuple[str | None, str | None],
    stages: Sequence[tuple[str, str, str | None]],
    init: str,
    profile: str,
    source,
    seed: int,
    run_dir: Path | None,
    recipe: recipes.Recipe | None,
    encoder_only: bool,
) -> TrainResult:
    run_dir = _claim(Path(run_dir) if run_dir else runs.lineage_dir(lineage[0], lineage[1], seed, profile=profile))
    stage_recipes = [
        dataclasses.replace(recipe or recipes.get_recipe(profile, st[0] if len(stages) > 1 else task, phase), seed=seed)
        for st in stages
    ]
    params = {
        "revision": TRAINING_REVISION,
        "phase": phase,
        "task": task,
        "arm": arm,
        "init": str(init),
        "profile": profile,
        "source": _source_id(source),
        "seed": seed,
        "stages": [list(st) for st in stages],
        "recipes": [r.as_dict() for r in stage_recipes],
    }
    params = json.loads(json.dumps(params, default=str))
    with _run_lock(run_dir):  # one trainer per run directory, even across sweep jobs
        hit = _cached(run_dir, params, phase, task, arm)
        if hit:
            return hit

        work = Path(str(run_dir) + ".work")
        _open_work(work)
        current_init = str(init)
        frozen_from = models.frozen_source(init)  # the preset that holds the frozen parameters
        total = {"tokens": 0, "examples": 0, "steps": 0, "wall_s": 0.0, "flops": 0}
        dev_metrics: dict = {}
        best_step = None
        tokenizer = load_tokenizer(init)
        model = None
        for k, (stage, stage_recipe) in enumerate(zip(stages, stage_recipes)):
            data_task = stage[0]
            spec = _spec(data_task)
            fmt = spec.format
            label_names = tuple(spec.labels) if getattr(spec, "labels", None) else None
            head = preprocess.HEAD_FOR_FORMAT[fmt]
            stage_dir = work / f"stage{k}-{data_task}"
            final_dir = stage_dir / "final"
            if (final_dir / "stage.json").exists():  # a finished stage of a multi-stage run
                info = runs.read_json(final_dir / "stage.json")
                for key in total:
                    total[key] += info["cost"][key]
                dev_metrics, best_step, current_init = info["dev"], info["best_step"], str(final_dir)
                continue
            train_ex, dev_ex = _data(source, stage, stage_recipe)
            r = stage_recipe
            train_ds = preprocess.encode(fmt, train_ex, tokenizer, r.max_length, train=True,
                                         label_names=label_names, doc_stride=r.doc_stride)
            dev_ds = preprocess.encode(fmt, dev_ex, tokenizer, r.max_length, train=True,
                                       label_names=label_names, doc_stride=r.doc_stride)
            dev_feats = None
            if fmt == "span-qa":
                dev_feats = preprocess.encode(fmt, dev_ex, tokenizer, r.max_length, train=False, doc_stride=r.doc_stride)
                dev_feats = {"example_id": list(dev_feats["example_id"]), "offset_mapping": list(dev_feats["offset_mapping"])}
            n_labels = len(label_names) if label_names and head != "multiple-choice" else None
            _set_seed(r.seed)
            model = load_model(current_init, head, n_labels)
            if r.freeze_embeddings:
                _freeze_embeddings(model)
            _freeze_layers(model, r.freeze_layers)
            metric = _metric_name(fmt)
            collator = preprocess.collator_for(fmt, tokenizer)
            args = _training_args(r, stage_dir / "checkpoints", metric=metric,
                                  label_names=["start_positions", "end_positions"] if fmt == "span-qa" else None)
            CountingTrainer, CounterCheckpoint = _trainer_classes()
            checkpoint = _last_checkpoint(stage_dir / "checkpoints")
            before = _resumed_counters(checkpoint)
            t0 = time.perf_counter()
            clock = lambda: before["wall_s"] + time.perf_counter() - t0  # noqa: E731
            trainer = CountingTrainer(
                model=model,
                args=args,
                data_collator=collator,
                train_dataset=train_ds,
                eval_dataset=dev_ds,  # no processing_class: the collator is given, and checkpoints need no tokenizer
                compute_metrics=make_compute_metrics(fmt, label_names=label_names, dev_examples=dev_ex,
                                                     dev_features=dev_feats),
            )
            import weakref

            _quiet(trainer)
            trainer.add_callback(CounterCheckpoint(weakref.ref(trainer), clock))
            trainer.tokens_seen, trainer.examples_seen = before["tokens"], before["examples"]
            trainer.study_what = f"{phase} {data_task} ({arm})"
            _train(trainer, checkpoint, work)
            model = trainer.model
            state = trainer.state
            best_step = _best_step(state)
            dev_metrics = _logged_eval(state, best_step, metric)
            if dev_metrics is None:  # no evaluation was logged at the selected step: evaluate now
                dev_metrics = {k.removeprefix("eval_"): float(v) for k, v in trainer.evaluate().items()
                               if k.removeprefix("eval_") in (metric, "loss")}
            step_flops, step_tokens = _step_flops(model, collator, train_ds, r.batch_size)
            tokens = _world_sum(trainer.tokens_seen - before["tokens"]) + before["tokens"]
            stage_cost = {
                "tokens": tokens,
                "examples": len(train_ex),
                "steps": int(state.global_step),
                "wall_s": float(clock()),
                "flops": costs.scale_flops(step_flops, step_tokens, tokens) if step_tokens else 0,
            }
            for key in total:
                total[key] += stage_cost[key]
            if k < len(stages) - 1:  # keep this stage's model as the next stage's init
                if _is_main_process():
                    with runs.atomic_directory(final_dir) as tmp:
                        model.save_pretrained(str(tmp))
                        tokenizer.save_pretrained(str(tmp))
                        runs.atomic_write_json(tmp / "stage.json", {"cost": stage_cost, "dev": dev_metrics,
                                                                    "best_step": best_step})
                _barrier()
                current_init = str(final_dir)

        cost_row = costs.training_cost_row(
            profile=profile, arm=arm, phase=phase, task=task, seed=seed, examples=total["examples"],
            tokens=total["tokens"], steps=total["steps"], wall_s=total["wall_s"], flops=total["flops"],
            **_cost_identity(params, source),
        )

        def write(tmp: Path) -> None:
            if encoder_only:
                _save_encoder_only(model, tmp, frozen_from)
            else:
                models.save_trained(model, tmp, frozen_from)
            tokenizer.save_pretrained(str(tmp))
            runs.atomic_write_json(tmp / "params.json", params)
            runs.atomic_write_json(tmp / "versions.json", runs.library_versions())
            runs.atomic_write_json(tmp / "cost.json", cost_row)
            runs.atomic_write_json(tmp / "metrics.json", {"dev": dev_metrics, "best_step": best_step,
                                                          "metric": _metric_name(_spec(stages[-1][0]).format)})

        _publish(run_dir, write)
        if _is_main_process():
            costs.record_training_cost(cost_row)
        _cleanup_work(work)
        return TrainResult(run_dir, phase, task, arm, dev_metrics, best_step, cost_row, cached=False, params=params)


def _logged_eval(state, step: int | None, metric: str) -> dict | None:
    """The dev metrics the Trainer logged when it evaluated the selected checkpoint at ``step``.

    The model kept at the end is that checkpoint (``load_best_model_at_end``), so
    evaluating it again would only repeat the logged numbers.
    """
    for entry in reversed(state.log_history):
        if entry.get("step") == step and f"eval_{metric}" in entry:
            return {name: float(entry[f"eval_{name}"]) for name in (metric, "loss") if f"eval_{name}" in entry}
    return None


def _best_step(state) -> int | None:
    if state.best_model_checkpoint:
        return int(str(state.best_model_checkpoint).rsplit("-", 1)[-1])
    return int(state.global_step)


# --------------------------------------------------------------------------- public API
def target_stages(task: str, profile: str) -> tuple[tuple[str, str, str | None], ...]:
    """The (data task, train split, dev split) stages that train ``task`` under ``profile``."""
    if task in RETRIEVAL:
        raise StudyError(f"task {task} is a retrieval task and is not trained in this study (the encoder is used "
                         f"as it is); trainable tasks: {', '.join(TRAINABLE_TARGETS)}")
    check_choice("target task", task, TRAINABLE_TARGETS)
    task = SHARED_TARGET.get(task, task)
    stages = TARGET_DATA[task]
    if task == "xcopa" and profile not in SIQA_PROFILES:
        stages = stages[1:]
    return stages


def target_run_dir(arm: str, task: str, seed: int, root: Path | None = None, profile: str | None = None) -> Path:
    """Where the target model of ``task`` in ``arm`` lives (MLQA shares XQuAD's SQuAD model)."""
    task = SHARED_TARGET.get(task, task)
    return runs.lineage_dir(None if arm == "direct" else arm, task, seed, root, profile=profile)


def train_target(
    task: str,
    arm: str,
    init: str,
    *,
    profile: str,
    source,
    seed: int,
    run_dir: Path | None = None,
    recipe: recipes.Recipe | None = None,
) -> TrainResult:
    """Phase (iii): train ``task``'s English data from ``init`` (a preset, or an intermediate run dir).

    MLQA resolves to XQuAD's model (both train on SQuAD); retrieval tasks are refused.
    """
    check_choice("profile", profile, recipes.PROFILES)
    stages = target_stages(task, profile)
    task = SHARED_TARGET.get(task, task)
    _check_init(init, arm)
    return _train_single(
        phase="target", task=task, arm=arm, lineage=(None if arm == "direct" else arm, task), stages=stages,
        init=init, profile=profile, source=source, seed=seed,
        run_dir=run_dir or target_run_dir(arm, task, seed, profile=profile), recipe=recipe, encoder_only=False,
    )


def _check_init(init: str | os.PathLike, arm: str | None = None) -> None:
    """``init`` must be a model preset or a saved run directory; otherwise one line saying which it is not."""
    from .models import PRESETS, get_preset

    if _is_checkpoint(init):
        return
    text = str(init)
    path = Path(text)
    looks_like_path = os.sep in text or text.startswith(".") or path.exists()
    if not looks_like_path:
        get_preset(text)  # "unknown model preset ...; valid presets: ..."
        return
    whose = f"the intermediate run of arm {arm}" if arm and arm != "direct" else "the run directory"
    if not path.exists():
        raise StudyError(f"init {text} does not exist: expected {whose} (a folder holding config.json) "
                         f"or a model preset, one of {', '.join(PRESETS)}")
    raise StudyError(f"init {text} is not a saved run: expected {whose} as a folder holding config.json "
                     f"and model.safetensors, or a model preset, one of {', '.join(PRESETS)}")


def _cost_identity(params: Mapping, source) -> dict:
    """The training-cost columns that, beside profile/arm/phase/task/seed, change a run's numbers.

    ``model``: the preset the lineage starts from; ``source``: the data source;
    ``recipe``: a short digest of the resolved recipe(s), so ``--set`` overrides
    get rows of their own.
    """
    import hashlib

    recipes_ = params.get("recipes") or [params.get("recipe")]
    digest = hashlib.sha256(json.dumps(recipes_, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return {"model": _lineage_model(params["init"]), "source": source_identity(source), "recipe": digest}


def _lineage_model(init: str | os.PathLike, depth: int = 0) -> str:
    """The model preset a lineage started from: ``init`` itself, or the ``init`` of the run it names."""
    from .models import PRESETS

    if str(init) in PRESETS:
        return str(init)
    params = Path(init) / "params.json"
    if depth < 4 and params.is_file():
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            return _lineage_model(runs.read_json(params)["init"], depth + 1)
    return models.frozen_source(init) or Path(init).name


def train_intermediate(
    task: str,
    *,
    profile: str,
    source,
    seed: int,
    init: str | None = None,
    run_dir: Path | None = None,
    recipe: recipes.Recipe | None = None,
) -> TrainResult:
    """Phase (ii): train one English intermediate task; save the encoder (no head) for transfer.

    ``init`` defaults to the profile's model preset.
    """
    check_choice("profile", profile, recipes.PROFILES)
    check_choice("intermediate task", task, [t for t in recipes.INTERMEDIATE if t != "multi"])
    init = init or _profile_model(profile)
    _check_init(init)
    return _train_single(
        phase="intermediate", task=task, arm=task, lineage=(task, None), stages=((task, "train", "dev"),),
        init=init, profile=profile, source=source, seed=seed, run_dir=run_dir, recipe=recipe, encoder_only=True,
    )


def _profile_model(profile: str) -> str:
    from .config import get_profile

    return get_profile(profile).model


# --------------------------------------------------------------------------- multi-task
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


def _multitask_module():
    import torch
    from torch import nn

    class MultiTaskModel(nn.Module):
        """One shared encoder (``AutoModel``), one small head per task."""

        def __init__(self, encoder, heads: Mapping[str, tuple[str, int]]):
            super().__init__()
            self.encoder = encoder
            hidden = encoder.config.hidden_size
            self.kinds = {t: kind for t, (kind, _) in heads.items()}
            self.heads = nn.ModuleDict({t: nn.Sequential(nn.Dropout(0.1), nn.Linear(hidden, 1 if kind == "multiple-choice" else (2 if kind == "question-answering" else n)))
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

    return MultiTaskModel


class _BatchList:
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
    init = init or _profile_model(profile)
    r = dataclasses.replace(recipe or recipes.get_recipe(profile, "multi", "intermediate"), seed=seed)
    run_dir = _claim(Path(run_dir) if run_dir else runs.lineage_dir("multi", None, seed, profile=profile))
    _check_init(init)
    params = json.loads(json.dumps({
        "revision": TRAINING_REVISION, "phase": "intermediate", "task": "multi", "tasks": tasks, "arm": "multi",
        "init": str(init),
        "profile": profile, "source": _source_id(source), "seed": seed, "temperature": temperature, "cap": cap,
        "recipe": r.as_dict(),
    }, default=str))
    what = f"intermediate multi ({', '.join(tasks)})"
    with _run_lock(run_dir):  # one trainer per run directory, even across sweep jobs
        hit = _cached(run_dir, params, "intermediate", "multi", "multi")
        if hit:
            return hit

        tokenizer = load_tokenizer(init)
        feats, devs, specs, heads = {}, {}, {}, {}
        for t in tasks:
            spec = _spec(t)
            fmt = spec.format
            labels = tuple(spec.labels) if getattr(spec, "labels", None) else None
            train_ex, dev_ex = _data(source, (t, "train", "dev"), r)
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

        from transformers import AutoModel

        _set_seed(seed)
        if _is_checkpoint(init):
            encoder = models.from_saved(AutoModel, init)
        else:
            from .models import load_model as preset_model

            encoder = preset_model(str(init), head="encoder")
        if r.freeze_embeddings:
            _freeze_embeddings(encoder)
        _freeze_layers(encoder, r.freeze_layers)
        model = _multitask_module()(encoder, heads)
        collators = {t: preprocess.collator_for(specs[t], tokenizer) for t in tasks}

        def collate(items):
            (item,) = items
            batch = collators[item["task"]](item["features"])
            batch["task"] = item["task"]
            return batch

        rr = dataclasses.replace(r, batch_size=1, epochs=1, max_steps=None)
        work = Path(str(run_dir) + ".work")
        _open_work(work)
        args = _training_args(rr, work / "checkpoints", metric=None, group=False)
        args.remove_unused_columns = False
        CountingTrainer, CounterCheckpoint = _trainer_classes()
        checkpoint = _last_checkpoint(work / "checkpoints")
        before = _resumed_counters(checkpoint)
        t0 = time.perf_counter()
        clock = lambda: before["wall_s"] + time.perf_counter() - t0  # noqa: E731
        trainer = CountingTrainer(model=model, args=args, data_collator=collate,
                                  train_dataset=_BatchList(schedule, feats))
        import weakref

        _quiet(trainer)
        trainer.add_callback(CounterCheckpoint(weakref.ref(trainer), clock))
        trainer.tokens_seen, trainer.examples_seen = before["tokens"], before["examples"]
        trainer.study_what = what
        _train(trainer, checkpoint, work)
        model = trainer.model
        dev_metrics = {t: _dev_score_multi(model, t, specs[t], devs[t], tokenizer, r) for t in tasks}
        dev_metrics["mean"] = float(np.mean([dev_metrics[t] for t in tasks]))
        first = schedule[0]
        import torch

        batch = collators[first[0]]([feats[first[0]][j] for j in first[1]])
        step_flops = costs.count_flops(model, {**batch, "task": first[0]})
        step_tokens = int(batch["attention_mask"].sum())
        tokens = _world_sum(trainer.tokens_seen - before["tokens"]) + before["tokens"]
        cost_row = costs.training_cost_row(
            profile=profile, arm="multi", phase="intermediate", task="multi", seed=seed,
            examples=sum(sizes.values()), tokens=tokens, steps=int(trainer.state.global_step), wall_s=clock(),
            flops=costs.scale_flops(step_flops, step_tokens, tokens), **_cost_identity(params, source),
        )
        del torch

        def write(tmp: Path) -> None:
            models.save_trained(model.encoder, tmp, models.frozen_source(init))
            tokenizer.save_pretrained(str(tmp))
            runs.atomic_write_json(tmp / "params.json", params)
            runs.atomic_write_json(tmp / "versions.json", runs.library_versions())
            runs.atomic_write_json(tmp / "cost.json", cost_row)
            runs.atomic_write_json(tmp / "metrics.json", {"dev": dev_metrics, "best_step": int(trainer.state.global_step),
                                                          "weights": mixing_weights(sizes, temperature=temperature, cap=cap)})

        _publish(run_dir, write)
        if _is_main_process():
            costs.record_training_cost(cost_row)
        _cleanup_work(work)
        return TrainResult(run_dir, "intermediate", "multi", "multi", dev_metrics, int(trainer.state.global_step),
                           cost_row, cached=False, params=params)


def _dev_score_multi(model, task, fmt, dev, tokenizer, r) -> float:
    """Dev metric (0-100) of one task of the multi-task model."""
    import torch
    from transformers.trainer_utils import EvalPrediction

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


# --------------------------------------------------------------------------- command line
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.training", description=__doc__.split("\n")[0])
    parser.add_argument("phase", choices=("target", "intermediate", "multi"))
    parser.add_argument("--task", default="", help="target or intermediate task")
    parser.add_argument("--tasks", default="", help="comma-separated intermediate tasks (multi)")
    parser.add_argument("--arm", default="direct")
    parser.add_argument("--init", default="", help="preset name or intermediate run directory")
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--source", default="", help="source kind (default: the profile's)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a recipe field, e.g. --set max_steps=8 --set eval_every=2")
    args = parser.parse_args(argv)
    from .config import get_profile

    prof = get_profile(args.profile)
    kind = args.source or prof.source
    if args.data_dir is not None and kind != "xtreme-dir":
        raise StudyError(f"--data-dir is read only by the xtreme-dir source; profile {args.profile} uses the {kind} "
                         f"source, which would write its generated benchmark there: to train on the files in "
                         f"{args.data_dir} give --source xtreme-dir (or --profile xtreme-dir)")
    valid_arms = ("direct",) + tuple(recipes.INTERMEDIATE)
    if args.phase == "target":
        check_choice("arm", args.arm, valid_arms)
    run_dir = Path(args.run_dir) if args.run_dir else None
    if run_dir is not None:
        _claim(run_dir)  # a folder of the user's is refused before the data is read or generated
    if args.phase == "target":
        stages = target_stages(args.task, args.profile)
        base = recipes.get_recipe(args.profile, stages[-1][0] if len(stages) > 1 else args.task, "target")
    else:
        base = recipes.get_recipe(args.profile, "multi" if args.phase == "multi" else args.task, "intermediate")
    recipe = override_recipe(base, args.set) if args.set else None
    if args.phase == "target":  # every argument is checked before the data is read (or generated)
        init = args.init or (prof.model if args.arm == "direct" else _arm_init(args.arm, args.profile, args.seed))
        _check_init(init, args.arm)
    elif args.init:
        _check_init(args.init)
    runs.mark_by_hand("python -m helpers.training")
    source = _cli_source(kind, args.data_dir)
    if args.phase == "target":
        result = train_target(args.task, args.arm, init, profile=args.profile, source=source, seed=args.seed,
                              run_dir=run_dir, recipe=recipe)
    elif args.phase == "intermediate":
        result = train_intermediate(args.task, profile=args.profile, source=source, seed=args.seed,
                                    init=args.init or None, run_dir=run_dir, recipe=recipe)
    else:
        tasks = [t for t in args.tasks.split(",") if t] or list(prof.intermediates)
        result = train_multitask(tasks, profile=args.profile, source=source, seed=args.seed,
                                 init=args.init or None, run_dir=run_dir, recipe=recipe)
    if _is_main_process():
        print(json.dumps({"run_dir": str(result.run_dir), "metrics": result.metrics, "best_step": result.best_step,
                          "cached": result.cached, "steps": result.cost.get("steps"),
                          "tokens": result.cost.get("tokens"), "world_size": int(os.environ.get("WORLD_SIZE", "1"))}))
    return 0


def _arm_init(arm: str, profile: str, seed: int) -> str:
    """The intermediate run a STILTs arm starts from; one line when it has not been trained."""
    from .config import get_profile

    path = runs.lineage_dir(arm, None, seed, profile=profile)
    if _is_checkpoint(path):
        return str(path)
    phase = "multi" if arm == "multi" else f"intermediate --task {arm}"
    if arm not in get_profile(profile).arms:
        raise StudyError(f"arm {arm} is not an arm of profile {profile} (its arms: "
                         f"{', '.join(get_profile(profile).arms)}) and no --init was given: train its intermediate "
                         f"run first (python -m helpers.training {phase} --profile {profile} --seed {seed}) or "
                         f"give --init <run directory>")
    raise StudyError(f"arm {arm} starts from its intermediate run {path}, which has not been trained: run "
                     f"python -m helpers.training {phase} --profile {profile} --seed {seed} first, or give "
                     f"--init <run directory>")


def override_recipe(recipe: recipes.Recipe, assignments: Sequence[str]) -> recipes.Recipe:
    """``recipe`` with ``FIELD=VALUE`` overrides (values parsed as JSON, else kept as text)."""
    fields = {f.name for f in dataclasses.fields(recipe)}
    changes = {}
    for item in assignments:
        name, sep, raw = item.partition("=")
        if not sep or name not in fields:
            raise StudyError(f"bad recipe override {item!r}; use FIELD=VALUE with FIELD one of {', '.join(sorted(fields))}")
        try:
            changes[name] = json.loads(raw)
        except json.JSONDecodeError:
            changes[name] = raw
    return dataclasses.replace(recipe, **changes)


def _cli_source(kind: str, data_dir: str | None):
    if kind.startswith("json:"):
        return JsonSource(kind.removeprefix("json:"))
    from .sources import get_source

    return get_source(kind, data_dir)


class JsonSource:
    """Canonical examples from ``<root>/<task>/<split>-<lang>.json`` (a JSON list); for tests and ad-hoc data."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.name = "json"

    def load_examples(self, task: str, split: str, lang: str = "en") -> list[dict]:
        path = self.root / task / f"{split}-{lang}.json"
        if not path.exists():
            raise StudyError(f"no {split} data for {task} ({lang}) at {path}")
        return json.loads(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
