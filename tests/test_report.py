"""The chapter modules: report (09-11), inference_report (07), cost_report (08), setup_report (01, 03), reported."""

import pandas as pd
import pytest

from helpers import cost_report, inference_report, report, reported, runs, setup_report
from helpers.config import configure


def write(name, rows, key):
    runs.upsert_rows(runs.results_root() / name, rows, key=key)


def pooled_rows_fixture():
    rows = []
    for rep in range(12):
        for arm, s in (("direct", 5.0), ("direct-aa", 5.0 * (1 + 0.002 * (-1) ** rep)), ("mnli", 5.0 / 1.03)):
            rows.append({"sweep": "pooled", "profile": "smoke", "arm": arm, "task": "all", "language": "all",
                         "repetition": rep, "seconds": s, "tokens": 1000, "tokens_per_s": 1000 / s, "device": "cpu"})
    return rows


def test_aa_calibration_reads_pooled_rows(isolated_results):
    write("inference.csv", pooled_rows_fixture(), ("sweep", "arm", "repetition"))
    aa = report.aa_calibration("smoke")
    assert aa["verdict"] == "equivalent" and aa["n"] == 12 and aa["min_pass_s"] == pytest.approx(5.0 / 1.03)
    assert 0.99 < aa["ci_lo"] < 1.0 < aa["ci_hi"] < 1.01
    assert report.aa_calibration("embedded") is None


def zero_rows(profile="smoke", seeds=(1,)):
    rows = []
    for seed in seeds:
        for task, metric in (("xnli", "accuracy"), ("panx", "f1")):
            for lang in ("en", "de"):
                for arm, value in (("direct", 50.0), ("mnli", 53.0 if task == "xnli" else 51.0)):
                    rows.append({"profile": profile, "arm": arm, "target_task": task, "language": lang,
                                 "metric": metric, "value": value, "seed": seed})
    return rows


def ledger_rows():
    return [{"profile": "smoke", "arm": arm, "phase": phase, "task": task, "seed": 1, "flops": flops, "wall_s": wall,
             "tokens": 10}
            for arm, phase, task, flops, wall in (("direct", "target", "xnli", 1e12, 60.0),
                                                  ("direct", "target", "panx", 1e12, 60.0),
                                                  ("mnli", "intermediate", "mnli", 2e12, 120.0),
                                                  ("mnli", "target", "xnli", 1e12, 60.0),
                                                  ("mnli", "target", "panx", 1e12, 60.0))]


def test_arm_summary_joins_accuracy_cost_and_speed(isolated_results):
    write("zero_shot.csv", zero_rows(), ("profile", "arm", "target_task", "language", "seed"))
    write("training_cost.csv", ledger_rows(), ("profile", "arm", "phase", "task", "seed"))
    write("inference.csv", pooled_rows_fixture(), ("sweep", "arm", "repetition"))
    summary = report.arm_summary("smoke", ("direct", "mnli"), 1)
    # mnli: +3 on xnli (classification), +1 on panx (structured prediction); groups averaged: +2
    assert summary.loc["mnli", "gain vs direct"] == pytest.approx(2.0)
    assert summary.loc["mnli", "training x direct"] == pytest.approx(2.0)
    assert summary.loc["mnli", "ratio vs direct"] == pytest.approx(1.03)
    assert summary.loc["direct", "verdict"] == "(baseline)" and summary.loc["mnli", "verdict"] == "different"
    write("full_extrapolation.csv", [{"profile": "smoke", "arm": a, "x direct": x} for a, x in
                                     (("one STILTs arm: + MNLI", 1.31), ("multi (nine mixed, one pass each)", 3.77))],
          ("profile", "arm"))
    facts = report.answer_facts(summary, report.aa_calibration("smoke"), "smoke")
    assert facts["ans_best_arm"] == "mnli" and facts["ans_best_gain"] == "+2.00"
    assert facts["ans_ratio_min"] == "1.0300" and facts["ans_train_x_max"] == "2.00"
    assert facts["ans_full_multi_x"] == "3.77" and facts["ans_reported_gain"] == "+5.4"
    assert facts["ans_aa"].endswith(", equivalent") and facts["ans_aa_reps"] == 12


def test_tradeoff_facts_and_break_even_reasons(isolated_results, capsys):
    summary = pd.DataFrame({"gain vs direct": [0.0, 2.0, -1.0],
                            "gain significant": pd.array([pd.NA, False, True], dtype="boolean")},
                           index=["direct", "mnli", "squad"])
    points = pd.DataFrame({"dtype": ["int8", "int8-mixed", "int8-mixed"], "keep": [0.55, 0.995, 0.98],
                           "mlperf_99": ["loses", "keeps 99%", "loses"]})
    write("inference.csv", [{"profile": "smoke", "sweep": "compression", "arm": dt, "repetition": r,
                             "tokens_per_s": tps} for dt, tps in (("fp32", 100.0), ("int8", 130.0),
                                                                  ("int8-mixed", 105.0)) for r in (0, 1)],
          ("sweep", "arm", "repetition"))
    facts = report.tradeoff_facts(summary, points, pd.DataFrame(), ["a reason"], "smoke")
    assert facts == {"to_n_significant": 0, "to_n_worse": 1, "to_n_stilts": 2, "to_n_breakeven": 0,
                     "to_why_not": "a reason", "to_mixed_keeps": "1 of 2", "to_int8_keep": "0.550",
                     "to_mixed_factor": "1.050", "to_int8_factor": "1.300"}
    assert report.model_size_speed("smoke").empty  # no model-size rows: an empty series, not an error


def test_glue_all_glues_every_fact_without_display(monkeypatch):
    calls = []
    monkeypatch.setattr(report, "glue", lambda name, value, display=True: calls.append((name, value, display)))
    assert report.glue_all({"a": 1, "b": "x"}) is None
    assert calls == [("a", 1, False), ("b", "x", False)]


def test_coverage_names_what_the_build_lacks(isolated_results):
    write("zero_shot.csv", zero_rows(), ("profile", "arm", "target_task", "language", "seed"))
    write("inference.csv", pooled_rows_fixture(), ("sweep", "arm", "repetition"))
    cfg = configure(profile="smoke", seed=1, task="", arm="", data_dir="", eval_limit=0)
    cover = report.coverage(cfg)
    assert cover.loc["profiles", "this build"] == "smoke"
    assert cover.loc["profiles", "not covered"] == "embedded, xtreme-dir, full, realdata"
    assert cover.loc["target tasks", "this build"] == "2 of 10"
    assert cover.loc["target tasks", "not covered"].startswith("xcopa, udpos, xquad")
    assert cover.loc["arms", "this build"] == "direct, mnli"
    assert cover.loc["seeds", "not covered"] == "one seed only: no spread over seeds"
    assert cover.loc["inference hardware", "not covered"].startswith("no GPU in this build")
    facts = report.status_facts(cfg, pd.DataFrame(), cover)
    assert facts["status_total_min"] == 0.0 and facts["status_seeds"] == "1"


def test_reported_table_is_the_published_figures():
    table = reported.xstilts_table(("xnli", "tatoeba", "tydiqa"))
    assert list(table.index) == ["xnli", "tydiqa"]  # tatoeba is not reported
    assert table.loc["xnli", "X-STILTs (reported)"] == 80.4 and table.loc["tydiqa", "XLM-R Large (reported)"] == 65.1
    assert table.loc["tydiqa", "gain (reported)"] == pytest.approx(10.9)
    assert list(reported.xstilts_table().columns) == ["X-STILTs (reported)", "XLM-R Large (reported)", "gain (reported)"]


def test_example_text_takes_the_first_text_field():
    assert inference_report.example_text({"text_a": "", "context": "c", "question": "q"}) == "c"
    assert inference_report.example_text({"tokens": ["a", "b"]}) == "a b"
    assert inference_report.example_text({"question": "q"}, ("text_a", "context"), tokens=False) == ""


def test_inference_facts_from_the_chapter_tables():
    pooled = pd.DataFrame([
        {"arm": "direct-aa", "n": 12, "ratio": 1.0012, "ci_lo": 0.998, "ci_hi": 1.004, "ci95_lo": 0.997,
         "ci95_hi": 1.005, "verdict": "equivalent"},
        {"arm": "mnli", "n": 12, "ratio": 0.995, "ci_lo": 0.99, "ci_hi": 1.0, "ci95_lo": 0.98, "ci95_hi": 1.01,
         "verdict": "inconclusive"}])

    class Timed:
        pooled = [{"arm": "direct", "tokens_per_s": v} for v in (790.0, 800.0, 815.0)]
        calibration = pd.DataFrame({"load_order": ["mnli direct direct-aa", "direct-aa direct mnli",
                                                   "direct mnli direct-aa"]})

    dep = inference_report.Deployment("cpu", "fp32", {"min_seconds": 5.0})
    facts = inference_report.pooled_facts(pooled, Timed(), dep)
    assert facts["inf_aa_ci"] == "[0.9980, 1.0040]" and facts["inf_min_seconds"] == "5"
    assert facts["inf_verdicts"] == "mnli: inconclusive" and facts["inf_n_equivalent"] == 0
    assert facts["inf_direct_tps"] == "800"
    assert facts["inf_direct_loaded_first"] == 2 and facts["inf_load_tasks"] == 3
    assert facts["inf_aa_lean"].startswith("Its 90% interval holds 1")
    above = inference_report.aa_lean_sentence(1.0040, 1.0012, 1.0068)
    assert "lies above 1" in above and "0.40% slower" in above and "inside the ±1% margin" in above
    below = inference_report.aa_lean_sentence(0.9950, 0.9880, 0.9990)
    assert "lies below 1" in below and "0.50% faster" in below and "reaching beyond" in below
    harness = inference_report.harness_facts({"position_max_dev": 0.0123, "position_resolved": 1, "positions": 6,
                                              "subnormal_total": 0, "flush_ratio": 1.001, "flush_lo": 0.99,
                                              "flush_hi": 1.01, "flush_verdict": "inconclusive", "min_pass_s": 5.2})
    assert harness["inf_pos_dev"] == "1.23%" and harness["inf_flush_ci"] == "[0.9900, 1.0100]"


def test_compression_facts_pin_the_worst_layers():
    comp = pd.DataFrame([
        {"task": "xnli", "arm": "direct", "dtype": "int8", "examples": 64, "languages": 10, "value": 35.0,
         "fp32_value": 70.0, "keep": 0.5, "mlperf_99": "loses", "change": -35.0, "change_lo": -38.04, "change_hi": -31.96},
        {"task": "xnli", "arm": "direct", "dtype": "int8-mixed", "examples": 64, "languages": 10, "value": 69.5,
         "fp32_value": 70.0, "keep": 0.9929, "mlperf_99": "keeps 99%", "change": -0.5, "change_lo": -1.2,
         "change_hi": 0.3},
        {"task": "xnli", "arm": "mnli", "dtype": "int8-mixed", "examples": 64, "languages": 10, "value": 60.0,
         "fp32_value": 62.0, "keep": 0.9677, "mlperf_99": "loses", "change": -2.0, "change_lo": -3.1, "change_hi": -0.9}])
    by_role = pd.DataFrame({"max_abs (worst layer)": [3.0, 2.5, 40.0, 12.0, 1.0],
                            "zeroed by int8 (worst layer)": [0.1, 0.2, 0.62, 0.3, 0.04]},
                           index=["attention q/k/v", "attention output", "FFN in (hidden -> 4h)",
                                  "FFN out (4h -> hidden)", "task head (dense)"])
    tps = pd.Series({"fp32": 100.0, "int8": 140.0, "int8-mixed": 104.0})
    facts = inference_report.compression_facts("xnli", comp, tps, by_role)
    assert facts["comp_int8_keep"] == "0.500" and facts["comp_ffn_max"] == "40.0"
    assert facts["comp_ffn_zeroed"] == "62%" and facts["comp_attn_max"] == "3.0" and facts["comp_head_zeroed"] == "4%"
    assert (facts["comp_mixed_keeps"], facts["comp_mixed_arms"], facts["comp_mixed_min_keep"]) == (1, 2, "0.968")
    assert facts["comp_speed_int8"] == "1.400" and facts["comp_speed_mixed"] == "1.040"
    assert facts["comp_int8_change"] == "-35.0 [-38.0, -32.0]" and facts["comp_mixed_resolved"] == 1
    assert facts["comp_mixed_widest"] == "2.2" and facts["comp_margin"] == "0.7"  # 1% of the best fp32 score, 70
    table = inference_report.compression_table(comp)
    assert table.loc[("xnli", "mnli", "int8-mixed"), "change [95% CI]"] == "-2.0 [-3.1, -0.9]"


def test_focus_and_compression_task_prefer_xnli():
    cfg = configure(profile="smoke", seed=1, task="panx,xnli", arm="", data_dir="", eval_limit=0)
    assert inference_report.focus_task(cfg) == "xnli" and inference_report.compression_task(cfg) == "xnli"
    cfg = configure(profile="smoke", seed=1, task="panx", arm="", data_dir="", eval_limit=0)
    assert inference_report.focus_task(cfg) == "panx"


def test_cost_facts_and_tables():
    from helpers import analysis

    cost = analysis.arm_training_cost(pd.DataFrame(ledger_rows()), ("direct", "mnli"))
    assert cost_report.cost_facts(cost) == {"tc_direct_wall_min": 2.0, "tc_min_x": 2.0, "tc_max_x": 2.0,
                                            "tc_direct_tflops": 2.0}
    assert cost_report.flops_table(cost).loc["mnli", "total flops"] == 4e12
    ledger = pd.DataFrame([dict(r, examples=1, steps=1, peak_mem_mb=0) for r in ledger_rows()])
    assert list(cost_report.ledger_table(ledger)["phase"]) == ["intermediate"] + ["target"] * 4


def test_setup_and_encoder_facts():
    cfg = configure(profile="smoke", seed=1, task="", arm="", data_dir="", eval_limit=0)
    plan = pd.DataFrame({"languages": [4, 4, 3, 4]})
    facts = setup_report.setup_facts(cfg, {"device": "x86_64 (2 cores)"}, plan)
    assert facts == {"setup_profile": "smoke", "setup_model": "tiny", "setup_device": "x86_64 (2 cores)",
                     "setup_n_tasks": 4, "setup_n_arms": 2, "setup_n_languages": 15}
    encoder = pd.DataFrame({"value": {"preset": "e5-small", "parameters (M)": 117.7,
                                      "of which word embeddings (M)": 96.0, "tokenizer pieces": 250002}})
    fert = pd.DataFrame({"tokens_per_word": [1.21, 1.8, 2.64]}, index=["eng", "deu", "hin"])
    class Report:
        tokens_agree, sentences, embedded, cosines = 0.9995, 2000, 120, pd.Series([0.99986, 0.99991]).to_numpy()

    facts = setup_report.encoder_facts(encoder, Report(), fert)
    assert facts["enc_engine"] == ("token counts that agree on 100.0% of 2,000 sentences and a cosine similarity "
                                   "of at least 0.9998 over 120 embedded ones")
    assert facts["enc_pieces"] == "250,002" and facts["enc_fert_lowest"] == "eng (1.21)"
    assert facts["enc_fert_highest"] == "hin (2.64)"
    assert setup_report.encoder_facts(encoder, "x", None)["enc_fert_lowest"].startswith("not measured")
    assert setup_report.SAMPLE_SENTENCES["hi"] == "बच्चे बगीचे में खेल रहे थे।"


def test_cosine_floor_is_a_lower_bound_stable_across_last_digits():
    # the CI machine's 0.99986 and this machine's 0.99987 must give the same sentence
    assert setup_report.cosine_floor(0.99986) == setup_report.cosine_floor(0.99987) == "0.9998"
    assert setup_report.cosine_floor(0.99999) == "0.9999" and setup_report.cosine_floor(1.0) == "1.0000"
    assert setup_report.cosine_floor(0.9998) == "0.9998"  # float 0.9998 * 1e4 is 9997.999...: not 0.9997
    assert setup_report.cosine_floor(0.987654, 2) == "0.98"


def item_rows(profile="smoke"):
    """direct answers item i correctly when i is even; mnli answers every item of xnli and of panx's f1 stats."""
    rows = []
    for arm in ("direct", "mnli"):
        for lang in ("en", "de"):
            for i in range(20):
                correct = 1.0 if (arm == "mnli" or i % 2 == 0) else 0.0
                rows.append({"profile": profile, "arm": arm, "seed": 1, "target_task": "xnli", "language": lang,
                             "item": i, "correct": correct})
    return rows


def test_bootstrap_gains_feed_the_summary_and_the_reported_table(isolated_results):
    write("zero_shot.csv", zero_rows(), ("profile", "arm", "target_task", "language", "seed"))
    write("zero_shot_items.csv", item_rows(), ("profile", "arm", "seed", "target_task", "language", "item"))
    gains = report.bootstrap_gains("smoke", ("direct", "mnli"), 1).set_index("task")
    # mnli is right on all 40 items, direct on the 20 even ones: +50 points, and every resample gains > 0
    assert gains.loc["xnli", "gain"] == pytest.approx(50.0) and gains.loc["xnli", "lo"] > 0
    assert gains.loc["average", "gain"] == pytest.approx(50.0)
    write("training_cost.csv", ledger_rows(), ("profile", "arm", "phase", "task", "seed"))
    summary = report.arm_summary("smoke", ("direct", "mnli"), 1)
    assert bool(summary.loc["mnli", "gain significant"])
    assert summary.loc["mnli", "gain lo"] == pytest.approx(gains.loc["average", "lo"])
    cfg = configure(profile="smoke", seed=1, task="", arm="", data_dir="", eval_limit=0)
    table = report.reported_beside_measured(cfg)
    assert table.loc["xnli", "mnli gain (measured)"].startswith("+50.0 [")
    assert "best arm (measured)" not in table.columns  # never the best of several arms
    assert report.bootstrap_gains("embedded", ("direct", "mnli"), 1).empty  # no items of that profile


def test_answer_notes_name_the_data_and_the_seeds(isolated_results):
    write("zero_shot.csv", zero_rows(), ("profile", "arm", "target_task", "language", "seed"))
    assert report.seed_note("smoke").startswith("One seed")
    assert report.DATA_LIMITS["embedded"].startswith("multilingual-e5-small fine-tuned on 64 generated")
    rows = zero_rows(seeds=(1, 2))
    for r in rows:
        if r["seed"] == 2 and r["arm"] == "direct" and r["target_task"] == "xnli":
            r["value"] = 54.0  # seed 1: 50, seed 2: 54 -> sd 2.83
    write("zero_shot.csv", rows, ("profile", "arm", "target_task", "language", "seed"))
    assert "xnli 2.8 points over 2 seeds" in report.seed_note("smoke")


def test_gain_cell_pinned():
    row = {"gain": 1.234, "lo": -0.31, "hi": 2.66}
    assert report.gain_cell(row) == "+1.2 [-0.3, +2.7]"
    assert report.gain_cell(row, mark=True) == "+1.2 [-0.3, +2.7]"
    assert report.gain_cell({"gain": -2.0, "lo": -3.5, "hi": -0.5}, mark=True) == "-2.0 [-3.5, -0.5]*"
