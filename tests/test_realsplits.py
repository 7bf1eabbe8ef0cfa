"""helpers.realsplits: the realdata profile's leakage-free splits (tiny pools, then the real folder)."""

from __future__ import annotations

import pytest

from helpers import realsplits
from helpers.errors import StudyError
from helpers.sources import get_source, load_examples, load_retrieval, realdata_root


def _root():
    root = realdata_root()
    if root is None:
        pytest.skip("the real XTREME-R files are absent (helpers.sources.realdata_root() is None): "
                    "set STUDY_REALDATA or provide ../shared/realdata")
    return root


# ----------------------------------------------------------------------------- tiny fixtures
def test_normalise_and_text_units():
    assert realsplits.normalise("  The  CAT,\tsat! ") == "the cat sat"
    assert realsplits.text_units({"text_a": "He left.", "text_b": "She stayed home today."}) == {
        "she stayed home today"}  # "he left" has two words: not a unit
    qa = {"question": "Who wrote it?", "context": "Anna wrote the book. It sold well in Berlin.",
          "answers": {"text": [], "answer_start": []}}
    assert realsplits.text_units(qa) == {"who wrote it", "anna wrote the book it sold well in berlin",
                                         "anna wrote the book", "it sold well in berlin"}
    assert realsplits.text_units({"tokens": ["New", "York", "City"], "tags": None}) == {"new york city"}
    mc = {"context": "The man was cold.", "question": "effect", "choices": ["He put on a coat.", "Bank"]}
    assert realsplits.text_units(mc) == {"the man was cold", "he put on a coat"}


def _pool(parallel: bool) -> realsplits.TestPool:
    def ex(text):
        return {"text_a": text, "text_b": None, "label": 0}
    en = [(str(i), ex(f"english sentence number {i}")) for i in range(6)]
    de = [(str(i), ex(f"deutscher satz nummer {i}")) for i in range(6)]
    return realsplits.TestPool(parallel, {"en": en, "de": de}, {"en": "x/en", "de": "x/de"}, "dev", "why")


def test_choose_parallel_drops_a_leaky_item_in_every_language(monkeypatch):
    monkeypatch.setattr(realsplits, "TEST_PER_LANGUAGE", 3)
    monkeypatch.setattr(realsplits, "MIN_PER_TASK", 1)
    # the seeded order of the keys is 3, 2, 4, 0, 5, 1: item 2 is passed over, in both languages
    tests, keys, passed = realsplits._choose("tiny", _pool(True), {"english sentence number 2"})
    assert keys == {"en": ["0", "3", "4"], "de": ["0", "3", "4"]} and passed == {"en": 1, "de": 1}
    assert [e["text_a"] for e in tests["de"]] == ["deutscher satz nummer 0", "deutscher satz nummer 3",
                                                  "deutscher satz nummer 4"]
    # a leaky item after the subset is complete is never visited
    tests, keys, passed = realsplits._choose("tiny", _pool(True), {"english sentence number 0"})
    assert keys["de"] == ["2", "3", "4"] and passed == {"en": 0, "de": 0}


def test_choose_pins_the_seeded_subset():
    tests, keys, passed = realsplits._choose("tiny", _pool(True), set())
    # six items, at least 100 asked for: every item, file order
    assert keys["en"] == ["0", "1", "2", "3", "4", "5"] and passed == {"en": 0, "de": 0}
    assert realsplits._shuffled(6, "tiny-test") == [3, 2, 4, 0, 5, 1]  # pinned: the split seed is fixed


def test_choose_non_parallel_filters_each_language_alone(monkeypatch):
    monkeypatch.setattr(realsplits, "TEST_PER_LANGUAGE", 6)
    monkeypatch.setattr(realsplits, "MIN_PER_TASK", 1)
    tests, keys, passed = realsplits._choose("tiny", _pool(False), {"deutscher satz nummer 4"})
    assert keys["en"] == ["0", "1", "2", "3", "4", "5"]
    assert keys["de"] == ["0", "1", "2", "3", "5"] and passed == {"en": 0, "de": 1}


def test_per_language_size_reaches_the_task_minimum():
    assert realsplits._per_language(12) == 100
    assert realsplits._per_language(3) == 167
    assert realsplits._per_language(1) == 500


def test_unknown_task_is_one_line(tmp_path):
    with pytest.raises(StudyError, match="^unknown realdata task 'mnli'; valid realdata tasks: xnli, xcopa, udpos"):
        realsplits.load(tmp_path, "mnli", "train", "en")


# ----------------------------------------------------------------------------- the real folder
def test_sizes_per_language_and_task():
    root = _root()
    rows = [r for r in realsplits.data_table(root) if r["role"] == "test"]
    by_task: dict[str, int] = {}
    for r in rows:
        assert r["examples"] >= min(100, r["of"] - r["dropped"]), r
        by_task[r["task"]] = by_task.get(r["task"], 0) + r["examples"]
    assert set(by_task) == set(realsplits.TARGETS)
    assert all(n >= 500 for n in by_task.values()), by_task
    pairs = {(r["task"], r["language"]) for r in rows}
    assert len(pairs) >= 80
    # pinned sizes of the current folder
    assert by_task["xnli"] == 1200 and by_task["tydiqa"] == 500 and by_task["udpos"] == 902


def test_parallel_tests_share_items_across_languages():
    root = _root()
    src = get_source("realdata", root)
    en = load_examples("xnli", "test", "en", src)
    de = load_examples("xnli", "test", "de", src)
    assert [e["id"].rsplit("-", 1)[1] for e in en] == [e["id"].rsplit("-", 1)[1] for e in de]
    xq_en = [e["id"] for e in load_examples("xquad", "test", "en", src)]
    assert xq_en == [e["id"] for e in load_examples("xquad", "test", "ar", src)]


def test_splits_are_deterministic():
    root = _root()
    first = {t: [e["id"] for e in realsplits.load(root, t, "train", "en")] for t in ("xnli", "panx", "siqa", "squad")}
    tests = [e["id"] for e in realsplits.load(root, "panx", "test", "de")]
    realsplits._plan.cache_clear()
    realsplits._qa_blocks.cache_clear()
    again = {t: [e["id"] for e in realsplits.load(root, t, "train", "en")] for t in first}
    assert first == again
    assert tests == [e["id"] for e in realsplits.load(root, "panx", "test", "de")]
    assert first["xnli"][:3] == ["dev-en-414", "dev-en-415", "dev-en-416"]  # pinned: a premise group of 3


def test_data_table_columns_and_rows():
    root = _root()
    rows = realsplits.data_table(root, ["xnli", "tydiqa"])
    assert list(rows[0]) == ["task", "role", "language", "file", "split", "examples", "of", "dropped",
                             "disjoint because"]
    assert rows[0]["role"] == "train" and rows[0]["file"] == "xnli/dev-en.tsv" and rows[0]["examples"] == 1500
    ty = [r for r in rows if r["task"] == "tydiqa" and r["role"] == "test"]
    assert ty == [dict(ty[0], language="sw", file="tydiqa/tydiqa.goldp.sw.train.json", split="train",
                       examples=500)]
    assert "TRAIN file is the test set" in ty[0]["disjoint because"]


def test_source_dispatch_and_retrieval():
    root = _root()
    src = get_source("realdata", root)
    assert src.kind == "realdata"
    assert len(load_examples("xcopa", "train", "en", src)) == 400  # COPA train
    rs = load_retrieval("tatoeba", "de", src)
    assert len(rs.queries) == len(rs.candidates) == 100 and rs.gold[0] == frozenset({0})
    lq = load_retrieval("lareqa", "de", src)
    assert len(lq.queries) == 167 and len(lq.candidates) > len(lq.queries)
    assert all(g <= set(range(len(lq.candidates))) for g in lq.gold)
    assert len(load_retrieval("lareqa", "de", src, limit=5).queries) == 5
    with pytest.raises(StudyError, match="tatoeba has no training data"):
        load_examples("tatoeba", "train", "en", src)
    with pytest.raises(StudyError, match="lareqa has no training data"):
        load_examples("lareqa", "train", "en", src)
    with pytest.raises(StudyError, match=r"udpos has no test file in language 'fr' in the realdata source; "
                                         r"valid languages: ar, de, en"):
        load_examples("udpos", "test", "fr", src)


def test_split_table_of_the_data_chapter():
    from helpers import config, phase_report

    assert phase_report.split_table(config.configure(profile="smoke")) is None
    assert phase_report.split_facts(None) == {}
    _root()
    cfg = config.configure(profile="realdata", task="xcopa,tatoeba")
    table = phase_report.split_table(cfg)
    assert tuple(table.columns) == phase_report.SPLIT_COLUMNS
    # XCOPA, the task its model trains on (COPA), Tatoeba, then the profile's intermediate tasks
    assert list(dict.fromkeys(table["task"])) == ["xcopa", "tatoeba", "copa", "anli", "siqa"]
    assert table[(table["task"] == "copa") & (table["role"] == "train")]["examples"].tolist() == [400]
    facts = phase_report.split_facts(table)
    assert facts["data_split_seed"] == 13 and facts["data_split_pairs"] == 11 + 33
    assert facts["data_split_test"] == 1100 + 3300 and facts["data_split_min_language"] == 100


def test_size_table_of_the_realdata_profile():
    from helpers import config, phase_report

    _root()
    cfg = config.configure(profile="realdata", task="xnli,tydiqa,tatoeba")
    sizes = phase_report.size_table(cfg)
    train_dev = phase_report.train_dev_table(sizes, cfg)
    assert train_dev.loc["xnli"].tolist() == [64, 128]  # dev, train: the realdata recipe's caps
    assert train_dev.loc["tydiqa"].tolist() == [32, 64]  # the QA model's MLQA-en block, capped
    test = phase_report.test_table(sizes, cfg)
    assert test.loc["xnli"].max() == 100 and int(test.loc["tydiqa", "sw"]) == 500
    assert int(test.loc["tatoeba"].sum()) == 3300
