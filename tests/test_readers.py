"""A UTF-8 byte-order mark (U+FEFF) at the start of a file never reaches a token, text or label.

Every reader of helpers.readers, helpers.retrieval_sets and helpers.tatoeba goes through one helper,
:func:`helpers.readers.read_data_text`; one BOM fixture per reader family, written to tmp_path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import readers, retrieval_sets, tatoeba
from helpers.errors import StudyError
from helpers.readers import BOM, read_data_text

UTF8_BOM = BOM.encode("utf-8")  # b"\xef\xbb\xbf"


def _bom_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(UTF8_BOM + text.encode("utf-8"))
    return path


def _no_bom(value) -> None:
    assert BOM not in json.dumps(value, ensure_ascii=False)


def test_the_one_helper_drops_exactly_a_leading_bom(tmp_path):
    assert read_data_text(_bom_file(tmp_path, "a.txt", "x\ny\n")) == "x\ny\n"
    inner = tmp_path / "b.txt"
    inner.write_bytes(b"x" + UTF8_BOM + b"y\n")  # not at the start: data, kept
    assert read_data_text(inner) == "x\ufeffy\n"


def test_tagging_readers(tmp_path):
    ex = readers.read_tagging(_bom_file(tmp_path, "test-de.tsv", "Anna\tB-PER\nlebt\tO\n"))
    assert ex[0]["tokens"] == ["Anna", "lebt"] and ex[0]["tags"] == ["B-PER", "O"]
    conllu = "1\tAnna\tanna\tPROPN\t_\t_\t2\tnsubj\t_\t_\n2\tlebt\tleben\tVERB\t_\t_\t0\troot\t_\t_\n"
    ex = readers.read_conllu(_bom_file(tmp_path, "de.conllu", conllu))
    assert ex[0]["tokens"] == ["Anna", "lebt"] and ex[0]["tags"] == ["PROPN", "VERB"]
    # with a tag set: the first line's tag is checked and its token kept clean
    ex = readers.read_tagging(_bom_file(tmp_path, "t.tsv", "Hund\tNOUN\n"), valid_tags=("NOUN",))
    assert ex[0]["tokens"] == ["Hund"]


def test_tsv_readers(tmp_path):
    ex = readers.read_pair_tsv(_bom_file(tmp_path, "test-de.tsv", "Ein Hund.\tEin Tier.\tentailment\n"), "xnli")
    assert ex[0]["text_a"] == "Ein Hund." and ex[0]["label"] == 0
    ex = readers.read_header_tsv(_bom_file(tmp_path, "dev.tsv", "sentence\tlabel\ngood film\t1\n"), "sst2")
    assert ex[0]["text_a"] == "good film" and ex[0]["label"] == 1  # the header's first column is found
    _no_bom(ex)


def test_json_lines_and_csv_readers(tmp_path):
    row = {"premise": "Man fell.", "choice1": "a", "choice2": "b", "question": "cause", "label": 1}
    ex = readers.read_records(_bom_file(tmp_path, "test.jsonl", json.dumps(row) + "\n"), readers.copa_row_to_canonical)
    assert ex[0]["context"] == "Man fell." and ex[0]["label"] == 1
    header = "id,context,question,answer0,answer1,answer2,answer3,label\n"
    ex = readers.read_csv_records(_bom_file(tmp_path, "valid.csv", header + "q1,c,q,a,b,c,d,2\n"),
                                  readers.cosmosqa_row_to_canonical)
    assert ex[0]["id"] == "q1" and ex[0]["label"] == 2


def test_squad_json_reader(tmp_path):
    data = {"data": [{"paragraphs": [{"context": "Paris is big.", "qas": [
        {"id": "q1", "question": "What?", "answers": [{"text": "Paris", "answer_start": 0}]}]}]}]}
    ex = readers.read_squad(_bom_file(tmp_path, "xquad.de.json", json.dumps(data)))
    assert ex[0]["answers"]["text"] == ["Paris"]


def test_retrieval_readers(tmp_path):
    pairs = retrieval_sets.read_tatoeba(_bom_file(tmp_path, "tatoeba.deu-eng.deu", "Hallo.\nWelt.\n"),
                                        _bom_file(tmp_path, "tatoeba.deu-eng.eng", "Hello.\nWorld.\n"))
    assert pairs[0] == ("Hallo.", "Hello.")
    data = {"data": [{"paragraphs": [{"context": "A b. C d.", "sentence_breaks": [[0, 4], [5, 9]], "qas": [
        {"id": "q1", "question": "Which?", "answers": [{"text": "C", "answer_start": 5}]}]}]}]}
    records = retrieval_sets.read_lareqa({"de": _bom_file(tmp_path, "lareqa/de.json", json.dumps(data))})
    assert records[0]["question"] == "Which?" and records[0]["answer_sentence"] == 1
    rows = list(readers.iter_jsonl(_bom_file(tmp_path, "mentions.jsonl", '{"entity_id": "Q1"}\n')))
    assert rows == [(1, {"entity_id": "Q1"})]


def test_tatoeba_sentence_files(tmp_path):
    assert tatoeba.read_sentences(_bom_file(tmp_path, "tatoeba/tatoeba.deu-eng.deu", "Hallo.\nWelt.\n")) == [
        "Hallo.", "Welt."]
    _bom_file(tmp_path, "tatoeba/tatoeba.deu-eng.eng", "Hello.\nWorld.\n")
    picked, _ = tatoeba.sample_sentences(4, root=tmp_path)
    assert sorted(picked) == ["Hallo.", "Hello.", "Welt.", "World."]


def test_a_utf16_bom_is_still_a_clear_error(tmp_path):
    path = tmp_path / "test-de.tsv"
    path.write_text("Anna\tB-PER\n", encoding="utf-16")
    with pytest.raises(StudyError, match="UTF-16 byte-order mark"):
        readers.read_tagging(path)
