"""verify_data over a tiny fixture tree and (slow) over all of ../shared/realdata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.sources import realdata_root
from helpers.verify_data import check_file, data_files, main, verify


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
