"""studytools.bench: the final line's format on the quick mode; optimum-benchmark only where its venv exists."""

from __future__ import annotations

import math
import re

import pytest

from helpers import tatoeba
from studytools import bench
from helpers.errors import StudyError
from helpers.runs import read_table

NUM = r"(?:-?\d+\.\d{4}|nan)"
FINAL = re.compile(rf"^overhead_vs_raw={NUM} speedup_vs_pipeline={NUM} ratio_vs_optimum_benchmark={NUM}$")


def test_final_line_format_pinned():
    assert bench.final_line(0.0123, 2.5, math.nan) == (
        "overhead_vs_raw=0.0123 speedup_vs_pipeline=2.5000 ratio_vs_optimum_benchmark=nan")
    assert FINAL.match(bench.final_line(-0.01, 1.0, 1.25))


def test_sample_sentences_is_fixed_and_mixed(realdata):
    a, src = tatoeba.sample_sentences(40, seed=0, root=realdata)
    b, _ = tatoeba.sample_sentences(40, seed=0, root=realdata)
    assert a == b and len(a) == 40 and "Tatoeba" in src
    assert len({len(s) for s in a}) > 10  # mixed lengths


def test_sample_sentences_falls_back_without_realdata(tmp_path):
    texts, src = tatoeba.sample_sentences(30, root=tmp_path)
    assert len(texts) == 30 and "fallback" in src


def test_quick_bench_prints_the_final_line_last(capsys, isolated_results):
    code = bench.main(["--quick", "--optimum", "skip", "--threads", "1", "--sentences", "12", "--repeats", "2"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert FINAL.match(out[-1]), out[-1]
    assert out[-1].endswith("ratio_vs_optimum_benchmark=nan")
    table = read_table(isolated_results / "results" / "bench.csv")
    peers = {r["peer"]: r for r in table}
    assert len(table) == 5 and all(r["mode"] == "quick" for r in table)
    # ours, raw and the pipeline count the same real tokens of the same sentences
    assert peers["ours (timing.time_arms)"]["tokens"] == peers["raw model(**batch) loop"]["tokens"] \
        == peers["transformers pipeline loop"]["tokens"]
    # optimum-benchmark was skipped: its row says so and carries no measurement
    opt = peers["optimum-benchmark 0.6.0"]
    assert opt["repeats"] == "0" and opt["token_counting"].endswith(" — skipped")
    assert math.isnan(float(opt["tokens_per_s"])) and math.isnan(float(opt["seconds_median"]))
    assert float(peers["ours on optimum's workload"]["tokens_per_s"]) > 0


def test_bad_input_is_one_line():
    with pytest.raises(StudyError, match="valid optimum modes"):
        bench.run_bench(quick=True, optimum="maybe", record=False)
    with pytest.raises(StudyError, match="positive integer"):
        bench.run_bench(quick=True, batch=0, record=False, optimum="skip")


@pytest.mark.slow
@pytest.mark.skipif(not bench.optimum_ready(), reason=".venv-optimum (optimum-benchmark 0.6.0) is not installed")
def test_quick_bench_with_optimum_benchmark(capsys, isolated_results, monkeypatch):
    monkeypatch.setenv("STUDY_CACHE_DIR", str(isolated_results / "cache"))
    code = bench.main(["--quick", "--optimum", "require", "--threads", "1", "--sentences", "12", "--repeats", "2"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert code == 0 and FINAL.match(last) and not last.endswith("=nan")
    # optimum-benchmark ran: its row holds a real measurement of the 32 x 128 workload
    opt = {r["peer"]: r for r in read_table(isolated_results / "results" / "bench.csv")}["optimum-benchmark 0.6.0"]
    assert opt["tokens"] == str(32 * 128) and int(opt["repeats"]) > 0 and "skipped" not in opt["token_counting"]
    assert float(opt["tokens_per_s"]) > 0
