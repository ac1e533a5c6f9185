"""Notebooks: committed without outputs, stripped with nbformat, executed by the report step into
a person-level folder; a failing notebook never fails the run and never prints a value."""

from __future__ import annotations

import nbformat
import pytest

from hfeval import pipeline
from hfeval.config import get_paths
from hfeval.reporting import notebooks

COMMITTED = notebooks.notebook_files(get_paths().root / "notebooks")


def dirty_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.execution_count = 3
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"},
                                           execution_count=3)]
    cell.metadata["execution"] = {"iopub.status.busy": "2026-11-23T00:00:00Z"}
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), cell]
    nb.metadata["papermill"] = {"duration": 1.0}
    return nb


def test_there_are_notebooks_to_check():
    assert [p.name for p in COMMITTED][:1] == ["02-housing-retention.ipynb"]


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_every_committed_notebook_has_no_outputs_and_no_execution_counts(path):
    nb = nbformat.read(path, as_version=4)
    assert notebooks.is_clean(nb), f"{path.name}: run `make strip-notebooks`"


def test_strip_clears_outputs_counts_and_run_metadata_and_keeps_the_code(tmp_path):
    path = tmp_path / "dirty.ipynb"
    nbformat.write(dirty_notebook(), path)
    assert notebooks.strip(path) is True
    nb = nbformat.read(path, as_version=4)
    assert notebooks.is_clean(nb)
    assert [c.source for c in nb.cells] == ["# title", "1 + 1"]
    assert notebooks.strip(path) is False  # already clean: the file is left alone


def test_the_strip_command_names_the_files_it_changed(tmp_path, capsys):
    path = tmp_path / "dirty.ipynb"
    nbformat.write(dirty_notebook(), path)
    assert notebooks.main(["strip", str(path)]) == 0
    assert capsys.readouterr().out == f"stripped {path}\n"


# ---- the report step inside `hfeval run` ----------------------------------------------------
# The pipeline itself is replaced by a no-op here: these tests are about the step after it.


@pytest.fixture
def no_pipeline(monkeypatch, tmp_path):
    monkeypatch.setattr(pipeline, "_run_locked", lambda *a, **k: None)
    return tmp_path


def test_a_run_with_notebooks_records_a_person_level_step_and_its_outcome(no_pipeline,
                                                                          monkeypatch):
    calls = []

    def fake(paths, run_id, **kw):
        calls.append(run_id)
        return notebooks.NotebookRun(paths.runs / run_id / "notebooks", [
            notebooks.NotebookResult("a.ipynb", "ok", 1.0, "a.html"),
            notebooks.NotebookResult("b.ipynb", "failed", 1.0, "b.html", "ValueError in cell 2"),
        ])

    monkeypatch.setattr(notebooks, "run_notebooks", fake)
    result = pipeline.run(no_pipeline, notebooks=True)
    assert result.exit_code == 0, result.messages
    assert calls == [result.run_id]
    [step] = [s for s in result.manifest["steps"] if s["step"] == "notebooks"]
    assert (step["label"], step["output"]) == ("person-level", f"runs/{result.run_id}/notebooks")
    assert "notebook b.ipynb failed: ValueError in cell 2" in result.manifest["notes"]


def test_a_notebook_step_that_cannot_start_leaves_the_run_succeeded(no_pipeline, monkeypatch):
    def broken(*a, **kw):
        raise ModuleNotFoundError("papermill")

    monkeypatch.setattr(notebooks, "run_notebooks", broken)
    result = pipeline.run(no_pipeline, notebooks=True)
    assert result.exit_code == 0, result.messages
    assert "notebooks not executed (ModuleNotFoundError)" in result.manifest["notes"]


def test_the_library_runs_no_notebooks_unless_asked(no_pipeline, monkeypatch):
    monkeypatch.setattr(notebooks, "run_notebooks", lambda *a, **k: pytest.fail("ran"))
    assert pipeline.run(no_pipeline).exit_code == 0


# ---- executing real notebooks (starts Jupyter kernels) ----------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_notebooks_are_executed_to_html_in_a_person_level_folder(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    ok = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nprint('output at', os.environ['HFEVAL_OUTPUT'])")])
    bad = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('SECRET-VALUE')")])
    nbformat.write(ok, folder / "a-ok.ipynb")
    nbformat.write(bad, folder / "b-bad.ipynb")
    paths = get_paths()
    run = notebooks.run_notebooks(paths, "RUN", folder=folder)
    out = paths.runs / "RUN" / "notebooks"
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "a-ok.html", "b-bad.html"]
    assert "PERSON-LEVEL" in (out / "README.txt").read_text(encoding="utf-8")
    assert f"output at {paths.output}" in (out / "a-ok.html").read_text(encoding="utf-8")
    assert [(r.notebook, r.status, r.error) for r in run.results] == [
        ("a-ok.ipynb", "ok", None), ("b-bad.ipynb", "failed", "ValueError in cell 2")]
    assert "SECRET-VALUE" not in " ".join(run.notes())
