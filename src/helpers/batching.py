"""Length-sorted, padded batches: the one batching of evaluation, timing and the inference chapter.

Tokenised features (dicts with ``input_ids``, ``attention_mask``, ...) are
ordered by length (:func:`index_batches`: shortest first for timing, longest
first for evaluation, or in input order for the naive padding sweep; ties keep
the input order), cut into consecutive batches of at most ``batch_size`` that
never mix groups (the number of choices of multiple-choice features), and each
batch is padded by a collator (:func:`padded_batches`). :func:`pad_features`
is the plain right-padding collator; :func:`helpers.preprocess.collator_for`
pads the task formats (multiple choice as ``[batch, choices, length]``).
:func:`run_batches` is evaluation's loop over such batches. torch is imported
inside the functions (import cost).
"""

from __future__ import annotations

from typing import Callable, Iterator, Mapping, Sequence

from .errors import check_choice, check_positive

ORDERS = ("ascending", "descending", "input")
#: what a batch hands the model (labels, offsets and word ids stay behind)
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
#: keys :func:`pad_features` pads, with the value of a pad position (``None``: the tokenizer's pad id)
PAD_VALUES = {"input_ids": None, "attention_mask": 0, "token_type_ids": 0}


def feature_length(feature: Mapping) -> int:
    """Padded width a feature needs: its ``input_ids`` length (the longest choice for multiple choice)."""
    ids = feature["input_ids"]
    if ids and isinstance(ids[0], (list, tuple)):
        return max(len(x) for x in ids)
    return len(ids)


def index_batches(lengths: Sequence[int], batch_size: int, *, order: str = "ascending",
                  groups: Sequence[int] | None = None) -> list[list[int]]:
    """Indices of ``lengths`` in batches of at most ``batch_size``.

    ``order``: ``ascending`` (shortest first), ``descending`` (longest first)
    or ``input``; equal keys keep their input order. With ``groups`` the
    indices are ordered by group first and a batch never mixes groups.
    """
    check_positive("batch_size", batch_size, integer=True)
    check_choice("order", order, ORDERS)
    n = len(lengths)
    groups = list(groups) if groups is not None else [0] * n
    if order == "ascending":
        ordered = sorted(range(n), key=lambda i: (groups[i], int(lengths[i]), i))
    elif order == "descending":
        ordered = sorted(range(n), key=lambda i: (groups[i], -int(lengths[i]), i))
    else:
        ordered = sorted(range(n), key=lambda i: (groups[i], i))
    out: list[list[int]] = []
    for i in ordered:
        if not out or len(out[-1]) == batch_size or groups[out[-1][0]] != groups[i]:
            out.append([])
        out[-1].append(i)
    return out


def padded_batches(features: Sequence[Mapping], batch_size: int, collate: Callable[[list], Mapping], *,
                   order: str = "ascending", groups: Sequence[int] | None = None) -> Iterator[tuple[list[int], Mapping]]:
    """``(indices, collate(features at indices))`` for each batch of :func:`index_batches`, made lazily.

    Lengths are :func:`feature_length`; ``collate`` pads a list of features
    into tensors (:func:`pad_features`, or a format's collator).
    """
    features = list(features)
    lengths = [feature_length(f) for f in features]
    for idx in index_batches(lengths, batch_size, order=order, groups=groups):
        yield idx, collate([features[i] for i in idx])


def pad_features(tokenizer, width: int | None = None) -> Callable[[list], dict]:
    """A collator that right-pads ``input_ids``, ``attention_mask`` (and ``token_type_ids``) into long tensors.

    Rows are padded to the batch's longest feature, or to ``width`` when
    given; ``input_ids`` with the tokenizer's pad id (0 when it has none),
    the mask and token types with 0. Other keys are dropped.
    """
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def collate(features: list) -> dict:
        import torch

        size = width if width is not None else max(len(f["input_ids"]) for f in features)
        out = {}
        for key, value in PAD_VALUES.items():
            if key not in features[0]:
                continue
            fill = pad_id if value is None else value
            out[key] = torch.tensor([list(f[key]) + [fill] * (size - len(f[key])) for f in features],
                                    dtype=torch.long)
        return out

    return collate


def model_device(model):
    """The device of ``model``'s first parameter (CPU for a model without parameters)."""
    import torch

    try:
        return next(model.parameters()).device
    except StopIteration:  # pragma: no cover - a model without parameters
        return torch.device("cpu")


def run_batches(model, features: Sequence[Mapping], collate: Callable[[list], Mapping], batch_size: int, step, *,
                groups: Sequence[int] | None = None, order: str = "descending") -> list:
    """Apply ``step(model, inputs) -> per-row outputs`` to :func:`padded_batches` of ``features``.

    Batches run longest first (``order``) under ``torch.inference_mode`` in
    eval mode (the model's training flag is restored afterwards); only
    :data:`MODEL_INPUTS` reach the model, on its device. Returns the outputs
    in the order of ``features``.
    """
    import torch

    check_positive("batch_size", batch_size, integer=True)
    features = list(features)
    out: list = [None] * len(features)
    device = model_device(model)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for idx, batch in padded_batches(features, batch_size, collate, order=order, groups=groups):
                inputs = {k: v.to(device) for k, v in batch.items() if k in MODEL_INPUTS}
                for i, row in zip(idx, step(model, inputs)):
                    out[i] = row
    finally:
        model.train(was_training)
    return out
