"""helpers.deployed: each arm's deployed model (forward only: nothing is trained) and the task inputs it is timed on."""

from __future__ import annotations

import pytest
import torch

from helpers import deployed, pipeline
from helpers.batching import MODEL_INPUTS
from helpers.config import configure
from helpers.errors import StudyError
from helpers.preprocess import HEAD_FOR_FORMAT, collator_for, encode
from helpers.sources import load_examples
from helpers.tasks import get_task
from tiny_models import FALLBACK_SENTENCES, train_tokenizer


def _no_training(*args, **kwargs):
    raise AssertionError("the inference chapter must not train")


def test_a_missing_run_is_one_line_naming_the_chapter_and_nothing_trains(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDY_RUNS_DIR", str(tmp_path))
    monkeypatch.setattr(pipeline, "target_run", _no_training)
    monkeypatch.setattr(pipeline, "intermediate_run", _no_training)
    cfg = configure(profile="smoke", task="xnli", arm="direct,mnli")
    for arm in ("direct", deployed.AA_ARM, "mnli"):
        with pytest.raises(StudyError, match=r"missing input: .* run chapter 05"):
            deployed.load_arm_model(cfg, arm, "xnli")
    assert not any(tmp_path.iterdir())  # no run directory was started


def test_the_trained_run_is_loaded_with_its_head_and_the_aa_arm_is_direct(monkeypatch, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    asked, loaded = [], []
    monkeypatch.setattr(pipeline, "require_trained", lambda cfg, arm, task: asked.append((arm, task)) or tmp_path)
    monkeypatch.setattr(deployed, "load_model", lambda path, **kw: loaded.append((path, kw)) or "model")
    cfg = configure(profile="smoke", task="xnli", arm="direct,mnli")
    assert deployed.load_arm_model(cfg, deployed.AA_ARM, "xnli") == "model"
    assert asked == [("direct", "xnli")]
    assert loaded == [(tmp_path / "model", {"head": HEAD_FOR_FORMAT["pair-classification"], "keep_head": True})]


def _old_task_inputs(features, tokenizer, fmt, batch_size):
    """efficiency.task_inputs' batching before it was written once (the reference the batches must equal)."""
    rows = [{k: f[k] for k in MODEL_INPUTS if k in f} for f in features]
    collate = collator_for(fmt, tokenizer)

    def length(row):
        ids = row["input_ids"]
        return max(len(x) for x in ids) if ids and isinstance(ids[0], list) else len(ids)

    order = sorted(range(len(rows)), key=lambda i: (length(rows[i]), i))
    out = []
    for start in range(0, len(order), batch_size):
        batch = collate([rows[i] for i in order[start:start + batch_size]])
        out.append({k: v for k, v in batch.items() if k in MODEL_INPUTS and isinstance(v, torch.Tensor)})
    return out


@pytest.mark.parametrize("profile,task", [("smoke", "xnli"), ("smoke", "panx"), ("smoke", "xquad"),
                                          ("embedded", "xcopa")])
def test_task_inputs_are_byte_identical_to_the_former_batching(profile, task):
    tok = train_tokenizer(list(FALLBACK_SENTENCES), vocab_size=120)
    cfg = configure(profile=profile, task=task, arm="direct")
    got = deployed.task_inputs(cfg, task, tok, examples=12, batch_size=5)
    spec_format = get_task(task).format
    items = []
    langs = cfg.test_languages(task)
    per_lang = -(-12 // len(langs))
    for lang in langs:
        items += load_examples(task, "test", lang, cfg.data_source(), limit=per_lang)
    features = encode(spec_format, items, tok, pipeline.eval_max_length(cfg, task), train=False,
                      label_names=get_task(task).labels, doc_stride=pipeline.eval_doc_stride(cfg, task))
    want = _old_task_inputs(features, tok, spec_format, 5)
    assert len(got) == len(want) > 1
    for a, b in zip(got, want):
        assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in b)
