import math

import pandas as pd
import pytest

from helpers import analysis
from helpers.tasks import get_task


def ledger():
    return pd.DataFrame(
        [
            {"arm": "direct", "phase": "target", "task": "xnli", "wall_s": 10.0, "flops": 100.0, "tokens": 1000},
            {"arm": "direct", "phase": "target", "task": "panx", "wall_s": 6.0, "flops": 60.0, "tokens": 600},
            {"arm": "mnli", "phase": "intermediate", "task": "mnli", "wall_s": 20.0, "flops": 300.0, "tokens": 3000},
            {"arm": "mnli", "phase": "target", "task": "xnli", "wall_s": 10.0, "flops": 100.0, "tokens": 1000},
            {"arm": "mnli", "phase": "target", "task": "panx", "wall_s": 6.0, "flops": 60.0, "tokens": 600},
        ]
    )


def test_arm_training_cost_adds_the_intermediate_phase():
    cost = analysis.arm_training_cost(ledger(), ("direct", "mnli"))
    assert cost.loc["direct", "total wall_s"] == 16.0
    assert cost.loc["mnli", "total wall_s"] == 36.0
    assert cost.loc["mnli", "extra flops vs direct"] == 300.0
    assert cost.loc["mnli", "x direct (flops)"] == pytest.approx(460.0 / 160.0)


def test_gains_and_best_per_task():
    table = pd.DataFrame({"xnli": [50.0, 55.0, 49.0], "panx": [40.0, 38.0, 45.0]}, index=["direct", "mnli", "squad"])
    g = analysis.gains(table)
    assert g.loc["mnli", "xnli"] == 5.0 and g.loc["squad", "panx"] == 5.0
    best = analysis.best_per_task(table)
    assert best.loc["xnli", "best arm"] == "mnli" and best.loc["panx", "gain"] == 5.0
    with pytest.raises(KeyError):
        analysis.gains(table.drop(index="direct"))


def test_extrapolate_pins_hours_and_flops():
    out = analysis.extrapolate({"mnli": 1000}, {"mnli": 50.0}, {"mnli": 2}, train_tokens_per_s=100.0,
                               flops_per_token=6.0, gpu_train_tokens_per_s=10000.0)
    assert out.loc["mnli", "tokens"] == 100000.0
    assert out.loc["mnli", "flops"] == 600000.0
    assert out.loc["mnli", "hours_here"] == pytest.approx(1000.0 / 3600.0)
    assert out.loc["mnli", "hours_gpu"] == pytest.approx(10.0 / 3600.0)


def test_pareto_front():
    pts = pd.DataFrame({"acc": [50, 60, 55, 40], "speed": [100, 100, 50, 200]}, index=list("abcd"))
    assert list(analysis.pareto_front(pts, "acc", "speed")) == [False, True, False, True]


def test_break_even_tokens():
    # 100 s of extra training; 1000 tok/s vs 500 tok/s -> 0.001 s extra per token -> 100000 tokens
    assert analysis.break_even_tokens(100.0, 1000.0, 500.0) == pytest.approx(100000.0)
    assert math.isinf(analysis.break_even_tokens(100.0, 500.0, 1000.0))


def test_fmt_interval():
    assert analysis.fmt_interval(1.0, 0.98765, 1.01234) == "1.000 [0.988, 1.012]"


def test_load_table_converts_numbers(isolated_results):
    from helpers import runs

    runs.upsert_rows(runs.results_root() / "t.csv", [{"profile": "smoke", "arm": "a", "value": 1.5},
                                                      {"profile": "embedded", "arm": "b", "value": 2}],
                     key=("profile", "arm"))
    frame = analysis.load_table("t.csv", profile="smoke")
    assert list(frame["value"]) == [1.5] and frame["value"].dtype.kind == "f"


# --------------------------------------------------------------------------- the answer: only supported comparisons
def zero_shot_rows(gains_by_task):
    """zero_shot rows: direct scores 50 on every task and language, each arm 50 + its gain on that task."""
    rows = []
    tasks = {"xnli": "accuracy", "panx": "f1", "xquad": "f1", "tatoeba": "accuracy"}
    for task, metric in tasks.items():
        for lang in ("en", "de"):
            rows.append({"arm": "direct", "target_task": task, "language": lang, "metric": metric, "value": 50.0})
            for arm, gains in gains_by_task.items():
                rows.append({"arm": arm, "target_task": task, "language": lang, "metric": metric,
                             "value": 50.0 + gains[task]})
    return pd.DataFrame(rows)


def summary_frame(significant, verdicts, ratios):
    return pd.DataFrame({
        "accuracy": [50.0, 52.0, 50.5], "gain vs direct": [0.0, 2.0, 0.5],
        "gain significant": pd.array([pd.NA, significant[0], significant[1]], dtype="boolean"),
        "training TFLOPs": [1.0, 3.0, 3.0], "training wall_s": [10.0, 40.0, 40.0],
        "tokens/s": [1000.0, 1000.0, 1000.0], "ratio vs direct": [1.0] + ratios,
        "ci_lo": [1.0, 0.995, 0.995], "ci_hi": [1.0, 1.005, 1.005], "verdict": ["(baseline)"] + verdicts,
    }, index=["direct", "mnli", "squad"])


def test_break_even_only_against_measured_accuracy():
    speed = pd.Series({"e5-small": 1000.0, "xlmr-base": 250.0})
    # nothing significant and the larger model's accuracy never measured: no break-even, two reasons
    table, reasons = analysis.break_even_table(summary_frame([False, False], ["equivalent"] * 2, [1.0, 1.0]),
                                               speed, "e5-small")
    assert table.empty and len(reasons) == 2
    assert "significant" in reasons[0] and "xlmr-base" in reasons[1]
    # a significant gain but the alternative unmeasured: still none
    table, reasons = analysis.break_even_table(summary_frame([True, False], ["equivalent"] * 2, [1.0, 1.0]),
                                               speed, "e5-small")
    assert table.empty and reasons == [reasons[0]] and "never measured" in reasons[0]
    # both measured: mnli only; 30 s extra, 1/250 - 1/1000 = 0.003 s per token -> 10,000 tokens
    table, reasons = analysis.break_even_table(summary_frame([True, False], ["equivalent"] * 2, [1.0, 1.0]),
                                               speed, "e5-small", measured_accuracy={"xlmr-base"})
    assert reasons == [] and list(table["STILTs arm"]) == ["mnli"]
    assert table.loc[0, "break-even tokens"] == pytest.approx(10000.0)


def test_supported_pareto_treats_unresolved_differences_as_ties():
    # no significant gain, speeds equivalent: direct (least training) dominates both STILTs arms
    front = analysis.supported_pareto(summary_frame([False, False], ["equivalent", "inconclusive"], [1.002, 0.998]))
    assert list(front["on front"]) == [True, False, False]
    assert front.loc["mnli", "accuracy vs direct"] == "same (not resolved)"
    # mnli's gain significant: it joins the front; squad is still dominated
    front = analysis.supported_pareto(summary_frame([True, False], ["equivalent", "equivalent"], [1.0, 1.0]))
    assert list(front["on front"]) == [True, True, False]
    # a measured speed difference counts: squad 3 % faster joins the front
    front = analysis.supported_pareto(summary_frame([False, False], ["equivalent", "different"], [1.0, 1.03]))
    assert list(front["on front"]) == [True, False, True] and front.loc["squad", "speed vs direct"] == "better"


def test_inference_headline_puts_the_aa_calibration_beside_the_verdicts():
    summary = summary_frame([False, False], ["equivalent", "inconclusive"], [1.002, 0.998])
    aa = {"ratio": 1.0012, "ci_lo": 0.9981, "ci_hi": 1.0043, "verdict": "equivalent", "margin": 0.01}
    text = analysis.inference_headline(summary, aa)
    assert text.startswith("tokens/s against direct at a ±1% margin: 1 of 2 STILTs arms equivalent, "
                           "1 of 2 STILTs arms inconclusive; the A/A control")
    assert "A/A control" in text and "1.0012 [0.9981, 1.0043], equivalent" in text
    bad = analysis.inference_headline(summary, dict(aa, verdict="inconclusive"))
    assert "cannot resolve ±1%" in bad
    assert "no A/A control" in analysis.inference_headline(summary, None)


def test_analysis_imports_no_training_or_timing_code():
    """analysis is pure table code: no import (at module level or inside a function) of the inference
    statistics or anything that pulls in training."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(analysis))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not imported & {"efficiency", "pipeline", "training", "timing", "evaluation", "torch", "transformers"}
    assert {"metrics", "tasks"} <= imported  # the registry, read directly


def test_gpu_beside_cpu_labels_each_device():
    summary = pd.DataFrame({"tokens/s": [1400.0]}, index=["direct"])
    gpu = pd.DataFrame([
        {"sweep": "gpu_real", "device_name": "NVIDIA H200", "arm": "e5-small", "dtype": "bf16", "batch": 64,
         "length": 128, "tokens_per_s": v, "fraction_of_peak": 0.01} for v in (90000.0, 100000.0, 110000.0)
    ] + [{"sweep": "gpu_grid", "device_name": "NVIDIA H200", "arm": "xlmr-large", "dtype": "bf16", "batch": b,
          "length": 128, "tokens_per_s": 780000.0 if b == 128 else 1.0, "fraction_of_peak": 0.7} for b in (1, 128)])
    out = analysis.gpu_beside_cpu(summary, gpu, "e5-small", "EPYC (2 cores)")
    assert list(out["device"]) == ["EPYC (2 cores)", "NVIDIA H200", "NVIDIA H200"]
    assert list(out["tokens/s"]) == [1400.0, 100000.0, 780000.0]  # medians; only the 128 x 128 grid row
    assert out.loc[1, "workload"].endswith("batch 64")
    assert len(analysis.gpu_beside_cpu(summary, pd.DataFrame(), "e5-small")) == 1


def test_compression_points_use_measured_scores_and_speeds_only():
    comp = pd.DataFrame([
        {"task": "xnli", "arm": "direct", "dtype": "fp32", "examples": 8, "value": 55.0, "fp32_value": 55.0, "keep": 1.0, "mlperf_99": "(reference)"},
        {"task": "xnli", "arm": "direct", "dtype": "fp32", "examples": 64, "value": 62.0, "fp32_value": 62.0, "keep": 1.0, "mlperf_99": "(reference)"},
        {"task": "xnli", "arm": "direct", "dtype": "int8", "examples": 64, "value": 31.0, "fp32_value": 62.0, "keep": 0.5, "mlperf_99": "loses"},
        {"task": "xnli", "arm": "mnli", "dtype": "fp32", "examples": 64, "value": 60.0, "fp32_value": 60.0, "keep": 1.0, "mlperf_99": "(reference)"},
        {"task": "xnli", "arm": "mnli", "dtype": "bf16", "examples": 64, "value": 60.0, "fp32_value": 60.0, "keep": 1.0, "mlperf_99": "keeps 99%"},
    ])
    pts = analysis.compression_points(comp, pd.Series({"direct": 1000.0, "mnli": 990.0}),
                                      pd.Series({"fp32": 1.0, "int8": 1.1})).set_index(["arm", "dtype"])
    assert len(pts) == 4  # the 8-example fp32 score is replaced by the 64-example one; nothing else is added
    assert pts.loc[("direct", "fp32"), "score"] == 62.0 and pts.loc[("direct", "int8"), "score"] == 31.0
    assert pts.loc[("direct", "int8"), "tokens/s"] == pytest.approx(1100.0)
    assert math.isnan(pts.loc[("mnli", "bf16"), "tokens/s"])  # bf16 never timed: no speed assumed
    assert ("mnli", "int8") not in pts.index  # never scored: no point
    assert analysis.compression_points(pd.DataFrame(), pd.Series(dtype=float), pd.Series(dtype=float)).empty


def test_zero_shot_heatmap_has_a_panel_per_task_and_one_colour_bar():
    import matplotlib

    matplotlib.use("Agg")
    rows = [{"arm": arm, "target_task": task, "language": lang, "value": 10.0 * i}
            for i, (task, langs) in enumerate((("xnli", ("en", "de", "zh")), ("panx", ("en", "sw"))))
            for arm in ("direct", "mnli", "multi") for lang in langs]
    fig = analysis.zero_shot_heatmap(pd.DataFrame(rows), ("xnli", "panx", "tatoeba"), ("direct", "mnli", "multi"), show=False,
                                     ncols=5)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in visible] == ["xnli", "panx"]  # tatoeba has no rows: no panel
    assert [t.get_text() for t in visible[0].get_yticklabels()] == ["de", "en", "zh"]
    assert [t.get_text() for t in visible[1].get_xticklabels()] == ["direct", "mnli", "multi"]
    colour_bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(colour_bars) == 1 and colour_bars[0].get_ylim() == (0.0, 100.0)


def test_show_figure_displays_once_and_closes(monkeypatch):
    """A chapter's figure is displayed exactly once and closed, so nbval (which ignores a trailing ';')
    sees the same single output as papermill; with ``show=False`` the open figure comes back."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    fig = plt.figure()
    assert analysis.show_figure(fig, show=False) is fig and plt.fignum_exists(fig.number)
    assert analysis.show_figure(fig) is None
    assert shown == [fig] and not plt.fignum_exists(fig.number)


# --------------------------------------------------------------------------- issue 13: aggregates
def _scores(rows):
    return pd.DataFrame([{"arm": a, "target_task": t, "language": l, "metric": m, "value": v, "seed": 1}
                         for a, t, l, m, v in rows])


def test_group_table_average_is_the_mean_over_tasks_not_groups():
    # classification: xnli 60, xcopa 80 (group 70); retrieval: tatoeba 10 (group 10)
    # mean over tasks (XTREME-R): (60 + 80 + 10) / 3 = 50; the old mean over groups was (70 + 10) / 2 = 40
    table = pd.DataFrame({"xnli": [60.0], "xcopa": [80.0], "tatoeba": [10.0]}, index=["direct"])
    out = analysis.group_table(table)
    assert list(out.columns) == ["classification", "retrieval", "average"]
    assert out.loc["direct", "classification"] == 70.0 and out.loc["direct", "retrieval"] == 10.0
    assert out.loc["direct", "average"] == pytest.approx(50.0)


def test_nan_scores_are_counted_and_propagate_not_dropped():
    zero = _scores([("direct", "xnli", "en", "accuracy", 80.0), ("direct", "xnli", "de", "accuracy", float("nan")),
                    ("direct", "xnli", "fr", "accuracy", 60.0), ("direct", "tatoeba", "de", "accuracy", 40.0),
                    ("direct", "tatoeba", "de", "accuracy_x2en", 30.0)])
    table = analysis.arm_task_table(zero)
    assert math.isnan(table.loc["direct", "xnli"])  # the old code averaged en and fr only: 70
    assert table.loc["direct", "tatoeba"] == 40.0  # the primary metric only (accuracy_x2en is a secondary row)
    assert math.isnan(analysis.group_table(table).loc["direct", "average"])
    cov = analysis.task_coverage(zero).set_index(["arm", "target_task"])
    assert cov.loc[("direct", "xnli"), "languages"] == 2 and cov.loc[("direct", "xnli"), "nan_languages"] == 1
    assert cov.loc[("direct", "xnli"), "languages_registry"] == 15
    assert bool(cov.loc[("direct", "xnli"), "partial"])


def test_task_coverage_against_registry_and_profile_languages():
    zero = _scores([("direct", "xcopa", lang, "accuracy", 50.0) for lang in ("et", "ht", "id")] +
                   [("mnli", "xcopa", lang, "accuracy", 55.0) for lang in ("et", "ht")])
    # the profile evaluates et, ht, id; the registry lists XCOPA's 11 languages
    cov = analysis.task_coverage(zero, {"xcopa": ("et", "ht", "id")}).set_index("arm")
    assert cov.loc["direct", "languages"] == 3 and cov.loc["direct", "languages_expected"] == 3
    assert cov.loc["direct", "languages_registry"] == 11
    assert bool(cov.loc["direct", "partial"])  # fewer languages than the registry's
    assert cov.loc["mnli", "missing"] == "id" and bool(cov.loc["mnli", "partial"])
    assert cov.loc["direct", "missing"] == "" and cov.loc["direct", "nan_languages"] == 0
    full = _scores([("direct", "tatoeba", lang, "accuracy", 50.0) for lang in get_task("tatoeba").languages])
    assert not analysis.task_coverage(full).loc[0, "partial"]
    assert list(analysis.task_coverage(pd.DataFrame()).columns)[-1] == "partial"
