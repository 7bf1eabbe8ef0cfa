"""Zero-shot cross-lingual evaluation (phase 6): every language of every XTREME-R task.

A model fine-tuned on English (phase iii) is applied unchanged to the test set
of each language; retrieval tasks use the arm's encoder as it is, mean-pooled
at a middle layer. Scores come from :mod:`helpers.metrics` (0-100) and land in
``results/zero_shot.csv``, one row per (language, metric).

Prediction (:func:`predict`)
----------------------------
Features come from :func:`helpers.preprocess.encode` (``train=False``) and are
run in length-sorted batches (longest first, ties by position) with dynamic
padding (:func:`helpers.preprocess.collator_for`) under
``torch.inference_mode``; outputs are put back in the input order. With the
same model, data and ``batch_size`` the batches are identical, so the
predictions and metrics are bit-identical from run to run on CPU.

- classification and multiple choice: the arg-max class / choice (``int``).
- tagging: one tag per word, from the first sub-word of each word. As XTREME's
  ``utils_preprocess.py`` does, a sentence longer than ``max_length`` sub-words
  is split at word boundaries into pieces that fit, each piece is predicted on
  its own and the tags are joined back, so truncation drops no word; a word that
  tokenises to nothing (or to more sub-words than fit) is replaced by the
  tokenizer's ``<unk>`` for prediction, as XTREME does. Should a word still
  get no sub-word, it is tagged ``"O"`` (or the first tag when the tag set has
  no ``"O"``) -- :data:`FILL_TAG` rules.
- span QA: the answer text per example id, by the n-best search of the SQuAD
  v1.1 post-processing that XTREME uses (BERT's ``run_squad``): in every
  doc-stride window the ``n_best`` (20) best start and end tokens are paired,
  only spans inside the context, end >= start, at most ``max_answer_length``
  (30) tokens, and a start token only counts in the window where it has the
  most context on both sides ("max context"); the best start+end logit sum
  over all windows of an example wins, an example without any valid span
  gets ``""``.

Retrieval tasks are scored by :mod:`helpers.retrieval` (the encoder, mean-pooled
at a middle layer, ranked by cosine).

Items and uncertainty
---------------------
Each row says how many test examples were scored in its language
(``examples``). :func:`evaluate_zero_shot` also gives, on request (``items=``),
the per-item statistics of :mod:`helpers.itemscores` (one row per test item,
:data:`ITEM_COLUMNS`), which :func:`record_zero_shot_items` upserts into
``results/zero_shot_items.csv``; :mod:`helpers.stats` resamples them for the
paired bootstrap intervals of the gains. Classification, multiple-choice and
tagging languages get one more row, metric ``top_class_share``: the share
(0-100) of the most frequent predicted class or tag, the degenerate-predictor
check (:func:`helpers.itemscores.is_degenerate`: 95 or more).
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from . import itemscores, metrics, preprocess, sources
from .batching import run_batches
from .config import get_profile
from .costs import source_identity
from .errors import StudyError, check_choice, check_positive
from .models import get_preset, lineage_preset, load_model, load_tokenizer, tokenizer_from_dir
from .retrieval import evaluate_retrieval
from .runs import results_root, upsert_rows
from .tasks import get_task

#: Formats :func:`predict` handles (retrieval goes through :func:`evaluate_retrieval`).
PREDICT_FORMATS = ("pair-classification", "single-classification", "multiple-choice", "tagging", "span-qa")
CLASSIFICATION_FORMATS = ("pair-classification", "single-classification")

#: The columns of ``results/zero_shot.csv`` and the key rows are upserted by. The key holds every
#: parameter that changes a score: besides profile, arm, task, language, metric and seed, the model
#: preset the arm started from (``model``), the data source (``source``: ``embedded``, ``hub`` or
#: ``xtreme-dir:<digest of its files>``) and the number of test examples per language
#: (``eval_limit``, ``all`` for no limit), so ``-p eval_limit 64`` never overwrites the profile's scores.
#: ``examples`` is the number of test examples (retrieval: queries) scored in that language.
ZERO_SHOT_COLUMNS = ("profile", "arm", "intermediate", "target_task", "language", "metric", "value", "seed", "run_dir",
                     "model", "source", "eval_limit", "examples")
ZERO_SHOT_KEY = ("profile", "model", "source", "eval_limit", "arm", "target_task", "language", "metric", "seed")
#: the key before model, source and eval_limit were recorded (rows of older tables are matched on it)
LEGACY_ZERO_SHOT_KEY = ("profile", "arm", "target_task", "language", "metric", "seed")
#: The metric row of the degenerate-predictor check (0-100; see :mod:`helpers.itemscores`).
TOP_CLASS_SHARE = "top_class_share"
#: The columns of ``results/zero_shot_items.csv`` (one row per scored test item; the statistics of
#: :mod:`helpers.itemscores`, empty where a format has none) and its key: that of zero_shot.csv with
#: the item's index in its language's test set instead of the metric.
ITEM_KEY = ("profile", "model", "source", "eval_limit", "arm", "target_task", "language", "seed", "item")
ITEM_COLUMNS = ("profile", "arm", "seed", "target_task", "language", "item", *itemscores.STAT_COLUMNS,
                "model", "source", "eval_limit")

N_BEST = 20  # start and end candidates per window (SQuAD post-processing)
MAX_ANSWER_LENGTH = 30  # sub-word tokens
FILL_TAG = "O"  # tag of a word that received no sub-word (first tag when absent)


# --------------------------------------------------------------------------- batching
def _choice_counts(features: list[Mapping]) -> list[int]:
    return [len(f["input_ids"]) if f["input_ids"] and isinstance(f["input_ids"][0], (list, tuple)) else 0 for f in features]


def _logit_rows(model, inputs) -> list[np.ndarray]:
    logits = model(**inputs).logits.float().cpu().numpy()
    return list(logits)


def _token_logit_rows(model, inputs) -> list[np.ndarray]:
    logits = model(**inputs).logits.float().cpu().numpy()
    lengths = inputs["attention_mask"].sum(dim=1).cpu().numpy()
    return [row[: int(n)] for row, n in zip(logits, lengths)]


def _span_logit_rows(model, inputs) -> list[tuple[np.ndarray, np.ndarray]]:
    out = model(**inputs)
    starts = out.start_logits.float().cpu().numpy()
    ends = out.end_logits.float().cpu().numpy()
    lengths = inputs["attention_mask"].sum(dim=1).cpu().numpy()
    return [(s[: int(n)], e[: int(n)]) for s, e, n in zip(starts, ends, lengths)]


# --------------------------------------------------------------------------- predict
def predict(
    model,
    tokenizer,
    fmt: str,
    examples: Sequence[Mapping],
    *,
    max_length: int,
    batch_size: int = 64,
    doc_stride: int = 128,
    label_names: Sequence[str] | None = None,
):
    """Predictions of a fine-tuned ``model`` on canonical ``examples`` of format ``fmt``.

    Returns ``list[int]`` (classification, multiple choice: the class or
    choice index), ``list[list[str]]`` (tagging: one tag per word; needs
    ``label_names``) or ``dict[id, answer text]`` (span QA). See the module
    docstring for the batching and the post-processing rules.
    """
    check_choice("format", fmt, PREDICT_FORMATS)
    check_positive("max_length", max_length, integer=True)
    check_positive("batch_size", batch_size, integer=True)
    if fmt == "tagging" and not label_names:
        raise StudyError("tagging needs label_names (the task's tag set) to name the predicted tags")
    examples = list(examples)
    if fmt == "span-qa":
        if not examples:
            return {}
        ds = preprocess.encode(fmt, examples, tokenizer, max_length, train=False, doc_stride=doc_stride)
        features = ds.to_list()
        rows = run_batches(model, features, preprocess.collator_for(fmt, tokenizer), batch_size, _span_logit_rows)
        return extract_answers(examples, features, [r[0] for r in rows], [r[1] for r in rows])
    if not examples:
        return []
    if fmt == "tagging":
        return _predict_tags(model, tokenizer, examples, max_length=max_length, batch_size=batch_size, label_names=list(label_names))
    ds = preprocess.encode(fmt, examples, tokenizer, max_length, train=False, label_names=label_names)
    features = ds.to_list()
    collate = preprocess.collator_for(fmt, tokenizer)
    logits = run_batches(model, features, collate, batch_size, _logit_rows, groups=_choice_counts(features))
    return [int(np.argmax(row)) for row in logits]


# --------------------------------------------------------------------------- tagging
def fill_tag(label_names: Sequence[str]) -> str:
    """The tag of a word without a prediction: ``"O"``, else the first tag."""
    return FILL_TAG if FILL_TAG in label_names else label_names[0]


def split_for_tagging(examples: Sequence[Mapping], tokenizer, max_length: int) -> tuple[list[dict], list[int]]:
    """Cut each tagging example into pieces whose sub-words fit ``max_length``.

    Mirrors XTREME's ``udpos/panx_tokenize_preprocess``: words are counted in
    sub-words (as ``is_split_into_words`` tokenises them), a new piece starts
    when the next word would overflow the budget (``max_length`` minus the
    tokenizer's special tokens), and a word with no sub-word or with more
    sub-words than the budget is replaced by ``<unk>``. Returns the pieces
    (canonical tagging dicts, ``tags`` sliced alongside when present) and, for
    each piece, the index of the example it came from.
    """
    budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
    if budget < 1:
        raise StudyError(f"max_length {max_length} leaves no room for a word after the special tokens")
    unk = tokenizer.unk_token
    pieces: list[dict] = []
    owners: list[int] = []
    for n, ex in enumerate(examples):
        words = [str(w) for w in ex["tokens"]]
        tags = ex.get("tags")
        counts = _subword_counts(words, tokenizer) if words else []
        current_words: list[str] = []
        used = 0
        start = 0

        def flush(end: int) -> None:
            piece = {"id": f"{ex.get('id', n)}#{len(pieces)}", "tokens": list(current_words)}
            if tags is not None:
                piece["tags"] = list(tags[start:end])
            pieces.append(piece)
            owners.append(n)

        for j, (word, count) in enumerate(zip(words, counts)):
            if count == 0 or count > budget:
                word, count = unk, 1
            if current_words and used + count > budget:
                flush(j)
                current_words, used, start = [], 0, j
            current_words.append(word)
            used += count
        if current_words:
            flush(len(words))
    return pieces, owners


def _subword_counts(words: list[str], tokenizer) -> list[int]:
    enc = tokenizer([words], is_split_into_words=True, add_special_tokens=False)
    counts = [0] * len(words)
    for w in enc.word_ids(0):
        if w is not None:
            counts[w] += 1
    return counts


def align_word_tags(word_ids: Sequence[int], token_predictions: Sequence[int], n_words: int, label_names: Sequence[str]) -> list[str]:
    """Tags per word from per-token predicted tag indices (first sub-word rule).

    ``word_ids`` is -1 (or ``None``) on special tokens; a word with no
    sub-word gets :func:`fill_tag`.
    """
    ids = [-1 if w is None else int(w) for w in word_ids]
    index = preprocess.word_predictions(ids, token_predictions, n_words, fill=-1)
    fill = fill_tag(label_names)
    return [label_names[i] if i >= 0 else fill for i in index]


def _predict_tags(model, tokenizer, examples, *, max_length, batch_size, label_names) -> list[list[str]]:
    pieces, owners = split_for_tagging(examples, tokenizer, max_length)
    # Pieces carry no tags into the model: predictions only need word_ids.
    unlabelled = [{"id": p["id"], "tokens": p["tokens"]} for p in pieces]
    ds = preprocess.encode("tagging", unlabelled, tokenizer, max_length, train=False, label_names=label_names)
    features = ds.to_list()
    rows = run_batches(model, features, preprocess.collator_for("tagging", tokenizer), batch_size, _token_logit_rows)
    out: list[list[str]] = [[] for _ in examples]
    for piece, feature, logits, owner in zip(pieces, features, rows, owners):
        token_pred = np.argmax(logits, axis=-1)
        out[owner].extend(align_word_tags(feature["word_ids"], token_pred, len(piece["tokens"]), label_names))
    return out


# --------------------------------------------------------------------------- span QA
def _max_context_owner(features: Sequence[Mapping], indices: Sequence[int]) -> dict[tuple, int]:
    """For every context token of an example, the window where it has most context.

    A token is identified by its character offsets. Its score in a window with
    ``n`` context tokens, at context position ``j``, is ``min(j, n - 1 - j) +
    0.01 n`` (BERT's ``_check_is_max_context``); the first window wins ties.
    """
    best: dict[tuple, tuple[float, int]] = {}
    for i in indices:
        offsets = features[i]["offset_mapping"]
        context = [p for p, off in enumerate(offsets) if off is not None]
        n = len(context)
        for j, p in enumerate(context):
            key = tuple(offsets[p])
            score = min(j, n - 1 - j) + 0.01 * n
            if key not in best or score > best[key][0]:
                best[key] = (score, i)
    return {key: i for key, (_, i) in best.items()}


def extract_answers(
    examples: Sequence[Mapping],
    features: Sequence[Mapping],
    start_logits: Sequence[Sequence[float]],
    end_logits: Sequence[Sequence[float]],
    *,
    n_best: int = N_BEST,
    max_answer_length: int = MAX_ANSWER_LENGTH,
    max_context: bool = True,
) -> dict[str, str]:
    """Answer text per example id from the start/end logits of all its windows.

    ``features`` are span-QA eval features (``example_id``, ``offset_mapping``
    with ``None`` outside the context), aligned with the logit rows (a row
    may be longer than its offsets: padding is ignored). The n-best search of
    the module docstring; ``max_context=False`` drops the max-context rule
    (as the HF ``run_qa`` post-processing does). Ties keep the earlier
    window, start and end.
    """
    check_positive("n_best", n_best, integer=True)
    check_positive("max_answer_length", max_answer_length, integer=True)
    if not (len(features) == len(start_logits) == len(end_logits)):
        raise StudyError(f"{len(features)} features but {len(start_logits)} start and {len(end_logits)} end logit rows")
    by_example: dict[str, list[int]] = collections.defaultdict(list)
    for i, f in enumerate(features):
        by_example[str(f["example_id"])].append(i)
    answers: dict[str, str] = {}
    for ex in examples:
        eid = str(ex["id"])
        indices = by_example.get(eid, [])
        owner = _max_context_owner(features, indices) if max_context else None
        best: tuple[float, str] | None = None
        for i in indices:
            offsets = features[i]["offset_mapping"]
            n = min(len(offsets), len(start_logits[i]), len(end_logits[i]))
            s_log = np.asarray(start_logits[i][:n], dtype=np.float64)
            e_log = np.asarray(end_logits[i][:n], dtype=np.float64)
            s_top = np.argsort(-s_log, kind="stable")[:n_best]
            e_top = np.argsort(-e_log, kind="stable")[:n_best]
            for s in s_top:
                if offsets[s] is None:
                    continue
                if owner is not None and owner.get(tuple(offsets[s])) != i:
                    continue
                for e in e_top:
                    if offsets[e] is None or e < s or e - s + 1 > max_answer_length:
                        continue
                    score = float(s_log[s] + e_log[e])
                    if best is None or score > best[0]:
                        text = str(ex["context"])[offsets[s][0] : offsets[e][1]].strip()
                        best = (score, text)
        answers[eid] = best[1] if best else ""
    return answers


# --------------------------------------------------------------------------- zero-shot
def check_languages(task: str, languages: Iterable[str]) -> list[str]:
    """The languages, checked against the registry's list for ``task`` (StudyError otherwise)."""
    spec = get_task(task)
    languages = [languages] if isinstance(languages, str) else list(languages)
    valid = ", ".join(spec.languages)
    if not languages:
        raise StudyError(f"no language given for {task}; valid languages: {valid}")
    for lang in languages:
        if lang not in spec.languages:
            raise StudyError(f"unknown language {lang!r} for {task}; valid languages: {valid}")
    return languages


def evaluate_zero_shot(
    model_dir_or_model,
    task: str,
    languages: Sequence[str],
    source,
    *,
    arm: str,
    intermediate: str | None,
    profile: str,
    seed: int,
    run_dir: str,
    max_length: int,
    limit: int | None = None,
    layer: int | None = None,
    tokenizer=None,
    tokenizer_preset: str | None = None,
    batch_size: int = 64,
    doc_stride: int = 128,
    model_name: str | None = None,
    source_id: str | None = None,
    items: list | None = None,
) -> list[dict]:
    """Zero-shot scores of one arm on ``task`` in each of ``languages``.

    ``model_dir_or_model`` is, for trainable tasks, the fine-tuned model or
    the run directory holding it (XQuAD and MLQA both take the model trained
    on SQuAD); for retrieval tasks the arm's encoder: a model, a checkpoint
    directory (the intermediate run of a STILTs arm) or a preset name of
    :mod:`helpers.models` (the pretrained encoder of ``direct``). ``layer``
    defaults to the profile's preset's ``retrieval_layer``. ``tokenizer``
    defaults to the one saved beside the model, else that of ``tokenizer_preset``
    (else the profile's preset's); the phases pass the resolved configuration's
    ``retrieval_layer`` and ``tokenizer`` (:class:`helpers.config.StudyConfig`), so a
    model override is evaluated with its own layer and tokenizer.
    Returns one row per (language, metric) with :data:`ZERO_SHOT_COLUMNS`;
    ``model_name`` (default: the preset the model's lineage started from) and
    ``source_id`` (default: :func:`helpers.costs.source_identity`) fill the
    ``model`` and ``source`` columns, ``limit`` the ``eval_limit`` column,
    ``examples`` the number of test examples scored. Classification,
    multiple-choice and tagging tasks add a ``top_class_share`` row per language.
    ``items``: when a list, one dict per scored test item is appended to it
    (:data:`ITEM_COLUMNS`: the item's index in its language and its
    :mod:`helpers.itemscores` statistics; retrieval: per query of the primary
    direction, from :func:`helpers.retrieval.evaluate_retrieval`).
    """
    spec = get_task(task)
    languages = check_languages(task, languages)
    check_positive("max_length", max_length, integer=True)
    if limit is not None:
        check_positive("limit", limit, integer=True)
    identity = _row_identity(model_dir_or_model, source, model_name, source_id)
    model, tokenizer = _load_for_task(model_dir_or_model, spec, tokenizer=tokenizer,
                                      tokenizer_preset=tokenizer_preset or get_profile(profile).model)
    retrieval_layer = None
    if spec.format == "retrieval":
        retrieval_layer = layer if layer is not None else _default_layer(profile)
    rows: list[dict] = []
    embedded: dict[str, np.ndarray] = {}  # one model, layer and length: each text is embedded once
    eval_limit = "all" if limit is None else int(limit)
    for lang in languages:
        lang_items: list[dict] | None = [] if items is not None else None
        if spec.format == "retrieval":
            rset = sources.load_retrieval(task, lang, source, split="test", limit=limit)
            per_query: list[dict] = []
            scores = evaluate_retrieval(model, tokenizer, rset, layer=retrieval_layer, max_length=max_length,
                                        task=task, lang=lang, batch_size=batch_size, cache=embedded, items=per_query)
            if lang_items is not None:
                lang_items.extend(per_query)
            n_scored = len(per_query)
        else:
            examples = sources.load_examples(task, "test", lang, source, limit=limit)
            references = _references(task, lang, spec.format, examples)
            labels = list(spec.labels) if spec.labels else None
            preds = predict(model, tokenizer, spec.format, examples, max_length=max_length, batch_size=batch_size, doc_stride=doc_stride, label_names=labels)
            if spec.format == "span-qa":
                preds = [preds[str(ex["id"])] for ex in examples]
            scores = dict(metrics.score(task, preds, references, lang))
            share = itemscores.top_class_share(task, preds)
            if share is not None:
                scores[TOP_CLASS_SHARE] = share
            if lang_items is not None:
                lang_items.extend(itemscores.item_stats(task, preds, references, lang))
            n_scored = len(examples)
        if lang_items is not None:
            for n, stats in enumerate(lang_items):
                item = {"profile": profile, "arm": arm, "seed": int(seed), "target_task": task, "language": lang,
                        "item": int(stats.get("item", n)), "model": identity["model"],
                        "source": identity["source"], "eval_limit": eval_limit}
                item.update({k: v for k, v in stats.items() if k in itemscores.STAT_COLUMNS})
                items.append(item)
        for metric, value in scores.items():
            rows.append(
                {
                    "profile": profile,
                    "arm": arm,
                    "intermediate": intermediate or "",
                    "target_task": task,
                    "language": lang,
                    "metric": metric,
                    "value": float(value),
                    "seed": int(seed),
                    "run_dir": str(run_dir),
                    "model": identity["model"],
                    "source": identity["source"],
                    "eval_limit": eval_limit,
                    "examples": int(n_scored),
                }
            )
    return rows


def _row_identity(model_dir_or_model, source, model_name: str | None, source_id: str | None) -> dict:
    """The ``model`` and ``source`` columns of a zero-shot row (see :data:`ZERO_SHOT_KEY`)."""
    if model_name is None:
        model_name = lineage_preset(model_dir_or_model) if isinstance(model_dir_or_model, (str, Path)) else ""
    return {"model": model_name, "source": source_id if source_id is not None else source_identity(source)}


def _references(task: str, lang: str, fmt: str, examples: Sequence[Mapping]) -> list:
    """What :func:`helpers.metrics.score` compares the predictions with (checked before compute)."""
    if not examples:
        raise StudyError(f"no test examples for {task} in {lang}: nothing to score")
    if fmt == "tagging":
        refs = [ex.get("tags") for ex in examples]
    elif fmt == "span-qa":
        refs = [list((ex.get("answers") or {}).get("text") or []) for ex in examples]
    else:
        refs = [ex.get("label") for ex in examples]
    if any(r is None or (fmt == "span-qa" and not r) for r in refs):
        raise StudyError(f"the {task} test data in {lang} has no gold labels (XTREME strips some test labels): cannot score it")
    return refs


def _default_layer(profile: str) -> int:
    return int(get_preset(get_profile(profile).model).retrieval_layer)


def saved_model_dir(path: Path) -> Path:
    """The directory holding ``config.json``: ``path`` itself or its ``model/``."""
    for candidate in (path, path / "model"):
        if (candidate / "config.json").is_file():
            return candidate
    raise StudyError(f"no saved model in {path} (no config.json there or in model/): train this arm first")


def _load_for_task(model_dir_or_model, spec, *, tokenizer, tokenizer_preset: str):
    """(model, tokenizer) for ``spec`` from a model object, a saved directory or a preset."""
    if not isinstance(model_dir_or_model, (str, Path)):
        model = model_dir_or_model
        if tokenizer is None:
            tokenizer = load_tokenizer(tokenizer_preset)
        return model, tokenizer
    path = Path(model_dir_or_model)
    if not path.exists():
        if spec.format == "retrieval":
            model = load_model(str(model_dir_or_model), head=None)
            return model, tokenizer if tokenizer is not None else load_tokenizer(str(model_dir_or_model))
        raise StudyError(f"no run directory {path} for {spec.name}: train this arm first")
    directory = saved_model_dir(path)
    # the saved model with its trained head (retrieval: the encoder)
    model = load_model(directory, head=preprocess.HEAD_FOR_FORMAT.get(spec.format, "encoder"), keep_head=True)
    if tokenizer is None:
        if (directory / "tokenizer.json").is_file() or (directory / "tokenizer_config.json").is_file():
            tokenizer = tokenizer_from_dir(directory)
        else:
            tokenizer = load_tokenizer(tokenizer_preset)
    return model, tokenizer


def record_zero_shot(rows: Iterable[Mapping]) -> Path:
    """Upsert zero-shot ``rows`` into ``results/zero_shot.csv`` (key: :data:`ZERO_SHOT_KEY`)."""
    rows = list(rows)
    for row in rows:
        missing = [c for c in ZERO_SHOT_COLUMNS if c not in row]
        if missing:
            raise StudyError(f"zero-shot row lacks columns {', '.join(missing)}; columns: {', '.join(ZERO_SHOT_COLUMNS)}")
    return upsert_rows(results_root() / "zero_shot.csv", rows, key=ZERO_SHOT_KEY, columns=ZERO_SHOT_COLUMNS,
                       legacy_key=LEGACY_ZERO_SHOT_KEY)


def record_zero_shot_items(items: Iterable[Mapping]) -> Path:
    """Upsert per-item rows into ``results/zero_shot_items.csv`` (key: :data:`ITEM_KEY`).

    The same locked, atomic upsert as :func:`record_zero_shot`; call it once
    with all the items of a phase (the table is rewritten on every call).
    """
    items = list(items)
    for item in items:
        missing = [c for c in ITEM_KEY if c not in item]
        if missing:
            raise StudyError(f"zero-shot item lacks columns {', '.join(missing)}; key columns: {', '.join(ITEM_KEY)}")
    return upsert_rows(results_root() / "zero_shot_items.csv", items, key=ITEM_KEY, columns=ITEM_COLUMNS)
