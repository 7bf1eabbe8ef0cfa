"""FLOP counting and the training-cost ledger."""

from __future__ import annotations

import pytest
import torch

from helpers import costs
from helpers.errors import StudyError


class Linear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(4, 3, bias=False)

    def forward(self, x, labels=None):
        logits = self.proj(x)
        return {"loss": logits.sum() if labels is not None else None, "logits": logits}


def test_count_flops_pins_a_linear_layer_and_restores_gradients():
    model = Linear()
    batch = {"x": torch.ones(2, 4), "labels": torch.zeros(2)}
    # forward 2*2*4*3 = 48; backward: weight gradient only (the input needs no gradient) = 48
    assert costs.count_flops(model, batch) == 96
    assert model.proj.weight.grad is None
    model.proj.weight.grad = torch.full_like(model.proj.weight, 7.0)
    assert costs.count_flops(model, {"x": torch.ones(2, 4)}) == 96  # no loss: backprop the first output
    assert torch.equal(model.proj.weight.grad, torch.full_like(model.proj.weight, 7.0))


def test_count_flops_on_a_transformer_grows_with_length():
    from transformers import AutoModelForSequenceClassification, XLMRobertaConfig

    cfg = XLMRobertaConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=64, max_position_embeddings=80, pad_token_id=1, type_vocab_size=1)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(cfg)
    short = {"input_ids": torch.full((2, 8), 5), "labels": torch.tensor([0, 1])}
    long = {"input_ids": torch.full((2, 16), 5), "labels": torch.tensor([0, 1])}
    f8, f16 = costs.count_flops(model, short), costs.count_flops(model, long)
    # per token per layer: QKV+O 4*32*32 + FFN 2*32*64 = 8192 MACs; x2 FLOPs, x3 fwd+bwd, 2 layers, 16 tokens
    assert f8 > 3 * 2 * 8192 * 2 * 16
    assert 1.9 < f16 / f8 < 2.3


def test_count_flops_is_measured_once_per_architecture_trainable_set_and_shape(monkeypatch):
    from transformers import AutoModelForSequenceClassification, XLMRobertaConfig

    cfg = XLMRobertaConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=64, max_position_embeddings=80, pad_token_id=1, type_vocab_size=1)
    torch.manual_seed(0)
    a = AutoModelForSequenceClassification.from_config(cfg)
    torch.manual_seed(1)
    b = AutoModelForSequenceClassification.from_config(cfg)  # same shape, other weights: same FLOPs
    batch = {"input_ids": torch.full((2, 8), 5), "labels": torch.tensor([0, 1])}
    monkeypatch.setattr(costs, "_FLOPS_CACHE", {})
    measured = []
    real = costs._count_flops
    monkeypatch.setattr(costs, "_count_flops", lambda m, x: measured.append(1) or real(m, x))
    first = costs.count_flops(a, batch)
    assert costs.count_flops(b, {"input_ids": torch.full((2, 8), 7), "labels": torch.tensor([1, 1])}) == first
    assert len(measured) == 1
    longer = costs.count_flops(a, {"input_ids": torch.full((2, 9), 5), "labels": torch.tensor([0, 1])})
    a.roberta.embeddings.word_embeddings.weight.requires_grad_(False)
    frozen = costs.count_flops(a, batch)
    assert len(measured) == 3 and longer > first
    assert frozen == real(a, batch)  # the frozen model's own count, not the trainable one's
    assert costs.count_flops(Linear(), {"x": torch.ones(2, 4)}) == 96  # no config: measured every time
    assert costs.count_flops(Linear(), {"x": torch.ones(2, 4)}) == 96 and len(measured) == 5


def test_scale_flops():
    assert costs.scale_flops(1000, 100, 250) == 2500
    with pytest.raises(StudyError):
        costs.scale_flops(1000, 0, 5)


def test_ledger_upserts_by_key(isolated_results):
    row = costs.training_cost_row(profile="smoke", arm="direct", phase="target", task="xnli", seed=1,
                                  examples=12, tokens=300, steps=3, wall_s=1.23456, flops=10**9,
                                  peak_mem_mb=512.0, device="cpu-test")
    assert list(row) == list(costs.COLUMNS)
    costs.record_training_cost(row)
    costs.record_training_cost({**row, "steps": 4})
    costs.record_training_cost({**row, "seed": 2})
    rows = costs.read_training_cost()
    assert [(r["seed"], r["steps"]) for r in rows] == [("1", "4"), ("2", "3")]
    assert rows[0]["wall_s"] == "1.235" and rows[0]["device"] == "cpu-test"
    assert (isolated_results / "results" / "training_cost.csv").read_text().splitlines()[0] == ",".join(costs.COLUMNS)


def test_bad_rows_are_refused(isolated_results):
    with pytest.raises(StudyError, match="valid phases: intermediate, target"):
        costs.training_cost_row(profile="smoke", arm="direct", phase="pretrain", task="xnli", seed=1,
                                examples=1, tokens=1, steps=1, wall_s=0.1, flops=1)
    with pytest.raises(StudyError, match="tokens must be a non-negative integer"):
        costs.training_cost_row(profile="smoke", arm="direct", phase="target", task="xnli", seed=1,
                                examples=1, tokens=-1, steps=1, wall_s=0.1, flops=1)
    with pytest.raises(StudyError, match="lacks columns"):
        costs.record_training_cost({"profile": "smoke"})
    row = costs.training_cost_row(profile="smoke", arm="direct", phase="target", task="xnli", seed=1,
                                  examples=1, tokens=1, steps=1, wall_s=0.1, flops=1)
    assert row["peak_mem_mb"] > 10  # this process's max RSS


def test_cost_identity_follows_the_lineage_to_its_preset(tmp_path):
    """model: the preset at the start of the lineage (through each run's params.json); recipe: a digest
    of the resolved recipes that changes with any field; source: the kind of a source without a root."""
    import json

    inter = tmp_path / "mnli" / "seed1"
    inter.mkdir(parents=True)
    (inter / "params.json").write_text(json.dumps({"init": "tiny"}))
    target = tmp_path / "mnli___xnli" / "seed1"
    target.mkdir(parents=True)
    (target / "params.json").write_text(json.dumps({"init": str(inter)}))

    class Source:
        kind = "embedded"

    a = costs.cost_identity({"init": str(target), "recipes": [{"learning_rate": 1e-4}]}, Source())
    assert a == {"model": "tiny", "source": "embedded", "recipe": "ddc358dcace2"}  # sha256 of the sorted JSON list
    b = costs.cost_identity({"init": "e5-small", "recipe": {"learning_rate": 2e-4}}, "hub")
    assert b["model"] == "e5-small" and b["source"] == "hub" and b["recipe"] != a["recipe"]
    assert costs.cost_identity({"init": str(tmp_path / "elsewhere")}, Source())["model"] == "elsewhere"
