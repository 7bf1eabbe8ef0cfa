"""The phases of the study, as the chapters call them.

Each function takes the validated :class:`helpers.config.StudyConfig` of a
chapter and runs (or finds cached) every run that the chapter covers. Phases
are independent entry points: a later phase trains what an earlier one would
have produced when it is missing (runs are cached by their lineage directory
and parameters), so any chapter can be executed on its own, e.g. by nbval or
a submitit sweep, and a killed run resumes where it stopped.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from . import runs
from .config import StudyConfig

#: mean-pooled retrieval inputs are truncated here (Phang et al. used 512 with XLM-R Large)
RETRIEVAL_MAX_LENGTH = {"smoke": 48, "embedded": 128, "xtreme-dir": 256, "full": 512}


def _log(message: str) -> None:
    print(message, flush=True)


def _relative_run_dir(path: Path) -> str:
    """A run directory relative to the runs root (stable across checkouts)."""
    try:
        return Path(path).resolve().relative_to(runs.runs_root().resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


# --------------------------------------------------------------------------- phase (ii)
def intermediate_run(cfg: StudyConfig, arm: str):
    """The intermediate run of a STILTs arm (trained now if absent); ``direct`` has none."""
    from . import training

    if arm == "direct":
        return None
    source = cfg.data_source()
    if arm == "multi":
        return training.train_multitask(list(cfg_intermediates_for_multi(cfg)), profile=cfg.profile,
                                        source=source, seed=cfg.seed, init=cfg.model)
    if arm not in training.recipes.INTERMEDIATE:
        from .errors import StudyError

        raise StudyError(f"arm {arm} has no intermediate run; valid intermediate arms: "
                         f"{', '.join(training.recipes.INTERMEDIATE)}")
    return training.train_intermediate(arm, profile=cfg.profile, source=source, seed=cfg.seed, init=cfg.model)


def cfg_intermediates_for_multi(cfg: StudyConfig) -> tuple[str, ...]:
    """The tasks mixed by the ``multi`` arm: every single-task intermediate of the profile."""
    from .config import get_profile

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
    from . import training

    out = []
    for task in cfg.tasks:
        if task in training.RETRIEVAL:
            continue
        model_task = training.SHARED_TARGET.get(task, task)
        if model_task not in out:
            out.append(model_task)
    return out


def target_run(cfg: StudyConfig, arm: str, task: str):
    """The target-task run of ``arm`` on ``task`` (trained now, with its intermediate, if absent)."""
    from . import training

    init = cfg.model if arm == "direct" else str(intermediate_run(cfg, arm).run_dir)
    return training.train_target(task, arm, init, profile=cfg.profile, source=cfg.data_source(), seed=cfg.seed)


def run_target_phase(cfg: StudyConfig) -> pd.DataFrame:
    """Phase (iii): every (arm, trainable target) of the configuration; one row per run."""
    rows = []
    jobs = [(arm, task) for arm in cfg.arms for task in trainable_targets(cfg)]
    for i, (arm, task) in enumerate(jobs, 1):
        start = time.perf_counter()
        result = target_run(cfg, arm, task)
        state = "cached" if result.cached else f"trained in {time.perf_counter() - start:.1f} s"
        _log(f"[{i}/{len(jobs)}] {arm} -> {task}: {state}")
        rows.append(_result_row(result))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- evaluation
def eval_max_length(cfg: StudyConfig, task: str) -> int:
    """The maximum input length used to test ``task``: its recipe's, or the retrieval length."""
    from . import recipes, training

    if task in training.RETRIEVAL:
        return RETRIEVAL_MAX_LENGTH[cfg.profile]
    return recipes.get_recipe(cfg.profile, training.SHARED_TARGET.get(task, task), "target").max_length


def eval_doc_stride(cfg: StudyConfig, task: str) -> int:
    """The doc stride of ``task``'s QA windows in evaluation: its recipe's (128 for non-QA tasks)."""
    from . import recipes, training

    if task in training.RETRIEVAL:
        return 128
    return recipes.get_recipe(cfg.profile, training.SHARED_TARGET.get(task, task), "target").doc_stride


def arm_model(cfg: StudyConfig, arm: str, task: str) -> tuple[str, str]:
    """(what to load, its run directory for the record) for ``arm`` on ``task``.

    Trainable tasks load the fine-tuned target model; retrieval tasks the arm's
    encoder: the pretrained preset for ``direct``, the intermediate checkpoint
    for a STILTs arm.
    """
    from . import training

    if task in training.RETRIEVAL:
        if arm == "direct":
            return cfg.model, f"preset:{cfg.model}"
        run_dir = intermediate_run(cfg, arm).run_dir
        return str(run_dir), _relative_run_dir(run_dir)
    run_dir = target_run(cfg, arm, task).run_dir
    return str(run_dir), _relative_run_dir(run_dir)


def run_zero_shot_phase(cfg: StudyConfig) -> pd.DataFrame:
    """Zero-shot evaluation of every arm on every task and language; rows of zero_shot.csv."""
    from . import evaluation

    all_rows = []
    jobs = [(arm, task) for arm in cfg.arms for task in cfg.tasks]
    for i, (arm, task) in enumerate(jobs, 1):
        start = time.perf_counter()
        model, run_dir = arm_model(cfg, arm, task)
        request = {
            "task": task, "languages": list(cfg.test_languages(task)), "arm": arm, "profile": cfg.profile,
            "seed": cfg.seed, "run_dir": run_dir, "model_params": _model_fingerprint(model),
            "max_length": eval_max_length(cfg, task), "limit": cfg.eval_limit,
            "doc_stride": eval_doc_stride(cfg, task), "source": cfg.source, "data_dir": cfg.data_dir,
        }
        cache = runs.runs_root() / "evaluations" / f"{arm}___{task}-{runs.cache_key(request)}.json"
        if cache.is_file():
            rows, state = runs.read_json(cache), "cached"
        else:
            rows = evaluation.evaluate_zero_shot(
                model, task, request["languages"], cfg.data_source(),
                arm=arm, intermediate=None if arm == "direct" else arm, profile=cfg.profile, seed=cfg.seed,
                run_dir=run_dir, max_length=request["max_length"], limit=cfg.eval_limit,
                doc_stride=request["doc_stride"], model_name=cfg.model, source_id=source_id(cfg),
            )
            runs.atomic_write_json(cache, rows)
            state = f"{time.perf_counter() - start:.1f} s"
        evaluation.record_zero_shot(rows)
        all_rows.extend(rows)
        _log(f"[{i}/{len(jobs)}] {arm} on {task}: {len(rows)} scores ({state})")
    return pd.DataFrame(all_rows)


def source_id(cfg: StudyConfig) -> str:
    """The data source's identity in the results tables (:func:`helpers.training.source_identity`)."""
    from .training import source_identity

    return source_identity(cfg.data_source())


def _model_fingerprint(model: str) -> str:
    """What identifies the weights being evaluated: a run's resolved parameters, or a preset name.

    Run directories are complete or absent and training is deterministic, so
    the parameters that produced a run identify its weights; the evaluation
    of the same weights on the same data is reused instead of recomputed.
    """
    params = Path(model) / "params.json"
    return params.read_text(encoding="utf-8") if params.is_file() else f"preset:{model}"


# --------------------------------------------------------------------------- data chapter
def size_table(cfg: StudyConfig) -> pd.DataFrame:
    """Examples per task and language of the configuration, as its chapters use them.

    ``train``/``dev`` are English (capped by the target recipe), ``test`` the
    per-language count after the profile's ``eval_limit`` (retrieval: queries).
    """
    from . import recipes, training
    from .sources import dataset_sizes

    rows = []
    source = cfg.data_source()
    for task in cfg.tasks:
        langs = cfg.test_languages(task)
        recipe = None
        if task not in training.RETRIEVAL:
            recipe = recipes.get_recipe(cfg.profile, training.SHARED_TARGET.get(task, task), "target")
        for row in dataset_sizes(source, [task], languages=set(langs) | {"en"}):
            n = row["examples"]
            if row["split"] == "test" and cfg.eval_limit:
                n = min(n, cfg.eval_limit)
            if row["split"] == "train" and recipe and recipe.max_train_examples:
                n = min(n, recipe.max_train_examples)
            if row["split"] == "dev" and recipe and recipe.max_dev_examples:
                n = min(n, recipe.max_dev_examples)
            if row["split"] == "test" and row["language"] not in langs:
                continue
            rows.append({"task": task, "split": row["split"], "language": row["language"], "examples": n})
    return pd.DataFrame(rows)


def baseline_table(cfg: StudyConfig) -> pd.DataFrame:
    """Trivial baselines on the configuration's test sets (same languages and limits)."""
    from .baselines import baseline_rows

    rows = []
    for task in cfg.tasks:
        rows.extend(baseline_rows(cfg.data_source(), [task], limit=cfg.eval_limit, languages=cfg.test_languages(task)))
    return pd.DataFrame(rows)


def direct_scores(cfg: StudyConfig) -> pd.DataFrame:
    """Zero-shot scores of the direct arm alone (the data chapter's check against the baselines)."""
    import dataclasses

    return run_zero_shot_phase(dataclasses.replace(cfg, arms=("direct",)))
