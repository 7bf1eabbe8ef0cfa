"""Each arm as it would be deployed, and the real inputs the inference chapter feeds it.

:func:`load_arm_model` loads an arm's trained model with its task head (for
retrieval tasks the arm's encoder) and never trains: a missing run is one
:class:`~helpers.errors.StudyError` line naming the chapter that trains it
(:func:`helpers.pipeline.require_trained`). :func:`task_inputs` encodes a
task's test examples exactly as evaluation does and batches them by length
(:func:`helpers.batching.padded_batches`). torch is imported inside the
functions (import cost).
"""

from __future__ import annotations

import math

from . import pipeline
from .batching import MODEL_INPUTS, padded_batches
from .config import StudyConfig
from .errors import check_positive
from .evaluation import saved_model_dir
from .models import load_model
from .preprocess import HEAD_FOR_FORMAT, collator_for, encode
from .sources import load_examples, load_retrieval
from .tasks import get_task
from .timing import make_batches

#: The A/A control arm: the direct arm's model loaded a second time.
AA_ARM = "direct-aa"


def load_arm_model(cfg: StudyConfig, arm: str, task: str):
    """The deployed model of ``arm`` on ``task`` (fine-tuned head, or the encoder for retrieval); nothing is trained.

    Trainable tasks load the run :func:`helpers.pipeline.require_trained`
    returns (one StudyError line naming chapter 05 when it is missing or
    stale); retrieval tasks the arm's encoder (:func:`helpers.pipeline.arm_model`:
    the pretrained preset for ``direct``, the intermediate run of a STILTs arm).
    ``arm="direct-aa"`` (:data:`AA_ARM`) loads the direct arm's model again:
    a second, independent copy (no tensor shared with the first).
    """
    arm = "direct" if arm == AA_ARM else arm
    spec = get_task(task)
    if spec.format == "retrieval":
        path, _ = pipeline.arm_model(cfg, arm, task)
        return load_model(path, head="encoder")
    run_dir = pipeline.require_trained(cfg, arm, task)
    return load_model(saved_model_dir(run_dir), head=HEAD_FOR_FORMAT[spec.format], keep_head=True)


def task_inputs(cfg: StudyConfig, task: str, tokenizer, *, examples: int = 64, batch_size: int = 16) -> list[dict]:
    """Length-bucketed batches of ``task``'s real test inputs, spread over its languages.

    About ``examples`` test examples in all, the same number per language;
    encoded as evaluation encodes them (pairs as pairs, multiple choice as
    [batch, choices, length], QA as doc-stride windows), labels dropped;
    shortest first (:func:`helpers.batching.padded_batches`).
    """
    import torch

    check_positive("examples", examples, integer=True)
    spec = get_task(task)
    langs = cfg.test_languages(task)
    per_lang = max(1, math.ceil(examples / len(langs)))
    max_length = pipeline.eval_max_length(cfg, task)
    source = cfg.data_source()
    if spec.format == "retrieval":
        texts = []
        for lang in langs:
            rs = load_retrieval(task, lang, source, limit=per_lang)
            texts += [rs.query_prefix + q for q in rs.queries]
            texts += [rs.candidate_prefix + c for c in rs.candidates[:per_lang]]
        return make_batches(tokenizer, texts, batch_size, max_length)
    items = []
    for lang in langs:
        items += load_examples(task, "test", lang, source, limit=per_lang)
    stride = pipeline.eval_doc_stride(cfg, task)
    features = encode(spec.format, items, tokenizer, max_length, train=False,
                      label_names=spec.labels, doc_stride=stride)
    rows = [{k: f[k] for k in MODEL_INPUTS if k in f} for f in features]
    return [{k: v for k, v in batch.items() if k in MODEL_INPUTS and isinstance(v, torch.Tensor)}
            for _, batch in padded_batches(rows, batch_size, collator_for(spec.format, tokenizer))]
