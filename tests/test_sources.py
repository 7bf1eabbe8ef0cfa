"""Sources: xtreme-dir readers on tiny fixtures and on the real files, hub schema mapping, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.errors import StudyError
from helpers.sources import (
    get_source, hub_row_to_canonical, load_examples, load_retrieval, read_tagging, realdata_root,
)


def _realdata() -> Path:
    root = realdata_root() or Path(__file__).resolve().parents[2] / "shared" / "realdata"
    if not root.is_dir():
        pytest.skip("../shared/realdata is absent: real-file checks need the shared sample data")
    return root


@pytest.fixture
def tiny(tmp_path) -> Path:
    (tmp_path / "xnli").mkdir()
    (tmp_path / "xnli/test-de.tsv").write_text("Ein Hund bellt.\tEin Tier bellt.\tentailment\n"
                                               "A\tB\tcontradictory\n", encoding="utf-8")
    (tmp_path / "panx").mkdir()
    (tmp_path / "panx/test-de.tsv").write_text("Anna\tB-PER\nlebt\tO\n\nin\tO\nBerlin\tB-LOC\n", encoding="utf-8")
    (tmp_path / "xquad").mkdir()
    squad = {"data": [{"title": "t", "paragraphs": [{"context": "Anna lebt in Berlin.", "qas": [
        {"id": "q1", "question": "Wo lebt Anna?", "answers": [{"answer_start": 13, "text": "Berlin"}]}]}]}]}
    (tmp_path / "xquad/xquad.de.json").write_text(json.dumps(squad), encoding="utf-8")
    (tmp_path / "tatoeba/v1").mkdir(parents=True)
    (tmp_path / "tatoeba/v1/tatoeba.deu-eng.deu").write_text("Hallo.\nDanke.\n", encoding="utf-8")
    (tmp_path / "tatoeba/v1/tatoeba.deu-eng.eng").write_text("Hello.\nThanks.\n", encoding="utf-8")
    return tmp_path


def test_tiny_xtreme_dir(tiny):
    src = get_source("xtreme-dir", tiny)
    assert load_examples("xnli", "test", "de", src) == [
        {"id": "test-de-0", "text_a": "Ein Hund bellt.", "text_b": "Ein Tier bellt.", "label": 0},
        {"id": "test-de-1", "text_a": "A", "text_b": "B", "label": 2}]
    ner = load_examples("panx", "test", "de", src)
    assert [e["tokens"] for e in ner] == [["Anna", "lebt"], ["in", "Berlin"]]
    assert ner[1]["tags"] == ["O", "B-LOC"]
    qa = load_examples("xquad", "test", "de", src, limit=1)
    assert qa[0]["answers"] == {"text": ["Berlin"], "answer_start": [13]}
    rs = load_retrieval("tatoeba", "de", src)
    assert rs.queries == ["Hallo.", "Danke."] and rs.candidates == ["Hello.", "Thanks."]
    assert rs.gold == [frozenset({0}), frozenset({1})]


def test_malformed_files_name_file_and_line(tiny):
    src = get_source("xtreme-dir", tiny)
    (tiny / "xnli/test-de.tsv").write_text("a\tb\tentailment\nc\td\tmaybe\n", encoding="utf-8")
    with pytest.raises(StudyError, match=r"test-de\.tsv, line 2: unknown label 'maybe'"):
        load_examples("xnli", "test", "de", src)
    (tiny / "panx/test-de.tsv").write_text("Anna\tB-PER\nx\ty\tz\n", encoding="utf-8")
    with pytest.raises(StudyError, match=r"panx/test-de\.tsv, line 2: expected token<TAB>tag"):
        load_examples("panx", "test", "de", src)
    (tiny / "xquad/xquad.de.json").write_text('{"data": [', encoding="utf-8")
    with pytest.raises(StudyError, match=r"xquad\.de\.json, line 1: invalid JSON"):
        load_examples("xquad", "test", "de", src)
    (tiny / "tatoeba/v1/tatoeba.deu-eng.eng").write_text("Hello.\n", encoding="utf-8")
    with pytest.raises(StudyError, match=r"tatoeba\.deu-eng\.deu, line 2: 2 lines but"):
        load_retrieval("tatoeba", "de", src)


def test_missing_files_and_bad_arguments(tiny):
    src = get_source("xtreme-dir", tiny)
    with pytest.raises(StudyError, match=r"data file .*xnli/test-fr\.tsv does not exist"):
        load_examples("xnli", "test", "fr", src)
    with pytest.raises(StudyError, match="data directory /nonexistent does not exist"):
        get_source("xtreme-dir", "/nonexistent")
    with pytest.raises(StudyError, match="unknown data source 'web'; valid data sources: hub, xtreme-dir, embedded"):
        get_source("web")
    with pytest.raises(StudyError, match="unknown split 'valid'; valid splits: train, dev, test"):
        load_examples("xnli", "valid", "de", src)
    with pytest.raises(StudyError, match="unknown language 'xx' for xnli; valid languages: ar, bg"):
        load_examples("xnli", "test", "xx", src)
    with pytest.raises(StudyError, match="unknown task 'foo'"):
        load_examples("foo", "test", "de", src)
    with pytest.raises(StudyError, match="tatoeba has no training data"):
        load_examples("tatoeba", "train", "en", src)


def test_read_tagging_unlabelled(tmp_path):
    path = tmp_path / "test-en.tsv"
    path.write_text("Shortly\nafterward\n\nHe\n", encoding="utf-8")
    assert read_tagging(path) == [{"id": "test-en-0", "tokens": ["Shortly", "afterward"], "tags": None},
                                  {"id": "test-en-1", "tokens": ["He"], "tags": None}]


def test_hub_rows_map_to_canonical():
    assert hub_row_to_canonical("xnli", {"premise": "p", "hypothesis": "h", "label": 2}) == {
        "id": "xnli-0", "text_a": "p", "text_b": "h", "label": 2}
    assert hub_row_to_canonical("anli", {"uid": "u1", "premise": "p", "hypothesis": "h", "label": 1,
                                         "reason": ""})["label"] == 1
    assert hub_row_to_canonical("sst2", {"sentence": "good ", "label": 1, "idx": 4}) == {
        "id": "sst2-4", "text_a": "good", "text_b": None, "label": 1}
    assert hub_row_to_canonical("qqp", {"question1": "a", "question2": "b", "label": 0, "idx": 1})["label"] == 0
    assert hub_row_to_canonical("panx", {"tokens": ["Anna", "lebt"], "ner_tags": [1, 0], "langs": ["de", "de"]})[
        "tags"] == ["B-PER", "O"]
    assert hub_row_to_canonical("udpos", {"tokens": ["Hi"], "pos_tags": [6]})["tags"] == ["INTJ"]
    siqa = hub_row_to_canonical("siqa", {"context": "c", "question": "q", "answerA": "a", "answerB": "b",
                                          "answerC": "c", "label": "2"})
    assert siqa["label"] == 1 and siqa["choices"] == ["a", "b", "c"]
    csqa = hub_row_to_canonical("commonsenseqa", {"id": "x", "question": "q?", "question_concept": "c",
                                                  "choices": {"label": list("ABCDE"), "text": list("vwxyz")},
                                                  "answerKey": "D"})
    assert csqa["label"] == 3 and csqa["choices"] == list("vwxyz")
    hs = hub_row_to_canonical("hellaswag", {"ind": 7, "activity_label": "a", "ctx_a": "x", "ctx_b": "y",
                                            "ctx": "x y", "endings": ["1", "2", "3", "4"], "label": "2"})
    assert hs["label"] == 2 and hs["context"] == "x y"
    cos = hub_row_to_canonical("cosmosqa", {"id": "i", "context": "c", "question": "q", "answer0": "a",
                                            "answer1": "b", "answer2": "c", "answer3": "d", "label": 3})
    assert cos["label"] == 3
    copa = hub_row_to_canonical("xcopa", {"premise": "p", "choice1": "a", "choice2": "b", "question": "effect",
                                          "label": 1, "idx": 3})
    assert copa == {"id": "copa-3", "context": "p", "question": "effect", "choices": ["a", "b"], "label": 1}
    qa = hub_row_to_canonical("xquad", {"id": "q", "context": "abc", "question": "?",
                                        "answers": {"text": ["b"], "answer_start": [1]}})
    assert qa["answers"] == {"text": ["b"], "answer_start": [1]}
    with pytest.raises(StudyError, match="ccg has no hub mapping"):
        hub_row_to_canonical("ccg", {})


# ---------------------------------------------------------------- real files
@pytest.mark.parametrize("task,split,lang,n", [
    ("xnli", "dev", "sw", 2490), ("udpos", "test", "mr", 47), ("panx", "dev", "yo", 100),
    ("xquad", "test", "ro", 1190), ("mlqa", "dev", "vi", 511), ("tydiqa", "test", "en", 440),
    ("tydiqa", "train", "sw", 2755), ("xcopa", "test", "qu", 500), ("xcopa", "dev", "en", 100),
    ("siqa", "dev", "en", 1954), ("cosmosqa", "dev", "en", 2985), ("commonsenseqa", "dev", "en", 1221),
    ("sst2", "test", "en", 872), ("anli", "dev", "en", 3200), ("pawsx", "dev", "ja", 2000),
])
def test_real_file_counts(task, split, lang, n):
    src = get_source("xtreme-dir", _realdata())
    assert len(load_examples(task, split, lang, src)) == n


def test_real_retrieval_sets():
    src = get_source("xtreme-dir", _realdata())
    rs = load_retrieval("tatoeba", "jv", src)
    assert len(rs.queries) == len(rs.candidates) == 205
    lq = load_retrieval("lareqa", "de", src, limit=3)
    assert len(lq.queries) == 3 and all(len(g) == 3 for g in lq.gold)  # en, de, zh answers
    first = load_examples("xquad", "test", "en", src, limit=1)[0]
    assert first["answers"] == {"text": ["308"], "answer_start": [34]}
    assert first["question"] == "How many points did the Panthers defense surrender?"
