"""Official metrics on hand-computed cases."""

from __future__ import annotations

import warnings

import pytest
from seqeval.metrics import f1_score

from helpers.errors import StudyError
from helpers.metrics import (
    average_precision_at_k, dev_metric_name, make_compute_metrics, map_at_k, mlqa_normalize, primary_metric, qa_scores, score,
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
    assert s == {"exact_match": 50.0, "f1": 50.0, "em_f1": 50.0}


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
    assert score("mlqa", ["una"], [["una"]], "es") == {"exact_match": 100.0, "f1": 0.0, "em_f1": 50.0}
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



# --------------------------------------------------------------------------- issue 13: QA (EM+F1)/2, token accuracy
def test_qa_reports_xtreme_r_em_f1_beside_f1():
    # pred [barack, obama] vs gold [president, barack, obama, jr]: F1 2/3, EM 0; second answer exact (F1 = EM = 1)
    s = qa_scores(["Barack Obama", "Denver"], [["The President Barack Obama, Jr."], ["denver"]])
    assert s["f1"] == pytest.approx(100 * (2 / 3 + 1) / 2)
    assert s["exact_match"] == 50.0
    assert s["em_f1"] == pytest.approx((50.0 + 100 * (2 / 3 + 1) / 2) / 2)  # 66.666...
    assert score("xquad", ["Barack Obama"], [["Barack Obama"]], "de") == {"exact_match": 100.0, "f1": 100.0,
                                                                         "em_f1": 100.0}
    assert primary_metric("xquad") == "f1" and primary_metric("mlqa") == "f1"  # the primary stays F1


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_tagging_reports_token_accuracy_seqeval_merges_cconj_and_sconj():
    # seqeval 1.x reads the first character of a tag as its B/I prefix: CCONJ and SCONJ are both "CONJ",
    # so swapping them scores F1 100; token accuracy sees the swapped token (1 of 2 right: 50)
    gold, pred = [["NOUN", "CCONJ"]], [["NOUN", "SCONJ"]]
    s = score("udpos", pred, gold, "de")
    assert s["f1"] == 100.0 and 100 * f1_score(gold, pred) == 100.0
    assert s["accuracy"] == 50.0
    assert primary_metric("udpos") == "f1"
    ner = score("panx", [["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]], "de")
    assert ner["f1"] == 0.0 and ner["accuracy"] == pytest.approx(200 / 3)
    assert primary_metric("panx") == "f1"
    assert score("ccg", [["N", "S"]], [["N", "NP"]], "en")["accuracy"] == 50.0

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


# --------------------------------------------------------------------------- the Trainer's dev metric
def _prediction(predictions, label_ids):
    from transformers.trainer_utils import EvalPrediction

    return EvalPrediction(predictions=predictions, label_ids=label_ids)


def test_dev_metric_names():
    assert [dev_metric_name(f) for f in ("pair-classification", "multiple-choice", "tagging", "span-qa")] == [
        "accuracy", "accuracy", "f1", "f1"]


def test_dev_accuracy_is_the_mean_of_argmax_hits():
    import numpy as np

    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], dtype=np.float32)
    got = make_compute_metrics("pair-classification")(_prediction(logits, np.array([1, 1, 1])))
    assert got == {"accuracy": 100.0 * (2 / 3)}  # 66.66666666666666, not 200 / 3 (66.66666666666667)


def test_dev_tagging_f1_equals_seqeval_f1_score_exactly():
    """The dev F1 goes through seqeval_scores; it must equal seqeval's own f1_score bit for bit
    (what selected the checkpoints before), -100 positions left out."""
    import numpy as np

    names = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
    rng = np.random.default_rng(7)
    for _ in range(20):
        gold = rng.integers(0, len(names), size=(6, 9))
        gold[:, 0] = -100
        gold[rng.random(gold.shape) < 0.2] = -100
        logits = rng.normal(size=(6, 9, len(names)))
        got = make_compute_metrics("tagging", label_names=names)(_prediction(logits, gold))["f1"]
        ids = logits.argmax(-1)
        true = [[names[g] for g in row if g != -100] for row in gold]
        pred = [[names[p] for p, g in zip(prow, grow) if g != -100] for prow, grow in zip(ids, gold)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = 100.0 * float(f1_score(true, pred))
        assert got == expected
    gold = np.array([[-100, 1, 2, 0, 3]])
    logits = np.eye(len(names))[[0, 1, 2, 0, 0]][None]  # predicts B-PER I-PER, misses B-LOC
    assert make_compute_metrics("tagging", label_names=names)(_prediction(logits, gold)) == {"f1": 2 * 1 * 0.5 / 1.5 * 100}


def test_qa_dev_metric_selects_with_the_evaluation_n_best_search():
    """The Trainer's dev F1 for span QA is the zero-shot evaluation's: answers from
    ``evaluation.extract_answers`` (max-context rule included), scored by ``metrics.qa_scores``."""
    import numpy as np

    words = "alpha beta gamma delta epsilon zeta eta theta".split()
    context = " ".join(words)
    spans, pos = [], 0
    for w in words:
        spans.append([pos, pos + len(w)])
        pos += len(w) + 1

    def window(first: int, last: int) -> list:  # <s> q q </s> </s> context words </s>
        return [None] * 5 + [list(spans[w]) for w in range(first, last)] + [None]

    # window 1 holds words 0-4, window 2 words 3-7; "epsilon" ends window 1 (no right context)
    offsets = [window(0, 5), window(3, 8)]
    start = np.full((2, 11), -10.0, dtype=np.float32)
    end = np.full((2, 11), -10.0, dtype=np.float32)
    start[0, 9], end[0, 9] = 8.0, 3.0  # window 1: "epsilon" scores 11
    start[1, 6], end[1, 7] = 5.0, 4.0  # window 2: "epsilon zeta" scores 9
    examples = [{"id": "b", "context": context, "answers": {"text": ["epsilon zeta"], "answer_start": [23]}}]
    compute = make_compute_metrics("span-qa", dev_examples=examples,
                                   dev_features={"example_id": ["b", "b"], "offset_mapping": offsets})
    # max context gives epsilon to window 2, so the answer is "epsilon zeta" (F1 100); a search
    # without that rule would answer "epsilon" (F1 66.7)
    assert compute(_prediction((start, end), None)) == {"f1": 100.0}
    examples[0]["answers"]["text"] = ["epsilon"]
    assert compute(_prediction((start, end), None))["f1"] == pytest.approx(200 / 3)
