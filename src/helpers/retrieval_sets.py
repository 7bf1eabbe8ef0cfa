"""Retrieval data: Tatoeba, LAReQA (XQuAD-R) and Mewsli-X files -> :class:`RetrievalSet`.

:data:`RETRIEVAL_LOADERS` maps each retrieval reader of the registry
(:attr:`helpers.tasks.TaskSpec.reader`) to the function that builds the set of
one language from an xtreme-dir folder, using the task's declared file paths
(:meth:`helpers.tasks.TaskSpec.layout_paths`).

* Tatoeba: queries are the ``lang`` sentences, candidates the aligned English
  ones (gold: the same line); ``limit`` keeps the first pairs. Only LASER's
  aligned files are read (:func:`tatoeba_pair_path`); the set is scored in
  XTREME's direction, English lines searching the ``lang`` sentences
  (:func:`helpers.retrieval.scoring_view`).
* LAReQA: queries are the ``lang`` questions; candidates every sentence of
  every available language's paragraphs (language-agnostic retrieval); gold:
  the answer sentences of the same question in all languages.
* Mewsli-X: queries are the ``lang`` mentions in context, candidates the
  English entity descriptions of the candidate set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import StudyError, invalid_choice
from .readers import _bad, _offset, _open_text, _paragraphs, iter_jsonl, read_json
from .tasks import TATOEBA_ISO3, TaskSpec

# E5-style prefixes (the embedded profile's encoder); evaluation may ignore them for XLM-R.
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


@dataclass(frozen=True)
class RetrievalSet:
    """Queries, a candidate pool and, per query, the set of gold candidate indices."""

    queries: list[str]
    candidates: list[str]
    gold: list[frozenset[int]]
    query_prefix: str = ""
    candidate_prefix: str = ""
    query_ids: list[str] = field(default_factory=list)
    candidate_ids: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.queries)


def resolve(root: Path, rels: list[str]) -> Path:
    """The first of ``rels`` that exists under ``root``; else one error naming the first (and the others)."""
    for rel in rels:
        if (root / rel).is_file():
            return root / rel
    raise StudyError(f"data file {root / rels[0]} does not exist" +
                     (f" (also looked for {', '.join(rels[1:])})" if len(rels) > 1 else ""))


def read_tatoeba(x_path: Path, eng_path: Path) -> list[tuple[str, str]]:
    """Aligned Tatoeba pairs: line i of ``.xxx`` with line i of ``.eng``."""
    with _open_text(x_path) as fx:
        xs = fx.read().split("\n")
    with _open_text(eng_path) as fe:
        es = fe.read().split("\n")
    if xs and xs[-1] == "":
        xs.pop()
    if es and es[-1] == "":
        es.pop()
    if len(xs) != len(es):
        line = min(len(xs), len(es)) + 1
        raise _bad(x_path, line, f"{len(xs)} lines but {eng_path.name} has {len(es)}: not aligned")
    for i, (a, b) in enumerate(zip(xs, es), start=1):
        if not a.strip():
            raise _bad(x_path, i, "empty sentence")
        if not b.strip():
            raise _bad(eng_path, i, "empty sentence")
    return [(a.rstrip("\r"), b.rstrip("\r")) for a, b in zip(xs, es)]


def read_lareqa(paths: dict[str, Path]) -> list[dict]:
    """XQuAD-R files (SQuAD JSON + ``sentences``/``sentence_breaks``) -> question records.

    Each record: ``{"lang", "qid", "question", "sentences": [...], "answer_sentence": i,
    "paragraph": key}``.
    """
    out = []
    for lang, path in paths.items():
        data = read_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise _bad(path, 1, 'expected {"data": [...]} (XQuAD-R JSON)')
        n_par = 0
        for a, article in enumerate(data["data"]):
            for p, para in enumerate(_paragraphs(article, path, a)):
                n_par += 1
                try:
                    context = para["context"]
                    breaks = para["sentence_breaks"]
                    sentences = [context[s:e] for s, e in breaks]
                    for qa in para["qas"]:
                        start = _offset(qa["answers"][0]["answer_start"])
                        idx = next((i for i, (s, e) in enumerate(breaks) if s <= start < e), None)
                        if idx is None:
                            continue  # as XTREME: answer not inside one sentence -> skipped
                        out.append({"lang": lang, "qid": str(qa["id"]), "question": qa["question"],
                                    "sentences": sentences, "answer_sentence": idx,
                                    "paragraph": f"{lang}_{n_par}"})
                except (KeyError, TypeError, ValueError, IndexError) as exc:
                    raise StudyError(f"malformed data file {path}, article {a} paragraph {p}: {exc}") from None
    return out


def mewslix_query(record: dict) -> str:
    """XTREME-R's baseline mention string: ``mention: left { mention } right`` over its sentence."""
    ctx = record["context"]
    text = ctx["text"]
    span = record["mention"]["mention_span"]
    start, end = int(span["start"]), int(span["end"])
    s0, s1 = 0, len(text)
    for sp in ctx.get("sentence_spans", []):
        if sp["start"] <= start < sp["end"] and end <= sp["end"]:
            s0, s1 = sp["start"], sp["end"]
            break
    mention = span["text"]
    left, right = text[s0:start], text[end:s1]
    query = f"{mention}: {left} {{ {mention} }} {right}"
    return " ".join(" ".join(query.splitlines()).split())


def mewslix_entity_text(entity: dict) -> str:
    desc = entity["description"]
    spans = entity.get("sentence_spans") or [{"start": 0, "end": len(desc)}]
    text = " ".join(desc[s["start"]:s["end"]] for s in spans)
    return " ".join(" ".join(text.splitlines()).split())



_SENT_END = re.compile(r"(?<=[.!?。！？؟।])\s+")


def _sentence_at(context: str, offset: int) -> str:
    pos = 0
    for sent in _SENT_END.split(context):
        start = context.find(sent, pos)
        if start <= offset < start + len(sent):
            return sent
        pos = start + len(sent)
    return context



def lareqa_set(records: list[dict], lang: str, limit: int | None = None) -> RetrievalSet:
    """Build LAReQA's language-agnostic retrieval set from XQuAD-R question records."""
    queries = [r for r in records if r["lang"] == lang]
    if limit:
        queries = queries[:limit]
        keep = {r["qid"] for r in queries}
        paragraphs = {r["paragraph"] for r in records if r["qid"] in keep}
    else:
        paragraphs = {r["paragraph"] for r in records}
    cand_index: dict[tuple[str, int], int] = {}
    candidates: list[str] = []
    cand_ids: list[str] = []
    by_qid: dict[str, set[int]] = {}
    for r in records:
        if r["paragraph"] not in paragraphs:
            continue
        for i, sent in enumerate(r["sentences"]):
            key = (r["paragraph"], i)
            if key not in cand_index:
                cand_index[key] = len(candidates)
                candidates.append(sent)
                cand_ids.append(f"{r['paragraph']}_{i}")
        by_qid.setdefault(r["qid"], set()).add(cand_index[(r["paragraph"], r["answer_sentence"])])
    gold = [frozenset(by_qid[r["qid"]]) for r in queries]
    return RetrievalSet([r["question"] for r in queries], candidates, gold, QUERY_PREFIX, PASSAGE_PREFIX,
                        [r["qid"] for r in queries], cand_ids)


# --------------------------------------------------------------------------- xtreme-dir loaders
def _tatoeba(root: Path, spec: TaskSpec, lang: str, split: str, limit: int | None) -> RetrievalSet:
    if lang not in TATOEBA_ISO3:
        raise invalid_choice(f"language for {spec.name}", lang, sorted(TATOEBA_ISO3))
    x = TATOEBA_ISO3[lang]
    x_path = tatoeba_pair_path(root, spec, lang)
    pairs = read_tatoeba(x_path, x_path.with_suffix(".eng"))
    pairs = pairs[:limit] if limit else pairs
    return RetrievalSet([a for a, _ in pairs], [b for _, b in pairs], [frozenset([i]) for i in range(len(pairs))],
                        QUERY_PREFIX, QUERY_PREFIX, [f"{x}-{i}" for i in range(len(pairs))],
                        [f"eng-{i}" for i in range(len(pairs))])


def tatoeba_pair_path(root: Path, spec: TaskSpec, lang: str) -> Path:
    """The non-English file of LASER's aligned Tatoeba pair of ``lang`` (its ``.eng`` file beside it).

    Only LASER's layout is read: ``tatoeba[/v1]/tatoeba.<iso3>-eng.<iso3>`` and
    ``tatoeba.<iso3>-eng.eng``, aligned line by line. XTREME's own download
    (``tatoeba/<l2>-en.<l2>`` and ``<l2>-en.en``) cannot be scored: its English
    side is sorted and the alignment (the labels) is withheld. Anything else is
    one line saying which layout is read and why XTREME's is not (it says "does
    not exist", as :func:`helpers.sources.dataset_sizes` expects of a missing file).
    """
    paths = spec.layout_paths("test", lang)
    for rel in paths:
        if (root / rel).is_file() and (root / rel).with_suffix(".eng").is_file():
            return root / rel
    iso3 = TATOEBA_ISO3.get(lang, lang)
    xtreme = [root / "tatoeba" / f"{lang}-en.{lang}", root / "tatoeba" / f"{lang}-en.en"]
    present = [p.name for p in xtreme if p.is_file()]
    found = (f"; found XTREME's download layout ({', '.join(present)}), which cannot be scored" if present
             else "; XTREME's download layout (tatoeba/<l2>-en.<l2>, <l2>-en.en) is not read")
    raise StudyError(
        f"data file {root / paths[0]} does not exist with tatoeba.{iso3}-eng.eng beside it (also looked for "
        f"{', '.join(paths[1:]) or 'nothing else'}): the Tatoeba layout read is LASER's aligned "
        f"tatoeba.<iso3>-eng.{{<iso3>,eng}}{found}: its English side is sorted and the alignment (the labels) "
        "withheld, so nothing pairs a sentence with its translation")


def _lareqa(root: Path, spec: TaskSpec, lang: str, split: str, limit: int | None) -> RetrievalSet:
    paths = {}
    for code in spec.languages:
        for rel in spec.layout_paths("test", code):
            if (root / rel).is_file():
                paths[code] = root / rel
                break
    if lang not in paths:
        raise StudyError(f"data file {root / spec.layout_paths('test', lang)[0]} does not exist")
    return lareqa_set(read_lareqa(paths), lang, limit)


def _mewslix(root: Path, spec: TaskSpec, lang: str, split: str, limit: int | None) -> RetrievalSet:
    ents = resolve(root, list(spec.files["entities"]))
    ments = resolve(root, spec.layout_paths(split, lang))
    entities = []
    index = {}
    for no, rec in iter_jsonl(ents):
        try:
            index[rec["entity_id"]] = len(entities)
            entities.append(mewslix_entity_text(rec))
        except (KeyError, TypeError) as exc:
            raise _bad(ents, no, f"{type(exc).__name__}: {exc}") from None
    queries, gold, qids = [], [], []
    for no, rec in iter_jsonl(ments):
        try:
            if rec["context"]["language"] != lang:
                continue
            for m in rec["mentions"]:
                single = {"context": rec["context"], "mention": m}
                if m["entity_id"] not in index:
                    raise KeyError(f"entity {m['entity_id']} not in the candidate set")
                queries.append(mewslix_query(single))
                gold.append(frozenset([index[m["entity_id"]]]))
                qids.append(m["example_id"])
        except (KeyError, TypeError) as exc:
            raise _bad(ments, no, f"{type(exc).__name__}: {exc}") from None
        if limit and len(queries) >= limit:
            break
    if not queries:
        raise StudyError(f"data file {ments} has no mentions in language {lang!r}")
    if limit:
        queries, gold, qids = queries[:limit], gold[:limit], qids[:limit]
    return RetrievalSet(queries, entities, gold, QUERY_PREFIX, PASSAGE_PREFIX, qids, list(index))


def mewslix_train_pairs(root: Path, spec: TaskSpec) -> list[dict]:
    """Mewsli-X's English training pairs ``{"id", "query", "candidate"}`` (mention -> entity description)."""
    path = resolve(root, spec.layout_paths("train", "en"))
    out = []
    for no, rec in iter_jsonl(path):
        try:
            cm = rec["contextual_mention"]
            out.append({"id": cm["mention"]["example_id"], "query": mewslix_query(cm),
                        "candidate": mewslix_entity_text(rec["entity"])})
        except (KeyError, TypeError) as exc:
            raise _bad(path, no, f"{type(exc).__name__}: {exc}") from None
    return out


#: ``TaskSpec.reader`` -> the builder of one language's retrieval set from an xtreme-dir root.
RETRIEVAL_LOADERS: dict[str, Callable[[Path, TaskSpec, str, str, int | None], RetrievalSet]] = {
    "tatoeba-pairs": _tatoeba,
    "xquad-r": _lareqa,
    "mewslix-jsonl": _mewslix,
}
