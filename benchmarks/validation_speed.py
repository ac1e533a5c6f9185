"""How fast is validation? hfeval's DuckDB engine vs Great Expectations on pandas.

Builds a typed `service_use`-shaped relation of N rows (default 10^7, national scale) in DuckDB,
with 10^5 participants and a few bad rows of every kind, and times `validate_table` with the full
`service_use` suite. Then times GX's own pandas engine on 10^6 rows with the column expectations
GX pandas can run (not_null, in_set, between, pair). Prints seconds and rows/s.

    uv run python benchmarks/validation_speed.py [--rows N] [--gx-rows M] [--view] [--threads T]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import duckdb

from hfeval import contract, validation

PARTICIPANTS = 100_000
EXTRACTION = "2024-06-30"


def build_typed(con: duckdb.DuckDBPyConnection, n: int) -> None:
    """typed_service_use as the loader makes it; about 1 row in 10^4 is bad in some way."""
    services = ", ".join(f"'{s}'" for s in contract.SERVICE)
    units = ", ".join(f"'{u}'" for u in contract.SERVICE_UNIT)
    systems = ", ".join(f"'{s}'" for s in contract.SOURCE_SYSTEM)
    con.execute(
        f"CREATE OR REPLACE TABLE valid_participants AS "
        f"SELECT 'P' || lpad(range::VARCHAR, 6, '0') AS participant_id FROM range({PARTICIPANTS})"
    )
    con.execute(f"""
        CREATE OR REPLACE TABLE typed_service_use AS
        WITH base AS (
            SELECT range AS i,
                   DATE '2015-01-01' + (hash(range) % 3000)::INTEGER AS start_date,
                   (hash(range * 7) % 30)::INTEGER AS len
            FROM range({n})
        )
        SELECT i AS _row_id, 'src' || (i % 3) AS _source_id, 'file' || (i % 3) || '.csv'
                   AS _source_file, i + 2 AS _source_row, DATE '{EXTRACTION}' AS _extraction_date,
               CASE WHEN i % 100003 = 0 THEN 'P999999'
                    ELSE 'P' || lpad((i % {PARTICIPANTS})::VARCHAR, 6, '0') END AS participant_id,
               CASE WHEN i % 100019 = 0 THEN 'spa'
                    ELSE [{services}][1 + i % {len(contract.SERVICE)}] END AS service,
               CASE WHEN i % 100043 = 0 THEN NULL ELSE start_date END AS start_date,
               CASE WHEN i % 100049 = 0 THEN start_date - 1
                    WHEN i % 3 = 0 THEN NULL ELSE start_date + len END AS end_date,
               CASE WHEN i % 100057 = 0 THEN 99999.0 ELSE len + 1.0 END AS quantity,
               [{units}][1 + i % {len(contract.SERVICE_UNIT)}] AS unit,
               CASE WHEN i % 5 = 0 THEN NULL
                    ELSE [{systems}][1 + i % {len(contract.SOURCE_SYSTEM)}] END AS source_system,
               CASE WHEN i % 100043 = 0 THEN 'soon' ELSE start_date::VARCHAR END
                   AS start_date__raw,
               end_date::VARCHAR AS end_date__raw,
               quantity::VARCHAR AS quantity__raw
        FROM base
    """)


def build_typed_view(con: duckdb.DuckDBPyConnection) -> str:
    """The pipeline's path: raw text in a table, parsed by the loader's typed view."""
    from hfeval import loaders

    text = [f"{c.name}::VARCHAR AS {c.name}" for c in contract.SERVICE_USE.columns]
    con.execute(
        "CREATE OR REPLACE TABLE raw_service_use AS SELECT _row_id, _source_id, _source_file, "
        f"_source_row, _extraction_date, {', '.join(text)} FROM typed_service_use"
    )
    loaders.create_typed_view(con, contract.SERVICE_USE, "raw_service_use", "typed_view")
    return "typed_view"


def time_engine(con: duckdb.DuckDBPyConnection, n: int, typed: str, label: str) -> None:
    suite = validation.build_suite(contract.SERVICE_USE)
    t0 = time.perf_counter()
    v = validation.validate_table(
        con,
        contract.SERVICE_USE,
        suite,
        typed=typed,
        missing_columns=[],
        mostly=0.95,
    )
    secs = time.perf_counter() - t0
    print(
        f"hfeval DuckDB engine, {label}: {len(suite['expectations'])} expectations on {n:,} "
        f"rows: {secs:.1f} s = {n / secs:,.0f} rows/s "
        f"(valid {v.rows_valid:,}, quarantined {v.rows_quarantined:,}, success {v.success})"
    )


def time_gx_pandas(con: duckdb.DuckDBPyConnection, n: int) -> None:
    import pandas as pd

    t0 = time.perf_counter()
    import great_expectations as gx

    imported = time.perf_counter() - t0
    build_typed(con, n)
    cols = [c.name for c in contract.SERVICE_USE.columns]
    frame = con.execute(f"SELECT {', '.join(cols)} FROM typed_service_use").df()
    extraction = pd.Timestamp(EXTRACTION)
    kinds = {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_pair_values_a_to_be_greater_than_b",
    }
    exps = []
    for e in validation.build_suite(contract.SERVICE_USE)["expectations"]:
        if e["type"] not in kinds:
            continue
        kwargs = dict(e["kwargs"])
        if frame[kwargs.get("column", "start_date")].dtype.kind == "M":
            # GX pandas compares datetime columns with Timestamps only.
            for key in ("min_value", "max_value"):
                if isinstance(kwargs.get(key), str):
                    kwargs[key] = pd.Timestamp(kwargs[key])
        exps.append({**e, "kwargs": kwargs})
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("bench")
        .add_dataframe_asset("service_use")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name="service_use", expectations=exps)
    t0 = time.perf_counter()
    result = batch.validate(suite, expectation_parameters={"extraction_date": extraction})
    secs = time.perf_counter() - t0
    errors = sum(bool(r.exception_info.get("raised_exception")) for r in result.results)
    print(f"GX import: {imported:.1f} s")
    print(
        f"GX {gx.__version__} pandas engine: {len(exps)} column expectations on {n:,} rows: "
        f"{secs:.1f} s = {n / secs:,.0f} rows/s ({errors} expectations raised errors)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--gx-rows", type=int, default=1_000_000, help="0 skips GX")
    parser.add_argument(
        "--view",
        action="store_true",
        help="also time a typed view over raw text (the pipeline's path)",
    )
    parser.add_argument("--threads", type=int, default=0, help="DuckDB threads (0 = default)")
    args = parser.parse_args()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    print(
        f"{dt.datetime.now():%Y-%m-%d %H:%M}, duckdb {duckdb.__version__}, "
        f"threads {con.execute('SELECT current_setting(' + repr('threads') + ')').fetchall()[0][0]}"
    )
    t0 = time.perf_counter()
    build_typed(con, args.rows)
    print(f"built typed_service_use ({args.rows:,} rows) in {time.perf_counter() - t0:.1f} s")
    time_engine(con, args.rows, "typed_service_use", "typed table")
    if args.view:
        time_engine(con, args.rows, build_typed_view(con), "loader's typed view over raw text")
    if args.gx_rows:
        time_gx_pandas(duckdb.connect(), args.gx_rows)


if __name__ == "__main__":
    main()
