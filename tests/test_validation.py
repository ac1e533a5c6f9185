"""Validation engine: each expectation kind on a tiny bad table, with the rows it must catch."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from hfeval import config, contract, validation

EXTRACTION = "2024-06-30"
PLANTED_ID = "PLANTED-9f3a"
PLANTED_DATE = "2031-07-19"


# ---- helpers -----------------------------------------------------------------------------------


def _lit(v: object) -> str:
    return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"


def make_typed(
    con: duckdb.DuckDBPyConnection,
    table: contract.Table,
    rows: list[dict[str, str | None]],
    *,
    files: list[str] | None = None,
    extraction: str | None = EXTRACTION,
    drop: tuple[str, ...] = (),
) -> str:
    """`typed_<table>` as the loader makes it, from raw text; `_row_id`s are 1, 2, ... in order."""
    cols = [c for c in table.columns if c.name not in drop]
    names = [c.name for c in cols]
    values = ", ".join(
        "("
        + ", ".join(
            [str(i), _lit((files or ["a.csv"] * len(rows))[i - 1]), _lit(extraction)]
            + [_lit(r.get(n)) for n in names]
        )
        + ")"
        for i, r in enumerate(rows, start=1)
    )
    select = [
        "_row_id::BIGINT AS _row_id",
        "'src1' AS _source_id",
        "_source_file",
        "(_row_id + 1)::BIGINT AS _source_row",
        "_extraction_date::DATE AS _extraction_date",
    ]
    for c in cols:
        if c.dtype == "VARCHAR":
            select.append(f"{c.name}::VARCHAR AS {c.name}")
        else:
            select.append(f"TRY_CAST({c.name} AS {c.dtype}) AS {c.name}")
            select.append(f"{c.name}::VARCHAR AS {c.name}__raw")
    raw_cols = ", ".join(["_row_id", "_source_file", "_extraction_date", *names])
    body = (
        f"(VALUES {values}) AS v({raw_cols})"
        if rows
        else ("(SELECT " + ", ".join(f"NULL AS {n}" for n in raw_cols.split(", ")) + " LIMIT 0)")
    )
    name = f"typed_{table.name}"
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {', '.join(select)} FROM {body}")
    return name


def run(con, table: contract.Table, *, mostly: float = 0.0, missing=(), **kw):
    typed = f"typed_{table.name}"
    suite = validation.build_suite(table)
    return validation.validate_table(
        con, table, suite, typed=typed, missing_columns=list(missing), mostly=mostly, **kw
    )


def quarantined(con, expectation_type: str, table: str | None = None) -> list[int]:
    where = f"AND table_name = '{table}'" if table else ""
    rows = con.execute(
        f"SELECT _row_id FROM quarantine WHERE expectation_type = '{expectation_type}' {where} "
        "ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def participant(pid: str = "p1", **over: str | None) -> dict[str, str | None]:
    row = {
        "participant_id": pid,
        "municipality_code": "0301",
        "birth_year": "1970",
        "sex": "female",
        "enrolment_date": "2020-01-01",
        "arm": "housing_first",
    }
    return {**row, **over}


def spell(pid: str, start: str, end: str | None, **over: str | None) -> dict[str, str | None]:
    return {
        "participant_id": pid,
        "start_date": start,
        "end_date": end,
        "housing_type": "own_lease",
        **over,
    }


def event(pid: str = "p1", **over: str | None) -> dict[str, str | None]:
    row = {
        "participant_id": pid,
        "service": "detox",
        "start_date": "2021-03-01",
        "end_date": "2021-03-04",
        "quantity": "3",
        "unit": "day",
    }
    return {**row, **over}


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("CREATE TABLE valid_municipalities AS SELECT '0301' AS municipality_code")
    yield c
    c.close()


@pytest.fixture
def con_with_participants(con):
    con.execute(
        "CREATE TABLE valid_participants AS SELECT * FROM (VALUES ('p1'), ('p2')) "
        "AS v(participant_id)"
    )
    return con


# ---- clean table ---------------------------------------------------------------------------------


def test_clean_table_passes_and_every_row_is_valid(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1"), participant("p2")])
    v = run(con, contract.PARTICIPANTS, mostly=1.0)
    assert (v.success, v.rows_in, v.rows_valid, v.rows_quarantined) == (True, 2, 2, 0)
    assert v.table_failures == []
    assert con.execute("SELECT count(*) FROM valid_participants").fetchall()[0][0] == 2


def test_valid_table_drops_raw_columns_and_keeps_meta_columns(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1")])
    run(con, contract.PARTICIPANTS)
    cols = [d[0] for d in con.execute("SELECT * FROM valid_participants").description]
    assert not [c for c in cols if c.endswith("__raw")]
    assert {"_row_id", "_source_id", "_source_file", "_source_row", "_extraction_date"} <= set(cols)
    assert set(contract.PARTICIPANTS.column_names) <= set(cols)


def test_a_typed_view_is_validated_like_a_table_and_leaves_no_temporary_tables(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1"), participant("p2", sex="x")])
    con.execute("ALTER TABLE typed_participants RENAME TO typed_base")
    con.execute("CREATE VIEW typed_participants AS SELECT * FROM typed_base")
    v = run(con, contract.PARTICIPANTS)
    assert (v.rows_valid, v.rows_quarantined) == (1, 1)
    assert quarantined(con, "expect_column_values_to_be_in_set") == [2]
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == {"typed_base", "valid_municipalities", "quarantine", "_quarantined_rows"}
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal")
             .fetchall()}
    assert views == {"typed_participants", "valid_participants"}


def test_valid_rows_are_a_view_that_leaves_out_the_quarantined_rows(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1"), participant("p2", sex="x")])

    run(con, contract.PARTICIPANTS)

    assert con.execute("SELECT table_type FROM information_schema.tables "
                       "WHERE table_name = 'valid_participants'").fetchall() == [("VIEW",)]
    assert con.execute("SELECT participant_id FROM valid_participants").fetchall() == [("p1",)]


def test_validating_a_table_again_replaces_which_rows_it_leaves_out(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1"), participant("p2", sex="x")])
    run(con, contract.PARTICIPANTS)
    make_typed(con, contract.PARTICIPANTS, [participant("p1", sex="x"), participant("p2")])

    run(con, contract.PARTICIPANTS)

    assert con.execute("SELECT participant_id FROM valid_participants").fetchall() == [("p2",)]


def test_a_valid_table_made_before_is_replaced_by_the_view(con):
    make_typed(con, contract.MUNICIPALITIES, [{"municipality_code": "0301", "name": "Oslo",
                                              "country": "NO"}])

    v = run(con, contract.MUNICIPALITIES)  # the fixture made valid_municipalities a table

    assert v.rows_valid == 1
    assert con.execute("SELECT municipality_code FROM valid_municipalities").fetchall() == [
        ("0301",)]


# ---- one bad table per expectation kind ---------------------------------------------------------


def test_unparseable_text_is_caught_by_of_type(con):
    make_typed(
        con,
        contract.PARTICIPANTS,
        [
            participant("p1"),
            participant("p2", birth_year="nineteen"),
            participant("p3"),
        ],
    )
    run(con, contract.PARTICIPANTS)
    assert quarantined(con, "expect_column_values_to_be_of_type") == [2]


def test_absent_text_is_not_a_type_error(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1", months_homeless_before=None)])
    v = run(con, contract.PARTICIPANTS)
    assert quarantined(con, "expect_column_values_to_be_of_type") == []
    assert v.rows_quarantined == 0


def test_missing_required_value_is_caught_by_not_null(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1", sex=None), participant("p2")])
    run(con, contract.PARTICIPANTS)
    assert quarantined(con, "expect_column_values_to_not_be_null") == [1]


def test_unknown_code_is_caught_by_in_set_and_null_is_ignored(con):
    make_typed(
        con,
        contract.PARTICIPANTS,
        [
            participant("p1", sex="x"),
            participant("p2"),
            participant("p3", support_model=None),
            participant("p4", support_model="act"),
        ],
    )
    run(con, contract.PARTICIPANTS)
    assert quarantined(con, "expect_column_values_to_be_in_set") == [1, 4]


def test_number_out_of_range_is_caught_by_between(con):
    make_typed(
        con,
        contract.PARTICIPANTS,
        [
            participant("p1", birth_year="1919"),
            participant("p2", birth_year="1920"),
            participant("p3", birth_year="2012"),
            participant("p4", birth_year="2013"),
        ],
    )
    run(con, contract.PARTICIPANTS)
    assert quarantined(con, "expect_column_values_to_be_between") == [1, 4]


def test_date_before_earliest_date_is_caught_by_between(con):
    make_typed(
        con,
        contract.PARTICIPANTS,
        [
            participant("p1", enrolment_date="1989-12-31"),
            participant("p2", enrolment_date="1990-01-01"),
        ],
    )
    run(con, contract.PARTICIPANTS)
    assert quarantined(con, "expect_column_values_to_be_between") == [1]


def test_date_after_the_rows_extraction_date_is_caught_by_between(con):
    make_typed(
        con,
        contract.PARTICIPANTS,
        [
            participant("p1", enrolment_date=EXTRACTION),
            participant("p2", enrolment_date="2024-07-01"),
        ],
    )
    run(con, contract.PARTICIPANTS)
    assert quarantined(con, "expect_column_values_to_be_between") == [2]


def test_without_an_extraction_date_only_the_minimum_is_checked(con):
    make_typed(
        con,
        contract.PARTICIPANTS,
        [participant("p1", enrolment_date="2099-01-01")],
        extraction=None,
    )
    run(con, contract.PARTICIPANTS)
    assert quarantined(con, "expect_column_values_to_be_between") == []


def test_duplicate_primary_key_is_caught_on_both_rows_by_unique(con):
    make_typed(
        con,
        contract.PARTICIPANTS,
        [
            participant("p1"),
            participant("p2"),
            participant("p1"),
            participant(None),
            participant(None),
        ],
    )
    run(con, contract.PARTICIPANTS)
    assert quarantined(con, "expect_column_values_to_be_unique") == [1, 3]


def test_duplicate_compound_key_is_caught_by_compound_unique(con_with_participants):
    con = con_with_participants
    make_typed(
        con,
        contract.HOUSING_SPELLS,
        [
            spell("p1", "2020-01-01", "2020-02-01"),
            spell("p1", "2020-01-01", "2020-01-01"),
            spell("p2", "2020-01-01", None),
        ],
    )
    run(con, contract.HOUSING_SPELLS)
    assert quarantined(con, "expect_compound_columns_to_be_unique") == [1, 2]


def test_end_before_start_is_caught_by_pair_and_open_or_same_day_is_fine(con_with_participants):
    con = con_with_participants
    make_typed(
        con,
        contract.SERVICE_USE,
        [
            event(start_date="2021-03-05", end_date="2021-03-04"),
            event(start_date="2021-03-04", end_date="2021-03-04"),
            event(start_date="2021-03-04", end_date=None),
        ],
    )
    run(con, contract.SERVICE_USE)
    assert quarantined(con, "expect_column_pair_values_a_to_be_greater_than_b") == [1]


# ---- overlapping spells --------------------------------------------------------------------------


def overlap_rows(con, rows) -> list[int]:
    make_typed(con, contract.HOUSING_SPELLS, rows)
    run(con, contract.HOUSING_SPELLS)
    return quarantined(con, "unexpected_rows_expectation")


def test_touching_spells_do_not_overlap(con_with_participants):
    assert (
        overlap_rows(
            con_with_participants,
            [
                spell("p1", "2020-01-01", "2020-03-01"),
                spell("p1", "2020-03-01", "2020-06-01"),
                spell("p1", "2020-06-01", None),
            ],
        )
        == []
    )


def test_open_spell_followed_by_another_is_an_overlap(con_with_participants):
    assert overlap_rows(
        con_with_participants,
        [
            spell("p1", "2020-01-01", None),
            spell("p1", "2021-01-01", "2021-02-01"),
            spell("p2", "2020-01-01", None),
        ],
    ) == [1, 2]


def test_spell_inside_a_longer_spell_overlaps_even_when_not_adjacent(con_with_participants):
    assert overlap_rows(
        con_with_participants,
        [
            spell("p1", "2020-01-01", "2020-12-31"),
            spell("p1", "2020-02-01", "2020-03-01"),
            spell("p1", "2020-03-01", "2020-04-01"),
            spell("p1", "2021-01-01", None),
        ],
    ) == [1, 2, 3]


def test_spells_of_different_participants_never_overlap(con_with_participants):
    assert (
        overlap_rows(
            con_with_participants,
            [
                spell("p1", "2020-01-01", None),
                spell("p2", "2020-01-01", None),
            ],
        )
        == []
    )


# ---- foreign keys --------------------------------------------------------------------------------


def test_orphan_rows_are_caught_by_the_foreign_key(con_with_participants):
    con = con_with_participants
    make_typed(con, contract.SERVICE_USE, [event("p1"), event("p9"), event("p2"), event(None)])
    run(con, contract.SERVICE_USE)
    assert quarantined(con, "unexpected_rows_expectation") == [2]


def test_foreign_key_checks_against_the_validated_parent(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1"), participant("p2", sex="x")])
    run(con, contract.PARTICIPANTS)
    make_typed(con, contract.SERVICE_USE, [event("p1"), event("p2")])
    run(con, contract.SERVICE_USE)
    assert quarantined(con, "unexpected_rows_expectation", "service_use") == [2]


def test_missing_parent_table_is_a_table_failure(con):
    make_typed(con, contract.SERVICE_USE, [event("p1")])
    v = run(con, contract.SERVICE_USE)
    assert not v.success
    assert any("could not be evaluated" in m and "participant_id" in m for m in v.table_failures)


# ---- mostly, table-level failures ---------------------------------------------------------------


def test_too_many_bad_rows_turn_into_a_table_failure_and_are_still_quarantined(con):
    rows = [participant(f"p{i}") for i in range(1, 20)] + [participant("p20", sex="x")]
    make_typed(con, contract.PARTICIPANTS, rows)
    assert run(con, contract.PARTICIPANTS, mostly=0.95).success  # 1 of 20 = 5 %: allowed
    make_typed(con, contract.PARTICIPANTS, rows[:10] + [participant("p11", sex="x")])
    con.execute("DELETE FROM quarantine")
    v = run(con, contract.PARTICIPANTS, mostly=0.95)
    assert not v.success
    assert quarantined(con, "expect_column_values_to_be_in_set") == [11]
    message = (
        "participants: column 'sex': expect_column_values_to_be_in_set failed for 1 of 11 rows "
        "(9.09 % > 5 % allowed) in files a.csv"
    )
    assert v.table_failures == [message]


def test_mostly_of_the_run_overrides_the_suite_and_is_reported(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1", sex="x"), participant("p2")])
    v = run(con, contract.PARTICIPANTS, mostly=0.4)
    in_set = next(
        r for r in v.results if r.type == "expect_column_values_to_be_in_set" and r.column == "sex"
    )
    assert (in_set.kwargs["mostly"], in_set.success, in_set.unexpected_count) == (0.4, True, 1)
    assert in_set.unexpected_percent == 50.0
    assert v.success


def test_failure_message_names_the_files_of_the_bad_rows(con):
    make_typed(
        con,
        contract.PARTICIPANTS,
        [participant("p1", sex="x"), participant("p2")],
        files=["b.csv", "c.csv"],
    )
    v = run(con, contract.PARTICIPANTS, mostly=1.0)
    assert v.table_failures[0].endswith("in files b.csv")


def test_missing_required_column_is_a_table_failure(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1")], drop=("sex",))
    v = run(con, contract.PARTICIPANTS, missing=["sex"])
    assert not v.success
    assert v.missing_columns == ["sex"]
    assert v.table_failures == [
        "participants: required column 'sex' is missing (expect_column_to_exist) in files a.csv"
    ]
    assert v.rows_quarantined == 0


def test_empty_required_table_is_a_table_failure(con):
    make_typed(con, contract.PARTICIPANTS, [])
    v = run(con, contract.PARTICIPANTS)
    assert (v.success, v.rows_in) == (False, 0)
    assert "expect_table_row_count_to_be_between" in v.table_failures[0]


def test_rows_in_is_valid_plus_quarantined_with_several_failures_per_row(con):
    make_typed(
        con,
        contract.PARTICIPANTS,
        [
            participant("p1", sex="x", arm=None),
            participant("p1"),
            participant("p3"),
        ],
    )
    v = run(con, contract.PARTICIPANTS)
    assert (v.rows_in, v.rows_valid, v.rows_quarantined) == (3, 1, 2)
    assert con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0] == 4
    assert con.execute("SELECT list(_row_id) FROM valid_participants").fetchall()[0][0] == [3]


def test_quarantine_rows_carry_source_expectation_reason_and_raw_row(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1", birth_year="19x0")])
    run(con, contract.PARTICIPANTS)
    cur = con.execute("SELECT * FROM quarantine")
    got = dict(zip([d[0] for d in cur.description], cur.fetchall()[0], strict=True))
    assert got["table_name"] == "participants" and got["_row_id"] == 1
    assert (got["_source_id"], got["_source_file"], got["_source_row"]) == ("src1", "a.csv", 2)
    assert got["column_name"] == "birth_year"
    assert got["reason"] == "'birth_year' must be readable as INTEGER"
    assert json.loads(got["row_json"])["birth_year"] == "19x0"


def test_results_follow_suite_order_and_summarise_long_value_sets(con):
    make_typed(con, contract.PARTICIPANTS, [participant("p1")])
    v = run(con, contract.PARTICIPANTS)
    suite = validation.build_suite(contract.PARTICIPANTS)
    assert [r.type for r in v.results] == [e["type"] for e in suite["expectations"]]
    assert validation._summarise_kwargs({"value_set": list(range(21))}, None) == {
        "value_set": "21 values"
    }
    assert v.to_dict()["results"][0]["type"] == "expect_column_to_exist"


# ---- malformed lines -------------------------------------------------------------------------------


def test_rejected_lines_are_quarantined_as_malformed(con):
    con.execute(
        "CREATE TABLE raw_participants__rejects AS SELECT * FROM (VALUES "
        "('src1', 'a.csv', 7::BIGINT, 'Expected 6 columns', 'p1;0301;1970'), "
        "('src1', 'a.csv', 9::BIGINT, 'Unterminated quote', 'p2;\"0301')) "
        "AS v(_source_id, _source_file, _source_row, reason, raw_line)"
    )
    n = validation.quarantine_rejects(con, contract.PARTICIPANTS, "raw_participants__rejects")
    assert n == 2
    rows = con.execute(
        "SELECT table_name, _row_id, _source_row, expectation_type, reason "
        "FROM quarantine ORDER BY _source_row"
    ).fetchall()
    assert rows == [
        ("participants", None, 7, "malformed_line", "the line could not be read as CSV"),
        ("participants", None, 9, "malformed_line", "the line could not be read as CSV"),
    ]


# ---- suites ----------------------------------------------------------------------------------------


def test_committed_suites_equal_what_the_contract_generates():
    directory = config.get_paths().expectations
    files = sorted(p.stem for p in directory.glob("*.json"))
    assert files == sorted(contract.TABLES)
    for name, table in contract.TABLES.items():
        assert validation.load_suite(name, directory) == validation.build_suite(table), name


def test_stale_suites_names_missing_and_edited_suites(tmp_path):
    validation.write_suites(tmp_path)
    assert validation.stale_suites(tmp_path) == []
    (tmp_path / "cpi.json").unlink()
    (tmp_path / "participants.json").write_text('{"name": "participants"}', encoding="utf-8")
    assert validation.stale_suites(tmp_path) == ["cpi", "participants"]


def test_missing_rejects_relation_means_no_rejected_lines(con):
    assert validation.quarantine_rejects(con, contract.PARTICIPANTS, "raw_x__rejects") == 0


def test_write_suites_writes_one_file_per_table(tmp_path):
    paths = validation.write_suites(tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{n}.json" for n in contract.TABLES)


def test_every_suite_loads_as_a_gx_expectation_suite():
    gx = pytest.importorskip("great_expectations")
    for name in contract.TABLES:
        suite = gx.ExpectationSuite(**validation.load_suite(name))
        assert suite.name == name
        assert len(suite.expectations) == len(validation.load_suite(name)["expectations"])


def test_suite_has_descriptions_and_levels_and_parameterised_extraction_date():
    suite = validation.build_suite(contract.HOUSING_SPELLS)
    assert all(
        e["meta"]["description"] and e["meta"]["level"] in ("row", "table")
        for e in suite["expectations"]
    )
    between = [
        e
        for e in suite["expectations"]
        if e["type"].endswith("to_be_between") and e["kwargs"].get("column") == "start_date"
    ]
    assert between[0]["kwargs"]["max_value"] == {"$PARAMETER": "extraction_date"}
    assert all(
        e["kwargs"].get("mostly") == 0.95
        for e in suite["expectations"]
        if e["meta"]["level"] == "row" and e["type"] != "unexpected_rows_expectation"
    )


# ---- no person-level values in messages or Data Docs ----------------------------------------------


@pytest.fixture
def planted(con):
    """A failing participants table with a distinctive id and date in its bad rows."""
    make_typed(
        con,
        contract.PARTICIPANTS,
        [
            participant(
                PLANTED_ID, enrolment_date=PLANTED_DATE, birth_year="1066", sex="planted-sex"
            ),
            participant(PLANTED_ID),
            participant("p3"),
        ],
    )
    return run(con, contract.PARTICIPANTS, mostly=0.95)


def test_messages_contain_no_planted_value(planted):
    assert not planted.success
    text = json.dumps(planted.to_dict())
    for value in (PLANTED_ID, PLANTED_DATE, "1066", "planted-sex"):
        assert value not in text


def test_data_docs_are_written_with_counts_only(planted, tmp_path: Path):
    pytest.importorskip("great_expectations")
    suites = {n: validation.build_suite(t) for n, t in contract.TABLES.items()}
    index = validation.write_data_docs([planted], suites, tmp_path / "docs", "run-1")
    assert index.name == "index.html" and index.exists()
    pages = list((tmp_path / "docs").rglob("*.html"))
    validation_pages = [p for p in pages if "validations" in p.parts]
    assert len(validation_pages) == 1
    html = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert "expect_column_values_to_be_in_set" in html or "belong to this set" in html
    for value in (PLANTED_ID, PLANTED_DATE, "1066", "planted-sex", "partial_unexpected"):
        assert value not in html


def _docs_files(root: Path) -> tuple[set[str], int]:
    pages = {p.relative_to(root).as_posix() for p in root.rglob("*.html")}
    return {p for p in pages if not p.startswith("validations/")}, sum(
        p.startswith("validations/") for p in pages)


def test_data_docs_rendered_by_the_child_process_are_the_pages_rendered_in_process(
    planted, tmp_path: Path
):
    pytest.importorskip("great_expectations")
    suites = {n: validation.build_suite(t) for n, t in contract.TABLES.items()}
    writer = validation.DataDocsWriter(child=True)

    index = writer.write([planted], suites, tmp_path / "child", "run-1")

    assert index == tmp_path / "child" / "index.html" and index.exists()
    in_process = validation.write_data_docs([planted], suites, tmp_path / "here", "run-1")
    assert _docs_files(index.parent) == _docs_files(in_process.parent)
    html = "\n".join(p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html"))
    for value in (PLANTED_ID, PLANTED_DATE, "1066", "planted-sex"):
        assert value not in html


def test_data_docs_are_written_in_process_when_the_child_fails(planted, tmp_path, monkeypatch):
    pytest.importorskip("great_expectations")
    monkeypatch.setattr(validation, "_CHILD_CODE", "import sys; sys.exit(3)")
    suites = {n: validation.build_suite(t) for n, t in contract.TABLES.items()}
    writer = validation.DataDocsWriter(child=True)

    index = writer.write([planted], suites, tmp_path / "docs", "run-1")

    assert index.exists()


def test_closing_an_unused_data_docs_writer_stops_its_child():
    writer = validation.DataDocsWriter(child=True)
    child = writer._proc
    assert child is not None

    writer.close()

    assert child.poll() is not None
