"""The generated ``embedded`` benchmark, written in XTREME's directory layout.

Text comes from this project's templates and lexicons (:mod:`helpers.lexicon`):
people (ten names, five per gender, in each script) who live in a city, work for
an organisation, speak a language and play a game. Every example is built from
such facts, so its label is correct by construction:

* NLI (XNLI, MNLI, ANLI+, SNLI): a premise of two facts about a person; the
  hypothesis restates one (entailment), changes its value (contradiction), or
  states a fact about another relation or another person (neutral).
* COPA / XCOPA and the English multiple-choice tasks: a person lives in a city
  and so speaks its language (effect), or speaks a language because they live
  there (cause); distractors are other cities / languages.
* Tagging: fact sentences and questions with UPOS tags (UD-POS), BIO PER/ORG/LOC
  (PAN-X), a small CCG supertag set (English CCG).
* Span QA (XQuAD, MLQA, TyDiQA, SQuAD): four facts about two people; the
  question asks one; the answer is that fact's value.
* Retrieval: Tatoeba-style aligned fact sentences; LAReQA-style questions against
  the sentences of parallel paragraphs in every language; Mewsli-X-style mentions
  of a name in context against English entity descriptions of same-named people.

English train/dev, every language in test; test sets are parallel across
languages (the same facts, realised per language). Deterministic from the seed.

Each task's writer is looked up in :data:`GENERATORS` by the registry's
:attr:`helpers.tasks.TaskSpec.generator`; it writes the splits the registry
lists in :attr:`~helpers.tasks.TaskSpec.generated`, at the task's own layout
paths (:meth:`~helpers.tasks.TaskSpec.layout_paths`), which the xtreme-dir
reader reads back. The sentences come from :mod:`helpers.textgen`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from .errors import check_positive
from .lexicon import CITY_LANGUAGE, LANGUAGES, NO_SPACE_LANGS, QQP_PARAPHRASES, SST_NEGATIVE, SST_POSITIVE, SST_THINGS
from .runs import atomic_directory, cache_root, check_replaceable, file_lock, is_owned
from .tasks import ALL_TASKS, COMPONENTS, TASKS, TaskSpec
from .textgen import (  # noqa: F401 - answer_span, bio_tags, question_tokens and render are part of this API
    GENERATOR_VERSION,
    NAME_LIST,
    REL_NAMES,
    answer_span,
    bio_tags,
    ccg_tags,
    copa_items,
    fact_text,
    fact_tokens,
    join_sentences,
    nli_items,
    nvals,
    plain,
    qa_items,
    question_tokens,
    random_fact,
    render,
    seeded_rng,
    tagging_items,
)


def generated_languages(task: str) -> tuple[str, ...]:
    """XTREME-R's languages of ``task`` that the generator writes."""
    return tuple(l for l in TASKS[task].languages if l in LANGUAGES)


# --------------------------------------------------------------------------- writers
class _Files(dict):
    """relative path -> text, written at the end."""

    def tsv(self, rel: str, rows: Iterable[Iterable[str]], header: Iterable[str] | None = None) -> None:
        lines = ["\t".join(header)] if header else []
        lines += ["\t".join(r) for r in rows]
        self[rel] = "\n".join(lines) + "\n"

    def jsonl(self, rel: str, records: Iterable[dict]) -> None:
        self[rel] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)

    def json(self, rel: str, obj: object) -> None:
        self[rel] = json.dumps(obj, ensure_ascii=False, indent=1) + "\n"

        self[rel] = json.dumps(obj, ensure_ascii=False, indent=1) + "\n"


class _Sizes(dict):
    """Examples per split: ``train``, ``dev``; ``test`` per language (an English-only test set is dev-sized)."""

    def of(self, spec: TaskSpec, split: str) -> int:
        if split == "test" and not _multilingual(spec):
            return self["dev"]
        return self[split]


def _multilingual(spec: TaskSpec) -> bool:
    return spec.languages != ("en",)


def _langs(spec: TaskSpec, split: str) -> tuple[str, ...]:
    """English for train/dev and English-only tasks; every generated language for a target's test set."""
    return generated_languages(spec.name) if split == "test" and _multilingual(spec) else ("en",)


def _path(spec: TaskSpec, split: str, lang: str = "en", part: str = "") -> str:
    return spec.layout_paths(split, lang, part=part)[0]


# --------------------------------------------------------------------------- NLI
NLI_NAMES = ("entailment", "neutral", "contradiction")
GLUE_NLI_HEADER = ("sentence1", "sentence2", "gold_label")


def _nli_rows(items: list[dict], lang: str) -> list[tuple[str, str, str]]:
    sep = "" if lang in NO_SPACE_LANGS else " "
    return [(sep.join(fact_text(lang, f) for f in it["premise"]), fact_text(lang, it["hypothesis"]),
             NLI_NAMES[it["label"]]) for it in items]


def _write_nli(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """XNLI-style headerless TSV (a target: its test set in every language) or GLUE TSV with a header."""
    header = None if _multilingual(spec) else GLUE_NLI_HEADER
    for split in spec.generated:
        items = nli_items(seeded_rng(seed, spec.name, split), sizes.of(spec, split))
        for lang in _langs(spec, split):
            files.tsv(_path(spec, split, lang), _nli_rows(items, lang), header)


def _write_nli_rounds(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """ANLI's rounds as jsonl, a third of each split's size per round."""
    for part in spec.parts:
        for split in spec.generated:
            n = max(1, sizes.of(spec, split) // 3)
            rows = _nli_rows(nli_items(seeded_rng(seed, spec.name, part, split), n), "en")
            files.jsonl(_path(spec, split, part=part), [
                {"uid": f"{part}-{split}-{i}", "context": a, "hypothesis": b, "label": lab[0]}
                for i, (a, b, lab) in enumerate(rows)])


# --------------------------------------------------------------------------- multiple choice
def _copa_records(items: list[dict], lang: str) -> list[dict]:
    out = []
    for i, it in enumerate(items):
        if it["question"] == "effect":
            premise = fact_text(lang, (it["name"], "lives", it["city"]))
            choices = [fact_text(lang, (it["name"], "speaks", CITY_LANGUAGE[o])) for o in it["options"]]
        else:
            premise = fact_text(lang, (it["name"], "speaks", CITY_LANGUAGE[it["city"]]))
            choices = [fact_text(lang, (it["name"], "lives", o)) for o in it["options"]]
        out.append({"premise": premise, "choice1": choices[0], "choice2": choices[1], "question": it["question"],
                    "label": it["label"], "idx": i})
    return out



def _write_cause_effect(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """COPA / XCOPA jsonl (the random stream is keyed by the layout's split name)."""
    for split in spec.generated:
        items = copa_items(seeded_rng(seed, spec.name, spec.split_names.get(split, split)), sizes.of(spec, split))
        for lang in _langs(spec, split):
            files.jsonl(_path(spec, split, lang), _copa_records(items, lang))


def _language_names(options: Iterable[str]) -> list[str]:
    return [plain("speaks", CITY_LANGUAGE[o]) for o in options]


def _write_social(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """Social IQa jsonl: three answers, the correct letter inline."""
    for split in spec.generated:
        recs = []
        for it in copa_items(seeded_rng(seed, spec.name, split), sizes.of(spec, split), 3):
            a = _language_names(it["options"])
            recs.append({"context": fact_text("en", (it["name"], "lives", it["city"])),
                         "question": f"Which language does {it['name']} speak?",
                         "answerA": a[0], "answerB": a[1], "answerC": a[2], "correct": "ABC"[it["label"]]})
        files.jsonl(_path(spec, split), recs)


def _write_reading_csv(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """CosmosQA CSV: a two-fact context, four answers."""
    for split in spec.generated:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label"])
        rng = seeded_rng(seed, spec.name, split, "extra")
        for i, it in enumerate(copa_items(seeded_rng(seed, spec.name, split), sizes.of(spec, split), 4)):
            extra = random_fact(rng, it["name"], rng.choice(("works", "plays")))
            ctx = fact_text("en", extra) + " " + fact_text("en", (it["name"], "lives", it["city"]))
            w.writerow([f"cosmos-{split}-{i}", ctx, f"Which language does {it['name']} most likely speak?",
                        *_language_names(it["options"]), it["label"]])
        files[_path(spec, split)] = buf.getvalue()


def _write_endings(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """HellaSwag jsonl: a context and four endings."""
    for split in spec.generated:
        recs = []
        for i, it in enumerate(copa_items(seeded_rng(seed, spec.name, split), sizes.of(spec, split), 4)):
            ctx_a = fact_text("en", (it["name"], "lives", it["city"]))
            ctx_b = f"Every day {it['name']}"
            recs.append({"ind": i, "activity_label": "Daily life", "ctx_a": ctx_a, "ctx_b": ctx_b,
                         "ctx": f"{ctx_a} {ctx_b}",
                         "endings": [f"speaks {x} with the neighbours." for x in _language_names(it["options"])],
                         "label": it["label"], "split": split, "split_type": "indomain", "source_id": f"gen-{i}"})
        files.jsonl(_path(spec, split), recs)


def _write_concept_qa(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """CommonsenseQA jsonl: five choices, an answer key."""
    for split in spec.generated:
        recs = []
        for i, it in enumerate(copa_items(seeded_rng(seed, spec.name, split), sizes.of(spec, split), 5)):
            recs.append({"id": f"csqa-{split}-{i}",
                         "question": f"Which language do most people in {plain('lives', it['city'])} speak?",
                         "question_concept": "language", "choices": {"label": list("ABCDE"),
                                                                     "text": _language_names(it["options"])},
                         "answerKey": "ABCDE"[it["label"]]})
        files.jsonl(_path(spec, split), recs)


# --------------------------------------------------------------------------- tagging
def _tag_rows(item: tuple, lang: str, scheme: str) -> list[tuple[str, str]]:
    q, name, rel, v = item
    toks = question_tokens(lang, name, rel) if q == "q" else fact_tokens(lang, name, rel, v)
    tags = TAG_SCHEMES[scheme](toks, rel)
    return [(t[0], tag) for t, tag in zip(toks, tags)]


#: Tag scheme -> the tags of a realised sentence (its tokens, its relation).
TAG_SCHEMES: dict[str, Callable[[list, str], list[str]]] = {
    "upos": lambda toks, rel: [t[1] for t in toks],
    "bio": lambda toks, rel: bio_tags(toks),
    "ccg": ccg_tags,
}


def _write_tags(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes, scheme: str, questions: bool) -> None:
    """token<TAB>tag files; ``questions``: a quarter of the sentences are questions."""
    for split in spec.generated:
        items = tagging_items(seeded_rng(seed, spec.name, split), sizes.of(spec, split), questions)
        for lang in _langs(spec, split):
            blocks = ["\n".join(f"{w}\t{t}" for w, t in _tag_rows(it, lang, scheme)) for it in items]
            files[_path(spec, split, lang)] = "\n\n".join(blocks) + "\n"


# --------------------------------------------------------------------------- span QA and LAReQA
def _paragraph(item: dict, lang: str) -> tuple[str, list[tuple[int, int]], str, str, int]:
    """Context, sentence breaks, question, answer text, answer start."""
    sentences = [render(lang, fact_tokens(lang, *f))[0] for f in item["facts"]]
    context, breaks = join_sentences(lang, sentences)
    name, rel, v = item["facts"][item["ask"]]
    answer, offset = answer_span(lang, fact_tokens(lang, name, rel, v))
    start = breaks[item["ask"]][0] + offset
    assert context[start:start + len(answer)] == answer
    question = render(lang, question_tokens(lang, name, rel))[0]
    return context, breaks, question, answer, start


def _squad_json(items: list[dict], lang: str, prefix: str, version: str = "1.1", breaks: bool = False) -> dict:
    data = []
    for i in range(0, len(items), 2):
        paragraphs = []
        chunk = items[i:i + 2]
        # the two questions of a chunk share one paragraph when their facts are identical; else one each
        for j, it in enumerate(chunk):
            context, br, question, answer, start = _paragraph(it, lang)
            para = {"context": context, "qas": [{"id": f"{prefix}-{i + j}", "question": question,
                                                 "answers": [{"answer_start": start, "text": answer}]}]}
            if breaks:
                para["sentences"] = [context[s:e] for s, e in br]
                para["sentence_breaks"] = [list(b) for b in br]
            paragraphs.append(para)
        data.append({"title": f"{prefix}-{i // 2}", "paragraphs": paragraphs})
    return {"version": version, "data": data}



def _write_span_qa(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """SQuAD v1.1 JSON; question ids ``<task>-<split>-<i>``."""
    for split in spec.generated:
        items = qa_items(seeded_rng(seed, spec.name, split), sizes.of(spec, split))
        for lang in _langs(spec, split):
            files.json(_path(spec, split, lang), _squad_json(items, lang, f"{spec.name}-{split}"))


def _write_xquad_r(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """XQuAD-R JSON (SQuAD JSON with sentence breaks) in every language."""
    for split in spec.generated:
        items = qa_items(seeded_rng(seed, spec.name, split), sizes.of(spec, split))
        for lang in _langs(spec, split):
            files.json(_path(spec, split, lang), _squad_json(items, lang, spec.name, breaks=True))


# --------------------------------------------------------------------------- Tatoeba, Mewsli-X
def _write_bitext(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """LASER's aligned ``tatoeba.<xxx>-eng.{<xxx>,eng}`` files: the same facts in ``lang`` and English."""
    facts = [(n, r, v) for n in NAME_LIST for r in REL_NAMES for v in range(nvals(r))]
    for split in spec.generated:
        chosen = seeded_rng(seed, spec.name, split).sample(facts, min(sizes.of(spec, split), len(facts)))
        for lang in _langs(spec, split):
            x_path = _path(spec, split, lang)
            files[x_path] = "".join(fact_text(lang, f) + "\n" for f in chosen)
            files[str(PurePosixPath(x_path).with_suffix(".eng"))] = "".join(fact_text("en", f) + "\n" for f in chosen)


def _mewslix_entities(spec: TaskSpec, seed: int) -> list[dict]:
    rng = seeded_rng(seed, spec.name, "entities")
    ents = []
    for name in NAME_LIST:
        cities = rng.sample(range(nvals("lives")), 3)
        sports = rng.sample(range(nvals("plays")), 3)
        for c, s in zip(cities, sports):
            eid = f"Q{len(ents) + 1}"
            desc = (f"{name} is a person who lives in {plain('lives', c)} and plays {plain('plays', s)}. "
                    f"{name} speaks {plain('speaks', CITY_LANGUAGE[c])}.")
            first = desc.index(". ") + 1
            ents.append({"entity_id": eid, "title": name, "description": desc, "description_language": "en",
                         "description_url": f"https://example.invalid/{eid}",
                         "sentence_spans": [{"start": 0, "end": first}, {"start": first + 1, "end": len(desc)}],
                         "_facts": (name, c, s)})
    return ents


def _mention(ent: dict, lang: str, rng: random.Random, idx: str) -> tuple[dict, dict]:
    name, c, s = ent["_facts"]
    fact = (name, "lives", c) if rng.random() < 0.5 else (name, "plays", s)
    toks = fact_tokens(lang, *fact)
    text, spans = render(lang, toks)
    start, end = spans[0]
    context = {"document_title": f"doc-{idx}", "document_url": f"https://example.invalid/doc-{idx}",
               "document_id": f"doc-{idx}", "language": lang, "text": text,
               "sentence_spans": [{"start": 0, "end": len(text)}]}
    mention = {"example_id": f"{lang}-{idx}", "mention_span": {"start": start, "end": end, "text": text[start:end]},
               "entity_id": ent["entity_id"]}
    return context, mention


def _write_entity_linking(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """Mewsli-X: the English candidate entities, English training pairs, mentions in every language."""
    ents = _mewslix_entities(spec, seed)
    files.jsonl(spec.files["entities"][0], [{k: v for k, v in e.items() if k != "_facts"} for e in ents])
    for split in spec.generated:
        n = sizes.of(spec, split)
        if split == "train":
            rng = seeded_rng(seed, spec.name, split)
            pairs = []
            for i in range(n):
                ent = rng.choice(ents)
                ctx, m = _mention(ent, "en", rng, f"train-{i}")
                pairs.append({"contextual_mention": {"context": ctx, "mention": m},
                              "entity": {k: v for k, v in ent.items() if k != "_facts"}})
            files.jsonl(_path(spec, split), pairs)
            continue
        recs = []
        picks_rng = seeded_rng(seed, spec.name, split)
        picks = [(picks_rng.choice(ents), picks_rng.random()) for _ in range(n)]
        for lang in _langs(spec, split):
            for i, (ent, r) in enumerate(picks):
                ctx, m = _mention(ent, lang, random.Random(r), f"{split}-{i}")
                recs.append({"context": ctx, "mentions": [m]})
        files.jsonl(_path(spec, split), recs)


# --------------------------------------------------------------------------- English classification
def _write_sentiment(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """SST-2 TSV: a person's opinion of a thing, sometimes negated."""
    for split in spec.generated:
        rng = seeded_rng(seed, spec.name, split)
        rows = []
        for i in range(sizes.of(spec, split)):
            name = rng.choice(NAME_LIST)
            positive = i % 2 == 0
            negated = rng.random() < 0.25
            pool = SST_POSITIVE if positive != negated else SST_NEGATIVE
            adj = rng.choice(pool)
            thing = rng.choice(SST_THINGS)
            sentence = f"{name} thinks the {thing} was {'not ' if negated else ''}{adj} ."
            rows.append((sentence, str(int(positive))))
        files.tsv(f"sst2/{split}.tsv", rows, ("sentence", "label"))
        files.tsv(_path(spec, split), rows, ("sentence", "label"))


def _write_question_pairs(files: _Files, spec: TaskSpec, seed: int, sizes: _Sizes) -> None:
    """QQP TSV: paraphrased questions (duplicates) or questions about another person or relation."""
    for split in spec.generated:
        rng = seeded_rng(seed, spec.name, split)
        rows = []
        for i in range(sizes.of(spec, split)):
            name = rng.choice(NAME_LIST)
            rel = rng.choice(REL_NAMES)
            q1, q2 = rng.sample(QQP_PARAPHRASES[rel], 2)
            duplicate = i % 2 == 0
            if not duplicate:
                if rng.random() < 0.5:
                    name2 = rng.choice([x for x in NAME_LIST if x != name])
                    q2 = q2.format(n=name2)
                else:
                    q2 = rng.choice(QQP_PARAPHRASES[rng.choice([r for r in REL_NAMES if r != rel])])
            rows.append((str(i), str(2 * i), str(2 * i + 1), q1.format(n=name), q2.format(n=name), str(int(duplicate))))
        files.tsv(_path(spec, split), rows, ("id", "qid1", "qid2", "question1", "question2", "is_duplicate"))


#: ``TaskSpec.generator`` -> the writer of that task's files.
GENERATORS: dict[str, Callable[[_Files, TaskSpec, int, _Sizes], None]] = {
    "nli": _write_nli,
    "nli-rounds": _write_nli_rounds,
    "cause-effect": _write_cause_effect,
    "social": _write_social,
    "reading-csv": _write_reading_csv,
    "endings": _write_endings,
    "concept-qa": _write_concept_qa,
    "upos-tags": partial(_write_tags, scheme="upos", questions=True),
    "bio-tags": partial(_write_tags, scheme="bio", questions=False),
    "ccg-tags": partial(_write_tags, scheme="ccg", questions=False),
    "span-qa": _write_span_qa,
    "xquad-r": _write_xquad_r,
    "bitext": _write_bitext,
    "entity-linking": _write_entity_linking,
    "sentiment": _write_sentiment,
    "question-pairs": _write_question_pairs,
}


def generate_files(seed: int = 13, n_train: int = 256, n_dev: int = 64, n_test: int = 64) -> dict[str, str]:
    """Every file of the benchmark as ``{relative path: text}`` (pure, deterministic)."""
    for what, value in (("n_train", n_train), ("n_dev", n_dev), ("n_test", n_test)):
        check_positive(what, value, integer=True)
    files = _Files()
    sizes = _Sizes(train=n_train, dev=n_dev, test=n_test)
    for spec in {**ALL_TASKS, **COMPONENTS}.values():
        if spec.generator:
            GENERATORS[spec.generator](files, spec, seed, sizes)
    files["README.md"] = (f"Generated benchmark (helpers.generate v{GENERATOR_VERSION}), seed {seed}, "
                          f"n_train {n_train}, n_dev {n_dev}, n_test {n_test}. Text written by the project.\n")
    return dict(files)


BENCHMARK_KIND = "embedded-benchmark"  # the ownership marker's kind (helpers.runs.OWNER_MARKER)


def generate_benchmark(root: Path, seed: int = 13, n_train: int = 256, n_dev: int = 64, n_test: int = 64) -> Path:
    """Write the benchmark into ``root`` (complete or absent) in the xtreme-dir layout; return ``root``.

    ``root`` must be new, empty, or a benchmark folder this module wrote
    before (it holds the study's ownership marker): any other folder -- real
    data given as a data directory by mistake -- is refused with one line
    before anything is written (:func:`helpers.runs.check_replaceable`).
    """
    root = Path(root)
    check_replaceable(root, "benchmark folder")
    files = generate_files(seed, n_train, n_dev, n_test)
    with atomic_directory(root, kind=BENCHMARK_KIND, what="benchmark folder") as tmp:
        for rel, text in sorted(files.items()):
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return root


def benchmark_key(seed: int = 13, n_train: int = 256, n_dev: int = 64, n_test: int = 64) -> str:
    """A short digest of the parameters and the generator's code and lexicon."""
    digest = hashlib.sha256(json.dumps([seed, n_train, n_dev, n_test, GENERATOR_VERSION]).encode())
    here = Path(__file__).resolve().parent
    for name in ("generate.py", "textgen.py", "lexicon.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:12]


def embedded_root(root: Path | None = None, seed: int = 13, n_train: int = 256, n_dev: int = 64,
                  n_test: int = 64) -> Path:
    """The generated benchmark's directory, generated on first use.

    A folder given as ``root`` is used when it holds a benchmark this module
    generated (the study's ownership marker); a new or empty one is filled;
    any other folder is refused with one line and left untouched.
    """
    path = Path(root) if root else cache_root() / "data" / f"embedded-{seed}-{benchmark_key(seed, n_train, n_dev, n_test)}"
    if not _generated(path):
        check_replaceable(path, "benchmark folder")  # before the lock file beside it is created
        with file_lock(path):  # two jobs using the cache for the first time generate it once
            if not _generated(path):
                generate_benchmark(path, seed, n_train, n_dev, n_test)
    return path


def _generated(path: Path) -> bool:
    return is_owned(path) and (path / "README.md").is_file()