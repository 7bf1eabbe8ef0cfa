"""The ``tiny`` model preset: a 2-layer XLM-R-shaped encoder with a Unigram tokenizer trained on the fly.

The smoke profile's encoder, built offline and deterministically (same corpus, seed and code give the
same files) into ``<cache>/models/tiny`` by :func:`ensure_tiny`; :func:`helpers.models.model_path`
builds it on first use.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Iterable, Sequence

import torch
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
from tokenizers.models import Unigram
from transformers import XLMRobertaConfig, XLMRobertaModel

from .e5convert import wrap_fast
from .errors import StudyError
from .models import PRESETS
from .runs import atomic_directory, atomic_write_json, cache_root, file_lock, read_json

TINY_SEED = 0
TINY_VOCAB = 1200
TINY_CORPUS: tuple[str, ...] = (
    "The cat sat on the mat and looked at the garden.",
    "A man is playing a guitar on the street while people listen.",
    "Where is the train station? It is next to the old market.",
    "She reads a book every evening before she goes to sleep.",
    "We will meet tomorrow at ten o'clock in the morning.",
    "The weather is nice today, so the children play outside.",
    "Die Katze sitzt auf der Matte und schaut in den Garten.",
    "Ein Mann spielt Gitarre auf der Straße, und die Leute hören zu.",
    "Wo ist der Bahnhof? Er ist neben dem alten Markt.",
    "Wir treffen uns morgen um zehn Uhr am Morgen.",
    "Le chat est assis sur le tapis et regarde le jardin.",
    "Où est la gare ? Elle est à côté du vieux marché.",
    "El gato está sentado en la alfombra y mira el jardín.",
    "¿Dónde está la estación de tren? Está junto al mercado viejo.",
    "Кошка сидит на коврике и смотрит в сад.",
    "Где находится вокзал? Он рядом со старым рынком.",
    "Мы встретимся завтра в десять часов утра.",
    "猫坐在垫子上看着花园。",
    "火车站在哪里？它在老市场旁边。",
    "我们明天早上十点见面。今天天气很好，孩子们在外面玩。",
    "القطة تجلس على الحصيرة وتنظر إلى الحديقة.",
    "أين محطة القطار؟ إنها بجانب السوق القديم.",
    "बिल्ली चटाई पर बैठी है और बगीचे को देख रही है।",
    "रेलवे स्टेशन कहाँ है? यह पुराने बाज़ार के पास है।",
    "Paka ameketi kwenye mkeka na anaangalia bustani.",
    "Kedi paspasın üzerinde oturuyor ve bahçeye bakıyor.",
    "Η γάτα κάθεται στο χαλί και κοιτάζει τον κήπο.",
    "猫はマットの上に座って庭を見ています。",
    "고양이가 매트 위에 앉아 정원을 보고 있다.",
    "แมวนั่งอยู่บนเสื่อและมองดูสวน",
    "Con mèo ngồi trên tấm thảm và nhìn ra vườn.",
    "Kucing itu duduk di atas tikar dan melihat ke taman.",
    "0123456789 + - * / = % ( ) [ ] , . ; : ! ? ' \" & @ #",
)
_TINY_ALPHABET = "".join(chr(c) for c in range(0x21, 0x7F))


def tiny_dir() -> Path:
    return cache_root() / "models" / "tiny"


def _tiny_digest(corpus: Sequence[str], seed: int, vocab_size: int) -> str:
    src = Path(__file__).read_bytes()
    payload = json.dumps({"corpus": list(corpus), "seed": seed, "vocab": vocab_size}, ensure_ascii=False)
    return hashlib.sha256(src + payload.encode()).hexdigest()[:16]


def train_tiny_tokenizer(corpus: Iterable[str] = TINY_CORPUS, vocab_size: int = TINY_VOCAB):
    """A Unigram ``tokenizers.Tokenizer`` trained on ``corpus`` with XLM-R's specials and templates.

    ``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3, ``<mask>`` last; NFKC,
    collapsed spaces and U+2581 word starts as in XLM-R.
    """
    meta = "\u2581"
    corpus = list(corpus)
    tok = Tokenizer(Unigram())
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.NFKC(),
            normalizers.Replace(Regex(r"\s+"), " "),
            normalizers.Prepend(" "),
            normalizers.Replace(Regex(" {2,}"), " "),
            normalizers.Replace(" ", meta),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=meta, prepend_scheme="never", split=True)
    alphabet = sorted(set(_TINY_ALPHABET) | {c for line in corpus for c in line if not c.isspace()})
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        unk_token="<unk>",
        initial_alphabet=alphabet,
        shrinking_factor=0.75,
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    # the trainer's parallel sums differ in the last bits from run to run, and the
    # characters it appends get ``min + k * 1e-4`` scores in hash order: round the
    # scores, score single characters by their corpus frequency, sort ties by piece
    state = json.loads(tok.to_str())
    counts: dict[str, int] = {}
    for line in corpus:
        for word in line.split():
            counts[meta] = counts.get(meta, 0) + 1
            for c in word:
                counts[c] = counts.get(c, 0) + 1
    total = sum(counts.values()) + len(alphabet)
    vocab = []
    for piece, score in state["model"]["vocab"][4:]:
        if len(piece) == 1:
            score = math.log((counts.get(piece, 0) + 0.5) / total) - 1.0
        vocab.append([piece, round(score, 6)])
    state["model"]["vocab"] = state["model"]["vocab"][:4] + sorted(vocab, key=lambda item: (-item[1], item[0]))
    tok = Tokenizer.from_str(json.dumps(state))
    tok.add_special_tokens(["<mask>"])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tok.decoder = decoders.Metaspace(replacement=meta, prepend_scheme="always", split=True)
    return tok


def build_tiny(dest: str | os.PathLike | None = None, corpus: Sequence[str] | None = None, seed: int = TINY_SEED) -> Path:
    """Write the tiny preset (tokenizer + randomly initialised encoder) into ``dest``, deterministically."""
    corpus = tuple(corpus) if corpus is not None else TINY_CORPUS
    if not corpus:
        raise StudyError("the tiny tokenizer needs a non-empty corpus")
    dest = Path(dest) if dest is not None else tiny_dir()
    preset = PRESETS["tiny"]
    tok = train_tiny_tokenizer(corpus)
    fast = wrap_fast(tok, model_max_length=preset.max_length)
    kwargs = preset.config_kwargs()
    kwargs["vocab_size"] = tok.get_vocab_size()
    config = XLMRobertaConfig(
        **kwargs, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5,
        tokenizer_class="PreTrainedTokenizerFast",
    )
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = XLMRobertaModel(config)
    finally:
        torch.random.set_rng_state(state)
    with atomic_directory(dest, kind="tiny-preset", owned_if=("tiny.json",)) as tmp:
        model.save_pretrained(tmp)
        fast.save_pretrained(tmp)
        atomic_write_json(tmp / "tiny.json", {"digest": _tiny_digest(corpus, seed, TINY_VOCAB), "seed": seed})
    return dest


def ensure_tiny(dest: str | os.PathLike | None = None, corpus: Sequence[str] | None = None, seed: int = TINY_SEED) -> Path:
    """The tiny preset's directory, built once per corpus/seed/code."""
    corpus = tuple(corpus) if corpus is not None else TINY_CORPUS
    dest = Path(dest) if dest is not None else tiny_dir()
    digest = _tiny_digest(corpus, seed, TINY_VOCAB)

    def fresh() -> bool:
        try:
            return read_json(dest / "tiny.json").get("digest") == digest and (dest / "config.json").is_file()
        except (OSError, ValueError):
            return False

    if fresh():
        return dest
    with file_lock(dest):
        if not fresh():
            build_tiny(dest, corpus, seed)
    return dest


