"""The driver: plan validation, papermill execution into chapters, skipping unchanged chapters."""

import json

import pytest

from helpers import study
from helpers.errors import StudyError


def write_plan(tmp_path, body: str):
    path = tmp_path / "plan.yaml"
    path.write_text(body)
    return path


def test_load_plan_resolves_parameters(tmp_path):
    plan = study.load_plan(write_plan(tmp_path, "profile: smoke\nseed: 3\nparameters: {eval_limit: 2}\n"
                                                "notebooks:\n  - 01_setup\n  - {notebook: 02_data, parameters: {task: xnli}}\n"))
    assert [s.notebook for s in plan.steps] == ["01_setup", "02_data"]
    assert plan.steps[1].parameters == {"profile": "smoke", "seed": 3, "eval_limit": 2, "task": "xnli"}


@pytest.mark.parametrize("body, message", [
    ("profile: smoke\nnotebooks: [nosuch]\n", "unknown notebook 'nosuch'; valid notebooks: 01_setup"),
    ("profile: nosuch\nnotebooks: [01_setup]\n", "unknown profile 'nosuch'; valid profiles: smoke"),
    ("profile: smoke\nseed: -1\nnotebooks: [01_setup]\n", "'seed' must be a non-negative integer"),
    ("profile: smoke\nnotebook: [01_setup]\n", "unknown keys ['notebook']"),
    ("profile: smoke\nnotebooks: []\n", "'notebooks' must be a non-empty list"),
    ("profile: [smoke\n", "is not valid YAML at line"),
])
def test_bad_plans_fail_with_one_line(tmp_path, body, message):
    with pytest.raises(StudyError) as info:
        study.load_plan(write_plan(tmp_path, body))
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.slow
def test_run_executes_then_skips_unchanged_chapters(tmp_path, capsys):
    plan = study.load_plan(write_plan(tmp_path, "profile: smoke\nnotebooks: [01_setup]\n"))
    assert study.run_plan(plan)[0][1] == "ran"
    chapter = study.book_dir() / "01_setup.ipynb"
    meta = json.loads(chapter.read_text())["metadata"]["study"]
    assert meta["cache_key"] == plan.steps[0].cache_key() and meta["parameters"]["profile"] == "smoke"
    assert study.run_plan(plan)[0][1] == "skipped"
    assert study.run_plan(plan, force=True)[0][1] == "ran"
    out = capsys.readouterr().out
    assert "[1/1] 01_setup: unchanged since its last run, skipped" in out and "done in" in out
    assert not list(chapter.parent.glob(".tmp-*"))
    from helpers import runs

    assert [r["notebook"] for r in runs.read_table(runs.results_root() / "phase_times.csv")] == ["01_setup"]


def test_a_failing_chapter_is_one_line_and_leaves_no_chapter(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_BOOK_DIR", str(tmp_path / "book"))
    plan = study.load_plan(write_plan(tmp_path, "profile: smoke\nparameters: {task: nosuch}\nnotebooks: [01_setup]\n"))
    with pytest.raises(StudyError, match="01_setup failed in cell .*unknown task 'nosuch'; valid tasks"):
        study.run_plan(plan)
    assert not (tmp_path / "book" / "01_setup.ipynb").exists()
    assert not list((tmp_path / "book").glob(".tmp-*"))
