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
