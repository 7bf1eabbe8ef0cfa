"""make test's scratch copy of results/: the plan's rows go, other profiles' rows stay byte for byte."""

import pytest

from helpers.errors import StudyError
from studytools import scratch


def test_drop_profile_keeps_other_profiles_rows_exactly(tmp_path):
    table = tmp_path / "zero_shot.csv"
    table.write_text("profile,task,value\nembedded,xnli,50.0\nrealdata,xnli,37.0000000001\nembedded,panx,1\n"
                     "realdata,\"a,b\",\n")
    counts = scratch.drop_profile(tmp_path, "embedded", ["zero_shot.csv", "absent.csv"])
    assert counts == {"zero_shot.csv": (2, 2), "absent.csv": (0, 0)}
    assert table.read_text() == "profile,task,value\nrealdata,xnli,37.0000000001\nrealdata,\"a,b\",\n"
    assert not (tmp_path / "absent.csv").exists()


def test_drop_profile_refuses_a_table_without_profiles(tmp_path, capsys):
    (tmp_path / "bench.csv").write_text("figure,value\noverhead,0.01\n")
    with pytest.raises(StudyError, match="no profile column"):
        scratch.drop_profile(tmp_path, "embedded", ["bench.csv"])
    assert scratch.main([str(tmp_path), "--profile", "embedded", "bench.csv"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert (tmp_path / "bench.csv").read_text() == "figure,value\noverhead,0.01\n"
