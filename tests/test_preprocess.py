"""Tokenisation into features: pinned ids, labels, windows and collation on a tiny tokenizer."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "training"))

from helpers.errors import StudyError  # noqa: E402
from helpers.evaluation import extract_answers  # noqa: E402
from helpers.preprocess import (  # noqa: E402
    HEAD_FOR_FORMAT,
    collator_for,
    encode,
    feature_lengths,
    word_predictions,
)
from tiny import make_tokenizer  # noqa: E402

NER = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
CONTEXT = "paris is the capital of france and berlin is the capital of germany"
QA = [
    {
        "id": "q",
        "question": "what is the capital of germany",
        "context": CONTEXT,
        "answers": {"text": ["berlin"], "answer_start": [CONTEXT.index("berlin")]},
    }
]


@pytest.fixture(scope="module")
def tok():
    return make_tokenizer()


def test_head_for_every_format():
    assert HEAD_FOR_FORMAT["tagging"] == "token-classification"
    assert HEAD_FOR_FORMAT["span-qa"] == "question-answering"
    assert set(HEAD_FOR_FORMAT) == {
        "pair-classification",
        "single-classification",
        "multiple-choice",
        "tagging",
        "span-qa",
    }


def test_pair_and_single_classification(tok):
    ex = [
        {"id": "a", "text_a": "the cat sat", "text_b": "on the mat", "label": 1},
        {"id": "b", "text_a": "the dogs", "text_b": "no", "label": 0},
    ]
    d = encode("pair-classification", ex, tok, 8, train=True)
    assert d["input_ids"][0] == [0, 6, 8, 2, 2, 11, 6, 2]  # longest_first cut "sat" and "mat"
    assert d["input_ids"][1] == [0, 6, 9, 72, 2, 2, 50, 2]  # unpadded: "dogs" = "▁dog" + "s"
    assert d["labels"] == [1, 0]
    assert d["example_id"] == ["a", "b"]
    single = encode("single-classification", ex, tok, 4, train=True)
    assert single["input_ids"][0] == [0, 6, 8, 2]
    named = encode("single-classification", [{"id": "c", "text_a": "x", "label": "neutral"}], tok, 8,
                   train=True, label_names=("entailment", "neutral", "contradiction"))
    assert named["labels"] == [1]


def test_bad_inputs_are_one_line_errors(tok):
    with pytest.raises(StudyError, match="valid formats: pair-classification"):
        encode("retrieval", [], tok, 8, train=True)
    with pytest.raises(StudyError, match="unknown label 'maybe'"):
        encode("single-classification", [{"id": "c", "text_a": "x", "label": "maybe"}], tok, 8, train=True,
               label_names=("yes", "no"))
    with pytest.raises(StudyError, match="tagging needs label_names"):
        encode("tagging", [{"id": "t", "tokens": ["a"], "tags": ["O"]}], tok, 8, train=True)
    with pytest.raises(StudyError, match="doc_stride"):
        encode("span-qa", QA, tok, 16, train=True, doc_stride=11)  # 16 - 1 question token - 4 specials
    assert len(encode("span-qa", QA, tok, 16, train=True, doc_stride=10)) > 1
    assert len(encode("span-qa", QA, tok, 128, train=True, doc_stride=64)) == 1  # the embedded recipe's window


def test_multiple_choice_shape_and_collation(tok):
    mc = [{"id": "m", "context": "the ground is wet", "question": "why", "choices": ["rain", "so sun"], "label": 0}]
    d = encode("multiple-choice", mc, tok, 32, train=True)
    first, second = d["input_ids"][0]
    assert first == [0, 6, 44, 13, 43, 23, 2, 2, 42, 2]
    assert len(second) == 13
    batch = collator_for("multiple-choice", tok)([d[0], d[0]])
    assert tuple(batch["input_ids"].shape) == (2, 2, 13)
    assert batch["input_ids"][0, 0, -1].item() == tok.pad_token_id
    assert batch["attention_mask"][0, 0].sum().item() == 10
    assert batch["labels"].tolist() == [0, 0]
    assert "example_id" not in batch
    assert feature_lengths(d) == [23]


def test_tagging_labels_first_subword_and_keeps_word_ids(tok):
    ex = [{"id": "t", "tokens": ["John", "sat", "in", "Paris"], "tags": ["B-PER", "O", "O", "B-LOC"]}]
    d = encode("tagging", ex, tok, 32, train=True, label_names=NER)
    assert d["word_ids"][0] == [-1, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3, -1]
    assert d["labels"][0] == [-100, 1, -100, -100, -100, 0, 0, 3, -100, -100, -100, -100, -100]
    short = encode("tagging", ex + [{"id": "u", "tokens": ["sat"], "tags": ["O"]}], tok, 32, train=True, label_names=NER)
    batch = collator_for("tagging", tok, keep_word_ids=True)([short[1], short[0]])
    assert batch["labels"][0].tolist() == [-100, 0, -100] + [-100] * 10
    assert batch["word_ids"][0].tolist() == [-1, 0, -1] + [-1] * 10
    assert "word_ids" not in collator_for("tagging", tok)([short[0]])
    # back to words: the prediction at each first sub-word; truncated words get the fill value
    preds = np.arange(13)
    assert word_predictions(d["word_ids"][0], preds, 4) == [1, 5, 6, 7]
    cut = encode("tagging", ex, tok, 6, train=True, label_names=NER)
    assert word_predictions(cut["word_ids"][0], np.arange(6), 4, fill=0) == [1, 0, 0, 0]


def test_span_qa_train_windows_locate_the_answer(tok):
    d = encode("span-qa", QA, tok, 16, train=True, doc_stride=3)
    assert len(d) == 2  # the context overflows into a second window
    tokens0 = tok.convert_ids_to_tokens(d["input_ids"][0])
    assert tokens0[d["start_positions"][0]] == "▁berlin" == tokens0[d["end_positions"][0]]
    assert d["start_positions"][1] == d["end_positions"][1] == 0  # answer not in window 2 -> <s>
    # question clipped to max_length // 2 - 8 = 0 -> 1 token: "what"
    assert tokens0[:4] == ["<s>", "▁what", "</s>", "</s>"]


def test_span_qa_eval_offsets_and_nbest(tok):
    e = encode("span-qa", QA, tok, 16, train=False, doc_stride=3)
    assert e["example_id"] == ["q", "q"]
    offsets = e["offset_mapping"]
    assert offsets[0][:4] == [None] * 4 and offsets[0][-1] is None
    assert offsets[1][4] == [41, 44]  # the second window restarts 3 tokens before its end
    length = max(len(x) for x in e["input_ids"])
    start, end = np.zeros((2, length)), np.zeros((2, length))
    start[0, 0] = end[0, 0] = 100.0  # <s> is outside the context: never an answer
    start[0, 11], end[0, 11] = 3.0, 3.0  # "berlin" in window 1
    start[1, 6], end[1, 8] = 2.0, 2.5  # "capital of germany" in window 2 (score 4.5 < 6)
    assert extract_answers(QA, e.to_list(), start, end, max_context=False) == {"q": "berlin"}
    start[1, 6] = 5.0  # now window 2's span scores 7.5
    assert extract_answers(QA, e.to_list(), start, end, max_context=False) == {"q": "capital of germany"}
    assert extract_answers(QA, e.to_list(), start, end, max_answer_length=2, max_context=False) == {"q": "berlin"}
