"""The phases of the study, as the chapters call them; each phase runs forward.

Each function takes the validated :class:`helpers.config.StudyConfig` of a
chapter. A phase trains only the runs its chapter owns and reads everything
else from the run store (``runs/<profile>/...``, :func:`helpers.runs.lineage_dir`):

- ``04_intermediate`` (:func:`run_intermediate_phase`) trains the intermediate runs;
- ``05_target`` (:func:`run_target_phase`) trains the target runs of every arm, direct
  and STILTs, from the intermediate runs that 04 wrote;
- ``06_zero_shot`` (:func:`run_zero_shot_phase`) evaluates the runs that 04 and 05 wrote.

An input that is missing, or was trained by other code (its ``code`` digest,
:func:`helpers.runs.code_digest`, differs), is one :class:`StudyError` line
naming the chapter that makes it (:func:`require_trained`, :func:`require_intermediate`);
no phase trains what another phase owns. Runs are cached by their lineage
directory and parameters, and a killed run resumes where it stopped.

Seeds: a profile may name ``seed_tasks`` and ``extra_seeds``
(:class:`helpers.config.Profile`); the direct arm is then also trained (05) and
evaluated (06) with each extra seed on each seed task (:func:`seed_jobs`), so
the book can state the seed spread of the direct arm
(:func:`helpers.stats.seed_spread`) beside the arm differences. Profiles without
them (smoke, embedded) train and evaluate exactly the configuration's seed.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import pandas as pd

from . import costs, evaluation, recipes, runs, tasks, training
from .config import StudyConfig, get_profile
from .errors import StudyError

RETRIEVAL = tasks.retrieval_tasks()  # evaluated with each arm's encoder: no target run
SHARED_TARGET = tasks.shared_models()  # targets evaluated with another target's model (MLQA: XQuAD's)
#: mean-pooled retrieval inputs are truncated here (Phang et al. used 512 with XLM-R Large)
RETRIEVAL_MAX_LENGTH = {"smoke": 48, "embedded": 128, "xtreme-dir": 256, "full": 512, "realdata": 128}
#: What an evaluation cache file holds: its rows with ``examples`` and its items (older files: rows only).
EVALUATION_RECORD = "rows+items/1"
#: The chapter that trains each kind of run.
MAKERS = {"intermediate": "04_intermediate", "target": "05_target"}


def _log(message: str) -> None:
    """A progress line, on stderr (the chapters tag these cells ``remove-stderr``)."""
    print(message, file=sys.stderr, flush=True)


def _relative_run_dir(path: Path) -> str:
    """A run directory relative to the runs root (stable across checkouts)."""
    try:
        return Path(path).resolve().relative_to(runs.runs_root().resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


# --------------------------------------------------------------------------- the run store
def _short(value: object) -> str:
    text = str(value)
    return text[:12] if len(text) == 64 else text


def _require_run(cfg: StudyConfig, run_dir: Path, kind: str, what: str, expected: dict) -> Path:
    """``run_dir`` when it holds a finished run whose parameters match ``expected``; else one line."""
    where = f"{kind} run {what} (seed {cfg.seed}) of profile {cfg.profile}"
    chapter = MAKERS[kind]
    params_file = run_dir / "params.json"
    if not (params_file.is_file() and (run_dir / "metrics.json").is_file()):
        raise StudyError(f"missing input: {where} -- run chapter {chapter} (make book) first")
    params = runs.read_json(params_file)
    for key, value in expected.items():
        if params.get(key) != value:
            reason = "by other code" if key == "code" else f"with another {key}"
            raise StudyError(f"stale input: {where} in {_relative_run_dir(run_dir)} was trained {reason} "
                             f"({_short(params.get(key))}, expected {_short(value)}) -- run chapter {chapter} "
                             f"(make book) again")
    return run_dir


def require_intermediate(cfg: StudyConfig, arm: str) -> Path:
    """The directory of STILTs arm ``arm``'s intermediate run (04_intermediate), or one StudyError line."""
    if arm == "direct":
        raise StudyError("arm direct has no intermediate run; it starts from the pretrained encoder")
    if arm != "multi" and arm not in recipes.INTERMEDIATE:
        raise StudyError(f"arm {arm} has no intermediate run; valid intermediate arms: "
                         f"{', '.join(recipes.INTERMEDIATE)}")
    expected = {"code": runs.code_digest(), "phase": "intermediate", "task": arm, "arm": arm,
                "profile": cfg.profile, "seed": cfg.seed, "init": str(cfg.model),
                "source": costs.source_id(cfg.data_source())}
    if arm == "multi":
        expected["tasks"] = list(cfg_intermediates_for_multi(cfg))
    run_dir = runs.lineage_dir(arm, None, cfg.seed, profile=cfg.profile)
    return _require_run(cfg, run_dir, "intermediate", arm, expected)


def require_trained(cfg: StudyConfig, arm: str, task: str) -> Path:
    """The directory of the trained target run of ``arm`` on ``task`` (05_target), or one StudyError line.

    The directory holds the fine-tuned model with its head (load it with
    :func:`helpers.evaluation.saved_model_dir`), ``params.json`` and ``metrics.json``.
    MLQA shares XQuAD's run. Nothing is trained: a run that is missing, or that
    other code trained, is ``missing input: ... -- run chapter 05_target (make book) first``
    (``stale input: ...`` for the latter). Retrieval tasks have no target run
    (:func:`arm_model` gives their encoder).
    """
    if task in RETRIEVAL:
        raise StudyError(f"task {task} has no target run: retrieval tasks use the arm's encoder as it is; "
                         f"trained target tasks: {', '.join(tasks.trainable_targets())}")
    model_task = SHARED_TARGET.get(task, task)
    init = cfg.model if arm == "direct" else str(runs.lineage_dir(arm, None, cfg.seed, profile=cfg.profile))
    expected = {"code": runs.code_digest(), "phase": "target", "task": model_task, "arm": arm,
                "profile": cfg.profile, "seed": cfg.seed, "init": str(init), "source": costs.source_id(cfg.data_source())}
    run_dir = training.target_run_dir(arm, task, cfg.seed, profile=cfg.profile)
    return _require_run(cfg, run_dir, "target", f"{arm}/{model_task}", expected)


# --------------------------------------------------------------------------- phase (ii)
def intermediate_run(cfg: StudyConfig, arm: str):
    """Train (or find cached) the intermediate run of a STILTs arm: 04_intermediate's work."""
    source = cfg.data_source()
    if arm == "multi":
        return training.train_multitask(list(cfg_intermediates_for_multi(cfg)), profile=cfg.profile,
                                        source=source, seed=cfg.seed, init=cfg.model)
    if arm not in recipes.INTERMEDIATE:
        raise StudyError(f"arm {arm} has no intermediate run; valid intermediate arms: "
                         f"{', '.join(recipes.INTERMEDIATE)}")
    return training.train_intermediate(arm, profile=cfg.profile, source=source, seed=cfg.seed, init=cfg.model)


def cfg_intermediates_for_multi(cfg: StudyConfig) -> tuple[str, ...]:
    """The tasks mixed by the ``multi`` arm: every single-task intermediate of the profile."""
    return get_profile(cfg.profile).intermediates


def run_intermediate_phase(cfg: StudyConfig) -> pd.DataFrame:
    """Phase (ii): every intermediate arm of the configuration; one row per run."""
    rows = []
    arms = [a for a in cfg.arms if a != "direct"]
    for i, arm in enumerate(arms, 1):
        start = time.perf_counter()
        result = intermediate_run(cfg, arm)
        state = "cached" if result.cached else f"trained in {time.perf_counter() - start:.1f} s"
        _log(f"[{i}/{len(arms)}] intermediate {arm}: {state}")
        rows.append(_result_row(result))
    return pd.DataFrame(rows)


def _result_row(result) -> dict:
    """One table row of a training result: lineage, size and the dev score of model selection."""
    row = {
        "arm": result.arm,
        "phase": result.phase,
        "task": result.task,
        "run_dir": _relative_run_dir(result.run_dir),
        "best_step": result.best_step,
        "steps": result.cost.get("steps"),
        "examples": result.cost.get("examples"),
        "tokens": result.cost.get("tokens"),
    }
    for name, value in sorted(_flat_scores(result.metrics or {}).items()):
        row[f"dev {name}"] = round(float(value), 2)
    return row


def _flat_scores(metrics: dict, prefix: str = "") -> dict:
    """Dev scores without losses; nested per-task dicts (multi-task) become ``task/metric``."""
    out = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            out.update(_flat_scores(value, f"{prefix}{key}/"))
        elif isinstance(value, (int, float)) and "loss" not in key:
            out[f"{prefix}{key}"] = value
    return out


def dev_score(row: dict) -> float | None:
    """The model-selection score of a target run row (accuracy or F1, whichever the task uses)."""
    for key in ("dev accuracy", "dev f1"):
        if row.get(key) is not None and row.get(key) == row.get(key):
            return row[key]
    return None


# --------------------------------------------------------------------------- phase (iii)
def trainable_targets(cfg: StudyConfig) -> list[str]:
    """The configuration's target tasks that have a model of their own to train.

    Retrieval tasks are not trained; MLQA shares XQuAD's SQuAD-trained model.
    """
    out = []
    for task in cfg.tasks:
        if task in RETRIEVAL:
            continue
        model_task = SHARED_TARGET.get(task, task)
        if model_task not in out:
            out.append(model_task)
    return out


def seed_jobs(cfg: StudyConfig) -> list[tuple[str, int]]:
    """The direct arm's extra (trainable target, seed) runs of the configuration's profile.

    Every seed of the profile's ``extra_seeds`` (other than the configuration's
    own) on every one of its ``seed_tasks`` that the configuration trains,
    when the configuration has the direct arm; none for profiles without them.
    """
    profile = get_profile(cfg.profile)
    seed_tasks = tuple(getattr(profile, "seed_tasks", ()) or ())
    seeds = [int(s) for s in (getattr(profile, "extra_seeds", ()) or ()) if int(s) != cfg.seed]
    if "direct" not in cfg.arms or not seed_tasks or not seeds:
        return []
    targets = trainable_targets(cfg)
    return [(task, seed) for task in seed_tasks if task in targets for seed in dict.fromkeys(seeds)]


def with_seed(cfg: StudyConfig, seed: int) -> StudyConfig:
    """The configuration with another seed (an extra seed of the direct arm)."""
    return cfg if seed == cfg.seed else dataclasses.replace(cfg, seed=int(seed))


def target_run(cfg: StudyConfig, arm: str, task: str):
    """Train (or find cached) the target run of ``arm`` on ``task``: 05_target's work.

    A STILTs arm starts from its intermediate run, which must exist
    (:func:`require_intermediate`: one line naming 04_intermediate otherwise).
    """
    init = cfg.model if arm == "direct" else str(require_intermediate(cfg, arm))
    return training.train_target(task, arm, init, profile=cfg.profile, source=cfg.data_source(), seed=cfg.seed)


def run_target_phase(cfg: StudyConfig) -> pd.DataFrame:
    """Phase (iii): every (arm, trainable target) of the configuration; one row per run.

    The direct arm's extra seeds (:func:`seed_jobs`) follow; when there are any,
    every row carries its ``seed``.
    """
    jobs = [(arm, task, cfg.seed) for arm in cfg.arms for task in trainable_targets(cfg)]
    extra = [("direct", task, seed) for task, seed in seed_jobs(cfg)]
    jobs += extra
    for arm in dict.fromkeys(a for a, _, _ in jobs if a != "direct"):  # every input first, before any training
        require_intermediate(cfg, arm)
    rows = []
    for i, (arm, task, seed) in enumerate(jobs, 1):
        start = time.perf_counter()
        result = target_run(with_seed(cfg, seed), arm, task)
        state = "cached" if result.cached else f"trained in {time.perf_counter() - start:.1f} s"
        _log(f"[{i}/{len(jobs)}] {arm} -> {task}{f' (seed {seed})' if seed != cfg.seed else ''}: {state}")
        row = _result_row(result)
        if extra:
            row["seed"] = seed
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- evaluation
def eval_max_length(cfg: StudyConfig, task: str) -> int:
    """The maximum input length used to test ``task``: its recipe's, or the retrieval length."""
    if task in RETRIEVAL:
        return RETRIEVAL_MAX_LENGTH[cfg.profile]
    return recipes.get_recipe(cfg.profile, SHARED_TARGET.get(task, task), "target").max_length


def eval_doc_stride(cfg: StudyConfig, task: str) -> int:
    """The doc stride of ``task``'s QA windows in evaluation: its recipe's (128 for non-QA tasks)."""
    if task in RETRIEVAL:
        return 128
    return recipes.get_recipe(cfg.profile, SHARED_TARGET.get(task, task), "target").doc_stride


def arm_model(cfg: StudyConfig, arm: str, task: str) -> tuple[str, str]:
    """(what to load, its run directory for the record) for ``arm`` on ``task``; nothing is trained.

    Trainable tasks load the fine-tuned target model (:func:`require_trained`);
    retrieval tasks the arm's encoder: the pretrained preset for ``direct``, the
    intermediate run for a STILTs arm (:func:`require_intermediate`). A missing
    run is one StudyError line naming the chapter that trains it.
    """
    if task in RETRIEVAL:
        if arm == "direct":
            return cfg.model, f"preset:{cfg.model}"
        run_dir = require_intermediate(cfg, arm)
    else:
        run_dir = require_trained(cfg, arm, task)
    return str(run_dir), _relative_run_dir(run_dir)


def run_zero_shot_phase(cfg: StudyConfig) -> pd.DataFrame:
    """Zero-shot evaluation of every arm on every task and language; rows of zero_shot.csv.

    Every run it evaluates is looked up first (:func:`arm_model`): a missing one
    stops the phase with one line before anything is evaluated. The direct
    arm's extra seeds (:func:`seed_jobs`) are evaluated on the tasks that use
    their models. The per-item statistics of every evaluation go to
    ``results/zero_shot_items.csv`` in one upsert at the end.
    """
    jobs = [(arm, task, cfg.seed) for arm in cfg.arms for task in cfg.tasks]
    seeded = seed_jobs(cfg)
    jobs += [("direct", task, seed) for model_task, seed in seeded for task in cfg.tasks
             if task not in RETRIEVAL and SHARED_TARGET.get(task, task) == model_task]
    models = {job: arm_model(with_seed(cfg, job[2]), job[0], job[1]) for job in jobs}
    all_rows, all_items = [], []
    for i, (arm, task, seed) in enumerate(jobs, 1):
        start = time.perf_counter()
        model, run_dir = models[(arm, task, seed)]
        request = {
            "task": task, "languages": list(cfg.test_languages(task)), "arm": arm, "profile": cfg.profile,
            "seed": seed, "run_dir": run_dir, "model_params": _model_fingerprint(model),
            "max_length": eval_max_length(cfg, task), "limit": cfg.eval_limit,
            "doc_stride": eval_doc_stride(cfg, task), "source": cfg.source, "data_dir": cfg.data_dir,
            "record": EVALUATION_RECORD,
        }
        cache = runs.runs_root() / "evaluations" / f"{arm}___{task}-{runs.cache_key(request)}.json"
        if cache.is_file():
            saved, state = runs.read_json(cache), "cached"
            rows, items = saved["rows"], saved["items"]
        else:
            items = []
            rows = evaluation.evaluate_zero_shot(
                model, task, request["languages"], cfg.data_source(),
                arm=arm, intermediate=None if arm == "direct" else arm, profile=cfg.profile, seed=seed,
                run_dir=run_dir, max_length=request["max_length"], limit=cfg.eval_limit,
                doc_stride=request["doc_stride"], model_name=cfg.model, source_id=source_id(cfg),
                layer=cfg.retrieval_layer, tokenizer_preset=cfg.tokenizer, items=items,
            )
            runs.atomic_write_json(cache, {"rows": rows, "items": items})
            state = f"{time.perf_counter() - start:.1f} s"
        evaluation.record_zero_shot(rows)
        all_rows.extend(rows)
        all_items.extend(items)
        label = f" (seed {seed})" if seed != cfg.seed else ""
        _log(f"[{i}/{len(jobs)}] {arm} on {task}{label}: {len(rows)} scores, {len(items)} items ({state})")
    if all_items:
        evaluation.record_zero_shot_items(all_items)
    return pd.DataFrame(all_rows)


def source_id(cfg: StudyConfig) -> str:
    """The data source's identity in the results tables (:func:`helpers.costs.source_identity`)."""
    return costs.source_identity(cfg.data_source())


def _model_fingerprint(model: str) -> str:
    """What identifies the weights being evaluated: a run's resolved parameters, or a preset name.

    Run directories are complete or absent and training is deterministic, so
    the parameters that produced a run identify its weights; the evaluation
    of the same weights on the same data is reused instead of recomputed.
    """
    params = Path(model) / "params.json"
    return params.read_text(encoding="utf-8") if params.is_file() else f"preset:{model}"
