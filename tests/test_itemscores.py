"""helpers.itemscores: per-item statistics that rebuild every format's official score, on tiny fixtures."""

from __future__ import annotations

import random

import pytest

from helpers import metrics
from helpers.errors import StudyError
from helpers.itemscores import (DEGENERATE_SHARE, is_degenerate, item_columns, item_stats, ratio_terms,
                                score_from_items, top_class_share)
from helpers.tasks import UPOS_TAGS

NER_REFS = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"], ["B-LOC"]]
NER_PREDS = [["B-PER", "I-PER", "O", "O"], ["O", "B-ORG"], ["B-PER"]]


def test_classification_and_multiple_choice_items_reproduce_accuracy_exactly():
    preds, refs = [0, 1, 2, 2, 1, 0, 0], [0, 1, 1, 2, 0, 0, 2]
    items = item_stats("xnli", preds, refs, "de")
    assert items == [{"correct": c} for c in (1, 1, 0, 1, 0, 1, 0)]
    assert score_from_items("xnli", items) == metrics.score("xnli", preds, refs, "de")["accuracy"] == 400 / 7
    mc = item_stats("xcopa", [0, 1, 1], [0, 0, 1], "it")
    assert score_from_items("xcopa", mc) == metrics.score("xcopa", [0, 1, 1], [0, 0, 1], "it")["accuracy"]
    assert item_columns("xnli") == ("correct",)


def test_tagging_items_pinned_and_equal_to_seqeval():
    items = item_stats("panx", NER_PREDS, NER_REFS, "de")
    # gold PER, LOC | ORG | LOC; predicted PER | ORG | PER: 2 of 3 predicted entities match 2 of 4 gold
    assert items == [{"tp": 1, "n_pred": 1, "n_gold": 2, "tok_correct": 3, "tok_total": 4},
                     {"tp": 1, "n_pred": 1, "n_gold": 1, "tok_correct": 2, "tok_total": 2},
                     {"tp": 0, "n_pred": 1, "n_gold": 1, "tok_correct": 0, "tok_total": 1}]
    official = metrics.seqeval_scores(NER_PREDS, NER_REFS)
    assert score_from_items("panx", items) == official["f1"] == pytest.approx(400 / 7)  # 2*2 / (3+4)
    assert score_from_items("panx", items, "precision") == pytest.approx(official["precision"])
    assert score_from_items("panx", items, "recall") == pytest.approx(official["recall"])
    assert score_from_items("panx", items, "accuracy") == pytest.approx(500 / 7)  # 5 of 7 tokens


@pytest.mark.parametrize("task,tags", [("panx", ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG")),
                                       ("udpos", UPOS_TAGS)])
def test_summed_tagging_items_give_seqevals_micro_f1_on_random_sentences(task, tags):
    """F1 = 2 tp / (n_pred + n_gold) over the summed items is seqeval's F1, also for UPOS tags (X, PUNCT, ...)."""
    rng = random.Random(7)
    refs = [[rng.choice(tags) for _ in range(rng.randint(1, 9))] for _ in range(60)]
    preds = [[t if rng.random() < 0.6 else rng.choice(tags) for t in r] for r in refs]
    items = item_stats(task, preds, refs, "en")
    assert score_from_items(task, items) == metrics.seqeval_scores(preds, refs)["f1"]
    flat_p, flat_r = [t for s in preds for t in s], [t for s in refs for t in s]
    assert score_from_items(task, items, "accuracy") == metrics.accuracy(flat_p, flat_r)


def test_upos_swap_counts_in_token_accuracy_not_in_seqeval():
    # seqeval reads CCONJ/SCONJ as prefix C/S + type "CONJ": swapping them leaves F1 at 100
    preds, refs = [["CCONJ", "NOUN"]], [["SCONJ", "NOUN"]]
    items = item_stats("udpos", preds, refs, "en")
    assert score_from_items("udpos", items) == metrics.seqeval_scores(preds, refs)["f1"] == 100.0
    assert score_from_items("udpos", items, "accuracy") == 50.0


def test_span_qa_items_reproduce_squad_and_mlqa_scores():
    preds, refs = ["the Berlin", "paris france"], [["Berlin"], ["Paris", "Lyon"]]
    items = item_stats("xquad", preds, refs, "de")
    assert items == [{"f1": 1.0, "em": 1.0}, {"f1": pytest.approx(2 / 3), "em": 0.0}]
    official = metrics.score("xquad", preds, refs, "de")
    assert score_from_items("xquad", items) == official["f1"] == pytest.approx(250 / 3)
    assert score_from_items("xquad", items, "exact_match") == official["exact_match"] == 50.0
    assert score_from_items("xquad", items, "em_f1") == pytest.approx((official["f1"] + 50.0) / 2)
    # MLQA normalises by language: zh is split into characters (2 of 4 shared), es drops its articles
    zh = item_stats("mlqa", ["北京大学", "上海"], [["北京"], ["上海"]], "zh")
    assert [i["f1"] for i in zh] == [pytest.approx(2 / 3), 1.0]
    assert score_from_items("mlqa", zh) == metrics.score("mlqa", ["北京大学", "上海"], [["北京"], ["上海"]], "zh")["f1"]
    es = item_stats("mlqa", ["la casa"], [["casa"]], "es")
    assert es == [{"f1": 1.0, "em": 1.0}]


def test_retrieval_items_from_rankings():
    hits = item_stats("tatoeba", [[1, 0], [1, 0], [2]], [{1}, {0}, {2}], "de")
    assert hits == [{"hit": 1.0}, {"hit": 0.0}, {"hit": 1.0}]
    assert score_from_items("tatoeba", hits) == pytest.approx(200 / 3)
    aps = item_stats("lareqa", [[3, 1, 2], [0]], [{1, 2}, {0}], "de")
    assert aps == [{"ap": pytest.approx(100 * (1 / 2 + 2 / 3) / 2)}, {"ap": 100.0}]
    assert score_from_items("lareqa", aps) == pytest.approx(
        metrics.score("lareqa", [[3, 1, 2], [0]], [{1, 2}, {0}], "de")["map@20"], abs=1e-9)
    assert item_columns("tatoeba") == ("hit",) and item_columns("mewslix") == ("ap",)


def test_items_read_back_from_csv_strings_and_clear_errors():
    as_csv = [{"tp": "1", "n_pred": "1", "n_gold": "2", "tok_correct": "3", "tok_total": "4"}]
    assert score_from_items("panx", as_csv) == pytest.approx(200 / 3)
    with pytest.raises(StudyError, match="panx item 0 has no 'tp' statistic; panx items carry tp, n_pred"):
        score_from_items("panx", [{"correct": 1}])
    with pytest.raises(StudyError, match="cannot be computed from xnli items; valid metrics: accuracy"):
        ratio_terms("xnli", "f1")
    with pytest.raises(StudyError, match="2 predictions for 1 references"):
        item_stats("xnli", [0, 1], [0], "en")
    with pytest.raises(StudyError, match="no xnli items"):
        score_from_items("xnli", [])


def test_top_class_share_and_the_degenerate_flag():
    assert top_class_share("xnli", [2, 2, 2, 1]) == 75.0
    assert top_class_share("panx", NER_PREDS) == pytest.approx(100 * 3 / 7)  # "O" in 3 of 7 tokens
    assert top_class_share("xquad", ["a"]) is None and top_class_share("tatoeba", [[0]]) is None
    assert DEGENERATE_SHARE == 95.0
    assert is_degenerate(100.0) and is_degenerate(95.0) and not is_degenerate(94.9) and not is_degenerate(None)
    assert is_degenerate(top_class_share("xnli", [0] * 20))
