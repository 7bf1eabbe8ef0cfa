"""Pinned, hand-checkable values for helpers.stats."""

from __future__ import annotations

import math

import pytest

from helpers.errors import StudyError
from helpers.stats import VERDICTS, log_ratio_interval, paired_ratio_summary, paired_ratios, tost_equivalence


def t2_cdf(t: float) -> float:
    """Student t CDF with 2 degrees of freedom, closed form: 1/2 + t / (2 sqrt(2 + t^2))."""
    return 0.5 + t / (2 * math.sqrt(2 + t * t))


def test_paired_ratios():
    assert paired_ratios([1, 2], [2, 3]) == [2.0, 1.5]


def test_tost_inconclusive_pinned_against_closed_form():
    x = [0.0, 0.01, 0.02]  # mean 0.01, sd 0.01, se 0.01/sqrt(3), 2 degrees of freedom
    res = tost_equivalence(x, margin=0.02, alpha=0.05, scale="log")
    se = 0.01 / math.sqrt(3)
    p_lower = 1 - t2_cdf((0.01 - math.log(0.98)) / se)
    p_upper = t2_cdf((0.01 - math.log(1.02)) / se)
    assert res["p_lower"] == pytest.approx(p_lower, rel=1e-9)
    assert res["p_upper"] == pytest.approx(p_upper, rel=1e-9)
    assert res["p_lower"] == pytest.approx(0.01732, abs=1e-4)
    assert res["p_upper"] == pytest.approx(0.11581, abs=1e-4)
    assert res["verdict"] == "inconclusive"
    # 90 % interval: 0.01 +/- t_{0.95,2} * se, t_{0.95,2} = 2.919986
    assert res["ci"][0] == pytest.approx(math.exp(0.01 - 2.919986 * se), rel=1e-6)
    assert res["ci"][1] == pytest.approx(math.exp(0.01 + 2.919986 * se), rel=1e-6)


def test_tost_equivalent_and_not_equivalent():
    assert tost_equivalence([0.999, 1.0, 1.001])["verdict"] == "equivalent"
    assert tost_equivalence([1.0, 1.0, 1.0])["verdict"] == "equivalent"
    far = tost_equivalence([1.10, 1.11, 1.12])
    assert far["verdict"] == "different" and far["p_upper"] > 0.5
    # ratio scale and log scale agree
    r = tost_equivalence([0.99, 1.0, 1.02])
    l = tost_equivalence([math.log(v) for v in (0.99, 1.0, 1.02)], scale="log")
    assert r["p_lower"] == pytest.approx(l["p_lower"]) and r["p_upper"] == pytest.approx(l["p_upper"])


# per-repetition ratios 1.0, 1.2, 0.9, 1.1: arithmetic mean 1.05, geometric mean 1.0440087;
# log ratios: sd 0.1238368, se = sd / 2; t quantiles with 3 degrees of freedom (not z = 1.645 / 1.960)
RATIOS = [1.0, 1.2, 0.9, 1.1]
T95_3, T975_3 = 2.3533634348, 3.1824463053


def test_log_ratio_interval_is_a_geometric_mean_with_a_t_interval():
    ratio, lo, hi = log_ratio_interval(RATIOS, 0.90)
    m, se = math.log(1.044008681704849), 0.12383682181902173 / 2
    assert ratio == pytest.approx(1.0440087, rel=1e-7)  # the arithmetic mean would be 1.05
    assert (lo, hi) == (pytest.approx(math.exp(m - T95_3 * se), rel=1e-8), pytest.approx(math.exp(m + T95_3 * se), rel=1e-8))
    assert (lo, hi) == (pytest.approx(0.9024439, rel=1e-6), pytest.approx(1.2077804, rel=1e-6))  # z: [0.9429, 1.1559]
    _, lo95, hi95 = log_ratio_interval(RATIOS, 0.95)
    assert (lo95, hi95) == (pytest.approx(0.8572856, rel=1e-6), pytest.approx(1.2714015, rel=1e-6))


def test_paired_ratio_summary_pins_ratio_intervals_and_verdicts():
    a = [2.0, 1.0, 2.0, 1.0]  # seconds of arm A
    b = [a_i * r for a_i, r in zip(a, RATIOS)]  # B took r_i times as long: A is r_i times faster
    out = paired_ratio_summary(a, b, margin=0.01)
    assert out["ratio"] == pytest.approx(1.0440087, rel=1e-7)
    assert (out["ci_lo"], out["ci_hi"]) == (pytest.approx(0.9024439, rel=1e-6), pytest.approx(1.2077804, rel=1e-6))
    assert (out["ci95_lo"], out["ci95_hi"]) == (pytest.approx(0.8572856, rel=1e-6), pytest.approx(1.2714015, rel=1e-6))
    assert out["ci_level"] == pytest.approx(0.90) and out["n"] == 4 and out["verdict"] == "inconclusive"
    assert out["sd_log"] == pytest.approx(0.12383682, rel=1e-7)
    assert set(VERDICTS) == {"equivalent", "different", "inconclusive"}
    # 12 repetitions within +/-0.3 %: equivalent at +/-1 %; 3-4 % apart: different
    same = paired_ratio_summary([1.0] * 12, [1.0 + 0.003 * (-1) ** i for i in range(12)])
    assert same["verdict"] == "equivalent" and 0.99 < same["ci_lo"] < same["ci_hi"] < 1.01
    apart = paired_ratio_summary([1.0] * 12, [1.03 + 0.01 * (i % 2) for i in range(12)])
    assert apart["verdict"] == "different" and apart["ci_lo"] > 1.01
    # the TOST decision equals "the 90 % interval lies inside [0.99, 1.01]"
    edge = paired_ratio_summary([1.0] * 12, [1.0 + 0.012 * (-1) ** i for i in range(12)])
    assert edge["verdict"] == ("equivalent" if 0.99 < edge["ci_lo"] and edge["ci_hi"] < 1.01 else "inconclusive")


@pytest.mark.parametrize(
    "call",
    [
        lambda: paired_ratios([], [1.0]),
        lambda: paired_ratios([1.0, -1.0], [1.0, 1.0]),
        lambda: paired_ratios([1.0], [1.0, 2.0]),
        lambda: tost_equivalence([1.0]),
        lambda: tost_equivalence([1.0, 1.0], margin=2),
        lambda: tost_equivalence([1.0, 1.0], scale="percent"),
        lambda: log_ratio_interval([1.0]),
        lambda: log_ratio_interval([1.0, 1.1], level=90),
        lambda: paired_ratio_summary([1.0, 2.0], [1.0]),
    ],
)
def test_bad_input_is_one_line(call):
    with pytest.raises(StudyError) as err:
        call()
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------- paired bootstrap of gains
from helpers.stats import BootstrapGain, paired_bootstrap_gain, paired_bootstrap_mean_gain, seed_spread  # noqa: E402


def _cls(lang: str, correct: list[int]) -> list[dict]:
    return [{"language": lang, "item": i, "correct": c} for i, c in enumerate(correct)]


ARM, BASE = _cls("en", [1, 1, 1, 0]), _cls("en", [1, 0, 0, 0])  # accuracy 75 vs 25


def test_bootstrap_gain_pinned_on_a_known_gain():
    got = paired_bootstrap_gain(ARM, BASE, "xnli")
    assert got == BootstrapGain(50.0, 0.0, 100.0) and got.lo <= got.gain <= got.hi
    gain, lo, hi = paired_bootstrap_gain(ARM, BASE, "xnli", n_boot=500, seed=3)  # unpacks as a tuple
    assert gain == 50.0 and lo <= 50.0 <= hi


def test_identical_arms_give_a_zero_interval():
    assert paired_bootstrap_gain(ARM, ARM, "xnli") == (0.0, 0.0, 0.0)
    assert paired_bootstrap_mean_gain({"xnli": (ARM, ARM), "xcopa": (BASE, BASE)}) == (0.0, 0.0, 0.0)


def test_one_flipped_item_of_100_is_a_poisson_count():
    """Paired: only the flipped item moves the gain, drawn Poisson(1)-like times: 95 % interval [0, 3] points."""
    flipped = _cls("de", [1] + [0] * 99)
    assert paired_bootstrap_gain(flipped, _cls("de", [0] * 100), "xnli") == (1.0, 0.0, 3.0)


def test_languages_are_resampled_apart_and_averaged_like_the_task_score():
    arm = ARM + _cls("de", [1, 0])
    base = BASE + _cls("de", [1, 0])  # gain 50 in en, 0 in de: the task's gain is 25
    assert paired_bootstrap_gain(arm, base, "xnli") == (25.0, 0.0, 50.0)
    import pandas as pd

    frame = pd.DataFrame(arm).astype(str)  # rows read back from zero_shot_items.csv are strings
    assert paired_bootstrap_gain(frame, pd.DataFrame(base).astype(str), "xnli") == (25.0, 0.0, 50.0)


TAG_ARM = [{"language": "en", "item": 0, "tp": 1, "n_pred": 1, "n_gold": 2},
           {"language": "en", "item": 1, "tp": 1, "n_pred": 1, "n_gold": 1}]
TAG_BASE = [dict(TAG_ARM[0], tp=0), TAG_ARM[1]]  # F1 2*2/5 = 80 vs 2*1/5 = 40


def test_tagging_gain_is_resampled_on_the_f1_ratio():
    gain, lo, hi = paired_bootstrap_gain(TAG_ARM, TAG_BASE, "panx")
    assert gain == pytest.approx(40.0) and lo == 0.0 and hi == pytest.approx(200 / 3)


def test_mean_over_tasks_resamples_each_task():
    got = paired_bootstrap_mean_gain({"xnli": (ARM, BASE), "panx": (TAG_ARM, TAG_BASE)})
    assert got.gain == pytest.approx(45.0)  # (50 + 40) / 2
    assert (got.lo, got.hi) == pytest.approx((12.5, 850 / 12))


def test_unpaired_items_and_bad_parameters_are_one_line():
    with pytest.raises(StudyError, match="scored on different items"):
        paired_bootstrap_gain(ARM, ARM[:3], "xnli")
    with pytest.raises(StudyError, match="different languages"):
        paired_bootstrap_gain(ARM, _cls("de", [1, 1, 1, 0]), "xnli")
    with pytest.raises(StudyError, match="appears twice"):
        paired_bootstrap_gain(ARM + ARM[:1], BASE + BASE[:1], "xnli")
    with pytest.raises(StudyError, match="level must be between 0 and 1"):
        paired_bootstrap_gain(ARM, BASE, "xnli", level=95)
    with pytest.raises(StudyError, match="n_boot must be a positive integer"):
        paired_bootstrap_gain(ARM, BASE, "xnli", n_boot=0)
    with pytest.raises(StudyError, match="no tasks to average"):
        paired_bootstrap_mean_gain({})


def test_seed_spread_of_the_direct_arm():
    rows = [{"arm": "direct", "target_task": "xnli", "language": lang, "metric": "accuracy", "seed": seed,
             "value": value + (1.0 if lang == "de" else -1.0)}
            for seed, value in ((1, 50.0), (2, 52.0), (3, 54.0)) for lang in ("en", "de")]
    rows += [{"arm": "direct", "target_task": "xnli", "language": "en", "metric": "top_class_share", "seed": 2,
              "value": 99.0},  # not the primary metric
             {"arm": "mnli", "target_task": "xnli", "language": "en", "metric": "accuracy", "seed": 2, "value": 0.0},
             {"arm": "direct", "target_task": "xcopa", "language": "it", "metric": "accuracy", "seed": 1, "value": 60.0}]
    assert seed_spread(rows) == [{"task": "xnli", "seeds": 3, "mean": 52.0, "sd": 2.0}]  # xcopa: one seed only
    assert seed_spread(rows, tasks=["xcopa"]) == []


def test_gain_intervals_table_per_arm_and_task_then_the_average():
    from helpers.stats import gain_intervals

    def rows(arm, task, items, seed=1):
        return [dict(i, arm=arm, target_task=task, seed=seed) for i in items]

    items = (rows("direct", "xnli", BASE) + rows("mnli", "xnli", ARM) + rows("direct", "panx", TAG_BASE)
             + rows("mnli", "panx", TAG_ARM) + rows("mnli", "xcopa", BASE)  # no direct xcopa: not compared
             + rows("direct", "xnli", ARM, seed=2))  # another seed of direct: not paired with seed 1
    got = gain_intervals(items)
    assert [(r["arm"], r["task"], r["items"]) for r in got] == [("mnli", "panx", 2), ("mnli", "xnli", 4),
                                                                 ("mnli", "average", 6)]
    assert got[1]["gain"] == 50.0 and got[2]["gain"] == pytest.approx(45.0)
    assert (got[2]["lo"], got[2]["hi"]) == pytest.approx((12.5, 850 / 12))  # as paired_bootstrap_mean_gain
    assert gain_intervals(items, seed=2) == []  # seed 2 has the direct arm only
    with pytest.raises(StudyError, match="no zero-shot items of seed 5; seeds present: 1, 2"):
        gain_intervals(items, seed=5)
    with pytest.raises(StudyError, match="no zero-shot items of the base arm 'multi'"):
        gain_intervals(items, base="multi")
