"""studytools.reference: the tolerance check that stands in for nbval on score cells."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from studytools import reference
from helpers.errors import StudyError

REPO = Path(__file__).resolve().parents[1]
# `make test` runs nbval over a scratch copy of the chapters first and names it here; read at import,
# before conftest's autouse fixture points STUDY_RESULTS_DIR at a private folder.
NBVAL_SCRATCH = os.environ.get("STUDY_NBVAL_SCRATCH")

COST_COLS = ["profile", "arm", "phase", "task", "seed", "examples", "tokens", "steps", "wall_s", "flops"]
ZS_COLS = ["profile", "arm", "intermediate", "target_task", "language", "metric", "value", "seed", "run_dir"]


def _write(path: Path, cols: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(cols)
        writer.writerows(rows)


def _tables(root: Path, scores: dict[tuple[str, str], float], flops: int = 1000, wall: float = 1.5) -> Path:
    _write(root / "training_cost.csv", COST_COLS,
           [["embedded", "direct", "target", "xnli", 1, 64, 900, 24, wall, flops],
            ["smoke", "direct", "target", "xnli", 1, 8, 90, 2, 0.1, 7]])
    _write(root / "zero_shot.csv", ZS_COLS,
           [["embedded", arm, "", "xnli", lang, "accuracy", v, 1, "x"] for (arm, lang), v in scores.items()])
    return root


LANGS = ["ar", "de", "en", "es", "fr"]
BASE = {(arm, lang): 50.0 + i for arm in ("direct", "mnli") for i, lang in enumerate(LANGS)}


def test_identical_tables_pass(tmp_path):
    ref = _tables(tmp_path / "ref", BASE)
    got = reference.compare(_tables(tmp_path / "new", BASE, wall=99.0), ref)  # wall time is never compared
    assert got.ok and got.rows == 10 and got.equal == 10
    assert got.arm_shift == {"direct": 0.0, "mnli": 0.0}


def test_one_flipped_answer_is_tolerated(tmp_path):
    ref = _tables(tmp_path / "ref", BASE)
    fresh = {**BASE, ("mnli", "de"): 51.0 + 6.25}
    got = reference.compare(_tables(tmp_path / "new", fresh), ref)
    assert got.ok and got.equal == 9
    assert got.arm_shift["mnli"] == pytest.approx(1.25)


def test_too_many_changed_scores_fail(tmp_path):
    ref = _tables(tmp_path / "ref", BASE)
    fresh = {k: v + (0.5 if k[1] in ("ar", "de", "en") else 0.0) for k, v in BASE.items()}  # 6 of 10 moved
    got = reference.compare(_tables(tmp_path / "new", fresh), ref)
    assert not got.ok
    assert got.problems == ["zero_shot.csv: only 4 of 10 scores (40.0%) match the reference; at least 80% must"]


def test_an_arm_that_drifts_fails_even_when_most_rows_match(tmp_path):
    scores = {(arm, f"l{i}"): 50.0 for arm in ("direct", "mnli") for i in range(10)}
    ref = _tables(tmp_path / "ref", scores)
    fresh = {**scores, ("mnli", "l0"): 80.0}  # 19 of 20 identical, mnli mean +3.0
    got = reference.compare(_tables(tmp_path / "new", fresh), ref)
    assert got.problems == ["zero_shot.csv: arm mnli's mean score moved +3.00 points (tolerance ±2.0)"]


def test_flops_and_missing_rows_are_exact(tmp_path):
    ref = _tables(tmp_path / "ref", BASE)
    fresh = {k: v for k, v in BASE.items() if k != ("direct", "fr")}
    got = reference.compare(_tables(tmp_path / "new", fresh, flops=1001), ref)
    assert got.problems[0].startswith("training_cost.csv: {'profile': 'embedded', 'arm': 'direct', 'phase': "
                                      "'target', 'task': 'xnli', 'seed': '1'} flops is 1001, reference 1000")
    assert "zero_shot.csv: missing from the fresh run: {'profile': 'embedded', 'arm': 'direct', " in got.problems[1]
    assert len(got.problems) == 2


def test_missing_table_is_one_clear_error(tmp_path):
    ref = _tables(tmp_path / "ref", BASE)
    with pytest.raises(StudyError, match=r"new/training_cost\.csv is missing"):
        reference.compare(tmp_path / "new", ref)


def test_cli_exit_codes(tmp_path, capsys):
    ref = _tables(tmp_path / "ref", BASE)
    assert reference.main([str(_tables(tmp_path / "new", BASE)), str(ref)]) == 0
    assert "identical=10 (100.0%)" in capsys.readouterr().out
    assert reference.main([str(tmp_path / "absent"), str(ref)]) == 2


def test_nbval_rerun_matches_the_committed_results():
    """After nbval re-executed every chapter (make test), its scores agree with the reference run."""
    if not NBVAL_SCRATCH:
        pytest.skip("STUDY_NBVAL_SCRATCH is unset: `make test` sets it after nbval re-executes the chapters")
    scratch = Path(NBVAL_SCRATCH)
    if not any((scratch / "runs" / "evaluations").glob("*.json")):
        pytest.skip(f"{scratch}/runs holds no fresh evaluations: nbval did not re-execute the chapters")
    got = reference.compare(scratch / "results", REPO / "results")
    print(got.summary())
    assert got.ok, got.summary()


# ----------------------------------------------------------------------------- the new keys (issue 15)
NEW_ZS = ZS_COLS + ["model", "source", "eval_limit"]
NEW_COST = COST_COLS + ["peak_mem_mb", "device", "model", "source", "recipe"]


def _new_tables(root: Path, limits: dict[int, float]) -> Path:
    _write(root / "training_cost.csv", NEW_COST,
           [["embedded", "direct", "target", "xnli", 1, 64, 900, 24, 1.0, 1000, 1.0, "cpu", "e5-small", "embedded", r]
            for r in ("aaaaaaaaaaaa", "bbbbbbbbbbbb")])  # the same run under two recipes: two rows
    _write(root / "zero_shot.csv", NEW_ZS,
           [["embedded", "direct", "", "xnli", "de", "accuracy", v, 1, "x", "e5-small", "embedded", limit]
            for limit, v in limits.items()])
    return root


def test_tables_with_the_new_keys_compare_rows_of_each_eval_limit_and_recipe(tmp_path):
    ref = _new_tables(tmp_path / "ref", {16: 50.0, 64: 32.81})
    got = reference.compare(_new_tables(tmp_path / "new", {16: 50.0, 64: 32.81}), ref)
    assert got.ok and got.rows == 2 and got.equal == 2  # before the new key: "duplicate row" errors
    moved = reference.compare(_new_tables(tmp_path / "moved", {16: 50.0, 64: 40.0}), ref)
    assert moved.equal == 1


def test_a_reference_table_without_the_new_columns_is_still_accepted(tmp_path):
    old = _tables(tmp_path / "old", {("direct", "de"): 50.0})
    fresh = tmp_path / "fresh"
    _write(fresh / "training_cost.csv", NEW_COST,
           [["embedded", "direct", "target", "xnli", 1, 64, 900, 24, 1.0, 1000, 1.0, "cpu", "e5-small", "embedded",
             "aaaaaaaaaaaa"]])
    _write(fresh / "zero_shot.csv", NEW_ZS,
           [["embedded", "direct", "", "xnli", "de", "accuracy", 50.0, 1, "x", "e5-small", "embedded", 16]])
    got = reference.compare(fresh, old)
    assert got.ok and got.rows == 1 and got.equal == 1


def test_tables_with_the_examples_column_and_top_class_share_rows_compare(tmp_path):
    """Issue 13: zero_shot.csv gained `examples` (not a key column) and `top_class_share` metric rows."""
    cols = NEW_ZS + ["examples"]
    rows = [["embedded", "direct", "", "xnli", "de", metric, v, 1, "x", "e5-small", "embedded", "all", 120]
            for metric, v in (("accuracy", 50.0), ("top_class_share", 97.5))]
    for name in ("ref", "new"):
        _write(tmp_path / name / "training_cost.csv", NEW_COST,
               [["embedded", "direct", "target", "xnli", 1, 64, 900, 24, 1.0, 1000, 1.0, "cpu", "e5-small",
                 "embedded", "aaaaaaaaaaaa"]])
        _write(tmp_path / name / "zero_shot.csv", cols, rows)
    got = reference.compare(tmp_path / "new", tmp_path / "ref")
    assert got.ok and got.rows == 2 and got.equal == 2
