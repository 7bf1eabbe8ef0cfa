"""Every chapter source reads like a paper and stays thin (issue 14).

Title first; the parameters cell hidden (``remove-input``) and the config table collapsed (``hide-output``); every other code cell
folded (``hide-input``) or hidden; cells that run a phase drop their progress log (``remove-stderr``);
at most 60 code lines per notebook and under 400 in all; each chapter ends in a glued prose conclusion.
"""

from __future__ import annotations

import json
import re

import pytest

from helpers import study, zero_shot_report

CHAPTERS = tuple(sorted(p.stem for p in study.NOTEBOOKS_DIR.glob("*.ipynb")))


def _cells(name: str) -> list[dict]:
    return json.loads((study.NOTEBOOKS_DIR / f"{name}.ipynb").read_text())["cells"]


def _code_lines(cell: dict) -> int:
    return sum(1 for line in "".join(cell["source"]).splitlines() if line.strip())


def test_every_chapter_is_checked():
    assert len(CHAPTERS) == 11 and CHAPTERS[0] == "01_setup" and CHAPTERS[-1] == "11_status"


@pytest.mark.parametrize("name", CHAPTERS)
def test_a_chapter_is_thin_tagged_and_ends_in_prose(name):
    cells = _cells(name)
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    code = [c for c in cells if c["cell_type"] == "code"]
    tags = [c["metadata"].get("tags", []) for c in code]
    assert tags[0] == ["parameters", "remove-input"]  # the parameters cell: hidden
    assert tags[1] == ["remove-input", "hide-output"]  # the config table: collapsed under the title
    assert all("hide-input" in t or "remove-input" in t for t in tags[2:])
    runs_phase = [t for c, t in zip(code, tags) if "pipeline.run_" in "".join(c["source"])]
    assert all("remove-stderr" in t for t in runs_phase)
    assert sum(_code_lines(c) for c in code) <= 60
    last = "".join(cells[-1]["source"])
    assert cells[-1]["cell_type"] == "markdown" and last.startswith("## Conclusion") and "{glue:text}`" in last


def test_the_notebooks_stay_under_400_code_lines():
    assert sum(_code_lines(c) for n in CHAPTERS for c in _cells(n) if c["cell_type"] == "code") < 400


def test_the_phase_conclusions_glue_only_their_own_chapters_values():
    """Each phase conclusion names only values its own chapter glues (the keys pinned in test_phase_report and
    test_zero_shot_report)."""
    prefixes = {"02_data": "data_", "04_intermediate": "int_", "05_target": "tgt_", "06_zero_shot": "zs_"}
    keys = {
        "data_": {"data_n_tasks", "data_n_languages", "data_n_test", "data_n_train", "data_best_baseline_task",
                  "data_best_baseline"},
        "int_": {"int_n_runs", "int_steps", "int_tokens"},
        "tgt_": {"tgt_n_runs", "tgt_steps", "tgt_tokens", "tgt_best_dev_arm", "tgt_best_dev_mean"},
        "zs_": {"zs_direct_avg", "zs_best_arm", "zs_best_avg", "zs_n_gains", "zs_n_excl_zero", "zs_n_excl_pos",
                "zs_best_ci", "zs_n_above_floor", "zs_n_tasks", "zs_n_degenerate", "zs_n_partial", "zs_seed_sd",
                *(f"zs_rd_{key}" for key in zero_shot_report.RECORDED_FACTS)},
    }
    for name, prefix in prefixes.items():
        prose = " ".join("".join(c["source"]) for c in _cells(name) if c["cell_type"] == "markdown")
        used = set(re.findall(r"\{glue:text\}`([^`]+)`", prose))
        assert used and used <= keys[prefix], (name, used - keys[prefix])


def _glued_names(executed: dict) -> set[str]:
    names = set()
    for cell in executed["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                names.add(name)
    return names


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_glued_value_of_an_executed_chapter_is_used_in_its_prose(name):
    """A glued value no sentence names is a number the reader never sees; a name without its glue breaks the build."""
    path = study.NOTEBOOKS_DIR.parent / "book" / f"{name}.ipynb"
    if not path.is_file():
        pytest.skip(f"{path} is not executed yet: run `make book`")
    executed = json.loads(path.read_text())
    glued = _glued_names(executed)
    prose = " ".join("".join(c["source"]) for c in executed["cells"] if c["cell_type"] == "markdown")
    used = set(re.findall(r"\{glue:[a-z]*\}`([^`]+)`", prose))
    assert glued <= used, f"glued but never in prose: {sorted(glued - used)}"
    assert used <= glued, f"named in prose but not glued: {sorted(used - glued)}"


def test_the_glue_check_sees_a_stray_value():
    cell = {"cell_type": "code", "source": "", "outputs": [{"metadata": {"scrapbook": {"name": "x"}}}]}
    assert _glued_names({"cells": [cell]}) == {"x"}
