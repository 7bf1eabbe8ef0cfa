"""Recipes per profile, task and phase: the published numbers are pinned."""

from __future__ import annotations

import dataclasses

import pytest

from helpers.errors import StudyError
from helpers.recipes import Recipe, get_recipe


def test_full_target_recipes_match_xtreme_r_scripts():
    xnli = get_recipe("full", "xnli", "target")
    assert (xnli.learning_rate, xnli.effective_batch, xnli.epochs, xnli.max_length) == (3e-5, 32, 5, 128)
    assert get_recipe("full", "xcopa", "target") == xnli
    qa = get_recipe("full", "xquad", "target")
    assert (qa.learning_rate, qa.batch_size, qa.grad_accum, qa.epochs, qa.max_length, qa.doc_stride) == (3e-5, 8, 4, 3, 384, 128)
    pos = get_recipe("full", "udpos", "target")
    assert (pos.learning_rate, pos.effective_batch, pos.epochs, pos.max_length) == (2e-5, 32, 10, 128)
    assert "XTREME-R" in pos.reference and "838c13b69daa" in pos.reference
    assert not xnli.freeze_embeddings and not xnli.max_train_examples


def test_full_intermediate_recipes_follow_jiant():
    mnli = get_recipe("full", "mnli", "intermediate")
    assert (mnli.learning_rate, mnli.batch_size, mnli.grad_accum, mnli.max_length) == (1e-5, 4, 8, 256)
    squad = get_recipe("full", "squad", "intermediate")
    assert (squad.grad_accum, squad.max_length) == (4, 384)
    assert "jiant" in squad.reference
    multi = get_recipe("full", "multi", "intermediate")
    assert not hasattr(multi, "patience") and "no early stopping" in multi.reference


def test_embedded_is_small_and_frozen():
    for task, phase in (("xnli", "target"), ("panx", "target"), ("mnli", "intermediate"), ("hellaswag", "intermediate")):
        r = get_recipe("embedded", task, phase)
        assert r.freeze_embeddings and r.max_train_examples == 64 and r.max_length == 64 and r.batch_size == 8
        assert r.epochs == 3 and not r.bf16  # bf16 autocast is slower on this AVX2-only CPU
        assert r.freeze_layers == 0
    qa = get_recipe("embedded", "xquad", "target")
    assert (qa.max_length, qa.doc_stride, qa.epochs, qa.learning_rate) == (128, 64, 2, 3e-4)
    assert get_recipe("smoke", "xnli", "target").max_steps == 3


def test_recipe_is_frozen_and_xtreme_dir_reuses_full():
    r = get_recipe("xtreme-dir", "panx", "target")
    assert dataclasses.replace(r, reference="") == dataclasses.replace(get_recipe("full", "panx", "target"), reference="")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.learning_rate = 1.0  # type: ignore[misc]
    assert isinstance(r, Recipe)


@pytest.mark.parametrize(
    "args, message",
    [
        (("tiny", "xnli", "target"), "valid profiles: smoke, embedded, xtreme-dir, full"),
        (("full", "xnli", "pretrain"), "valid phases: intermediate, target"),
        (("full", "tatoeba", "target"), "tatoeba has no training data"),
        (("full", "bogus", "target"), "unknown task 'bogus'; trainable tasks"),
        (("full", "xnli", "intermediate"), "not trained in the intermediate phase"),
    ],
)
def test_bad_requests(args, message):
    with pytest.raises(StudyError, match=message):
        get_recipe(*args)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("epochs", 0, "epochs must be a positive number, got 0"),
        ("max_steps", -5, "max_steps must be a positive integer, got -5"),
        ("batch_size", 0, "batch_size must be a positive integer, got 0"),
        ("learning_rate", -1e-3, "learning_rate must be a positive number, got -0.001"),
        ("warmup_ratio", 1.0, r"warmup_ratio must be a number in \[0, 1\)"),
        ("eval_every", "often", "eval_every must be 'epoch' or a positive number of steps"),
    ],
)
def test_recipes_refuse_values_that_cannot_train(field, value, message):
    with pytest.raises(StudyError, match=message):
        dataclasses.replace(get_recipe("smoke", "xnli", "target"), **{field: value})


def test_cli_override_is_validated():
    from helpers.training import override_recipe

    r = override_recipe(get_recipe("smoke", "xnli", "target"), ["max_steps=8", "eval_every=2"])
    assert (r.max_steps, r.eval_every) == (8, 2)
    with pytest.raises(StudyError, match="learning_rate must be a positive number, got -1"):
        override_recipe(r, ["learning_rate=-1"])
    with pytest.raises(StudyError, match="bad recipe override 'lr=0.1'.*learning_rate"):
        override_recipe(r, ["lr=0.1"])


def test_freeze_layers_is_validated():
    import dataclasses

    from helpers.errors import StudyError

    r = get_recipe("embedded", "xnli", "target")
    assert dataclasses.replace(r, freeze_layers=6).freeze_layers == 6
    with pytest.raises(StudyError, match="freeze_layers must be a non-negative integer, got -1"):
        dataclasses.replace(r, freeze_layers=-1)


@pytest.mark.parametrize("assignment, message", [
    ("learning_rate=Infinity", "learning_rate must be a finite number, got inf"),
    ("learning_rate=NaN", "learning_rate must be a finite number, got nan"),
    ("weight_decay=Infinity", "weight_decay must be a finite number, got inf"),
    ("epochs=-Infinity", "epochs must be a finite number, got -inf"),
])
def test_non_finite_values_are_refused(assignment, message):
    """--set learning_rate=Infinity once trained a NaN model and exited 0 (issue 15)."""
    from helpers.training import override_recipe

    with pytest.raises(StudyError, match=message):
        override_recipe(get_recipe("smoke", "xnli", "target"), [assignment])


def test_retrieval_targets_keep_their_own_full_recipes():
    """LAReQA and Mewsli-X take XTREME-R's own scripts (TaskSpec.recipe), not a family's."""
    lareqa = get_recipe("full", "lareqa", "target")
    assert (lareqa.learning_rate, lareqa.batch_size, lareqa.grad_accum, lareqa.epochs, lareqa.max_length) == \
        (2e-5, 4, 4, 3, 352)
    mewslix = get_recipe("full", "mewslix", "target")
    assert (mewslix.learning_rate, mewslix.batch_size, mewslix.grad_accum, mewslix.epochs, mewslix.max_length) == \
        (1e-5, 8, 4, 2, 64)


def test_recipe_digests_match_the_committed_training_ledger():
    """Removing the unused ``patience`` field keeps the ``recipe`` digests of results/training_cost.csv."""
    import dataclasses
    import hashlib
    import json

    def digest(profile, task, phase):
        r = dataclasses.replace(get_recipe(profile, task, phase), seed=1)
        return hashlib.sha256(json.dumps([r.as_dict()], sort_keys=True, default=str).encode()).hexdigest()[:12]

    assert digest("embedded", "panx", "target") == "4da47a052511"
    assert digest("embedded", "tydiqa", "target") == "d53151f31400"
    assert digest("embedded", "mnli", "intermediate") == "9a532126d517"
