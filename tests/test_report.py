"""Steering-group reports from a tiny hand-made publishable database (inline tables below).

Two municipalities: Lindesnes (4205), published on its own, and Småby (9999), too small to
publish alone and merged into the region unit NO-42 when `mart_publication_units` exists.
Suppressed cells are NULL with `<col>_suppressed` true, as the publish step writes them.
Assert messages name files and keys only.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from hfeval import __version__, i18n
from hfeval.config import default_parameters
from hfeval.reporting import (
    build,
    pdf,
    render_report,
    reproducibility,
    resolve_langs,
    slug,
    write_reports,
)
from hfeval.reporting.render import css_string

# Skipped without Chromium, except where the browser is required (CI sets the variable).
NEEDS_CHROMIUM = pytest.mark.skipif(
    pdf.find_chromium() is None and not os.environ.get("HFEVAL_REQUIRE_BROWSER"),
    reason="no Chromium to print PDFs")

RUN_ID = "20261123T005700Z-abc123"
SHA = "61de5ab550dd9613b4bb6223c425a89c68668e1399534c11ee52d588b777e4a3"
MANIFEST = {
    "run_id": RUN_ID, "started_at": "2026-11-23T00:57:00+00:00", "finished_at": None,
    "synthetic_data": True, "hfeval_version": __version__,
    "git": {"commit": "31112aadd39c0b9800922bab9d0580a5ccac6718", "dirty": False},
    "python": "3.11.7", "packages": {"duckdb": "2.0.0", "polars": "2.1.0"},
    "data_dir": "/data/exports", "parameters": default_parameters(),
    "extraction_dates": {"lindesnes": {"date": "2019-12-31", "from": "source.yaml"}},
    "sources": [{"source_id": "lindesnes", "synthetic": True}],
    "inputs": [{"table": "participants", "path": "lindesnes/deltakere.csv",
                "source_id": "lindesnes", "rows_read": 45, "sha256": SHA}],
    "steps": [{"step": "load", "seconds": 1.2}],
}

OVERVIEW = pl.DataFrame({
    "country": ["NO", "NO", "NO"],
    "municipality_code": ["4205", "4205", "9999"],
    "municipality_name": ["Lindesnes", "Lindesnes", "Småby"],
    "arm": ["housing_first", "comparison", "housing_first"],
    "first_cohort_year": [2014, 2014, 2015], "last_cohort_year": [2016, 2016, 2015],
    "n_participants": [30, 15, None], "n_participants_suppressed": [False, False, True],
    "n_housed": [30, 10, None], "n_housed_suppressed": [False, False, True],
})

RETENTION = pl.DataFrame({
    "arm": ["housing_first"] * 3 + ["comparison"] * 3,
    "stratum_variable": ["municipality"] * 6,
    "stratum_value": ["Lindesnes"] * 6,
    "months": [6.0, 12.0, 24.0] * 2,
    "n_at_risk": [25, 25, 20, 10, None, None],
    "n_at_risk_suppressed": [False, False, False, False, True, True],
    "survival": [0.866667, 0.833333, 0.729167, 0.818182, None, None],
    "survival_suppressed": [False, False, False, False, True, True],
    "ci_lower": [0.682769, 0.644961, 0.530366, 0.447429, None, None],
    "ci_upper": [0.947751, 0.927006, 0.854441, 0.951162, None, None],
})

UNITS = pl.DataFrame({
    "country": ["NO", "NO"], "region": ["Agder", "Agder"],
    "municipality_code": ["4205", "9999"], "municipality_name": ["Lindesnes", "Småby"],
    "unit_code": ["4205", "NO-42"], "unit_kind": ["municipality", "region"],
    "unit_region": ["Agder", "Agder"], "n_municipalities_in_unit": [1, 2],
})


def make_db(path: Path, tables: dict[str, pl.DataFrame], manifest: dict = MANIFEST) -> Path:
    with duckdb.connect(str(path)) as con:
        for name, df in tables.items():
            con.register("_frame", df.to_arrow())
            con.execute(f"create table {name} as select * from _frame")
            con.unregister("_frame")
        con.execute("create table _protection (table_name varchar, column_name varchar, "
                    "protection varchar)")
        con.execute("create table _manifest (run_id varchar, synthetic_data boolean, "
                    "manifest_json varchar)")
        con.execute("insert into _manifest values (?, ?, ?)",
                    [manifest["run_id"], manifest["synthetic_data"], json.dumps(manifest)])
    return path


@pytest.fixture
def db(tmp_path) -> Path:
    return make_db(tmp_path / "hfeval_publish.duckdb", {
        "mart_overview_by_municipality": OVERVIEW, "mart_retention_by_stratum": RETENTION})


def html_for(db: Path, code: str, lang: str) -> str:
    with build.Published(db) as pub:
        [request] = build.resolve(pub, [code])
        return render_report(pub, request, lang)


def text_of(html: str) -> str:
    """The visible text, tags removed, whitespace collapsed."""
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def row_of(html: str, label: str) -> str:
    """The text of the first table row whose first cell is `label`."""
    for tr in re.findall(r"<tr>(.*?)</tr>", html, flags=re.DOTALL):
        if re.match(rf"\s*<td[^>]*>{re.escape(label)}</td>", tr):
            return text_of(tr)
    raise AssertionError(f"no table row labelled {label!r}")


# ---- numbers ----------------------------------------------------------------------------------


def test_retention_is_shown_as_rounded_percentages_with_ci_and_people_followed(db):
    # 0.833333 -> 83 %, CI 0.644961-0.927006 -> 64 % til 93 %, 25 followed (nb formatting).
    row = row_of(html_for(db, "4205", "nb"), "Housing First")
    assert row == ("Housing First 87 % (68 % til 95 %) · fulgt: 25 83 % (64 % til 93 %) · "
                   "fulgt: 25 73 % (53 % til 85 %) · fulgt: 20")


def test_a_suppressed_cell_is_shown_as_suppressed_never_as_zero(db):
    row = row_of(html_for(db, "4205", "en"), "Comparison group")
    assert row == "Comparison group 82% (45% to 95%) · followed: 10 suppressed suppressed"
    assert " 0%" not in row


def test_key_figures_and_the_plain_summary_use_the_published_counts(db):
    text = text_of(html_for(db, "4205", "en"))
    assert ("30 people have taken part in Housing First in Lindesnes (2014–2016); 30 of them "
            "have moved into a home of their own.") in text
    assert ("Of those who moved in, 83% were still in their home one year later (95 % "
            "confidence interval 64% to 93%).") in text


def test_a_municipality_with_a_suppressed_count_gets_the_privacy_sentence(db):
    text = text_of(html_for(db, "9999", "en"))
    assert "So few people have taken part in Housing First in Småby that the number is not " \
           "shown" in text
    assert "suppressed" in text


# ---- what every report shows ------------------------------------------------------------------


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_report_shows_the_synthetic_banner_version_run_id_and_disclosure_statement(db, lang):
    html = html_for(db, "4205", lang)
    text = text_of(html)
    assert i18n.t("common.synthetic_banner", lang) in text
    assert f"hfeval {__version__}" in text
    assert RUN_ID in text
    assert i18n.t("report.annex.disclosure", lang, threshold=7, base=5,
                  suppressed=i18n.t("common.suppressed", lang)) in text


def test_the_methods_annex_lists_every_parameter_and_each_input_hash(db):
    text = text_of(html_for(db, "4205", "en"))
    for name in default_parameters():
        assert name in text, name
    assert SHA in text and "lindesnes/deltakere.csv" in text
    assert "31112aadd39c0b9800922bab9d0580a5ccac6718" in text
    assert "hfeval run --data /data/exports" in text


def test_the_rerun_command_names_the_parameters_that_differ_from_the_defaults(tmp_path):
    m = {**MANIFEST, "parameters": {**default_parameters(), "costs.window_months": 12}}
    db = make_db(tmp_path / "p.duckdb", {"mart_overview_by_municipality": OVERVIEW}, m)
    assert "hfeval run --data /data/exports --set costs.window_months=12" in \
        text_of(html_for(db, "4205", "en"))


def test_no_banner_when_the_data_are_not_synthetic(tmp_path):
    m = {**MANIFEST, "synthetic_data": False}
    db = make_db(tmp_path / "real.duckdb", {"mart_overview_by_municipality": OVERVIEW}, m)
    assert i18n.t("common.synthetic_banner", "en") not in html_for(db, "4205", "en")


def test_the_html_is_self_contained(db):
    html = html_for(db, "4205", "en")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "<script" not in html


def test_each_language_is_written_in_that_language(db):
    titles = {lang: text_of(html_for(db, "4205", lang)) for lang in i18n.LANGS}
    assert "Rapport til styringsgruppen" in titles["nb"]
    assert "Rapport til styregruppen" in titles["da"]
    assert "Beholder folk boligen?" in titles["nb"]
    assert "Beholder folk deres bolig?" in titles["da"]
    assert "Do people keep their homes?" in titles["en"]


def test_report_texts_exist_in_every_language_with_the_same_placeholders():
    keys = {lang: {k: v for k, v in i18n.catalogue(lang).items() if k.startswith("report.")}
            for lang in i18n.LANGS}
    assert set(keys["nb"]) == set(keys["da"]) == set(keys["en"])
    for k, text in keys["en"].items():
        for lang in ("nb", "da"):
            assert set(re.findall(r"{(\w+)}", keys[lang][k])) == \
                set(re.findall(r"{(\w+)}", text)), (lang, k)


# ---- which unit -------------------------------------------------------------------------------


def test_without_publication_units_every_municipality_is_its_own_unit(db):
    with build.Published(db) as pub:
        found = [(r.code, r.unit.code, r.merged) for r in build.resolve(pub, ["all"])]
    assert found == [("4205", "4205", False), ("9999", "9999", False)]


def test_a_merged_municipality_gets_its_aggregates_report_and_says_so(tmp_path):
    merged = OVERVIEW.filter(pl.col("municipality_code") == "4205")
    region = OVERVIEW.filter(pl.col("municipality_code") == "9999").with_columns(
        pl.lit("NO-42").alias("municipality_code"), pl.lit("Agder").alias("municipality_name"))
    db = make_db(tmp_path / "u.duckdb", {"mart_publication_units": UNITS,
                                         "mart_overview_by_municipality":
                                             pl.concat([merged, region])})
    with build.Published(db) as pub:
        [request] = build.resolve(pub, ["Småby"])
        assert (request.unit.code, request.unit.kind, request.merged) == ("NO-42", "region", True)
        text = text_of(render_report(pub, request, "nb"))
    assert "Småby er for liten til å publiseres alene; resultatene inngår i «Agder: mindre " \
           "kommuner samlet»." in text
    assert "Housing First i Agder: mindre kommuner samlet" in text


def test_an_unknown_municipality_is_refused_naming_the_known_ones(db):
    with build.Published(db) as pub, pytest.raises(build.ReportError, match="4205 \\(Lindesnes\\)"):
        build.resolve(pub, ["0301"])


def test_a_database_without_protection_notes_is_not_opened(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table mart_participants (participant_id varchar)")
    with pytest.raises(build.ReportError, match="not a publishable"):
        build.Published(path)


# ---- files --------------------------------------------------------------------------------------


def test_write_reports_names_files_by_code_name_and_language_and_indexes_them(db, tmp_path):
    out = tmp_path / "reports"
    files = write_reports(db, out, municipalities=["4205"], langs=["nb", "en"], with_pdf=False)
    assert [f.html for f in files] == ["4205-lindesnes.nb.html", "4205-lindesnes.en.html"]
    index = json.loads((out / "reports.json").read_text(encoding="utf-8"))
    assert [r["content_sha256"] for r in index["reports"]] == [f.content_sha256 for f in files]


@NEEDS_CHROMIUM
def test_the_pdf_is_a4_with_one_section_per_page_at_most_six_pages(db, tmp_path):
    import pypdfium2 as pdfium

    [f] = write_reports(db, tmp_path, municipalities=["4205"], langs=["en"])
    doc = pdfium.PdfDocument(str(tmp_path / f.pdf))
    try:
        width, height = doc[0].get_size()
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        assert 4 <= len(doc) <= 6
    finally:
        doc.close()


def test_file_names_are_ascii():
    assert [slug(n) for n in ("Lindesnes", "Bærum", "Høje-Taastrup", "Ærø", "Nord-Fron")] == \
        ["lindesnes", "baerum", "hoje-taastrup", "aero", "nord-fron"]


def test_languages_resolve_from_codes_and_all():
    assert resolve_langs(["all"]) == ["nb", "da", "en"]
    assert resolve_langs(["no", "EN"]) == ["nb", "en"]
    with pytest.raises(build.ReportError):
        resolve_langs(["sv"])


def test_css_strings_cannot_close_the_style_element():
    assert css_string('Ås "x" </style>') == '"Ås \\22 x\\22  \\3c /style\\3e "'


# ---- reproducibility helpers --------------------------------------------------------------------


def test_run_id_and_run_time_are_the_only_parts_of_a_report_a_rerun_may_change(db, tmp_path):
    m2 = {**MANIFEST, "run_id": "20261124T101010Z-def456",
          "started_at": "2026-11-24T10:10:10+00:00"}
    db2 = make_db(tmp_path / "second.duckdb", {
        "mart_overview_by_municipality": OVERVIEW, "mart_retention_by_stratum": RETENTION}, m2)
    first, second = html_for(db, "4205", "en"), html_for(db2, "4205", "en")
    assert first != second
    assert reproducibility.normalise_html(first) == reproducibility.normalise_html(second)


def test_table_digests_ignore_row_order_but_see_the_last_bit_of_a_float(tmp_path):
    def digest(rows):
        with duckdb.connect() as con:
            con.execute("create table t (k varchar, x double)")
            con.executemany("insert into t values (?, ?)", rows)
            return reproducibility.table_digest(con, "t")

    assert digest([("a", 0.1), ("b", 0.2)]) == digest([("b", 0.2), ("a", 0.1)])
    assert digest([("a", 0.1), ("b", 0.2)]) != digest([("a", 0.1), ("b", 0.2 + 2**-55)])


def test_manifest_digests_leave_out_run_id_times_and_durations(tmp_path):
    later = {**MANIFEST, "run_id": "20261124T101010Z-def456", "seconds_total": 99.0,
             "started_at": "2026-11-24T10:10:10+00:00", "steps": [{"step": "load", "seconds": 3}]}
    a = make_db(tmp_path / "a.duckdb", {}, MANIFEST)
    b = make_db(tmp_path / "b.duckdb", {}, later)
    assert reproducibility.differing_tables(a, b) == []
    changed = make_db(tmp_path / "c.duckdb", {}, {**later, "parameters": {"x": 1}})
    assert reproducibility.differing_tables(a, changed) == ["_manifest"]
