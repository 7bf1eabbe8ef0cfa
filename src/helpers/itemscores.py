"""Per-item statistics of a zero-shot score: what the paired bootstrap resamples.

A task's score in one language is a function of additive per-item statistics
(one dict per test item, in test order), computed from the same predictions
and references that :func:`helpers.metrics.score` takes:

* classification and multiple choice: ``{"correct": 0|1}``; accuracy is
  ``100 * sum(correct) / n``.
* tagging, per sentence: ``{"tp", "n_pred", "n_gold"}`` from seqeval's entity
  matching and ``{"tok_correct", "tok_total"}`` over its tags. The entities are
  extracted exactly as :func:`helpers.metrics.seqeval_scores` does (all
  sentences at once, each followed by ``"O"``), and each entity is counted in
  the sentence it starts in, so ``F1 = 200 * sum(tp) / (sum(n_pred) +
  sum(n_gold))`` over any set of sentences is seqeval's micro F1 of that set
  (the whole set: exactly). Token accuracy is ``100 * sum(tok_correct) /
  sum(tok_total)``.
* span QA, per question: ``{"f1", "em"}`` on 0-1, each the maximum over the
  gold answers, with :func:`helpers.metrics.qa_scores`' normalisation (MLQA's
  by language for tasks whose metric is language-aware); F1 is ``100 *
  sum(f1) / n``.
* retrieval, per query of the primary direction: Tatoeba ``{"hit": 0.0|1.0}``,
  mAP@20 tasks ``{"ap": AP@20 on 0-100}``. :func:`helpers.retrieval.evaluate_retrieval`
  fills them (``items=``); :func:`item_stats` gives the same from rankings.

Every score is then ``scale * sum(numerator) / sum(denominator)`` of linear
combinations of these statistics (:func:`ratio_terms`); :func:`score_from_items`
evaluates it and reproduces :func:`helpers.metrics.score`'s primary metric, and
:mod:`helpers.stats` resamples items with the same terms.

Degenerate predictors: :func:`top_class_share` is the share (0-100) of the
most frequent predicted class (classification, multiple choice) or tag
(tagging); a share of :data:`DEGENERATE_SHARE` or more (one class nearly
everywhere) is flagged by :func:`is_degenerate`.
"""

from __future__ import annotations

import bisect
from collections import Counter
from typing import Iterable, Mapping, Sequence

import numpy as np

from . import metrics
from .errors import StudyError
from .tasks import get_task

CLASS_FORMATS = ("pair-classification", "single-classification", "multiple-choice")
#: The statistics of each format, in the columns of ``results/zero_shot_items.csv``.
FORMAT_STATS = {
    "pair-classification": ("correct",),
    "single-classification": ("correct",),
    "multiple-choice": ("correct",),
    "tagging": ("tp", "n_pred", "n_gold", "tok_correct", "tok_total"),
    "span-qa": ("f1", "em"),
}
#: Every statistic column, in table order.
STAT_COLUMNS = ("correct", "tp", "n_pred", "n_gold", "tok_correct", "tok_total", "f1", "em", "hit", "ap")
#: share (0-100) of the most frequent predicted class or tag from which a predictor is degenerate
DEGENERATE_SHARE = 95.0


def item_columns(task: str) -> tuple[str, ...]:
    """The statistic columns of ``task``'s items (retrieval: ``hit`` for Tatoeba, ``ap`` for mAP tasks)."""
    spec = get_task(task)
    if spec.format == "retrieval":
        return ("hit",) if spec.metric == "accuracy" else ("ap",)
    return FORMAT_STATS[spec.format]


# --------------------------------------------------------------------------- per-item statistics
def item_stats(task: str, predictions, references, lang: str | None = None) -> list[dict]:
    """One dict of additive statistics per test item of ``task`` (see the module docstring).

    ``predictions`` and ``references`` are what :func:`helpers.metrics.score`
    takes (retrieval: rankings and gold candidate sets, scored per ranking).
    """
    spec = get_task(task)
    fmt = spec.format
    predictions, references = list(predictions), list(references)
    if len(predictions) != len(references):
        raise StudyError(f"{len(predictions)} predictions for {len(references)} references")
    if not references:
        raise StudyError("cannot score an empty set of predictions")
    if fmt in CLASS_FORMATS:
        return [{"correct": int(p == r)} for p, r in zip(predictions, references)]
    if fmt == "tagging":
        return _tagging_items(predictions, references)
    if fmt == "span-qa":
        qa_lang = lang if spec.language_aware_metric else None
        return [_qa_item(str(p), r, qa_lang) for p, r in zip(predictions, references)]
    if fmt == "retrieval":
        if spec.metric == "accuracy":
            golds = [set(int(g) for g in gs) for gs in references]
            tops = [p if isinstance(p, (int, np.integer)) else (list(p)[0] if len(p) else -1) for p in predictions]
            return [{"hit": float(int(t) in g)} for t, g in zip(tops, golds)]
        return [{"ap": 100.0 * metrics.average_precision_at_k(r, g, metrics.MAP_K)}
                for r, g in zip(predictions, references)]
    raise StudyError(f"no item statistics for format {fmt!r}; formats: {', '.join([*FORMAT_STATS, 'retrieval'])}")


def _tagging_items(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> list[dict]:
    preds, refs, true, pred = metrics.seqeval_entities(predictions, references)
    # seqeval joins the sentences, each followed by one "O": sentence i starts at starts[i]
    starts, offset = [], 0
    for r in refs:
        starts.append(offset)
        offset += len(r) + 1
    items = [{"tp": 0, "n_pred": 0, "n_gold": 0,
              "tok_correct": sum(int(a == b) for a, b in zip(p, r)), "tok_total": len(r)}
             for p, r in zip(preds, refs)]

    def owner(entity) -> int:
        return bisect.bisect_right(starts, entity[1]) - 1

    for entity in pred:
        items[owner(entity)]["n_pred"] += 1
    for entity in true:
        items[owner(entity)]["n_gold"] += 1
        if entity in pred:
            items[owner(entity)]["tp"] += 1
    return items


def _qa_item(prediction: str, reference, lang: str | None) -> dict:
    golds = metrics._gold_texts(reference)
    if not golds:
        raise StudyError("a reference has no gold answer: unlabelled data cannot be scored")
    if lang is None:
        return {"f1": max(metrics.squad_f1(prediction, g) for g in golds),
                "em": max(metrics.squad_em(prediction, g) for g in golds)}
    return {"f1": max(metrics.mlqa_f1(prediction, g, lang) for g in golds),
            "em": max(metrics.mlqa_em(prediction, g, lang) for g in golds)}


# --------------------------------------------------------------------------- scores from items
def ratio_terms(task: str, metric: str | None = None) -> tuple[float, dict[str, float], dict[str, float] | None]:
    """``(scale, numerator, denominator)`` with ``score = scale * sum(num) / sum(den)`` over items.

    ``numerator``/``denominator`` map statistic columns to coefficients; a
    denominator of ``None`` counts items. ``metric`` defaults to the task's
    primary metric; a metric that items cannot give is one StudyError line.
    """
    spec = get_task(task)
    fmt = spec.format
    metric = metric or spec.metric
    table: dict[str, tuple[float, dict, dict | None]]
    if fmt in CLASS_FORMATS:
        table = {"accuracy": (100.0, {"correct": 1.0}, None)}
    elif fmt == "tagging":
        table = {"f1": (200.0, {"tp": 1.0}, {"n_pred": 1.0, "n_gold": 1.0}),
                 "precision": (100.0, {"tp": 1.0}, {"n_pred": 1.0}),
                 "recall": (100.0, {"tp": 1.0}, {"n_gold": 1.0}),
                 "accuracy": (100.0, {"tok_correct": 1.0}, {"tok_total": 1.0})}
    elif fmt == "span-qa":
        table = {"f1": (100.0, {"f1": 1.0}, None), "exact_match": (100.0, {"em": 1.0}, None),
                 "em_f1": (50.0, {"f1": 1.0, "em": 1.0}, None)}
    elif fmt == "retrieval":
        table = {"accuracy": (100.0, {"hit": 1.0}, None)} if spec.metric == "accuracy" else \
            {"map@20": (1.0, {"ap": 1.0}, None)}
    else:
        raise StudyError(f"no item statistics for format {fmt!r}")
    if metric not in table:
        raise StudyError(f"metric {metric!r} cannot be computed from {task} items; valid metrics: {', '.join(table)}")
    return table[metric]


def stat_matrix(task: str, items: Iterable[Mapping], columns: Sequence[str]) -> np.ndarray:
    """``[n_items, len(columns)]`` float array of the items' statistics (one StudyError line if one lacks a value)."""
    rows = []
    for n, item in enumerate(items):
        row = []
        for c in columns:
            value = item.get(c)
            if value is None or value == "" or (isinstance(value, float) and value != value):
                raise StudyError(f"{task} item {n} has no {c!r} statistic; {task} items carry "
                                 f"{', '.join(item_columns(task))}")
            row.append(float(value))
        rows.append(row)
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(columns))


def score_from_items(task: str, items: Iterable[Mapping], metric: str | None = None) -> float:
    """``task``'s score (default: its primary metric, 0-100) from its items' statistics.

    Reproduces :func:`helpers.metrics.score`'s value for the same predictions
    (sums are taken in item order, as the metrics take them).
    """
    items = list(items)
    if not items:
        raise StudyError(f"no {task} items to score")
    scale, num, den = ratio_terms(task, metric)
    cols = list(dict.fromkeys([*num, *(den or {})]))
    stats = stat_matrix(task, items, cols)
    sums = {c: _ordered_sum(stats[:, cols.index(c)]) for c in cols}
    if get_task(task).format == "tagging" and (metric or get_task(task).metric) == "f1":
        return _seqeval_f1(sums["tp"], sums["n_pred"], sums["n_gold"])
    numerator = sum(num[c] * sums[c] for c in num)
    denominator = float(len(items)) if den is None else sum(den[c] * sums[c] for c in den)
    if denominator == 0:
        return 0.0
    return scale * numerator / denominator


def _seqeval_f1(tp: float, n_pred: float, n_gold: float) -> float:
    """seqeval's micro F1 (x100) from summed counts, in :func:`helpers.metrics.seqeval_scores`' arithmetic."""
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    return 100.0 * (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def _ordered_sum(values: np.ndarray) -> float:
    """A left-to-right sum (the metrics' order; numpy's pairwise sum may differ in the last bit)."""
    total = 0.0
    for v in values.tolist():
        total += v
    return total


# --------------------------------------------------------------------------- degenerate predictors
def top_class_share(task: str, predictions) -> float | None:
    """Share (0-100) of the most frequent predicted class or tag; ``None`` for span QA and retrieval."""
    fmt = get_task(task).format
    if fmt in CLASS_FORMATS:
        flat = [int(p) for p in predictions]
    elif fmt == "tagging":
        flat = [t for sentence in predictions for t in sentence]
    else:
        return None
    if not flat:
        raise StudyError(f"no {task} predictions: nothing to count")
    return 100.0 * Counter(flat).most_common(1)[0][1] / len(flat)


def is_degenerate(share: float | None, threshold: float = DEGENERATE_SHARE) -> bool:
    """Whether a predictor is degenerate: one class or tag in ``threshold`` % or more of its predictions."""
    return share is not None and float(share) >= threshold
