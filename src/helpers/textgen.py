"""Text of the generated benchmark: facts realised in each language, and the abstract items.

Every sentence comes from this project's templates and lexicons
(:mod:`helpers.lexicon`): people who live in a city, work for an organisation,
speak a language and play a game. :func:`fact_tokens` and
:func:`question_tokens` realise a fact or a question as tagged tokens
(word, UPOS, entity type, inside-the-answer), :func:`render` joins them into
text with offsets; the ``*_items`` functions draw the abstract examples of each
format from a seeded :class:`random.Random` (:func:`seeded_rng`), so that
:mod:`helpers.generate` can write them in every language. Deterministic.
"""

from __future__ import annotations

import random

from .lexicon import CCG_VERB, CITY_LANGUAGE, FULL_STOP, NAMES, NO_SPACE_LANGS, QUESTION_MARK, RELATIONS, name_form

GENERATOR_VERSION = 1
REL_NAMES = tuple(RELATIONS)
NAME_LIST = tuple(NAMES)

# Tok: (word, upos, entity type or None, inside the answer)
Tok = tuple


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


def plain(rel: str, v: int, lang: str = "en") -> str:
    return render(lang, _value_tokens(rel, lang, v))[0]


# --------------------------------------------------------------------------- abstract items
def seeded_rng(seed: int, *key: object) -> random.Random:
    return random.Random("|".join(str(k) for k in (seed, GENERATOR_VERSION) + key))


def nvals(rel: str) -> int:
    return len(RELATIONS[rel]["values"]["en"])


def random_fact(rng: random.Random, name: str | None = None, rel: str | None = None) -> tuple[str, str, int]:
    name = name or rng.choice(NAME_LIST)
    rel = rel or rng.choice(REL_NAMES)
    return name, rel, rng.randrange(nvals(rel))


def nli_items(rng: random.Random, n: int) -> list[dict]:
    items = []
    for i in range(n):
        name = rng.choice(NAME_LIST)
        r1, r2, r3 = rng.sample(REL_NAMES, 3)
        premise = [(name, r1, rng.randrange(nvals(r1))), (name, r2, rng.randrange(nvals(r2)))]
        label = i % 3 if n >= 3 else rng.randrange(3)
        target = rng.choice(premise)
        if label == 0:  # entailment
            hyp = target
        elif label == 2:  # contradiction: same person and relation, another value
            hyp = (name, target[1], rng.choice([v for v in range(nvals(target[1])) if v != target[2]]))
        elif rng.random() < 0.5:  # neutral: a relation the premise does not mention
            hyp = (name, r3, rng.randrange(nvals(r3)))
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
        facts = [(p, r, rng.randrange(nvals(r))) for p in (p1, p2) for r in rng.sample(REL_NAMES, 2)]
        rng.shuffle(facts)
        items.append({"facts": facts, "ask": rng.randrange(len(facts))})
    return items


def tagging_items(rng: random.Random, n: int, questions: bool) -> list[tuple]:
    out = []
    for _ in range(n):
        name, rel, v = random_fact(rng)
        out.append(("q", name, rel, v) if questions and rng.random() < 0.25 else ("f", name, rel, v))
    return out


def fact_text(lang: str, fact: tuple) -> str:
    """The rendered sentence of ``fact`` = (name, relation, value index) in ``lang``."""
    return render(lang, fact_tokens(lang, *fact))[0]
