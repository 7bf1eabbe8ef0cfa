"""The inference sweeps: one lever at a time (batch size, length, dtype, padding, model size, language,
early exit, flush-to-zero), every variant timed interleaved by :func:`helpers.timing.time_entries`.

torch is imported inside the functions (import cost).
"""

from __future__ import annotations

import copy
import math
from typing import Mapping, Sequence

from . import models as model_presets
from .devices import DTYPES, cast, dtype_label, prepare_model, resolve_device
from .errors import StudyError, check_choice, check_positive
from .timing import make_batches, time_entries


def _flush_denormal_view(model, on: bool):
    """``model`` behind a module whose every call first sets ``torch.set_flush_denormal(on)``."""
    import torch

    class FlushDenormal(torch.nn.Module):
        def __init__(self, inner, flag: bool):
            super().__init__()
            self.inner = inner
            self.flag = flag

        def forward(self, **inputs):
            torch.set_flush_denormal(self.flag)
            return self.inner(**inputs)

    return FlushDenormal(model, on)


def sweep_flush_denormal(model, batches, *, warmup: int = 1, repeats: int = 4,
                         order: str = "balanced", seed: int = 0, labels: Mapping[str, object] | None = None) -> list[dict]:
    """The same model and batches with flush-to-zero of subnormals off and on, interleaved (CPU).

    ``torch.set_flush_denormal(True)`` makes the CPU treat subnormal inputs
    and results as zero (the FTZ/DAZ flags), so it removes any slowdown that
    subnormal weights or activations cause. Arms are named
    ``flush_denormal=off`` and ``flush_denormal=on``; the flag is set at the
    start of each forward call of the entry (a few nanoseconds, inside the
    timed pass) and switched off again at the end. Returns rows as
    :func:`time_entries` does, with ``sweep="flush_denormal"``.
    """
    import torch

    if not torch.set_flush_denormal(False):
        raise StudyError("this CPU does not support flushing subnormals (torch.set_flush_denormal needs SSE3); "
                         "valid devices for this check: an x86 CPU with SSE3")
    batches = list(batches)
    entries = [({**(labels or {}), "sweep": "flush_denormal", "arm": f"flush_denormal={'on' if on else 'off'}"},
                _flush_denormal_view(model, on), batches) for on in (False, True)]
    try:
        return time_entries(entries, warmup=warmup, repeats=repeats, device="cpu", order=order, seed=seed)
    finally:
        torch.set_flush_denormal(False)



# --------------------------------------------------------------------------- sweeps
def _prep(model, device, dtype):
    return prepare_model(model, device, dtype)


def sweep_batch_size(model, tokenizer, texts, *, batch_sizes=(1, 8, 32), max_length: int = 128, arm: str = "direct",
                     device: str = "cpu", dtype: str | None = None, warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Tokens/s at each batch size (bucketed batches), interleaved."""
    device = resolve_device(device)
    model = _prep(model, device, dtype)
    entries = [({"sweep": "batch_size", "arm": arm, "batch": bs, "length": max_length},
                model, make_batches(tokenizer, texts, bs, max_length)) for bs in batch_sizes]
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)


def filled_texts(tokenizer, texts: Sequence[str], length: int, n: int) -> list[str]:
    """``n`` texts of real sentences joined until each fills ``length`` tokens (special tokens included).

    Sentences are taken in order (cycling through ``texts``) and joined with
    spaces; a text is closed once its encoding reaches ``length`` tokens, so
    truncation at ``length`` cuts only its last sentence. Every text then
    encodes to exactly ``length`` tokens: real words, no padding.
    """
    check_positive("length", length, integer=True)
    check_positive("n", n, integer=True)
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        raise StudyError("texts must hold at least one non-empty sentence to fill lengths with")
    out, i = [], 0
    for _ in range(n):
        parts: list[str] = []
        while True:
            parts.append(texts[i % len(texts)])
            i += 1
            if len(tokenizer(" ".join(parts), truncation=False)["input_ids"]) >= length:
                break
            if len(parts) > 10 * length:  # sentences that add no tokens: cannot fill
                raise StudyError(f"the sentences do not fill {length} tokens")
        out.append(" ".join(parts))
    return out


def sweep_length(model, tokenizer, texts, *, lengths=(32, 64, 128), batch_size: int = 32, arm: str = "direct",
                 device: str = "cpu", dtype: str | None = None, warmup: int = 1, repeats: int = 3,
                 sequences: int | None = None) -> list[dict]:
    """Tokens/s at each sequence length, every position a real token, interleaved.

    For each length, ``sequences`` texts (default ``batch_size``) of real
    sentences concatenated to fill it (:func:`filled_texts`), truncated at
    the length: every sequence is exactly that long, with no padding, so the
    sweep measures the cost of the length itself. (The cost of padding short
    sentences to a length is the padding sweep's, :func:`sweep_padding`.)
    Rows are labelled ``sweep="length"``, ``padding="filled"``.
    """
    device = resolve_device(device)
    model = _prep(model, device, dtype)
    n = sequences or batch_size
    entries = [({"sweep": "length", "arm": arm, "batch": batch_size, "length": L, "padding": "filled"},
                model, make_batches(tokenizer, filled_texts(tokenizer, texts, L, n), batch_size, L)) for L in lengths]
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)


def sweep_dtype(model, tokenizer, texts, *, dtypes=("fp32", "bf16", "int8"), batch_size: int = 32,
                max_length: int = 128, device: str = "cpu", warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Tokens/s in each precision on the same batches; arms are named by dtype.

    ``model`` must be fp32; bf16/fp16 arms are cast copies, ``int8`` the
    dynamic int8 copy (CPU only).
    """
    device = resolve_device(device)
    for dt in dtypes:
        check_choice("dtype", dt, DTYPES)
    if "int8" in dtypes and device != "cpu":
        raise StudyError("dtype 'int8' (dynamic quantisation) runs on cpu only; valid dtypes on cuda: fp32, bf16, fp16")
    model = prepare_model(model, device)
    batches = make_batches(tokenizer, texts, batch_size, max_length)
    entries = []
    for dt in dtypes:
        variant = model if dt == dtype_label(model) else cast(copy.deepcopy(model).float(), dt)
        if dt != "int8":
            variant = variant.to(device)
        entries.append(({"sweep": "dtype", "arm": dt, "dtype": dt, "batch": batch_size, "length": max_length},
                        variant, batches))
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)


def sweep_padding(model, tokenizer, texts, *, batch_size: int = 32, max_length: int = 128, arm: str = "direct",
                  device: str = "cpu", dtype: str | None = None, warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Length-bucketed batches against naive padding to ``max_length``; same sentences, same real tokens."""
    device = resolve_device(device)
    model = _prep(model, device, dtype)
    entries = [({"sweep": "padding", "arm": kind, "padding": kind, "batch": batch_size, "length": max_length},
                model, make_batches(tokenizer, texts, batch_size, max_length, bucketed=(kind == "bucketed")))
               for kind in ("bucketed", "naive")]
    del arm
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)


def sweep_models(models: Mapping[str, tuple[object, object]], texts, *, batch_size: int = 32, max_length: int = 128,
                 device: str = "cpu", dtype: str | None = None, warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Tokens/s of several models (name -> (model, tokenizer)), each with its own tokenizer, interleaved."""
    device = resolve_device(device)
    entries = []
    for name, (model, tok) in models.items():
        model = _prep(model, device, dtype)
        layers = getattr(getattr(model, "config", None), "num_hidden_layers", "")
        entries.append(({"sweep": "model_size", "arm": name, "layers": layers, "batch": batch_size,
                         "length": max_length}, model, make_batches(tok, texts, batch_size, max_length)))
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)


def sweep_model_size(texts, *, presets=("e5-small", "xlmr-base"), batch_size: int = 8, max_length: int = 64,
                     device: str = "cpu", dtype: str | None = None, warmup: int = 1, repeats: int = 2) -> list[dict]:
    """Model size: ``helpers.models`` presets (xlmr-base/large with random weights, real tokenizer).

    Only the shapes matter for speed, so the XLM-R presets are built with
    ``pretrained=False``. Defaults are small (XLM-R Large on 2 CPU cores is
    about 0.6 GFLOP per token); add ``"xlmr-large"`` to ``presets`` to include it.
    """
    loaded = {}
    for preset in presets:
        pretrained = preset in ("e5-small", "tiny")
        loaded[preset] = (model_presets.load_model(preset, head="encoder", pretrained=pretrained),
                          model_presets.load_tokenizer(preset))
    return sweep_models(loaded, texts, batch_size=batch_size, max_length=max_length, device=device, dtype=dtype,
                        warmup=warmup, repeats=repeats)


def text_counts(texts: Sequence[str]) -> dict:
    """Words (whitespace-separated) and characters of ``texts``."""
    return {"words": sum(len(t.split()) for t in texts), "characters": sum(len(t) for t in texts)}


def sweep_languages(model, tokenizer, texts_by_language: Mapping[str, Sequence[str]], *, batch_size: int = 32,
                    max_length: int = 128, arm: str = "direct", device: str = "cpu", dtype: str | None = None,
                    warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Tokens/s, words/s and characters/s per language (same model, each language's sentences).

    Tokens/s differs little between languages; what a reader pays per word
    differs with the tokenizer's fertility (tokens per word): words/s =
    words / seconds, characters/s = characters / seconds over the same
    sentences. Words are whitespace-separated, so for scripts written without
    spaces (zh, ja, th) characters/s is the meaningful figure. Sentences
    longer than ``max_length`` tokens are truncated (rare for Tatoeba).
    """
    device = resolve_device(device)
    model = _prep(model, device, dtype)
    entries, counts = [], {}
    for lang, texts in texts_by_language.items():
        texts = list(texts)
        counts[lang] = text_counts(texts)
        entries.append(({"sweep": "language", "arm": arm, "language": lang, "batch": batch_size,
                         "length": max_length}, model, make_batches(tokenizer, texts, batch_size, max_length)))
    rows = time_entries(entries, warmup=warmup, repeats=repeats, device=device)
    for row in rows:
        c = counts[row["language"]]
        row.update(c)
        row["words_per_s"] = c["words"] / row["seconds"]
        row["characters_per_s"] = c["characters"] / row["seconds"]
        row["tokens_per_word"] = row["tokens"] / c["words"] if c["words"] else math.nan
    return rows


def encoder_layers(model):
    """The ``nn.ModuleList`` of transformer layers (``base_model.encoder.layer``)."""
    base = getattr(model, "base_model", model)
    try:
        return base.encoder.layer
    except AttributeError:
        raise StudyError(f"{type(model).__name__} has no encoder.layer list; early exit needs a BERT/XLM-R encoder")


def truncate_layers(model, k: int):
    """A view of ``model`` that runs only its first ``k`` layers (weights shared, nothing copied).

    Its last hidden state equals the full model's ``hidden_states[k]``: the
    early exit at the retrieval layer (Tatoeba pools a middle layer, so the
    layers above it are wasted work for retrieval).
    """
    import torch

    layers = encoder_layers(model)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(layers):
        raise StudyError(f"early-exit layer must be an integer from 1 to {len(layers)}, got {k!r}")
    top = copy.copy(model)
    top._modules = dict(model._modules)
    base_attr = getattr(model, "base_model_prefix", "")
    has_base = bool(base_attr) and base_attr in model._modules
    base = copy.copy(model._modules[base_attr]) if has_base else top
    if has_base:
        base._modules = dict(base._modules)
        top._modules[base_attr] = base
    encoder = copy.copy(base._modules["encoder"])
    encoder._modules = dict(encoder._modules)
    encoder._modules["layer"] = torch.nn.ModuleList(list(layers)[:k])
    base._modules["encoder"] = encoder
    return top


def retrieval_layer(num_layers: int) -> int:
    """The paper's retrieval layer scaled to a depth: 14 of 24 (XLM-R Large) -> 7 of 12."""
    return max(1, round(num_layers * 14 / 24))


def sweep_early_exit(model, tokenizer, texts, *, layers: Sequence[int] | None = None, batch_size: int = 32,
                     max_length: int = 128, arm: str = "direct", device: str = "cpu", dtype: str | None = None,
                     warmup: int = 1, repeats: int = 3) -> list[dict]:
    """Tokens/s when running only the first ``k`` layers (retrieval) against the full depth.

    ``layers=None`` times the retrieval layer (:func:`retrieval_layer`) and
    the full depth. Arms are named ``layers=<k>``.
    """
    device = resolve_device(device)
    model = _prep(model, device, dtype)
    full = len(encoder_layers(model))
    layers = list(layers) if layers else [retrieval_layer(full), full]
    batches = make_batches(tokenizer, texts, batch_size, max_length)
    entries = [({"sweep": "early_exit", "arm": f"layers={k}", "layers": k, "batch": batch_size, "length": max_length},
                model if k == full else truncate_layers(model, k), batches) for k in layers]
    del arm
    return time_entries(entries, warmup=warmup, repeats=repeats, device=device)
