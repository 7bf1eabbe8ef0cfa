"""Leakage-free train, dev and test splits of the real XTREME-R files (the ``realdata`` profile).

The real folder (``helpers.realdata.resolve_root``, laid out as ``../shared/realdata``; see its
SOURCES.md) holds XTREME-R's evaluation files and a few English task files, but almost no
training sets, and many of its files are translations of one another. This module decides, once
and deterministically (split seed :data:`SPLIT_SEED`, independent of the training seed), which
English examples train and select each model and which examples test it, so that no test item,
and no translation of one, is in any training or dev set of any phase:

* XNLI: ``xnli/dev-<l>.tsv`` is parallel across languages line by line, and each premise has
  three hypotheses. A seeded block of whole premise groups trains (English only) and a second
  block is the English dev set; every language is tested only on the other lines.
* UD-POS: trains on ``ud/UD_English-EWT`` (the EWT test treebank, CoNLL-U), never on
  ``udpos/test-en`` (EWT + GUM + LinES + ParTUT + PUD; PUD is parallel to PUD in other languages).
  English is tested only on the sentences after the EWT block of ``udpos/test-en`` (its first
  2,077 sentences are EWT's test set); German from ``ud/UD_German-GSD``.
* PAN-X: WikiANN is not parallel: English trains on a seeded block of ``panx/dev-en``, English is
  tested on other indices, every other language on its own dev file.
* XCOPA: trains on COPA train (``copa/train-en``), selects on COPA val; XCOPA's test files (COPA
  test in translation) are tested (XTREME-R's XCOPA languages have no English).
* QA: the QA model (XQuAD's, which MLQA shares, and TyDiQA's, trained on the same data) trains on a
  seeded block of MLQA-en questions (those that occur in the fewest other MLQA languages); MLQA
  is tested in every language only on question ids outside that block (MLQA is parallel by id);
  XQuAD and its retrieval form LAReQA are SQuAD dev in translation and never trained on.
  TyDiQA-GoldP's dev files carry no answers: its Swahili *train* file, never trained on, is the
  test set, and the data table says so.
* Retrieval (Tatoeba, LAReQA): no training; a seeded subset of each language's pairs/questions.
* Intermediate tasks (English only, none of them is a test file): ANLI trains on R1-R3 test and
  selects on R1-R3 dev; SIQA, CosmosQA, CommonsenseQA and SST-2 split their one file into a
  seeded training block and a dev block.

Finally every test set is filtered against every training and dev text of every task
(:func:`text_units`: normalised texts of three words or more): while the seeded subset is drawn,
a candidate sharing such a text is passed over (for a parallel file, in every language) and
counted in the table's ``dropped`` column. Test subsets hold :data:`TEST_PER_LANGUAGE`
examples per language (or all the file has), more where needed to reach :data:`MIN_PER_TASK`
per task; parallel files are tested on the same items in every language.

:func:`load` and :func:`load_retrieval` are what :mod:`helpers.sources` calls for the
``realdata`` source; :func:`data_table` is the data chapter's table of every set, its file,
split, size and why it is disjoint.
"""

from __future__ import annotations

import copy
import math
import random
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import StudyError, invalid_choice
from .readers import read_conllu, read_pair_tsv, read_squad, read_tagging, read_task_file
from .retrieval_sets import QUERY_PREFIX, RetrievalSet, lareqa_set, read_lareqa, read_tatoeba
from .tasks import REALDATA_SPLIT_FILES, SUBSETS, TATOEBA_ISO3, get_task, retrieval_tasks

#: The seed of every split (fixed: the training seed changes the run, never the data).
SPLIT_SEED = 13
#: Test examples per language (all the file has where it has fewer) ...
TEST_PER_LANGUAGE = 100
#: ... and at least this many per task (more per language where there are few languages).
MIN_PER_TASK = 500
#: A text shorter than this many normalised words is a name or a word, not an item (see text_units).
MIN_UNIT_WORDS = 3

#: Target tasks of XTREME-R with real files in the folder, and the intermediate tasks it holds.
TARGETS = SUBSETS["realdata-targets"]
INTERMEDIATES = SUBSETS["realdata-intermediates"]
#: Training-data tasks of the targets' stages (XQuAD trains as "squad", XCOPA as "copa").
STAGE_TASKS = SUBSETS["realdata-stages"]
TASKS = TARGETS + INTERMEDIATES + STAGE_TASKS

# Block sizes (the recipes cap what is actually trained on; see helpers.recipes).
XNLI_TRAIN, XNLI_DEV = 1500, 150
PANX_TRAIN, PANX_DEV = 2000, 200
QA_TRAIN, QA_DEV = 400, 50
UD_DEV = 200
EWT_BLOCK = 2077  # the first sentences of udpos/test-en are UD_English-EWT's test set
INTERMEDIATE_DEV = 200


# --------------------------------------------------------------------------- normalised text units
_SENTENCE = re.compile(r"(?<=[.!?。！？؟।])\s+")


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[int, str]:
    """Every punctuation and symbol code point (Unicode categories P* and S*) -> a space."""
    return {cp: " " for cp in range(0x30000) if unicodedata.category(chr(cp))[0] in "PS"}


def normalise(text: str) -> str:
    """NFKC, lowercase, punctuation and symbols (Unicode P*, S*) stripped, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().translate(_punctuation_table()).split())


def _units_of_text(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    return _units_cached(text)


@lru_cache(maxsize=65536)
def _units_cached(text: str) -> frozenset[str]:
    parts = [text] + _SENTENCE.split(text)
    out = set()
    for part in parts:
        norm = normalise(part)
        if len(norm.split()) >= MIN_UNIT_WORDS:
            out.add(norm)
    return frozenset(out)


def text_units(example: dict) -> set[str]:
    """The normalised texts of one canonical example (or retrieval item) that must not leak.

    Sentence pairs: each text; multiple choice: the context, the question and each choice;
    tagging: the sentence; span QA: the question and the context; retrieval items
    (``{"texts": [...]}``): each text. Every text counts whole and sentence by sentence
    (split after . ! ? and their CJK, Arabic and Devanagari forms). Texts of fewer than
    :data:`MIN_UNIT_WORDS` words (names such as "Paris", CommonsenseQA's one-word answers,
    COPA's "cause") are not units.
    """
    units: set[str] = set()
    if "tokens" in example:
        units |= _units_of_text(" ".join(example["tokens"]))
    for key in ("text_a", "text_b", "question"):
        units |= _units_of_text(example.get(key))
    units |= _units_of_text(example.get("context"))
    for choice in example.get("choices") or ():
        units |= _units_of_text(choice)
    for text in example.get("texts") or ():
        units |= _units_of_text(text)
    return units


# --------------------------------------------------------------------------- the plan of one folder
@dataclass
class TestPool:
    """One task's candidate test items: per language, (key, example) in file order; parallel keys match."""

    parallel: bool
    by_lang: dict[str, list[tuple[str, dict]]]
    files: dict[str, str]  # language -> file (relative to the root)
    split: str  # the file's own split name
    why: str
    note: str = ""


@dataclass
class TaskData:
    """The English train/dev sets of one task and its test pool (None: not a test task)."""

    train: list[dict] = field(default_factory=list)
    dev: list[dict] = field(default_factory=list)
    train_from: str = ""
    dev_from: str = ""
    train_why: str = ""
    dev_why: str = ""
    test: TestPool | None = None


def _rng(task: str) -> random.Random:
    return random.Random(f"realsplits-{SPLIT_SEED}-{task}")


def _shuffled(n: int, task: str) -> list[int]:
    order = list(range(n))
    _rng(task).shuffle(order)
    return order


def _need(root: Path, rel: str) -> Path:
    path = root / rel
    if not path.is_file():
        raise StudyError(f"realdata file {path} does not exist; the folder must hold the files of "
                         f"../shared/realdata/SOURCES.md (see helpers.realdata)")
    return path


def _xnli(root: Path) -> TaskData:
    langs = [lang for lang in get_task("xnli").languages if (root / f"xnli/dev-{lang}.tsv").is_file()]
    files = {lang: f"xnli/dev-{lang}.tsv" for lang in langs}
    data = {lang: read_pair_tsv(root / rel, "xnli") for lang, rel in files.items()}
    n = len(data["en"])
    for lang, rows in data.items():
        if len(rows) != n:
            raise StudyError(f"realdata file {root / files[lang]} has {len(rows)} lines, xnli/dev-en.tsv {n}: "
                             f"the XNLI dev files must be parallel line by line")
    # Each premise has three hypotheses (one per label): whole premise groups are held apart.
    groups: dict[str, list[int]] = {}
    for i, ex in enumerate(data["en"]):
        groups.setdefault(normalise(ex["text_a"]), []).append(i)
    blocks = list(groups.values())
    blocks = [blocks[j] for j in _shuffled(len(blocks), "xnli")]
    train_idx: list[int] = []
    dev_idx: list[int] = []
    for block in blocks:
        if len(train_idx) < XNLI_TRAIN:
            train_idx += block
        elif len(dev_idx) < XNLI_DEV:
            dev_idx += block
    held = set(train_idx) | set(dev_idx)
    pool = {lang: [(str(i), ex) for i, ex in enumerate(rows) if i not in held] for lang, rows in data.items()}
    return TaskData(
        train=[data["en"][i] for i in train_idx], dev=[data["en"][i] for i in dev_idx],
        train_from="xnli/dev-en.tsv", dev_from="xnli/dev-en.tsv",
        train_why=f"a seeded block of {XNLI_TRAIN} English lines (whole premise groups); no language is tested "
                  "on these lines or on another hypothesis of their premises",
        dev_why=f"a second seeded block of {XNLI_DEV} English lines (whole premise groups), also never tested",
        test=TestPool(True, pool, files, "dev", "XNLI dev is parallel line by line: tested only on line indices "
                      "outside the training and dev blocks, the same lines in every language"),
    )


def _udpos(root: Path) -> TaskData:
    ewt_rel = "ud/UD_English-EWT/en_ewt-ud-test.conllu"
    ewt = read_conllu(_need(root, ewt_rel))
    order = _shuffled(len(ewt), "udpos")
    dev = [ewt[i] for i in sorted(order[:UD_DEV])]
    train = [ewt[i] for i in sorted(order[UD_DEV:])]
    files, pool = {}, {}
    for lang in get_task("udpos").languages:
        rel = f"udpos/test-{lang}.tsv"
        if (root / rel).is_file():
            rows = read_tagging(root / rel, get_task("udpos").labels)
            start = EWT_BLOCK if lang == "en" else 0
            pool[lang] = [(f"{lang}-{i}", ex) for i, ex in enumerate(rows) if i >= start]
            files[lang] = rel
    gsd = "ud/UD_German-GSD/de_gsd-ud-test.conllu"
    if "de" not in pool and (root / gsd).is_file():
        pool["de"] = [(f"de-{i}", ex) for i, ex in enumerate(read_conllu(root / gsd))]
        files["de"] = gsd
    return TaskData(
        train=train, dev=dev, train_from=ewt_rel, dev_from=ewt_rel,
        train_why="UD_English-EWT, never udpos/test-en (whose PUD part is parallel to PUD in other languages)",
        dev_why=f"{UD_DEV} seeded EWT sentences held out of training",
        test=TestPool(False, pool, files, "test", "UD test treebanks other than EWT: English only after the "
                      f"{EWT_BLOCK} EWT sentences that open udpos/test-en, and no test sentence equals a "
                      "training sentence", note="German from UD_German-GSD's test file"),
    )


def _panx(root: Path) -> TaskData:
    langs = [lang for lang in get_task("panx").languages if (root / f"panx/dev-{lang}.tsv").is_file()]
    files = {lang: f"panx/dev-{lang}.tsv" for lang in langs}
    labels = get_task("panx").labels
    en = read_tagging(_need(root, "panx/dev-en.tsv"), labels)
    order = _shuffled(len(en), "panx")
    train_idx, dev_idx = order[:PANX_TRAIN], order[PANX_TRAIN:PANX_TRAIN + PANX_DEV]
    held = set(train_idx) | set(dev_idx)
    pool = {}
    for lang, rel in files.items():
        rows = en if lang == "en" else read_tagging(root / rel, labels)
        pool[lang] = [(f"{lang}-{i}", ex) for i, ex in enumerate(rows) if lang != "en" or i not in held]
    return TaskData(
        train=[en[i] for i in train_idx], dev=[en[i] for i in dev_idx],
        train_from="panx/dev-en.tsv", dev_from="panx/dev-en.tsv",
        train_why=f"a seeded block of {PANX_TRAIN} English sentences (WikiANN is not parallel across languages)",
        dev_why=f"a second seeded block of {PANX_DEV} English sentences",
        test=TestPool(False, pool, files, "dev", "WikiANN dev files (the test files carry no labels); English only "
                      "on indices outside the training and dev blocks"),
    )


def _copa_files(root: Path) -> tuple[list[dict], list[dict]]:
    return read_task_file("copa", _need(root, "copa/train-en.jsonl")), \
        read_task_file("copa", _need(root, "copa/val-en.jsonl"))


def _xcopa(root: Path) -> TaskData:
    train, dev = _copa_files(root)
    files, pool = {}, {}
    for lang in get_task("xcopa").languages:  # XTREME-R's XCOPA languages: no English
        rel = f"xcopa/{lang}/test.{lang}.jsonl"
        if (root / rel).is_file():
            rows = read_task_file("xcopa", root / rel)
            pool[lang] = [(str(i), ex) for i, ex in enumerate(rows)]
            files[lang] = rel
    return TaskData(
        train=train, dev=dev, train_from="copa/train-en.jsonl", dev_from="copa/val-en.jsonl",
        train_why="COPA train: XCOPA translates COPA val and test only",
        dev_why="COPA val (its translations, XCOPA val, are never tested)",
        test=TestPool(True, pool, files, "test", "XCOPA test = COPA test in translation; the same items in every "
                      "language"),
    )


def _squad_by_lang(root: Path, task: str) -> dict[str, list[dict]]:
    out = {}
    for lang in get_task(task).languages:
        rel = (f"mlqa/dev-context-{lang}-question-{lang}.json" if task == "mlqa" else f"xquad/xquad.{lang}.json")
        if (root / rel).is_file():
            out[lang] = read_squad(root / rel)
    return out


@lru_cache(maxsize=4)
def _qa_blocks(root: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(train ids, dev ids) of MLQA-en: the seeded ids that occur in the fewest other MLQA languages."""
    mlqa = _squad_by_lang(root, "mlqa")
    if "en" not in mlqa:
        _need(root, "mlqa/dev-context-en-question-en.json")
    count: dict[str, int] = {}
    for lang, rows in mlqa.items():
        if lang != "en":
            for ex in rows:
                count[ex["id"]] = count.get(ex["id"], 0) + 1
    ids = [ex["id"] for ex in mlqa["en"]]
    rank = {qid: i for i, qid in enumerate(_shuffled(len(ids), "qa"))}
    order = sorted(range(len(ids)), key=lambda i: (count.get(ids[i], 0), rank[i]))
    chosen = [ids[i] for i in order]
    return tuple(chosen[:QA_TRAIN]), tuple(chosen[QA_TRAIN:QA_TRAIN + QA_DEV])


def _squad(root: Path) -> TaskData:
    en = read_squad(_need(root, "mlqa/dev-context-en-question-en.json"))
    train_ids, dev_ids = _qa_blocks(root)
    by_id = {ex["id"]: ex for ex in en}
    return TaskData(
        train=[by_id[i] for i in train_ids], dev=[by_id[i] for i in dev_ids],
        train_from="mlqa/dev-context-en-question-en.json", dev_from="mlqa/dev-context-en-question-en.json",
        train_why=f"{QA_TRAIN} MLQA-en questions (those in the fewest other MLQA languages); MLQA is tested on "
                  "other ids only; XQuAD/LAReQA (SQuAD dev) and TyDiQA are other data",
        dev_why=f"{QA_DEV} further MLQA-en questions, never tested",
    )


def _qa_model_data(root: Path, why: str) -> TaskData:
    """The training and dev sets of a QA target: the MLQA-en block that trains the QA model."""
    qa = _squad(root)
    return TaskData(train=qa.train, dev=qa.dev, train_from=qa.train_from, dev_from=qa.dev_from,
                    train_why=why, dev_why=qa.dev_why)


def _mlqa(root: Path) -> TaskData:
    data = _squad_by_lang(root, "mlqa")
    train_ids, dev_ids = _qa_blocks(root)
    held = set(train_ids) | set(dev_ids)
    pool = {lang: [(ex["id"], ex) for ex in rows if ex["id"] not in held] for lang, rows in data.items()}
    files = {lang: f"mlqa/dev-context-{lang}-question-{lang}.json" for lang in data}
    td = _qa_model_data(root, f"XQuAD's QA model (MLQA shares it): {QA_TRAIN} MLQA-en questions whose ids are "
                              "never tested")
    td.test = TestPool(True, pool, files, "dev", "MLQA dev is parallel by question id: no id of the QA "
                                  "training or dev block is tested, in any language")
    return td


def _xquad(root: Path) -> TaskData:
    data = _squad_by_lang(root, "xquad")
    pool = {lang: [(ex["id"], ex) for ex in rows] for lang, rows in data.items()}
    files = {lang: f"xquad/xquad.{lang}.json" for lang in data}
    td = _qa_model_data(root, f"the QA model trains on {QA_TRAIN} MLQA-en questions (SQuAD's place): never on "
                              "XQuAD or LAReQA, which are SQuAD dev in translation")
    td.test = TestPool(True, pool, files, "test", "XQuAD (SQuAD dev in translation) is never trained on: "
                                  "the QA model trains on MLQA-en; the same questions in every language")
    return td


def _tydiqa(root: Path) -> TaskData:
    rel = "tydiqa/tydiqa.goldp.sw.train.json"
    qa = _squad(root)
    rows = read_squad(_need(root, rel))
    return TaskData(
        train=qa.train, dev=qa.dev, train_from=qa.train_from, dev_from=qa.dev_from,
        train_why="the QA training block of MLQA-en (as XQuAD's model); TyDiQA itself is never trained on",
        dev_why=qa.dev_why,
        test=TestPool(False, {"sw": [(str(i), ex) for i, ex in enumerate(rows) if ex["answers"]["text"]]}, {"sw": rel}, "train",
                      "TyDiQA-GoldP's dev files carry no answers, so its Swahili TRAIN file is the test set; no "
                      "model is trained on it", note="a train file used as test: Swahili only"),
    )


def _tatoeba(root: Path) -> TaskData:
    files, pool = {}, {}
    for lang in get_task("tatoeba").languages:
        iso3 = TATOEBA_ISO3[lang]
        rel = f"tatoeba/tatoeba.{iso3}-eng.{iso3}"
        if (root / rel).is_file():
            pairs = read_tatoeba(root / rel, (root / rel).with_suffix(".eng"))
            pool[lang] = [(str(i), {"texts": [a, b], "pair": (a, b)}) for i, (a, b) in enumerate(pairs)]
            files[lang] = rel
    return TaskData(test=TestPool(False, pool, files, "test", "Tatoeba pairs: no training (each arm's encoder as it "
                                  "is); no sentence equals a training text"))


def _lareqa_paths(root: Path) -> dict[str, Path]:
    return {lang: root / f"lareqa/{lang}.json" for lang in get_task("lareqa").languages
            if (root / f"lareqa/{lang}.json").is_file()}


def _lareqa(root: Path) -> TaskData:
    records = read_lareqa(_lareqa_paths(root))
    pool: dict[str, list] = {}
    for r in records:
        pool.setdefault(r["lang"], []).append((r["qid"], {"texts": [r["question"]] + list(r["sentences"])}))
    files = {lang: f"lareqa/{lang}.json" for lang in pool}
    return TaskData(test=TestPool(True, pool, files, "test", "XQuAD-R (XQuAD again): no training; the QA model trains "
                                  "on MLQA-en, never on XQuAD"))


def _split_one_file(root: Path, task: str, rel: str, dev_n: int = INTERMEDIATE_DEV) -> TaskData:
    rows = read_task_file(task, _need(root, rel))
    order = _shuffled(len(rows), task)
    return TaskData(
        train=[rows[i] for i in order[dev_n:]], dev=[rows[i] for i in order[:dev_n]], train_from=rel, dev_from=rel,
        train_why="an English intermediate set, no test file of any target",
        dev_why=f"{dev_n} seeded examples of the same file held out of training")


def _anli(root: Path) -> TaskData:
    train, dev = [], []
    for part in get_task("anli").parts:
        train += read_task_file("anli", _need(root, f"anli/{part}/test.jsonl"))
        dev += read_task_file("anli", _need(root, f"anli/{part}/dev.jsonl"))
    order = _shuffled(len(dev), "anli")
    return TaskData(
        train=train, dev=[dev[i] for i in sorted(order[:INTERMEDIATE_DEV])],
        train_from="anli/R{1,2,3}/test.jsonl", dev_from="anli/R{1,2,3}/dev.jsonl",
        train_why="ANLI R1-R3 test (English, no target's test file)",
        dev_why=f"{INTERMEDIATE_DEV} seeded ANLI dev examples")


def _copa(root: Path) -> TaskData:
    train, dev = _copa_files(root)
    return TaskData(train=train, dev=dev, train_from="copa/train-en.jsonl", dev_from="copa/val-en.jsonl",
                    train_why="COPA train (XCOPA's training stage)", dev_why="COPA val")


def _builder(task: str):
    """The function that builds ``task``'s sets: ``_<task>``, or a one-file split (helpers.tasks)."""
    if task in REALDATA_SPLIT_FILES:
        return lambda root: _split_one_file(root, task, REALDATA_SPLIT_FILES[task])
    return globals()[f"_{task}"]  # squad: the QA model's training data; copa: XCOPA's training stage


# --------------------------------------------------------------------------- the whole folder
def _per_language(n_langs: int) -> int:
    return max(TEST_PER_LANGUAGE, math.ceil(MIN_PER_TASK / max(n_langs, 1)))


@dataclass
class Plan:
    """Every task's sets for one folder: English train/dev, the chosen test subsets per language."""

    data: dict[str, TaskData]
    tests: dict[str, dict[str, list[dict]]]  # task -> language -> examples (retrieval: items)
    keys: dict[str, dict[str, list[str]]]  # task -> language -> the chosen items' keys (line, id, qid)
    dropped: dict[str, dict[str, int]]  # task -> language -> candidates passed over for sharing a training text


def _choose(task: str, pool: TestPool, banned: set[str]):
    """The seeded test subset of one task: per language its examples, keys and candidates passed over.

    Candidates are visited in one seeded order of the keys (shared by the languages of a parallel
    file); one sharing a text unit with ``banned`` is passed over (for a parallel file: in every
    language) until :func:`_per_language` are chosen. The chosen examples keep file order.
    """
    n = _per_language(len(pool.by_lang))
    maps = {lang: dict(items) for lang, items in pool.by_lang.items()}
    rank = {lang: {key: i for i, (key, _) in enumerate(items)} for lang, items in pool.by_lang.items()}
    keys = sorted({key for items in pool.by_lang.values() for key, _ in items})
    order = [keys[j] for j in _shuffled(len(keys), f"{task}-test")]
    chosen: dict[str, list[str]] = {lang: [] for lang in maps}
    passed = {lang: 0 for lang in maps}
    if pool.parallel:
        for key in order:
            if all(len(chosen[lang]) >= n for lang in maps):
                break
            langs = [lang for lang in maps if key in maps[lang]]
            if any(text_units(maps[lang][key]) & banned for lang in langs):
                for lang in langs:
                    passed[lang] += 1
                continue
            for lang in langs:
                if len(chosen[lang]) < n:
                    chosen[lang].append(key)
    else:
        for lang, items in maps.items():
            for key in (k for k in order if k in items):
                if len(chosen[lang]) >= n:
                    break
                if text_units(items[key]) & banned:
                    passed[lang] += 1
                else:
                    chosen[lang].append(key)
    tests, out_keys = {}, {}
    for lang in maps:
        picked = sorted(chosen[lang], key=rank[lang].__getitem__)
        out_keys[lang] = picked
        tests[lang] = [maps[lang][key] for key in picked]
    return tests, out_keys, passed


@lru_cache(maxsize=2)
def _plan(root: Path) -> Plan:
    data = {task: _builder(task)(root) for task in TASKS}
    banned: set[str] = set()
    for td in data.values():
        for ex in td.train + td.dev:
            banned |= text_units(ex)
    tests: dict[str, dict[str, list[dict]]] = {}
    chosen_keys: dict[str, dict[str, list[str]]] = {}
    dropped: dict[str, dict[str, int]] = {}
    for task, td in data.items():
        if td.test is not None:
            tests[task], chosen_keys[task], dropped[task] = _choose(task, td.test, banned)
    return Plan(data, tests, chosen_keys, dropped)


def plan(root: str | Path) -> Plan:
    """The splits of the folder ``root`` (computed once per process and folder)."""
    return _plan(Path(root).resolve())


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise invalid_choice("realdata task", task, TASKS)


def test_languages(root: str | Path, task: str) -> tuple[str, ...]:
    """The languages ``task`` is tested in: its registry languages whose file is in the folder (registry order)."""
    _check_task(task)
    tests = plan(root).tests.get(task)
    if not tests:
        return ()
    return tuple(lang for lang in get_task(task).languages if lang in tests)


def load(root: str | Path, task: str, split: str, lang: str) -> list[dict]:
    """Canonical examples of ``task``/``split``/``lang`` (train and dev: English only); fresh copies."""
    _check_task(task)
    p = plan(root)
    td = p.data[task]
    if split in ("train", "dev"):
        if lang != "en":
            raise StudyError(f"{task} {split} data is English only in the realdata source; valid languages: en")
        rows = td.train if split == "train" else td.dev
        if not rows:
            raise StudyError(f"{task} has no {split} data in the realdata source (it is never trained here)")
        return copy.deepcopy(rows)
    if split != "test":
        raise invalid_choice("split", split, ("train", "dev", "test"))
    langs = test_languages(root, task)
    if lang not in langs:
        raise StudyError(f"{task} has no test file in language {lang!r} in the realdata source; valid languages: "
                         f"{', '.join(langs) if langs else 'none (it is not a test task)'}")
    if get_task(task).format == "retrieval":
        raise StudyError(f"{task} is a retrieval task: use load_retrieval for its test split")
    return copy.deepcopy(p.tests[task][lang])


def load_retrieval(root: str | Path, task: str, lang: str, limit: int | None = None) -> RetrievalSet:
    """The retrieval set of ``task`` in ``lang`` built on the chosen subset (``limit``: its first queries)."""
    _check_task(task)
    langs = test_languages(root, task)
    if lang not in langs:
        raise StudyError(f"{task} has no test file in language {lang!r} in the realdata source; valid languages: "
                         f"{', '.join(langs)}")
    root = Path(root).resolve()
    chosen = plan(root).tests[task][lang]
    if limit:
        chosen = chosen[:limit]
    if task == "tatoeba":
        x = TATOEBA_ISO3[lang]
        pairs = [item["pair"] for item in chosen]
        return RetrievalSet([a for a, _ in pairs], [b for _, b in pairs], [frozenset([i]) for i in range(len(pairs))],
                            QUERY_PREFIX, QUERY_PREFIX, [f"{x}-{i}" for i in range(len(pairs))],
                            [f"eng-{i}" for i in range(len(pairs))])
    if task == "lareqa":
        keep = set(plan(root).keys[task][lang][:len(chosen)])
        records = [r for r in read_lareqa(_lareqa_paths(root)) if r["qid"] in keep]
        return lareqa_set(records, lang)
    raise invalid_choice("retrieval task", task, [t for t in retrieval_tasks() if t in TARGETS])


# --------------------------------------------------------------------------- the data chapter's table
def data_table(root: str | Path, tasks: tuple[str, ...] | list[str] | None = None) -> list[dict]:
    """One row per (task, role, language): source file (relative to the root), split, size, why disjoint.

    ``role`` is train, dev or test; train and dev rows are English (language ``en``); test rows
    give the size of the chosen subset, the file's size and how many candidates were dropped for
    sharing a text with a training or dev set. ``tasks`` defaults to every task of this module.
    """
    p = plan(root)
    rows = []
    for task in tasks or TASKS:
        _check_task(task)
        td = p.data[task]
        for role, sets, src, why in (("train", td.train, td.train_from, td.train_why),
                                     ("dev", td.dev, td.dev_from, td.dev_why)):
            if sets:
                rows.append({"task": task, "role": role, "language": "en", "file": src,
                             "split": _file_split(src), "examples": len(sets), "of": None, "dropped": 0,
                             "disjoint because": why})
        if td.test is not None:
            for lang in test_languages(root, task):
                chosen = p.tests[task][lang]
                rows.append({"task": task, "role": "test", "language": lang, "file": td.test.files[lang],
                             "split": td.test.split, "examples": len(chosen), "of": len(td.test.by_lang[lang]),
                             "dropped": p.dropped[task][lang],
                             "disjoint because": td.test.why + (f" ({td.test.note})" if td.test.note else "")})
    return rows


def _file_split(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1].lower()
    for split in ("train", "test", "val", "dev"):
        if split in name:
            return "dev" if split == "val" else split
    return "dev"


__all__ = ["SPLIT_SEED", "TEST_PER_LANGUAGE", "MIN_PER_TASK", "TARGETS", "INTERMEDIATES", "TASKS", "normalise",
           "text_units", "plan", "test_languages", "load", "load_retrieval", "data_table"]
