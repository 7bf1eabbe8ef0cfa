"""Trivial baselines on the test sets, scored with the official metrics.

* classification and multiple choice: the majority class of the English training data;
* tagging: the most frequent tag of each word in the English training data (the
  overall most frequent tag for unseen words);
* span QA: lexical overlap: the context sentence sharing most words with the
  question (characters for languages written without spaces) is the answer;
* retrieval: character 3-gram overlap (Jaccard) ranks the candidates.

``python -m helpers.baselines --source embedded`` prints a table; rows are
``{task, language, metric, value, baseline}``.

Beside every score (:func:`chance_level`, :func:`majority_on_test`, :func:`level_rows`):
the chance level of the task (100 / classes for classification, 100 / choices
for multiple choice, 100 / candidates for Tatoeba, 0 for span-QA and tagging
F1 and mAP, whose trivial baselines above stand beside them instead) and the
majority-class baseline computed on the *test* items themselves (the share of
the most frequent gold class), which can never fall below chance the way a
majority class taken from a small training set can.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from typing import Iterable

from .errors import run_cli
from .errors import StudyError
from .metrics import score
from .retrieval import scoring_view
from .sources import Source, dataset_sizes, get_source, load_examples, load_retrieval
from .tasks import TASKS, get_task

BASELINE_NAMES = {"pair-classification": "majority", "single-classification": "majority",
                  "multiple-choice": "majority", "tagging": "most-frequent-tag",
                  "span-qa": "sentence-overlap", "retrieval": "char-3gram-overlap"}
_SENT = re.compile(r"[^.!?。！？؟।]+[.!?。！？؟।]?")
_NO_SPACE = ("zh", "ja", "th", "my")


def _words(text: str, lang: str) -> list[str]:
    text = text.lower()
    if lang in _NO_SPACE:
        return [c for c in text if c.strip()]
    return re.findall(r"\w+", text)


def _ngrams(text: str, n: int = 3) -> set[str]:
    t = f" {text.lower()} "
    return {t[i:i + n] for i in range(max(1, len(t) - n + 1))}


def overlap_answer(context: str, question: str, lang: str) -> str:
    """The context sentence with the most words in common with the question."""
    q = set(_words(question, lang))
    sentences = [s.strip() for s in _SENT.findall(context) if s.strip()] or [context]
    return max(sentences, key=lambda s: len(q & set(_words(s, lang))))


def ngram_rankings(queries: list[str], candidates: list[str], k: int = 20) -> list[list[int]]:
    grams = [_ngrams(c) for c in candidates]
    out = []
    for q in queries:
        qg = _ngrams(q)
        scores = [len(qg & g) / (len(qg | g) or 1) for g in grams]
        out.append(sorted(range(len(candidates)), key=lambda i: -scores[i])[:k])
    return out


def baseline_rows(source: Source, tasks: Iterable[str] = tuple(TASKS), limit: int | None = None,
                  languages: Iterable[str] | None = None) -> list[dict]:
    """Score each task's baseline in every test language the source holds."""
    rows = []
    wanted = set(languages) if languages else None
    for task in tasks:
        spec = get_task(task)
        present = [r["language"] for r in dataset_sizes(source, [task], splits=("test",))]
        langs = [l for l in present if wanted is None or l in wanted]
        fmt = spec.format
        majority = tag_of = default_tag = None
        if fmt in ("pair-classification", "single-classification", "multiple-choice"):
            n_classes = len(spec.labels)
            labels = [e["label"] for e in load_examples(task, "train", "en", source)
                      if e["label"] is not None and e["label"] < n_classes]
            majority = Counter(labels).most_common(1)[0][0]
        elif fmt == "tagging":
            counts: dict[str, Counter] = defaultdict(Counter)
            overall: Counter = Counter()
            for e in load_examples(task, "train", "en", source):
                for w, t in zip(e["tokens"], e["tags"]):
                    counts[w.lower()][t] += 1
                    overall[t] += 1
            tag_of = {w: c.most_common(1)[0][0] for w, c in counts.items()}
            default_tag = overall.most_common(1)[0][0]
        for lang in langs:
            if fmt == "retrieval":  # ranked in the direction the encoder is scored (Tatoeba: English queries)
                rs = scoring_view(task, load_retrieval(task, lang, source, limit=limit))
                ranks = ngram_rankings(rs.queries, rs.candidates)
                result = score(task, ranks, rs.gold, lang)
            else:
                test = load_examples(task, "test", lang, source, limit=limit)
                if fmt == "tagging":
                    test = [e for e in test if e["tags"] is not None]
                    preds = [[tag_of.get(w.lower(), default_tag) for w in e["tokens"]] for e in test]
                    result = score(task, preds, [e["tags"] for e in test], lang)
                elif fmt == "span-qa":
                    test = [e for e in test if e["answers"]["text"]]
                    preds = [overlap_answer(e["context"], e["question"], lang) for e in test]
                    result = score(task, preds, test, lang)
                else:
                    test = [e for e in test if e["label"] is not None]
                    result = score(task, [majority] * len(test), [e["label"] for e in test], lang)
            for metric, value in result.items():
                rows.append({"task": task, "language": lang, "metric": metric, "value": value,
                             "baseline": BASELINE_NAMES[fmt]})
    return rows


CLASS_FORMATS = ("pair-classification", "single-classification", "multiple-choice")


def chance_level(task: str, n_candidates: int | None = None) -> float:
    """The score (0-100) of guessing uniformly at random on ``task``.

    Classification: 100 / number of classes; multiple choice: 100 / number of
    choices; Tatoeba: 100 / ``n_candidates`` (the language's candidate pool;
    0 when not given); span QA, tagging F1 and mAP@20: 0 (their trivial
    baselines, :func:`baseline_rows`, are the floor to read them against).
    """
    spec = get_task(task)
    if spec.format in CLASS_FORMATS:
        if not spec.labels:
            raise StudyError(f"{task} has no fixed label set: no chance level")
        return 100.0 / len(spec.labels)
    if spec.format == "retrieval" and spec.metric == "accuracy" and n_candidates:
        return 100.0 / int(n_candidates)
    return 0.0


def majority_on_test(task: str, labels: Iterable[int]) -> float | None:
    """Accuracy (0-100) of always answering the most frequent gold class of these test ``labels``.

    ``None`` for formats without classes (tagging, span QA, retrieval). It is
    never below :func:`chance_level`, since the most frequent of ``k`` classes
    holds at least ``1/k`` of the items.
    """
    if get_task(task).format not in CLASS_FORMATS:
        return None
    labels = [int(x) for x in labels]
    if not labels:
        raise StudyError(f"no {task} test labels: nothing to count")
    return 100.0 * Counter(labels).most_common(1)[0][1] / len(labels)


def level_rows(source: Source, tasks: Iterable[str], languages: Iterable[str] | None = None,
               limit: int | None = None) -> list[dict]:
    """Per (task, test language): ``examples``, ``chance`` and ``majority_test`` (None where no classes).

    The languages are those of the source's test files (``languages``
    restricts them); ``limit`` is the evaluation's ``eval_limit``, so the
    majority is counted on exactly the items that were scored.
    """
    rows = []
    wanted = set(languages) if languages else None
    for task in tasks:
        spec = get_task(task)
        present = [r["language"] for r in dataset_sizes(source, [task], splits=("test",))]
        for lang in present:
            if wanted is not None and lang not in wanted:
                continue
            if spec.format == "retrieval":
                rs = scoring_view(task, load_retrieval(task, lang, source, limit=limit))
                rows.append({"task": task, "language": lang, "examples": len(rs.queries),
                             "chance": chance_level(task, len(rs.candidates)), "majority_test": None})
                continue
            test = load_examples(task, "test", lang, source, limit=limit)
            majority = None
            if spec.format in CLASS_FORMATS:
                majority = majority_on_test(task, [e["label"] for e in test if e["label"] is not None])
            rows.append({"task": task, "language": lang, "examples": len(test), "chance": chance_level(task),
                         "majority_test": majority})
    return rows


def beside_scores(zero_shot, levels: Iterable[dict], trivial: Iterable[dict] = ()) -> list[dict]:
    """Each zero-shot score with its chance level, test-majority and trivial baselines and the degenerate flag.

    ``zero_shot``: rows of ``results/zero_shot.csv`` (DataFrame or dicts);
    ``levels``: :func:`level_rows`; ``trivial``: :func:`baseline_rows` (optional).
    One row per (arm, seed, task, language) of the task's primary metric:
    ``score``, ``chance``, ``majority_test``, ``trivial`` (the trivial
    baseline's value of that metric, None when not given), ``top_class_share``
    and ``degenerate`` (:func:`helpers.itemscores.is_degenerate`).
    """
    from .itemscores import is_degenerate
    from .metrics import primary_metric

    rows = zero_shot.to_dict("records") if hasattr(zero_shot, "to_dict") else list(zero_shot)
    level = {(r["task"], r["language"]): r for r in levels}
    floor = {(r["task"], r["language"], r["metric"]): r["value"] for r in trivial}
    share = {(r["arm"], str(r["seed"]), r["target_task"], r["language"]): float(r["value"])
             for r in rows if r["metric"] == "top_class_share"}
    out = []
    for r in rows:
        task, lang = r["target_task"], r["language"]
        metric = primary_metric(task)
        if r["metric"] != metric:
            continue
        lv = level.get((task, lang), {})
        top = share.get((r["arm"], str(r["seed"]), task, lang))
        out.append({"arm": r["arm"], "seed": r["seed"], "task": task, "language": lang, "metric": metric,
                    "score": float(r["value"]), "chance": lv.get("chance"), "majority_test": lv.get("majority_test"),
                    "trivial": floor.get((task, lang, metric)), "top_class_share": top,
                    "degenerate": is_degenerate(top)})
    return out


def format_rows(rows: list[dict]) -> str:
    lines = [f"{'task':10} {'language':8} {'baseline':20} {'metric':12} {'value':>7}"]
    for r in rows:
        lines.append(f"{r['task']:10} {r['language']:8} {r['baseline']:20} {r['metric']:12} {r['value']:7.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="trivial baselines on the test sets")
    parser.add_argument("--source", default="embedded", help="hub, xtreme-dir or embedded")
    parser.add_argument("--root", default=None, help="data directory (xtreme-dir)")
    parser.add_argument("--limit", type=int, default=None, help="test examples per task and language")
    parser.add_argument("--task", action="append", default=None, help="restrict to these tasks")
    args = parser.parse_args(argv)
    source = get_source(args.source, args.root)
    tasks = args.task or list(TASKS)
    for t in tasks:
        get_task(t)
    rows = baseline_rows(source, tasks, args.limit)
    print(format_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
