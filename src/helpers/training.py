"""Phase (ii) and (iii) training with the transformers Trainer.

- :func:`train_target` (phase iii): the English training data of an XTREME-R
  task, from a pretrained preset (``direct`` arm) or from an intermediate
  checkpoint (STILTs arms: the encoder is transferred, the head is new).
- :func:`train_intermediate` (phase ii): one English intermediate task; the
  encoder (without its head) is saved for transfer.
- :func:`helpers.multitask.train_multitask` (phase ii): one shared encoder, one
  head per task, batches drawn per task with probability proportional to the
  (capped) dataset size; saved under the lineage name ``multi``.

This module applies the recipes (:mod:`helpers.recipes`, ``--set`` overrides)
to the stages of each task; the Trainer itself is :mod:`helpers.trainer`, the
ranks of a data-parallel run :mod:`helpers.distributed`, model loading
:mod:`helpers.models` and the dev metric :func:`helpers.metrics.make_compute_metrics`.

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
import dataclasses
import json
import os
from pathlib import Path
from typing import Sequence

from transformers import set_seed

from . import costs, distributed, models, preprocess, recipes, runs
from .config import get_profile
from .errors import StudyError, check_choice, run_cli
from .metrics import dev_metric_name, make_compute_metrics
from .multitask import train_multitask
from .sources import get_source
from .tasks import get_task, own_model_targets, retrieval_tasks, shared_models, trainable_targets
from .tasks import target_stages as registry_stages
from .trainer import (TrainResult, best_step, cached, freeze_embeddings, freeze_layers, load_data, logged_eval,
                      run_trainer, start_trainer, step_flops, training_args, write_run)

# --------------------------------------------------------------------------- what trains on what
#: English training data of each target that trains a model of its own (phase iii), from the registry:
#: stages of (data task, train split, dev split); see :func:`helpers.tasks.target_stages`.
TARGET_DATA = {t: registry_stages(t) for t in own_model_targets()}
SHARED_TARGET = shared_models()  # targets evaluated with another target's model (MLQA: XQuAD's)
RETRIEVAL = retrieval_tasks()  # evaluated with each arm's encoder, never trained here
TRAINABLE_TARGETS = trainable_targets()  # MLQA trains as XQuAD (SHARED_TARGET)
SIQA_PROFILES = ("xtreme-dir", "full")


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
    run_dir = distributed.claim(Path(run_dir) if run_dir else runs.lineage_dir(lineage[0], lineage[1], seed,
                                                                                profile=profile))
    stage_recipes = [
        dataclasses.replace(recipe or recipes.get_recipe(profile, st[0] if len(stages) > 1 else task, phase), seed=seed)
        for st in stages
    ]
    params = {
        "code": runs.code_digest(),
        "phase": phase,
        "task": task,
        "arm": arm,
        "init": str(init),
        "profile": profile,
        "source": costs.source_id(source),
        "seed": seed,
        "stages": [list(st) for st in stages],
        "recipes": [r.as_dict() for r in stage_recipes],
    }
    params = json.loads(json.dumps(params, default=str))
    with distributed.run_lock(run_dir):  # one trainer per run directory, even across sweep jobs
        hit = cached(run_dir, params, phase, task, arm)
        if hit:
            return hit

        work = distributed.work_dir(run_dir)
        distributed.open_work(work)
        current_init = str(init)
        frozen_from = models.frozen_source(init)  # the preset that holds the frozen parameters
        total = {"tokens": 0, "examples": 0, "steps": 0, "wall_s": 0.0, "flops": 0}
        dev_metrics: dict = {}
        best = None
        tokenizer = models.load_tokenizer(str(init))
        model = None
        for k, (stage, r) in enumerate(zip(stages, stage_recipes)):
            data_task = stage[0]
            spec = get_task(data_task)
            fmt = spec.format
            label_names = tuple(spec.labels) if spec.labels else None
            head = preprocess.HEAD_FOR_FORMAT[fmt]
            stage_dir = work / f"stage{k}-{data_task}"
            final_dir = stage_dir / "final"
            if (final_dir / "stage.json").exists():  # a finished stage of a multi-stage run
                info = runs.read_json(final_dir / "stage.json")
                for key in total:
                    total[key] += info["cost"][key]
                dev_metrics, best, current_init = info["dev"], info["best_step"], str(final_dir)
                continue
            train_ex, dev_ex = load_data(source, stage, r)
            train_ds = preprocess.encode(fmt, train_ex, tokenizer, r.max_length, train=True,
                                         label_names=label_names, doc_stride=r.doc_stride)
            dev_ds = preprocess.encode(fmt, dev_ex, tokenizer, r.max_length, train=True,
                                       label_names=label_names, doc_stride=r.doc_stride)
            dev_feats = None
            if fmt == "span-qa":
                dev_feats = preprocess.encode(fmt, dev_ex, tokenizer, r.max_length, train=False, doc_stride=r.doc_stride)
                dev_feats = {"example_id": list(dev_feats["example_id"]), "offset_mapping": list(dev_feats["offset_mapping"])}
            n_labels = len(label_names) if label_names and head != "multiple-choice" else None
            set_seed(r.seed)
            model = models.load_trainable(current_init, head, n_labels)
            if r.freeze_embeddings:
                freeze_embeddings(model)
            freeze_layers(model, r.freeze_layers)
            metric = dev_metric_name(fmt)
            collator = preprocess.collator_for(fmt, tokenizer)
            args = training_args(r, stage_dir / "checkpoints", metric=metric,
                                 label_names=["start_positions", "end_positions"] if fmt == "span-qa" else None)
            trainer, checkpoint, before, clock = start_trainer(
                args, f"{phase} {data_task} ({arm})", model=model, data_collator=collator, train_dataset=train_ds,
                eval_dataset=dev_ds,  # no processing_class: the collator is given, and checkpoints need no tokenizer
                compute_metrics=make_compute_metrics(fmt, label_names=label_names, dev_examples=dev_ex,
                                                     dev_features=dev_feats),
            )
            run_trainer(trainer, checkpoint, work)
            model = trainer.model
            state = trainer.state
            best = best_step(state)
            dev_metrics = logged_eval(state, best, metric)
            if dev_metrics is None:  # no evaluation was logged at the selected step: evaluate now
                dev_metrics = {k.removeprefix("eval_"): float(v) for k, v in trainer.evaluate().items()
                               if k.removeprefix("eval_") in (metric, "loss")}
            flops, flop_tokens = step_flops(model, collator, train_ds, r.batch_size)
            tokens = distributed.world_sum(trainer.tokens_seen - before["tokens"]) + before["tokens"]
            stage_cost = {
                "tokens": tokens,
                "examples": len(train_ex),
                "steps": int(state.global_step),
                "wall_s": float(clock()),
                "flops": costs.scale_flops(flops, flop_tokens, tokens) if flop_tokens else 0,
            }
            for key in total:
                total[key] += stage_cost[key]
            if k < len(stages) - 1:  # keep this stage's model as the next stage's init
                if distributed.is_main_process():
                    with runs.atomic_directory(final_dir) as tmp:
                        model.save_pretrained(str(tmp))
                        tokenizer.save_pretrained(str(tmp))
                        runs.atomic_write_json(tmp / "stage.json", {"cost": stage_cost, "dev": dev_metrics,
                                                                    "best_step": best})
                distributed.barrier()
                current_init = str(final_dir)

        cost_row = costs.training_cost_row(
            profile=profile, arm=arm, phase=phase, task=task, seed=seed, examples=total["examples"],
            tokens=total["tokens"], steps=total["steps"], wall_s=total["wall_s"], flops=total["flops"],
            **costs.cost_identity(params, source),
        )

        def write(tmp: Path) -> None:
            if encoder_only:  # the encoder of the task model (no head), as a standalone base model
                base = getattr(model, getattr(model, "base_model_prefix", ""), None) or model.base_model
                models.save_trained(base, tmp, frozen_from)
            else:
                models.save_trained(model, tmp, frozen_from)
            write_run(tmp, tokenizer, params, cost_row, {"dev": dev_metrics, "best_step": best,
                                                         "metric": dev_metric_name(get_task(stages[-1][0]).format)})

        distributed.publish(run_dir, write)
        if distributed.is_main_process():
            costs.record_training_cost(cost_row)
        distributed.cleanup_work(work)
        return TrainResult(run_dir, phase, task, arm, dev_metrics, best, cost_row, cached=False, params=params)


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
    models.check_init(init, arm)
    return _train_single(
        phase="target", task=task, arm=arm, lineage=(None if arm == "direct" else arm, task), stages=stages,
        init=init, profile=profile, source=source, seed=seed,
        run_dir=run_dir or target_run_dir(arm, task, seed, profile=profile), recipe=recipe, encoder_only=False,
    )


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
    init = init or get_profile(profile).model
    models.check_init(init)
    return _train_single(
        phase="intermediate", task=task, arm=task, lineage=(task, None), stages=((task, "train", "dev"),),
        init=init, profile=profile, source=source, seed=seed, run_dir=run_dir, recipe=recipe, encoder_only=True,
    )


# --------------------------------------------------------------------------- recipes
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
        distributed.claim(run_dir)  # a folder of the user's is refused before the data is read or generated
    if args.phase == "target":
        stages = target_stages(args.task, args.profile)
        base = recipes.get_recipe(args.profile, stages[-1][0] if len(stages) > 1 else args.task, "target")
    else:
        base = recipes.get_recipe(args.profile, "multi" if args.phase == "multi" else args.task, "intermediate")
    recipe = override_recipe(base, args.set) if args.set else None
    if args.phase == "target":  # every argument is checked before the data is read (or generated)
        init = args.init or (prof.model if args.arm == "direct" else _arm_init(args.arm, args.profile, args.seed))
        models.check_init(init, args.arm)
    elif args.init:
        models.check_init(args.init)
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
    if distributed.is_main_process():
        print(json.dumps({"run_dir": str(result.run_dir), "metrics": result.metrics, "best_step": result.best_step,
                          "cached": result.cached, "steps": result.cost.get("steps"),
                          "tokens": result.cost.get("tokens"), "world_size": distributed.world_size()}))
    return 0


def _arm_init(arm: str, profile: str, seed: int) -> str:
    """The intermediate run a STILTs arm starts from; one line when it has not been trained."""
    path = runs.lineage_dir(arm, None, seed, profile=profile)
    if models.is_checkpoint(path):
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


def _cli_source(kind: str, data_dir: str | None):
    if kind.startswith("json:"):
        return JsonSource(kind.removeprefix("json:"))
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
