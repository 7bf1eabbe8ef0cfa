"""XTREME-R's official metrics, written for this study, and the training dev-set metrics.

What each task is scored with (as google-research/xtreme ``evaluate.py`` and
``third_party/`` do it):

* XNLI, XCOPA (and every classification / multiple-choice intermediate task):
  accuracy.
* UD-POS, WikiANN: seqeval F1 over the tag sequences (``seqeval.metrics.f1_score``
  in its default mode, exactly as ``evaluate.py`` calls it, also for UPOS tags).
  Every tagging task also reports token ``accuracy`` (the flattened tags, CCG's
  primary metric): seqeval 1.x reads the first character of a tag as a B/I
  prefix, so for UPOS it merges ``CCONJ`` and ``SCONJ`` (both "CONJ") and cannot
  see them swapped; token accuracy can.
* XQuAD, TyDiQA-GoldP (and SQuAD): the SQuAD v1.1 script: answers are lower-cased,
  stripped of ASCII punctuation and the articles a/an/the, whitespace-split;
  F1 over bags of tokens and exact match, each the maximum over the gold answers.
* MLQA: the MLQA v1 script with the answer language: Unicode punctuation, the
  language's own articles (es, de, vi, ar; none for hi and zh) and, for zh,
  "mixed segmentation" (each Han character and punctuation mark is a token).
* Mewsli-X, LAReQA: mean average precision at 20 (for Mewsli-X's single gold
  entity this equals XTREME-R's MRR@20).
* Tatoeba: accuracy of the nearest neighbour, in XTREME's direction (each
  English line searches the non-English sentences: :mod:`helpers.retrieval`).

Scores are on a 0-100 scale. **QA convention**: the primary QA number is F1 (the
registry's metric); exact match (``exact_match``) and XTREME-R's QA score
(``em_f1`` = (EM + F1) / 2) are reported beside it, never averaged into the
primary score.

The Trainer's dev metric (:func:`make_compute_metrics`, what selects the best
checkpoint on the English dev set) uses the same functions: SQuAD F1 through
:func:`qa_scores` and seqeval F1 through :func:`seqeval_scores`; accuracy there
is the mean of argmax hits.
"""

from __future__ import annotations

import re
import string
import sys
import unicodedata
import warnings
from collections import Counter
from typing import Iterable, Mapping, Sequence

import numpy as np

from .errors import StudyError
from .tasks import get_task

MAP_K = 20


def primary_metric(task: str) -> str:
    """The name of the task's primary metric (``accuracy``, ``f1`` or ``map@20``)."""
    return get_task(task).metric


# --------------------------------------------------------------------------- accuracy
def accuracy(predictions: Sequence, references: Sequence) -> float:
    _same_length(predictions, references)
    if not references:
        raise StudyError("cannot score an empty set of predictions")
    return 100.0 * sum(int(p == r) for p, r in zip(predictions, references)) / len(references)


def _same_length(predictions: Sequence, references: Sequence) -> None:
    if len(predictions) != len(references):
        raise StudyError(f"{len(predictions)} predictions for {len(references)} references")


# --------------------------------------------------------------------------- seqeval
def seqeval_entities(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]):
    """``(preds, refs, true, pred)``: the tag lists and seqeval's gold and predicted entity sets.

    Entities are ``(type, start, end)`` over the sentences joined as seqeval
    joins them (each sentence followed by one ``"O"``), in seqeval's default
    (micro, non-strict) mode, as XTREME's ``evaluate.py`` calls it. A
    sentence whose predicted and gold tag counts differ is one StudyError line.
    """
    _same_length(predictions, references)
    preds = [list(p) for p in predictions]
    refs = [list(r) for r in references]
    for i, (p, r) in enumerate(zip(preds, refs)):
        if len(p) != len(r):
            raise StudyError(f"sentence {i}: {len(p)} predicted tags for {len(r)} tokens")
    from seqeval.metrics.sequence_labeling import get_entities  # imports scikit-learn: 2 s, only when tagging

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns about non-BIO tags (UPOS): scored as evaluate.py does
        return preds, refs, set(get_entities(refs)), set(get_entities(preds))


def seqeval_scores(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """seqeval F1/precision/recall (x100), as XTREME's ``evaluate.f1``.

    The entity sets are extracted once (:func:`seqeval_entities`) instead of
    three times (f1/precision/recall), with identical results.
    """
    _, _, true, pred = seqeval_entities(predictions, references)
    correct = len(true & pred)
    precision = correct / len(pred) if pred else 0.0
    recall = correct / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": 100.0 * f1, "precision": 100.0 * precision, "recall": 100.0 * recall}


# --------------------------------------------------------------------------- SQuAD v1.1
def squad_normalize(text: str) -> str:
    """SQuAD v1.1 ``normalize_answer``: lower, drop punctuation, articles, extra whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _ASCII_PUNCT)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


_ASCII_PUNCT = set(string.punctuation)


def _f1_tokens(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_f1(prediction: str, gold: str) -> float:
    return _f1_tokens(squad_normalize(prediction).split(), squad_normalize(gold).split())


def squad_em(prediction: str, gold: str) -> float:
    return float(squad_normalize(prediction) == squad_normalize(gold))


# --------------------------------------------------------------------------- MLQA
_UNICODE_PUNCT = {chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")} | _ASCII_PUNCT
MLQA_WHITESPACE_LANGS = ("en", "es", "hi", "vi", "de", "ar")
MLQA_MIXED_SEGMENTATION_LANGS = ("zh",)
_MLQA_ARTICLES = {
    "en": r"\b(a|an|the)\b",
    "es": r"\b(un|una|unos|unas|el|la|los|las)\b",
    "vi": r"\b(của|là|cái|chiếc|những)\b",
    "de": r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b",
    "ar": r"\sال^|ال",
}
_HAN = re.compile(r"[\u4e00-\u9fa5]")


def _mixed_segmentation(text: str) -> list[str]:
    out: list[str] = []
    buf = ""
    for ch in text:
        if _HAN.search(ch) or ch in _UNICODE_PUNCT:
            if buf:
                out.extend(buf.split())
                buf = ""
            out.append(ch)
        else:
            buf += ch
    if buf:
        out.extend(buf.split())
    return out


def mlqa_normalize(text: str, lang: str) -> str:
    """MLQA v1 ``normalize_answer(s, lang)``."""
    if lang not in MLQA_WHITESPACE_LANGS + MLQA_MIXED_SEGMENTATION_LANGS:
        valid = ", ".join(MLQA_WHITESPACE_LANGS + MLQA_MIXED_SEGMENTATION_LANGS)
        raise StudyError(f"MLQA normalisation has no rules for language {lang!r}; valid languages: {valid}")
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _UNICODE_PUNCT)
    if lang in _MLQA_ARTICLES:
        text = re.sub(_MLQA_ARTICLES[lang], " ", text)
    tokens = text.split() if lang in MLQA_WHITESPACE_LANGS else _mixed_segmentation(text)
    return " ".join(t for t in tokens if t.strip())


def mlqa_f1(prediction: str, gold: str, lang: str) -> float:
    return _f1_tokens(mlqa_normalize(prediction, lang).split(), mlqa_normalize(gold, lang).split())


def mlqa_em(prediction: str, gold: str, lang: str) -> float:
    return float(mlqa_normalize(prediction, lang) == mlqa_normalize(gold, lang))


def _gold_texts(ref) -> list[str]:
    if isinstance(ref, Mapping):
        ref = ref.get("answers", ref)
        if isinstance(ref, Mapping):
            ref = ref.get("text", [])
    if isinstance(ref, str):
        return [ref]
    return [str(t) for t in ref]


def qa_scores(predictions: Sequence[str], references: Sequence, lang: str | None = None) -> dict[str, float]:
    """SQuAD (``lang`` None) or MLQA (``lang`` given) EM and F1, max over gold answers, x100.

    Also ``em_f1``: (EM + F1) / 2, XTREME-R's QA score (the primary stays F1).

    ``references`` items are lists of gold answer strings, or canonical span-qa
    examples (``{"answers": {"text": [...]}}``).
    """
    _same_length(predictions, references)
    if not references:
        raise StudyError("cannot score an empty set of predictions")
    f1 = em = 0.0
    for pred, ref in zip(predictions, references):
        golds = _gold_texts(ref)
        if not golds:
            raise StudyError("a reference has no gold answer: unlabelled data cannot be scored")
        if lang is None:
            f1 += max(squad_f1(pred, g) for g in golds)
            em += max(squad_em(pred, g) for g in golds)
        else:
            f1 += max(mlqa_f1(pred, g, lang) for g in golds)
            em += max(mlqa_em(pred, g, lang) for g in golds)
    n = len(references)
    exact_match, f1_score = 100.0 * em / n, 100.0 * f1 / n
    return {"exact_match": exact_match, "f1": f1_score, "em_f1": (exact_match + f1_score) / 2.0}


# --------------------------------------------------------------------------- retrieval
def average_precision_at_k(ranking: Sequence[int], gold: Iterable[int], k: int = MAP_K) -> float:
    """AP@k = (1 / min(|gold|, k)) * sum over relevant ranks r <= k of precision@r."""
    gold = set(gold)
    if not gold:
        raise StudyError("a retrieval query has no gold candidate")
    hits = 0
    total = 0.0
    seen = set()
    for rank, cand in enumerate(list(ranking)[:k], start=1):
        if cand in gold and cand not in seen:
            hits += 1
            total += hits / rank
        seen.add(cand)
    return total / min(len(gold), k)


def map_at_k(rankings: Sequence[Sequence[int]], golds: Sequence[Iterable[int]], k: int = MAP_K) -> float:
    _same_length(rankings, golds)
    if not golds:
        raise StudyError("cannot score an empty set of predictions")
    return 100.0 * sum(average_precision_at_k(r, g, k) for r, g in zip(rankings, golds)) / len(golds)


def retrieval_accuracy(predictions: Sequence, golds: Sequence[Iterable[int]]) -> float:
    """Top-1 accuracy; a prediction is a candidate index or a ranking (its first item)."""
    _same_length(predictions, golds)
    if not golds:
        raise StudyError("cannot score an empty set of predictions")
    correct = 0
    for pred, gold in zip(predictions, golds):
        top = pred if isinstance(pred, int) else (list(pred)[0] if len(pred) else -1)
        correct += int(top in set(gold))
    return 100.0 * correct / len(golds)


# --------------------------------------------------------------------------- dispatch
def score(task: str, predictions, references, lang: str) -> dict[str, float]:
    """Score one task in one language with its official metric (0-100).

    * classification / multiple choice: predictions and references are label ints
      -> ``{"accuracy"}``;
    * tagging: lists of tag lists -> ``{"f1", "precision", "recall", "accuracy"}``
      (seqeval, and token accuracy over the flattened tags: ``ccg``'s primary
      metric, reported beside F1 for UD-POS and PAN-X);
    * span QA: predicted strings vs gold answer lists (or canonical examples)
      -> ``{"exact_match", "f1", "em_f1"}`` (MLQA normalisation with ``lang`` for ``mlqa``);
    * retrieval: Tatoeba predictions are candidate indices (or rankings) vs gold
      index sets -> ``{"accuracy"}``; Mewsli-X and LAReQA predictions are rankings
      -> ``{"map@20"}``.
    """
    spec = get_task(task)
    fmt = spec.format
    if fmt in ("pair-classification", "single-classification", "multiple-choice"):
        return {"accuracy": accuracy(list(predictions), list(references))}
    if fmt == "tagging":
        out = seqeval_scores(predictions, references)  # checks the sentence and tag counts
        flat_p = [t for s in predictions for t in s]
        flat_r = [t for s in references for t in s]
        out["accuracy"] = accuracy(flat_p, flat_r)  # token accuracy (CCG's primary metric)
        return out
    if fmt == "span-qa":
        return qa_scores(list(predictions), list(references), lang if spec.language_aware_metric else None)
    if fmt == "retrieval":
        golds = [set(g) for g in references]
        if spec.metric == "accuracy":
            return {"accuracy": retrieval_accuracy(list(predictions), golds)}
        return {"map@20": map_at_k(list(predictions), golds, MAP_K)}
    raise StudyError(f"no metric for format {fmt!r}")


# --------------------------------------------------------------------------- the Trainer's dev metric
def dev_metric_name(fmt: str) -> str:
    """The dev metric that selects a checkpoint of a task of format ``fmt``: ``f1`` or ``accuracy``."""
    return "f1" if fmt in ("tagging", "span-qa") else "accuracy"


def make_compute_metrics(fmt: str, *, label_names=None, dev_examples=None, dev_features=None):
    """A ``compute_metrics`` for the Trainer: accuracy, seqeval F1 (tagging) or SQuAD F1 (QA), 0-100.

    These select the best checkpoint on the English dev set. QA answers come
    from the zero-shot evaluation's n-best search
    (:func:`helpers.evaluation.extract_answers`) and are scored with
    :func:`qa_scores`, so a checkpoint is selected by the metric it is
    reported with; tagging predictions (label ids, -100 where no word starts)
    are scored with :func:`seqeval_scores`.
    """

    def compute(pred) -> dict[str, float]:
        predictions, labels = pred.predictions, pred.label_ids
        if fmt == "span-qa":
            from .evaluation import extract_answers  # evaluation imports this module

            features = [{"example_id": eid, "offset_mapping": offsets}
                        for eid, offsets in zip(dev_features["example_id"], dev_features["offset_mapping"])]
            answers = extract_answers(dev_examples, features, predictions[0], predictions[1])
            return {"f1": qa_scores([answers[str(ex["id"])] for ex in dev_examples], dev_examples)["f1"]}
        if isinstance(predictions, tuple):
            predictions = predictions[0]
        ids = np.asarray(predictions).argmax(-1)
        labels = np.asarray(labels)
        if fmt == "tagging":
            gold, guess = [], []
            for row_pred, row_gold in zip(ids, labels):
                keep = row_gold != -100
                gold.append([label_names[i] for i in row_gold[keep]])
                guess.append([label_names[i] for i in row_pred[keep]])
            return {"f1": seqeval_scores(guess, gold)["f1"]}
        return {"accuracy": 100.0 * float(np.mean(ids == labels))}

    return compute
