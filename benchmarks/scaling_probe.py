"""Beyond 10^7: how DuckDB copes with 10^8 service events under a memory limit (docs/scaling.md).

Writes a synthetic service_use-shaped table of N rows (default 10^8; 10^6 participants in 400
municipalities) as Parquet partitioned by start year (hive layout, as a registry extract would
arrive), then times, each under `memory_limit` with a spill folder, the operations the pipeline's
heavy steps are made of:

* scan: read every column once (the floor);
* aggregate: per person, service and year (about 10^7 groups: a hash aggregate larger than
  memory);
* join: events with participants and a per-person anchor date, summed by municipality and period
  (the shape of int_service_use_priced and the cost marts);
* window: each person's events numbered in date order (the shape of the tenancy and overlap
  rules: a sort larger than memory);
* persist: the table copied into a DuckDB file (what raw_/valid_/stg_ tables cost);
* one partition: the aggregate on one start year only (what partition pruning buys).

For each: wall seconds, the most RSS of this process and the spill folder held while it ran.

    uv run python benchmarks/scaling_probe.py [--rows 100000000] [--memory-limit 1GB]
        [--threads 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "scale"
GIB = 1024**3

SERVICES = ["somatic_inpatient", "psychiatric_inpatient", "emergency_department",
            "emergency_primary_care", "outpatient_mental_health", "substance_treatment_inpatient",
            "police_arrest", "prison", "shelter", "temporary_accommodation"]


def folder_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:  # a spill file removed while we looked
                continue
    return total


def rss_now() -> int:
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except ImportError:  # the lifetime peak instead
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def generate(con: duckdb.DuckDBPyConnection, rows: int, people: int, out: Path) -> float:
    t = time.perf_counter()
    shutil.rmtree(out, ignore_errors=True)
    services = "[" + ", ".join(f"'{s}'" for s in SERVICES) + "]"
    con.execute(f"""
        COPY (
            SELECT 'SYN-' || lpad(CAST(i % {people} AS VARCHAR), 7, '0') AS participant_id,
                   {services}[1 + CAST(hash(i) % {len(SERVICES)} AS INTEGER)] AS service,
                   DATE '2010-01-01' + CAST(hash(i * 7) % 5000 AS INTEGER) AS start_date,
                   CASE WHEN i % 3 = 0 THEN DATE '2010-01-01'
                        + CAST(hash(i * 7) % 5000 + hash(i) % 30 AS INTEGER) END AS end_date,
                   CAST(1 + hash(i * 13) % 30 AS DOUBLE) AS quantity,
                   CASE WHEN i % 3 = 0 THEN 'day' ELSE 'contact' END AS unit,
                   'patient_register' AS source_system,
                   year(DATE '2010-01-01' + CAST(hash(i * 7) % 5000 AS INTEGER)) AS start_year
            FROM range({rows}) t(i)
        ) TO '{out}' (FORMAT parquet, PARTITION_BY (start_year))
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE participants AS
        SELECT 'SYN-' || lpad(CAST(i AS VARCHAR), 7, '0') AS participant_id,
               'S' || lpad(CAST(i % 400 AS VARCHAR), 4, '0') AS municipality_code,
               DATE '2012-01-01' + CAST(hash(i) % 2500 AS INTEGER) AS anchor_date
        FROM range({people}) t(i)
    """)
    return time.perf_counter() - t


def timed(con: duckdb.DuckDBPyConnection, spill: Path, sql: str) -> dict[str, Any]:
    shutil.rmtree(spill, ignore_errors=True)
    spill.mkdir(parents=True)
    most = [0, 0]  # spill bytes, RSS bytes
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            most[0] = max(most[0], folder_bytes(spill))
            most[1] = max(most[1], rss_now())
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t = time.perf_counter()
    con.execute(sql).fetchall()
    wall = time.perf_counter() - t
    done.set()
    watcher.join()
    return {"seconds": wall, "peak_rss_gib": most[1] / GIB, "spill_gib": most[0] / GIB}


def probe(rows: int, memory_limit: str, threads: int) -> dict[str, Any]:
    WORK.mkdir(parents=True, exist_ok=True)
    data = WORK / "service_use"
    spill = WORK / "spill"
    db_file = WORK / "probe.duckdb"
    db_file.unlink(missing_ok=True)
    con = duckdb.connect(str(db_file))
    if threads:
        con.execute(f"SET threads = {threads}")
    people = max(1000, rows // 100)
    gen_s = generate(con, rows, people, data)
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{spill}'")
    src = f"read_parquet('{data}/*/*.parquet', hive_partitioning = true)"
    cols = ["participant_id", "service", "start_date", "end_date", "quantity", "unit",
            "source_system"]
    steps = {
        "scan": f"SELECT count(*), {', '.join(f'sum(hash({c}))' for c in cols)} FROM {src}",
        "aggregate": f"SELECT count(*) FROM (SELECT participant_id, service, start_year, "
                     f"count(*), sum(quantity) FROM {src} GROUP BY ALL)",
        "join": f"SELECT p.municipality_code, e.start_date < p.anchor_date AS pre, "
                f"sum(e.quantity) FROM {src} AS e JOIN participants AS p USING (participant_id) "
                "GROUP BY ALL",
        "window": f"SELECT max(n) FROM (SELECT row_number() OVER (PARTITION BY participant_id "
                  f"ORDER BY start_date) AS n FROM {src})",
        "persist": f"CREATE OR REPLACE TABLE copied AS SELECT * FROM {src}",
        "one partition": f"SELECT count(*) FROM (SELECT participant_id, service, count(*) "
                         f"FROM {src} WHERE start_year = 2015 GROUP BY ALL)",
    }
    results = {}
    for name, sql in steps.items():
        results[name] = timed(con, spill, sql)
        print(f"  {name:14s} {results[name]['seconds']:7.1f} s   peak RSS "
              f"{results[name]['peak_rss_gib']:.2f} GiB   spilled "
              f"{results[name]['spill_gib']:.2f} GiB", flush=True)
    results["persist"]["db_file_gib"] = db_file.stat().st_size / GIB
    con.close()
    out = {"rows": rows, "participants": people, "memory_limit": memory_limit,
           "threads": threads or os.cpu_count(), "generate_seconds": gen_s,
           "parquet_gib": folder_bytes(data) / GIB, "steps": results}
    db_file.unlink(missing_ok=True)
    shutil.rmtree(spill, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    print(f"{args.rows:,} rows, memory_limit {args.memory_limit}:", flush=True)
    res = probe(args.rows, args.memory_limit, args.threads)
    print(f"  generated in {res['generate_seconds']:.0f} s, Parquet "
          f"{res['parquet_gib']:.2f} GiB (partitioned by start year)")
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()
