"""Extrapolation to the full profile: token proxies, padding, training-step throughput, hours per arm."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import scaling
from helpers.errors import StudyError


# --------------------------------------------------------------------------- padding
def test_dynamic_padding_pads_each_shuffled_batch_to_its_longest():
    # seed 0 shuffles 4 units to [2, 0, 1, 3]: batches ([2], [3]) -> 2 x 3, ([5], [4]) -> 2 x 5
    assert scaling._dynamic_padding([[3], [5], [2], [4]], batch_size=2) == 16
    # multiple choice: an example's choices travel together; 3 units shuffle to [0, 2, 1]
    # ([3, 4], [6, 1]) -> 4 sequences x 6; ([2, 2]) -> 2 x 2
    assert scaling._dynamic_padding([[3, 4], [2, 2], [6, 1]], batch_size=2) == 28
    assert scaling._dynamic_padding([[3], [5]], batch_size=1) == 8  # batch 1: no padding


# --------------------------------------------------------------------------- HellaSwag's format
def test_hellaswag_format_examples_have_a_two_sentence_context_and_four_endings():
    sentences = [f"Sentence number {i}." for i in range(8)]
    examples = scaling.hellaswag_format_examples(sentences, 3, seed=0)
    assert len(examples) == 3
    first = examples[0]
    assert first["context"] == "Sentence number 0. Sentence number 1."
    assert first["question"] == "" and len(first["choices"]) == 4 and first["label"] == 0
    assert first["choices"][0] == "Sentence number 2."  # the true continuation
    assert not {"Sentence number 0.", "Sentence number 1.", "Sentence number 2."} & set(first["choices"][1:])
    with pytest.raises(StudyError, match="at least 6 sentences"):
        scaling.hellaswag_format_examples(sentences[:5], 2)


# --------------------------------------------------------------------------- tokens per example on real files
@pytest.fixture(scope="module")
def small_tokenizer():
    from helpers.tatoeba import sample_sentences
    from tiny_models import train_tokenizer

    texts, _ = sample_sentences(400)
    return train_tokenizer(texts, vocab_size=800)


def test_anli_plus_is_the_size_weighted_mixture_of_its_parts(realdata, small_tokenizer):
    got = scaling.tokens_per_example("anli", small_tokenizer, sample=24)
    parts = {part: scaling._measure(*scaling._TOKEN_SOURCES[part], small_tokenizer, 24, None, "anli", 0)
             for part in scaling.ANLI_PLUS}
    total = sum(scaling.ANLI_PLUS.values())
    assert total == scaling.TRAIN_SIZES["anli"]
    expected = sum(scaling.ANLI_PLUS[p] * m["tokens"] for p, m in parts.items()) / total
    assert got["tokens"] == pytest.approx(expected)
    # ANLI's own long premises are 15% of ANLI+: the mixture sits well below them
    assert got["tokens"] < 0.8 * parts["anli"]["tokens"]
    assert "anli 162,865" in got["measured_on"] and "snli 550,152" in got["measured_on"] and got["proxy"]


def test_hellaswag_is_measured_in_its_own_format_not_cosmosqa(realdata, small_tokenizer):
    hella = scaling.tokens_per_example("hellaswag", small_tokenizer, sample=24)
    cosmos = scaling.tokens_per_example("cosmosqa", small_tokenizer, sample=24)
    assert "HellaSwag format" in hella["measured_on"] and hella["proxy"]
    assert hella["sequences"] == 4  # four endings, each paired with the context
    assert hella["tokens"] < 0.9 * cosmos["tokens"]  # no passage, no question
    assert hella["padded_max"] == pytest.approx(4 * hella["max_length"])
    assert hella["tokens"] <= hella["padded_dynamic"] <= hella["padded_max"]


def test_unknown_task_names_the_valid_ones(small_tokenizer):
    with pytest.raises(StudyError, match="valid tasks: anli, ccg"):
        scaling.tokens_per_example("snli", small_tokenizer)


# --------------------------------------------------------------------------- training-step FLOPs and throughput
def test_training_step_flops_on_meta_equal_a_real_eager_count():
    import torch

    from helpers.costs import count_flops
    from helpers.models import load_model

    meta = scaling.training_step_flops("tiny", 2, 16)
    torch.manual_seed(0)
    model = load_model("tiny", head="sequence-classification", num_labels=3, pretrained=False,
                       attn_implementation="eager")
    ids = torch.randint(5, model.config.vocab_size, (2, 16))
    real = count_flops(model, {"input_ids": ids, "labels": torch.zeros(2, dtype=torch.long)})
    assert meta == real > 0


def test_training_step_flops_build_a_missing_local_preset_outside_the_meta_device(tmp_path, monkeypatch):
    expected = scaling.training_step_flops("tiny", 2, 16)
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path))  # no tiny model files yet: they are built first
    assert scaling.training_step_flops("tiny", 2, 16) == expected
    assert (tmp_path / "models" / "tiny").is_dir()


def test_measure_training_step_splits_out_the_optimizer_and_takes_bf16():
    step = scaling.measure_training_step("tiny", batch=2, length=16, steps=2, precision="bf16")
    assert step.precision == "bf16" and step.tokens_per_s == pytest.approx(32 / step.seconds_per_step)
    assert 0 < step.optimizer_seconds <= step.seconds_per_step
    assert step.flops_per_token == scaling.training_step_flops("tiny", 2, 16) / 32
    with pytest.raises(StudyError, match="tf32 needs a CUDA GPU; valid precisions on cpu: fp32, bf16"):
        scaling.measure_training_step("tiny", batch=2, length=16, steps=2, precision="tf32")
    with pytest.raises(StudyError, match="precision"):
        scaling.measure_training_step("tiny", batch=2, length=16, steps=2, precision="int4")


# --------------------------------------------------------------------------- the full study
def _inputs():
    # two intermediate tasks and two target tasks; numbers chosen to check by hand
    return pd.DataFrame({
        "phase": ["intermediate", "intermediate", "target", "target"],
        "examples": [1000, 500, 2000, 100],
        "epochs": [3.0, 3.0, 2.0, 10.0],
        "tokens": [50.0, 400.0, 40.0, 30.0],
        "sequences": [1.0, 4.0, 1.0, 1.0],
        "padded_dynamic": [80.0, 480.0, 60.0, 350.0],
        "padded_max": [256.0, 1024.0, 128.0, 384.0],
    }, index=pd.Index(["mnli", "hellaswag", "xnli", "xquad"], name="task"))


GPU = {"H200 bf16": {128: {"tokens_per_s": 1000.0, "flops_per_token": 2e9},
                     512: {"tokens_per_s": 500.0, "flops_per_token": 3e9}}}


def test_extrapolate_full_counts_real_tokens_for_flops_and_padded_positions_for_hours():
    cpu = scaling.StepThroughput("xlmr-large", 8, 128, 3, 10.0, 100.0, 1.8e9, "cpu")
    out = scaling.extrapolate_full(_inputs(), gpu=GPU, cpu=cpu)
    assert out.loc["mnli", "tokens"] == 1000 * 50 * 3
    assert out.loc["mnli", "PFLOPs"] == pytest.approx(150_000 * 2e9 / 1e15)
    assert out.loc["mnli", "positions (dynamic)"] == 1000 * 80 * 3
    assert out.loc["mnli", "H200 bf16-hours"] == pytest.approx(240_000 / 1000 / 3600)
    assert out.loc["mnli", "H200 bf16-hours padded"] == pytest.approx(1000 * 256 * 3 / 1000 / 3600)
    assert out.loc["mnli", "CPU-hours"] == pytest.approx(240_000 / 100 / 3600)
    # the measured length nearest to the mean padded sequence: 80 -> 128; hellaswag 480 / 4 = 120 -> 128;
    # xquad 350 -> 512 (FLOPs per token and throughput of that row)
    assert list(out["measured length used"]) == [128, 128, 128, 512]
    assert out.loc["xquad", "PFLOPs"] == pytest.approx(100 * 30 * 10 * 3e9 / 1e15)
    assert out.loc["xquad", "H200 bf16-hours"] == pytest.approx(100 * 350 * 10 / 500 / 3600)
    with pytest.raises(StudyError, match="at least one measured GPU throughput"):
        scaling.extrapolate_full(_inputs(), gpu={})


def test_arm_costs_charge_every_stilts_arm_its_targets_too():
    per_task = scaling.extrapolate_full(_inputs(), gpu=GPU)
    arms = scaling.arm_costs(per_task, ["mnli", "hellaswag"])
    direct = per_task.loc[["xnli", "xquad"], "PFLOPs"].sum()
    inter = per_task.loc[["mnli", "hellaswag"], "PFLOPs"].sum()
    assert arms.loc["direct (all targets)", "PFLOPs"] == pytest.approx(direct)
    assert arms.loc["one STILTs arm: + MNLI", "extra PFLOPs vs direct"] == pytest.approx(per_task.loc["mnli", "PFLOPs"])
    assert arms.loc["multi (nine mixed, one pass each)", "x direct"] == pytest.approx((direct + inter) / direct)
    whole = "the whole full study (direct, 2 single-task arms, multi)"
    assert arms.loc[whole, "PFLOPs"] == pytest.approx(4 * direct + 2 * inter)
    hours = per_task["H200 bf16-hours"]
    assert arms.loc[whole, "H200 bf16-hours"] == pytest.approx(4 * hours[["xnli", "xquad"]].sum()
                                                               + 2 * hours[["mnli", "hellaswag"]].sum())
    assert "one STILTs arm: + SQuAD" not in arms.index  # not in this plan


def test_cpu_step_shape_is_8x128_except_in_smoke():
    assert scaling.cpu_step_shape("embedded") == (8, 128) and scaling.cpu_step_shape("full") == (8, 128)
    assert scaling.cpu_step_shape("smoke") == (2, 32)
    with pytest.raises(StudyError, match="profile"):
        scaling.cpu_step_shape("huge")


def test_record_full_extrapolation_replaces_every_row_of_the_profile(isolated_results):
    from helpers.runs import read_table, results_root, upsert_rows

    path = results_root() / "full_extrapolation.csv"
    upsert_rows(path, [{"profile": "embedded", "arm": "all nine single-task arms", "x direct": 5.1},
                       {"profile": "smoke", "arm": "direct (all targets)", "x direct": 1.0}], key=("profile", "arm"))
    arms = scaling.arm_costs(scaling.extrapolate_full(_inputs(), gpu=GPU), ["mnli", "hellaswag"])
    scaling.record_full_extrapolation("embedded", arms)
    rows = read_table(path)
    embedded = [r for r in rows if r["profile"] == "embedded"]
    assert sorted(r["arm"] for r in embedded) == sorted(arms.index)  # the renamed arm left no stale row
    assert [r for r in rows if r["profile"] == "smoke"] == [
        {**{c: "" for c in rows[0]}, "profile": "smoke", "arm": "direct (all targets)", "x direct": "1.0"}]
    multi = next(r for r in embedded if r["arm"] == "multi (nine mixed, one pass each)")
    assert float(multi["x direct"]) == round(arms.loc["multi (nine mixed, one pass each)", "x direct"], 4)
    assert "H200 bf16-hours" in rows[0] and "PFLOPs" in rows[0]
