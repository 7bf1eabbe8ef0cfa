"""Tokenisation of canonical examples into model features, one recipe per format.

:func:`encode` turns the canonical example dicts of :mod:`helpers.sources`
(see ARCHITECTURE.md) into a :class:`datasets.Dataset` of *unpadded* features;
:func:`collator_for` pads a batch of them, so batches can be bucketed by
length. The post-processing helpers map predictions back to examples:
:func:`word_predictions` (tagging: sub-word logits -> one tag per word); span
QA answers are extracted by :func:`helpers.evaluation.extract_answers`.

Columns per format
------------------
- classification: ``input_ids``, ``attention_mask``, ``labels`` (int), ``example_id``
- multiple-choice: ``input_ids`` and ``attention_mask`` as ``[n_choices][L]``,
  ``labels``, ``example_id``
- tagging: ``input_ids``, ``attention_mask``, ``labels`` (first sub-word of each
  word, -100 elsewhere), ``word_ids`` (-1 on special tokens), ``example_id``
- span-qa, ``train=True``: ``input_ids``, ``attention_mask``, ``start_positions``,
  ``end_positions`` (0, the ``<s>`` index, when the answer is not in the window)
- span-qa, ``train=False``: ``input_ids``, ``attention_mask``, ``example_id``,
  ``offset_mapping`` (``None`` for tokens outside the context)

``token_type_ids`` appear when the tokenizer produces them. Columns that are
not model inputs (``example_id``, ``word_ids``, ``offset_mapping``) are dropped
by the collators; the Trainer's ``remove_unused_columns`` drops them as well.
"""

from __future__ import annotations

import collections
from typing import Iterable, Mapping, Sequence

import numpy as np

from .errors import StudyError, check_choice, check_positive

FORMATS = ("pair-classification", "single-classification", "multiple-choice", "tagging", "span-qa")

HEAD_FOR_FORMAT = {
    "pair-classification": "sequence-classification",
    "single-classification": "sequence-classification",
    "multiple-choice": "multiple-choice",
    "tagging": "token-classification",
    "span-qa": "question-answering",
}

#: Batch keys a model's ``forward`` accepts (inputs and training targets).
MODEL_KEYS = ("input_ids", "attention_mask", "token_type_ids", "labels", "start_positions", "end_positions")

_CHUNK = 1000  # examples tokenised per call (bounded memory on the full datasets)


# --------------------------------------------------------------------------- encode
def encode(
    fmt: str,
    examples: Sequence[Mapping],
    tokenizer,
    max_length: int,
    *,
    train: bool,
    label_names: Sequence[str] | None = None,
    doc_stride: int = 128,
):
    """Tokenise canonical ``examples`` of format ``fmt`` into a ``datasets.Dataset``.

    ``label_names`` maps string labels/tags to ints (tagging needs it: tags
    are strings); integer labels pass through. ``doc_stride`` is the overlap,
    in tokens, between consecutive span-QA windows. Nothing is padded.
    """
    import datasets

    check_choice("format", fmt, FORMATS)
    check_positive("max_length", max_length, integer=True)
    if fmt == "span-qa":
        check_positive("doc_stride", doc_stride, integer=True)
        room = max_length - _max_query_tokens(max_length) - 4  # context tokens left beside the longest question
        if doc_stride >= room:
            raise StudyError(f"doc_stride ({doc_stride}) must be less than the {room} context tokens that "
                             f"max_length {max_length} leaves beside a question")
    examples = list(examples)
    if fmt == "tagging" and label_names is None:
        raise StudyError("tagging needs label_names (the task's tag set) to turn tags into ints")
    encoder = {
        "pair-classification": _encode_classification,
        "single-classification": _encode_classification,
        "multiple-choice": _encode_multiple_choice,
        "tagging": _encode_tagging,
        "span-qa": _encode_qa_train if train else _encode_qa_eval,
    }[fmt]
    columns: dict[str, list] = collections.defaultdict(list)
    kwargs = {"label_names": tuple(label_names) if label_names is not None else None}
    if fmt == "span-qa":
        kwargs = {"doc_stride": doc_stride}
    if fmt == "pair-classification":
        kwargs["pair"] = True
    for start in range(0, len(examples), _CHUNK):
        part = encoder(examples[start : start + _CHUNK], tokenizer, max_length, **kwargs)
        for key, values in part.items():
            columns[key].extend(values)
    if not examples:
        return datasets.Dataset.from_dict({"input_ids": [], "attention_mask": []})
    return datasets.Dataset.from_dict(dict(columns))


def _label_index(value, label_names: tuple[str, ...] | None, example_id) -> int:
    if value is None:
        return -100
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if label_names is not None and not 0 <= int(value) < len(label_names):
            raise StudyError(f"example {example_id!r}: label {value} is out of range for labels {', '.join(label_names)}")
        return int(value)
    if label_names is not None and value in label_names:
        return label_names.index(value)
    valid = ", ".join(label_names) if label_names else "integers (pass label_names to map strings)"
    raise StudyError(f"example {example_id!r}: unknown label {value!r}; valid labels: {valid}")


def _model_inputs(enc, i: int | None = None) -> dict[str, list]:
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    if i is None:
        return {k: list(enc[k]) for k in keys}
    return {k: enc[k][i] for k in keys}


def _encode_classification(examples, tokenizer, max_length, *, label_names, pair=False) -> dict[str, list]:
    first = [ex["text_a"] for ex in examples]
    if pair:
        second = [ex.get("text_b") or "" for ex in examples]
        enc = tokenizer(first, second, truncation="longest_first", max_length=max_length)
    else:
        enc = tokenizer(first, truncation=True, max_length=max_length)
    out = _model_inputs(enc)
    out["labels"] = [_label_index(ex.get("label"), label_names, ex.get("id")) for ex in examples]
    out["example_id"] = [str(ex.get("id", i)) for i, ex in enumerate(examples)]
    return out


def mc_first_segment(example: Mapping) -> str:
    """The text paired with every choice: the context, then the question (if any)."""
    parts = [str(example.get("context") or "").strip(), str(example.get("question") or "").strip()]
    return " ".join(p for p in parts if p)


def _encode_multiple_choice(examples, tokenizer, max_length, *, label_names) -> dict[str, list]:
    first, second, sizes = [], [], []
    for ex in examples:
        choices = list(ex["choices"])
        if len(choices) < 2:
            raise StudyError(f"example {ex.get('id')!r}: multiple choice needs at least 2 choices, got {len(choices)}")
        first += [mc_first_segment(ex)] * len(choices)
        second += [str(c) for c in choices]
        sizes.append(len(choices))
    enc = tokenizer(first, second, truncation="longest_first", max_length=max_length)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    out: dict[str, list] = {k: [] for k in keys}
    pos = 0
    for n in sizes:
        for k in keys:
            out[k].append([list(x) for x in enc[k][pos : pos + n]])
        pos += n
    out["labels"] = [_label_index(ex.get("label"), None, ex.get("id")) for ex in examples]
    for ex, n, lab in zip(examples, sizes, out["labels"]):
        if lab != -100 and not 0 <= lab < n:
            raise StudyError(f"example {ex.get('id')!r}: label {lab} is out of range for {n} choices")
    out["example_id"] = [str(ex.get("id", i)) for i, ex in enumerate(examples)]
    return out


def _encode_tagging(examples, tokenizer, max_length, *, label_names) -> dict[str, list]:
    words = [[str(t) for t in ex["tokens"]] for ex in examples]
    enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
    out = _model_inputs(enc)
    out["labels"], out["word_ids"] = [], []
    for i, ex in enumerate(examples):
        tags = ex.get("tags")
        if tags is not None and len(tags) != len(words[i]):
            raise StudyError(f"example {ex.get('id')!r}: {len(words[i])} tokens but {len(tags)} tags")
        ids = enc.word_ids(i)
        labels, previous = [], None
        for w in ids:
            if w is None or w == previous or tags is None:
                labels.append(-100)
            else:
                labels.append(_label_index(tags[w], label_names, ex.get("id")))
            previous = w
        out["labels"].append(labels)
        out["word_ids"].append([-1 if w is None else int(w) for w in ids])
    out["example_id"] = [str(ex.get("id", i)) for i, ex in enumerate(examples)]
    return out


def _clip_questions(questions: list[str], tokenizer, max_query_tokens: int) -> list[str]:
    """Cut questions longer than ``max_query_tokens`` sub-words (at a token boundary)."""
    enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for q, ids, offsets in zip(questions, enc["input_ids"], enc["offset_mapping"]):
        out.append(q[: offsets[max_query_tokens - 1][1]] if len(ids) > max_query_tokens else q)
    return out


def _max_query_tokens(max_length: int) -> int:
    """Questions are cut to this many sub-words (64 as in SQuAD's recipe; less in short windows)."""
    return max(1, min(64, max_length // 2 - 8))


def _qa_windows(examples, tokenizer, max_length, doc_stride):
    # Window: <s> question </s></s> context </s> (4 specials for XLM-R).
    max_query = _max_query_tokens(max_length)
    questions = _clip_questions([str(ex["question"]).lstrip() for ex in examples], tokenizer, max_query)
    contexts = [str(ex["context"]) for ex in examples]
    enc = tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=max_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    return enc


def _context_span(sequence_ids: list) -> tuple[int, int]:
    start = 0
    while sequence_ids[start] != 1:
        start += 1
    end = len(sequence_ids) - 1
    while sequence_ids[end] != 1:
        end -= 1
    return start, end


def _encode_qa_train(examples, tokenizer, max_length, *, doc_stride) -> dict[str, list]:
    enc = _qa_windows(examples, tokenizer, max_length, doc_stride)
    out = _model_inputs(enc)
    starts, ends = [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        ex = examples[enc["overflow_to_sample_mapping"][i]]
        cls = enc["input_ids"][i].index(tokenizer.cls_token_id) if tokenizer.cls_token_id in enc["input_ids"][i] else 0
        answers = ex.get("answers") or {"text": [], "answer_start": []}
        if not answers["text"]:
            starts.append(cls)
            ends.append(cls)
            continue
        start_char = int(answers["answer_start"][0])
        end_char = start_char + len(answers["text"][0])
        seq = enc.sequence_ids(i)
        ctx_start, ctx_end = _context_span(seq)
        if not (offsets[ctx_start][0] <= start_char and offsets[ctx_end][1] >= end_char):
            starts.append(cls)
            ends.append(cls)
            continue
        s = ctx_start
        while s <= ctx_end and offsets[s][0] <= start_char:
            s += 1
        e = ctx_end
        while e >= ctx_start and offsets[e][1] >= end_char:
            e -= 1
        starts.append(s - 1)
        ends.append(e + 1)
    out["start_positions"] = starts
    out["end_positions"] = ends
    return out


def _encode_qa_eval(examples, tokenizer, max_length, *, doc_stride) -> dict[str, list]:
    enc = _qa_windows(examples, tokenizer, max_length, doc_stride)
    out = _model_inputs(enc)
    out["example_id"], out["offset_mapping"] = [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        ex = examples[enc["overflow_to_sample_mapping"][i]]
        seq = enc.sequence_ids(i)
        out["example_id"].append(str(ex["id"]))
        out["offset_mapping"].append([list(o) if seq[k] == 1 else None for k, o in enumerate(offsets)])
    return out


# --------------------------------------------------------------------------- collators
class FeatureCollator:
    """Pad a list of features into a batch of tensors.

    ``input_ids`` are padded with the tokenizer's pad id, ``attention_mask``
    and ``token_type_ids`` with 0, ``labels`` with -100 when they are
    sequences (tagging), ``word_ids`` (only when ``keep_word_ids``) with -1.
    Multiple-choice features (``[n_choices][L]``) are padded to the longest
    choice of the batch. Other columns are dropped. ``pad_to_multiple_of``
    rounds the padded length up (tensor cores like multiples of 8).
    """

    def __init__(self, tokenizer, *, keep_word_ids: bool = False, pad_to_multiple_of: int | None = None):
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.padding_side = getattr(tokenizer, "padding_side", "right")
        self.keep_word_ids = keep_word_ids
        self.pad_to_multiple_of = pad_to_multiple_of

    def _pad_value(self, key: str) -> int:
        return {"input_ids": self.pad_id, "labels": -100, "word_ids": -1}.get(key, 0)

    def _width(self, n: int) -> int:
        m = self.pad_to_multiple_of
        return n if not m else ((n + m - 1) // m) * m

    def __call__(self, features: list[Mapping]) -> dict:
        import torch

        keys = [k for k in MODEL_KEYS if k in features[0]]
        if self.keep_word_ids and "word_ids" in features[0]:
            keys.append("word_ids")
        batch = {}
        multiple_choice = isinstance(features[0]["input_ids"][0], (list, tuple))
        for key in keys:
            values = [f[key] for f in features]
            if key in ("labels", "start_positions", "end_positions") and not isinstance(values[0], (list, tuple)):
                batch[key] = torch.tensor(values, dtype=torch.long)
                continue
            pad = self._pad_value(key)
            if multiple_choice:
                n_choices = {len(v) for v in values}
                if len(n_choices) != 1:
                    raise StudyError(f"a multiple-choice batch mixes {sorted(n_choices)} choices per example")
                width = self._width(max(len(seq) for v in values for seq in v))
                batch[key] = torch.tensor([[self._padded(seq, width, pad) for seq in v] for v in values], dtype=torch.long)
            else:
                width = self._width(max(len(v) for v in values))
                batch[key] = torch.tensor([self._padded(v, width, pad) for v in values], dtype=torch.long)
        return batch

    def _padded(self, seq: Sequence[int], width: int, pad: int) -> list[int]:
        fill = [pad] * (width - len(seq))
        return list(seq) + fill if self.padding_side == "right" else fill + list(seq)


def collator_for(fmt: str, tokenizer, *, keep_word_ids: bool = False, pad_to_multiple_of: int | None = None):
    """The collator that pads features of ``fmt`` (see :class:`FeatureCollator`)."""
    check_choice("format", fmt, FORMATS)
    return FeatureCollator(tokenizer, keep_word_ids=keep_word_ids and fmt == "tagging", pad_to_multiple_of=pad_to_multiple_of)


def feature_lengths(dataset) -> list[int]:
    """Real (non-pad) tokens of every feature (summed over choices for multiple choice)."""
    out = []
    for mask in list(dataset["attention_mask"]):
        if mask and isinstance(mask[0], (list, tuple)):
            out.append(int(sum(sum(m) for m in mask)))
        else:
            out.append(int(sum(mask)))
    return out


# --------------------------------------------------------------------------- post-processing
def word_predictions(word_ids: Sequence[int], token_predictions: Sequence[int], n_words: int, fill: int = -1) -> list[int]:
    """One prediction per word: the prediction at each word's first sub-word.

    ``word_ids`` and ``token_predictions`` are aligned per token (padding may
    follow, with ``word_ids`` -1). Words cut off by truncation, or that
    tokenise to nothing, get ``fill``.
    """
    out = [fill] * n_words
    previous = None
    for w, p in zip(word_ids, token_predictions):
        w = int(w)
        if w >= 0 and w != previous and w < n_words:
            out[w] = int(p)
        previous = w
    return out


def iter_batches(items: Iterable, size: int):
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
