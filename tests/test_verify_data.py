"""verify_data over a tiny fixture tree and (slow) over all of ../shared/realdata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.sources import realdata_root
from studytools.verify_data import check_file, data_files, expected_examples, main, verify


def _realdata() -> Path:
    root = realdata_root() or Path(__file__).resolve().parents[2] / "shared" / "realdata"
    if not root.is_dir():
        pytest.skip("../shared/realdata is absent: real-file checks need the shared sample data")
    return root


def test_fixture_tree(tmp_path, capsys):
    (tmp_path / "xquad").mkdir()
    squad = {"data": [{"paragraphs": [{"context": "ab cd", "qas": [
        {"id": "1", "question": "q", "answers": [{"answer_start": 3, "text": "cd"}]}]}]}]}
    (tmp_path / "xquad/xquad.de.json").write_text(json.dumps(squad))
    (tmp_path / "README.md").write_text("not data")
    (tmp_path / "weird").mkdir()
    (tmp_path / "weird/file.bin").write_text("x")
    assert [p.name for p in data_files(tmp_path)] == ["file.bin", "xquad.de.json"]
    checks = {c.path: c for c in verify(tmp_path)}
    assert checks["xquad/xquad.de.json"].gold == "f1=100.0 em=100.0"
    assert not checks["xquad/xquad.de.json"].ok  # SOURCES.md says 1190 questions
    assert checks["weird/file.bin"].note == "no loader for this file"
    assert main(["--root", str(tmp_path)]) == 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == "files=2 parsed=0 failed=2"


def test_real_samples():
    root = _realdata()
    c = check_file(root, root / "mlqa/dev-context-es-question-es.json")
    assert c.ok and c.gold == "f1=99.8 em=100.0" and "normalise to ''" in c.note
    c = check_file(root, root / "tydiqa/tydiqa.goldp.en.dev.json")
    assert c.ok and c.gold == "skipped" and c.examples == 440
    c = check_file(root, root / "ud/UD_German-GSD/de_gsd-ud-test.conllu")
    assert c.ok and c.examples == 977 and c.gold == "f1=100.0"


@pytest.mark.slow
def test_all_realdata(capsys):
    root = _realdata()
    assert main(["--root", str(root)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "files=166 parsed=166 failed=0"


def test_unreadable_files_are_failed_rows_not_crashes(tmp_path, capsys):
    (tmp_path / "xnli").mkdir()
    (tmp_path / "xnli/dev-de.tsv").write_bytes(b"a\tb\tentailment\na\xe4\tb\tneutral\n")  # Latin-1
    (tmp_path / "copa").mkdir()
    row = '{"premise": "p", "choice1": "a", "choice2": "b", "question": "cause", "label": %s}\n'
    (tmp_path / "copa/val-en.jsonl").write_text(row % "0" + row % "true")
    (tmp_path / "xquad").mkdir()
    (tmp_path / "xquad/xquad.de.json").write_text('{"data": ' + "[" * 50_000 + "]" * 50_000 + "}")
    (tmp_path / "panx").mkdir()
    (tmp_path / "panx/de.tsv").write_text("Anna\tB-PER\n")
    (tmp_path / "mlqa").mkdir()
    (tmp_path / "mlqa/dev-de.json").write_text('{"data": []}')
    (tmp_path / "udpos").mkdir()
    (tmp_path / "udpos/test-en.tsv").write_bytes("\ufeffHi\tINTJ\n".encode())  # BOM: parsed, not an error
    notes = {c.path: c.note for c in verify(tmp_path)}
    assert notes["xnli/dev-de.tsv"] == (f"malformed data file {tmp_path / 'xnli/dev-de.tsv'}, line 2: byte 0xe4 at byte 2 "
                                        "of the line is not UTF-8; data files must be UTF-8 (re-encode it, e.g. "
                                        "iconv -f latin1 -t utf-8)")
    assert notes["copa/val-en.jsonl"].endswith("line 2: label True is not an integer label; valid labels: 0, 1 "
                                               "(-1 or empty: unlabelled)")
    assert notes["xquad/xquad.de.json"].endswith("line 1: JSON nested too deeply to parse (deeper than 100 levels of "
                                                 "[ and { from this line on); expected a few levels, as the task's format has")
    assert notes["panx/de.tsv"] == "unexpected panx file name 'de.tsv'; expected <split>-<lang>.tsv, e.g. dev-en.tsv"
    assert notes["mlqa/dev-de.json"].startswith("unexpected MLQA file name 'dev-de.json'; expected")
    udpos = check_file(tmp_path, tmp_path / "udpos/test-en.tsv")
    assert udpos.examples == 1 and udpos.gold == "f1=100.0"
    assert main(["--root", str(tmp_path)]) == 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == "files=6 parsed=0 failed=6"


def test_expected_counts_are_one_path_table():
    assert expected_examples("xnli/test-en.tsv") == 5010 and expected_examples("xnli/dev-de.tsv") == 2490
    assert expected_examples("panx/test-jv.tsv") == 10000 and expected_examples("panx/train-jv.tsv") == 100
    assert expected_examples("xcopa/et/test.et.jsonl") == 500 and expected_examples("copa/val-en.jsonl") == 100
    assert expected_examples("tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.en.dev.json") == 440
    assert expected_examples("tatoeba/v1/tatoeba.jav-eng.eng") == 205
    assert expected_examples("tatoeba/tatoeba.deu-eng.deu") == 1000
    assert expected_examples("mlqa/MLQA_V1/dev/dev-context-es-question-es.json") == 500
    assert expected_examples("anli/R3/dev.jsonl") == 1200
    assert expected_examples("udpos/test-de.tsv") is None  # SOURCES.md gives no count
    assert expected_examples("anli/dev.jsonl") is None  # counts are per round folder
    assert expected_examples("xnlix/dev-de.tsv") is None  # a pattern's folder is a whole folder name
    assert expected_examples("xcopa/et/latest.et.jsonl") is None  # '*' and '[.-]' stay within a name


def test_a_registry_task_folder_is_checked_with_its_reader(tmp_path, monkeypatch):
    """Dispatch reads the registry: a task declared only there is parsed with its reader, format and labels."""
    import dataclasses

    from helpers import tasks

    nli = dataclasses.replace(tasks.get_task("xnli"), name="nli2", files={"*": ("nli2/{split}-{lang}.tsv",)})
    ner = dataclasses.replace(tasks.get_task("panx"), name="ner2", labels=("O", "B-X", "I-X"))
    monkeypatch.setitem(tasks.ALL_TASKS, "nli2", nli)
    monkeypatch.setitem(tasks.ALL_TASKS, "ner2", ner)
    (tmp_path / "nli2").mkdir()
    (tmp_path / "nli2/dev-fr.tsv").write_text("Un chat dort.\tUn animal dort.\tentailment\n", encoding="utf-8")
    (tmp_path / "ner2").mkdir()
    (tmp_path / "ner2/dev-en.tsv").write_text("Anna\tB-X\nsleeps\tO\n", encoding="utf-8")
    (tmp_path / "ner2/test-en.tsv").write_text("Anna\tB-PER\n", encoding="utf-8")  # not in ner2's tag set
    checks = {c.path: c for c in verify(tmp_path)}
    nli_check = checks["nli2/dev-fr.tsv"]
    assert (nli_check.ok, nli_check.examples, nli_check.expected, nli_check.gold) == (True, 1, None, "accuracy=100.0")
    ner_check = checks["ner2/dev-en.tsv"]
    assert (ner_check.ok, ner_check.examples, ner_check.gold) == (True, 1, "f1=100.0")
    assert not checks["ner2/test-en.tsv"].ok and "B-PER" in checks["ner2/test-en.tsv"].note
