"""Zero-shot retrieval (Tatoeba, LAReQA, Mewsli-X): the arm's encoder, mean-pooled at a middle layer.

``embed`` mean-pools ``hidden_states[layer]`` over the real tokens (attention
mask) and L2-normalises. In transformers' convention ``hidden_states[0]`` is
the embedding output (before any transformer layer) and ``hidden_states[i]``
the output of layer ``i``, so ``layer`` runs from 0 to ``num_hidden_layers``.
Candidates are ranked by cosine similarity (ties: lower index first). Tatoeba
is scored by accuracy (the top-1 candidate is the gold translation), LAReQA
and Mewsli-X by mAP@20.
:func:`helpers.evaluation.evaluate_zero_shot` calls :func:`evaluate_retrieval`
for every language of a retrieval task.

**Tatoeba's direction.** XTREME's ``evaluate_retrieval.py`` calls
``similarity_search(x, y)`` with ``x`` the non-English sentences and ``y`` the
English ones, and ``utils_retrieve.similarity_search`` builds the index over
``x`` and searches it with ``y``: one prediction per *English* line, the
non-English sentence nearest to it. A :class:`helpers.retrieval_sets.RetrievalSet`
of Tatoeba holds the non-English sentences as ``queries`` and the English ones
as ``candidates``; :func:`bitext_predictions` and :func:`scoring_view` turn it
round, so ``accuracy`` (the registry's primary metric) is XTREME's direction
(English -> non-English) and ``accuracy_x2en`` the other direction, reported
beside it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from . import metrics
from .batching import pad_features, run_batches
from .errors import StudyError, check_choice, check_positive
from .tasks import get_task

RETRIEVAL_K = 20  # mAP@20, and the depth of the ranking kept
#: The secondary Tatoeba metric: accuracy of the non-English -> English direction (the primary is XTREME's).
X2EN_METRIC = "accuracy_x2en"
#: Directions of a bitext (Tatoeba) set: ``en2x`` (XTREME: English lines search the non-English index), ``x2en``.
BITEXT_DIRECTIONS = ("en2x", "x2en")


def embed(
    model,
    tokenizer,
    texts: Sequence[str],
    *,
    layer: int,
    max_length: int,
    batch_size: int = 64,
    prefix: str = "",
    cache: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """L2-normalised mean-pooled ``hidden_states[layer]`` of ``texts`` (float32, ``[n, hidden]``).

    ``hidden_states[0]`` is the embedding output, ``hidden_states[i]`` the
    output of transformer layer ``i`` (1..``num_hidden_layers``). The whole
    encoder runs: cutting ``encoder.layer`` for an early exit is unsafe in
    transformers 5, whose hidden-state hooks are installed on the first call
    and then index the wrong layers on later full calls. Pooling
    averages over real tokens (attention mask), special tokens included, as
    XTREME's mean-pooling does. ``prefix`` is prepended to every text (e5's
    ``"query: "``). A model with a task head is pooled through its encoder.
    ``cache`` (prefixed text -> vector) skips texts embedded before by the same model, layer and
    length: LAReQA's and Mewsli-X's candidate pools are the same for every query language.
    """
    check_positive("max_length", max_length, integer=True)
    check_positive("batch_size", batch_size, integer=True)
    base = getattr(model, "base_model", model)
    n_layers = int(getattr(base.config, "num_hidden_layers", 0))
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer <= n_layers:
        raise StudyError(f"layer must be an integer from 0 (embeddings) to {n_layers} (the last layer), got {layer!r}")
    texts = [prefix + str(t) for t in texts]
    hidden = int(base.config.hidden_size)
    if not texts:
        return np.zeros((0, hidden), dtype=np.float32)
    if cache is not None:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, embed(model, tokenizer, missing, layer=layer, max_length=max_length,
                                            batch_size=batch_size)))
        return np.stack([cache[t] for t in texts])
    enc = tokenizer(texts, truncation=True, max_length=max_length)
    features = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i]} for i in range(len(texts))]

    def step(_model, inputs):
        out = base(**inputs, output_hidden_states=True)
        states = out.hidden_states[layer].float()
        mask = inputs["attention_mask"].unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return list(pooled.cpu().numpy())

    rows = run_batches(base, features, pad_features(tokenizer), batch_size, step)
    return _normalise(np.stack(rows).astype(np.float32))


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def retrieve(query_emb: np.ndarray, cand_emb: np.ndarray, k: int = RETRIEVAL_K) -> np.ndarray:
    """Candidate indices ranked by cosine similarity, ``[n_queries, min(k, n_candidates)]``.

    Rows are (re-)normalised, so any vectors work; equal scores keep the
    lower candidate index first.
    """
    check_positive("k", k, integer=True)
    q = _normalise(np.asarray(query_emb, dtype=np.float64))
    c = _normalise(np.asarray(cand_emb, dtype=np.float64))
    if q.ndim != 2 or c.ndim != 2 or q.shape[1] != c.shape[1]:
        raise StudyError(f"query and candidate embeddings must be 2-D with equal widths, got {q.shape} and {c.shape}")
    scores = q @ c.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def is_bitext(task: str) -> bool:
    """Whether ``task`` is a bitext retrieval task scored by accuracy (Tatoeba), not by mAP@20."""
    spec = get_task(task)
    return spec.format == "retrieval" and spec.metric == "accuracy"


def bitext_predictions(similarity: np.ndarray, direction: str = "en2x") -> np.ndarray:
    """The top-1 prediction per query of a bitext similarity matrix (ties: lower index first).

    ``similarity[i, j]`` is the similarity of non-English sentence ``i`` and
    English sentence ``j``. ``en2x`` is XTREME's direction (``similarity_search``:
    the index holds the non-English sentences, each English line is a query):
    one non-English index per English line (column). ``x2en`` gives one English
    index per non-English sentence (row).
    """
    check_choice("direction", direction, BITEXT_DIRECTIONS)
    sim = np.asarray(similarity, dtype=np.float64)
    if sim.ndim != 2:
        raise StudyError(f"a similarity matrix must be 2-D (non-English x English), got shape {sim.shape}")
    if direction == "en2x":
        sim = sim.T
    return np.argmax(sim, axis=1)  # argmax returns the first maximum: lower index on ties


def invert_gold(gold: Sequence[frozenset[int]], n_candidates: int) -> list[frozenset[int]]:
    """Gold sets seen from the candidate side: for each candidate, the queries whose gold it is."""
    out: list[set[int]] = [set() for _ in range(n_candidates)]
    for q, gs in enumerate(gold):
        for c in gs:
            if not 0 <= int(c) < n_candidates:
                raise StudyError(f"query {q}: gold candidate {c} is outside the {n_candidates} candidates")
            out[int(c)].add(q)
    return [frozenset(g) for g in out]


def scoring_view(task: str, rset):
    """``rset`` as its primary metric scores it: Tatoeba turned round (English lines as queries), else itself.

    For a bitext task the returned set's queries are the English sentences,
    its candidates the non-English ones and its gold the inverted gold
    (:func:`invert_gold`), as XTREME's ``similarity_search`` scores Tatoeba.
    Baselines that rank a :class:`RetrievalSet` can use it to score in the
    same direction as the encoder.
    """
    if not is_bitext(task):
        return rset
    return replace(rset, queries=list(rset.candidates), candidates=list(rset.queries),
                   gold=invert_gold(rset.gold, len(rset.candidates)), query_prefix=rset.candidate_prefix,
                   candidate_prefix=rset.query_prefix, query_ids=list(rset.candidate_ids),
                   candidate_ids=list(rset.query_ids))


def evaluate_retrieval(
    model,
    tokenizer,
    rset,
    *,
    layer: int,
    max_length: int,
    task: str,
    lang: str | None = None,
    batch_size: int = 64,
    cache: dict[str, np.ndarray] | None = None,
    items: list | None = None,
) -> dict[str, float]:
    """Score retrieval of ``rset`` (a :class:`helpers.sources.RetrievalSet`) by the encoder.

    Queries and candidates are embedded with their prefixes at ``layer``,
    candidates ranked by cosine (top :data:`RETRIEVAL_K`), and the ranking is
    scored by :func:`helpers.metrics.score` (Tatoeba accuracy, mAP@20 for
    LAReQA and Mewsli-X). ``cache`` is passed on to :func:`embed`.

    Tatoeba is scored in XTREME's direction (module docstring): ``accuracy``
    is the share of English lines whose nearest non-English sentence is their
    translation; ``accuracy_x2en`` (:data:`X2EN_METRIC`) the other direction.
    ``items``, when a list, receives one dict per scored query of the primary
    direction, in query order: Tatoeba ``{"item": <English line index>, "hit":
    0.0 or 1.0}``, mAP tasks ``{"item": <query index>, "ap": <AP@20 on 0-100>}``.
    """
    if len(rset.gold) != len(rset.queries):
        raise StudyError(f"retrieval set has {len(rset.queries)} queries but {len(rset.gold)} gold sets")
    q = embed(model, tokenizer, rset.queries, layer=layer, max_length=max_length, batch_size=batch_size,
              prefix=rset.query_prefix, cache=cache)
    c = embed(model, tokenizer, rset.candidates, layer=layer, max_length=max_length, batch_size=batch_size,
              prefix=rset.candidate_prefix, cache=cache)
    gold = [sorted(int(g) for g in gs) for gs in rset.gold]
    if is_bitext(task):
        view = scoring_view(task, rset)
        sim = _normalise(q.astype(np.float64)) @ _normalise(c.astype(np.float64)).T  # non-English x English
        primary = [int(p) for p in bitext_predictions(sim, "en2x")]
        secondary = [int(p) for p in bitext_predictions(sim, "x2en")]
        out = dict(metrics.score(task, primary, [sorted(g) for g in view.gold], lang))
        out[X2EN_METRIC] = metrics.score(task, secondary, gold, lang)["accuracy"]
        if items is not None:
            items.extend({"item": i, "hit": float(p in view.gold[i])} for i, p in enumerate(primary))
        return out
    ranked = [list(map(int, row)) for row in retrieve(q, c, k=RETRIEVAL_K)]
    if items is not None:
        items.extend({"item": i, "ap": 100.0 * metrics.average_precision_at_k(r, g, metrics.MAP_K)}
                     for i, (r, g) in enumerate(zip(ranked, gold)))
    return dict(metrics.score(task, ranked, gold, lang))
