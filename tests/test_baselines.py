"""Trivial baselines on a small generated benchmark."""

from __future__ import annotations

import pytest

from helpers.baselines import baseline_rows, main, ngram_rankings, overlap_answer
from helpers.generate import generate_benchmark
from helpers.sources import Source


def test_overlap_and_ngrams():
    ctx = "Anna lives in Paris. Omar works for UNESCO."
    assert overlap_answer(ctx, "Where does Omar work?", "en") == "Omar works for UNESCO."
    assert overlap_answer("安娜住在巴黎。奥马尔在联合国工作。", "奥马尔在哪里工作？", "zh") == "奥马尔在联合国工作。"
    assert ngram_rankings(["Hallo Welt"], ["Bonjour", "Hallo Welt!", "Welt"])[0][0] == 1


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return Source("embedded", generate_benchmark(tmp_path_factory.mktemp("b") / "e", seed=3, n_train=20,
                                                  n_dev=4, n_test=8))


def test_rows(bench):
    rows = baseline_rows(bench, ["xnli", "panx", "xquad", "tatoeba"], languages=["en", "de", "zh"])
    keys = {(r["task"], r["language"], r["metric"]) for r in rows}
    assert ("xnli", "de", "accuracy") in keys and ("xquad", "zh", "f1") in keys and ("tatoeba", "de", "accuracy") in keys
    assert all(0 <= r["value"] <= 100 for r in rows)
    assert {r["baseline"] for r in rows} == {"majority", "most-frequent-tag", "sentence-overlap", "char-3gram-overlap"}
    # most-frequent-tag: English-script names are known (precision 100) but entities are missed;
    # Han-script names are unseen in the English training data, so zh gets nothing
    f1 = {r["language"]: r["value"] for r in rows if r["task"] == "panx" and r["metric"] == "f1"}
    assert 0 < f1["de"] < 100 and 0 < f1["en"] < 100 and f1["zh"] == 0.0


def test_cli_rejects_unknown_task(capsys):
    from helpers.errors import StudyError

    with pytest.raises(StudyError, match="unknown task"):
        main(["--task", "nope"])


def test_chance_levels_and_the_majority_on_the_test_items(bench):
    from helpers.baselines import chance_level, level_rows, majority_on_test

    assert chance_level("xnli") == pytest.approx(100 / 3) and chance_level("xcopa") == 50.0
    assert chance_level("panx") == chance_level("xquad") == chance_level("lareqa") == 0.0
    assert chance_level("tatoeba", n_candidates=4) == 25.0 and chance_level("tatoeba") == 0.0
    # 2 of 4 test items are class 0: 50, never below chance (a small training set's majority can be)
    assert majority_on_test("xnli", [0, 2, 0, 1]) == 50.0 and majority_on_test("xcopa", [1, 1, 1, 0]) == 75.0
    assert majority_on_test("panx", []) is None
    rows = level_rows(bench, ["xnli", "panx", "tatoeba"], languages=["en", "de"], limit=6)
    by = {(r["task"], r["language"]): r for r in rows}
    assert set(by) == {(t, lang) for t in ("xnli", "panx") for lang in ("en", "de")} | {("tatoeba", "de")}
    xnli = by[("xnli", "de")]
    assert xnli["examples"] == 6 and xnli["chance"] == pytest.approx(100 / 3)
    assert 100 / 3 <= xnli["majority_test"] <= 100 and by[("panx", "de")]["majority_test"] is None
    assert by[("tatoeba", "de")]["chance"] == pytest.approx(100 / by[("tatoeba", "de")]["examples"])


def test_every_score_beside_its_levels_and_the_degenerate_flag():
    from helpers.baselines import beside_scores

    zero = [{"arm": "direct", "seed": 1, "target_task": "xnli", "language": "de", "metric": m, "value": v}
            for m, v in (("accuracy", 40.0), ("top_class_share", 97.0))]
    zero += [{"arm": "mnli", "seed": 1, "target_task": "panx", "language": "de", "metric": m, "value": v}
             for m, v in (("f1", 30.0), ("precision", 35.0), ("top_class_share", 80.0))]
    levels = [{"task": "xnli", "language": "de", "examples": 100, "chance": 100 / 3, "majority_test": 45.0},
              {"task": "panx", "language": "de", "examples": 100, "chance": 0.0, "majority_test": None}]
    trivial = [{"task": "panx", "language": "de", "metric": "f1", "value": 12.0, "baseline": "most-frequent-tag"}]
    got = beside_scores(zero, levels, trivial)
    assert got == [
        {"arm": "direct", "seed": 1, "task": "xnli", "language": "de", "metric": "accuracy", "score": 40.0,
         "chance": 100 / 3, "majority_test": 45.0, "trivial": None, "top_class_share": 97.0, "degenerate": True},
        {"arm": "mnli", "seed": 1, "task": "panx", "language": "de", "metric": "f1", "score": 30.0,
         "chance": 0.0, "majority_test": None, "trivial": 12.0, "top_class_share": 80.0, "degenerate": False}]
