"""Check every real data file: parse it with the right loader, check its counts, score gold.

``python -m helpers.verify_data [--root ../shared/realdata]`` parses every file
under the real sample data with the loader of its task, checks the counts that
``SOURCES.md`` gives, scores the gold answers as predictions with the official
metric (must be perfect where gold exists; unlabelled files are parsed and
counted, their gold check skipped with a note), prints one row per file and ends
with exactly one line ``files=<n> parsed=<n> failed=<n>``. Exit status 1 when a
file failed. LICENSE/README files and SOURCES.md are not data files. A file the
loaders refuse (not UTF-8, malformed, an unexpected name) is a ``FAILED`` row
whose note is the loader's one-line reason (file and line); the other files are
still checked. A leading UTF-8 byte-order mark is not an error (the loaders drop it).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import StudyError, run_cli
from .metrics import map_at_k, mlqa_normalize, qa_scores, retrieval_accuracy, seqeval_scores, squad_normalize
from .sources import (
    ISO3_TO_ISO1,
    read_conllu,
    read_lareqa,
    read_squad,
    read_tagging,
    read_task_file,
    read_tatoeba,
    lareqa_set,
    realdata_root,
)
from .tasks import UPOS_TAGS, NER_TAGS

# Counts given in SOURCES.md.
UDPOS_SENTENCES = {"ar": 1680, "en": 5440, "kk": 1047, "mr": 47, "ta": 120, "te": 146, "tl": 55, "wo": 470, "yo": 100}
PANX_DEV = {"ar": 10000, "de": 10000, "en": 10000, "hi": 1000, "sw": 1000, "ta": 1000, "jv": 100, "my": 100,
            "qu": 100, "yo": 100}
MLQA_DEV = {"ar": 517, "de": 512, "en": 1148, "es": 500, "hi": 507, "vi": 511}
TATOEBA_SHORT = {"jav": 205, "kat": 746, "kaz": 575, "mal": 687, "swh": 390, "tam": 307, "tel": 234}
ANLI = {"R1": 1000, "R2": 1000, "R3": 1200}
CONLLU = {"en_ewt-ud-test.conllu": 2077, "de_gsd-ud-test.conllu": 977}
LABEL_COUNTS = {  # label distributions given in SOURCES.md
    "xnli/dev-*": {0: 830, 1: 830, 2: 830},
    "sst2/test.tsv": {0: 428, 1: 444},
    "pawsx/dev-en.tsv": {0: 1137, 1: 863},
    "siqa/socialIQa_v1.4_dev.jsonl": {0: 643, 1: 654, 2: 657},
}
NOT_DATA = re.compile(r"^(LICEN[CS]E.*|README.*|SOURCES\.md)$", re.IGNORECASE)


@dataclass
class FileCheck:
    path: str
    task: str
    examples: int = 0
    expected: int | None = None
    gold: str = ""
    note: str = ""
    ok: bool = True


def data_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not NOT_DATA.match(p.name))


def _expect(check: FileCheck, n: int | None) -> None:
    check.expected = n
    if n is not None and check.examples != n:
        check.ok = False
        check.note = f"expected {n} examples, parsed {check.examples}"


def _gold_labels(check: FileCheck, examples: list[dict], key: str, rel: str) -> None:
    labels = [e["label"] for e in examples]
    if any(l is None for l in labels):
        check.gold = "skipped"
        check.note = check.note or "no labels (XTREME removed them)"
        return
    from .metrics import accuracy

    value = accuracy(labels, labels)
    check.gold = f"accuracy={value:.1f}"
    check.ok &= value == 100.0
    for pattern, counts in LABEL_COUNTS.items():
        if Path(rel).match(pattern):
            got = dict(Counter(labels))
            if got != counts:
                check.ok = False
                check.note = f"label counts {got} != {counts}"


def _gold_tags(check: FileCheck, examples: list[dict]) -> None:
    if any(e["tags"] is None for e in examples):
        check.gold = "skipped"
        check.note = check.note or "no tags (XTREME removed them)"
        return
    tags = [e["tags"] for e in examples]
    value = seqeval_scores(tags, tags)["f1"]
    check.gold = f"f1={value:.1f}"
    check.ok &= value == 100.0


def _gold_qa(check: FileCheck, examples: list[dict], lang: str | None) -> None:
    answered = [e for e in examples if e["answers"]["text"]]
    if not answered:
        check.gold = "skipped"
        check.note = check.note or "answers removed (XTREME hides this gold)"
        return
    preds = [e["answers"]["text"][0] for e in answered]
    s = qa_scores(preds, answered, lang)
    check.gold = f"f1={s['f1']:.1f} em={s['exact_match']:.1f}"
    # The official scripts give F1 0 (but EM 1) to an answer that normalises to nothing
    # (e.g. MLQA-es "una", an article): that is the metric, not a loader error.
    norm = (lambda t: mlqa_normalize(t, lang)) if lang else squad_normalize
    empty = sum(1 for p in preds if not norm(p))
    expected_f1 = 100.0 * (len(preds) - empty) / len(preds)
    check.ok &= abs(s["f1"] - expected_f1) < 1e-9 and s["exact_match"] == 100.0
    if empty:
        check.note = f"{empty} gold answer(s) normalise to '' and score F1 0 in the official script"
    if len(answered) != len(examples):
        check.ok = False
        check.note = f"{len(examples) - len(answered)} questions without answers"


def check_file(root: Path, path: Path) -> FileCheck:
    rel = path.relative_to(root).as_posix()
    parts = rel.split("/")
    top, name = parts[0], parts[-1]
    check = FileCheck(rel, top)
    if top in ("xnli", "pawsx"):
        ex = read_task_file(top, path)
        check.examples = len(ex)
        if top == "xnli":
            _expect(check, 5010 if name.startswith("test") else 2490)
        else:
            _expect(check, 2000)
        _gold_labels(check, ex, "label", rel)
    elif top in ("udpos", "panx"):
        m = re.fullmatch(r"(train|dev|test)-(\w+)\.tsv", name)
        if not m:
            raise StudyError(f"unexpected {top} file name {name!r}; expected <split>-<lang>.tsv, e.g. dev-en.tsv")
        ex = read_tagging(path, UPOS_TAGS if top == "udpos" else NER_TAGS)
        check.examples = len(ex)
        lang = m.group(2)
        if top == "udpos":
            _expect(check, UDPOS_SENTENCES.get(lang))
        else:
            _expect(check, 10000 if name.startswith("test") else PANX_DEV.get(lang))
        _gold_tags(check, ex)
    elif top == "ud":
        check.task = "udpos (CoNLL-U)"
        ex = read_conllu(path)
        check.examples = len(ex)
        _expect(check, CONLLU.get(name))
        bad = {t for e in ex for t in e["tags"]} - set(UPOS_TAGS)
        if bad:
            check.ok, check.note = False, f"tags outside UPOS: {sorted(bad)}"
        _gold_tags(check, ex)
    elif top in ("xquad", "mlqa", "tydiqa"):
        ex = read_squad(path)
        check.examples = len(ex)
        if top == "xquad":
            _expect(check, 1190)
            _gold_qa(check, ex, None)
        elif top == "mlqa":
            m = re.search(r"context-(\w+)-question", name)
            if not m:
                raise StudyError(f"unexpected MLQA file name {name!r}; expected <split>-context-<lang>-question-<lang>.json")
            lang = m.group(1)
            _expect(check, MLQA_DEV.get(lang))
            _gold_qa(check, ex, lang)
        else:
            _expect(check, {"tydiqa.goldp.en.dev.json": 440, "tydiqa.goldp.sw.dev.json": 499,
                            "tydiqa.goldp.sw.train.json": 2755}.get(name))
            _gold_qa(check, ex, None)
    elif top == "lareqa":
        lang = path.stem
        check.examples = len(read_squad(path))
        _expect(check, 1190)
        rs = lareqa_set(read_lareqa({lang: path}), lang)
        rankings = [sorted(g) + [i for i in range(len(rs.candidates)) if i not in g][:20] for g in rs.gold]
        value = map_at_k(rankings, rs.gold)
        check.gold = f"map@20={value:.1f} ({len(rs.queries)} queries, {len(rs.candidates)} sentences)"
        check.ok &= value == 100.0
    elif top == "tatoeba":
        m = re.match(r"tatoeba\.(\w+)-eng\.(\w+)$", name)
        if not m:
            raise StudyError(f"unexpected Tatoeba file name {name!r}; expected tatoeba.<xxx>-eng.<xxx or eng>")
        x, side = m.groups()
        pairs = read_tatoeba(path.parent / f"tatoeba.{x}-eng.{x}", path.parent / f"tatoeba.{x}-eng.eng")
        check.task = f"tatoeba ({ISO3_TO_ISO1.get(x, x)}, {'eng side' if side == 'eng' else 'query side'})"
        check.examples = len(pairs)
        _expect(check, TATOEBA_SHORT.get(x, 1000))
        value = retrieval_accuracy(list(range(len(pairs))), [{i} for i in range(len(pairs))])
        check.gold = f"accuracy={value:.1f}"
        check.ok &= value == 100.0
    elif top in ("xcopa", "copa"):
        ex = read_task_file("copa", path)
        check.examples = len(ex)
        split = name.split(".")[0].split("-")[0]
        _expect(check, {"test": 500, "val": 100, "train": 400}.get(split))
        _gold_labels(check, ex, "label", rel)
    elif top == "siqa":
        ex = read_task_file("siqa", path)
        check.examples = len(ex)
        _expect(check, 1954)
        _gold_labels(check, ex, "label", rel)
    elif top == "anli":
        ex = read_task_file("anli", path)
        check.examples = len(ex)
        _expect(check, ANLI.get(parts[1]))
        _gold_labels(check, ex, "label", rel)
    elif top in ("sst2", "cosmosqa", "commonsenseqa"):
        ex = read_task_file(top, path)
        check.examples = len(ex)
        _expect(check, {"sst2": 872, "cosmosqa": 2985, "commonsenseqa": 1221}[top])
        _gold_labels(check, ex, "label", rel)
    else:
        check.ok = False
        check.note = "no loader for this file"
    return check


def verify(root: Path) -> list[FileCheck]:
    checks = []
    for path in data_files(root):
        try:
            checks.append(check_file(root, path))
        except StudyError as exc:
            rel = path.relative_to(root).as_posix()
            checks.append(FileCheck(rel, rel.split("/")[0], ok=False, note=str(exc)))
    return checks


def format_table(checks: list[FileCheck]) -> str:
    lines = [f"{'file':52} {'task':28} {'examples':>8} {'expected':>8}  {'gold':36} status"]
    for c in checks:
        exp = "" if c.expected is None else str(c.expected)
        status = "ok" if c.ok else "FAILED"
        lines.append(f"{c.path:52} {c.task:28} {c.examples:>8} {exp:>8}  {c.gold:36} {status}"
                     + (f"  ({c.note})" if c.note else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="real data directory (default: ../shared/realdata)")
    args = parser.parse_args(argv)
    root = args.root or realdata_root()
    if root is None or not Path(root).is_dir():
        raise StudyError(f"real data directory {root or '../shared/realdata'} does not exist (set --root or STUDY_REALDATA)")
    checks = verify(Path(root))
    print(format_table(checks))
    failed = sum(not c.ok for c in checks)
    print(f"files={len(checks)} parsed={sum(c.ok for c in checks)} failed={failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
