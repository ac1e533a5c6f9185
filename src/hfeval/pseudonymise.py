"""Pseudonymise municipal exports before analysis: `hfeval pseudonymise IN OUT --key-file F`.

Run by the data owner, inside the secure zone, before anyone analyses the data. For every
CSV/TXT, XLSX (every sheet) and Parquet file of the sources in IN (see `hfeval.sources`) it
writes a UTF-8 CSV under OUT, with:

* identity numbers replaced by a keyed hash (HMAC-SHA256, `PS-` + 16 base32 characters): the
  columns the user names, columns whose header names a national id, columns where most values
  are a valid fødselsnummer / D-number / CPR number, and the participant id column (the
  contract's aliases: løpenummer, borger_id, ...). Values are normalised first (spaces and
  hyphens removed, upper case, a leading zero a spreadsheet dropped put back). A valid national
  id is hashed the same everywhere, so one person gets one pseudonym in every file and every
  source; any other (local) id is hashed together with its source's id, so løpenummer 17 in
  one municipality and løpenummer 17 in another stay two people;
* direct identifiers removed: columns whose header names a name, an address, a phone number or
  an e-mail address (nb/da/en lists in `hfeval.guard`), and columns where most values are phone
  numbers or e-mail addresses;
* birth dates coarsened to the birth year (the column becomes `birth_year`);
* identity numbers, e-mail addresses and phone numbers inside other text replaced by
  `[removed]`.

The key comes from a file or an environment variable, must be at least 32 bytes, and is never
written anywhere (the report holds a fingerprint, `key_id`, to check that two runs used the
same key). A `source.yaml` is rewritten to point at the new files; `reference/` is copied.
The report counts what changed by column, never a value. The result is checked with the
identifier guard before it is written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from hfeval import contract, guard, loaders, sources

MIN_KEY_BYTES = 32
PSEUDONYM_PREFIX = "PS-"
REMOVED = "[removed]"
# A column is treated as an identity-number column when at least this share of its non-empty
# values is a valid national id (the rest are typos or foreign ids, hashed all the same).
NATIONAL_ID_SHARE = 0.5
EMAIL_SHARE = 0.5
REPORT_FILE = ".hfeval-pseudonymise.json"  # hidden: the loader skips it


class PseudonymiseError(Exception):
    """A problem with the key, the folders or a file. Names files and options, never values."""


# ---- key -----------------------------------------------------------------------------------------


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def load_key(
    key_file: Path | None, key_env: str | None, *, keep_out_of: tuple[Path, ...] = ()
) -> bytes:
    """The secret key, from exactly one of a file or an environment variable."""
    if (key_file is None) == (key_env is None):
        raise PseudonymiseError("give the key with exactly one of --key-file or --key-env")
    if key_file is not None:
        for folder in keep_out_of:
            if _inside(key_file, folder):
                raise PseudonymiseError(
                    f"the key file must be kept outside {folder} (the project and the output "
                    "must never hold the key)"
                )
        try:
            key = Path(key_file).read_bytes().rstrip(b"\r\n")
        except OSError as e:
            raise PseudonymiseError(f"cannot read the key file {key_file} ({type(e).__name__})")
    else:
        value = os.environ.get(str(key_env))
        if value is None:
            raise PseudonymiseError(f"environment variable {key_env} is not set")
        key = value.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymiseError(
            f"the key is too short: at least {MIN_KEY_BYTES} bytes are needed "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))' > key.txt`)"
        )
    return key


def key_id(key: bytes) -> str:
    """A fingerprint of the key that reveals nothing of it: same key, same id."""
    return hmac.new(key, b"hfeval key id", hashlib.sha256).hexdigest()[:12]


def pseudonym(key: bytes, normalised: str) -> str:
    digest = hmac.digest(key, normalised.encode("utf-8"), "sha256")
    return PSEUDONYM_PREFIX + base64.b32encode(digest[:10]).decode("ascii")


# ---- reports -------------------------------------------------------------------------------------


@dataclass
class ColumnReport:
    column: str  # header in the input file
    action: str  # kept | hashed | dropped | birth_year | redacted
    reason: str = ""
    values: int = 0  # values hashed / coarsened / redacted / removed
    output_column: str | None = None
    unreadable: int = 0  # birth dates that could not be read: left empty


@dataclass
class FileResult:
    input: str  # relative to IN
    sheet: str | None
    output: str  # relative to OUT
    rows_read: int = 0  # data rows: written + blank + rejected
    rows_written: int = 0
    rows_blank: int = 0
    rows_rejected: int = 0  # lines the CSV parser could not split: left out
    rejected_rows: list[int] = field(default_factory=list)
    title_rows: int = 0  # rows above the header: left out
    columns: list[ColumnReport] = field(default_factory=list)


@dataclass
class Report:
    key_id: str
    files: list[FileResult] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # neither data nor a mapping: not copied
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- SQL -----------------------------------------------------------------------------------------

_B0, _B1 = r"(^|[^0-9A-Za-z])", r"([^0-9A-Za-z]|$)"
_REDACT = (  # bounded patterns inside free text, replaced with their boundaries kept
    _B0 + r"\d{6}[ -]?\d{5}" + _B1,
    _B0 + r"\d{6}-?\d{4}" + _B1,
    _B0 + r"(?:\+|00)\s?(?:47|45)[\s-]?(?:\d[\s-]?){7}\d" + _B1,
)

_MACROS = r"""
CREATE OR REPLACE TEMP MACRO hfp_norm(c) AS upper(regexp_replace(trim(c), '[\s\-]', '', 'g'));
"""


def _keys_sql(expr: str, pad9: bool) -> str:
    """(_src, key, national) for the non-empty values of `expr` in __hf_stage: the normalised id
    (a leading zero a spreadsheet dropped put back) and whether it is a valid national id.
    The number is computed once per row in the inner query (the check macros use it often)."""
    cpr9 = "(len = 9 AND hfg_cpr_num_ok(x))" if pad9 else "false"
    return (
        "SELECT _src, CASE WHEN x IS NOT NULL AND len = 10 AND hfg_fnr_num_ok(x) THEN '0' || k "
        f"WHEN x IS NOT NULL AND {cpr9} THEN '0' || k ELSE k END AS key, "
        "coalesce(x IS NOT NULL AND ((len IN (10, 11) AND hfg_fnr_num_ok(x)) "
        f"OR (len = 10 AND hfg_cpr_num_ok(x)) OR {cpr9}), false) AS national "
        "FROM (SELECT _src, k, length(k) AS len, CASE WHEN regexp_full_match(k, '\\d{9,11}') "
        "THEN TRY_CAST(k AS BIGINT) END AS x "
        f"FROM (SELECT _src, hfp_norm({expr}) AS k FROM __hf_stage "
        f"WHERE {expr} IS NOT NULL AND trim({expr}) <> ''))"
    )


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _redact_sql(expr: str) -> str:
    out = expr
    bounded = _lit("\\1" + REMOVED + "\\2")  # keep the characters around the match
    for pattern in _REDACT:
        out = f"regexp_replace({out}, {_lit(pattern)}, {bounded}, 'g')"
    return f"regexp_replace({out}, {_lit(guard.EMAIL_SEARCH)}, {_lit(REMOVED)}, 'g')"


def _birth_year_sql(expr: str) -> str:
    return (
        f"CASE WHEN regexp_full_match(trim({expr}), '\\d{{4}}') THEN trim({expr}) "
        f"ELSE CAST(year(hf_parse_date({expr})) AS VARCHAR) END"
    )


# ---- one file ------------------------------------------------------------------------------------


@dataclass
class Options:
    id_columns: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()
    keep_columns: tuple[str, ...] = ()


@dataclass
class _Plan:
    action: str
    reason: str = ""
    pad9: bool = False  # hashed national-id column: put back a CPR's dropped leading zero


def _contract_dtypes(table: contract.Table | None, mapping: sources.TableMapping) -> dict:
    """Normalised file column name -> contract column, for the file's table (all input tables
    when it is not known)."""
    tables = [table] if table else [contract.TABLES[t] for t in contract.INPUT_TABLES]
    out: dict[str, contract.Column] = {}
    for t in tables:
        for alias, col in sources.column_aliases(t.name).items():
            out.setdefault(alias, t.column(col))
    if table:
        for col, file_col in mapping.columns.items():
            out[sources.normalise_name(file_col)] = table.column(col)
    return out


def _scope(col: contract.Column | None) -> guard.Scope:
    if col is None:
        return "unknown"
    return "text" if col.dtype == "VARCHAR" else "typed"


def _decide(
    header: str,
    col: contract.Column | None,
    scan: guard.ColumnScan,
    counts: tuple[int, int, int],
    opts: Options,
) -> _Plan:
    """What to do with one column; `counts` = values that are a national id, an e-mail address,
    or hold a phone number with a country code (whole values, whole values, inside text)."""
    national, emails, embedded_phones = counts
    key = guard.header_key(header)
    named = guard.identifier_name_kind(header)
    wanted = {guard.header_key(c) for c in opts.id_columns}
    dropped = {guard.header_key(c) for c in opts.drop_columns}
    kept = {guard.header_key(c) for c in opts.keep_columns}
    mostly_ids = scan.non_empty and national >= NATIONAL_ID_SHARE * scan.non_empty
    if key in dropped:
        return _Plan("dropped", "--drop-column")
    if key in wanted:
        return _Plan("hashed", "--id-column", pad9=bool(mostly_ids))
    if named == "national_id":
        return _Plan("hashed", "header names a national id", pad9=True)
    if mostly_ids:
        return _Plan("hashed", "values are national ids", pad9=True)
    if named in ("name", "address", "phone", "email") and key not in kept:
        return _Plan("dropped", f"header names a direct identifier ({named})")
    if named == "birth_date":
        return _Plan("birth_year", "header names a birth date")
    if col is not None and col.name == "participant_id":
        return _Plan("hashed", "participant id (local id)")
    if key not in kept and scan.non_empty:
        if emails >= EMAIL_SHARE * scan.non_empty:
            return _Plan("dropped", "values are e-mail addresses")
        if scan.phone >= guard.PHONE_SHARE * scan.non_empty:
            return _Plan("dropped", "values are phone numbers")
    if scan.fodselsnummer or scan.cpr or scan.email or national or embedded_phones:
        return _Plan("redacted", "identifiers inside the values")
    return _Plan("kept")


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for i, n in enumerate(names):
        name = n or f"column_{i + 1}"
        while name in out:
            name += "_2"
        out.append(name)
    return out


def _hash_map(
    con: duckdb.DuckDBPyConnection, key: bytes, expr: str, pad9: bool, namespace: str, name: str
) -> int:
    """Create temp tables `name` (k, p): key -> pseudonym and `name`_rows (_src, key); returns
    the number of distinct keys."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name}_rows AS {_keys_sql(expr, pad9)}")
    rows = con.execute(f"SELECT DISTINCT key, national FROM {name}_rows").fetchall()
    keys = [k for k, _ in rows]
    # National ids link across sources; any other id is only unique within its source.
    values = [pseudonym(key, f"nid:{k}" if nat else f"local:{namespace}:{k}") for k, nat in rows]
    con.register("__hfp_arrow", pa.table({"k": pa.array(keys, pa.string()),
                                          "p": pa.array(values, pa.string())}))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM __hfp_arrow")
    finally:
        con.unregister("__hfp_arrow")
    return len(keys)


def _process_staged(
    con: duckdb.DuckDBPyConnection,
    headers: list[str],
    table: contract.Table | None,
    mapping: sources.TableMapping,
    key: bytes,
    namespace: str,
    opts: Options,
    result: FileResult,
    out_path: Path,
) -> dict[str, str | None]:
    """Write __hf_stage pseudonymised to `out_path`; returns {input column: output column or
    None if dropped} for rewriting mapping files."""
    if guard._header_findings(con, headers):  # a data row where the header should be
        raise PseudonymiseError(
            f"{out_path.name}: the header row holds identity numbers or e-mail addresses; is the "
            "header row missing? Add it (or set header_row in source.yaml) and run again"
        )
    labels = [loaders._clean_header(h) for h in headers]
    dtypes = _contract_dtypes(table, mapping)
    cols = [dtypes.get(sources.normalise_name(h)) if h else None for h in labels]
    exprs = [f"c{i}" for i in range(len(headers))]
    scans = guard.scan_columns(
        con, "__hf_stage", [(e, lab, _scope(c)) for e, lab, c in zip(exprs, labels, cols,
                                                                        strict=True)]
    )
    # Whole-value counts, only where the guard's scan found candidates (clean columns: none).
    parts = []
    for e, scan in zip(exprs, scans, strict=True):
        national = (f"(SELECT count(*) FILTER (WHERE national) FROM ({_keys_sql(e, False)}))"
                    if scan.fodselsnummer or scan.cpr else "0")
        emails = (f"count(*) FILTER (WHERE hfg_has_email({e}) AND regexp_full_match(trim({e}), "
                  f"{_lit(guard.EMAIL_SEARCH)}))" if scan.email else "0")
        phones = (f"count(*) FILTER (WHERE CASE WHEN contains({e}, '+') OR contains({e}, '00') "
                  f"THEN regexp_matches({e}, {_lit(_REDACT[2])}) ELSE false END)")
        parts += [national, emails, phones]
    row = con.execute(f"SELECT {', '.join(parts)} FROM __hf_stage").fetchall()[0] if parts else ()
    plans = [
        _decide(lab, c, s, (row[3 * i], row[3 * i + 1], row[3 * i + 2]), opts)
        for i, (lab, c, s) in enumerate(zip(labels, cols, scans, strict=True))
    ]

    def is_(i: int, name: str) -> bool:
        return cols[i] is not None and cols[i].name == name

    has_birth_year = any(is_(i, "birth_year") and p.action != "birth_year"
                         for i, p in enumerate(plans))
    out_names = _unique_names(labels)
    # A hashed national-id column is the person key: give it a name the guard and the loader
    # read as the pseudonym (its old header names an identifier and would stop a run).
    named_id = [i for i, p in enumerate(plans)
                if p.action == "hashed" and guard.identifier_name_kind(labels[i]) == "national_id"]
    has_pid = any(is_(i, "participant_id") and i not in named_id for i in range(len(cols)))
    for i in named_id:
        pseudo = f"{guard.header_key(labels[i])}_pseudonym"
        out_names[i] = pseudo if has_pid and not is_(i, "participant_id") else "participant_id"
        has_pid = True
    select, joins, renames = ["s._src"], [], {}
    for i, (e, lab, plan) in enumerate(zip(exprs, labels, plans, strict=True)):
        rep = ColumnReport(column=lab or f"(column {i + 1})", action=plan.action,
                           reason=plan.reason)
        result.columns.append(rep)
        ref = f"s.{e}"
        if plan.action == "dropped":
            rep.values = scans[i].non_empty
            renames[lab] = None
            continue
        name = out_names[i]
        if plan.action == "hashed":
            m = f"__hfp_map{i}"
            _hash_map(con, key, e, plan.pad9, namespace, m)
            joins.append(f"LEFT JOIN {m}_rows ON {m}_rows._src = s._src "
                         f"LEFT JOIN {m} ON {m}.k = {m}_rows.key")
            value = f"{m}.p"
        elif plan.action == "birth_year":
            if has_birth_year:  # the year is there already: the full date only adds risk
                rep.action, rep.values = "dropped", scans[i].non_empty
                rep.reason += "; the file has a birth year already"
                renames[lab] = None
                continue
            name = "birth_year" if "birth_year" not in out_names else f"{name}_year"
            has_birth_year = True
            value = _birth_year_sql(ref)
        elif plan.action == "redacted":
            value = _redact_sql(ref)
        else:
            value = ref
        rep.output_column = name
        renames[lab] = name
        select.append(f"{value} AS {_ident(name)}")

    blank = " AND ".join(f"(s.{e} IS NULL OR trim(s.{e}) = '')" for e in exprs) or "true"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __hfp_out AS SELECT {', '.join(select)} "
        f"FROM __hf_stage s {' '.join(joins)} WHERE NOT ({blank})"
    )
    staged_rows = con.execute("SELECT count(*) FROM __hf_stage").fetchall()[0][0]
    result.rows_written = con.execute("SELECT count(*) FROM __hfp_out").fetchall()[0][0]
    result.rows_blank = staged_rows - result.rows_written
    result.rows_read = staged_rows + result.rows_rejected
    _count_changes(con, result, exprs, plans)
    _verify(con, [r for r in result.columns if r.output_column], out_path.name)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_cols = ", ".join(_ident(r.output_column) for r in result.columns if r.output_column)
    con.execute(
        f"COPY (SELECT {out_cols or '1 AS empty'} FROM __hfp_out ORDER BY _src) TO "
        f"{_lit(str(out_path))} (FORMAT csv, HEADER, DELIMITER ',')"
    )
    return renames


def _count_changes(con, result: FileResult, exprs: list[str], plans: list[_Plan]) -> None:
    """Values changed per kept column, counted on the written rows."""
    parts, where = [], []
    for i, (e, plan) in enumerate(zip(exprs, plans, strict=True)):
        rep = result.columns[i]
        if rep.output_column is None or plan.action == "kept":
            continue
        new = _ident(rep.output_column)
        if rep.action == "hashed":
            parts.append(f"count({new})")
        elif rep.action == "birth_year":
            parts.append(f"count({new})")
            parts.append(f"count(*) FILTER (WHERE {new} IS NULL AND trim(s.{e}) <> '')")
        else:
            parts.append(f"count(*) FILTER (WHERE {new} IS DISTINCT FROM s.{e})")
        where.append(i)
    if not parts:
        return
    row = iter(con.execute(
        f"SELECT {', '.join(parts)} FROM __hfp_out o JOIN __hf_stage s USING (_src)"
    ).fetchall()[0])
    for i in where:
        rep = result.columns[i]
        rep.values = int(next(row))
        if rep.action == "birth_year":
            rep.unreadable = int(next(row))


def _verify(con: duckdb.DuckDBPyConnection, written: list[ColumnReport], name: str) -> None:
    """Nothing the guard's strict rules find may be written (a last check against bugs)."""
    scans = guard.scan_columns(
        con, "__hfp_out", [(r.output_column, r.output_column, "ignored") for r in written]
    )
    left = guard.findings_of(scans)
    if left:
        raise PseudonymiseError(
            f"{name}: identifiers remain after pseudonymisation ("
            + "; ".join(f.describe() for f in left) + "); nothing was written for this file"
        )


# ---- folders -------------------------------------------------------------------------------------


def _safe_part(text: str) -> str:
    return re.sub(r"[^\w\-]+", "_", text, flags=re.UNICODE).strip("_") or "sheet"


def _check_folders(in_dir: Path, out_dir: Path) -> None:
    if not in_dir.is_dir():
        raise PseudonymiseError(f"input folder {in_dir} does not exist or is not a folder")
    if _inside(out_dir, in_dir) or _inside(in_dir, out_dir):
        raise PseudonymiseError("the output folder must be outside the input folder and vice versa")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise PseudonymiseError(f"output folder {out_dir} is not empty; choose a new folder")


def pseudonymise(
    in_dir: Path, out_dir: Path, key: bytes, opts: Options | None = None
) -> Report:
    """Pseudonymise every source in `in_dir` into `out_dir` (see the module docstring)."""
    in_dir, out_dir, opts = Path(in_dir), Path(out_dir), opts or Options()
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymiseError(f"the key is too short: at least {MIN_KEY_BYTES} bytes")
    _check_folders(in_dir, out_dir)
    found = sources.discover_sources(in_dir)
    report = Report(key_id=key_id(key))
    # Build in a hidden folder beside OUT and rename it at the end: OUT is complete or absent.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    work = stage / ".work"  # temporary copies of person-level data
    con = duckdb.connect()
    try:
        con.execute("SET temp_directory = ?", [str(work / "spill")])
        guard.register_macros(con)
        loaders.register_parse_macros(con)
        con.execute(_MACROS)
        for src in found:
            _process_source(con, src, in_dir, stage, key, opts, work, report)
        ref = in_dir / sources.REFERENCE_DIR
        if ref.is_dir():
            shutil.copytree(ref, stage / sources.REFERENCE_DIR)
            report.copied.append(sources.REFERENCE_DIR + "/")
        con.close()
        shutil.rmtree(work, ignore_errors=True)
        _write_report(report, stage / REPORT_FILE)
        if out_dir.exists():
            out_dir.rmdir()  # empty: checked above
        os.replace(stage, out_dir)
    except BaseException:
        con.close()
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return report


def _write_report(report: Report, path: Path) -> None:
    import json

    path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def _rel(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


@dataclass
class _Job:
    path: Path
    table: contract.Table | None  # None: a file no table name or mapping claims
    mapping: sources.TableMapping
    hints: dict
    namespace: str  # local ids are unique within this (the source id)
    out_folder: Path


def _jobs(src: sources.Source, in_dir: Path, out_dir: Path, report: Report) -> list[_Job]:
    """Files of a source, plus every data file in its folders that are not sources."""
    src_out = out_dir / _rel(src.root, in_dir) if src.root.resolve() != in_dir.resolve() \
        else out_dir
    jobs = [_Job(inp.path, contract.table(t), inp.mapping, inp.csv_hints, src.source_id, src_out)
            for t, inputs in src.inputs.items() for inp in inputs]
    for path in src.unrecognised_files:
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "~$"))
        )
        namespace = src.source_id if path.is_file() else path.name
        for f in files:
            if f.suffix.lower() in sources.SUPPORTED_SUFFIXES:
                jobs.append(_Job(f, None, sources.TableMapping(), {}, namespace,
                                 out_dir / _rel(f.parent, in_dir)))
            else:
                report.skipped.append(_rel(f, in_dir))
    return jobs


def _sheet_is_empty(path: Path, sheet: str) -> bool:
    _, cells = loaders._read_sheet(path, sheet, data_only=True)
    return not any(v not in (None, "") for row in cells for _, v in row)


def _process_source(
    con: duckdb.DuckDBPyConnection,
    src: sources.Source,
    in_dir: Path,
    out_dir: Path,
    key: bytes,
    opts: Options,
    work: Path,
    report: Report,
) -> None:
    # (file, sheet) -> output file and {input column: output column or None}, for source.yaml.
    outputs: dict[tuple[Path, str | None], tuple[str, dict[str, str | None]]] = {}
    done: set[Path] = set()
    for job in _jobs(src, in_dir, out_dir, report):
        path = job.path
        if path.resolve() in done:
            continue
        done.add(path.resolve())
        sheets: list[str | None] = [None]
        if path.suffix.lower() == ".xlsx":
            sheets = list(loaders.xlsx_sheet_names(path))
        for sheet in sheets:
            several = len(sheets) > 1
            name = f"{path.stem}__{_safe_part(str(sheet))}.csv" if several else path.stem + ".csv"
            out_path = job.out_folder / name
            table = job.table
            if several:
                guess = sources.table_aliases().get(sources.normalise_name(str(sheet)))
                table = contract.table(guess) if guess else job.table
            own = table is job.table
            m = sources.TableMapping(
                columns=dict(job.mapping.columns) if own else {},
                ignore_columns=[*job.mapping.ignore_columns, *_identifier_headers()],
                sheet=sheet,
                header_row=job.mapping.header_row if own else None,
            )
            inp = sources.TableInput(src.source_id, (table or contract.PARTICIPANTS).name, path, m,
                                     dict(job.hints))
            label = _rel(path, in_dir) + (f" [{sheet}]" if sheet else "")
            result = FileResult(input=_rel(path, in_dir), sheet=sheet,
                                output=_rel(out_path, out_dir))
            try:
                try:
                    fr, headers, rejects = loaders.stage_file(
                        con, inp, table or contract.PARTICIPANTS, work, label
                    )
                except sources.SourceError:
                    if several and _sheet_is_empty(path, str(sheet)):
                        report.skipped.append(f"{label} (empty sheet)")
                        continue
                    raise
                result.title_rows = (fr.header_row or 1) - 1
                result.rows_rejected = len(rejects)
                result.rejected_rows = [row for row, _, _ in rejects]
                renames = _process_staged(
                    con, headers, table, m, key, job.namespace, opts, result, out_path
                )
            finally:
                con.execute("DROP TABLE IF EXISTS __hf_stage; DROP TABLE IF EXISTS __hfp_out")
            outputs[(path.resolve(), sheet)] = (name, renames)
            report.files.append(result)
    if src.mapping_file is not None:
        src_out = out_dir / _rel(src.root, in_dir) if src.root.resolve() != in_dir.resolve() \
            else out_dir
        _rewrite_mapping(src, src_out / sources.MAPPING_FILE, outputs, report)


def _identifier_headers() -> list[str]:
    return [n for names in guard.IDENTIFIER_NAMES.values() for n in names]


def _rewrite_mapping(
    src: sources.Source,
    out_file: Path,
    outputs: dict[tuple[Path, str | None], tuple[str, dict[str, str | None]]],
    report: Report,
) -> None:
    """source.yaml for the new files: UTF-8 comma CSVs, header on row 1, new names."""
    spec = yaml.safe_load(src.mapping_file.read_text(encoding="utf-8")) or {}
    spec["csv"] = {"delimiter": ",", "encoding": "utf-8"}
    for tname, tspec in (spec.get("tables") or {}).items():
        files = [tspec["file"]] if isinstance(tspec.get("file"), str) else tspec.get("file", [])
        sheet = tspec.pop("sheet", None)
        tspec.pop("header_row", None)
        new_files = []
        for f in files:
            path = (src.root / f).resolve()
            choices = {s: out for (p, s), out in outputs.items() if p == path}
            if sheet not in choices and len(choices) > 1:
                # a workbook of several sheets and no `sheet:`: the loader picks one by name
                t = contract.table(tname)
                names = {sources.normalise_name(a) for a in (tname, *t.nb, *t.da)}
                sheet = next((s for s in choices if s is not None
                              and sources.normalise_name(s) in names), None)
            chosen = choices.get(sheet) or (next(iter(choices.values())) if choices else None)
            if chosen is None:
                new_files.append(f)
                continue
            new_name, renames = chosen
            new_files.append(new_name)
            change = {sources.normalise_name(k): v for k, v in renames.items()}
            cols = tspec.get("columns") or {}
            for ccol, fcol in list(cols.items()):
                key = sources.normalise_name(str(fcol))
                if key not in change:
                    continue
                if change[key] is None:
                    del cols[ccol]
                    report.notes.append(
                        f"{_rel(out_file.parent, out_file.parent.parent)}/source.yaml: "
                        f"tables.{tname}.columns.{ccol} pointed at a removed column"
                    )
                else:
                    cols[ccol] = change[key]
        tspec["file"] = new_files[0] if len(new_files) == 1 else new_files
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(
        f"# Rewritten by `hfeval pseudonymise` from {src.mapping_file.name}: the files are now\n"
        "# UTF-8 comma-separated CSV with the header on the first row.\n"
        + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
