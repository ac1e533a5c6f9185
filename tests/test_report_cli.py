"""`hfeval report` and the notebook switch of `hfeval run`, through the command line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner, Result

from hfeval import pipeline
from hfeval.cli import app
from hfeval.config import get_paths
from tests.test_report import OVERVIEW, RETENTION, make_db


def hfeval(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def published():
    paths = get_paths()
    paths.warehouse_dir.mkdir(parents=True)
    return make_db(paths.publish_db, {"mart_overview_by_municipality": OVERVIEW,
                                      "mart_retention_by_stratum": RETENTION})


@pytest.fixture
def run_calls(monkeypatch, tmp_path):
    """`pipeline.run` replaced by a recorder: these tests are about the options passed."""
    calls = []

    def fake(data, **kw):
        calls.append(kw)
        return pipeline.RunResult("r", "succeeded", 0, tmp_path, tmp_path / "m.json", None, None)

    monkeypatch.setattr(pipeline, "run", fake)
    monkeypatch.delenv("HFEVAL_NOTEBOOKS", raising=False)
    return calls


def test_run_executes_the_notebooks_by_default(run_calls, tmp_path):
    assert hfeval("run", "--data", str(tmp_path)).exit_code == 0
    assert run_calls[0]["notebooks"] is True


def test_run_skips_the_notebooks_with_no_notebooks(run_calls, tmp_path):
    assert hfeval("run", "--data", str(tmp_path), "--no-notebooks").exit_code == 0
    assert run_calls[0]["notebooks"] is False


def test_hfeval_notebooks_0_in_the_environment_skips_them_too(run_calls, tmp_path, monkeypatch):
    monkeypatch.setenv("HFEVAL_NOTEBOOKS", "0")
    assert hfeval("run", "--data", str(tmp_path)).exit_code == 0
    assert run_calls[0]["notebooks"] is False


def test_report_without_published_results_says_what_to_run():
    result = hfeval("report")
    assert result.exit_code == 1
    assert "hfeval run --data DIR" in result.stderr


def test_report_writes_one_html_per_municipality_and_language(published, tmp_path):
    out = tmp_path / "reports"
    result = hfeval("report", "-m", "4205", "-l", "nb", "-l", "en", "--no-pdf", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "4205-lindesnes.en.html", "4205-lindesnes.nb.html", "reports.json"]
    assert "2 report(s) written" in result.stdout


def test_report_defaults_to_every_municipality_in_every_language(published):
    result = hfeval("report", "--no-pdf")
    assert result.exit_code == 0, result.stderr
    assert len(list((get_paths().output / "reports").glob("*.html"))) == 2 * 3


def test_report_for_an_unknown_municipality_exits_3_naming_the_known_ones(published):
    result = hfeval("report", "-m", "0301", "--no-pdf")
    assert result.exit_code == 3
    assert "4205 (Lindesnes)" in result.stderr
