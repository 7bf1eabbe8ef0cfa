"""helpers.batching: the one length-sorted, padded batching (timing, evaluation, the inference chapter)."""

from __future__ import annotations

import pytest
import torch

from helpers import batching, timing
from helpers.errors import StudyError
from tiny_models import FALLBACK_SENTENCES, train_tokenizer

TEXTS = list(FALLBACK_SENTENCES) + ["Ja.", "Oui, bien sûr, demain matin si tu veux bien venir avec nous à la gare."]


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(TEXTS, vocab_size=120)


def test_index_batches_orders_pinned():
    lengths = [5, 3, 9, 2, 7, 4]
    assert batching.index_batches(lengths, 4) == [[3, 1, 5, 0], [4, 2]]
    assert batching.index_batches(lengths, 4, order="descending") == [[2, 4, 0, 5], [1, 3]]
    assert batching.index_batches(lengths, 4, order="input") == [[0, 1, 2, 3], [4, 5]]
    # groups (choices of multiple choice) come first and never share a batch; ties keep input order
    assert batching.index_batches([3, 5, 5, 2, 5], 2, order="descending", groups=[2, 2, 3, 2, 2]) == [[1, 4], [0, 3], [2]]
    with pytest.raises(StudyError, match="order"):
        batching.index_batches(lengths, 4, order="longest")
    with pytest.raises(StudyError, match="batch_size"):
        batching.index_batches(lengths, 0)


def test_pad_features_right_pads_with_the_pad_id():
    class Tok:
        pad_token_id = 1

    collate = batching.pad_features(Tok())
    out = collate([{"input_ids": [0, 7, 2], "attention_mask": [1, 1, 1]}, {"input_ids": [0, 2], "attention_mask": [1, 1]}])
    assert out["input_ids"].tolist() == [[0, 7, 2], [0, 2, 1]] and out["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert out["input_ids"].dtype == torch.long and set(out) == {"input_ids", "attention_mask"}
    wide = batching.pad_features(Tok(), width=4)([{"input_ids": [0, 2], "attention_mask": [1, 1], "token_type_ids": [0, 0]}])
    assert wide["input_ids"].tolist() == [[0, 2, 1, 1]] and wide["token_type_ids"].tolist() == [[0, 0, 0, 0]]


def _old_make_batches(tokenizer, texts, batch_size, max_length, bucketed):
    """helpers.timing.make_batches before the batching was written once (the reference the batches must equal)."""
    if bucketed:
        lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
        order = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
        padding = "longest"
    else:
        order = list(range(len(texts)))
        padding = "max_length"
    return [tokenizer([texts[i] for i in order[s:s + batch_size]], padding=padding, truncation=True,
                      max_length=max_length, return_tensors="pt") for s in range(0, len(order), batch_size)]


@pytest.mark.parametrize("bucketed", [True, False])
@pytest.mark.parametrize("batch_size,max_length", [(4, 16), (5, 8), (32, 128)])
def test_make_batches_are_byte_identical_to_the_tokenizer_padding(tok, bucketed, batch_size, max_length):
    new = timing.make_batches(tok, TEXTS, batch_size, max_length, bucketed=bucketed)
    old = _old_make_batches(tok, TEXTS, batch_size, max_length, bucketed)
    assert len(new) == len(old)
    for a, b in zip(new, old):
        assert set(a.keys()) == set(b.keys())
        for key in b.keys():
            assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key


def test_run_batches_runs_longest_first_and_returns_input_order():
    seen = []

    class Model(torch.nn.Module):
        def forward(self, input_ids, attention_mask):
            seen.append(input_ids.shape)
            return input_ids.sum(dim=1)

    class Tok:
        pad_token_id = 0

    features = [{"input_ids": [1] * n, "attention_mask": [1] * n, "labels": 9} for n in (3, 5, 2, 5, 4)]
    model = Model().train()
    out = batching.run_batches(model, features, batching.pad_features(Tok()), 2, lambda m, x: m(**x).tolist())
    assert out == [3, 5, 2, 5, 4] and seen == [(2, 5), (2, 4), (1, 2)]
    assert model.training  # restored


def test_make_batches_with_the_real_xlmr_tokenizer_are_byte_identical():
    from helpers.models import load_tokenizer

    try:
        real = load_tokenizer("e5-small")
    except (StudyError, OSError) as exc:  # the converted e5-small files are absent
        pytest.skip(f"no e5-small tokenizer here: {exc}")
    texts = TEXTS * 3 + ["x " * 300]  # one sentence longer than max_length: truncated alike
    for bucketed in (True, False):
        for a, b in zip(timing.make_batches(real, texts, 8, 32, bucketed=bucketed),
                        _old_make_batches(real, texts, 8, 32, bucketed), strict=True):
            assert set(a.keys()) == set(b.keys()) and all(torch.equal(a[k], b[k]) for k in b.keys())


def test_evaluation_order_equals_the_former_longest_first_grouped_batching():
    """The batches evaluation ran before the batching was written once: sorted by (group, -length, index),
    cut when full or when the group changes."""
    import random

    rng = random.Random(3)
    for _ in range(50):
        n = rng.randint(1, 40)
        lengths = [rng.randint(1, 12) for _ in range(n)]
        groups = [rng.choice([0, 2, 3]) for _ in range(n)]
        size = rng.randint(1, 9)
        order = sorted(range(n), key=lambda i: (groups[i], -lengths[i], i))
        want: list[list[int]] = []
        for i in order:
            if not want or len(want[-1]) == size or groups[want[-1][0]] != groups[i]:
                want.append([])
            want[-1].append(i)
        assert batching.index_batches(lengths, size, order="descending", groups=groups) == want
