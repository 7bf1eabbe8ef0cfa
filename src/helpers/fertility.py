"""Tokenizer fertility: real XLM-R tokens per word and per character, per language.

``python -m helpers.fertility`` tokenizes every Tatoeba language of
``../shared/realdata/tatoeba`` (the non-English side of each LASER pair, and
English once, from all its files) with the real XLM-R tokenizer (the
converted e5-small cache: the 250,002-piece XLM-R vocabulary) and writes
``results/fertility.csv``: language, sentences, words, characters, tokens,
tokens_per_word, tokens_per_char. Tokens exclude ``<s>``/``</s>``.

Words are whitespace-split; in languages written without spaces between
words (Chinese, Japanese, Thai...) a "word" is close to a whole sentence,
so their tokens-per-word figure is not comparable: read tokens per character.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .errors import StudyError, run_cli
from .models import load_tokenizer
from .runs import results_root, upsert_rows
from .tatoeba import default_tatoeba_dir, read_sentences, tatoeba_languages

COLUMNS = ("language", "sentences", "words", "characters", "tokens", "tokens_per_word", "tokens_per_char")
NOTE = (
    "words are whitespace-split: for languages written without spaces a word is close to a sentence; "
    "compare tokens_per_char across scripts"
)


def _sentences(path: Path) -> list[str]:
    return [s for s in read_sentences(path) if s.strip()]


def fertility_rows(tokenizer, tatoeba_dir: str | os.PathLike) -> list[dict]:
    """One row per Tatoeba language (English pooled over every pair's English side).

    ``tokenizer`` is any transformers tokenizer; tokens are counted without
    special tokens. Characters exclude whitespace.
    """
    tatoeba_dir = Path(tatoeba_dir)
    if not tatoeba_dir.is_dir():
        raise StudyError(f"no Tatoeba directory {tatoeba_dir}: expected LASER's tatoeba.<xxx>-eng.<xxx> files")
    langs = tatoeba_languages(tatoeba_dir)
    if not langs:
        raise StudyError(f"{tatoeba_dir} holds no tatoeba.<xxx>-eng.{{<xxx>,eng}} pairs")
    texts: dict[str, list[str]] = {}
    for lang in langs:
        texts[lang] = _sentences(tatoeba_dir / f"tatoeba.{lang}-eng.{lang}")
        texts.setdefault("eng", [])
        texts["eng"].extend(_sentences(tatoeba_dir / f"tatoeba.{lang}-eng.eng"))
    rows = []
    for lang in sorted(texts):
        sents = texts[lang]
        enc = tokenizer(sents, add_special_tokens=False)["input_ids"]
        tokens = sum(len(ids) for ids in enc)
        words = sum(len(s.split()) for s in sents)
        chars = sum(len("".join(s.split())) for s in sents)
        rows.append(
            {
                "language": lang,
                "sentences": len(sents),
                "words": words,
                "characters": chars,
                "tokens": tokens,
                "tokens_per_word": round(tokens / words, 4) if words else None,
                "tokens_per_char": round(tokens / chars, 4) if chars else None,
            }
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.fertility", description=__doc__.splitlines()[0])
    parser.add_argument("--tatoeba-dir", default=None, help="LASER Tatoeba files (default: ../shared/realdata/tatoeba)")
    parser.add_argument("--preset", default="e5-small", help="model preset whose tokenizer is measured")
    args = parser.parse_args(argv)
    tatoeba_dir = Path(args.tatoeba_dir) if args.tatoeba_dir else default_tatoeba_dir()
    if not tatoeba_dir.is_dir():
        raise StudyError(f"no Tatoeba directory {tatoeba_dir}: expected ../shared/realdata/tatoeba")
    tokenizer = load_tokenizer(args.preset, pretrained=False) if args.preset.startswith("xlmr") else load_tokenizer(args.preset)
    rows = fertility_rows(tokenizer, tatoeba_dir)
    out = upsert_rows(results_root() / "fertility.csv", rows, key=("language",), columns=COLUMNS)
    for row in rows:
        print(f"{row['language']:<5}{row['sentences']:>7}{row['tokens_per_word']:>8}{row['tokens_per_char']:>8}")
    print(f"wrote {len(rows)} languages to {out} ({NOTE})")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
