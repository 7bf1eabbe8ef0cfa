"""Check every real data file: parse it with the right loader, check its counts, score gold.

``python -m studytools.verify_data [--root ../shared/realdata]`` parses every file
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

from helpers.errors import StudyError, run_cli
from helpers.metrics import accuracy, map_at_k, mlqa_normalize, qa_scores, retrieval_accuracy, seqeval_scores, squad_normalize
from helpers.sources import (
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
from helpers.tasks import ALL_TASKS, COMPONENTS, UPOS_TAGS

#: Expected examples per data file, as SOURCES.md gives them: a glob over the file's path under the
#: data root (``*`` and ``?`` stay within one folder, ``**/`` is any folders or none); the first
#: pattern that matches wins, and a file no pattern matches has no expected count.
EXPECTED_EXAMPLES: dict[str, int] = {
    "xnli/**/test*": 5010, "xnli/**/*": 2490,
    "pawsx/**/*": 2000,
    "udpos/**/*-ar.tsv": 1680, "udpos/**/*-en.tsv": 5440, "udpos/**/*-kk.tsv": 1047, "udpos/**/*-mr.tsv": 47,
    "udpos/**/*-ta.tsv": 120, "udpos/**/*-te.tsv": 146, "udpos/**/*-tl.tsv": 55, "udpos/**/*-wo.tsv": 470,
    "udpos/**/*-yo.tsv": 100,
    "panx/**/test*": 10000,
    "panx/**/*-ar.tsv": 10000, "panx/**/*-de.tsv": 10000, "panx/**/*-en.tsv": 10000, "panx/**/*-hi.tsv": 1000,
    "panx/**/*-sw.tsv": 1000, "panx/**/*-ta.tsv": 1000, "panx/**/*-jv.tsv": 100, "panx/**/*-my.tsv": 100,
    "panx/**/*-qu.tsv": 100, "panx/**/*-yo.tsv": 100,
    "ud/**/en_ewt-ud-test.conllu": 2077, "ud/**/de_gsd-ud-test.conllu": 977,
    "xquad/**/*": 1190,
    "mlqa/**/*context-ar-question*": 517, "mlqa/**/*context-de-question*": 512,
    "mlqa/**/*context-en-question*": 1148, "mlqa/**/*context-es-question*": 500,
    "mlqa/**/*context-hi-question*": 507, "mlqa/**/*context-vi-question*": 511,
    "tydiqa/**/tydiqa.goldp.en.dev.json": 440, "tydiqa/**/tydiqa.goldp.sw.dev.json": 499,
    "tydiqa/**/tydiqa.goldp.sw.train.json": 2755,
    "lareqa/**/*": 1190,
    "tatoeba/**/tatoeba.jav-eng.*": 205, "tatoeba/**/tatoeba.kat-eng.*": 746, "tatoeba/**/tatoeba.kaz-eng.*": 575,
    "tatoeba/**/tatoeba.mal-eng.*": 687, "tatoeba/**/tatoeba.swh-eng.*": 390, "tatoeba/**/tatoeba.tam-eng.*": 307,
    "tatoeba/**/tatoeba.tel-eng.*": 234, "tatoeba/**/*": 1000,
    "xcopa/**/test[.-]*": 500, "xcopa/**/val[.-]*": 100, "xcopa/**/train[.-]*": 400,
    "copa/**/test[.-]*": 500, "copa/**/val[.-]*": 100, "copa/**/train[.-]*": 400,
    "siqa/**/*": 1954,
    "anli/R1/**/*": 1000, "anli/R2/**/*": 1000, "anli/R3/**/*": 1200,
    "sst2/**/*": 872,
    "cosmosqa/**/*": 2985,
    "commonsenseqa/**/*": 1221,
}
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


def _glob(pattern: str) -> re.Pattern:
    """A path glob as a regex: ``*``/``?`` within one folder, ``[..]`` a character class, ``**/`` any folders."""
    tokens = re.split(r"(\*\*/|\*|\?|\[[^\]]+\])", pattern)
    regex = {"**/": "(?:[^/]+/)*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(regex.get(t, t) if i % 2 else re.escape(t) for i, t in enumerate(tokens)))


_EXPECTED_GLOBS = [(_glob(pattern), n) for pattern, n in EXPECTED_EXAMPLES.items()]


def expected_examples(rel: str) -> int | None:
    """The example count SOURCES.md gives for the data file at ``rel`` (``None``: none given)."""
    return next((n for regex, n in _EXPECTED_GLOBS if regex.fullmatch(rel)), None)


def _check_conllu(check: FileCheck, path: Path) -> None:
    check.task = "udpos (CoNLL-U)"
    ex = read_conllu(path)
    check.examples = len(ex)
    _expect(check, expected_examples(check.path))
    bad = {t for e in ex for t in e["tags"]} - set(UPOS_TAGS)
    if bad:
        check.ok, check.note = False, f"tags outside UPOS: {sorted(bad)}"
    _gold_tags(check, ex)


def _check_lareqa(check: FileCheck, path: Path) -> None:
    lang = path.stem
    check.examples = len(read_squad(path))
    _expect(check, expected_examples(check.path))
    rs = lareqa_set(read_lareqa({lang: path}), lang)
    rankings = [sorted(g) + [i for i in range(len(rs.candidates)) if i not in g][:20] for g in rs.gold]
    value = map_at_k(rankings, rs.gold)
    check.gold = f"map@20={value:.1f} ({len(rs.queries)} queries, {len(rs.candidates)} sentences)"
    check.ok &= value == 100.0


def _check_tatoeba(check: FileCheck, path: Path) -> None:
    m = re.match(r"tatoeba\.(\w+)-eng\.(\w+)$", path.name)
    if not m:
        raise StudyError(f"unexpected Tatoeba file name {path.name!r}; expected tatoeba.<xxx>-eng.<xxx or eng>")
    x, side = m.groups()
    pairs = read_tatoeba(path.parent / f"tatoeba.{x}-eng.{x}", path.parent / f"tatoeba.{x}-eng.eng")
    check.task = f"tatoeba ({ISO3_TO_ISO1.get(x, x)}, {'eng side' if side == 'eng' else 'query side'})"
    check.examples = len(pairs)
    _expect(check, expected_examples(check.path))
    value = retrieval_accuracy(list(range(len(pairs))), [{i} for i in range(len(pairs))])
    check.gold = f"accuracy={value:.1f}"
    check.ok &= value == 100.0


#: Retrieval readers (TaskSpec.reader) whose files this tool checks, and how.
RETRIEVAL_CHECKS = {"xquad-r": _check_lareqa, "tatoeba-pairs": _check_tatoeba}


def check_file(root: Path, path: Path) -> FileCheck:
    """Parse one data file with the reader its top folder's registry task declares and check it."""
    rel = path.relative_to(root).as_posix()
    top, name = rel.split("/")[0], path.name
    check = FileCheck(rel, top)
    spec = ALL_TASKS.get(top) or COMPONENTS.get(top)
    if top == "ud":  # raw UD treebanks (CoNLL-U): UD-POS source data, not a task folder
        _check_conllu(check, path)
    elif spec is None or (spec.format == "retrieval" and spec.reader not in RETRIEVAL_CHECKS):
        check.ok = False
        check.note = "no loader for this file"
    elif spec.format == "retrieval":
        RETRIEVAL_CHECKS[spec.reader](check, path)
    elif spec.format == "tagging":
        if not re.fullmatch(r"(train|dev|test)-(\w+)\.tsv", name):
            raise StudyError(f"unexpected {top} file name {name!r}; expected <split>-<lang>.tsv, e.g. dev-en.tsv")
        ex = read_tagging(path, spec.labels)
        check.examples = len(ex)
        _expect(check, expected_examples(rel))
        _gold_tags(check, ex)
    elif spec.format == "span-qa":
        ex = read_squad(path)
        check.examples = len(ex)
        lang = None
        if spec.language_aware_metric:  # the metric needs the language: MLQA names it in the file name
            m = re.search(r"context-(\w+)-question", name)
            if not m:
                raise StudyError(f"unexpected {spec.display_name} file name {name!r}; "
                                 "expected <split>-context-<lang>-question-<lang>.json")
            lang = m.group(1)
        _expect(check, expected_examples(rel))
        _gold_qa(check, ex, lang)
    else:  # classification and multiple choice: the task's registry reader
        ex = read_task_file(top, path)
        check.examples = len(ex)
        _expect(check, expected_examples(rel))
        _gold_labels(check, ex, "label", rel)
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
