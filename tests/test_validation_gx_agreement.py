"""The compiled DuckDB SQL counts the same unexpected rows as GX's own pandas engine.

Covers the column expectations GX pandas can run: not_null, in_set, between (numbers and dates,
with the extraction-date suite parameter), unique, compound unique and pair a >= b.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hfeval import contract, validation

gx = pytest.importorskip("great_expectations")

EXTRACTION = dt.date(2000, 1, 15)
MOSTLY = 0.8
GX_KINDS = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_column_pair_values_a_to_be_greater_than_b",
}

TABLE = contract.Table(
    name="agree",
    kind="input",
    description="Small table exercising every column expectation GX pandas can run.",
    primary_key=("x", "s"),
    row_rules=("start_not_after_end",),
    columns=(
        contract.Column("y", "VARCHAR", "required text"),
        contract.Column("x", "INTEGER", "number", required=False, min_value=0, max_value=5),
        contract.Column("s", "VARCHAR", "code", required=False, codes=("a", "b", "c")),
        contract.Column(
            "start_date",
            "DATE",
            "start",
            required=False,
            min_value="2000-01-01",
            max_value=contract.EXTRACTION,
        ),
        contract.Column(
            "end_date",
            "DATE",
            "end",
            required=False,
            min_value="2000-01-03",
            max_value="2000-01-20",
        ),
    ),
)
COLUMNS = {"y": "VARCHAR", "x": "INTEGER", "s": "VARCHAR", "start_date": "DATE", "end_date": "DATE"}


def _suite() -> dict:
    suite = validation.build_suite(TABLE)
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_unique",
            "kwargs": {"column": "x", "mostly": 0.95},
            "meta": {"description": "'x' must be unique", "level": "row"},
        }
    )
    return suite


SUITE = _suite()
GX_EXPECTATIONS = [e for e in SUITE["expectations"] if e["type"] in GX_KINDS]


@pytest.fixture(scope="module")
def gx_batch_definition():
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("agreement").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole")


def _gx_counts(batch_definition, rows: list[dict]) -> list[tuple]:
    frame = pd.DataFrame(
        {
            "y": pd.Series([r["y"] for r in rows], dtype=object),
            "x": pd.Series([r["x"] for r in rows], dtype="float64"),
            "s": pd.Series([r["s"] for r in rows], dtype=object),
            "start_date": pd.Series([r["start_date"] for r in rows], dtype=object),
            "end_date": pd.Series([r["end_date"] for r in rows], dtype=object),
        }
    )
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(
        name="agree",
        expectations=[{**e, "kwargs": {**e["kwargs"], "mostly": MOSTLY}} for e in GX_EXPECTATIONS],
    )
    result = batch.validate(suite, expectation_parameters={"extraction_date": EXTRACTION})
    out = []
    for r in result.results:
        conf = r.expectation_config
        assert not r.exception_info.get("raised_exception"), conf.type
        out.append((conf.type, _columns(conf.kwargs), r.result["unexpected_count"], r.success))
    return sorted(out)  # GX does not keep the suite's order


def _engine_counts(rows: list[dict]) -> list[tuple]:
    con = duckdb.connect()
    cols = ", ".join(f"{c} {t}" for c, t in COLUMNS.items())
    con.execute(f"CREATE TABLE src (_row_id BIGINT, {cols})")
    con.executemany(
        f"INSERT INTO src VALUES (?, {', '.join('?' for _ in COLUMNS)})",
        [[i, *(r[c] for c in COLUMNS)] for i, r in enumerate(rows)],
    )
    raw = ", ".join(
        f"CAST({c} AS VARCHAR) AS {c}__raw" for c, t in COLUMNS.items() if t != "VARCHAR"
    )
    con.execute(
        f"CREATE TABLE typed_agree AS SELECT *, 'src1' AS _source_id, 'a.csv' AS _source_file, "
        f"_row_id + 1 AS _source_row, DATE '{EXTRACTION}' AS _extraction_date, {raw} FROM src"
    )
    v = validation.validate_table(
        con, TABLE, SUITE, typed="typed_agree", missing_columns=[], mostly=MOSTLY
    )
    con.close()
    return sorted(
        (r.type, _columns(r.kwargs), r.unexpected_count, r.success)
        for r in v.results
        if r.type in GX_KINDS
    )


def _columns(kwargs: dict) -> str:
    cols = kwargs.get("column_list") or [kwargs.get("column"), kwargs.get("column_A")]
    return ",".join(str(c) for c in cols if c)


def _day(offset: int | None) -> dt.date | None:
    return None if offset is None else dt.date(1999, 12, 25) + dt.timedelta(days=offset)


ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "y": st.sampled_from([None, "k"]),
            "x": st.one_of(st.none(), st.integers(-1, 7)),
            "s": st.sampled_from([None, "a", "b", "c", "z"]),
            "start_date": st.one_of(st.none(), st.integers(0, 32)).map(_day),
            "end_date": st.one_of(st.none(), st.integers(0, 32)).map(_day),
        }
    ),
    min_size=1,
    max_size=25,
)


def test_every_gx_runnable_kind_is_covered():
    assert {e["type"] for e in GX_EXPECTATIONS} == GX_KINDS
    assert any(
        e["kwargs"].get("max_value") == validation.EXTRACTION_PARAMETER for e in GX_EXPECTATIONS
    )


def test_hand_made_table_agrees_with_gx(gx_batch_definition):
    d = dt.date
    rows = [
        {"y": "k", "x": 1, "s": "a", "start_date": d(2000, 1, 2), "end_date": d(2000, 1, 5)},
        {"y": None, "x": 1, "s": "a", "start_date": d(2000, 1, 16), "end_date": d(2000, 1, 1)},
        {"y": "k", "x": 9, "s": "z", "start_date": None, "end_date": d(2000, 1, 21)},
        {"y": "k", "x": None, "s": None, "start_date": d(1999, 12, 31), "end_date": None},
        {"y": "k", "x": None, "s": None, "start_date": d(2000, 1, 15), "end_date": d(2000, 1, 15)},
        {"y": "k", "x": 3, "s": "b", "start_date": d(2000, 1, 3), "end_date": d(2000, 1, 3)},
    ]
    engine = _engine_counts(rows)
    assert engine == _gx_counts(gx_batch_definition, rows)
    assert all(n > 0 for _, _, n, _ in engine), engine  # every kind catches something here


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=ROWS)
def test_random_tables_agree_with_gx(gx_batch_definition, rows):
    assert _engine_counts(rows) == _gx_counts(gx_batch_definition, rows)
