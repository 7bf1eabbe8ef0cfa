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
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from pathlib import Path
from typing import Iterable

from .errors import check_positive
from .lexicon import (
    CCG_VERB,
    CITY_LANGUAGE,
    FULL_STOP,
    LANGUAGES,
    NAMES,
    NO_SPACE_LANGS,
    QQP_PARAPHRASES,
    QUESTION_MARK,
    RELATIONS,
    SST_NEGATIVE,
    SST_POSITIVE,
    SST_THINGS,
    name_form,
)
from .runs import atomic_directory, cache_root, check_replaceable, is_owned
from .tasks import TASKS, TATOEBA_ISO3

GENERATOR_VERSION = 1
REL_NAMES = tuple(RELATIONS)
NAME_LIST = tuple(NAMES)

# Tok: (word, upos, entity type or None, inside the answer)
Tok = tuple


def generated_languages(task: str) -> tuple[str, ...]:
    """XTREME-R's languages of ``task`` that the generator writes."""
    return tuple(l for l in TASKS[task].languages if l in LANGUAGES)


# --------------------------------------------------------------------------- realisation
def _pick(template, gender: str) -> str:
    return template[gender] if isinstance(template, dict) else template


def _split_tagged(text: str) -> list[tuple[str, str]]:
    out = []
    for item in text.split():
        word, _, tag = item.rpartition("/")
        out.append((word, tag))
    return out


def _value_tokens(rel: str, lang: str, v: int) -> list[Tok]:
    raw = RELATIONS[rel]["values"][lang][v]
    ent = RELATIONS[rel]["entity"]
    prefix, _, main = raw.rpartition("|")
    toks = [(w, t, None, False) for w, t in _split_tagged(prefix)]
    toks += [(w, t, ent, True) for w, t in _split_tagged(main)]
    return toks


def _expand(template: str, lang: str, name: str, rel: str | None, v: int | None) -> list[Tok]:
    toks: list[Tok] = []
    for item in template.split():
        if item == "{n}":
            toks.append((name_form(name, lang), "PROPN", "PER", False))
        elif item == "{v}":
            toks.extend(_value_tokens(rel, lang, v))
        else:
            word, _, tag = item.rpartition("/")
            toks.append((word, tag, None, False))
    return toks


def fact_tokens(lang: str, name: str, rel: str, v: int) -> list[Tok]:
    """The sentence '<name> <relation> <value>.' in ``lang``, tagged."""
    gender = NAMES[name][0]
    toks = _expand("{n} " + _pick(RELATIONS[rel]["pred"][lang], gender), lang, name, rel, v)
    toks.append((FULL_STOP.get(lang, "."), "PUNCT", None, False))
    return toks


def question_tokens(lang: str, name: str, rel: str) -> list[Tok]:
    gender = NAMES[name][0]
    toks = _expand(_pick(RELATIONS[rel]["question"][lang], gender), lang, name, None, None)
    qm = QUESTION_MARK.get(lang)
    if qm:
        toks = [(qm if w in ("?", "؟", "？") else w, t, e, a) for w, t, e, a in toks]
    return toks


_NO_SPACE_BEFORE = {".", "?", "!", ",", "؟", "।", "？", "。"}


def render(lang: str, toks: list[Tok]) -> tuple[str, list[tuple[int, int]]]:
    """Join tokens into text; return the text and each token's (start, end) offsets."""
    text = ""
    spans = []
    for i, (word, *_rest) in enumerate(toks):
        if i and lang not in NO_SPACE_LANGS and word not in _NO_SPACE_BEFORE and toks[i - 1][0] != "¿":
            text += " "
        spans.append((len(text), len(text) + len(word)))
        text += word
    return text, spans


def join_sentences(lang: str, sentences: list[str]) -> tuple[str, list[tuple[int, int]]]:
    sep = "" if lang in NO_SPACE_LANGS else " "
    text, breaks = "", []
    for s in sentences:
        if text:
            text += sep
        breaks.append((len(text), len(text) + len(s)))
        text += s
    return text, breaks


def answer_span(lang: str, toks: list[Tok]) -> tuple[str, int]:
    """The answer text and its offset within the rendered sentence."""
    text, spans = render(lang, toks)
    idx = [i for i, t in enumerate(toks) if t[3]]
    start, end = spans[idx[0]][0], spans[idx[-1]][1]
    return text[start:end], start


def bio_tags(toks: list[Tok]) -> list[str]:
    tags, prev = [], None
    for _w, _t, ent, _a in toks:
        if ent is None:
            tags.append("O")
        else:
            tags.append(("I-" if prev == ent else "B-") + ent)
        prev = ent
    return tags


def ccg_tags(toks: list[Tok], rel: str) -> list[str]:
    out = []
    for i, (word, upos, ent, _a) in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if upos == "PUNCT":
            out.append(".")
        elif ent == "PER":
            out.append("NP")
        elif upos == "VERB":
            out.append(CCG_VERB[rel])
        elif upos == "ADP":
            out.append("PP/NP")
        elif upos == "DET":
            out.append("NP[nb]/N")
        elif nxt is not None and nxt[1] in ("PROPN", "NOUN") and nxt[2] == ent:
            out.append("N/N")
        else:
            out.append("N" if i and toks[i - 1][1] == "DET" else "NP")
    return out


def _plain(rel: str, v: int, lang: str = "en") -> str:
    return render(lang, _value_tokens(rel, lang, v))[0]


# --------------------------------------------------------------------------- abstract items
def _rng(seed: int, *key: object) -> random.Random:
    return random.Random("|".join(str(k) for k in (seed, GENERATOR_VERSION) + key))


def _nvals(rel: str) -> int:
    return len(RELATIONS[rel]["values"]["en"])


def _random_fact(rng: random.Random, name: str | None = None, rel: str | None = None) -> tuple[str, str, int]:
    name = name or rng.choice(NAME_LIST)
    rel = rel or rng.choice(REL_NAMES)
    return name, rel, rng.randrange(_nvals(rel))


def nli_items(rng: random.Random, n: int) -> list[dict]:
    items = []
    for i in range(n):
        name = rng.choice(NAME_LIST)
        r1, r2, r3 = rng.sample(REL_NAMES, 3)
        premise = [(name, r1, rng.randrange(_nvals(r1))), (name, r2, rng.randrange(_nvals(r2)))]
        label = i % 3 if n >= 3 else rng.randrange(3)
        target = rng.choice(premise)
        if label == 0:  # entailment
            hyp = target
        elif label == 2:  # contradiction: same person and relation, another value
            hyp = (name, target[1], rng.choice([v for v in range(_nvals(target[1])) if v != target[2]]))
        elif rng.random() < 0.5:  # neutral: a relation the premise does not mention
            hyp = (name, r3, rng.randrange(_nvals(r3)))
        else:  # neutral: another person
            hyp = (rng.choice([x for x in NAME_LIST if x != name]), target[1], target[2])
        items.append({"premise": premise, "hypothesis": hyp, "label": label})
    rng.shuffle(items)
    return items


def copa_items(rng: random.Random, n: int, n_choices: int = 2) -> list[dict]:
    items = []
    cities = list(CITY_LANGUAGE)
    for i in range(n):
        name = rng.choice(NAME_LIST)
        c = rng.choice(cities)
        others = rng.sample([x for x in cities if x != c], n_choices - 1)
        qtype = "effect" if i % 2 == 0 else "cause"
        options = [c] + others
        rng.shuffle(options)
        items.append({"name": name, "city": c, "options": options, "label": options.index(c), "question": qtype})
    return items


def qa_items(rng: random.Random, n: int) -> list[dict]:
    items = []
    for _ in range(n):
        p1, p2 = rng.sample(NAME_LIST, 2)
        facts = [(p, r, rng.randrange(_nvals(r))) for p in (p1, p2) for r in rng.sample(REL_NAMES, 2)]
        rng.shuffle(facts)
        items.append({"facts": facts, "ask": rng.randrange(len(facts))})
    return items


def tagging_items(rng: random.Random, n: int, questions: bool) -> list[tuple]:
    out = []
    for _ in range(n):
        name, rel, v = _random_fact(rng)
        out.append(("q", name, rel, v) if questions and rng.random() < 0.25 else ("f", name, rel, v))
    return out


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


def _fact_text(lang: str, fact: tuple) -> str:
    return render(lang, fact_tokens(lang, *fact))[0]


NLI_NAMES = ("entailment", "neutral", "contradiction")


def _nli_rows(items: list[dict], lang: str) -> list[tuple[str, str, str]]:
    sep = "" if lang in NO_SPACE_LANGS else " "
    return [(sep.join(_fact_text(lang, f) for f in it["premise"]), _fact_text(lang, it["hypothesis"]),
             NLI_NAMES[it["label"]]) for it in items]


def _write_nli(files: _Files, seed: int, n_train: int, n_dev: int, n_test: int) -> None:
    train = _nli_rows(nli_items(_rng(seed, "mnli", "train"), n_train), "en")
    files.tsv("mnli/train.tsv", train, ("sentence1", "sentence2", "gold_label"))
    files.tsv("mnli/dev_matched.tsv", _nli_rows(nli_items(_rng(seed, "mnli", "dev"), n_dev), "en"),
              ("sentence1", "sentence2", "gold_label"))
    files.tsv("xnli/dev-en.tsv", _nli_rows(nli_items(_rng(seed, "xnli", "dev"), n_dev), "en"))
    test = nli_items(_rng(seed, "xnli", "test"), n_test)
    for lang in generated_languages("xnli"):
        files.tsv(f"xnli/test-{lang}.tsv", _nli_rows(test, lang))
    # ANLI+ = ANLI rounds + MNLI + SNLI
    files.tsv("snli/train.tsv", _nli_rows(nli_items(_rng(seed, "snli", "train"), n_train), "en"),
              ("sentence1", "sentence2", "gold_label"))
    for r in ("R1", "R2", "R3"):
        for split, n in (("train", max(1, n_train // 3)), ("dev", max(1, n_dev // 3)), ("test", max(1, n_dev // 3))):
            rows = _nli_rows(nli_items(_rng(seed, "anli", r, split), n), "en")
            files.jsonl(f"anli/{r}/{split}.jsonl", [
                {"uid": f"{r}-{split}-{i}", "context": a, "hypothesis": b, "label": lab[0]}
                for i, (a, b, lab) in enumerate(rows)])


def _copa_records(items: list[dict], lang: str) -> list[dict]:
    out = []
    for i, it in enumerate(items):
        if it["question"] == "effect":
            premise = _fact_text(lang, (it["name"], "lives", it["city"]))
            choices = [_fact_text(lang, (it["name"], "speaks", CITY_LANGUAGE[o])) for o in it["options"]]
        else:
            premise = _fact_text(lang, (it["name"], "speaks", CITY_LANGUAGE[it["city"]]))
            choices = [_fact_text(lang, (it["name"], "lives", o)) for o in it["options"]]
        out.append({"premise": premise, "choice1": choices[0], "choice2": choices[1], "question": it["question"],
                    "label": it["label"], "idx": i})
    return out


def _write_multiple_choice(files: _Files, seed: int, n_train: int, n_dev: int, n_test: int) -> None:
    for split, n in (("train", n_train), ("val", n_dev), ("test", n_dev)):
        files.jsonl(f"copa/{split}-en.jsonl", _copa_records(copa_items(_rng(seed, "copa", split), n), "en"))
    test = copa_items(_rng(seed, "xcopa", "test"), n_test)
    for lang in generated_languages("xcopa"):
        files.jsonl(f"xcopa/test-{lang}.jsonl", _copa_records(test, lang))
    lang_names = lambda opts: [_plain("speaks", CITY_LANGUAGE[o]) for o in opts]  # noqa: E731
    city = lambda c: _plain("lives", c)  # noqa: E731
    for split, fname, n in (("train", "trn", n_train), ("dev", "dev", n_dev)):
        recs = []
        for it in copa_items(_rng(seed, "siqa", split), n, 3):
            a = lang_names(it["options"])
            recs.append({"context": _fact_text("en", (it["name"], "lives", it["city"])),
                         "question": f"Which language does {it['name']} speak?",
                         "answerA": a[0], "answerB": a[1], "answerC": a[2], "correct": "ABC"[it["label"]]})
        files.jsonl(f"siqa/socialIQa_v1.4_{fname}.jsonl", recs)
    for split, fname, n in (("train", "train", n_train), ("dev", "valid", n_dev)):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label"])
        rng = _rng(seed, "cosmosqa", split, "extra")
        for i, it in enumerate(copa_items(_rng(seed, "cosmosqa", split), n, 4)):
            extra = _random_fact(rng, it["name"], rng.choice(("works", "plays")))
            ctx = _fact_text("en", extra) + " " + _fact_text("en", (it["name"], "lives", it["city"]))
            w.writerow([f"cosmos-{split}-{i}", ctx, f"Which language does {it['name']} most likely speak?",
                        *lang_names(it["options"]), it["label"]])
        files[f"cosmosqa/{fname}.csv"] = buf.getvalue()
    for split, fname, n in (("train", "train", n_train), ("dev", "val", n_dev)):
        recs = []
        for i, it in enumerate(copa_items(_rng(seed, "hellaswag", split), n, 4)):
            ctx_a = _fact_text("en", (it["name"], "lives", it["city"]))
            ctx_b = f"Every day {it['name']}"
            recs.append({"ind": i, "activity_label": "Daily life", "ctx_a": ctx_a, "ctx_b": ctx_b,
                         "ctx": f"{ctx_a} {ctx_b}",
                         "endings": [f"speaks {x} with the neighbours." for x in lang_names(it["options"])],
                         "label": it["label"], "split": split, "split_type": "indomain", "source_id": f"gen-{i}"})
        files.jsonl(f"hellaswag/hellaswag_{fname}.jsonl", recs)
    for split, n in (("train", n_train), ("dev", n_dev)):
        recs = []
        for i, it in enumerate(copa_items(_rng(seed, "commonsenseqa", split), n, 5)):
            recs.append({"id": f"csqa-{split}-{i}", "question": f"Which language do most people in {city(it['city'])} speak?",
                         "question_concept": "language", "choices": {"label": list("ABCDE"),
                                                                     "text": lang_names(it["options"])},
                         "answerKey": "ABCDE"[it["label"]]})
        files.jsonl(f"commonsenseqa/{split}_rand_split.jsonl", recs)


def _tag_rows(item: tuple, lang: str, kind: str) -> list[tuple[str, str]]:
    q, name, rel, v = item
    toks = question_tokens(lang, name, rel) if q == "q" else fact_tokens(lang, name, rel, v)
    if kind == "udpos":
        tags = [t[1] for t in toks]
    elif kind == "panx":
        tags = bio_tags(toks)
    else:
        tags = ccg_tags(toks, rel)
    return [(t[0], tag) for t, tag in zip(toks, tags)]


def _write_tagging_file(files: _Files, rel_path: str, items: list[tuple], lang: str, kind: str) -> None:
    blocks = ["\n".join(f"{w}\t{t}" for w, t in _tag_rows(it, lang, kind)) for it in items]
    files[rel_path] = "\n\n".join(blocks) + "\n"


def _write_tagging(files: _Files, seed: int, n_train: int, n_dev: int, n_test: int) -> None:
    for kind, questions in (("udpos", True), ("panx", False)):
        for split, n in (("train", n_train), ("dev", n_dev)):
            _write_tagging_file(files, f"{kind}/{split}-en.tsv",
                                tagging_items(_rng(seed, kind, split), n, questions), "en", kind)
        test = tagging_items(_rng(seed, kind, "test"), n_test, questions)
        for lang in generated_languages(kind):
            _write_tagging_file(files, f"{kind}/test-{lang}.tsv", test, lang, kind)
    for split, n in (("train", n_train), ("dev", n_dev)):
        _write_tagging_file(files, f"ccg/{split}.tsv", tagging_items(_rng(seed, "ccg", split), n, False), "en", "ccg")


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


def _write_qa(files: _Files, seed: int, n_train: int, n_dev: int, n_test: int) -> None:
    files.json("squad/train-v1.1.json", _squad_json(qa_items(_rng(seed, "squad", "train"), n_train), "en", "squad-train"))
    files.json("squad/dev-v1.1.json", _squad_json(qa_items(_rng(seed, "squad", "dev"), n_dev), "en", "squad-dev"))
    files.json("tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json",
               _squad_json(qa_items(_rng(seed, "tydiqa", "train"), n_train), "en", "tydiqa-train"))
    files.json("mlqa/MLQA_V1/dev/dev-context-en-question-en.json",
               _squad_json(qa_items(_rng(seed, "mlqa", "dev"), n_dev), "en", "mlqa-dev"))
    for task in ("xquad", "mlqa", "tydiqa"):
        test = qa_items(_rng(seed, task, "test"), n_test)
        for lang in generated_languages(task):
            obj = _squad_json(test, lang, f"{task}-test")
            if task == "xquad":
                files.json(f"xquad/xquad.{lang}.json", obj)
            elif task == "mlqa":
                files.json(f"mlqa/MLQA_V1/test/test-context-{lang}-question-{lang}.json", obj)
            else:
                files.json(f"tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.{lang}.dev.json", obj)
    test = qa_items(_rng(seed, "lareqa", "test"), n_test)
    for lang in generated_languages("lareqa"):
        files.json(f"lareqa/xquad-r/{lang}.json", _squad_json(test, lang, "lareqa", breaks=True))


def _write_tatoeba(files: _Files, seed: int, n_test: int) -> None:
    facts = [(n, r, v) for n in NAME_LIST for r in REL_NAMES for v in range(_nvals(r))]
    rng = _rng(seed, "tatoeba", "test")
    chosen = rng.sample(facts, min(n_test, len(facts)))
    for lang in generated_languages("tatoeba"):
        x = TATOEBA_ISO3[lang]
        files[f"tatoeba/v1/tatoeba.{x}-eng.{x}"] = "".join(_fact_text(lang, f) + "\n" for f in chosen)
        files[f"tatoeba/v1/tatoeba.{x}-eng.eng"] = "".join(_fact_text("en", f) + "\n" for f in chosen)


def _mewslix_entities(seed: int) -> list[dict]:
    rng = _rng(seed, "mewslix", "entities")
    ents = []
    for name in NAME_LIST:
        cities = rng.sample(range(_nvals("lives")), 3)
        sports = rng.sample(range(_nvals("plays")), 3)
        for c, s in zip(cities, sports):
            eid = f"Q{len(ents) + 1}"
            desc = (f"{name} is a person who lives in {_plain('lives', c)} and plays {_plain('plays', s)}. "
                    f"{name} speaks {_plain('speaks', CITY_LANGUAGE[c])}.")
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


def _write_mewslix(files: _Files, seed: int, n_train: int, n_dev: int, n_test: int) -> None:
    ents = _mewslix_entities(seed)
    files.jsonl("mewslix/candidate_set_entities.jsonl", [{k: v for k, v in e.items() if k != "_facts"} for e in ents])
    rng = _rng(seed, "mewslix", "train")
    pairs = []
    for i in range(n_train):
        ent = rng.choice(ents)
        ctx, m = _mention(ent, "en", rng, f"train-{i}")
        pairs.append({"contextual_mention": {"context": ctx, "mention": m},
                      "entity": {k: v for k, v in ent.items() if k != "_facts"}})
    files.jsonl("mewslix/wikipedia_pairs-train.jsonl", pairs)
    for split, langs, n in (("dev", ("en",), n_dev), ("test", generated_languages("mewslix"), n_test)):
        recs = []
        picks_rng = _rng(seed, "mewslix", split)
        picks = [(picks_rng.choice(ents), picks_rng.random()) for _ in range(n)]
        for lang in langs:
            for i, (ent, r) in enumerate(picks):
                ctx, m = _mention(ent, lang, random.Random(r), f"{split}-{i}")
                recs.append({"context": ctx, "mentions": [m]})
        files.jsonl(f"mewslix/wikinews_mentions-{split}.jsonl", recs)


def _write_english_classification(files: _Files, seed: int, n_train: int, n_dev: int) -> None:
    for split, n in (("train", n_train), ("dev", n_dev)):
        rng = _rng(seed, "sst2", split)
        rows = []
        for i in range(n):
            name = rng.choice(NAME_LIST)
            positive = i % 2 == 0
            negated = rng.random() < 0.25
            pool = SST_POSITIVE if positive != negated else SST_NEGATIVE
            adj = rng.choice(pool)
            thing = rng.choice(SST_THINGS)
            sentence = f"{name} thinks the {thing} was {'not ' if negated else ''}{adj} ."
            rows.append((sentence, str(int(positive))))
        files.tsv(f"sst2/{split}.tsv", rows, ("sentence", "label"))
    for split, n in (("train", n_train), ("dev", n_dev)):
        rng = _rng(seed, "qqp", split)
        rows = []
        for i in range(n):
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
        files.tsv(f"qqp/{split}.tsv", rows, ("id", "qid1", "qid2", "question1", "question2", "is_duplicate"))


def generate_files(seed: int = 13, n_train: int = 256, n_dev: int = 64, n_test: int = 64) -> dict[str, str]:
    """Every file of the benchmark as ``{relative path: text}`` (pure, deterministic)."""
    for what, value in (("n_train", n_train), ("n_dev", n_dev), ("n_test", n_test)):
        check_positive(what, value, integer=True)
    files = _Files()
    _write_nli(files, seed, n_train, n_dev, n_test)
    _write_multiple_choice(files, seed, n_train, n_dev, n_test)
    _write_tagging(files, seed, n_train, n_dev, n_test)
    _write_qa(files, seed, n_train, n_dev, n_test)
    _write_tatoeba(files, seed, n_test)
    _write_mewslix(files, seed, n_train, n_dev, n_test)
    _write_english_classification(files, seed, n_train, n_dev)
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
    for name in ("generate.py", "lexicon.py"):
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
        from .runs import file_lock

        with file_lock(path):  # two jobs using the cache for the first time generate it once
            if not _generated(path):
                generate_benchmark(path, seed, n_train, n_dev, n_test)
    return path


def _generated(path: Path) -> bool:
    return is_owned(path) and (path / "README.md").is_file()
