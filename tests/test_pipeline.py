"""Forward-only phases: a phase reads its inputs from the run store and never trains another's runs."""

from __future__ import annotations

import json

import pytest

from helpers import costs, evaluation, pipeline, runs, training
from helpers.config import configure
from helpers.errors import StudyError


@pytest.fixture
def no_training(isolated_results, monkeypatch):
    """Every trainer and the evaluation fail the test when called; yields the runs root."""
    def refuse(*args, **kwargs):
        raise AssertionError("a phase trained or evaluated something it does not own")

    for name in ("train_target", "train_intermediate", "train_multitask"):
        monkeypatch.setattr(training, name, refuse)
    monkeypatch.setattr(evaluation, "evaluate_zero_shot", refuse)
    return isolated_results / "runs"


def _fake_run(run_dir, params: dict) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "params.json").write_text(json.dumps(params))
    (run_dir / "metrics.json").write_text('{"dev": {"accuracy": 50.0}}')


def _target_params(cfg, arm: str, task: str, **changes) -> dict:
    init = cfg.model if arm == "direct" else str(runs.lineage_dir(arm, None, cfg.seed, profile=cfg.profile))
    return {"code": runs.code_digest(), "phase": "target", "task": task, "arm": arm, "profile": cfg.profile,
            "seed": cfg.seed, "init": init, "source": costs.source_id(cfg.data_source()), **changes}


def test_a_missing_target_run_is_one_line_naming_its_chapter(no_training):
    cfg = configure(profile="smoke", task="xnli", arm="direct")
    with pytest.raises(StudyError) as info:
        pipeline.require_trained(cfg, "direct", "xnli")
    assert str(info.value) == ("missing input: target run direct/xnli (seed 1) of profile smoke "
                               "-- run chapter 05_target (make book) first")


def test_a_missing_intermediate_run_names_04(no_training):
    cfg = configure(profile="smoke", task="xnli", arm="direct,mnli")
    with pytest.raises(StudyError) as info:
        pipeline.require_intermediate(cfg, "mnli")
    assert str(info.value) == ("missing input: intermediate run mnli (seed 1) of profile smoke "
                               "-- run chapter 04_intermediate (make book) first")


def test_the_zero_shot_phase_on_an_empty_run_store_trains_nothing(no_training):
    cfg = configure(profile="smoke", task="xnli,tatoeba", arm="direct,mnli")
    with pytest.raises(StudyError) as info:
        pipeline.run_zero_shot_phase(cfg)
    assert str(info.value) == ("missing input: target run direct/xnli (seed 1) of profile smoke "
                               "-- run chapter 05_target (make book) first")
    assert "\n" not in str(info.value)
    assert not no_training.exists()  # nothing written: no run, no evaluation cache


def test_the_target_phase_does_not_train_an_intermediate_run(no_training):
    cfg = configure(profile="smoke", task="xnli", arm="direct,mnli", phase="target")
    with pytest.raises(StudyError, match=r"^missing input: intermediate run mnli \(seed 1\) of profile smoke "
                                         r"-- run chapter 04_intermediate \(make book\) first$"):
        pipeline.run_target_phase(cfg)
    assert not no_training.exists()


def test_require_trained_returns_the_run_directory(no_training):
    cfg = configure(profile="smoke", task="xnli,tatoeba", arm="direct")
    run_dir = no_training / "smoke" / "direct___xnli" / "seed1"
    _fake_run(run_dir, _target_params(cfg, "direct", "xnli"))
    assert pipeline.require_trained(cfg, "direct", "xnli") == run_dir
    xquad = no_training / "smoke" / "direct___xquad" / "seed1"
    _fake_run(xquad, _target_params(cfg, "direct", "xquad"))
    assert pipeline.require_trained(cfg, "direct", "mlqa") == xquad  # MLQA shares XQuAD's run
    assert pipeline.arm_model(cfg, "direct", "xnli") == (str(run_dir), "smoke/direct___xnli/seed1")
    assert pipeline.arm_model(cfg, "direct", "tatoeba") == ("tiny", "preset:tiny")


def test_a_run_trained_by_other_code_is_stale(no_training):
    cfg = configure(profile="smoke", task="xnli", arm="direct,mnli")
    stilts = no_training / "smoke" / "mnli___xnli" / "seed1"
    _fake_run(stilts, _target_params(cfg, "mnli", "xnli", code="0" * 64))
    with pytest.raises(StudyError) as info:
        pipeline.require_trained(cfg, "mnli", "xnli")
    assert str(info.value) == (
        f"stale input: target run mnli/xnli (seed 1) of profile smoke in smoke/mnli___xnli/seed1 was trained by "
        f"other code (000000000000, expected {runs.code_digest()[:12]}) -- run chapter 05_target (make book) again")


def test_retrieval_has_no_target_run(no_training):
    cfg = configure(profile="smoke", task="tatoeba", arm="direct")
    with pytest.raises(StudyError, match="^task tatoeba has no target run: retrieval tasks use the arm's encoder"):
        pipeline.require_trained(cfg, "direct", "tatoeba")


def test_a_run_of_another_data_source_is_stale(no_training):
    cfg = configure(profile="smoke", task="xnli", arm="direct")
    _fake_run(no_training / "smoke" / "direct___xnli" / "seed1", _target_params(cfg, "direct", "xnli", source="hub"))
    with pytest.raises(StudyError) as info:
        pipeline.require_trained(cfg, "direct", "xnli")
    assert str(info.value) == (
        f"stale input: target run direct/xnli (seed 1) of profile smoke in smoke/direct___xnli/seed1 was trained "
        f"with another source (hub, expected {costs.source_id(cfg.data_source())}) -- run chapter 05_target "
        f"(make book) again")


# ----------------------------------------------------------------------------- the direct arm's extra seeds
def _seeded_profile(monkeypatch, seed_tasks=("xnli", "xquad"), extra_seeds=(2, 3)):
    import dataclasses

    from helpers.config import get_profile

    smoke = get_profile("smoke")
    fields = {f.name for f in dataclasses.fields(smoke)}
    if {"seed_tasks", "extra_seeds"} <= fields:
        seeded = dataclasses.replace(smoke, seed_tasks=seed_tasks, extra_seeds=extra_seeds)
    else:  # before config.Profile has the fields: pipeline reads them with getattr
        import types

        seeded = types.SimpleNamespace(**{f: getattr(smoke, f) for f in fields}, seed_tasks=seed_tasks,
                                       extra_seeds=extra_seeds)
    monkeypatch.setattr(pipeline, "get_profile", lambda name: seeded if name == "smoke" else get_profile(name))


def test_profiles_without_seed_tasks_train_only_their_seed():
    for profile in ("smoke", "embedded"):
        cfg = configure(profile=profile, task="xnli", arm="direct")
        assert pipeline.seed_jobs(cfg) == []


def test_seed_jobs_cover_the_trained_seed_tasks_of_the_direct_arm(monkeypatch):
    _seeded_profile(monkeypatch)
    cfg = configure(profile="smoke", task="xnli,xquad,tatoeba", arm="direct")
    # every seed task the configuration trains; the configuration's own seed is never repeated
    assert pipeline.seed_jobs(cfg) == [("xnli", 2), ("xnli", 3), ("xquad", 2), ("xquad", 3)]
    assert pipeline.seed_jobs(configure(profile="smoke", task="xnli", arm="direct", seed=2)) == [("xnli", 3)]
    assert pipeline.seed_jobs(configure(profile="smoke", task="tatoeba", arm="direct")) == []
    assert pipeline.seed_jobs(configure(profile="smoke", task="xnli", arm="mnli")) == []  # no direct arm


def test_the_target_phase_trains_the_extra_seeds_of_the_direct_arm(isolated_results, monkeypatch):
    import types

    _seeded_profile(monkeypatch, seed_tasks=("xnli",))
    trained = []

    def fake_train(task, arm, init, *, profile, source, seed):
        trained.append((arm, task, seed))
        return types.SimpleNamespace(arm=arm, phase="target", task=task, run_dir=isolated_results / f"{arm}{seed}",
                                     best_step=1, cost={"steps": 1}, metrics={"accuracy": 50.0}, cached=False)

    monkeypatch.setattr(training, "train_target", fake_train)
    frame = pipeline.run_target_phase(configure(profile="smoke", task="xnli,panx", arm="direct", phase="target"))
    assert trained == [("direct", "xnli", 1), ("direct", "panx", 1), ("direct", "xnli", 2), ("direct", "xnli", 3)]
    assert list(frame["seed"]) == [1, 1, 2, 3]


def test_the_zero_shot_phase_evaluates_the_extra_seeds_and_records_items(isolated_results, monkeypatch):
    from helpers.runs import read_table, results_root

    _seeded_profile(monkeypatch, seed_tasks=("xnli",), extra_seeds=(2,))
    monkeypatch.setattr(pipeline, "arm_model", lambda cfg, arm, task: (f"m{cfg.seed}", f"runs/{arm}/{task}/{cfg.seed}"))
    calls = []

    def fake_eval(model, task, languages, source, *, arm, intermediate, profile, seed, run_dir, items, **kw):
        calls.append((arm, task, seed, model))
        items.extend({"profile": profile, "arm": arm, "seed": seed, "target_task": task, "language": "de",
                      "item": i, "correct": c, "model": "tiny", "source": "s", "eval_limit": 8}
                     for i, c in enumerate((1, seed % 2)))
        return [{"profile": profile, "arm": arm, "intermediate": "", "target_task": task, "language": "de",
                 "metric": "accuracy", "value": 50.0 + seed, "seed": seed, "run_dir": run_dir, "model": "tiny",
                 "source": "s", "eval_limit": 8, "examples": 2}]

    monkeypatch.setattr(evaluation, "evaluate_zero_shot", fake_eval)
    cfg = configure(profile="smoke", task="xnli,tatoeba", arm="direct")
    frame = pipeline.run_zero_shot_phase(cfg)
    assert calls == [("direct", "xnli", 1, "m1"), ("direct", "tatoeba", 1, "m1"), ("direct", "xnli", 2, "m2")]
    assert sorted(zip(frame["target_task"], frame["seed"])) == [("tatoeba", 1), ("xnli", 1), ("xnli", 2)]
    items = read_table(results_root() / "zero_shot_items.csv")
    assert sorted((r["target_task"], r["seed"], r["item"], r["correct"]) for r in items) == [
        ("tatoeba", "1", "0", "1"), ("tatoeba", "1", "1", "1"), ("xnli", "1", "0", "1"), ("xnli", "1", "1", "1"),
        ("xnli", "2", "0", "1"), ("xnli", "2", "1", "0")]
    # a second run reads the evaluation caches (rows and items) and evaluates nothing
    calls.clear()
    again = pipeline.run_zero_shot_phase(cfg)
    assert calls == [] and again[list(frame.columns)].equals(frame)
    assert read_table(results_root() / "zero_shot_items.csv") == items
