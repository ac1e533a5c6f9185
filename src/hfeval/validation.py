"""Validation: Great Expectations suites, evaluated fast in DuckDB.

The suites in `expectations/` are real GX 1.x suites (load them with
`great_expectations.ExpectationSuite(**json)`), generated from `hfeval.contract` by `build_suite`.
GX itself is too slow for national-scale tables (and its SQL datasource fails on DuckDB), so this
module compiles each expectation to DuckDB SQL and evaluates all row-level expectations of a table
in one set-based pass; GX is used only to render the Data Docs (`write_data_docs`).
`tests/test_validation_gx_agreement.py` checks the compiled SQL against GX's own pandas engine.

Engine semantics, where they go beyond or differ from plain GX:

* `mostly`: the suites carry the default (0.95, `validation.mostly`) because GX requires a number;
  the engine always uses the run parameter `validation.mostly` passed to `validate_table`, for
  every row-level expectation, and reports the value it used.
* `expect_column_values_to_be_of_type` is evaluated row-wise: a row is unexpected when the source
  text `<col>__raw` is present but could not be parsed to the contract type
  (`col__raw IS NOT NULL AND col IS NULL`); rows without source text are not considered. (A
  column the loader read natively from Parquet has the file's value in `<col>__raw`; quarantine
  shows it as the text it would have been read as.)
* A `max_value` of `{"$PARAMETER": "extraction_date"}` (a GX suite parameter) is compared with
  each row's own `_extraction_date` (skipped when that is NULL), since sources differ.
* `unexpected_rows_expectation`s marked `level: row` (foreign keys, overlapping spells) quarantine
  the rows their query returns (joined back by `_row_id`) and, like the other row-level
  expectations, fail the table only when more than `1 - mostly` of all rows are returned. (GX
  itself fails them on any returned row.) The suites' own foreign-key queries are evaluated as
  the same condition inside the one pass, not as a second scan.
* As in GX, NULLs are ignored by in_set, between and unique and the percentages are taken over
  non-null rows; compound uniqueness ignores rows whose columns are all NULL.

Every row that fails a row-level expectation is quarantined (one row per failed expectation); a
table-level failure (missing column, no rows, a row-level expectation below `mostly`) means the run
must stop before publishing. Messages name table, file, column, expectation and counts only.
`valid_<table>` is a view: the typed rows less those quarantined (by `_row_id`, kept in
`_quarantined_rows`), so the rows are written once more only by the staging model that reads them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from hfeval import config, contract
from hfeval.loaders import native_text_sql

DEFAULT_MOSTLY: float = config.PARAMETER_DOCS["validation.mostly"][0]
EXTRACTION_PARAMETER = {"$PARAMETER": "extraction_date"}
MAX_VALUE_SET_SHOWN = 20
MAX_FILES_NAMED = 5

_MISSING = "not evaluated: column missing"
_UNRUNNABLE = "not evaluated: the query could not run"
TABLE_LEVEL_TYPES = ("expect_column_to_exist", "expect_table_row_count_to_be_between")
QUARANTINED_ROWS = "_quarantined_rows"  # (table_name, _row_id): what valid_<table> leaves out
QUARANTINE_COLUMNS = {
    "table_name": "VARCHAR",
    "_row_id": "BIGINT",
    "_source_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_source_row": "BIGINT",
    "expectation_type": "VARCHAR",
    "column_name": "VARCHAR",
    "reason": "VARCHAR",
    "row_json": "VARCHAR",
}

SUITE_NOTES = (
    "Generated from hfeval.contract by hfeval.validation.build_suite; do not edit by hand. "
    "Evaluated by hfeval's DuckDB engine: `mostly` is overridden by the run parameter "
    "validation.mostly; expect_column_values_to_be_of_type is row-wise (source text present but "
    "not parseable); $PARAMETER extraction_date is each row's _extraction_date; row-level "
    "unexpected_rows expectations quarantine the returned rows (joined by _row_id)."
)


# ---- suites ----------------------------------------------------------------------------------


def _exp(type_: str, kwargs: dict[str, Any], description: str, level: str) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs, "meta": {"description": description, "level": level}}


def _row_exp(type_: str, kwargs: dict[str, Any], description: str) -> dict[str, Any]:
    return _exp(type_, {**kwargs, "mostly": DEFAULT_MOSTLY}, description, "row")


def _bound_text(value: float | str | None) -> str:
    return "the extraction date" if value == contract.EXTRACTION else str(value)


def _column_expectations(col: contract.Column) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if col.dtype != "VARCHAR":
        out.append(
            _row_exp(
                "expect_column_values_to_be_of_type",
                {"column": col.name, "type_": col.dtype},
                f"'{col.name}' must be readable as {col.dtype}",
            )
        )
    if col.required:
        out.append(
            _row_exp(
                "expect_column_values_to_not_be_null",
                {"column": col.name},
                f"'{col.name}' must be filled in",
            )
        )
    if col.codes is not None:
        out.append(
            _row_exp(
                "expect_column_values_to_be_in_set",
                {"column": col.name, "value_set": list(col.codes)},
                f"'{col.name}' must be one of the {len(col.codes)} contract codes",
            )
        )
    if col.min_value is not None or col.max_value is not None:
        bounds = {
            "min_value": col.min_value,
            "max_value": EXTRACTION_PARAMETER
            if col.max_value == contract.EXTRACTION
            else col.max_value,
        }
        out.append(
            _row_exp(
                "expect_column_values_to_be_between",
                {"column": col.name, **bounds},
                f"'{col.name}' must be between {_bound_text(col.min_value)} and "
                f"{_bound_text(col.max_value)}",
            )
        )
    return out


def _overlap_query() -> str:
    # Two spells of one participant overlap when each starts before the other ends (an open
    # spell ends at infinity), so a spell may start on the day the previous one ended.
    return (
        "SELECT a.* FROM {batch} AS a "
        "WHERE a.participant_id IS NOT NULL AND a.start_date IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM {batch} AS b "
        "WHERE b.participant_id = a.participant_id AND b._row_id <> a._row_id "
        "AND b.start_date < coalesce(a.end_date, 'infinity'::DATE) "
        "AND a.start_date < coalesce(b.end_date, 'infinity'::DATE))"
    )


def _fk_query(fk: contract.ForeignKey) -> str:
    return f"SELECT b.* FROM {{batch}} AS b WHERE {_fk_condition(fk, 'b')}"


def _fk_condition(fk: contract.ForeignKey, row: str) -> str:
    """SQL true for a row (alias `row`) whose key is filled in but has no parent row."""
    not_null = " AND ".join(f"{row}.{c} IS NOT NULL" for c in fk.columns)
    match = " AND ".join(
        f"p.{r} = {row}.{c}" for c, r in zip(fk.columns, fk.ref_columns, strict=True)
    )
    return f"{not_null} AND NOT EXISTS (SELECT 1 FROM valid_{fk.ref_table} AS p WHERE {match})"


def _foreign_keys() -> dict[str, contract.ForeignKey]:
    """The contract's foreign keys by the unexpected_rows_query their suites carry."""
    return {_fk_query(fk): fk for t in contract.TABLES.values() for fk in t.foreign_keys}


def _rule_expectations(table: contract.Table) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in table.row_rules:
        if rule == "start_not_after_end":
            out.append(
                _row_exp(
                    "expect_column_pair_values_a_to_be_greater_than_b",
                    {
                        "column_A": "end_date",
                        "column_B": "start_date",
                        "or_equal": True,
                        "ignore_row_if": "either_value_is_missing",
                    },
                    "'end_date' must not be before 'start_date'",
                )
            )
        elif rule == "no_overlapping_spells":
            exp = _exp(
                "unexpected_rows_expectation",
                {"unexpected_rows_query": _overlap_query()},
                "spells of one participant must not overlap; touching is fine",
                "row",
            )
            exp["meta"]["columns"] = ["participant_id", "start_date", "end_date"]
            out.append(exp)
        else:
            raise ValueError(f"{table.name}: unknown row rule {rule!r}")
    return out


def build_suite(table: contract.Table) -> dict[str, Any]:
    """The GX 1.x expectation suite (as JSON-ready dict) that the contract implies for `table`."""
    exps: list[dict[str, Any]] = [
        _exp("expect_column_to_exist", {"column": c}, f"required column '{c}' must exist", "table")
        for c in table.required_columns
    ]
    if table.required:
        exps.append(
            _exp(
                "expect_table_row_count_to_be_between",
                {"min_value": 1, "max_value": None},
                "the table must have at least one row",
                "table",
            )
        )
    for col in table.columns:
        exps.extend(_column_expectations(col))
    if len(table.primary_key) == 1:
        exps.append(
            _row_exp(
                "expect_column_values_to_be_unique",
                {"column": table.primary_key[0]},
                f"'{table.primary_key[0]}' must be unique",
            )
        )
    elif table.primary_key:
        exps.append(
            _row_exp(
                "expect_compound_columns_to_be_unique",
                {"column_list": list(table.primary_key)},
                f"({', '.join(table.primary_key)}) must be unique together",
            )
        )
    exps.extend(_rule_expectations(table))
    for fk in table.foreign_keys:
        exp = _exp(
            "unexpected_rows_expectation",
            {"unexpected_rows_query": _fk_query(fk)},
            f"'{', '.join(fk.columns)}' must exist in {fk.ref_table}",
            "row",
        )
        exp["meta"]["columns"] = list(fk.columns)
        exps.append(exp)
    return {
        "name": table.name,
        "expectations": exps,
        "meta": {"table": table.name, "generated_by": "hfeval.validation.build_suite"},
        "notes": SUITE_NOTES,
    }


def _suite_path(directory: Path, table_name: str) -> Path:
    return Path(directory) / f"{table_name}.json"


def write_suites(directory: Path) -> list[Path]:
    """Write one suite per contract table; returns the files written."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    paths = []
    for table in contract.TABLES.values():
        path = _suite_path(directory, table.name)
        text = json.dumps(build_suite(table), indent=2, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def stale_suites(directory: Path) -> list[str]:
    """Tables whose suite file is missing or differs from what the contract generates."""
    stale = []
    for name, table in contract.TABLES.items():
        path = _suite_path(directory, name)
        if not path.exists() or json.loads(path.read_text(encoding="utf-8")) != build_suite(table):
            stale.append(name)
    return stale


def load_suite(table_name: str, directory: Path | None = None) -> dict[str, Any]:
    """Read a committed suite (plain JSON; GX is not imported here)."""
    directory = config.get_paths().expectations if directory is None else directory
    return json.loads(_suite_path(directory, table_name).read_text(encoding="utf-8"))


# ---- results ---------------------------------------------------------------------------------


@dataclass
class ExpectationResult:
    type: str
    kwargs: dict[str, Any]
    column: str | None
    level: str  # "row" or "table"
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    description: str
    missing_count: int | None = None  # rows not considered (NULL), as GX reports
    observed_value: int | None = None  # table-level: e.g. the row count


@dataclass
class TableValidation:
    table: str
    rows_in: int
    rows_valid: int
    rows_quarantined: int
    success: bool
    results: list[ExpectationResult] = field(default_factory=list)  # in suite order
    table_failures: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- SQL compilation ---------------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: Any, dtype: str | None = None) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    text = "'" + str(value).replace("'", "''") + "'"
    return f"CAST({text} AS {dtype})" if dtype and dtype != "VARCHAR" else text


@dataclass
class _Compiled:
    """One row-level expectation as SQL: which rows count and which of them are unexpected."""

    unexpected: str
    considered: str
    windows: list[str] = field(default_factory=list)  # extra columns of the inner select
    joins: list[str] = field(default_factory=list)  # LEFT JOINs adding flag columns


def _columns_of(exp: dict[str, Any]) -> list[str]:
    kw = exp["kwargs"]
    if "column" in kw:
        return [kw["column"]]
    if "column_list" in kw:
        return list(kw["column_list"])
    if "column_A" in kw:
        return [kw["column_A"], kw["column_B"]]
    return list(exp.get("meta", {}).get("columns", []))


def _compile(
    i: int, exp: dict[str, Any], relation: str, dtypes: dict[str, str], has: set[str]
) -> _Compiled:
    kind, kw = exp["type"], exp["kwargs"]
    col = _q(kw["column"]) if "column" in kw else None
    if kind == "expect_column_values_to_be_of_type":
        raw = f"{kw['column']}__raw"
        if raw not in has:  # no source text kept: nothing to check
            return _Compiled("FALSE", "FALSE")
        return _Compiled(f"{col} IS NULL", f"{_q(raw)} IS NOT NULL")
    if kind == "expect_column_values_to_not_be_null":
        return _Compiled(f"{col} IS NULL", "TRUE")
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(_lit(v) for v in kw["value_set"])
        unexpected = f"{col} NOT IN ({values})" if values else "TRUE"
        return _Compiled(unexpected, f"{col} IS NOT NULL")
    if kind == "expect_column_values_to_be_between":
        return _compile_between(kw, col, dtypes.get(kw["column"]))
    if kind == "expect_column_values_to_be_unique":
        return _Compiled(
            f"_n{i} > 1",
            f"{col} IS NOT NULL",
            windows=[f"count(*) OVER (PARTITION BY {col}) AS _n{i}"],
        )
    if kind == "expect_compound_columns_to_be_unique":
        cols = [_q(c) for c in kw["column_list"]]
        ignore = kw.get("ignore_row_if", "all_values_are_missing")
        join = " AND " if ignore == "all_values_are_missing" else " OR "
        skip = {"never": "FALSE"}.get(ignore, join.join(f"{c} IS NULL" for c in cols))
        return _Compiled(
            f"_n{i} > 1",
            f"NOT ({skip})",
            windows=[f"count(*) OVER (PARTITION BY {', '.join(cols)}) AS _n{i}"],
        )
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = _q(kw["column_A"]), _q(kw["column_B"])
        op = ">=" if kw.get("or_equal") else ">"
        ignore = kw.get("ignore_row_if", "both_values_are_missing")
        skip = {
            "either_value_is_missing": f"{a} IS NULL OR {b} IS NULL",
            "both_values_are_missing": f"{a} IS NULL AND {b} IS NULL",
            "neither": "FALSE",
        }[ignore]
        return _Compiled(f"NOT coalesce({a} {op} {b}, FALSE)", f"NOT ({skip})")
    if kind == "unexpected_rows_expectation":
        fk = _foreign_keys().get(kw["unexpected_rows_query"])
        if fk is not None:  # the suite's own foreign-key query: evaluated in the same pass
            return _Compiled(_fk_condition(fk, "t"), "TRUE")
        query = kw["unexpected_rows_query"].replace("{batch}", relation)
        join = (
            f"LEFT JOIN (SELECT DISTINCT _row_id FROM ({query})) AS _u{i} "
            f"ON _u{i}._row_id = t._row_id"
        )
        return _Compiled(f"_u{i}._row_id IS NOT NULL", "TRUE", joins=[join])
    raise ValueError(f"the validation engine cannot evaluate {kind!r}")


def _compile_between(kw: dict[str, Any], col: str | None, dtype: str | None) -> _Compiled:
    parts = []
    for key, op in (("min_value", "<"), ("max_value", ">")):
        value = kw.get(key)
        strict = kw.get("strict_min" if key == "min_value" else "strict_max", False)
        op = op + "=" if strict else op
        if value is None:
            continue
        if isinstance(value, dict):
            if value != EXTRACTION_PARAMETER:
                raise ValueError(f"unsupported suite parameter in {key}: {value!r}")
            parts.append(f"{col} {op} t._extraction_date")
        else:
            parts.append(f"{col} {op} {_lit(value, dtype)}")
    unexpected = " OR ".join(parts) if parts else "FALSE"
    return _Compiled(unexpected, f"{col} IS NOT NULL")


# ---- validation ----------------------------------------------------------------------------------


def _relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column -> DuckDB type, in order."""
    rel = con.sql(f"SELECT * FROM {relation} LIMIT 0")
    return {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}


def _ensure_quarantine(con: duckdb.DuckDBPyConnection, quarantine: str) -> None:
    cols = ", ".join(f"{_q(c)} {t}" for c, t in QUARANTINE_COLUMNS.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {quarantine} ({cols})")


def _summarise_kwargs(kwargs: dict[str, Any], mostly: float | None) -> dict[str, Any]:
    out = dict(kwargs)
    if "mostly" in out and mostly is not None:
        out["mostly"] = mostly
    values = out.get("value_set")
    if isinstance(values, list) and len(values) > MAX_VALUE_SET_SHOWN:
        out["value_set"] = f"{len(values)} values"
    return out


def _fmt_pct(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _files_text(files: list[str]) -> str:
    if not files:
        return ""
    shown = ", ".join(files[:MAX_FILES_NAMED])
    more = len(files) - MAX_FILES_NAMED
    return f" in files {shown}" + (f" and {more} more" if more > 0 else "")


def _column_label(cols: list[str]) -> str:
    return f"column '{cols[0]}'" if len(cols) == 1 else f"columns '{', '.join(cols)}'"


def _usable_unexpected_rows(
    con: duckdb.DuckDBPyConnection, exp: dict[str, Any], relation: str
) -> bool:
    """False when the query cannot run, e.g. its parent table `valid_<ref>` does not exist."""
    query = exp["kwargs"]["unexpected_rows_query"].replace("{batch}", relation)
    try:
        con.sql(f"SELECT _row_id FROM ({query})")  # bound, not run
    except duckdb.Error:
        return False
    return True


def validate_table(
    con: duckdb.DuckDBPyConnection,
    table: contract.Table,
    suite: dict[str, Any],
    *,
    typed: str,
    missing_columns: list[str] | dict[str, list[str]],
    mostly: float,
    quarantine: str = "quarantine",
) -> TableValidation:
    """Evaluate `suite` on relation `typed`; create `valid_<table>`, append to `quarantine`.

    `missing_columns` lists required columns absent from the input, or maps each to the files
    that lack it (so a failure names only those files)."""
    missing_in = missing_columns if isinstance(missing_columns, dict) else {
        c: [] for c in missing_columns
    }
    types = _relation_columns(con, typed)
    present = list(types)
    has = set(present)
    missing = set(missing_in) | {c for c in table.column_names if c not in has}
    dtypes = {c.name: c.dtype for c in table.columns}
    exps = suite["expectations"]

    # Decide what to evaluate: row-level expectations on missing columns or with a query that
    # cannot run are reported as not evaluated (the table fails for the reason that caused it).
    row_idx: list[int] = []
    not_evaluated: dict[int, str] = {}
    for i, exp in enumerate(exps):
        if _level(exp) != "row":
            continue
        if any(c in missing for c in _columns_of(exp) if c in dtypes):
            not_evaluated[i] = _MISSING
        elif exp["type"] == "unexpected_rows_expectation" and not _usable_unexpected_rows(
            con, exp, typed
        ):
            not_evaluated[i] = _UNRUNNABLE
        else:
            row_idx.append(i)

    compiled = {i: _compile(i, exps[i], typed, dtypes, has) for i in row_idx}
    flags = f"_hfeval_flags_{table.name}"
    counts = _count_flags(con, typed, compiled)
    failing = {i: c for i, c in compiled.items() if counts[f"f{i}"]}
    _create_flags(con, flags, typed, failing)
    rows_in = counts["n"]

    results: list[ExpectationResult] = []
    failures: list[str] = []
    ctx = _Context(con, table.name, typed, flags, rows_in, missing, mostly, missing_in)
    for i, exp in enumerate(exps):
        result, failure = _result(ctx, i, exp, counts, not_evaluated.get(i))
        results.append(result)
        if failure:
            failures.append(failure)

    _ensure_quarantine(con, quarantine)
    _insert_quarantine(con, table, exps, list(failing), flags, typed, types, quarantine)
    _create_valid_view(con, table.name, typed, present, flags, counts["any"])
    con.execute(f"DROP TABLE IF EXISTS {flags}")
    rows_quarantined = counts["any"]
    return TableValidation(
        table=table.name,
        rows_in=rows_in,
        rows_valid=rows_in - rows_quarantined,
        rows_quarantined=rows_quarantined,
        success=not failures,
        results=results,
        table_failures=failures,
        missing_columns=sorted(missing & set(table.required_columns)),
    )


def _create_valid_view(
    con: duckdb.DuckDBPyConnection,
    table: str,
    typed: str,
    present: list[str],
    flags: str,
    quarantined: int,
) -> None:
    """`valid_<table>`: a view of the typed rows without the quarantined ones (their ids are
    kept in QUARANTINED_ROWS). A table would be one more copy of every row written to disk,
    and its one reader (the staging model) writes its own."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {QUARANTINED_ROWS} (table_name VARCHAR, _row_id BIGINT)"
    )
    con.execute(f"DELETE FROM {QUARANTINED_ROWS} WHERE table_name = ?", [table])
    con.execute(f"INSERT INTO {QUARANTINED_ROWS} SELECT {_lit(table)}, _row_id FROM {flags}")
    valid = f"valid_{table}"
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ? "
        "AND table_schema = current_schema() AND table_catalog = current_database()", [valid]
    ).fetchall()
    if kind and kind[0][0] != "VIEW":
        con.execute(f"DROP TABLE {valid}")
    keep = ", ".join(_q(c) for c in present if not c.endswith("__raw"))
    where = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {QUARANTINED_ROWS} AS q "
        f"WHERE q.table_name = {_lit(table)} AND q._row_id = t._row_id)"
        if quarantined else ""
    )
    con.execute(f"CREATE OR REPLACE VIEW {valid} AS SELECT {keep} FROM {typed} AS t{where}")


@dataclass
class _Context:
    """What turning one expectation's counts into a result needs to know about the run."""

    con: duckdb.DuckDBPyConnection
    table: str
    batch: str
    flags: str
    rows_in: int
    missing: set[str]
    mostly: float
    missing_in: dict[str, list[str]] = field(default_factory=dict)  # column -> files lacking it


def _result(
    ctx: _Context, i: int, exp: dict[str, Any], counts: dict[str, int], skipped: str | None
) -> tuple[ExpectationResult, str | None]:
    """The result of expectation `i` and, if it fails the table, the message saying why."""
    cols = _columns_of(exp)
    kind = exp["type"]
    description = exp.get("meta", {}).get("description", kind)
    base: dict[str, Any] = {
        "type": kind,
        "kwargs": _summarise_kwargs(exp["kwargs"], ctx.mostly),
        "column": ", ".join(cols) if cols else None,
        "level": _level(exp),
        "description": description,
        "element_count": ctx.rows_in,
        "unexpected_count": None,
        "unexpected_percent": None,
    }
    if kind == "expect_column_to_exist":
        column = exp["kwargs"]["column"]
        if column not in ctx.missing:
            return ExpectationResult(**base, success=True), None
        return ExpectationResult(**base, success=False), (
            f"{ctx.table}: required column '{column}' is missing "
            f"(expect_column_to_exist)"
            f"{_files_text(ctx.missing_in.get(column) or _files(ctx.con, ctx.batch, None))}"
        )
    if kind == "expect_table_row_count_to_be_between":
        lo, hi = exp["kwargs"].get("min_value"), exp["kwargs"].get("max_value")
        ok = (lo is None or ctx.rows_in >= lo) and (hi is None or ctx.rows_in <= hi)
        message = (
            f"{ctx.table}: expect_table_row_count_to_be_between failed: {ctx.rows_in} rows "
            f"(allowed {lo if lo is not None else 0} to {hi if hi is not None else 'any'})"
        )
        result = ExpectationResult(**base, success=ok, observed_value=ctx.rows_in)
        return result, None if ok else message
    if _level(exp) != "row":
        raise ValueError(f"the validation engine cannot evaluate {kind!r} at table level")
    if skipped:
        base["description"] += f" ({skipped})"
        message = (
            f"{ctx.table}: {_column_label(cols)}: {kind} could not be evaluated "
            f"({description}); are the parent tables validated first?"
        )
        # A missing column already fails the table through expect_column_to_exist.
        return ExpectationResult(**base, success=False), None if skipped == _MISSING else message
    unexpected, considered = counts[f"f{i}"], counts[f"c{i}"]
    pct = 100.0 * unexpected / considered if considered else 0.0
    allowed = 1.0 - ctx.mostly
    ok = considered == 0 or unexpected <= allowed * considered + 1e-9
    base.update(unexpected_count=unexpected, unexpected_percent=pct)
    result = ExpectationResult(
        **base,
        success=ok,
        missing_count=ctx.rows_in - considered,
        observed_value=unexpected if kind == "unexpected_rows_expectation" else None,
    )
    if ok:
        return result, None
    label = kind
    if kind == "unexpected_rows_expectation":
        label += f" ({description})"
    return result, (
        f"{ctx.table}: {_column_label(cols)}: {label} failed for {unexpected} of "
        f"{considered} rows ({_fmt_pct(pct)} % > {_fmt_pct(100 * allowed)} % "
        f"allowed){_files_text(_files(ctx.con, ctx.flags, f'f{i}'))}"
    )


def _level(exp: dict[str, Any]) -> str:
    level = exp.get("meta", {}).get("level")
    if level:
        return level
    return "table" if exp["type"] in TABLE_LEVEL_TYPES else "row"


def _flag_rows(typed: str, compiled: dict[int, _Compiled], considered: bool) -> str:
    """Per row: `_row_id`, `_source_file`, a flag f<i> per expectation (and its 'considered'
    boolean c<i>), and `_any`."""
    windows = [w for c in compiled.values() for w in c.windows]
    inner = f"SELECT *{''.join(', ' + w for w in windows)} FROM {typed}"
    joins = " ".join(j for c in compiled.values() for j in c.joins)
    cols = []
    for i, c in compiled.items():
        cols.append(f"coalesce(({c.considered}) AND ({c.unexpected}), FALSE) AS f{i}")
        if considered:
            cols.append(f"coalesce({c.considered}, FALSE) AS c{i}")
    any_flag = " OR ".join(f"f{i}" for i in compiled) or "FALSE"
    return (
        f"SELECT *, {any_flag} AS _any FROM ("
        f"SELECT t._row_id, t._source_file{''.join(', ' + c for c in cols)} "
        f"FROM ({inner}) AS t {joins})"
    )


def _count_flags(
    con: duckdb.DuckDBPyConnection, typed: str, compiled: dict[int, _Compiled]
) -> dict[str, int]:
    """Rows, rows failing anything, and per expectation the rows failing (f<i>) and considered
    (c<i>): every expectation over every row in one pass."""
    aggs = ["count(*) AS n", 'coalesce(count_if(_any), 0) AS "any"']
    for i in compiled:
        aggs += [f"coalesce(count_if(f{i}), 0) AS f{i}", f"coalesce(count_if(c{i}), 0) AS c{i}"]
    cur = con.execute(f"SELECT {', '.join(aggs)} FROM ({_flag_rows(typed, compiled, True)})")
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchall()[0], strict=True))


def _create_flags(
    con: duckdb.DuckDBPyConnection, flags: str, typed: str, failing: dict[int, _Compiled]
) -> None:
    """Temp table `flags`: the rows that fail something, with a flag per failing expectation.
    A second pass, but only over the expectations that failed a row (their windows and joins
    alone), and none when every row passed. Writing the flags of every row of a national table
    in the first pass would cost more."""
    rows = _flag_rows(typed, failing, False)
    where = "WHERE _any" if failing else "LIMIT 0"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {flags} AS SELECT * FROM ({rows}) {where}")


def _files(con: duckdb.DuckDBPyConnection, relation: str, flag: str | None) -> list[str]:
    where = f"WHERE {flag}" if flag else ""
    rows = con.sql(f"SELECT DISTINCT _source_file FROM {relation} {where} ORDER BY 1").fetchall()
    return [r[0] for r in rows if r[0] is not None]


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection,
    table: contract.Table,
    exps: list[dict[str, Any]],
    idx: list[int],
    flags: str,
    typed: str,
    types: dict[str, str],
    quarantine: str,
) -> None:
    if not idx:
        return
    has = set(types)
    descr = ", ".join(
        f"('f{i}', {i}, {_lit(exps[i]['type'])}, {_lit(', '.join(_columns_of(exps[i])))}, "
        f"{_lit(exps[i].get('meta', {}).get('description', exps[i]['type']))})"
        for i in idx
    )
    # The row as it was read: source text where a column was parsed, else the value; a value
    # read natively (Parquet) as the text it would have been staged as.
    pairs = []
    for c in table.column_names:
        raw = c + "__raw"
        if raw in has and types[raw] != "VARCHAR":
            pairs.append(f"{_lit(c)}, {native_text_sql(f't.{_q(raw)}', types[raw])}")
        elif c in has:
            pairs.append(f"{_lit(c)}, t.{_q(raw if raw in has else c)}")
    flag_cols = ", ".join(f"f{i}" for i in idx)
    con.execute(
        f"INSERT INTO {quarantine} BY NAME "
        f"SELECT {_lit(table.name)} AS table_name, t._row_id, t._source_id, t._source_file, "
        f"t._source_row, e.expectation_type, e.column_name, e.reason, "
        f"CAST(json_object({', '.join(pairs)}) AS VARCHAR) AS row_json "
        f"FROM (UNPIVOT (SELECT _row_id, {flag_cols} FROM {flags}) "
        f"ON {flag_cols} INTO NAME k VALUE v) AS u "
        f"JOIN (VALUES {descr}) AS e(k, ord, expectation_type, column_name, reason) USING (k) "
        f"JOIN {typed} AS t ON t._row_id = u._row_id "
        f"WHERE u.v ORDER BY t._row_id, e.ord"  # rows in file order, expectations in suite order
    )


def quarantine_rejects(
    con: duckdb.DuckDBPyConnection,
    table: contract.Table | str,
    rejects_relation: str,
    quarantine: str = "quarantine",
) -> int:
    """Append lines the CSV parser rejected as 'malformed_line'; returns how many."""
    name = table if isinstance(table, str) else table.name
    _ensure_quarantine(con, quarantine)
    try:
        con.execute(f"SELECT * FROM {rejects_relation} LIMIT 0").fetchall()
    except duckdb.CatalogException:
        return 0  # no rejects relation: the parser rejected nothing
    n = con.execute(f"SELECT count(*) FROM {rejects_relation}").fetchall()[0][0]
    # The parser's own reason may quote the line, so it goes into row_json, not `reason`.
    con.execute(
        f"INSERT INTO {quarantine} BY NAME "
        f"SELECT {_lit(name)} AS table_name, NULL AS _row_id, "
        f"CAST(_source_id AS VARCHAR) AS _source_id, _source_file, "
        f"CAST(_source_row AS BIGINT) AS _source_row, 'malformed_line' AS expectation_type, "
        f"NULL AS column_name, 'the line could not be read as CSV' AS reason, "
        f"CAST(json_object('raw_line', raw_line, 'parser_reason', reason) AS VARCHAR) "
        f"AS row_json FROM {rejects_relation}"
    )
    return int(n)


# ---- Data Docs ---------------------------------------------------------------------------------


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", part) or "_"


def _gx_kwargs(kwargs: dict[str, Any], mostly: float | None) -> dict[str, Any]:
    # `{"$PARAMETER": "extraction_date"}` stays: GX validates the kwargs and renders it as is.
    out = dict(kwargs)
    if "mostly" in out and mostly is not None:
        out["mostly"] = mostly
    return out


def _gx_result(r: ExpectationResult) -> dict[str, Any]:
    """Counts only: no partial_unexpected_list or any other values."""
    if r.type == "unexpected_rows_expectation" or r.observed_value is not None:
        return {"observed_value": r.observed_value}
    if r.unexpected_count is None:
        return {}
    considered = (r.element_count or 0) - (r.missing_count or 0)
    total = r.element_count or 0
    return {
        "element_count": total,
        "missing_count": r.missing_count,
        "missing_percent": 100.0 * (r.missing_count or 0) / total if total else None,
        "unexpected_count": r.unexpected_count,
        "unexpected_percent": r.unexpected_percent,
        "unexpected_percent_total": 100.0 * r.unexpected_count / total if total else None,
        "unexpected_percent_nonmissing": 100.0 * r.unexpected_count / considered
        if considered
        else None,
    }


class DataDocsWriter:
    """Writes a run's Data Docs (`write_data_docs`), with Great Expectations imported early.

    Importing GX costs seconds of one core, most of what rendering costs, whatever the data
    size. Made at the start of a run, the writer starts a child Python process that imports GX
    while the run loads and validates (a thread would compete for the GIL, which DuckDB's client
    takes between tasks, and slow loading down) and renders the docs when `write` hands it the
    results: counts and names, as the docs show them. If the child fails, `write` renders
    in-process. A process that already imported GX, or that already used a child once (tests
    running many pipelines), renders in-process: its import is paid once."""

    _children_started = 0

    def __init__(self, child: bool | None = None) -> None:
        """`child`: render in a child process (True), in-process (False), or as said above."""
        self._proc: subprocess.Popen[str] | None = None
        if child is None:
            child = not ("great_expectations" in sys.modules or DataDocsWriter._children_started)
        if not child:
            return
        DataDocsWriter._children_started += 1
        src_root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src_root, env.get("PYTHONPATH")) if p)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD_CODE],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, env=env,
            )
        except OSError:
            self._proc = None

    def write(
        self,
        validations: list[TableValidation],
        suites: dict[str, dict[str, Any]],
        out_dir: Path,
        run_id: str,
    ) -> Path:
        """Render the Data Docs; returns index.html."""
        proc, self._proc = self._proc, None
        if proc is not None:
            job = {"validations": [v.to_dict() for v in validations], "suites": suites,
                   "out_dir": str(out_dir), "run_id": run_id}
            try:
                out, _ = proc.communicate(json.dumps(job), timeout=CHILD_TIMEOUT_S)
                lines = out.strip().splitlines()  # index.html is the last line printed
                index = Path(lines[-1]) if proc.returncode == 0 and lines else None
                if index is not None and index.is_file():
                    return index
            except (OSError, subprocess.SubprocessError):
                pass
            finally:
                _stop(proc)
        return write_data_docs(validations, suites, out_dir, run_id)

    def close(self) -> None:
        """Stop the child if `write` was never called (the run failed before validation)."""
        if self._proc is not None:
            _stop(self._proc)
            self._proc = None


CHILD_TIMEOUT_S = 600
_CHILD_CODE = "from hfeval.validation import _data_docs_child; _data_docs_child()"


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def _data_docs_child() -> None:
    """The child of `DataDocsWriter`: import GX, read the job from stdin, render, print the
    path of index.html."""
    # jsonschema (via GX) builds an IRI grammar at import if rfc3987_syntax is installed: more
    # than a second, for a format check rendering never makes. This process only renders.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import great_expectations  # noqa: F401 - the slow part, before the job arrives

    job = json.load(sys.stdin)
    validations = [
        TableValidation(**{**v, "results": [ExpectationResult(**r) for r in v["results"]]})
        for v in job["validations"]
    ]
    index = write_data_docs(validations, job["suites"], Path(job["out_dir"]), job["run_id"])
    print(index)


def write_data_docs(
    validations: list[TableValidation],
    suites: dict[str, dict[str, Any]],
    out_dir: Path,
    run_id: str,
) -> Path:
    """Render GX Data Docs (index.html, one page per table and suite); returns index.html."""
    import great_expectations as gx  # slow import: only when docs are written
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )
    from great_expectations.render.renderer import (
        ExpectationSuitePageRenderer,
        SiteIndexPageRenderer,
        ValidationResultsPageRenderer,
    )
    from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

    out_dir = Path(out_dir)
    run_time = datetime.now(UTC)
    run_time_path = run_time.strftime("%Y%m%dT%H%M%S.%fZ")
    page_view = DefaultJinjaPageView()
    links: list[dict[str, Any]] = []
    expectation_links: list[dict[str, Any]] = []
    for v in validations:
        suite = suites[v.table]
        mostly = next((r.kwargs.get("mostly") for r in v.results if "mostly" in r.kwargs), None)
        evrs = []
        for exp, r in zip(suite["expectations"], v.results, strict=True):
            conf = ExpectationConfiguration(
                type=exp["type"],
                kwargs=_gx_kwargs(exp["kwargs"], mostly),
                meta=dict(exp.get("meta", {})),
            )
            evrs.append(
                ExpectationValidationResult(
                    success=r.success, expectation_config=conf, result=_gx_result(r)
                )
            )
        n_ok = sum(r.success for r in v.results)
        batch = f"typed_{v.table}"
        vr = ExpectationSuiteValidationResult(
            success=v.success,
            results=evrs,
            suite_name=v.table,
            statistics={
                "evaluated_expectations": len(evrs),
                "successful_expectations": n_ok,
                "unsuccessful_expectations": len(evrs) - n_ok,
                "success_percent": 100.0 * n_ok / len(evrs) if evrs else 100.0,
            },
            meta={
                "run_id": {"run_name": run_id, "run_time": run_time.isoformat()},
                "great_expectations_version": gx.__version__,
                "batch_spec": {
                    "data_asset_name": v.table,
                    "engine": "hfeval DuckDB",
                    "rows_in": v.rows_in,
                    "rows_valid": v.rows_valid,
                    "rows_quarantined": v.rows_quarantined,
                },
            },
        )
        # GX's own layout, so the links inside its templates resolve.
        rel = Path("validations", v.table, _safe(run_id), run_time_path, f"{batch}.html")
        doc = ValidationResultsPageRenderer().render(vr)
        _write(out_dir / rel, page_view.render(doc))
        links.append(
            {
                "expectation_suite_name": v.table,
                "filepath": rel.as_posix(),
                "run_id": run_id,
                "batch_identifier": batch,
                "validation_success": v.success,
                "run_time": run_time,
                "run_name": run_id,
                "asset_name": v.table,
                "batch_kwargs": None,
                "batch_spec": {"data_asset_name": v.table},
                "expectation_suite_filepath": f"expectations/{v.table}.html",
            }
        )
    for name, suite in suites.items():
        gx_suite = gx.ExpectationSuite(**suite)
        doc = ExpectationSuitePageRenderer().render(gx_suite)
        _write(out_dir / "expectations" / f"{name}.html", page_view.render(doc))
        expectation_links.append(
            {
                "expectation_suite_name": name,
                "filepath": f"expectations/{name}.html",
            }
        )
    index = SiteIndexPageRenderer.render(
        {
            "site_name": f"hfeval validation, run {run_id}",
            "validations_links": links,
            "expectations_links": expectation_links,
        }
    )
    index_path = out_dir / "index.html"
    _write(index_path, DefaultJinjaIndexPageView().render(index))
    return index_path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
