import math

import pandas as pd
import pytest

from helpers import analysis


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
