"""The generated benchmark: determinism, layout, labels correct by construction."""

from __future__ import annotations

import time

import pytest

from helpers.errors import StudyError
from helpers.generate import (
    answer_span, bio_tags, fact_tokens, generate_benchmark, generate_files, question_tokens, render, generated_languages,
)
from helpers.lexicon import LANGUAGES, NAMES, RELATIONS, name_form
from helpers.sources import Source, load_examples, load_retrieval
from helpers.tasks import TASKS, UPOS_TAGS

SIZES = dict(seed=5, n_train=12, n_dev=6, n_test=6)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = generate_benchmark(tmp_path_factory.mktemp("gen") / "embedded", **SIZES)
    return Source("embedded", root)


def test_deterministic_and_seed_dependent():
    a = generate_files(**SIZES)
    assert a == generate_files(**SIZES)
    b = generate_files(**dict(SIZES, seed=6))
    assert a["xnli/test-de.tsv"] != b["xnli/test-de.tsv"]


def test_fast_enough():
    start = time.perf_counter()
    generate_files()
    assert time.perf_counter() - start < 15  # well under 5 s on an idle core; generous for shared CI


def test_lexicon_complete():
    for rel, spec in RELATIONS.items():
        n = len(spec["values"]["en"])
        for lang in LANGUAGES:
            assert len(spec["values"][lang]) == n, (rel, lang)
            assert lang in spec["pred"] and lang in spec["question"]
            for name in NAMES:
                for v in range(n):
                    toks = fact_tokens(lang, name, rel, v)
                    assert all(t[1] in UPOS_TAGS for t in toks), (rel, lang, toks)
                toks = question_tokens(lang, name, rel)
                assert all(t[1] in UPOS_TAGS for t in toks)


def test_rendering_and_spans():
    toks = fact_tokens("de", "Anna", "works", 1)
    assert render("de", toks)[0] == "Anna arbeitet bei dem Roten Kreuz."
    assert answer_span("de", toks) == ("Roten Kreuz", 22)
    assert bio_tags(toks) == ["B-PER", "O", "O", "O", "B-ORG", "I-ORG", "O"]
    assert render("zh", fact_tokens("zh", "Anna", "plays", 2))[0] == "安娜下国际象棋。"
    assert answer_span("zh", fact_tokens("zh", "Anna", "plays", 2)) == ("国际象棋", 3)
    assert render("ar", fact_tokens("ar", "Anna", "lives", 1))[0] == "آنا تعيش في القاهرة."
    assert render("ar", fact_tokens("ar", "Omar", "lives", 1))[0] == "عمر يعيش في القاهرة."
    assert render("es", question_tokens("es", "Omar", "lives"))[0] == "¿Dónde vive Omar?"
    assert render("hi", fact_tokens("hi", "Sara", "speaks", 2))[0] == "सारा जापानी बोलती है।"
    assert name_form("Layla", "ru") == "Лейла"


def test_layout_and_languages(bench):
    root = bench.root
    for task in TASKS:
        langs = generated_languages(task)
        assert langs, task
    assert (root / "xnli/test-sw.tsv").is_file() and (root / "mnli/train.tsv").is_file()
    assert (root / "mlqa/MLQA_V1/test/test-context-zh-question-zh.json").is_file()
    assert (root / "tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.sw.dev.json").is_file()
    assert (root / "tatoeba/v1/tatoeba.cmn-eng.cmn").is_file()
    assert (root / "lareqa/xquad-r/hi.json").is_file()
    assert generated_languages("xcopa") == ("sw", "tr", "vi", "zh")
    assert generated_languages("mewslix") == ("ar", "de", "en", "es", "tr")
    assert len(generated_languages("panx")) == 10 and "sw" not in generated_languages("udpos")


def test_nli_labels_correct_by_construction(bench):
    ex = load_examples("xnli", "test", "en", bench)
    assert {e["label"] for e in load_examples("mnli", "train", "en", bench)} == {0, 1, 2}
    for e in ex:
        premise_sents = {s.strip() + "." for s in e["text_a"].split(".") if s.strip()}
        if e["label"] == 0:
            assert e["text_b"] in premise_sents
        else:
            assert e["text_b"] not in premise_sents
        if e["label"] == 2:  # same person, same relation, another value
            name = e["text_b"].split()[0]
            verb = e["text_b"].split()[1]
            assert any(s.split()[:2] == [name, verb] for s in premise_sents)


def test_parallel_test_sets(bench):
    en = load_examples("xquad", "test", "en", bench)
    zh = load_examples("xquad", "test", "zh", bench)
    assert [e["id"] for e in en] == [e["id"] for e in zh]
    for e in en + zh:
        text, start = e["answers"]["text"][0], e["answers"]["answer_start"][0]
        assert e["context"][start:start + len(text)] == text


def test_tagging_and_mc(bench):
    for e in load_examples("udpos", "test", "ru", bench):
        assert len(e["tokens"]) == len(e["tags"]) and set(e["tags"]) <= set(UPOS_TAGS)
    ner = load_examples("panx", "test", "tr", bench)
    assert all(e["tags"][0] == "B-PER" for e in ner)
    copa = load_examples("xcopa", "test", "vi", bench)
    assert all(len(e["choices"]) == 2 and e["label"] in (0, 1) for e in copa)
    en = load_examples("copa", "train", "en", bench)
    lang_of = {"Paris": "French", "Cairo": "Arabic", "Tokyo": "Japanese", "Moscow": "Russian",
               "Nairobi": "Swahili", "New York": "English"}
    for e in en:
        right = e["choices"][e["label"]]
        text = e["context"] if e["question"] == "effect" else right
        other = right if e["question"] == "effect" else e["context"]
        city = next(c for c in lang_of if c in text)
        assert lang_of[city] in other


def test_retrieval_sets(bench):
    rs = load_retrieval("tatoeba", "ar", bench)
    assert len(rs.queries) == 6 and rs.gold[0] == frozenset({0})
    lq = load_retrieval("lareqa", "de", bench)
    assert all(len(g) == len(generated_languages("lareqa")) for g in lq.gold)
    mx = load_retrieval("mewslix", "es", bench)
    for q, g in zip(mx.queries, mx.gold):
        assert q.split(":")[0] in mx.candidates[next(iter(g))]
    assert len(load_examples("mewslix", "train", "en", bench)) == 12


def test_bad_sizes():
    with pytest.raises(StudyError, match="n_test must be a positive integer"):
        generate_files(n_test=0)


def test_a_users_folder_is_never_replaced_by_the_benchmark(tmp_path, monkeypatch):
    """``--data-dir mydata`` on the embedded source once replaced 52 MB of real files (issue 15)."""
    from helpers import runs
    from helpers.generate import embedded_root
    from helpers.sources import get_source

    mydata = tmp_path / "mydata"
    (mydata / "xnli").mkdir(parents=True)
    (mydata / "xnli" / "test-de.tsv").write_text("a\tb\tentailment\n")
    with pytest.raises(StudyError, match="mydata exists and was not created by the study"):
        generate_benchmark(mydata, **SIZES)
    with pytest.raises(StudyError, match="mydata holds files the study did not generate.*xtreme-dir"):
        get_source("embedded", mydata)
    assert [p.name for p in mydata.rglob("*")] == ["xnli", "test-de.tsv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydata"]  # no lock file beside it

    fresh = embedded_root(tmp_path / "new", **SIZES)  # a new folder: generated, marked, reused
    assert runs.read_json(fresh / runs.OWNER_MARKER)["kind"] == "embedded-benchmark"
    stamp = (fresh / "README.md").stat().st_mtime_ns
    assert embedded_root(fresh, **SIZES) == fresh and (fresh / "README.md").stat().st_mtime_ns == stamp
    assert generate_benchmark(fresh, **SIZES) == fresh  # its own folder may be regenerated
