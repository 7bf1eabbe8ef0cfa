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


def test_several_runs_end_in_their_medians_with_the_range(capsys, isolated_results):
    code = bench.main(["--quick", "--optimum", "skip", "--threads", "1", "--sentences", "8", "--repeats", "2",
                       "--runs", "3"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and FINAL.match(out[-1]) and out[-2].startswith("median of 3 runs [min, max]: ")
    per_run = [line for line in out[:-1] if FINAL.match(line)]
    assert len(per_run) == 3
    overheads = sorted(float(re.search(r"overhead_vs_raw=(-?[\d.]+)", line).group(1)) for line in per_run)
    assert out[-1].startswith(f"overhead_vs_raw={overheads[1]:.4f} ")
    table = read_table(isolated_results / "results" / "bench.csv")
    assert sorted({r["run"] for r in table}) == ["0", "1", "2"] and len(table) == 15


def test_paired_overhead_is_the_geometric_mean_of_paired_ratios():
    # repetition ratios 1.1 and 1/1.1: no overhead, whatever the drift between repetitions
    assert bench.paired_overhead([1.1, 2.0], [1.0, 2.2]) == pytest.approx(0.0, abs=1e-12)
    assert bench.paired_overhead([1.02, 2.04, 3.06], [1.0, 2.0, 3.0]) == pytest.approx(0.02)
    assert math.isnan(bench.paired_overhead([], []))


def test_summarise_runs_pinned():
    runs = [{"overhead_vs_raw": x, "speedup_vs_pipeline": 2.0, "ratio_vs_optimum_benchmark": math.nan}
            for x in (0.03, -0.01, 0.02, 0.05, 0.0)]
    summary = bench.summarise_runs(runs)
    assert summary["overhead_vs_raw"] == {"median": 0.02, "min": -0.01, "max": 0.05, "n": 5}
    assert summary["ratio_vs_optimum_benchmark"]["n"] == 0
    assert bench.spread_line(summary) == ("median of 5 runs [min, max]: overhead_vs_raw 0.0200 [-0.0100, 0.0500]; "
                                          "speedup_vs_pipeline 2.0000 [2.0000, 2.0000]; ratio_vs_optimum_benchmark nan")


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
