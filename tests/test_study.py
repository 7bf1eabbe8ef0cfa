"""The driver: plan validation, papermill execution into chapters, skipping unchanged chapters."""

import json

import pytest

from helpers import study
from helpers.errors import StudyError


def write_plan(tmp_path, body: str):
    path = tmp_path / "plan.yaml"
    path.write_text(body)
    return path


def test_load_plan_resolves_parameters(tmp_path):
    plan = study.load_plan(write_plan(tmp_path, "profile: smoke\nseed: 3\nparameters: {eval_limit: 2}\n"
                                                "notebooks:\n  - 01_setup\n  - {notebook: 02_data, parameters: {task: xnli}}\n"))
    assert [s.notebook for s in plan.steps] == ["01_setup", "02_data"]
    assert plan.steps[1].parameters == {"profile": "smoke", "seed": 3, "eval_limit": 2, "task": "xnli"}


@pytest.mark.parametrize("body, message", [
    ("profile: smoke\nnotebooks: [nosuch]\n", "unknown notebook 'nosuch'; valid notebooks: 01_setup"),
    ("profile: nosuch\nnotebooks: [01_setup]\n", "unknown profile 'nosuch'; valid profiles: smoke"),
    ("profile: smoke\nseed: -1\nnotebooks: [01_setup]\n", "'seed' must be a non-negative integer"),
    ("profile: smoke\nnotebook: [01_setup]\n", "unknown keys ['notebook']"),
    ("profile: smoke\nnotebooks: []\n", "'notebooks' must be a non-empty list"),
    ("profile: [smoke\n", "is not valid YAML at line"),
])
def test_bad_plans_fail_with_one_line(tmp_path, body, message):
    with pytest.raises(StudyError) as info:
        study.load_plan(write_plan(tmp_path, body))
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.slow
def test_run_executes_then_skips_unchanged_chapters(tmp_path, capsys):
    plan = study.load_plan(write_plan(tmp_path, "profile: smoke\nnotebooks: [01_setup]\n"))
    assert study.run_plan(plan)[0][1] == "ran"
    chapter = study.book_dir() / "01_setup.ipynb"
    executed = json.loads(chapter.read_text())
    meta = executed["metadata"]["study"]
    assert meta["cache_key"] == plan.steps[0].cache_key() and meta["parameters"]["profile"] == "smoke"
    injected = [c["metadata"]["tags"] for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected == [["injected-parameters", "remove-input"]]  # the page does not open with the parameters
    assert study.run_plan(plan)[0][1] == "skipped"
    assert study.run_plan(plan, force=True)[0][1] == "ran"
    out = capsys.readouterr().out
    assert "[1/1] 01_setup: unchanged since its last run, skipped" in out and "done in" in out
    assert not list(chapter.parent.glob(".tmp-*"))
    from helpers import runs

    assert [r["notebook"] for r in runs.read_table(runs.results_root() / "phase_times.csv")] == ["01_setup"]


def test_a_failing_chapter_is_one_line_and_leaves_no_chapter(tmp_path, monkeypatch):
    """A chapter that fails at run time (09 on empty results) is one line, and leaves no chapter."""
    monkeypatch.setenv("STUDY_BOOK_DIR", str(tmp_path / "book"))
    monkeypatch.setenv("STUDY_RESULTS_DIR", str(tmp_path / "results"))
    plan = study.load_plan(write_plan(tmp_path, "profile: smoke\nnotebooks: [09_tradeoff]\n"))
    with pytest.raises(StudyError, match="09_tradeoff failed in cell .*results table zero_shot.csv has no rows "
                                         "for profile smoke, seed 1 .*06_zero_shot"):
        study.run_plan(plan)
    assert not (tmp_path / "book" / "09_tradeoff.ipynb").exists()
    assert not list((tmp_path / "book").glob(".tmp-*"))


# ----------------------------------------------------------------------------- issue 15, part B
PARAMS = "valid parameters: profile, seed, task, arm, data_dir, eval_limit"


@pytest.mark.parametrize("body, message", [
    # defect 6: a misspelled key of a notebook entry, a parameter no notebook declares
    ("profile: smoke\nnotebooks:\n  - notebook: 05_target\n    parameter: {task: xnli}\n",
     "unknown key 'parameter' in the entry of 05_target; valid keys: notebook, parameters"),
    ("profile: smoke\nparameters: {tasks: xnli}\nnotebooks: [01_setup]\n",
     f"unknown parameter 'tasks' for 01_setup; {PARAMS}"),
    ("profile: smoke\nnotebooks: [{notebook: 02_data, parameters: {evallimit: 2}}]\n",
     f"unknown parameter 'evallimit' for 02_data; {PARAMS}"),
    # defect 7: profile and seed only at the top level
    ("profile: smoke\nparameters: {profile: embedded}\nnotebooks: [01_setup]\n",
     "'profile' in parameters must be set at the plan's top level instead (profile: smoke now)"),
    ("profile: smoke\nseed: 2\nnotebooks: [{notebook: 01_setup, parameters: {seed: 5}}]\n",
     "'seed' in the parameters of 01_setup must be set at the plan's top level instead (seed: 2 now)"),
    # defect 8: a bad value of a later notebook, found before the first chapter
    ("profile: smoke\nnotebooks: [01_setup, {notebook: 05_target, parameters: {task: nosuch}}]\n",
     "05_target: unknown task 'nosuch'; valid tasks: xnli, panx, xquad, tatoeba"),
    ("profile: smoke\nnotebooks: [01_setup, {notebook: 02_data, parameters: {eval_limit: ten}}]\n",
     "02_data: parameter eval_limit must be int, got str 'ten'"),
    # defect 10 through a plan: the notebooks' own phase checks
    ("profile: smoke\nnotebooks: [{notebook: 05_target, parameters: {task: tatoeba}}]\n",
     "05_target: task tatoeba has no training data"),
    ("profile: smoke\nnotebooks: [{notebook: 04_intermediate, parameters: {arm: direct}}]\n",
     "04_intermediate: arm direct has no intermediate phase; 04_intermediate (phase ii) trains the STILTs arms, "
     "valid arms: mnli"),
    # defect 11: numpy's seed range
    ("profile: smoke\nseed: 4294967296\nnotebooks: [01_setup]\n",
     "'seed' must be at most 4294967295 (the seed range of numpy), got 4294967296"),
    # defect 12: one chapter per notebook
    ("profile: smoke\nnotebooks: [01_setup, 02_data, {notebook: 01_setup, parameters: {task: xnli}}]\n",
     "notebook 01_setup is listed twice (entries 1 and 3); list each notebook once"),
])
def test_bad_plans_are_refused_before_any_chapter(tmp_path, body, message):
    with pytest.raises(StudyError) as info:
        study.load_plan(write_plan(tmp_path, body))
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith(f"plan file {tmp_path / 'plan.yaml'}: ")


def test_a_latin1_plan_names_the_file_and_line(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_bytes("# plan\nprofile: smoke\nname: m\u00e4rz\nnotebooks: [01_setup]\n".encode("latin-1"))
    with pytest.raises(StudyError) as info:
        study.load_plan(path)
    assert str(info.value) == f"plan file {path} is not UTF-8: byte 0xe4 at line 3; it must be saved as UTF-8"


def test_a_plan_with_a_bom_loads(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_bytes(b"\xef\xbb\xbfprofile: smoke\nnotebooks: [01_setup]\n")
    assert study.load_plan(path).profile == "smoke"


def test_a_plan_path_that_is_a_directory(tmp_path):
    (tmp_path / "a.yaml").write_text("profile: smoke\nnotebooks: [01_setup]\n")
    with pytest.raises(StudyError) as info:
        study.load_plan(tmp_path)
    assert str(info.value) == (f"plan path {str(tmp_path)!r} is a directory, not a plan file; give a YAML plan file "
                               f"(plans in that directory: a.yaml)")


def test_notebook_parameters_are_papermills():
    """The driver's reading of every parameters cell lists what papermill.inspect_notebook lists."""
    import papermill

    for source in sorted(study.NOTEBOOKS_DIR.glob("*.ipynb")):
        declared = study.notebook_parameters(source)
        assert list(declared) == list(papermill.inspect_notebook(source)), source.name
    assert study.notebook_parameters(study.NOTEBOOKS_DIR / "05_target.ipynb") == {
        "profile": "smoke", "seed": 1, "task": "", "arm": "", "data_dir": "", "eval_limit": 0}


def test_validation_call_of_the_phase_notebooks():
    call = study.validation_call(study.NOTEBOOKS_DIR / "05_target.ipynb")
    assert call["phase"] == ("literal", "target") and call["task"] == ("parameter", "task")
    assert study.validation_call(study.NOTEBOOKS_DIR / "04_intermediate.ipynb")["phase"] == ("literal", "intermediate")
    assert study.validation_call(study.NOTEBOOKS_DIR / "09_tradeoff.ipynb")["phase"] == ("literal", "tradeoff")
    assert "phase" not in study.validation_call(study.NOTEBOOKS_DIR / "01_setup.ipynb")


def test_a_parameter_configure_does_not_take_keeps_its_type(tmp_path, monkeypatch):
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("profile = 'smoke'  # p\nrepeats = 3  # r\nscale = 0.5  # s\n")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("from helpers.config import configure\ncfg = configure(profile=profile)")]
    nbformat.write(nb, str(tmp_path / "99_extra.ipynb"))
    monkeypatch.setattr(study, "NOTEBOOKS_DIR", tmp_path)
    study.check_parameters("99_extra", {"profile": "smoke", "repeats": 6, "scale": 2}, where="here")
    with pytest.raises(StudyError, match="^here: parameter repeats of 99_extra must be int, got str 'six'$"):
        study.check_parameters("99_extra", {"repeats": "six"}, where="here")
    with pytest.raises(StudyError, match="^here: parameter repeats of 99_extra must be int, got bool True$"):
        study.check_parameters("99_extra", {"repeats": True}, where="here")
    with pytest.raises(StudyError, match="^here: 99_extra: unknown profile 'big'; valid profiles"):
        study.check_parameters("99_extra", {"profile": "big"}, where="here")


def test_cli_validates_the_whole_plan_before_the_first_chapter(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STUDY_BOOK_DIR", str(tmp_path / "book"))
    monkeypatch.setenv("STUDY_RESULTS_DIR", str(tmp_path / "results"))
    plan = write_plan(tmp_path, "profile: smoke\nnotebooks: [01_setup, {notebook: 05_target, parameters: {task: nosuch}}]\n")
    from helpers.errors import run_cli

    assert run_cli(study.main, ["run", str(plan)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: plan file {plan}: 05_target: unknown task 'nosuch'; valid tasks: xnli, panx, xquad, tatoeba")
    assert not (tmp_path / "book").exists() and not (tmp_path / "results").exists()


def test_the_injected_parameters_cell_is_hidden_in_the_book():
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("profile = 'smoke'")
    params.metadata["tags"] = ["parameters", "remove-input"]
    injected = nbformat.v4.new_code_cell("# Parameters\nprofile = 'embedded'\n")
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells = [params, injected, nbformat.v4.new_code_cell("cfg = 1")]
    out = study.hide_injected_parameters(study.hide_injected_parameters(nb))
    assert [c.metadata.get("tags", []) for c in out.cells] == [
        ["parameters", "remove-input"], ["injected-parameters", "remove-input"], []]


def test_notebook_parameters_keep_the_defaults_types():
    assert study.notebook_parameters(study.NOTEBOOKS_DIR / "02_data.ipynb") == {
        "profile": "smoke", "seed": 1, "task": "", "arm": "", "data_dir": "", "eval_limit": 0}
