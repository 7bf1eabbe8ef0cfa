"""LASER's Tatoeba files in ``../shared/realdata/tatoeba``: the folder, its language pairs,
their sentences, and a fixed seeded sample across every file.

The library reads real sentences from here (``fertility``, ``gpu``); the tools
beside it (``studytools.verify_encoder``, ``studytools.bench``) read the same files.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from .errors import check_positive
from .runs import PROJECT_ROOT
from .sources import read_data_text, realdata_root

# Used only when ../shared/realdata is absent (then said in the output): short sentences in several languages.
FALLBACK_SENTENCES = (
    "The train leaves at seven in the morning.",
    "Der Zug fährt um sieben Uhr morgens ab.",
    "Le train part à sept heures du matin.",
    "El tren sale a las siete de la mañana.",
    "Поезд отправляется в семь часов утра.",
    "Tren sabah yedide kalkıyor.",
    "Chuyến tàu khởi hành lúc bảy giờ sáng.",
    "She reads a book every evening before she goes to sleep.",
    "Sie liest jeden Abend ein Buch, bevor sie schlafen geht.",
    "Elle lit un livre chaque soir avant de dormir.",
    "Ella lee un libro cada noche antes de dormir.",
    "Она читает книгу каждый вечер перед сном.",
)


def default_tatoeba_dir() -> Path:
    """``<realdata>/tatoeba`` (``STUDY_REALDATA`` or ../shared/realdata; the path even when absent)."""
    root = realdata_root()
    return (root if root is not None else PROJECT_ROOT.parent / "shared" / "realdata") / "tatoeba"


def read_sentences(path: Path) -> list[str]:
    """One sentence per line (LASER's Tatoeba files), line ends removed; strict UTF-8, a BOM dropped."""
    text = read_data_text(Path(path))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def tatoeba_languages(tatoeba_dir: Path) -> list[str]:
    """ISO 639-3 codes with both files ``tatoeba.<xxx>-eng.{<xxx>,eng}``."""
    langs = []
    for path in sorted(Path(tatoeba_dir).glob("tatoeba.*-eng.eng")):
        lang = path.name[len("tatoeba.") : -len("-eng.eng")]
        if (path.parent / f"tatoeba.{lang}-eng.{lang}").is_file():
            langs.append(lang)
    return langs


def sample_sentences(n: int = 256, seed: int = 0, root: Path | None = None) -> tuple[list[str], str]:
    """A fixed, seeded sample of ``n`` Tatoeba sentences across every language file present.

    Returns ``(sentences, source description)``; falls back to a short
    built-in multilingual list when the real data is absent (and says so).
    """
    check_positive("sentences", n, integer=True)
    root = root or realdata_root()
    tdir = root / "tatoeba" if root else None
    files = sorted(tdir.glob("tatoeba.*-eng.*")) if tdir and tdir.is_dir() else []
    if not files:
        reps = math.ceil(n / len(FALLBACK_SENTENCES))
        return (list(FALLBACK_SENTENCES) * reps)[:n], "built-in fallback sentences (../shared/realdata absent)"
    pool: list[str] = []
    for f in files:
        pool.extend(line.strip() for line in read_data_text(f).splitlines() if line.strip())
    rng = random.Random(seed)
    picked = rng.sample(pool, min(n, len(pool)))
    return picked, f"Tatoeba ({len(files)} files of {tdir}), seeded sample of {len(picked)}"
