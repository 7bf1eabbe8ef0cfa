"""Sources: xtreme-dir readers on tiny fixtures and on the real files, hub schema mapping, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.errors import StudyError
from helpers.sources import (
    check_task_files, exact_int, get_source, hub_row_to_canonical, load_examples, load_retrieval, read_conllu,
    read_tagging, read_tatoeba, realdata_root, languages_with_test_files,
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
    with pytest.raises(StudyError, match="unknown data source 'web'; valid data sources: hub, xtreme-dir, embedded, "
                                         "realdata$"):
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


# ---------------------------------------------------------------- encodings, BOM, labels, JSON depth (issue 15)
BOM = "\ufeff".encode("utf-8")


def _write_bytes(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("task,lang,rel,data,line", [
    ("xnli", "de", "xnli/test-de.tsv", b"a\tb\tentailment\na\xe4\tb\tentailment\n", 2),
    ("panx", "de", "panx/test-de.tsv", b"Anna\tB-PER\n\nBerl\xefn\tB-LOC\n", 3),
    ("xquad", "de", "xquad/xquad.de.json", b'{"data": [\n {"paragraphs": [\n{"context": "K\xf6ln"}]}]}', 3),
    ("xcopa", "et", "xcopa/test-et.jsonl", b'{"premise": "p"}\r\n{"premise": "\xe9"}\r\n', 2),
    ("sst2", "en", "sst2/test.tsv", b"sentence\tlabel\ngood\t1\nna\xefve\t0\n", 3),
    ("cosmosqa", "en", "cosmosqa/valid.csv", b"id,context\n1,caf\xe9\n", 2),
    ("udpos", "en", "udpos/test-en.tsv", b"\xff\xfeH\x00i\x00", 1),
])
def test_non_utf8_file_is_one_line_naming_file_and_line(tmp_path, task, lang, rel, data, line):
    _write_bytes(tmp_path, rel, data)
    split = "dev" if task == "cosmosqa" else "test"
    with pytest.raises(StudyError) as info:
        load_examples(task, split, lang, get_source("xtreme-dir", tmp_path))
    msg = str(info.value)
    assert msg.startswith(f"malformed data file {tmp_path / rel}, line {line}: byte 0x") and "\n" not in msg
    encoding = "utf-16" if data.startswith(b"\xff\xfe") else "latin1"
    assert msg.endswith(f"data files must be UTF-8 (re-encode it, e.g. iconv -f {encoding} -t utf-8)")


def test_non_utf8_message_pins_byte_and_column(tmp_path):
    _write_bytes(tmp_path, "xnli/test-de.tsv", b"a\xe4\tb\tentailment\n")
    with pytest.raises(StudyError, match=r"test-de\.tsv, line 1: byte 0xe4 at byte 2 of the line is not UTF-8; "):
        load_examples("xnli", "test", "de", get_source("xtreme-dir", tmp_path))
    _write_bytes(tmp_path, "udpos/test-en.tsv", b"\xff\xfeH\x00i\x00")
    with pytest.raises(StudyError, match=r"byte 0xff at byte 1 of the line is not UTF-8 \(it starts with a UTF-16"):
        load_examples("udpos", "test", "en", get_source("xtreme-dir", tmp_path))
    # conllu and the Tatoeba pair go through the same reader
    conllu = _write_bytes(tmp_path, "ud/x.conllu", b"# sent_id = 1\n1\tM\xfcnchen\t_\tPROPN\t_\t_\t0\troot\t_\t_\n")
    with pytest.raises(StudyError, match=r"x\.conllu, line 2: byte 0xfc at byte 4 "):
        read_conllu(conllu)
    x = _write_bytes(tmp_path, "t/tatoeba.deu-eng.deu", b"Hallo.\r\nGr\xfc\xdfe.\r\n")
    eng = _write_bytes(tmp_path, "t/tatoeba.deu-eng.eng", b"Hello.\nHi.\n")
    with pytest.raises(StudyError, match=r"tatoeba\.deu-eng\.deu, line 2: byte 0xfc at byte 3 "):
        read_tatoeba(x, eng)


def test_bom_is_stripped_in_every_reader(tmp_path):
    src = get_source("xtreme-dir", tmp_path)
    _write_bytes(tmp_path, "xnli/test-de.tsv", BOM + "Ein Hund.\tEin Tier.\tentailment\n".encode())
    assert load_examples("xnli", "test", "de", src)[0]["text_a"] == "Ein Hund."
    _write_bytes(tmp_path, "panx/test-de.tsv", BOM + "Anna\tB-PER\nlebt\tO\n".encode())
    assert load_examples("panx", "test", "de", src)[0]["tokens"] == ["Anna", "lebt"]
    _write_bytes(tmp_path, "udpos/test-en.tsv", BOM + b"Shortly\nafterward\n")
    assert read_tagging(tmp_path / "udpos/test-en.tsv")[0]["tokens"] == ["Shortly", "afterward"]
    _write_bytes(tmp_path, "tatoeba/v1/tatoeba.deu-eng.deu", BOM + "Hallo.\nDanke.\n".encode())
    _write_bytes(tmp_path, "tatoeba/v1/tatoeba.deu-eng.eng", BOM + b"Hello.\nThanks.\n")
    rs = load_retrieval("tatoeba", "de", src)
    assert rs.queries[0] == "Hallo." and rs.candidates[0] == "Hello."
    _write_bytes(tmp_path, "sst2/test.tsv", BOM + b"sentence\tlabel\ngood\t1\n")  # header key without U+FEFF
    assert load_examples("sst2", "test", "en", src) == [{"id": "sst2-0", "text_a": "good", "text_b": None, "label": 1}]
    _write_bytes(tmp_path, "cosmosqa/valid.csv", BOM + b"id,context,question,answer0,answer1,answer2,answer3,label\n"
                                                       b"c1,ctx,q,a,b,c,d,2\n")
    assert load_examples("cosmosqa", "dev", "en", src)[0]["id"] == "c1"
    squad = {"data": [{"paragraphs": [{"context": "ab cd", "qas": [
        {"id": "1", "question": "q", "answers": [{"answer_start": 3, "text": "cd"}]}]}]}]}
    _write_bytes(tmp_path, "xquad/xquad.de.json", BOM + json.dumps(squad).encode())
    assert load_examples("xquad", "test", "de", src)[0]["answers"] == {"text": ["cd"], "answer_start": [3]}
    row = {"premise": "p", "choice1": "a", "choice2": "b", "question": "cause", "label": 0, "idx": 0}
    _write_bytes(tmp_path, "xcopa/test-et.jsonl", BOM + json.dumps(row).encode() + b"\n")
    assert load_examples("xcopa", "test", "et", src)[0]["context"] == "p"
    conllu = _write_bytes(tmp_path, "ud/x.conllu", BOM + b"1\tHi\t_\tINTJ\t_\t_\t0\troot\t_\t_\n")
    assert read_conllu(conllu)[0]["tokens"] == ["Hi"]


COPA_ROW = {"premise": "p", "choice1": "a", "choice2": "b", "question": "effect", "idx": 1}


@pytest.mark.parametrize("label,shown", [(1.7, "1.7"), (True, "True"), ("1.7", "'1.7'"), ("true", "'true'"),
                                         (2, "2"), ("one", "'one'")])
def test_xcopa_non_integer_label_is_refused(tmp_path, label, shown):
    rows = [dict(COPA_ROW, label=0), dict(COPA_ROW, label=label)]
    _write_bytes(tmp_path, "xcopa/test-et.jsonl", "\n".join(json.dumps(r) for r in rows).encode())
    with pytest.raises(StudyError) as info:
        load_examples("xcopa", "test", "et", get_source("xtreme-dir", tmp_path))
    assert str(info.value) == (f"malformed data file {tmp_path / 'xcopa/test-et.jsonl'}, line 2: label {shown} is not "
                               "an integer label; valid labels: 0, 1 (-1 or empty: unlabelled)")


def test_integer_labels_still_accepted(tmp_path):
    rows = [dict(COPA_ROW, label=v) for v in (0, 1, "1", 1.0, -1, None)]
    _write_bytes(tmp_path, "xcopa/test-et.jsonl", "\n".join(json.dumps(r) for r in rows).encode())
    got = load_examples("xcopa", "test", "et", get_source("xtreme-dir", tmp_path))
    assert [e["label"] for e in got] == [0, 1, 1, 1, None, None]


@pytest.mark.parametrize("task,row,message", [
    ("siqa", {"context": "c", "question": "q", "answerA": "a", "answerB": "b", "answerC": "c", "label": "2.5"},
     "label '2.5' is not an integer label; valid labels: 1, 2, 3"),
    ("siqa", {"context": "c", "question": "q", "answerA": "a", "answerB": "b", "answerC": "c", "correct": "D"},
     "correct 'D' is not a choice label; valid labels: A, B, C"),
    ("hellaswag", {"ctx": "c", "endings": ["1", "2", "3", "4"], "label": False},
     "label False is not an integer label; valid labels: 0, 1, 2, 3"),
    ("cosmosqa", {"context": "c", "question": "q", "answer0": "a", "answer1": "b", "answer2": "c", "answer3": "d",
                  "label": "3.0"}, "label '3.0' is not an integer label; valid labels: 0, 1, 2, 3"),
    ("commonsenseqa", {"question": "q", "choices": {"label": list("ABCDE"), "text": list("vwxyz")}, "answerKey": "F"},
     "answerKey 'F' is not a choice label; valid labels: A, B, C, D, E"),
    ("sst2", {"sentence": "s", "label": 0.5}, "label 0.5 is not an integer label; valid labels: 0, 1"),
    ("mnli", {"premise": "p", "hypothesis": "h", "label": True}, "label True is not an integer label; valid labels: 0, 1, 2"),
    ("mnli", {"premise": "p", "hypothesis": "h", "label": 1.5}, "label 1.5 is not an integer label; valid labels: 0, 1, 2"),
])
def test_row_labels_must_be_exact(task, row, message):
    with pytest.raises(ValueError) as info:
        hub_row_to_canonical(task, row)
    assert str(info.value).startswith(message)


def test_tsv_and_csv_labels_name_file_line_and_valid_labels(tmp_path):
    src = get_source("xtreme-dir", tmp_path)
    _write_bytes(tmp_path, "sst2/test.tsv", b"sentence\tlabel\ngood\t1\nbad\t1.7\n")
    with pytest.raises(StudyError, match=r"sst2/test\.tsv, line 3: label '1\.7' is not an integer label; valid labels: 0, 1"):
        load_examples("sst2", "test", "en", src)
    _write_bytes(tmp_path, "cosmosqa/valid.csv", b"id,context,question,answer0,answer1,answer2,answer3,label\n"
                                                 b"c1,ctx,q,a,b,c,d,true\n")
    with pytest.raises(StudyError, match=r"valid\.csv, line 2: label 'true' is not an integer label; valid labels: 0, 1, 2, 3"):
        load_examples("cosmosqa", "dev", "en", src)
    squad = {"data": [{"paragraphs": [{"context": "ab cd", "qas": [
        {"id": "1", "question": "q", "answers": [{"answer_start": 3.5, "text": "cd"}]}]}]}]}
    _write_bytes(tmp_path, "xquad/xquad.de.json", json.dumps(squad).encode())
    with pytest.raises(StudyError, match=r"article 0 paragraph 0: answer_start 3\.5 is not a valid character offset"):
        load_examples("xquad", "test", "de", src)
    _write_bytes(tmp_path, "xquad/xquad.de.json", b'{"data": [1]}')
    with pytest.raises(StudyError, match=r"xquad\.de\.json, article 0: expected an object with a \"paragraphs\" list"):
        load_examples("xquad", "test", "de", src)


def test_deeply_nested_json_is_one_line(tmp_path):
    src = get_source("xtreme-dir", tmp_path)
    deep = '{"data": [\n' + "[" * 100_000 + "]" * 100_000 + "\n]}"
    _write_bytes(tmp_path, "xquad/xquad.de.json", deep.encode())
    with pytest.raises(StudyError) as info:
        load_examples("xquad", "test", "de", src)
    assert str(info.value) == (f"malformed data file {tmp_path / 'xquad/xquad.de.json'}, line 2: JSON nested too deeply "
                               "to parse (deeper than 100 levels of [ and { from this line on); expected a few "
                               "levels, as the task's format has")
    ok = json.dumps(dict(COPA_ROW, label=0))
    _write_bytes(tmp_path, "xcopa/test-et.jsonl", (ok + "\n" + ok + "\n" + "[" * 100_000 + "]" * 100_000).encode())
    with pytest.raises(StudyError, match=r"test-et\.jsonl, line 3: JSON nested too deeply"):
        load_examples("xcopa", "test", "et", src)


def test_data_dir_without_task_files(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/readme.txt").write_text("my notes")
    with pytest.raises(StudyError) as info:
        check_task_files(tmp_path, ["xnli", "tatoeba"])
    assert str(info.value) == (f"data_dir '{tmp_path}' has no test files for xnli, tatoeba: expected "
                               "xnli/test-<lang>.tsv, tatoeba/v1/tatoeba.<xxx>-eng.<xxx> (XTREME's download layout); "
                               "it holds no test file of any XTREME-R task")
    _write_bytes(tmp_path, "panx/test-de.tsv", b"Anna\tB-PER\n")
    with pytest.raises(StudyError, match=r"has no test files for xnli: .*; it holds test files of: panx \(choose"):
        check_task_files(tmp_path, ["xnli", "panx"])
    check_task_files(tmp_path, ["panx"])  # no error
    assert languages_with_test_files(tmp_path, "panx") == ["de"]

    from helpers.config import configure

    with pytest.raises(StudyError, match=r"has no test files for xnli"):
        configure(profile="xtreme-dir", data_dir=str(tmp_path), task="xnli")
    assert configure(profile="xtreme-dir", data_dir=str(tmp_path), task="panx").tasks == ("panx",)


def test_exact_int():
    assert [exact_int(v) for v in (3, "3", " -1 ", 2.0, 1.7, True, "1.0", "true", None, [1])] == \
        [3, 3, -1, 2, None, None, None, None, None, None]


def test_other_data_readers_share_the_strict_reader(tmp_path):
    from helpers.tatoeba import sample_sentences
    from helpers.tatoeba import read_sentences

    good = _write_bytes(tmp_path, "tatoeba/tatoeba.deu-eng.deu", BOM + "Hallo.\r\nDanke.\r\n".encode())
    assert read_sentences(good) == ["Hallo.", "Danke."]
    assert sorted(sample_sentences(2, root=tmp_path)[0]) == ["Danke.", "Hallo."]
    bad = _write_bytes(tmp_path, "tatoeba/tatoeba.deu-eng.eng", b"Hello.\nGr\xfc\xdf.\n")
    with pytest.raises(StudyError, match=r"tatoeba\.deu-eng\.eng, line 2: byte 0xfc at byte 3 of the line is not UTF-8"):
        read_sentences(bad)
    with pytest.raises(StudyError, match=r"tatoeba\.deu-eng\.eng, line 2: byte 0xfc"):
        sample_sentences(2, root=tmp_path)


def test_hub_tag_indices_must_be_exact():
    assert hub_row_to_canonical("panx", {"tokens": ["a", "b"], "ner_tags": [1, 0]})["tags"] == ["B-PER", "O"]
    assert hub_row_to_canonical("panx", {"tokens": ["a", "b"], "ner_tags": ["B-PER", "O"]})["tags"] == ["B-PER", "O"]
    with pytest.raises(ValueError, match=r"tag True is not a tag index; valid tags: 0\.\.6 \(O, B-PER, I-PER, \.\.\.\)"):
        hub_row_to_canonical("panx", {"tokens": ["a"], "ner_tags": [True]})
    with pytest.raises(ValueError, match=r"tag 99 is not a tag index; valid tags: 0\.\.16"):
        hub_row_to_canonical("udpos", {"tokens": ["a"], "pos_tags": [99]})


# ----------------------------------------------------------------------------- issue 13: the realdata source
def test_realdata_source_root(tmp_path, monkeypatch):
    with pytest.raises(StudyError, match="^realdata folder /nonexistent does not exist; set STUDY_REALDATA"):
        get_source("realdata", "/nonexistent")
    assert get_source("realdata", tmp_path).root == tmp_path  # a given folder is read as it is
    monkeypatch.setenv("STUDY_REALDATA", str(tmp_path))
    assert get_source("realdata") == get_source("realdata", tmp_path)  # else helpers.realdata.resolve_root()


def test_realdata_source_reads_the_leakage_free_splits():
    root = _realdata()
    src = get_source("realdata", root)
    train = load_examples("udpos", "train", "en", src)
    assert len(train) == 1877 and all(len(e["tags"]) == len(e["tokens"]) for e in train)  # UD_English-EWT
    assert len(load_examples("udpos", "test", "de", src)) == 100  # UD_German-GSD's test file
    assert len(load_examples("xquad", "test", "ro", src, limit=7)) == 7
    with pytest.raises(StudyError, match="^xnli train data is English only in the realdata source; valid languages: en$"):
        load_examples("xnli", "train", "de", src)
    with pytest.raises(StudyError, match="^tatoeba has no dev split in the realdata source"):
        load_retrieval("tatoeba", "de", src, split="dev")
