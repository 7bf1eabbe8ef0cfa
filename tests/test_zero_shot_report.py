"""The zero-shot chapter's logic (helpers.zero_shot_report) on tiny pinned tables."""

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from helpers import runs, zero_shot_report as zsr
from helpers.config import configure


@pytest.fixture
def cfg():
    return configure(profile="smoke", seed=1, task="", arm="", data_dir="", eval_limit=0)


def zero(rows):
    return pd.DataFrame([{"profile": "smoke", "seed": 1, **r} for r in rows])


def test_main_seed_keeps_the_configured_seed_only(cfg):
    scores = zero([{"arm": "direct", "target_task": "xnli", "language": "en", "metric": "accuracy", "value": 50.0},
                   {"arm": "direct", "target_task": "xnli", "language": "en", "metric": "accuracy", "value": 70.0,
                    "seed": 2}])
    assert zsr.main_seed(scores, cfg)["value"].tolist() == [50.0]


def test_coverage_flags_partial_and_counts_nan(cfg):
    rows = [{"arm": "direct", "target_task": "xnli", "language": l, "metric": "accuracy", "value": v}
            for l, v in (("de", 40.0), ("en", 60.0), ("ru", math.nan), ("zh", 50.0))]
    cover = zsr.coverage_table(zero(rows), cfg)
    # 3 finite of the 4 the smoke profile evaluates; XNLI has 15 languages in XTREME-R
    assert cover.loc["xnli", "scored"] == 3 and cover.loc["xnli", "evaluated"] == 4
    assert cover.loc["xnli", "XTREME-R"] == 15 and cover.loc["xnli", "NaN"] == 1 and cover.loc["xnli", "partial"]


def test_gain_table_formats_intervals_and_marks_those_excluding_zero(cfg):
    gains = pd.DataFrame([{"arm": "mnli", "task": "xnli", "gain": 2.0, "lo": 0.5, "hi": 3.5, "items": 10},
                          {"arm": "mnli", "task": "average", "gain": -0.25, "lo": -1.0, "hi": 0.5, "items": 10}])
    table = zsr.gain_table(gains, cfg)
    assert table.loc["mnli", "xnli"] == "+2.0 [+0.5, +3.5]*"
    assert table.loc["mnli", "average"] == "-0.2 [-1.0, +0.5]"
    assert list(table.columns) == ["xnli", "average"]
    assert zsr.gain_table(gains.iloc[0:0], cfg) is None


def test_gain_rows_bootstrap_the_items_table(cfg, isolated_results):
    rows = [{"profile": "smoke", "arm": arm, "seed": 1, "target_task": "xnli", "language": "en", "item": i,
             "correct": 1.0 if arm == "mnli" or i < 5 else 0.0} for arm in ("direct", "mnli") for i in range(10)]
    runs.upsert_rows(runs.results_root() / "zero_shot_items.csv", rows,
                     key=("profile", "arm", "seed", "target_task", "language", "item"))
    gains = zsr.gain_rows(cfg).set_index("task")
    assert gains.loc["xnli", "gain"] == pytest.approx(50.0) and gains.loc["xnli", "lo"] > 0


def test_retrieval_table_shows_the_change_against_the_untouched_encoder():
    table = pd.DataFrame({"xnli": [50.0, 52.0], "tatoeba": [80.0, 75.5]}, index=["direct", "mnli"])
    out = zsr.retrieval_table(table)
    assert list(out.columns) == ["tatoeba", "tatoeba vs direct"]
    assert out.loc["mnli", "tatoeba vs direct"] == pytest.approx(-4.5)
    assert zsr.retrieval_table(table[["xnli"]]) is None


def test_facts_count_intervals_floors_and_partial_scores():
    groups = pd.DataFrame({"average": [50.0, 51.0]}, index=["direct", "mnli"])
    gains = pd.DataFrame([{"arm": "mnli", "task": "xnli", "gain": 2.0, "lo": 0.5, "hi": 3.5},
                          {"arm": "mnli", "task": "panx", "gain": -1.0, "lo": -2.0, "hi": 0.5},
                          {"arm": "mnli", "task": "average", "gain": 0.5, "lo": -0.5, "hi": 1.5}])
    floors = pd.DataFrame({"direct": [50.0, 10.0], "chance": [33.3, 0.0], "majority (test)": [40.0, math.nan],
                           "trivial baseline": [35.0, 20.0], "degenerate": [1, 0]}, index=["xnli", "panx"])
    cover = pd.DataFrame({"partial": [True, False]}, index=["xnli", "panx"])
    seeds = pd.DataFrame({"seeds": [3], "mean": [50.0], "sd": [1.25]}, index=pd.Index(["xnli"], name="task"))
    facts = zsr.zero_shot_facts(groups, gains, floors, cover, seeds)
    assert facts["zs_best_arm"] == "mnli" and facts["zs_best_ci"] == "+0.5 [-0.5, +1.5]"
    assert facts["zs_n_gains"] == 2 and facts["zs_n_excl_zero"] == 1 and facts["zs_n_excl_pos"] == 1
    assert facts["zs_n_above_floor"] == 1 and facts["zs_n_tasks"] == 2  # panx: 10 is below its 20-point baseline
    assert facts["zs_n_degenerate"] == 1 and facts["zs_n_partial"] == 1
    assert facts["zs_seed_sd"] == "xnli 1.2 points over 3 seeds"
    assert zsr.zero_shot_facts(groups, gains, floors, cover, None)["zs_seed_sd"].startswith("not measured")


def _recorded_realdata_run():
    """A recorded realdata run in the results tables: two tasks, two arms, two languages each."""
    zero_rows, item_rows = [], []
    for arm in ("direct", "anli"):
        for task, metric in (("xnli", "accuracy"), ("xcopa", "accuracy")):
            for lang in ("en", "sw"):
                right = {"direct": 6, "anli": 8}[arm] if task == "xnli" else 5
                zero_rows.append({"profile": "realdata", "arm": arm, "intermediate": "" if arm == "direct" else arm,
                                  "target_task": task, "language": lang, "metric": metric, "value": 10.0 * right,
                                  "seed": 1, "run_dir": "r", "model": "e5-small", "source": "realdata:x",
                                  "eval_limit": "all", "examples": 10})
                item_rows += [{"profile": "realdata", "arm": arm, "seed": 1, "target_task": task, "language": lang,
                               "item": i, "correct": int(i < right), "model": "e5-small", "source": "realdata:x",
                               "eval_limit": "all"} for i in range(10)]
    zero_rows.append({**zero_rows[0], "seed": 2, "value": 70.0})  # a second seed of direct on xnli/en
    runs.upsert_rows(runs.results_root() / "zero_shot.csv", zero_rows,
                     key=("profile", "arm", "seed", "target_task", "language", "metric"))
    runs.upsert_rows(runs.results_root() / "zero_shot_items.csv", item_rows,
                     key=("profile", "arm", "seed", "target_task", "language", "item"))
    floors = pd.DataFrame({"direct": [60.0, 50.0], "chance": [100 / 3, 50.0], "majority (test)": [40.0, math.nan],
                           "trivial baseline": [55.0, 48.0], "degenerate": [0, 2]}, index=["xnli", "xcopa"])
    zsr.record_floors(floors, SimpleNamespace(profile="realdata", model="e5-small"), "realdata:x")


def test_record_floors_writes_plain_numbers_and_empty_cells(isolated_results):
    _recorded_realdata_run()
    text = (runs.results_root() / "zero_shot_floors.csv").read_text()
    assert "np.float64" not in text
    assert "realdata,e5-small,realdata:x,xcopa,50.0,50.0,,48.0,2" in text.splitlines()


def test_a_recorded_run_is_read_back_from_the_tables_alone(isolated_results):
    _recorded_realdata_run()
    table = zsr.recorded_run_table("realdata")
    assert list(table.index) == ["xnli", "xcopa", "average over tasks"]
    assert table.loc["xnli", "direct"] == 60.0 and table.loc["xnli", "anli"] == 80.0  # seed 2 is not mixed in
    assert table.loc["xcopa", "anli - direct [95% CI]"] == "+0.0 [+0.0, +0.0]"
    assert table.loc["xnli", "anli - direct [95% CI]"].startswith("+20.0 [")
    assert table.loc["average over tasks", "examples"] == 40 and table.loc["average over tasks", "languages"] == 4
    assert table.loc["xnli", "majority (test)"] == 40.0 and table.loc["xcopa", "degenerate"] == 2
    facts = zsr.recorded_run_facts("realdata", prefix="zs_rd")
    assert set(facts) == {f"zs_rd_{k}" for k in zsr.RECORDED_FACTS}
    assert (facts["zs_rd_tasks"], facts["zs_rd_pairs"], facts["zs_rd_examples"]) == (2, 4, "40")
    assert facts["zs_rd_arms"] == "direct, anli" and facts["zs_rd_stilts"] == "anli"
    assert facts["zs_rd_avg_gain"].startswith("+10.0 [")
    # xnli: 60 > max(33.3, 40, 55); xcopa: 50 is not above its 50-point chance level
    assert facts["zs_rd_n_above_floor"] == 1 and facts["zs_rd_above_floor"] == "XNLI"
    assert facts["zs_rd_degenerate"] == "XCOPA" and facts["zs_rd_seed_sd"].startswith("XNLI ")


def test_without_a_recorded_run_every_fact_says_so(isolated_results):
    assert not zsr.has_recorded_run("realdata")
    assert set(zsr.recorded_run_facts("realdata").values()) == {"not recorded"}
