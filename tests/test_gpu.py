"""helpers.gpu: batching levers, the import of a GPU measurement folder, the chapters' GPU tables."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from helpers import gpu, gpu_import
from helpers.errors import StudyError
from helpers.runs import read_table

REPO = Path(__file__).resolve().parents[1]
LENGTHS = [5, 3, 9, 2, 7, 4]


# --------------------------------------------------------------------------- batching
def test_token_budget_batches_fill_sorted_lengths_up_to_the_budget():
    # sorted: 2(i3) 3(i1) 4(i5) 5(i0) 7(i4) 9(i2); 3 x 4 = 12 <= 16, 4 x 5 = 20 > 16; 2 x 7 = 14; 3 x 9 > 16
    groups = gpu.token_budget_batches(LENGTHS, 16)
    assert groups == [[3, 1, 5], [0, 4], [2]]
    assert gpu.padding_efficiency(LENGTHS, groups) == pytest.approx(30 / (3 * 4 + 2 * 7 + 9))
    # rounded up to multiples of 4: the same groups, more padding
    padded = gpu.token_budget_batches(LENGTHS, 16, pad_to=4)
    assert padded == groups
    assert gpu.padding_efficiency(LENGTHS, padded, pad_to=4) == pytest.approx(30 / 40)
    assert gpu.token_budget_batches([40, 2], 16) == [[1], [0]]  # longer than the budget: a batch of its own


def test_fixed_batches_sort_by_length_and_keep_every_input_once():
    assert gpu.fixed_batches(LENGTHS, 4) == [[3, 1, 5, 0], [4, 2]]
    with pytest.raises(StudyError, match="lengths must be a non-empty list"):
        gpu.fixed_batches([], 4)
    with pytest.raises(StudyError, match="unknown batching 'ragged'; valid: fixed, budget"):
        gpu.batch_groups(LENGTHS, "ragged", 4)


def test_length_batches_mask_exactly_the_lengths():
    batches = gpu.length_batches(LENGTHS, gpu.token_budget_batches(LENGTHS, 16, pad_to=4), vocab_size=50, pad_to=4)
    assert [tuple(b["input_ids"].shape) for b in batches] == [(3, 4), (2, 8), (1, 12)]
    assert [b["attention_mask"].sum(dim=1).tolist() for b in batches] == [[2, 3, 4], [5, 7], [9]]
    assert int(batches[0]["input_ids"][0, 2:].eq(1).all())  # pad positions hold <pad>


def test_non_embedding_params_of_e5_small_match_levers_flops():
    # levers.log: e5-small at 146,122 real tok/s = 6.2 TFLOP/s with FLOPs/token = 2 x non-embedding parameters
    n = gpu_import.non_embedding_params(384, 12, 1536)
    assert n == 21_293_568
    assert 2 * n * 146_122 / 1e12 == pytest.approx(6.2, abs=0.05)


# --------------------------------------------------------------------------- importing a measurement folder
INFERENCE_HEADER = ("sweep,arm,workload,device,device_name,dtype,batch,length,padding,layers,threads,repetition,"
                    "position,tokens,padded_tokens,sequences,batches,seconds,tokens_per_s,sequences_per_s,"
                    "flops_per_token,achieved_tflops,datasheet_peak_tflops,fraction_of_datasheet_peak,"
                    "measured_peak_tflops,fraction_of_measured_peak,fraction_of_peak,peak_source,p50_ms,p90_ms,"
                    "p99_ms,peak_memory_mb,model_note,torch,transformers")


def _row(sweep, arm, batch, length, rep, tps, fpt, p50=""):
    achieved = tps * fpt / 1e12
    return (f"{sweep},{arm},{'tatoeba' if sweep == 'gpu_real' else 'synthetic'},cuda,NVIDIA H200,bf16,{batch},"
            f"{length},full,24,16,{rep},0,100,100,1,1,0.1,{tps},1.0,{fpt},{achieved},,,661.4,"
            f"{achieved / 661.4},{achieved / 661.4},measured matmul,{p50},,,{'1900' if p50 else ''},,2.11.0,5.17.0")


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "h200-2026-11-30"
    d.mkdir()
    rows = [_row("gpu_grid", "xlmr-large", 128, 128, r, tps, 6e8) for r, tps in enumerate((780e3, 770e3, 790e3))]
    rows += [_row("gpu_grid", "e5-small", 128, 128, r, 1.7e6, 4.5e7) for r in range(3)]
    rows += [_row("gpu_real", "xlmr-large", 64, 128, r, tps, 7e8, 16.0) for r, tps in enumerate((50e3, 55e3, 60e3))]
    rows += [_row("gpu_real", "e5-small", 64, 128, r, 1e5, 5e7, 8.5) for r in range(3)]
    (d / "inference_gpu.csv").write_text(INFERENCE_HEADER + "\n" + "\n".join(rows) + "\n")
    (d / "training_gpu.csv").write_text(
        "preset,dtype,batch,length,steps,seconds_per_step,tokens_per_s,flops_per_token,achieved_tflops,"
        "fraction_of_989,device,torch,wall_s\n"
        "xlmr-large,bf16,32,128,8,0.07021,58336.4,1856028816.0,108.27,0.1095,NVIDIA H200,2.11.0+cu130,23.0\n")
    (d / "lengths.json").write_text(json.dumps({"tatoeba": LENGTHS}))
    (d / "levers.log").write_text(
        "device NVIDIA H200 torch 2.11.0+cu130\n"
        "xlmr-large tatoeba    batch64   batches=   1 pad_eff=0.62 real_tok/s=74,966 ~TFLOP/s=45.3 (4.6% of 989)\n"
        "xlmr-large tatoeba    budget16k batches=   1 pad_eff=0.62 real_tok/s=386,361 ~TFLOP/s=233.6 (23.6% of 989)\n")
    return d


def test_import_keeps_the_measurements_and_adds_provenance(folder, tmp_path):
    inf_path, train_path = gpu_import.import_measurements(folder, gpu_import.H200_2026_11_30, tmp_path / "out")
    inf, train = read_table(inf_path), read_table(train_path)
    assert list(inf[0]) == list(gpu.INFERENCE_COLUMNS) and list(train[0]) == list(gpu.TRAINING_COLUMNS)
    assert all(r["device_name"] == "NVIDIA H200" and r["date"] == "2026-11-30" for r in inf + train)
    measured = [r for r in inf if r["sweep"] != "gpu_levers"]
    assert len(measured) == 12 and all(r["commit"] == "b11c6bb" for r in measured)
    grid = next(r for r in measured if r["arm"] == "xlmr-large" and r["sweep"] == "gpu_grid" and r["repetition"] == "0")
    assert float(grid["tokens_per_s"]) == 780e3  # kept as measured
    assert float(grid["datasheet_peak_tflops"]) == 989.0  # filled from timing.datasheet_peak
    assert float(grid["fraction_of_datasheet_peak"]) == pytest.approx(780e3 * 6e8 / 989e12)
    (t,) = train
    assert (t["sweep"], t["dtype"], t["device"], t["device_name"], t["transformers"]) == \
        ("gpu_train", "bf16", "cuda", "NVIDIA H200", "5.17.0")
    assert float(t["fraction_of_datasheet_peak"]) == pytest.approx(58336.4 * 1856028816.0 / 989e12)
    levers = [r for r in inf if r["sweep"] == "gpu_levers"]
    assert [r["padding"] for r in levers] == ["batch64", "budget16k"]
    # the batching recomputed from lengths.json: 6 sequences of 30 real tokens, one batch of 6 x 9
    assert all((r["tokens"], r["padded_tokens"], r["batches"]) == ("30", "54", "1") for r in levers)
    assert float(levers[1]["achieved_tflops"]) == pytest.approx(233.6, abs=0.05)  # as levers.log says


def test_import_refuses_a_folder_without_the_tables(tmp_path):
    with pytest.raises(StudyError, match="has no inference_gpu.csv; a measurement folder holds"):
        gpu_import.import_measurements(tmp_path, gpu_import.H200_2026_11_30, tmp_path)


def test_summaries_and_gap_facts(folder, tmp_path):
    inf_path, _ = gpu_import.import_measurements(folder, gpu_import.H200_2026_11_30, tmp_path / "out")
    frame = pd.DataFrame(read_table(inf_path))
    grid = gpu.inference_summary(frame)
    assert list(grid["model"]) == ["xlmr-large", "e5-small"]
    assert grid.loc[0, "tokens/s"] == 780e3 and grid.loc[0, "batch x length"] == "128 x 128"
    real = gpu.real_workload_summary(frame)
    assert list(real["model"]) == ["xlmr-large", "e5-small"]  # most FLOPs per token first
    assert real.loc[0, "FLOPs/token x smallest"] == pytest.approx(14.0)
    assert real.loc[0, "tokens/s x smallest"] == pytest.approx(0.55)
    facts = gpu.gap_facts(frame)
    assert facts["real_tps"] == 55e3 and facts["real_batch"] == 64
    assert facts["real_of_measured"] == pytest.approx(55e3 * 7e8 / 661.4e12)
    assert facts["real_of_datasheet"] == pytest.approx(55e3 * 7e8 / 989e12)
    assert facts["real_flops_spread"] == pytest.approx(14.0) and facts["real_speed_spread"] == pytest.approx(1 / 0.55)
    levers = gpu.levers_summary(frame)
    assert list(levers["batching"]) == ["batch64", "budget16k"]
    assert levers.loc[1, "x batch64"] == pytest.approx(386_361 / 74_966)
    with pytest.raises(StudyError, match="no GPU rows for model 'xlmr-base'; valid: e5-small, xlmr-large"):
        gpu.gap_facts(frame, model="xlmr-base")


# --------------------------------------------------------------------------- the committed tables
def test_committed_gpu_tables_name_the_gpu_date_and_versions_in_every_row():
    for name, columns in (("inference_gpu.csv", gpu.INFERENCE_COLUMNS), ("training_gpu.csv", gpu.TRAINING_COLUMNS)):
        with open(REPO / "results" / name, newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows and list(rows[0]) == list(columns)
        for r in rows:
            assert r["device_name"] and r["date"] and r["torch"] and r["transformers"] and r["source"], (name, r)
    train = gpu.training_summary(pd.DataFrame(read_table(REPO / "results" / "training_gpu.csv")))
    large = train[(train["model"] == "xlmr-large") & (train["batch x length"] == "32 x 128")]
    assert sorted(large["tokens/s"]) == [58336.4, 63485.5]  # the H200 run of 2026-11-30 (bf16, TF32)


def test_import_command_line_writes_both_tables_and_refuses_unknown_folders(folder, tmp_path, capsys):
    from helpers.errors import run_cli

    assert run_cli(gpu_import.main, ["import", str(folder), "--results-dir", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "inference_gpu.csv").is_file() and (tmp_path / "cli" / "training_gpu.csv").is_file()
    assert run_cli(gpu_import.main, ["import", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: no provenance on file for") and "h200-2026-11-30" in err
