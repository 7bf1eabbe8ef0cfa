"""scripts/gpu_bench.py: its CPU code path on tiny shapes, and its fail-fast without a GPU."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from helpers.runs import read_table

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_bench.py"


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: the fail-fast path cannot be checked")
def test_fails_fast_with_one_line_without_a_gpu(capsys):
    gpu_bench = load_script()
    with pytest.raises(SystemExit) as stop:
        gpu_bench.main([])
    assert "no CUDA GPU" in str(stop.value) and "--device cpu --quick" in str(stop.value)
    assert "\n" not in str(stop.value)


@pytest.mark.slow
def test_cpu_quick_path_writes_both_tables(tmp_path, capsys, isolated_results):
    gpu_bench = load_script()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out, train_out = tmp_path / "inference_gpu.csv", tmp_path / "training_gpu.csv"
        assert gpu_bench.main(["--device", "cpu", "--quick", "--out", str(out), "--train-out", str(train_out)]) == 0
    finally:
        torch.set_num_threads(before)
    text = capsys.readouterr().out
    assert "== versions: python" in text and "torch" in text
    rows = read_table(out)
    sweeps = {r["sweep"] for r in rows}
    assert sweeps == {"gpu_grid", "gpu_real", "gpu_early_exit", "gpu_levers"}
    assert all(r["device_name"].startswith("cpu") and r["date"] and r["source"] == "scripts/gpu_bench.py"
               for r in rows)
    grid = [r for r in rows if r["sweep"] == "gpu_grid"]
    # 2 tiny models x 2 batch sizes x 2 lengths x 2 repetitions
    assert len(grid) == 16 and {r["arm"] for r in grid} == {"tiny-a", "tiny-b"}
    for r in grid:
        assert int(r["tokens"]) == int(r["padded_tokens"])  # synthetic: every position real
        assert float(r["flops_per_token"]) > 0 and r["device_name"].startswith("cpu")
        assert r["fraction_of_datasheet_peak"] == ""  # no datasheet figure for a CPU
    real = [r for r in rows if r["sweep"] == "gpu_real"]
    assert all(float(r["p50_ms"]) > 0 and r["peak_memory_mb"] != "" for r in real)
    assert {r["arm"] for r in rows if r["sweep"] == "gpu_early_exit"} == {"tiny-a:layers=1", "tiny-a:layers=2"}
    levers = [r for r in rows if r["sweep"] == "gpu_levers"]
    # per tiny model and workload: batch4, budget64, budget256 in fp32, and budget64 in bf16 too; no compile on cpu
    combos = {(r["arm"], r["padding"], r["dtype"]) for r in levers}
    assert {("tiny-a", "batch4", "fp32"), ("tiny-a", "budget64", "fp32"), ("tiny-a", "budget64", "bf16"),
            ("tiny-a", "budget256", "fp32")} <= combos
    assert not any("compile" in r["padding"] for r in levers)
    by = {(r["arm"], r["workload"], r["padding"], r["dtype"], r["repetition"]): r for r in levers}
    small = by[("tiny-a", "tatoeba", "budget64", "fp32", "0")]
    assert int(small["tokens"]) <= int(small["padded_tokens"]) and int(small["batch"]) > 4  # short sentences, big batches
    train = read_table(train_out)
    assert {(r["preset"], r["dtype"], r["batch"], r["length"]) for r in train} == {("tiny", "fp32", "2", "16"),
                                                                                   ("tiny", "bf16", "2", "16")}
    for r in train:
        assert float(r["tokens_per_s"]) > 0 and float(r["flops_per_token"]) > 0 and r["device_name"].startswith("cpu")
        assert 0 < float(r["optimizer_seconds"]) <= float(r["seconds_per_step"])


def test_training_mode_writes_only_the_training_table(tmp_path, capsys, isolated_results):
    gpu_bench = load_script()
    out, train_out = tmp_path / "inference_gpu.csv", tmp_path / "training_gpu.csv"
    assert gpu_bench.main(["--device", "cpu", "--quick", "--mode", "training", "--out", str(out),
                           "--train-out", str(train_out)]) == 0
    assert not out.exists()
    assert len(read_table(train_out)) == 2
    assert "training tiny fp32 2x16" in capsys.readouterr().out
