"""Write ``src/helpers/realdata_files.json``: the real files, their pinned sources and checksums.

``python -m studytools.realdata_manifest [--root ../shared/realdata] [--output PATH] [--check]``
walks a local copy of the real XTREME-R files and writes one manifest entry per
file (``SOURCES.md`` itself excepted): ``path`` (relative to the root), ``url``
(``https://raw.githubusercontent.com/<owner>/<repo>/<commit>/<remote path>``),
``sha256`` and ``bytes`` computed from the local copy. The source of each file
comes from :data:`SOURCE_ROWS`, transcribed from ``SOURCES.md``; a local file no
row matches (or more than one) is refused before anything is written, as is a row
that matches no file. Where the root holds ``SOURCES.md``, every repository and
commit of the table must be named in it. ``--check`` writes nothing and fails
when the committed manifest differs from what the copy gives.
The data is never copied into the project: only this list of where it comes from.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from helpers import runs
from helpers.errors import StudyError, run_cli
from helpers.realdata import ENV_VAR, MANIFEST_PATH, SHARED_ROOT, file_sha256, parse_manifest

RAW_BASE = "https://raw.githubusercontent.com"
#: Files of the copy that are not data and not listed.
SKIPPED = frozenset({"SOURCES.md"})


@dataclass(frozen=True)
class SourceRow:
    """Local files matching ``pattern`` come from ``repo`` at ``commit``, at ``remote``.

    ``pattern`` is an ``fnmatch`` pattern over the path under the root (``*`` may
    cross folders); ``remote`` is a template with ``{name}`` (the file name) and
    ``{rel}`` (the path below the pattern's first folder).
    """

    pattern: str
    repo: str
    commit: str
    remote: str

    def matches(self, path: str) -> bool:
        return fnmatch.fnmatchcase(path, self.pattern)

    def url(self, path: str) -> str:
        parts = PurePosixPath(path).parts
        remote = self.remote.format(name=parts[-1], rel="/".join(parts[1:]))
        return f"{RAW_BASE}/{self.repo}/{self.commit}/{remote}"


_XQUAD = "60cac411649156efb6aab9dd4c9cde787a2c0345"
_LAREQA = "9bc8c7fb6dd8d01d72a05a93c2cb96882b0d299c"
_XCOPA = "e2e9d7f105a758ee869cd13e0fe251ef93a29840"
_WU_OLD = "16a51c0d40fa1fb1959b8db5f1f4b2ce963f1213"  # wuhjie/few_shots_that_matters_wu: COPA, SIQA, MLQA LICENSE
_WU_NEW = "6bfe6324e428ec21a777b5543cd8e50ec82dcb3c"  # the same repo, "data update from xtreme"
_LASER = "74bc6ae7ffb7cba670fe0f428d0ede9f666fb821"
_TOPRO = "9300fd37ea92650f528e027da0f427baae3a62a9"
_WU = "wuhjie/few_shots_that_matters_wu"

#: Transcribed from ../shared/realdata/SOURCES.md: local pattern -> repository, commit, remote path.
SOURCE_ROWS: tuple[SourceRow, ...] = (
    SourceRow("xquad/xquad.*.json", "deepmind/xquad", _XQUAD, "{name}"),
    SourceRow("lareqa/*.json", "google-research-datasets/lareqa", _LAREQA, "xquad-r/{name}"),
    SourceRow("xcopa/*/*.jsonl", "cambridgeltl/xcopa", _XCOPA, "data/{rel}"),
    SourceRow("copa/*-en.jsonl", _WU, _WU_OLD, "data/xcopa/{name}"),
    SourceRow("tatoeba/tatoeba.*-eng.*", "facebookresearch/LASER", _LASER, "data/tatoeba/v1/{name}"),
    SourceRow("ud/UD_English-EWT/en_ewt-ud-test.conllu", "UniversalDependencies/UD_English-EWT",
              "15d613d8447b3478787d4c278730a1e48a945efb", "{name}"),
    SourceRow("ud/UD_German-GSD/de_gsd-ud-test.conllu", "UniversalDependencies/UD_German-GSD",
              "297fcf350481058d0737a27f0f8fd03b2eadd67a", "{name}"),
    SourceRow("udpos/test-*.tsv", "boleima/ToPro", _TOPRO, "download/udpos/{name}"),
    SourceRow("panx/*.tsv", "boleima/ToPro", _TOPRO, "download/panx/{name}"),
    SourceRow("pawsx/*.tsv", _WU, _WU_NEW, "data/pawsx/{name}"),
    SourceRow("xnli/*.tsv", _WU, _WU_NEW, "data/xnli/{name}"),
    SourceRow("tydiqa/tydiqa.goldp.*.dev.json", _WU, _WU_NEW, "data/tydiqa/tydiqa-goldp-v1.1-dev/{name}"),
    SourceRow("tydiqa/tydiqa.goldp.*.train.json", _WU, _WU_NEW, "data/tydiqa/tydiqa-goldp-v1.1-train/{name}"),
    SourceRow("mlqa/dev-context-*-question-*.json", _WU, _WU_NEW, "data/mlqa/MLQA_V1/dev/{name}"),
    SourceRow("mlqa/LICENSE", _WU, _WU_OLD, "data/mlqa/MLQA_V1/LICENSE"),
    SourceRow("sst2/test.tsv", "forest-snow/alps", "3c7ef2c98249fc975a897b27f275695f97d5b7a9", "data/SST-2/test.tsv"),
    SourceRow("cosmosqa/valid.csv", "wilburOne/cosmosqa", "b6eb99cca4e2a51dd28a9a6f562534872d851639", "data/valid.csv"),
    SourceRow("commonsenseqa/dev_rand_split.jsonl", "lionzwarrior/llm-benchmark",
              "8866ece85533b6532bdf67f9258e88a9902dcf40", "dev_rand_split.jsonl"),
    SourceRow("siqa/*", _WU, _WU_OLD, "data/siqa/{name}"),
    SourceRow("anli/*", "eric11eca/curriculum-ling", "6ed5500fa71c881faa802b5a0fd5bd4f4968cfa7",
              "data/anli_v1.0/{rel}"),
)


def local_files(root: Path) -> list[str]:
    """Every file under ``root`` (POSIX relative paths, sorted), ``SOURCES.md`` excepted."""
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            rel = path.relative_to(root).as_posix()
            if rel not in SKIPPED:
                out.append(rel)
    return out


def source_row(path: str, rows: tuple[SourceRow, ...] = SOURCE_ROWS) -> SourceRow:
    """The one row of the table that ``path`` matches; none or several is one StudyError line."""
    found = [row for row in rows if row.matches(path)]
    if len(found) != 1:
        what = "no source row" if not found else f"{len(found)} source rows ({', '.join(r.pattern for r in found)})"
        raise StudyError(f"{path} has {what} in studytools.realdata_manifest.SOURCE_ROWS; add its repository, "
                         f"commit and remote path from SOURCES.md there (exactly one row per file)")
    return found[0]


def check_against_sources(root: Path, rows: tuple[SourceRow, ...] = SOURCE_ROWS) -> None:
    """Every repository and commit of the table is named in ``root/SOURCES.md`` (when it is there)."""
    sources = root / "SOURCES.md"
    if not sources.is_file():
        return
    text = sources.read_text(encoding="utf-8")
    for row in rows:
        if row.repo not in text or row.commit not in text:
            raise StudyError(f"source row {row.pattern}: {row.repo} @ {row.commit} is not named in {sources}; "
                             f"transcribe the repository and commit from SOURCES.md")


def build_manifest(root: str | Path, rows: tuple[SourceRow, ...] = SOURCE_ROWS) -> dict:
    """The manifest object for the copy at ``root``; refuses unmatched files and unused rows."""
    root = Path(root)
    if not root.is_dir():
        raise StudyError(f"real data folder {root} does not exist; give --root or set {ENV_VAR}")
    check_against_sources(root, rows)
    files = local_files(root)
    if not files:
        raise StudyError(f"real data folder {root} holds no files")
    entries, used = [], set()
    for rel in files:
        row = source_row(rel, rows)
        used.add(row.pattern)
        path = root / rel
        entries.append({"path": rel, "url": row.url(rel), "sha256": file_sha256(path), "bytes": path.stat().st_size})
    unused = [row.pattern for row in rows if row.pattern not in used]
    if unused:
        raise StudyError(f"source rows match no file under {root}: {', '.join(unused)}; "
                         f"remove them or give the full copy as --root")
    manifest = {
        "about": "The real XTREME-R files of the realdata profile: path under the data folder, the raw URL at the "
                 "commit SOURCES.md names, sha256 and size. Written by python -m studytools.realdata_manifest.",
        "files": entries,
    }
    parse_manifest(manifest, "the new manifest")  # the same checks helpers.realdata applies when reading it
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studytools.realdata_manifest",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help=f"the local copy (default: ${ENV_VAR}, else {SHARED_ROOT})")
    parser.add_argument("--output", type=Path, default=MANIFEST_PATH, help="where to write the manifest")
    parser.add_argument("--check", action="store_true", help="write nothing; fail if --output differs")
    args = parser.parse_args(argv)
    root = args.root or Path(os.environ.get(ENV_VAR) or SHARED_ROOT)
    manifest = build_manifest(root)
    if args.check:
        current = runs.read_json(args.output) if args.output.is_file() else None
        if current != manifest:
            raise StudyError(f"{args.output} differs from the files under {root}; "
                             f"rerun python -m studytools.realdata_manifest to rewrite it")
        print(f"{args.output}: {len(manifest['files'])} files, up to date with {root}")
        return 0
    runs.atomic_write_json(args.output, manifest)
    total = sum(e["bytes"] for e in manifest["files"])
    print(f"wrote {args.output}: {len(manifest['files'])} files, {total / 1e6:.1f} MB, from {root}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
