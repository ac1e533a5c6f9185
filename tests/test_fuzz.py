"""Fuzzing: contract-shaped tables for all six inputs, corrupted at random (columns dropped,
garbage and wrongly typed values, swapped dates, other encodings and delimiters, truncated
files). Whatever comes in, a run ends in success or a clear error with a documented exit code:
never a traceback, never an internal error.

Example counts are small and fixed for CI (2 cores, same examples each run); explore more with
`HFEVAL_FUZZ_EXAMPLES=200 HFEVAL_FUZZ_RANDOM=1 uv run pytest tests/test_fuzz.py
--hypothesis-show-statistics`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hfeval import contract, guard, loaders, pipeline, sources
from hfeval.cli import app

INPUTS = contract.INPUT_TABLES
PEOPLE = ("F01", "F02", "F03", "F04", "F05")
DOCUMENTED_EXITS = {pipeline.EXIT_OK, pipeline.EXIT_VALIDATION, pipeline.EXIT_INPUT,
                    pipeline.EXIT_IDENTIFIER}
RUNS = int(os.environ.get("HFEVAL_FUZZ_EXAMPLES", "10"))
FUZZ = settings(max_examples=RUNS, deadline=None, database=None,
                derandomize=not os.environ.get("HFEVAL_FUZZ_RANDOM"),  # CI: same examples
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ---- contract-shaped values ----------------------------------------------------------------------

dates = st.dates(dt.date(2010, 1, 1), dt.date(2015, 12, 31))  # + 300 days < extraction
date_text = st.one_of(dates.map(dt.date.isoformat), dates.map(lambda d: d.strftime("%d.%m.%Y")))


def _number(col: contract.Column, integer: bool) -> st.SearchStrategy[str]:
    lo = int(col.min_value or 0)
    hi = int(min(col.max_value if isinstance(col.max_value, int | float) else 1000, 10**6))
    if integer:
        return st.integers(lo, hi).map(str)
    return st.floats(lo, hi, allow_nan=False).map(lambda x: f"{x:.2f}".replace(".", ","))


def value(table: str, col: contract.Column) -> st.SearchStrategy[str]:
    if col.name == "participant_id":
        return st.sampled_from(PEOPLE)
    if col.name == "municipality_code":
        return st.sampled_from(("4205", "461"))
    if col.name == "currency":
        return st.sampled_from(("NOK", "DKK"))
    if col.codes is not None:
        return st.sampled_from(col.codes)
    if col.dtype == "DATE":
        return date_text
    if col.dtype in ("INTEGER", "DOUBLE"):
        return _number(col, col.dtype == "INTEGER")
    return st.text(st.characters(codec="utf-8", categories=("L", "N", "Zs")), max_size=12)


def _fmt(d: dt.date, iso: bool) -> str:
    return d.isoformat() if iso else d.strftime("%d.%m.%Y")


@st.composite
def table_rows(draw, table: str) -> list[dict[str, str]]:
    """Valid rows: unique keys, ends after starts, children of existing participants, so a
    run on them succeeds and any failure comes from the corruption."""
    t = contract.table(table)
    people = PEOPLE if table == "participants" else draw(
        st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True))
    rows = []
    for i, person in enumerate(people):
        row = {c.name: draw(value(table, c)) for c in t.columns}
        row["participant_id"] = person
        iso = draw(st.booleans())
        start = draw(dates)
        for a, b in (("start_date", "end_date"),):
            if a in row:
                row[a] = _fmt(start, iso)
                days = draw(st.one_of(st.none(), st.integers(0, 300)))
                row[b] = "" if days is None else _fmt(start + dt.timedelta(days=days), iso)
                if "end_reason" in row and days is None:
                    row["end_reason"] = ""
        if table == "quality_of_life":
            row["wave"] = str(i)
        if table == "programme_costs":  # in the municipality's own currency
            row["year"], row["cost_item"] = str(2010 + i), "staff"
            row["currency"] = "NOK" if row["municipality_code"] == "4205" else "DKK"
        rows.append({k: v for k, v in row.items() if k in t.column_names})
    return rows


# ---- corruptions ---------------------------------------------------------------------------------

garbage = st.one_of(
    st.text(max_size=30),
    st.sampled_from(['"', '";"', "\n", "\r\n", "=HYPERLINK(\"x\")", "NULL", "-", "31.02.2014",
                     "9" * 40, "\x00", "\ufeff", "2014-13-45", "1e309", " ", "æøå;ÆØÅ"]),
)


@st.composite
def corruption(draw) -> tuple:
    table = draw(st.sampled_from(INPUTS))
    cols = contract.table(table).column_names
    kind = draw(st.sampled_from(("drop_column", "garbage", "wrong_type", "swap_dates",
                                 "encoding", "truncate", "delimiter", "empty", "extra_column",
                                 "duplicate_header")))
    if kind in ("drop_column", "duplicate_header"):
        return kind, table, draw(st.sampled_from(cols))
    if kind == "garbage":
        return kind, table, draw(st.sampled_from(cols)), draw(garbage)
    if kind == "wrong_type":
        return kind, table, draw(st.sampled_from(cols)), draw(st.sampled_from(
            ("abc", "12,5,3", "1.2.3", "ja", "--", "2014-02-30")))
    if kind == "encoding":
        return kind, table, draw(st.sampled_from(("utf-8-sig", "cp1252", "utf-16", "latin-1")))
    if kind == "truncate":
        return kind, table, draw(st.floats(0.05, 0.95))
    if kind == "delimiter":
        return kind, table, draw(st.sampled_from((";", "\t", "|")))
    if kind == "extra_column":
        return kind, table, draw(st.sampled_from(("kommentar", "x", ""))), draw(garbage)
    return kind, table


def _apply(tables: dict[str, list[dict[str, str]]], fault: tuple) -> dict[str, dict]:
    """Per table: rows, column order, delimiter, encoding, truncation; with one fault applied."""
    files = {t: {"rows": [dict(r) for r in rows], "columns": contract.table(t).column_names,
                 "delimiter": ",", "encoding": "utf-8", "cut": None, "empty": False}
             for t, rows in tables.items()}
    kind, table, *args = fault
    f = files[table]
    if kind == "drop_column":
        f["columns"] = [c for c in f["columns"] if c != args[0]]
    elif kind == "duplicate_header":
        f["columns"] = [*f["columns"], args[0]]
    elif kind in ("garbage", "wrong_type"):
        f["rows"][0][args[0]] = args[1]
    elif kind == "swap_dates":
        for r in f["rows"]:
            if "start_date" in r and "end_date" in r:
                r["start_date"], r["end_date"] = r["end_date"], r["start_date"]
    elif kind == "encoding":
        f["encoding"] = args[0]
    elif kind == "truncate":
        f["cut"] = args[0]
    elif kind == "delimiter":
        f["delimiter"] = args[0]
    elif kind == "empty":
        f["empty"] = True
    elif kind == "extra_column":
        f["columns"] = [*f["columns"], args[0]]
        for r in f["rows"]:
            r[args[0]] = args[1]
    return files


def _write(folder: Path, files: dict[str, dict]) -> Path:
    folder.mkdir(parents=True)
    (folder / "source.yaml").write_text("source_id: fuzz\nextraction_date: 2016-12-31\n",
                                        encoding="utf-8")
    for table, f in files.items():
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=f["delimiter"], lineterminator="\n")
        writer.writerow(f["columns"])
        for r in f["rows"]:
            writer.writerow([r.get(c, "") for c in f["columns"]])
        data = b"" if f["empty"] else buf.getvalue().encode(f["encoding"], errors="replace")
        if f["cut"] is not None:
            data = data[: int(len(data) * f["cut"])]
        (folder / f"{table}.csv").write_bytes(data)
    return folder


tables_strategy = st.fixed_dictionaries({t: table_rows(t) for t in INPUTS})


# ---- the whole pipeline --------------------------------------------------------------------------


@pytest.mark.slow
@FUZZ
@given(tables=tables_strategy, fault=corruption(), lenient=st.booleans())
def test_a_corrupted_source_ends_in_success_or_a_documented_clear_error(tables, fault, lenient):
    args = ["--set", "validation.mostly=0.5"] if lenient else []  # quarantine and go on
    with tempfile.TemporaryDirectory() as tmp:
        data = _write(Path(tmp) / "data", _apply(tables, fault))
        result = CliRunner().invoke(app, ["run", "--data", str(data), "--quiet", *args],
                                    env={"HFEVAL_OUTPUT": str(Path(tmp) / "out")})
    event(f"{fault[0]}: exit {result.exit_code}")  # --hypothesis-show-statistics
    assert isinstance(result.exception, SystemExit | None), type(result.exception).__name__
    assert result.exit_code in DOCUMENTED_EXITS, fault[0]
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code:
        assert "error:" in result.stderr  # a message, not silence


# ---- the loader alone (fast: more examples) ------------------------------------------------------


@settings(FUZZ, max_examples=RUNS * 4)
@given(tables=tables_strategy, fault=corruption())
def test_the_loader_reads_a_corrupted_file_or_names_the_problem(tables, fault):
    table = fault[1]
    with tempfile.TemporaryDirectory() as tmp:
        files = _apply(tables, fault)
        data = _write(Path(tmp) / "data", {table: files[table]})
        con = duckdb.connect()
        inp = sources.TableInput("fuzz", table, data / f"{table}.csv", sources.TableMapping(), {})
        try:
            rep = loaders.load_raw_table(
                con, contract.table(table), [inp], extraction_dates={"fuzz": dt.date(2016, 12, 31)},
                data_root=data, work_dir=Path(tmp) / "work",
            )
        except (sources.SourceError, guard.IdentifierFound):
            return  # a clear refusal naming the file
        loaders.create_typed_view(con, contract.table(table), f"raw_{table}", "typed")
        con.execute("select * from typed").fetchall()  # every value parses or becomes NULL
        (raw,) = con.execute(f"select count(*) from raw_{table}").fetchall()[0]
        assert rep.rows_read == raw + rep.rows_rejected
