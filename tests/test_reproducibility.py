"""Reruns are identical: two pipeline runs on the same SYNTHETIC inputs and parameters, in two
output folders, give hash-equal publishable databases, identical marts and identical report
content; and the reports of a run are complete (HTML + 4-6 page A4 PDF per demo municipality
and language, as `make report` writes them).

What may differ between the runs, and is left out (hfeval.reporting.reproducibility): the run
id, `started_at`, `finished_at`, `seconds_total`, each step's seconds and the Data Docs path in
`_manifest`; the run id and run time in the reports. Assert messages name tables and files only.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hfeval import __version__, pipeline, synth
from hfeval.config import Paths, default_parameters, get_paths
from hfeval.i18n import LANGS
from hfeval.reporting import ReportFile, pdf, reproducibility, write_reports

# Skipped without Chromium, except where the browser is required (CI sets the variable).
NEEDS_CHROMIUM = pytest.mark.skipif(
    pdf.find_chromium() is None and not os.environ.get("HFEVAL_REQUIRE_BROWSER"),
    reason="no Chromium to print PDFs")

pytestmark = pytest.mark.slow

DEMO_MUNICIPALITIES = 5


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-data")
    synth.generate(out, synth.SynthConfig())
    return out


@pytest.fixture(scope="module")
def runs(demo, tmp_path_factory) -> list[pipeline.RunResult]:
    out = []
    for name in ("first", "second"):
        paths = Paths(root=get_paths().root, output=tmp_path_factory.mktemp(name))
        result = pipeline.run(demo, paths=paths)
        assert result.exit_code == 0, result.messages
        out.append(result)
    assert out[0].run_id != out[1].run_id
    return out


def test_two_runs_publish_hash_equal_databases(runs):
    first, second = runs
    digests = reproducibility.database_digests(first.publish_db)
    assert "_manifest" in digests and "mart_km_curve_by_stratum" in digests
    assert reproducibility.differing_tables(first.publish_db, second.publish_db) == []


def test_two_runs_build_identical_marts_in_the_warehouse(runs):
    first, second = runs
    assert reproducibility.database_digests(first.warehouse, "mart_")
    assert reproducibility.differing_tables(first.warehouse, second.warehouse, "mart_") == []


def test_the_manifest_holds_what_a_rerun_needs(runs):
    m = runs[0].manifest
    assert m["parameters"] == default_parameters()
    assert m["inputs"] and all(len(i["sha256"]) == 64 for i in m["inputs"])
    assert m["hfeval_version"] == __version__
    assert m["packages"]["duckdb"] and m["python"]
    assert "commit" in m["git"]


@pytest.fixture(scope="module")
def reports(runs, tmp_path_factory) -> tuple[Path, list[ReportFile]]:
    """Every report of the first run, as `make report` writes them (PDF when Chromium is
    there)."""
    out = tmp_path_factory.mktemp("reports")
    return out, write_reports(runs[0].publish_db, out, with_pdf=pdf.find_chromium() is not None)


def test_two_runs_give_the_same_report_content(runs, reports, tmp_path):
    out, first = reports
    second = write_reports(runs[1].publish_db, tmp_path, with_pdf=False)
    assert len(first) == DEMO_MUNICIPALITIES * len(LANGS)
    assert [(f.html, f.content_sha256) for f in first] == \
        [(f.html, f.content_sha256) for f in second]
    # The run ids differ, so the files do too: the comparison above is not vacuous.
    assert (out / first[0].html).read_bytes() != (tmp_path / second[0].html).read_bytes()


@NEEDS_CHROMIUM
def test_each_demo_municipality_gets_an_html_and_a_4_to_6_page_a4_pdf_in_each_language(reports):
    import pypdfium2 as pdfium

    out, files = reports
    assert len(files) == DEMO_MUNICIPALITIES * len(LANGS)
    for f in files:
        assert (out / f.html).stat().st_size > 0, f.html
        doc = pdfium.PdfDocument(str(out / f.pdf))
        try:
            assert 4 <= len(doc) <= 6, f.pdf
            assert tuple(round(x) for x in doc[0].get_size()) == (595, 842), f.pdf
        finally:
            doc.close()
