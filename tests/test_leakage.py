"""No test item of the realdata profile, nor a translation of one, is in any training or dev set.

Read through the public source API (``helpers.sources`` with the ``realdata`` source), every
training and dev text of every task the profile trains (targets' stages and intermediate tasks,
including the ones the profile does not use) is compared with every test text of every task and
language. Texts are normalised here, independently of helpers.realsplits: NFKC, lowercase,
punctuation stripped, whitespace collapsed; a text is compared whole and sentence by sentence,
and only texts of three words or more count (a name such as "Paris" or a one-word answer is not
an item). The parallel files are also checked by index: the held-apart XNLI lines, MLQA ids and
PAN-X/UD lines never meet the tested ones.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from helpers import config, realsplits
from helpers.sources import get_source, load_examples, load_retrieval, realdata_root
from helpers.tasks import get_task

PROFILE = config.get_profile("realdata")


def _source():
    root = realdata_root()
    if root is None:
        pytest.skip("the real XTREME-R files are absent (helpers.sources.realdata_root() is None): "
                    "set STUDY_REALDATA or provide ../shared/realdata")
    return get_source("realdata", root)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith(("P", "S")) else ch for ch in text)
    return " ".join(text.split())


def _pieces(text: str | None) -> set[str]:
    if not text:
        return set()
    parts = [text] + re.split(r"(?<=[.!?。！？؟।])\s+", text)
    return {n for n in map(_norm, parts) if len(n.split()) >= 3}


def _texts(example: dict) -> set[str]:
    out: set[str] = set()
    if example.get("tokens"):
        out |= _pieces(" ".join(example["tokens"]))
    for key in ("text_a", "text_b", "question", "context", "query", "candidate"):
        out |= _pieces(example.get(key))
    for choice in example.get("choices") or ():
        out |= _pieces(choice)
    return out


def _trained_tasks() -> list[str]:
    """Every task whose English train/dev data any realdata run reads (targets' stages, intermediates)."""
    from helpers.training import target_stages

    names = []
    for task in PROFILE.tasks:
        spec = get_task(task)
        if spec.format == "retrieval" or spec.shared_model:
            continue
        names += [stage[0] for stage in target_stages(task, PROFILE.name)]
    return list(dict.fromkeys(names + list(realsplits.INTERMEDIATES)))


@pytest.fixture(scope="module")
def training_texts():
    src = _source()
    texts: dict[str, str] = {}
    for task in _trained_tasks():
        for split in ("train", "dev"):
            for ex in load_examples(task, split, "en", src):
                for t in _texts(ex):
                    texts.setdefault(t, f"{task}/{split}")
    return texts


def _test_sets(src):
    for task in PROFILE.tasks:
        spec = get_task(task)
        for lang in realsplits.test_languages(src.root, task):
            if spec.format == "retrieval":
                rs = load_retrieval(task, lang, src)
                yield task, lang, [{"query": q} for q in rs.queries] + [{"candidate": c} for c in rs.candidates]
            else:
                yield task, lang, load_examples(task, "test", lang, src)


def test_profile_covers_every_task_with_real_files():
    assert set(PROFILE.tasks) == set(realsplits.TARGETS) and len(PROFILE.tasks) >= 9
    assert set(PROFILE.intermediates) <= set(realsplits.INTERMEDIATES)


def test_no_training_text_occurs_in_any_test_text(training_texts):
    src = _source()
    leaks = []
    n_sets = 0
    for task, lang, examples in _test_sets(src):
        n_sets += 1
        for ex in examples:
            for t in _texts(ex) & training_texts.keys():
                leaks.append(f"{task}[{lang}] {t[:60]!r} (in {training_texts[t]})")
    assert n_sets >= 80
    assert not leaks, f"{len(leaks)} test texts occur in training data, e.g. {leaks[:5]}"


def _index(example_id: str) -> int:
    return int(example_id.rsplit("-", 1)[1])


def test_xnli_held_apart_lines_are_never_tested():
    src = _source()
    held = {_index(e["id"]) for split in ("train", "dev") for e in load_examples("xnli", split, "en", src)}
    premises = {_norm(e["text_a"]) for split in ("train", "dev") for e in load_examples("xnli", split, "en", src)}
    for lang in realsplits.test_languages(src.root, "xnli"):
        tested = {_index(e["id"]) for e in load_examples("xnli", "test", lang, src)}
        assert not tested & held, lang
    assert not {_norm(e["text_a"]) for e in load_examples("xnli", "test", "en", src)} & premises


def test_mlqa_ids_of_the_qa_training_block_are_never_tested():
    src = _source()
    held = {e["id"] for task in ("squad", "tydiqa") for split in ("train", "dev")
            for e in load_examples(task, split, "en", src)}
    assert len(held) == realsplits.QA_TRAIN + realsplits.QA_DEV
    for task in ("mlqa", "xquad", "tydiqa"):
        for lang in realsplits.test_languages(src.root, task):
            assert not {e["id"] for e in load_examples(task, "test", lang, src)} & held, (task, lang)


def test_panx_and_udpos_english_tests_avoid_the_training_lines():
    src = _source()
    held = {_index(e["id"]) for split in ("train", "dev") for e in load_examples("panx", split, "en", src)}
    assert not {_index(e["id"]) for e in load_examples("panx", "test", "en", src)} & held
    # udpos/test-en opens with UD_English-EWT's test set, the UD-POS training treebank
    assert min(_index(e["id"]) for e in load_examples("udpos", "test", "en", src)) >= realsplits.EWT_BLOCK
