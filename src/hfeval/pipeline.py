"""Run the pipeline: load and validate every input, build the models, publish, swap atomically.

    sources -> raw_<t> -> typed_<t> (view) -> (GX suite) -> valid_<t> (view) + quarantine
            -> stg_* -> int_* -> mart_* -> publish (disclosure control) -> hfeval_publish.duckdb

Everything is built in a temporary DuckDB file next to the warehouse; only when every step has
succeeded are the person-level warehouse and the publishable database replaced, each with one
atomic rename. A failed or killed run therefore leaves the previous warehouse as it was. A lock
file keeps two runs from building at once.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import secrets
import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from hfeval import contract, disclosure, guard, loaders, manifest, sources, validation
from hfeval import logging as hflog
from hfeval.config import Paths, get_paths, resolve_parameters
from hfeval.spec import Model, ModelInputs, PipelineSpec, SpecError, load_spec

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_ERROR = 1  # unexpected internal error
EXIT_VALIDATION = 2  # a table-level expectation failed: nothing published
EXIT_INPUT = 3  # inputs could not be read (bad mapping file, unreadable file, no data)
EXIT_LOCKED = 4  # another run holds the warehouse lock
EXIT_IDENTIFIER = 5  # an input file holds identifiers (guard.py): nothing loaded

DEFAULT_SOURCE = "hfeval-default"
OVERRIDE_SOURCE = "user-override"

log = logging.getLogger(__name__)


class PipelineError(Exception):
    """A failure with a message safe to show: names files, columns and counts, never values."""

    exit_code = EXIT_ERROR


class InputError(PipelineError):
    exit_code = EXIT_INPUT


class ValidationFailed(PipelineError):
    exit_code = EXIT_VALIDATION


class LockBusy(PipelineError):
    exit_code = EXIT_LOCKED


@dataclass
class RunResult:
    run_id: str
    status: str
    exit_code: int
    run_dir: Path
    manifest_path: Path
    warehouse: Path | None
    publish_db: Path | None
    messages: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


Reporter = Callable[[str, str], None]  # (event, text); event in {"start", "done", "info", "warn"}


def _silent(event: str, text: str) -> None:
    pass


# ---- locking and atomic files ----------------------------------------------------------------


@contextmanager
def warehouse_lock(lock_file: Path, wait: bool, timeout_s: float = 3600) -> Iterator[None]:
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or time.monotonic() > deadline:
                    raise LockBusy(
                        f"another hfeval run is building the warehouse ({lock_file}); "
                        "wait for it to finish or pass --wait"
                    ) from None
                time.sleep(0.5)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_replace(tmp: Path, final: Path) -> None:
    """Make `tmp` durable, then rename it over `final` (atomic on POSIX within one filesystem)."""
    _fsync_path(tmp)
    os.replace(tmp, final)
    _fsync_path(final.parent)


def _clean_stale_builds(warehouse_dir: Path) -> list[str]:
    """Remove half-built files of runs that were killed (we hold the lock, so none is live)."""
    removed = []
    for p in warehouse_dir.glob(".building-*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p.name)
    return removed


# ---- inputs ----------------------------------------------------------------------------------


def reference_inputs(paths: Paths, data_dir: Path) -> tuple[dict[str, list], list[str]]:
    """Default reference tables, plus a user's files in DATA/reference/ that override them."""
    inputs: dict[str, list] = {}
    notes = []
    override_dir = data_dir / "reference"
    for name in contract.REFERENCE_TABLES:
        files = []
        default = paths.reference / f"{name}.csv"
        if default.exists():
            files.append(sources.plain_input(DEFAULT_SOURCE, name, default))
        for ext in (".csv", ".xlsx", ".parquet"):
            override = override_dir / f"{name}{ext}"
            if override.exists():
                files.append(sources.plain_input(OVERRIDE_SOURCE, name, override))
                notes.append(f"{name}: user file {override.name} overrides default rows by key")
        inputs[name] = files
    return inputs, notes


def _replace_overridden_defaults(con: duckdb.DuckDBPyConnection, table: contract.Table) -> int:
    """Drop default reference rows whose key a user's override file also provides; count them."""
    raw = f"raw_{table.name}"
    on = " and ".join(f"d.{k} = o.{k}" for k in table.primary_key)
    replaced = (
        f"select d._row_id from {raw} d join {raw} o on {on} "
        f"where d._source_id = '{DEFAULT_SOURCE}' and o._source_id = '{OVERRIDE_SOURCE}'"
    )
    n = con.execute(f"select count(distinct _row_id) from ({replaced})").fetchall()[0][0]
    if n:
        con.execute(f"delete from {loaders.raw_rows_name(table.name)} where _row_id in ({replaced})")
    return int(n)


def _resolve_extraction_dates(
    con: duckdb.DuckDBPyConnection, found: list[sources.Source], override: str | None
) -> dict[str, dict[str, Any]]:
    """Extraction date per source: parameter, else mapping file, else latest date in the data
    (up to today), which is then set on the source's raw files. Reads `typed_<table>`."""
    resolved: dict[str, dict[str, Any]] = {}
    undated = [s.source_id for s in found if not override and not s.extraction_date]
    latest = _latest_dates(con, undated)
    for src in found:
        if override:
            resolved[src.source_id] = {"date": dt.date.fromisoformat(str(override)),
                                       "from": "parameter extraction_date"}
        elif src.extraction_date:
            resolved[src.source_id] = {"date": src.extraction_date, "from": "source.yaml"}
        else:
            resolved[src.source_id] = {"date": latest.get(src.source_id),
                                       "from": "latest date in the source"}
    if latest:
        loaders.set_extraction_dates(con, [contract.table(t) for t in contract.INPUT_TABLES], latest)
    return resolved


def _latest_dates(con: duckdb.DuckDBPyConnection, source_ids: list[str]) -> dict[str, dt.date]:
    """Latest date up to today in any date column of the given sources: one pass per table."""
    if not source_ids:
        return {}
    latest: dict[str, dt.date] = {}
    marks = ", ".join("?" for _ in source_ids)
    for t in contract.INPUT_TABLES:
        cols = [c.name for c in contract.table(t).columns if c.dtype == "DATE"]
        if not cols:
            continue
        maxes = ", ".join(f"max(case when {c} <= current_date then {c} end)" for c in cols)
        rows = con.execute(
            f"select _source_id, {maxes} from typed_{t} where _source_id in ({marks}) "
            "group by _source_id", source_ids,
        ).fetchall()
        for sid, *values in rows:
            for v in values:
                if v is not None and (sid not in latest or v > latest[sid]):
                    latest[sid] = v
    return latest


# ---- the run ---------------------------------------------------------------------------------


def new_run_id() -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{now}-{secrets.token_hex(3)}"


def run(
    data_dir: Path,
    *,
    params_file: Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    paths: Paths | None = None,
    wait_for_lock: bool = False,
    report: Reporter = _silent,
    notebooks: bool = False,
) -> RunResult:
    """Run the whole pipeline on DATA_DIR. Never raises for expected failures: see RunResult.

    With `notebooks`, a successful run then executes notebooks/*.ipynb against the new
    warehouse (still holding the lock) into runs/<id>/notebooks/: person-level output."""
    paths = paths or get_paths()
    run_id = new_run_id()
    run_dir = paths.runs / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    mf = manifest.Manifest(run_id=run_id, paths=paths, data_dir=data_dir)
    runlog = hflog.RunLog(run_dir / "log.jsonl", run_id)  # names, counts, timings only
    report = runlog.reporter(report)
    runlog.event("run_start", data_dir=str(data_dir))
    result = RunResult(
        run_id=run_id, status="failed", exit_code=EXIT_ERROR, run_dir=run_dir,
        manifest_path=run_dir / "manifest.json", warehouse=None, publish_db=None,
    )
    try:
        params = resolve_parameters(params_file, overrides)
        mf.parameters = params
        with warehouse_lock(paths.lock_file, wait=wait_for_lock), runlog.capture():
            _run_locked(data_dir, params, paths, run_id, run_dir, mf, report)
            if notebooks:
                _run_notebooks(paths, run_id, mf, report)
        result.status, result.exit_code = "succeeded", EXIT_OK
        result.warehouse, result.publish_db = paths.warehouse, paths.publish_db
    except PipelineError as exc:
        result.status = {EXIT_VALIDATION: "failed validation", EXIT_INPUT: "failed: input",
                         EXIT_LOCKED: "not started: locked"}.get(exc.exit_code, "failed")
        result.exit_code = exc.exit_code
        result.messages.append(str(exc))
        mf.errors.append(str(exc))
    except guard.IdentifierFound as exc:
        result.status, result.exit_code = "refused: identifiers in input", EXIT_IDENTIFIER
        result.messages.append(str(exc))
        mf.errors.append(str(exc))
    except (KeyError, ValueError, sources.SourceError) as exc:
        # Parameter and mapping-file mistakes: messages name keys and files only.
        result.status, result.exit_code = "failed: input", EXIT_INPUT
        msg = str(exc).strip("'\"")
        result.messages.append(msg)
        mf.errors.append(msg)
    except Exception as exc:  # noqa: BLE001 - anything else is an internal error
        # Library errors (DuckDB, GX) can quote data values: keep the detail in a local,
        # person-level file and show only its type and where it is.
        detail = run_dir / "person-level" / "error.txt"
        detail.parent.mkdir(parents=True, exist_ok=True)
        detail.write_text(traceback.format_exc(), encoding="utf-8")
        msg = (f"internal error ({type(exc).__name__}); the details may contain data values "
               f"and were written to {detail}")
        result.messages.append(msg)
        mf.errors.append(msg)
    finally:
        mf.finish(result.status, result.exit_code)
        mf.write(result.manifest_path)
        result.manifest = mf.to_dict()
        report("done" if result.exit_code == 0 else "warn", f"run {run_id}: {result.status}")
        runlog.event(
            "run_end", status=result.status, exit_code=result.exit_code,
            seconds=result.manifest.get("seconds_total"), tables=mf.tables,
            models=[{"name": m["name"], "rows": m["rows"]} for m in mf.models],
            errors=mf.errors,
        )
        runlog.close()
    return result


def _run_locked(
    data_dir: Path,
    params: dict[str, Any],
    paths: Paths,
    run_id: str,
    run_dir: Path,
    mf: manifest.Manifest,
    report: Reporter,
) -> None:
    paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
    stale = _clean_stale_builds(paths.warehouse_dir)
    if stale:
        mf.notes.append(f"removed {len(stale)} half-built file(s) left by an interrupted run")
    build = paths.warehouse_dir / f".building-{run_id}.duckdb"
    build_pub = paths.warehouse_dir / f".building-{run_id}-publish.duckdb"
    work = paths.warehouse_dir / f".building-{run_id}-work"
    work.mkdir()
    spec = load_spec(paths.pipeline_spec)
    try:
        con = duckdb.connect(str(build))
        _configure_engine(con, params, work)
        docs_writer = validation.DataDocsWriter()  # starts GX's slow import, beside the load
        try:
            with mf.timed("discover", report):
                if not data_dir.is_dir():
                    raise InputError(f"data directory {data_dir} does not exist")
                found = sources.discover_sources(data_dir)
                if not found:
                    raise InputError(f"no source found in {data_dir}: see data/README.md")
                mf.record_sources(found, data_dir)
                ref_inputs, ref_notes = reference_inputs(paths, data_dir)
                mf.notes.extend(ref_notes)
            validations = _load_and_validate(
                con, found, ref_inputs, data_dir, paths, params, work, mf, report
            )
            with mf.timed("data docs", report):
                suites = {v.table: validation.load_suite(v.table, paths.expectations)
                          for v in validations}
                docs = docs_writer.write(validations, suites, run_dir / "data_docs", run_id)
                mf.data_docs = str(docs)
            failures = [msg for v in validations for msg in v.table_failures]
            if failures:
                _keep_failed_run_quarantine(con, run_dir)
                raise ValidationFailed(
                    "validation failed; nothing was published and the previous warehouse is "
                    "unchanged:\n  - " + "\n  - ".join(failures)
                )
            _build_models(con, spec, mf, report, params)
            mf.write_into(con)
            con.execute("checkpoint")
        finally:
            docs_writer.close()
            con.close()
        with mf.timed("publish", report):
            _publish(build, build_pub, spec, params, mf)
        atomic_replace(build, paths.warehouse)
        atomic_replace(build_pub, paths.publish_db)
    finally:
        for p in (build, build_pub, Path(f"{build}.wal"), Path(f"{build_pub}.wal")):
            p.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def _run_notebooks(paths: Paths, run_id: str, mf: manifest.Manifest, report: Reporter) -> None:
    """The report step: the warehouse is already published, so a notebook that fails is a
    warning in the manifest, never a failed run. The output folder is person-level."""
    from hfeval.reporting import notebooks as nb

    try:
        with mf.timed("notebooks", report, label=nb.LABEL, output=f"runs/{run_id}/{nb.FOLDER}"):
            outcome = nb.run_notebooks(paths, run_id, report=report)
        mf.notes.extend(outcome.notes())
    except Exception as exc:  # noqa: BLE001 - e.g. no Jupyter kernel; the run stands
        mf.notes.append(f"notebooks not executed ({type(exc).__name__})")
        report("warn", f"notebooks not executed ({type(exc).__name__})")


def _configure_engine(con: duckdb.DuckDBPyConnection, params: dict[str, Any], work: Path) -> None:
    """Bound DuckDB's memory (it spills to the run's work folder) and threads."""
    spill = work / "spill"
    spill.mkdir(exist_ok=True)
    con.execute("set temp_directory = ?", [str(spill)])
    con.execute("set memory_limit = ?", [str(params["engine.memory_limit"])])
    if int(params["engine.threads"]) > 0:
        con.execute("set threads = ?", [int(params["engine.threads"])])


def _load_and_validate(
    con: duckdb.DuckDBPyConnection,
    found: list[sources.Source],
    ref_inputs: dict[str, list],
    data_dir: Path,
    paths: Paths,
    params: dict[str, Any],
    work: Path,
    mf: manifest.Manifest,
    report: Reporter,
) -> list[validation.TableValidation]:
    loaders.register_parse_macros(con)
    ext_dates = {s.source_id: s.extraction_date for s in found}
    if params.get("extraction_date"):
        ext_dates = {k: dt.date.fromisoformat(str(params["extraction_date"])) for k in ext_dates}
    replaced: dict[str, int] = {}
    load_reports: dict[str, Any] = {}
    with mf.timed("load", report):
        for name, table in contract.TABLES.items():
            if table.kind == "reference":
                inputs, root = ref_inputs[name], paths.root
            else:
                inputs = [i for s in found for i in s.inputs.get(name, [])]
                root = data_dir
            rep = loaders.load_raw_table(
                con, table, inputs, extraction_dates=ext_dates, data_root=root, work_dir=work
            )
            loaders.create_typed_view(con, table, f"raw_{name}", f"typed_{name}")
            load_reports[name] = rep
            mf.record_load(rep, root)
            if table.kind == "reference":
                replaced[name] = _replace_overridden_defaults(con, table) if any(
                    i.source_id == OVERRIDE_SOURCE for i in inputs
                ) else 0
        mf.extraction_dates = {
            k: {"date": str(v["date"]) if v["date"] else None, "from": v["from"]}
            for k, v in _resolve_extraction_dates(
                con, found, params.get("extraction_date")
            ).items()
        }
    validations = []
    with mf.timed("validate", report):
        for name, table in contract.TABLES.items():
            rep = load_reports[name]
            missing: dict[str, list[str]] = {}
            for f in rep.files:
                for c in f.missing_required_columns:
                    missing.setdefault(c, []).append(f.path)
            suite = validation.load_suite(name, paths.expectations)
            val = validation.validate_table(
                con, table, suite, typed=f"typed_{name}", missing_columns=missing,
                mostly=float(params["validation.mostly"]),
            )
            rejected = validation.quarantine_rejects(con, table, f"raw_{name}__rejects")
            validations.append(val)
            mf.record_validation(val, rejected=rejected, replaced=replaced.get(name, 0),
                                 rows_read=rep.rows_read)
            log.info("%s: validated", name,
                     extra=hflog.fields("table_validated", table=name, **mf.tables[name]))
        _write_load_accounting(con, mf)
    return validations


def _write_load_accounting(con: duckdb.DuckDBPyConnection, mf: manifest.Manifest) -> None:
    rows = [
        (t, a["rows_read"], a["rows_loaded"], a["rows_quarantined"], a["rows_replaced_by_override"])
        for t, a in mf.tables.items()
    ]
    con.execute(
        "create or replace table load_accounting (table_name varchar, rows_read bigint, "
        "rows_loaded bigint, rows_quarantined bigint, rows_replaced_by_override bigint)"
    )
    if rows:
        con.executemany("insert into load_accounting values (?, ?, ?, ?, ?)", rows)


def _keep_failed_run_quarantine(con: duckdb.DuckDBPyConnection, run_dir: Path) -> None:
    """A failed run publishes nothing, but its quarantined rows are kept locally for the data
    owner to inspect (person-level; the run folder is git-ignored and never published)."""
    out = run_dir / "person-level"
    out.mkdir(parents=True, exist_ok=True)
    has_q = con.execute(
        "select count(*) from information_schema.tables where table_name = 'quarantine'"
    ).fetchall()[0][0]
    if has_q:
        con.execute(f"copy quarantine to '{out / 'quarantine.parquet'}' (format parquet)")


def _build_models(
    con: duckdb.DuckDBPyConnection, spec: PipelineSpec, mf: manifest.Manifest, report: Reporter,
    params: dict[str, Any],
) -> None:
    existing = {r[0] for r in con.execute("select table_name from information_schema.tables")
                .fetchall()}
    for model in spec.models:
        missing = [i for i in model.inputs if i not in existing]
        if missing:
            raise PipelineError(f"model {model.name} needs {missing}, which no earlier step made")
        with mf.timed(model.name, report, layer=model.layer, label=model.label):
            n = build_model(con, model, params)
            if model.python:
                mf.models.append({"name": model.name, "layer": model.layer,
                                  "label": model.label, "rows": n, "python": model.python})
            else:
                mf.record_model(model, n)
        existing.add(model.name)


def build_model(con: duckdb.DuckDBPyConnection, model: Model, params: dict[str, Any]) -> int:
    """(Re)build one model as a table in `con`; return its row count. A Python model gets a
    `ModelInputs` (only its declared inputs are readable) and the run's parameters, and must
    read every input it declares."""
    if not model.python:
        con.execute(f"create or replace table {model.name} as\n{model.sql}")
        return con.execute(f"select count(*) from {model.name}").fetchall()[0][0]
    inputs = ModelInputs(con, model)
    try:
        frame = model.function()(inputs, params)
    except SpecError as exc:  # a model reading what it did not declare: a bug, not bad input
        raise PipelineError(str(exc)) from None
    unread = sorted(set(model.inputs) - inputs.read)
    if unread:
        raise PipelineError(f"model {model.name} declares inputs it does not read: {unread}")
    con.register("_python_model_frame", frame.to_arrow())
    try:
        con.execute(f"create or replace table {model.name} as select * from _python_model_frame")
    finally:
        con.unregister("_python_model_frame")
    return frame.height


def _publish(
    build: Path, build_pub: Path, spec: PipelineSpec, params: dict[str, Any],
    mf: manifest.Manifest,
) -> None:
    """Copy publishable models, disclosure-controlled, into a separate DuckDB file.

    The thresholds are the run's effective ones (disclosure.preset, unless set explicitly).
    A table describing people must show publication units only (int_publication_units), never
    a municipality too small to publish alone: anything else stops the run."""
    threshold = int(params["disclosure.threshold"])
    base = int(params["disclosure.rounding_base"])
    protection_rows = []
    src = duckdb.connect(str(build), read_only=True)
    pub = duckdb.connect(str(build_pub))
    try:
        tables = {r[0] for r in src.execute("select table_name from information_schema.tables")
                  .fetchall()}
        units = (src.sql("select * from int_publication_units").pl()
                 if "int_publication_units" in tables else None)
        if units is not None:
            mf.notes.append(_units_summary(units, params))
        for model in spec.publishable:
            df = src.sql(f"select * from {model.name}").pl()
            if units is not None and model.disclosure.counts:
                _check_units(model.name, df, units)
            missing = sorted(model.disclosure.columns() - set(df.columns))
            if model.disclosure.enabled and missing:
                raise PipelineError(f"disclosure rule of {model.name} names columns the table "
                                    f"lacks: {missing}")
            try:
                protected, notes = disclosure.protect(
                    df, model.disclosure, threshold=threshold, rounding_base=base
                )
            except (KeyError, ValueError) as exc:  # a rule that does not fit its table: a bug
                raise PipelineError(f"disclosure rule of {model.name}: {exc}") from None
            pub.register("_frame", protected.to_arrow())
            pub.execute(f"create table {model.name} as select * from _frame")
            pub.unregister("_frame")
            protection_rows += [(model.name, c, n) for c, n in notes.items()]
            mf.record_publish(model.name, protected.height, model.disclosure.enabled)
            mf.published[-1]["cells_suppressed"] = sum(
                int(protected[f"{c}_suppressed"].sum()) for c in model.disclosure.counts)
        pub.execute(
            "create table _protection (table_name varchar, column_name varchar, protection varchar)"
        )
        pub.executemany("insert into _protection values (?, ?, ?)", protection_rows)
        mf.write_into(pub)
        pub.execute("checkpoint")
    finally:
        src.close()
        pub.close()


def _units_summary(units: pl.DataFrame, params: dict[str, Any]) -> str:
    merged = units.filter(pl.col("unit_kind") != "municipality")
    return (
        f"disclosure control: preset {params['disclosure.preset']}, threshold "
        f"{params['disclosure.threshold']}, rounding base {params['disclosure.rounding_base']}; "
        f"publication units: {units.height} municipalities in {units['unit_code'].n_unique()} "
        f"units, {merged.height} merged into {merged['unit_code'].n_unique()} aggregates "
        f"(fewer than {params['disclosure.min_unit_participants']} participants)"
    )


def _check_units(table: str, df: pl.DataFrame, units: pl.DataFrame) -> None:
    """Refuse a table of counts that shows a municipality instead of its publication unit."""
    bad = 0
    if "municipality_code" in df.columns:
        merged = units.filter(pl.col("unit_kind") != "municipality")["municipality_code"]
        bad += df.filter(pl.col("municipality_code").is_in(merged.to_list())).height
    if "stratum_variable" in df.columns and "stratum_value" in df.columns:
        shown = df.filter(pl.col("stratum_variable") == "municipality")["stratum_value"]
        bad += int((~shown.is_in(units["unit_name"].to_list())).sum())
    if bad:
        raise PipelineError(
            f"{table}: {bad} rows show a municipality that is published only inside an "
            "aggregate; group the mart by publication unit (int_publication_units)")


def read_published(table: str, paths: Paths | None = None) -> pl.DataFrame:
    """Read a table from the publishable database (read-only), e.g. for the summary."""
    paths = paths or get_paths()
    with duckdb.connect(str(paths.publish_db), read_only=True) as con:
        return con.sql(f"select * from {table}").pl()


def latest_manifest(paths: Paths | None = None) -> dict[str, Any] | None:
    paths = paths or get_paths()
    if not paths.publish_db.exists():
        return None
    with duckdb.connect(str(paths.publish_db), read_only=True) as con:
        return json.loads(con.execute("select manifest_json from _manifest").fetchall()[0][0])
