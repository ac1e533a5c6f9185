"""How fast is the identifier guard? Times `guard.check_staged` on a staged service_use-shaped
file of N rows (default 10^7, national scale), as the loader stages it (all columns text):

* clean: pseudonyms like SYN-NO4205-000123, dd.mm.yyyy dates, codes, decimal-comma quantities
  and an unknown free-text column;
* dirty: the same with the participant id a 10-digit number (every value a CPR candidate, so
  the exact checks run on every row) and one valid fødselsnummer planted in the last row.

    uv run python benchmarks/guard_speed.py [--rows N] [--threads T]
"""

from __future__ import annotations

import argparse
import time

import duckdb

from hfeval import contract, guard

HEADERS = ["participant_id", "service", "start_date", "end_date", "quantity", "unit",
           "source_system", "merknad"]


def stage(con: duckdb.DuckDBPyConnection, n: int, dirty: bool) -> None:
    pid = ("lpad(CAST(1000000000 + i % 100000 AS VARCHAR), 10, '0')" if dirty
           else "'SYN-NO4205-' || lpad(CAST(i % 100000 AS VARCHAR), 6, '0')")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __hf_stage AS SELECT
            i + 2 AS _src,
            {pid} AS c0,
            CASE i % 3 WHEN 0 THEN 'Akuttmottak' WHEN 1 THEN 'Pågripelse' ELSE 'Fengsel' END c1,
            strftime(DATE '2010-01-01' + CAST(i % 3000 AS INTEGER), '%d.%m.%Y') AS c2,
            CASE WHEN i % 4 = 0 THEN strftime(DATE '2010-01-09' + CAST(i % 3000 AS INTEGER),
                                             '%d.%m.%Y') END AS c3,
            CAST(i % 40 AS VARCHAR) || ',0' AS c4,
            CASE WHEN i % 2 = 0 THEN 'døgn' ELSE 'kontakt' END AS c5,
            'NPR' AS c6,
            CASE WHEN i % 10 = 0 THEN 'SYNTHETIC: 5.2 FTE x 700000 NOK' END AS c7
        FROM range({n}) t(i)
    """)
    if dirty:  # 01.01.2035, valid check digits (tests/synthetic_ids.py): nobody's
        con.execute(f"UPDATE __hf_stage SET c7 = 'ref 01013550022' WHERE _src = {n + 1}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    table = contract.table("service_use")
    sources = {c: i for i, c in enumerate(HEADERS) if c in table.column_names}
    for dirty in (False, True):
        stage(con, args.rows, dirty)
        t = time.perf_counter()
        try:
            guard.check_staged(con, "__hf_stage", table, HEADERS, sources, [], "bench")
            outcome = "passed"
        except guard.IdentifierFound as e:
            outcome = f"refused ({len(e.findings)} finding(s))"
        secs = time.perf_counter() - t
        print(f"{'dirty' if dirty else 'clean'}: {args.rows:,} rows x {len(HEADERS)} columns "
              f"in {secs:.1f} s ({args.rows / secs / 1e6:.2f} M rows/s): {outcome}")


if __name__ == "__main__":
    main()
