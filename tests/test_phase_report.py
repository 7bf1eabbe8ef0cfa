"""What the data and phase chapters show, on tiny frames with pinned values."""

from __future__ import annotations

import pandas as pd

from helpers import phase_report
from helpers.config import configure

BASE = pd.DataFrame([{"task": "xnli", "baseline": "majority", "language": "en", "value": 30.0},
                     {"task": "xnli", "baseline": "majority", "language": "de", "value": 40.0},
                     {"task": "panx", "baseline": "most-frequent-tag", "language": "en", "value": 10.0}])


def test_data_facts_count_tasks_languages_and_examples():
    sizes = pd.DataFrame([{"task": "xnli", "split": "train", "language": "en", "examples": 64},
                          {"task": "xnli", "split": "test", "language": "en", "examples": 8},
                          {"task": "xnli", "split": "test", "language": "de", "examples": 8},
                          {"task": "panx", "split": "train", "language": "en", "examples": 32},
                          {"task": "panx", "split": "test", "language": "sw", "examples": 4}])
    cfg = configure(profile="smoke", task="xnli,panx", arm="direct")
    summary = phase_report.baseline_summary(BASE, cfg)
    assert phase_report.data_facts(sizes, summary) == {
        "data_n_tasks": 2, "data_n_languages": 3, "data_n_test": 20, "data_n_train": 96,
        "data_best_baseline_task": "xnli", "data_best_baseline": 35.0}
    assert phase_report.test_table(sizes, cfg).loc["panx"].tolist() == [0, 0, 4]


def test_recipe_tables_and_dev_scores():
    cfg = configure(profile="smoke", task="xnli,panx,tatoeba", arm="direct,mnli")
    assert phase_report.target_recipes(cfg).index.tolist() == ["xnli", "panx"]
    inter = phase_report.intermediate_recipes(cfg)
    assert inter.index.tolist() == ["mnli"] and "lr" in inter.columns
    target = pd.DataFrame([{"arm": "direct", "task": "xnli", "dev accuracy": 50.0, "steps": 4, "tokens": 1000},
                           {"arm": "mnli", "task": "xnli", "dev accuracy": 62.5, "steps": 4, "tokens": 1000}])
    dev = phase_report.dev_score_table(target, cfg)
    assert dev["xnli"].tolist() == [50.0, 62.5]
    assert phase_report.target_facts(target, dev) == {
        "tgt_n_runs": 2, "tgt_steps": 8, "tgt_tokens": "2,000", "tgt_best_dev_arm": "mnli", "tgt_best_dev_mean": 62.5}


def test_dev_scores_keep_the_configured_seed_when_extra_seeds_ran():
    cfg = configure(profile="smoke", task="xnli", arm="direct,mnli")
    target = pd.DataFrame([{"arm": "direct", "task": "xnli", "dev accuracy": 50.0, "seed": 1},
                           {"arm": "mnli", "task": "xnli", "dev accuracy": 62.5, "seed": 1},
                           {"arm": "direct", "task": "xnli", "dev accuracy": 75.0, "seed": 2}])
    assert phase_report.dev_score_table(target, cfg)["xnli"].tolist() == [50.0, 62.5]  # not a duplicate-key error
