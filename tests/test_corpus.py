"""The bad-input corpus (tests/corpus/cases.yaml): every bad file ends in a documented exit code
with a clear message, every row is loaded or quarantined with a reason, and a failed run leaves
the previous warehouse byte for byte as it was."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import duckdb
import pytest

from hfeval import export, pipeline
from tests.corpus import runner

CASES = runner.load_cases()
# Documented in the README's table of exit codes; 1 (internal error) must never happen.
DOCUMENTED_EXITS = {
    pipeline.EXIT_OK, pipeline.EXIT_VALIDATION, pipeline.EXIT_INPUT, pipeline.EXIT_IDENTIFIER,
}


def _params(cases: list[runner.Case], known_issues: bool = False) -> list:
    # Refused files stop before validation (well under a second): they run in every test
    # session. Full runs take seconds each and are marked slow (CI runs them). With
    # known_issues, a case with a reported bug is expected to fail (strictly: a fix shows).
    params = []
    for c in cases:
        marks = [pytest.mark.slow] if c.exit in (0, 2) or c.slow else []
        if known_issues and c.known_issue:
            marks.append(pytest.mark.xfail(strict=True, reason=c.known_issue))
        params.append(pytest.param(c, id=c.id, marks=marks))
    return params


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory) -> Path:
    # One fixed folder per session, shared by test_corpus.py and test_log_privacy.py: each case
    # runs once (runner.py caches the outcomes by case and folder).
    return tmp_path_factory.getbasetemp() / "corpus"


def outcome_of(c: runner.Case, root: Path) -> runner.Outcome:
    return runner.run_case(c, root)


def one_line(text: str) -> str:
    return " ".join(text.split())


# ---- the index -----------------------------------------------------------------------------------


def test_every_case_expects_a_documented_exit_code():
    assert {c.exit for c in CASES} <= DOCUMENTED_EXITS


def test_every_exit_code_of_the_corpus_is_in_the_readme_table():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for code in {c.exit for c in CASES}:
        assert re.search(rf"^\| {code} \|", readme, re.MULTILINE), f"exit code {code}"


def test_every_corpus_file_is_used_by_a_case_and_every_case_is_documented():
    used = {f for c in CASES for f in c.files.values() if f}
    assert used == {p.name for p in runner.FILES.iterdir()}
    assert {c.generate for c in CASES if c.generate} <= set(runner.GENERATORS)
    readme = (runner.CORPUS / "README.md").read_text(encoding="utf-8")
    assert [c.id for c in CASES if f"`{c.id}`" not in readme] == []


# ---- every case ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _params(CASES, known_issues=True))
def test_case_ends_with_its_documented_exit_code_and_no_traceback(case, corpus_root):
    out = outcome_of(case, corpus_root)
    assert out.exception is None, type(out.exception).__name__
    assert out.exit_code == case.exit
    assert "Traceback" not in out.stdout + out.stderr


@pytest.mark.parametrize("case", _params([c for c in CASES if c.messages]))
def test_case_message_names_what_went_wrong(case, corpus_root):
    screen = one_line(outcome_of(case, corpus_root).stdout + " " +
                      outcome_of(case, corpus_root).stderr)
    assert [m for m in case.messages if m not in screen] == []


@pytest.mark.parametrize("case", _params(CASES))
def test_case_accounts_for_every_row(case, corpus_root):
    out = outcome_of(case, corpus_root)
    tables = out.manifest.get("tables", {})
    for name, t in tables.items():
        assert t["rows_read"] == (
            t["rows_loaded"] + t["rows_quarantined"] + t["rows_replaced_by_override"]
        ), name
    got = {name: [tables[name]["rows_read"], tables[name]["rows_loaded"],
                  tables[name]["rows_quarantined"]] for name in case.tables if name in tables}
    assert got == case.tables


@pytest.mark.parametrize("case", _params(CASES))
def test_case_quarantines_rows_only_with_a_reason(case, corpus_root):
    out = outcome_of(case, corpus_root)
    assert out.quarantine_without_reason == 0
    by_reason: dict[str, int] = {}
    for _, expectation, n in out.quarantine:
        by_reason[expectation] = by_reason.get(expectation, 0) + n
    assert by_reason == case.quarantine_reasons
    quarantined = sum(t["rows_quarantined"] for t in out.manifest.get("tables", {}).values())
    # A row failing two expectations is quarantined once per expectation.
    assert sum(by_reason.values()) >= quarantined


@pytest.mark.parametrize("case", _params(CASES, known_issues=True))
def test_case_replaces_the_warehouse_only_when_it_succeeds(case, corpus_root):
    out = outcome_of(case, corpus_root)
    assert all(out.before), "the case started from a clean run's warehouse"
    if case.exit == 0:
        assert out.after[0] != out.before[0] and out.after[1] != out.before[1]
    else:
        assert out.after == out.before


@pytest.mark.parametrize("case", _params([c for c in CASES if c.exit == 5]))
def test_a_refused_file_leaves_nothing_person_level_behind(case, corpus_root):
    out = outcome_of(case, corpus_root)
    assert not (out.run_dir / "person-level").exists()
    assert list((out.out_dir / "warehouse").glob(".building-*")) == []


# ---- what the loaded values are, where a case is about values ------------------------------------


def _values(out: runner.Outcome, sql: str) -> list[tuple]:
    with duckdb.connect(str(out.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
def test_mixed_encodings_are_decoded_line_by_line(corpus_root):
    out = outcome_of(runner.case("mixed_encodings"), corpus_root)
    notes = _values(out, "select note from valid_programme_costs order by note")
    assert notes == [("Bostøtte for én",), ("Lønn til teamet",)]
    (inp,) = [i for i in out.manifest["inputs"] if i["table"] == "programme_costs"]
    assert inp["encoding"] == "mixed"


@pytest.mark.slow
def test_five_date_spellings_parse_to_the_same_calendar_dates(corpus_root):
    out = outcome_of(runner.case("three_date_formats"), corpus_root)
    got = _values(out, "select participant_id, strftime(enrolment_date, '%Y-%m-%d') "
                       "from valid_participants order by participant_id")
    base = _values(outcome_of(runner.case("clean_base"), corpus_root),
                   "select participant_id, strftime(enrolment_date, '%Y-%m-%d') "
                   "from valid_participants order by participant_id")
    assert got == base


@pytest.mark.slow
def test_formulas_are_stored_as_text_and_neutralised_on_export(corpus_root):
    out = outcome_of(runner.case("formula_in_text"), corpus_root)
    notes = [r[0] for r in _values(out, "select note from valid_programme_costs order by year")]
    assert sorted(n[0] for n in notes) == ["+", "=", "@"]  # stored as written, not evaluated
    import polars as pl

    exported = list(csv.reader(io.StringIO(export.safe_csv(pl.DataFrame({"note": notes})))))
    assert all(cell.startswith("'") for (cell,) in exported[1:])


@pytest.mark.slow
def test_an_excel_formula_is_read_as_its_text(corpus_root):
    out = outcome_of(runner.case("xlsx_formula"), corpus_root)
    (note,) = _values(out, "select note from valid_programme_costs")
    assert note[0].startswith("=HYPERLINK(")


@pytest.mark.slow
def test_a_100k_character_note_is_kept_whole(corpus_root):
    out = outcome_of(runner.case("long_strings"), corpus_root)
    lengths = _values(out, "select max(length(note)) from valid_programme_costs")
    assert lengths == [(100_000,)]
