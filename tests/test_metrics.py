"""Official metrics on hand-computed cases."""

from __future__ import annotations

import math

import pytest
from seqeval.metrics import f1_score

from helpers.errors import StudyError
from helpers.metrics import (
    aggregate, average_precision_at_k, map_at_k, mlqa_normalize, primary_metric, qa_scores, score,
    seqeval_scores, squad_normalize,
)


def test_squad_partial_match_by_hand():
    # pred tokens: [barack, obama]; gold: [president, barack, obama, jr] ("The" dropped)
    # common 2 -> P = 2/2, R = 2/4, F1 = 2*1*0.5/1.5 = 2/3
    s = qa_scores(["Barack Obama"], [["The President Barack Obama, Jr."]])
    assert s["f1"] == pytest.approx(200 / 3)
    assert s["exact_match"] == 0.0
    assert squad_normalize("The  Cat's  hat!") == "cats hat"


def test_max_over_gold_answers():
    s = qa_scores(["Denver Broncos", "Carolina"], [["Denver Broncos", "Broncos"], {"answers": {"text": ["Panthers"]}}])
    assert s == {"exact_match": 50.0, "f1": 50.0}


def test_mlqa_zh_character_level():
    # mixed segmentation: every Han character is a token
    assert mlqa_normalize("北京大学", "zh") == "北 京 大 学"
    # pred 北京 vs gold 北京大学: common 2, P = 1, R = 0.5, F1 = 2/3
    s = score("mlqa", ["北京"], [["北京大学"]], "zh")
    assert s["f1"] == pytest.approx(200 / 3) and s["exact_match"] == 0.0
    # the same strings under SQuAD rules are one token each: F1 0
    assert score("xquad", ["北京"], [["北京大学"]], "zh")["f1"] == 0.0


def test_mlqa_language_articles_and_unicode_punctuation():
    assert mlqa_normalize("Die Stadt", "de") == "stadt"
    assert mlqa_normalize("los perros «grandes»", "es") == "perros grandes"
    assert squad_normalize("los perros «grandes»") == "los perros «grandes»"
    # official quirk: an answer that normalises to nothing scores F1 0 but EM 1
    assert score("mlqa", ["una"], [["una"]], "es") == {"exact_match": 100.0, "f1": 0.0}
    with pytest.raises(StudyError, match="valid languages: en, es"):
        mlqa_normalize("x", "fr")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_seqeval_tiny_case_and_agreement_with_seqeval():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O"]]
    # entities gold {PER(0-1), LOC(3), ORG(s2)}, pred {PER, ORG(3), ORG(s2)}: 2 correct of 3 and 3
    s = seqeval_scores(pred, gold)
    assert s["f1"] == pytest.approx(200 / 3) and s["precision"] == pytest.approx(200 / 3)
    assert s["f1"] == pytest.approx(100 * f1_score(gold, pred))
    upos_gold = [["PRON", "VERB", "NOUN", "NOUN", "PUNCT"]]
    upos_pred = [["PRON", "VERB", "NOUN", "VERB", "PUNCT"]]
    assert seqeval_scores(upos_pred, upos_gold)["f1"] == pytest.approx(100 * f1_score(upos_gold, upos_pred))


def test_map_at_20_tiny_ranking():
    # gold {1, 3}; ranking 1 (hit, P=1), 0, 3 (hit, P=2/3): AP = (1 + 2/3) / 2 = 5/6
    assert average_precision_at_k([1, 0, 3, 2], {1, 3}) == pytest.approx(5 / 6)
    # single gold at rank 2: reciprocal rank 1/2 (Mewsli-X's MRR@20)
    assert map_at_k([[5, 7], [2]], [{7}, {9}]) == pytest.approx(25.0)
    # a hit beyond rank 20 does not count
    assert average_precision_at_k(list(range(30)), {25}) == 0.0
    assert score("lareqa", [[1, 0, 3]], [{1, 3}], "de") == {"map@20": pytest.approx(500 / 6)}


def test_accuracy_and_tatoeba():
    assert score("xnli", [0, 1, 2, 2], [0, 1, 1, 2], "de") == {"accuracy": 75.0}
    assert score("tatoeba", [0, 2, [2, 1]], [{0}, {1}, {2}], "de") == {"accuracy": pytest.approx(200 / 3)}
    with pytest.raises(StudyError, match="3 predictions for 2 references"):
        score("xnli", [0, 1, 2], [0, 1], "en")


def test_primary_metric():
    assert [primary_metric(t) for t in ("xnli", "udpos", "xquad", "mewslix", "tatoeba")] == [
        "accuracy", "f1", "f1", "map@20", "accuracy"]


def test_aggregate_languages_then_tasks_then_groups():
    rows = [
        {"task": "xnli", "language": "de", "metric": "accuracy", "value": 80},
        {"task": "xnli", "language": "zh", "metric": "accuracy", "value": 60},  # xnli 70
        {"task": "xcopa", "language": "sw", "metric": "accuracy", "value": 50},  # classification (70+50)/2=60
        {"task": "xquad", "language": "de", "metric": "f1", "value": 90},
        {"task": "xquad", "language": "de", "metric": "exact_match", "value": 70},  # not in the primary number
        {"task": "udpos", "language": "de", "metric": "precision", "value": 1},  # ignored
    ]
    agg = aggregate(rows)
    assert agg["tasks"] == {"xnli": 70.0, "xcopa": 50.0, "xquad": 90.0}
    assert agg["groups"] == {"classification": 60.0, "question-answering": 90.0}
    assert agg["overall"] == 75.0
    assert agg["qa_exact_match"] == {"xquad": 70.0}
    assert math.isnan(aggregate([])["overall"])
