"""One registry: no module outside ``helpers.tasks`` keeps its own list of task names.

Per-task facts (languages, format, metric, reader, files, training data, shared models)
are declared once in :mod:`helpers.tasks`; every other module looks them up. This scan
fails on a list/tuple/set literal, or on the keys of a dict literal, that names two or
more registry tasks, and reports every such place as ``file:line``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers.tasks import ALL_TASKS, COMPONENTS

SRC = Path(__file__).resolve().parents[1] / "src"
TASK_NAMES = frozenset(ALL_TASKS) | frozenset(COMPONENTS)


def _names(nodes) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and n.value in TASK_NAMES]


def registry_violations(source: str, filename: str = "<string>") -> list[str]:
    """``file:line: names`` for each literal of ``source`` that lists two or more task names."""
    out = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            found = _names(node.elts)
        elif isinstance(node, ast.Dict):
            found = _names([k for k in node.keys if k is not None])
        else:
            continue
        if len(set(found)) >= 2:
            out.append(f"{filename}:{node.lineno}: {', '.join(dict.fromkeys(found))}")
    return out


def _modules() -> list[Path]:
    files = sorted((SRC / "helpers").glob("*.py")) + sorted((SRC / "studytools").glob("*.py"))
    return [p for p in files if p.name != "tasks.py"]


def test_scan_catches_lists_and_dict_keys():
    bad = ('A = ("xnli", "panx")\nB = {"mnli": 1, "squad": 2}\nC = [x for x in ("xquad",)]\n'
           'D = {"xnli"}\nE = {1: "xnli", 2: "panx"}\n')
    assert registry_violations(bad, "m.py") == ["m.py:1: xnli, panx", "m.py:2: mnli, squad"]
    assert registry_violations('F = {"snli", "anli"}\n', "m.py") == ["m.py:1: snli, anli"]


def test_no_module_lists_task_names():
    offending = []
    for path in _modules():
        rel = path.relative_to(SRC.parent)
        offending += registry_violations(path.read_text(encoding="utf-8"), str(rel))
    assert not offending, "task names listed outside helpers.tasks (use the registry):\n" + "\n".join(offending)


def test_every_declared_reader_generator_and_hub_mapping_exists():
    from helpers.generate import GENERATORS
    from helpers.hubdata import HUB_ROWS
    from helpers.readers import FILE_READERS
    from helpers.retrieval_sets import RETRIEVAL_LOADERS

    for name, spec in {**ALL_TASKS, **COMPONENTS}.items():
        readers = RETRIEVAL_LOADERS if spec.format == "retrieval" else FILE_READERS
        assert spec.reader in readers, name
        assert not spec.generator or spec.generator in GENERATORS, name
        assert not spec.hub_row or spec.hub_row in HUB_ROWS, name
        assert set(spec.generated) <= {"train", "dev", "test"}, name


def test_layout_paths_are_the_xtreme_download_layout():
    from helpers.tasks import get_task

    assert get_task("tydiqa").layout_paths("test", "sw")[0] == "tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.sw.dev.json"
    assert get_task("mnli").layout_paths("dev", "en") == ["mnli/dev_matched.tsv", "MNLI/dev_matched.tsv"]
    assert get_task("siqa").layout_paths("train", "en")[0] == "siqa/socialIQa_v1.4_trn.jsonl"
    assert get_task("tatoeba").layout_paths("test", "fa")[0] == "tatoeba/v1/tatoeba.pes-eng.pes"
    assert get_task("anli").layout_paths("dev", "en", part="R2")[0] == "anli/R2/dev.jsonl"


def test_a_new_task_is_one_registry_entry(tmp_path, monkeypatch):
    """A task declared only in the registry is loaded, checked and listed by every module that reads it."""
    import dataclasses

    from helpers import tasks
    from helpers.sources import Source, expected_test_files, load_examples

    spec = dataclasses.replace(tasks.get_task("xnli"), name="xnli2", display_name="XNLI-2",
                               languages=("de", "fr"), files={"*": ("xnli2/{lang}.{split}.tsv",)})
    monkeypatch.setitem(tasks.ALL_TASKS, "xnli2", spec)
    monkeypatch.setitem(tasks.TASKS, "xnli2", spec)
    (tmp_path / "xnli2").mkdir()
    (tmp_path / "xnli2/fr.test.tsv").write_text("Un chat dort.\tUn animal dort.\tentailment\n", encoding="utf-8")
    examples = load_examples("xnli2", "test", "fr", Source("xtreme-dir", tmp_path))
    assert [(e["text_a"], e["label"]) for e in examples] == [("Un chat dort.", 0)]
    assert expected_test_files("xnli2", "de") == ["xnli2/de.test.tsv"]
    assert "xnli2" in tasks.target_tasks() and "xnli2" in tasks.tasks_in_group("classification")
