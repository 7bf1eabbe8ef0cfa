"""The bad-input suite: the harness judges correctly, and every case is a clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studytools import verify_inputs as vi
from helpers.errors import StudyError

REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- the judge
@pytest.mark.parametrize(
    "message, expect, problems",
    [
        ("unknown task 'x'; valid tasks: a, b", ("'x'", "a, b"), []),
        ("seed must be a non-negative integer, got -1", (), []),
        ("something went wrong", (), ["does not name what is valid"]),
        ("unknown task 'x'; valid tasks: a", ("'y'",), ["does not mention [\"'y'\"]"]),
        ("", (), ["empty message", "does not name what is valid"]),
        ("valid\nsecond line", (), ["more than one line"]),
        ("Traceback (most recent call last): valid", (), ["contains a traceback"]),
    ],
)
def test_problems_with_message_pins(message, expect, problems):
    assert vi.problems_with_message(message, expect) == problems


def _judge(func, **kw) -> vi.Outcome:
    return vi.run_case(vi.Case("probe", func, **kw))


def test_a_clear_error_passes():
    def bad(scratch):
        raise StudyError("unknown colour 'mauve'; valid colours: red, blue")

    o = _judge(bad, expect=("'mauve'",))
    assert o.clear and o.message == "unknown colour 'mauve'; valid colours: red, blue" and o.reason == ""


def test_no_error_is_not_clear():
    o = _judge(lambda scratch: None)
    assert not o.clear and o.reason == "no error raised"


def test_wrong_exception_type_is_not_clear():
    def bad(scratch):
        raise KeyError("nosuch")

    o = _judge(bad)
    assert not o.clear and o.reason == "raised KeyError, not StudyError" and o.message == "KeyError: 'nosuch'"


def test_writing_a_result_before_failing_is_caught():
    def bad(scratch):
        Path(os.environ["STUDY_RESULTS_DIR"], "zero_shot.csv").write_text("half")
        raise StudyError("unknown task 'x'; valid tasks: a")

    o = _judge(bad)
    assert not o.clear and o.reason == "wrote 1 files under STUDY_RESULTS_DIR (zero_shot.csv)"


def test_building_a_model_before_failing_is_caught():
    def bad(scratch):
        import torch

        torch.nn.Linear(2, 2)
        raise StudyError("unknown task 'x'; valid tasks: a")

    o = _judge(bad)
    assert not o.clear and o.reason.startswith("built ") and "torch modules before failing" in o.reason
    assert _judge(bad, allow_model=True).clear


def test_dirs_are_fresh_and_restored(monkeypatch):
    monkeypatch.setenv("STUDY_RUNS_DIR", "/somewhere/else")
    seen = {}

    def probe(scratch):
        seen.update({k: os.environ[k] for k in vi.ENV_DIRS})
        raise StudyError("valid")

    _judge(probe)
    assert all(not Path(v).exists() for v in seen.values())  # removed afterwards
    assert len(set(seen.values())) == 4 and "/somewhere/else" not in seen.values()
    assert os.environ["STUDY_RUNS_DIR"] == "/somewhere/else"


def test_main_counts_unclear_cases(monkeypatch, capsys):
    monkeypatch.setattr(vi, "CASES", [vi.Case("silent", lambda scratch: None),
                                      vi.Case("good", lambda scratch: (_ for _ in ()).throw(StudyError("valid x")))])
    assert vi.main([]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "cases=2 clear_errors=1"
    assert out[0].startswith("UNCLEAR silent:") and out[1] == "ok      good: valid x"


# ----------------------------------------------------------------------------- the suite
REQUIRED = {
    "unknown-profile", "unknown-task", "unknown-language", "unknown-model-preset", "unknown-arm",
    "zero-epochs", "negative-max-steps", "zero-batch-size", "negative-learning-rate",
    "retrieval-task-training", "missing-data-dir", "empty-data-dir",
    "plan-bad-yaml", "plan-unknown-key", "plan-unknown-notebook",
    "truncated-squad-json", "tsv-missing-column", "corrupted-checkpoint",
    # issue 15, part A: outputs a command does not own, results keys, training values
    "cli-training-data-dir-user-files", "embedded-source-user-folder", "cli-training-run-dir-user-folder",
    "generated-benchmark-over-user-folder", "atomic-directory-usual-mode", "cli-training-infinite-learning-rate",
    "recipe-nan-weight-decay", "cli-training-loss-diverges", "cli-training-arm-not-in-profile",
    "cli-training-arm-untrained-intermediate", "cli-training-init-missing", "training-cost-recipe-own-key",
    "zero-shot-eval-limit-own-key", "smoke-run-keeps-embedded-run", "papermill-by-hand-leaves-committed-results",
    # issue 15, part B: plans, notebook parameters, the driver and sweeps
    "plan-latin1", "papermill-unknown-parameter", "plan-entry-misspelled-parameters", "plan-undeclared-parameter",
    "plan-profile-in-parameters", "cli-study-late-validation", "papermill-target-retrieval-task",
    "papermill-intermediate-direct-arm", "papermill-tradeoff-empty-results", "seed-too-large",
    "plan-seed-too-large", "cli-sweep-seed-too-large", "plan-duplicate-notebook", "cli-study-plan-is-directory",
    "cli-sweep-gpus-on-a-cpu-machine", "cli-sweep-job-spec-env", "sweep-debug-failing-job-no-terminal",
    # issue 15, part C: data files
    "data-file-latin1", "data-file-latin1-tatoeba", "data-file-utf16", "data-file-bom-first-token",
    "data-file-bom-first-text", "xcopa-label-float", "xcopa-label-true", "cosmosqa-label-not-integer",
    "deeply-nested-json", "deeply-nested-jsonl", "verify-data-latin1", "xtreme-dir-no-task-files",
    "papermill-seed-not-a-number", "papermill-unknown-task", "cli-study-missing-plan",
}


def test_the_suite_covers_the_required_cases():
    names = [c.name for c in vi.CASES]
    assert len(names) >= 20 and len(set(names)) == len(names)
    assert sorted(REQUIRED - set(names)) == []


#: Cases known not to be clear errors yet, with what must change (strict: a fix makes this fail).
KNOWN_GAPS: dict[str, str] = {}


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN_GAPS[c.name], strict=True)) if c.name in KNOWN_GAPS else c
     for c in vi.CASES],
    ids=[c.name for c in vi.CASES],
)
def test_case_is_a_clear_error(case):
    outcome = vi.run_case(case)
    assert outcome.clear, f"{case.name}: {outcome.message!r} [{outcome.reason}]"


def test_cli_prints_cases_and_summary(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "studytools.verify_inputs", "--case", "unknown-profile", "--case", "negative-seed"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines == [
        "ok      unknown-profile: unknown profile 'nosuch'; valid profiles: smoke, embedded, xtreme-dir, full, realdata",
        "ok      negative-seed: seed must be a non-negative integer, got -3",
        "cases=2 clear_errors=2",
    ]
    bad = subprocess.run(
        [sys.executable, "-m", "studytools.verify_inputs", "--case", "nosuch"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().startswith("error: unknown case 'nosuch'; valid cases: unknown-profile,")
