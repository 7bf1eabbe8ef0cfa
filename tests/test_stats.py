"""Pinned, hand-checkable values for helpers.stats."""

from __future__ import annotations

import math

import pytest

from helpers.errors import StudyError
from helpers.stats import bootstrap_ratio_ci, paired_ratios, tost_equivalence


def t2_cdf(t: float) -> float:
    """Student t CDF with 2 degrees of freedom, closed form: 1/2 + t / (2 sqrt(2 + t^2))."""
    return 0.5 + t / (2 * math.sqrt(2 + t * t))


def test_paired_bootstrap_of_a_constant_ratio_is_exact():
    # B takes twice as long in every repetition: A is exactly 2x faster, every resample says so.
    assert bootstrap_ratio_ci([1, 2, 4], [2, 4, 8]) == (2.0, 2.0, 2.0)


def test_paired_bootstrap_pinned_interval():
    # ratio = sum(b)/sum(a) = 6/4. A resample with k copies of the slow pair has ratio 1 + k/2;
    # P(k=0) = (3/4)^4 = 0.32 > 2.5 % -> lo = 1.0; P(k>=3) = 13/256 = 5.1 % > 2.5 % > P(k=4) = 0.4 % -> hi = 2.5.
    assert bootstrap_ratio_ci([1, 1, 1, 1], [1, 1, 1, 3]) == (1.5, 1.0, 2.5)


def test_unpaired_bootstrap_differs_from_paired():
    # paired: the per-pair ratio is always 2, so the interval collapses; unpaired it does not.
    a, b = [1.0, 2.0], [2.0, 4.0]
    assert bootstrap_ratio_ci(a, b, paired=True) == (2.0, 2.0, 2.0)
    r, lo, hi = bootstrap_ratio_ci(a, b, paired=False)
    assert r == 2.0 and lo == pytest.approx(1.0) and hi == pytest.approx(4.0)


def test_bootstrap_is_reproducible_and_seeded():
    a, b = [1.0, 1.1, 0.9, 1.05, 0.97], [1.2, 1.0, 1.1, 1.3, 0.95]
    assert bootstrap_ratio_ci(a, b, seed=3) == bootstrap_ratio_ci(a, b, seed=3)


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
    assert far["verdict"] == "not equivalent" and far["p_upper"] > 0.5
    # ratio scale and log scale agree
    r = tost_equivalence([0.99, 1.0, 1.02])
    l = tost_equivalence([math.log(v) for v in (0.99, 1.0, 1.02)], scale="log")
    assert r["p_lower"] == pytest.approx(l["p_lower"]) and r["p_upper"] == pytest.approx(l["p_upper"])


@pytest.mark.parametrize(
    "call",
    [
        lambda: bootstrap_ratio_ci([], [1.0]),
        lambda: bootstrap_ratio_ci([1.0, -1.0], [1.0, 1.0]),
        lambda: bootstrap_ratio_ci([1.0], [1.0, 2.0]),
        lambda: tost_equivalence([1.0]),
        lambda: tost_equivalence([1.0, 1.0], margin=2),
        lambda: tost_equivalence([1.0, 1.0], scale="percent"),
    ],
)
def test_bad_input_is_one_line(call):
    with pytest.raises(StudyError) as err:
        call()
    assert "\n" not in str(err.value)
