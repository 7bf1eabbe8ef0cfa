"""studytools.sweep: validation before submission, the job layout, and a real local sweep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import runs
from studytools import sweep
from helpers.errors import StudyError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def study_env(tmp_path, monkeypatch) -> Path:
    for var, sub in (("STUDY_RESULTS_DIR", "results"), ("STUDY_RUNS_DIR", "runs"),
                     ("STUDY_CACHE_DIR", "cache"), ("STUDY_BOOK_DIR", "book")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    return tmp_path


def small_plan(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text("name: small\nprofile: smoke\nseed: 1\nparameters: {eval_limit: 4}\nnotebooks: [01_setup]\n")
    return path


# ----------------------------------------------------------------------------- parsing
def test_parse_list_pins():
    assert sweep.parse_list("task", "xnli, panx") == ("xnli", "panx")
    assert sweep.parse_list("seed", "1,2", integer=True) == (1, 2)
    for args, message in [
        (("task", " , "), "--task needs at least one value"),
        (("seed", "1,x"), "--seed values must be non-negative integers, got 'x'"),
        (("seed", "-1"), "--seed values must be non-negative integers, got -1"),
        (("arm", "direct,direct"), "--arm lists a value twice"),
    ]:
        with pytest.raises(StudyError, match=message.replace("(", r"\(")):
            sweep.parse_list(*args, integer=args[0] == "seed")


def test_notebook_parameter_names(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# t"]},
                    {"cell_type": "code", "metadata": {"tags": ["parameters"]},
                     "source": ["profile = 'smoke'  # p\n", "seed: int = 1\n", "task = ''\n"]}],
          "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    assert sweep.notebook_parameter_names(path) == ("profile", "seed", "task")
    nb["metadata"] = {}
    path.write_text(json.dumps(nb))
    with pytest.raises(StudyError, match="must name its kernel"):
        sweep.notebook_parameter_names(path)
    nb["cells"][1]["metadata"] = {}
    path.write_text(json.dumps(nb))
    with pytest.raises(StudyError, match="has no cell tagged 'parameters'"):
        sweep.notebook_parameter_names(path)


# ----------------------------------------------------------------------------- planning
def test_plan_sweep_makes_one_job_per_combination(study_env):
    jobs = sweep.plan_sweep(small_plan(study_env), "01_setup", ("xnli", "panx"), ("direct", "mnli"), (1, 2))
    assert len(jobs) == 8
    out = study_env / "runs" / "sweeps" / "small-01_setup" / "01_setup"
    assert jobs[0].output == str(out / "task-xnli__arm-direct__seed1.ipynb")
    assert jobs[-1].output == str(out / "task-panx__arm-mnli__seed2.ipynb")
    assert len({j.output for j in jobs}) == 8
    assert jobs[1].parameters == {"profile": "smoke", "seed": 2, "eval_limit": 4, "task": "xnli", "arm": "direct"}
    assert jobs[0].env["STUDY_RESULTS_DIR"] == str((study_env / "results").resolve())
    assert jobs[0].env["STUDY_RUNS_DIR"] == str((study_env / "runs").resolve())
    assert jobs[0].env["PYTHONPATH"].split(os.pathsep)[0] == str(REPO / "src")
    assert jobs[0].label == "01_setup task=xnli arm=direct seed=1"
    assert sweep.SweepJob.from_json(jobs[3].to_json()) == jobs[3]
    assert not (study_env / "runs").exists()  # planning writes nothing


@pytest.mark.parametrize(
    "notebook, tasks, arms, message",
    [
        ("05_nosuch", ("xnli",), ("direct",), "notebook '05_nosuch' is not in plan small; valid notebooks: 01_setup"),
        ("01_setup", ("xnli", "nosuch"), ("direct",), "unknown task 'nosuch'; valid tasks: xnli, panx, xquad, tatoeba"),
        ("01_setup", ("xnli",), ("qqp",), "unknown arm 'qqp'; valid arms: direct, mnli"),
    ],
)
def test_plan_sweep_refuses_bad_input(study_env, notebook, tasks, arms, message):
    with pytest.raises(StudyError) as info:
        sweep.plan_sweep(small_plan(study_env), notebook, tasks, arms, (1,))
    assert str(info.value) == message
    assert not (study_env / "runs").exists()


def test_executor_parameters_pins():
    assert sweep.executor_parameters(partition="gpu", gpus_per_node=4, cpus_per_task=8, timeout_min=90,
                                     max_parallel=3, name="s") == {
        "timeout_min": 90, "name": "s", "tasks_per_node": 1, "nodes": 1, "gpus_per_node": 4,
        "cpus_per_task": 8, "slurm_partition": "gpu", "slurm_array_parallelism": 3}
    assert sweep.executor_parameters() == {"timeout_min": 240, "name": "sweep", "tasks_per_node": 1, "nodes": 1}


def test_make_executor(tmp_path):
    local = sweep.make_executor("local", tmp_path / "l", timeout_min=5, gpus_per_node=0)
    assert local.cluster == "local" and local._executor.parameters["timeout_min"] == 5
    assert sweep.make_executor("debug", tmp_path / "d").cluster == "debug"
    with pytest.raises(StudyError, match="valid executors: local, slurm, debug, auto"):
        sweep.make_executor("kubernetes", tmp_path / "k")


def test_multi_gpu_job_launches_accelerate(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, env=None):
        calls.append((cmd, env))
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(sweep.subprocess, "run", fake_run)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    job = sweep.SweepJob("05_target", {"profile": "smoke", "task": "xnli", "arm": "direct", "seed": 1},
                         str(tmp_path / "o" / "task-xnli__arm-direct__seed1.ipynb"), {"STUDY_RUNS_DIR": str(tmp_path)}, 4)
    sweep.run_job(job)
    (cmd, env), = calls
    spec = str(tmp_path / "o" / "task-xnli__arm-direct__seed1.job.json")
    assert cmd[1:] == ["launch", "--multi_gpu", "--num_processes", "4", "-m", "studytools.sweep", "job", "--spec", spec]
    assert env["STUDY_RUNS_DIR"] == str(tmp_path)
    assert not Path(spec).exists()  # the spec is removed after the launch


def test_cli_dry_run_and_errors(study_env):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1"}
    plan = str(small_plan(study_env))
    args = [sys.executable, "-m", "studytools.sweep", "--plan", plan, "--notebook", "01_setup",
            "--task", "xnli,panx", "--arm", "direct", "--seed", "1"]
    proc = subprocess.run(args + ["--dry-run"], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "sweep small-01_setup: 2 jobs (dry run, nothing submitted)"
    assert lines[0].startswith("job 01_setup task=xnli arm=direct seed=1 -> ")
    assert not (study_env / "runs").exists()
    bad = subprocess.run(args[:-1] + ["1,1"], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --seed lists a value twice: '1,1'; give each value once"


# ----------------------------------------------------------------------------- a real sweep

@pytest.mark.slow
def test_local_sweep_of_target_training_writes_every_row(study_env):
    """Two tiny 05_target jobs run at once on the local executor; both rows land in the shared table."""
    if not (REPO / "notebooks" / "05_target.ipynb").exists():
        pytest.skip("notebooks/05_target.ipynb has not landed yet")
    pytest.importorskip("helpers.models", reason="helpers.models (the tiny preset) has not landed yet")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1"}
    plan = study_env / "target.yaml"
    plan.write_text("name: smoke\nprofile: smoke\nseed: 1\nnotebooks: [05_target]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "studytools.sweep", "--plan", str(plan), "--notebook", "05_target",
         "--task", "xnli,panx", "--arm", "direct", "--seed", "1", "--executor", "local", "--timeout-min", "10"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1].startswith("sweep smoke-05_target: 2 jobs, 2 done, 0 failed")
    out = study_env / "runs" / "sweeps" / "smoke-05_target" / "05_target"
    assert sorted(p.name for p in out.iterdir()) == [
        "task-panx__arm-direct__seed1.ipynb", "task-xnli__arm-direct__seed1.ipynb"]
    rows = runs.read_table(study_env / "results" / "training_cost.csv")
    got = sorted((r["profile"], r["arm"], r["phase"], r["task"], r["seed"]) for r in rows)
    assert got == [("smoke", "direct", "target", "panx", "1"), ("smoke", "direct", "target", "xnli", "1")]
    for task in ("xnli", "panx"):  # runs/[<profile>/]direct___<task>/seed1 (runs.lineage_dir)
        assert len(list((study_env / "runs").glob(f"**/direct___{task}/seed1/model.safetensors"))) == 1
    leftovers = [p for p in (study_env / "results").rglob(".tmp-*")] + [p for p in out.rglob(".tmp-*")]
    assert leftovers == []


# ----------------------------------------------------------------------------- issue 15, part B
def test_seed_range_of_a_sweep():
    assert sweep.parse_list("seed", "4294967295", integer=True) == (4294967295,)
    with pytest.raises(StudyError) as info:
        sweep.parse_list("seed", "1,4294967296", integer=True)
    assert str(info.value) == "--seed values must be at most 4294967295 (the seed range of numpy), got 4294967296"


def test_plan_sweep_validates_through_the_notebooks_own_call(study_env):
    plan = study_env / "t.yaml"
    plan.write_text("name: t\nprofile: smoke\nnotebooks: [04_intermediate, 05_target]\n")
    with pytest.raises(StudyError, match="^task tatoeba has no training data"):
        sweep.plan_sweep(plan, "05_target", ("xnli", "tatoeba"), ("direct",), (1,))
    with pytest.raises(StudyError, match="^arm direct has no intermediate phase"):
        sweep.plan_sweep(plan, "04_intermediate", ("xnli",), ("direct",), (1,))
    assert len(sweep.plan_sweep(plan, "05_target", ("xnli", "panx"), ("direct",), (1,))) == 2
    assert not (study_env / "runs").exists()


@pytest.mark.parametrize("executor, sbatch, refused", [
    ("local", None, True), ("debug", None, True), ("auto", None, True),
    ("auto", "/usr/bin/sbatch", False), ("slurm", None, False),
])
def test_gpus_per_node_needs_gpus_where_jobs_run_here(monkeypatch, executor, sbatch, refused):
    monkeypatch.setattr(sweep, "local_gpus", lambda: 0)
    monkeypatch.setattr(sweep.shutil, "which", lambda name: sbatch if name == "sbatch" else None)
    sweep.check_local_gpus(executor, 0)
    if not refused:
        sweep.check_local_gpus(executor, 4)
        return
    with pytest.raises(StudyError) as info:
        sweep.check_local_gpus(executor, 4)
    where = "auto (local here: no sbatch)" if executor == "auto" else executor
    assert str(info.value) == (f"--gpus-per-node 4 needs 4 GPUs on this machine for the {where} executor, "
                               "but it has 0; give --gpus-per-node 0 or use --executor slurm")
    monkeypatch.setattr(sweep, "local_gpus", lambda: 4)
    sweep.check_local_gpus(executor, 4)


def test_a_failing_debug_job_without_a_terminal_is_reported_not_debugged(tmp_path, monkeypatch):
    """submitit's DebugJob opens pdb on an exception; without a terminal the sweep reports the failure instead."""
    def failing(job):
        raise StudyError("results table zero_shot.csv has no rows; run 06_zero_shot first")

    monkeypatch.setattr(sweep, "run_job", failing)
    job = sweep.SweepJob("09_tradeoff", {"task": "xnli", "arm": "direct", "seed": 1}, str(tmp_path / "o.ipynb"))
    ex = sweep.make_executor("debug", tmp_path / "logs")
    handles = sweep.submit([job], ex, sweep.run_job_reporting)
    assert sweep.wait(handles, [job]) == [
        (job, "failed", "results table zero_shot.csv has no rows; run 06_zero_shot first")]
    assert not sweep.has_terminal()  # pytest captures stdin


def test_a_job_spec_sets_only_the_passed_variables(tmp_path):
    job = sweep.SweepJob("01_setup", {"task": "xnli", "arm": "direct", "seed": 1}, str(tmp_path / "o.ipynb"),
                         {"STUDY_RUNS_DIR": str(tmp_path), "PYTHONPATH": "/src"})
    spec = tmp_path / "job.json"
    spec.write_text(job.to_json())
    assert sweep.load_spec(spec) == job
    bad = json.loads(job.to_json())
    bad["env"]["LD_PRELOAD"] = "/tmp/evil.so"
    spec.write_text(json.dumps(bad))
    with pytest.raises(StudyError, match=f"^job spec {spec} sets environment variable 'LD_PRELOAD'; a spec may set "
                                         "only STUDY_RESULTS_DIR, "):
        sweep.load_spec(spec)
    bad = json.loads(job.to_json())
    bad["notebook"] = "../../tmp/evil"
    spec.write_text(json.dumps(bad))
    with pytest.raises(StudyError, match="names notebook '../../tmp/evil'; valid notebooks: 01_setup"):
        sweep.load_spec(spec)
    spec.write_text("{\"notebook\": 1")
    with pytest.raises(StudyError, match="is not a sweep job"):
        sweep.load_spec(spec)


def test_the_logs_folder_is_private(tmp_path):
    logs = sweep.private_dir(tmp_path / "s" / "logs")
    assert logs.is_dir() and logs.stat().st_mode & 0o077 == 0
    assert sweep.private_dir(logs) == logs  # an existing private folder is fine
    logs.chmod(0o777)
    with pytest.raises(StudyError, match="is writable by other users .*mode 0o777.* it must be yours alone"):
        sweep.private_dir(logs)
