"""Load municipal exports (CSV/TXT, XLSX, Parquet) into DuckDB `raw_<table>` tables.

Every contract column lands as trimmed VARCHAR with provenance (`_source_id`, `_source_file`,
`_source_row`); code columns are mapped onto the contract's codes. Nothing is dropped silently:
unparseable CSV lines go to `raw_<table>__rejects`, columns that match nothing are reported by
name, and code values that match no code are counted. Typing happens later, in a view
(`create_typed_view`) built on the SQL parse macros registered here, so that the validation step
can see both the raw text and the parsed value. One exception, for speed at national scale: a
typed column that every input holds as a Parquet column of a matching type (dates as DATE,
numbers as numbers) is loaded in that type, and the view converts it as parsing its text would.

Python only decides how to read a file and transcodes text that is not UTF-8; DuckDB parses it.
Reports, logs and errors carry file names, column names and counts, never values.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import tempfile
import warnings
import weakref
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from hfeval import contract, guard
from hfeval import logging as hflog
from hfeval.sources import SourceError, TableInput, TableMapping, column_aliases, normalise_name

log = logging.getLogger(__name__)

CHUNK = 16 * 1024 * 1024
HEADER_SEARCH_ROWS = 20
CANDIDATE_DELIMITERS = (";", "\t", "|", ",")  # tie-break order: ';' is the Nordic default
QUOTE = '"'
# Characters trimmed from every value: whitespace, (narrow) no-break space, stray BOM.
TRIM_CHARS = " \t\r\n\u00a0\u202f\ufeff"
PROVENANCE = (
    ("_row_id", "BIGINT"),
    ("_source_id", "VARCHAR"),
    ("_source_file", "VARCHAR"),
    ("_source_row", "BIGINT"),
    ("_extraction_date", "DATE"),
)
# Provenance that is the same for every row of a file is kept once per file, in RAW_FILES, and
# added by the view raw_<table> over the rows in raw_<table>__rows (`_file` numbers the table's
# files 1, 2, ... in load order). Written into every row, it cost a third of writing the rows.
RAW_FILES = "raw_files"
RAW_FILES_COLUMNS = (
    ("table_name", "VARCHAR"),
    ("_file", "INTEGER"),
    ("_source_id", "VARCHAR"),
    ("_source_file", "VARCHAR"),
    ("_extraction_date", "DATE"),
)
REJECT_REASONS = {
    "TOO MANY COLUMNS": "too_many_fields",
    "MISSING COLUMNS": "too_few_fields",
    "UNQUOTED VALUE": "unterminated_or_stray_quote",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
    "INVALID ENCODING": "invalid_encoding",
}


# ---- reports -------------------------------------------------------------------------------------


@dataclass
class FileReport:
    path: str  # relative to the data root, posix
    source_id: str
    sha256: str
    bytes: int
    format: str  # csv | xlsx | parquet
    encoding: str | None = None  # utf-8 | utf-8-sig | utf-16 | cp1252 | mixed | a hinted codec
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    rows_read: int = 0  # loaded + rejected
    rows_rejected: int = 0
    rows_blank: int = 0  # records with every field empty: not loaded, not counted as read
    column_map: dict[str, str] = field(default_factory=dict)  # contract column -> file column
    unknown_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    missing_required_columns: list[str] = field(default_factory=list)
    missing_optional_columns: list[str] = field(default_factory=list)
    # contract column -> file column the mapping names but the file lacks
    mapped_columns_not_found: dict[str, str] = field(default_factory=dict)
    unmapped_codes: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class RawLoadReport:
    table: str
    rows_read: int = 0
    rows_rejected: int = 0
    rows_blank: int = 0
    files: list[FileReport] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# ---- small helpers -------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _lit(value: str | None) -> str:
    """SQL string literal."""
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _clean_header(name: object) -> str:
    return str(name or "").replace("\ufeff", "").strip().strip("\"'").strip()


def _clean_value_sql(expr: str) -> str:
    # trim() with a character list is slow; most values need no trimming, so test the ends
    # first (x[1] and x[-1] are the first and last character, several times faster than left()
    # and right()).
    chars = _lit(TRIM_CHARS)
    return (
        f"NULLIF(CASE WHEN contains({chars}, {expr}[1]) OR contains({chars}, {expr}[-1]) "
        f"THEN trim({expr}, {chars}) ELSE {expr} END, '')"
    )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()


# ---- header recognition and column mapping -------------------------------------------------------


def _known_names(table: contract.Table, mapping: TableMapping) -> set[str]:
    names = set(column_aliases(table.name))
    names.update(normalise_name(v) for v in mapping.columns.values())
    names.update(normalise_name(v) for v in mapping.ignore_columns)
    return names


def _header_matches(cells: list[str], known: set[str]) -> int:
    """Number of cells naming a known column, or 0 unless at least half the non-empty cells do."""
    names = [normalise_name(c) for c in cells if _clean_header(c)]
    hits = sum(n in known for n in names)
    return hits if hits and 2 * hits >= len(names) else 0


@dataclass
class _ColumnPlan:
    sources: dict[str, int]  # contract column -> index of the file column
    unknown: list[int]
    ignored: list[str]
    absent: dict[str, str] = field(default_factory=dict)


def _plan_columns(
    table: contract.Table, headers: list[str], mapping: TableMapping, label: str
) -> _ColumnPlan:
    cleaned = [_clean_header(h) for h in headers]
    normed = [normalise_name(h) for h in cleaned]
    sources: dict[str, int] = {}
    claimed: set[int] = set()
    absent: dict[str, str] = {}
    for col, wanted in mapping.columns.items():
        hits = [i for i, h in enumerate(cleaned) if h == wanted] or [
            i for i, n in enumerate(normed) if n == normalise_name(wanted)
        ]
        if not hits:
            # The column is missing from this file: reported, and a table-level validation
            # failure if it is required, like any missing column (not a mapping error).
            absent[col] = wanted
            continue
        if len(hits) > 1:
            raise SourceError(f"{label}: column {wanted!r} occurs {len(hits)} times in the header")
        sources[col] = hits[0]
        claimed.add(hits[0])

    ignore = {normalise_name(c) for c in mapping.ignore_columns}
    ignored = [cleaned[i] for i in range(len(cleaned)) if i not in claimed and normed[i] in ignore]
    claimed.update(i for i in range(len(cleaned)) if normed[i] in ignore)

    aliases = column_aliases(table.name)
    implicit: dict[str, int] = {}
    unknown: list[int] = []
    for i, n in enumerate(normed):
        if i in claimed:
            continue
        col = aliases.get(n)
        if col is None or col in sources:  # an explicit `columns:` entry wins over an alias
            unknown.append(i)
        elif col in implicit:
            raise SourceError(
                f"{label}: columns {cleaned[implicit[col]]!r} and {cleaned[i]!r} both match "
                f"contract column {col}; map one in source.yaml `columns:` or ignore the other"
            )
        else:
            implicit[col] = i
    sources.update(implicit)

    clash = set(sources) & set(mapping.constants)
    if clash:
        raise SourceError(
            f"{label}: {', '.join(sorted(clash))} given as a constant but also present in the file"
        )
    return _ColumnPlan(sources, unknown, ignored, absent)


# ---- CSV: encoding, line endings, header ---------------------------------------------------------


@dataclass
class _Scan:
    sha256: str
    size: int
    utf8: bool
    bom: str | None  # "utf-8-sig" | "utf-16"
    mixed_eol: bool
    internal_blank: bool
    bad_line: int | None  # first line that is not UTF-8


_BLANK_LINE = re.compile(rb"\n[ \t]*\r?\n")
_NON_WS = re.compile(rb"\S")


def _scan(path: Path) -> _Scan:
    """One pass over the bytes: hash, strict UTF-8 check, line-ending mix, blank lines."""
    h = hashlib.sha256()
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    utf8, bad_line, size, lines = True, None, 0, 0
    crlf = lf = 0
    blank_pending = internal_blank = False
    head = b""
    rest = b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            h.update(chunk)
            size += len(chunk)
            if not head:
                head = chunk[:4]
            if utf8:
                try:
                    dec.decode(chunk, final=not chunk)
                except UnicodeDecodeError as e:
                    utf8 = False
                    bad_line = lines + (rest + chunk)[: len(rest) + e.start].count(b"\n") + 1
            data = rest + chunk
            cut = data.rfind(b"\n") + 1 if chunk else len(data)
            block, rest = data[:cut], data[cut:]
            lines += block.count(b"\n")
            crlf += block.count(b"\r\n")
            lf += block.count(b"\n")
            if not internal_blank and block:
                if blank_pending and _NON_WS.search(block):
                    internal_blank = True
                m = _BLANK_LINE.search(b"\n" + block)
                if m:
                    if _NON_WS.search(b"\n" + block, m.end()):
                        internal_blank = True
                    else:
                        blank_pending = True
            if not chunk:
                break
    bom = None
    if head.startswith(codecs.BOM_UTF8):
        bom = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        bom, utf8 = "utf-16", False
    return _Scan(h.hexdigest(), size, utf8, bom, 0 < crlf < lf, internal_blank, bad_line)


def _wide_codec(codec: str | None) -> bool:
    return codec is not None and codec.startswith(("utf-16", "utf-32"))


class _LineDecoder:
    """Decode byte lines; codec None = UTF-8, falling back to Windows-1252 per line."""

    def __init__(self, codec: str | None, label: str):
        self.codec, self.label = codec, label
        self.utf8_lines = self.cp1252_lines = 0

    def decode(self, raw: bytes, lineno: int) -> str:
        if self.codec is not None:
            try:
                return raw.decode(self.codec)
            except UnicodeDecodeError:
                raise SourceError(
                    f"{self.label}: line {lineno} is not valid {self.codec} (csv.encoding)"
                ) from None
        if raw.isascii():
            return raw.decode("ascii")
        try:
            text = raw.decode("utf-8")
            self.utf8_lines += 1
            return text
        except UnicodeDecodeError:
            self.cp1252_lines += 1
            try:
                return raw.decode("cp1252")
            except UnicodeDecodeError:  # 5 bytes cp1252 leaves undefined
                return raw.decode("latin-1")

    @property
    def encoding(self) -> str:
        if self.codec is not None:
            return self.codec
        return "mixed" if self.utf8_lines and self.cp1252_lines else "cp1252"


def _iter_lines(path: Path, decoder: _LineDecoder) -> Iterator[tuple[str, str]]:
    """(text, line ending) per physical line, BOM removed."""
    if _wide_codec(decoder.codec):
        with open(path, encoding=decoder.codec, newline="") as f:
            for i, line in enumerate(f):
                body = line.rstrip("\r\n")
                yield (body.lstrip("\ufeff") if i == 0 else body), line[len(body) :]
        return
    with open(path, "rb") as f:
        for i, raw in enumerate(f):
            body = raw.rstrip(b"\r\n")
            text = decoder.decode(body, i + 1)
            yield (text.lstrip("\ufeff") if i == 0 else text), raw[len(body) :].decode("ascii")


def _count_outside_quotes(line: str, ch: str) -> int:
    n, inside = 0, False
    for c in line:
        if c == QUOTE:
            inside = not inside
        elif c == ch and not inside:
            n += 1
    return n


def _split(line: str, delim: str) -> list[str]:
    return next(csv.reader([line], delimiter=delim, quotechar=QUOTE), [])


def _find_csv_header(
    head: list[str], known: set[str], hint_delim: str | None, header_row: int | None
) -> tuple[int, str]:
    """1-based header row and delimiter."""
    if header_row is None:
        for i, line in enumerate(head[:HEADER_SEARCH_ROWS]):
            delims = (
                [hint_delim]
                if hint_delim
                else [d for d in CANDIDATE_DELIMITERS if _count_outside_quotes(line, d)] or [","]
            )
            scored = [(_header_matches(_split(line, d), known), d) for d in delims]
            best = max(scored, key=lambda s: s[0])
            if best[0]:
                return i + 1, best[1]
        header_row = 1
    if hint_delim:
        return header_row, hint_delim
    line = head[header_row - 1] if header_row <= len(head) else ""
    counts = [(_count_outside_quotes(line, d), d) for d in CANDIDATE_DELIMITERS]
    best_count = max(c for c, _ in counts)
    delim = next(d for c, d in counts if c == best_count) if best_count else ","
    return header_row, delim


def _rewrite_utf8(
    path: Path, decoder: _LineDecoder, out_path: Path, header_row: int, delim: str, ncols: int
) -> None:
    """Write UTF-8 with '\\n' line ends. Blank lines between data rows become a row of empty
    fields, so DuckDB keeps counting them and `_source_row` stays what an editor shows."""
    filler = delim * (ncols - 1)
    inside = False
    pending = 0  # blank lines not yet known to be followed by data
    with open(out_path, "w", encoding="utf-8", newline="") as out:
        for i, (text, eol) in enumerate(_iter_lines(path, decoder), start=1):
            if not inside and i > header_row and not text.strip():
                pending += 1
                continue
            if pending:
                out.write((filler + "\n") * pending)
                pending = 0
            out.write(text)
            inside ^= text.count(QUOTE) % 2 == 1
            out.write(eol if inside else ("\n" if eol else ""))


# ---- staging per format --------------------------------------------------------------------------
# Each stager creates temp table __hf_stage (_src BIGINT, c0 .. cN VARCHAR) and returns headers.


@dataclass
class _Staged:
    headers: list[str]
    rejects: int = 0
    # Columns whose staged text is already clean (Parquet numbers, dates, booleans rendered as
    # text never start or end with whitespace and are never empty): trimming them is a no-op.
    plain: frozenset[int] = frozenset()
    # Columns holding dates, times or booleans as text: no identifier can hide in them.
    no_values: frozenset[int] = frozenset()


@dataclass
class _Reject:
    line: int  # DuckDB's record number in the file it read (header and title lines included)
    kind: str
    raw: str
    line_byte: int
    swallows: bool  # an unterminated quote that ran on over the following lines


def _choose_codec(scan: _Scan, hints: dict, label: str) -> str | None:
    """Codec to decode with; None = UTF-8 with a per-line Windows-1252 fallback."""
    hint = hints.get("encoding")
    if hint in ("utf-8", "utf-8-sig"):
        if not scan.utf8:
            raise SourceError(f"{label}: line {scan.bad_line} is not valid UTF-8 (csv.encoding)")
        return "utf-8"
    if hint:
        return hint
    if scan.bom == "utf-16":
        return "utf-16"
    return "utf-8" if scan.utf8 else None


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    inp: TableInput,
    table: contract.Table,
    report: FileReport,
    work_dir: Path,
    label: str,
) -> tuple[_Staged, list[tuple[int, str, str]]]:
    """Stage a CSV/TXT file; returns the staged headers and the rejected (row, reason, line)."""
    scan = _scan(inp.path)
    report.sha256, report.bytes = scan.sha256, scan.size
    codec = _choose_codec(scan, inp.csv_hints, label)
    decoder = _LineDecoder(codec, label)

    head: list[str] = []
    for text, _ in _iter_lines(inp.path, decoder):
        head.append(text)
        if len(head) >= max(HEADER_SEARCH_ROWS, inp.mapping.header_row or 0):
            break
    header_row, delim = _find_csv_header(
        head,
        _known_names(table, inp.mapping),
        inp.csv_hints.get("delimiter"),
        inp.mapping.header_row,
    )
    headers = _split(head[header_row - 1], delim) if header_row <= len(head) else []
    if not headers:
        raise SourceError(f"{label}: no header line found (row {header_row})")
    report.delimiter, report.header_row = delim, header_row

    utf8_name = "utf-8-sig" if scan.bom == "utf-8-sig" else "utf-8"
    if codec == "utf-8" and not scan.mixed_eol and not scan.internal_blank:
        report.encoding = utf8_name
        return _Staged(headers), _read_csv_segments(
            con, inp.path, delim, header_row, len(headers), work_dir, label
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    tmp = _temp_file(work_dir)
    try:
        _rewrite_utf8(inp.path, decoder, tmp, header_row, delim, len(headers))
        report.encoding = utf8_name if codec == "utf-8" else decoder.encoding
        rejects = _read_csv_segments(con, tmp, delim, header_row, len(headers), work_dir, label)
    finally:
        tmp.unlink(missing_ok=True)  # holds person-level data
    return _Staged(headers), rejects


def _temp_file(work_dir: Path) -> Path:
    fd, name = tempfile.mkstemp(suffix=".csv", prefix="hf-", dir=work_dir)
    os.close(fd)
    return Path(name)


def _read_csv_once(
    con: duckdb.DuckDBPyConnection, path: Path, delim: str, skip: int, ncols: int, label: str
) -> list[_Reject]:
    """Parse one UTF-8 file into temp table __hf_read (in file order); return its rejects."""
    cols = ", ".join(f"{_lit(f'c{i}')}: 'VARCHAR'" for i in range(ncols))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE __hf_read AS SELECT * FROM read_csv("
            f"{_lit(str(path))}, delim={_lit(delim)}, quote={_lit(QUOTE)}, escape={_lit(QUOTE)}, "
            f"header=true, skip={skip}, auto_detect=false, columns={{{cols}}}, "
            "store_rejects=true, rejects_table='__hf_rej', rejects_scan='__hf_rejscan', "
            "strict_mode=true, null_padding=false, encoding='utf-8')"
        )
    except duckdb.Error as e:
        # DuckDB's message may quote the offending line: keep only the kind of error.
        raise SourceError(
            f"{label}: the CSV parser stopped ({type(e).__name__}); check delimiter, quotes "
            "and line endings"
        ) from None
    found = con.execute(
        "SELECT line, min(error_type::VARCHAR), any_value(csv_line), min(line_byte_position), "
        "bool_or(error_type = 'UNQUOTED VALUE' AND contains(rtrim(csv_line, chr(13) || chr(10)), "
        "chr(10))) FROM __hf_rej GROUP BY line ORDER BY line"
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS __hf_rej; DROP TABLE IF EXISTS __hf_rejscan")
    return [
        _Reject(
            int(line),
            REJECT_REASONS.get(kind, kind.lower().replace(" ", "_")),
            (raw or "").strip("\r\n"),
            int(pos or 0),
            bool(swallows),
        )
        for line, kind, raw, pos, swallows in found
    ]


def _read_csv_segments(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    delim: str,
    header_row: int,
    ncols: int,
    work_dir: Path,
    label: str,
) -> list[tuple[int, str, str]]:
    """Fill __hf_stage (_src, c0..) from a UTF-8 CSV; return rejects as (row, reason, line).

    DuckDB numbers records (a quoted line break stays in one record) from the top of the file,
    as a spreadsheet does, but returns accepted records without their number: rebuild it from
    the rejects around them. An unterminated quote makes DuckDB swallow every following line
    into one reject; then only its first line is rejected and reading resumes after it.
    """
    cvals = ", ".join(f"c{i}" for i in range(ncols))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __hf_stage (_src BIGINT"
        + "".join(f", c{i} VARCHAR" for i in range(ncols))
        + ")"
    )
    out: list[tuple[int, str, str]] = []
    segment, skip, base, first = path, header_row - 1, 0, header_row + 1
    try:
        while True:
            rejects = _read_csv_once(con, segment, delim, skip, ncols, label)
            stop = next((r for r in rejects if r.swallows), None)
            kept = [r for r in rejects if stop is None or r.line < stop.line]
            _append_numbered(con, kept, first, base, stop.line if stop else None, cvals)
            out += [(base + r.line, r.kind, r.raw) for r in kept]
            if stop is None:
                return out
            first_line = stop.raw.split("\n", 1)[0]
            out.append((base + stop.line, stop.kind, first_line.rstrip("\r")))
            rest = _write_rest(segment, stop.line_byte, first_line, delim, ncols, work_dir)
            if rest is None:
                raise SourceError(
                    f"{label}: row {base + stop.line} opens a quote that is never closed, and "
                    "the rows after it could not be re-read; fix the quote and load again"
                )
            if segment != path:
                segment.unlink(missing_ok=True)
            segment, skip, base, first = rest, 0, base + stop.line - 1, 2
    finally:
        if segment != path:
            segment.unlink(missing_ok=True)
        con.execute("DROP TABLE IF EXISTS __hf_read; DROP TABLE IF EXISTS __hf_thr")


def _append_numbered(
    con: duckdb.DuckDBPyConnection,
    rejects: list[_Reject],
    first: int,
    base: int,
    stop: int | None,
    cvals: str,
) -> None:
    """Append __hf_read to __hf_stage with each record's row number (before `stop`, if given)."""
    thresholds: dict[int, int] = {}
    for m, r in enumerate(rejects):
        thresholds[r.line - first - m] = m + 1  # accepted ordinals >= t follow m+1 rejects
    con.execute("CREATE OR REPLACE TEMP TABLE __hf_thr (t BIGINT, k BIGINT)")
    if thresholds:
        con.executemany("INSERT INTO __hf_thr VALUES (?, ?)", list(thresholds.items()))
    src = f"{first} + r._ord + coalesce(thr.k, 0)"
    con.execute(
        f"INSERT INTO __hf_stage SELECT {base} + {src}, {cvals} "
        "FROM (SELECT rowid AS _ord, * FROM __hf_read) r "
        "ASOF LEFT JOIN __hf_thr thr ON r._ord >= thr.t"
        + (f" WHERE {src} < {stop}" if stop is not None else "")
    )


def _write_rest(
    path: Path, line_byte: int, first_line: str, delim: str, ncols: int, work_dir: Path
) -> Path | None:
    """Copy of `path` from the line after `first_line`, under a stand-in header; None if that
    line is not where DuckDB says it starts (`line_byte` is one past the start after '\n')."""
    needle = first_line.encode("utf-8")
    with open(path, "rb") as f:
        lo = max(0, line_byte - 2)
        f.seek(lo)
        window = f.read(len(needle) + 4)
        start = next(
            (
                c
                for c in (line_byte - 1, line_byte)
                if c >= 0
                and window[c - lo : c - lo + len(needle) + 1] == needle + b"\n"
                and (c == 0 or window[c - lo - 1 : c - lo] == b"\n")
            ),
            None,
        )
        if start is None:
            return None
        f.seek(start + len(needle) + 1)
        work_dir.mkdir(parents=True, exist_ok=True)
        rest = _temp_file(work_dir)
        with open(rest, "wb") as out:
            eol = "\r\n" if needle.endswith(b"\r") else "\n"  # keep the file's line ends
            out.write((delim.join(f"c{i}" for i in range(ncols)) + eol).encode())
            shutil.copyfileobj(f, out, CHUNK)
    return rest


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _choose_sheet(sheetnames: list[str], table: contract.Table, wanted: str | None, label: str):
    if wanted is not None:
        if wanted in sheetnames:
            return wanted
        raise SourceError(f"{label}: sheet {wanted!r} not found; sheets: {', '.join(sheetnames)}")
    names = {normalise_name(a) for a in (table.name, *table.nb, *table.da)}
    matching = [s for s in sheetnames if normalise_name(s) in names]
    if len(matching) == 1:
        return matching[0]
    if len(sheetnames) == 1:
        return sheetnames[0]
    raise SourceError(
        f"{label}: {len(sheetnames)} sheets ({', '.join(sheetnames)}) and no way to choose; "
        "set `sheet:` in source.yaml"
    )


def _read_sheet(path: Path, sheet: str | None, data_only: bool):
    import openpyxl  # imported lazily: only exports in Excel need it
    from openpyxl.utils.exceptions import InvalidFileException

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unsupported extensions, styles
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
        except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as e:
            raise SourceError(f"{path.name}: not a readable .xlsx workbook ({type(e).__name__})")
    try:
        if sheet is None:
            return wb.sheetnames, None
        ws = wb[sheet]
        return wb.sheetnames, [
            [(c.data_type, c.value) for c in row] for row in ws.iter_rows(min_row=1)
        ]
    finally:
        wb.close()


def _stage_xlsx(
    con: duckdb.DuckDBPyConnection,
    inp: TableInput,
    table: contract.Table,
    report: FileReport,
    label: str,
) -> _Staged:
    report.sha256, report.bytes = sha256_file(inp.path), inp.path.stat().st_size
    sheetnames, _ = _read_sheet(inp.path, None, data_only=False)
    sheet = _choose_sheet(sheetnames, table, inp.mapping.sheet, label)
    _, cells = _read_sheet(inp.path, sheet, data_only=False)
    formulas = [(r, c) for r, row in enumerate(cells) for c, (t, _) in enumerate(row) if t == "f"]
    if formulas:  # take cached results where Excel saved them; never evaluate
        _, cached = _read_sheet(inp.path, sheet, data_only=True)
        for r, c in formulas:
            value = cached[r][c][1] if r < len(cached) and c < len(cached[r]) else None
            if value is not None:
                cells[r][c] = ("n", value)
    rows = [[_cell_text(v) for _, v in row] for row in cells]
    while rows and not any(v is not None and v.strip() for v in rows[-1]):
        rows.pop()

    header_row = inp.mapping.header_row
    if header_row is None:
        known = _known_names(table, inp.mapping)
        header_row = next(
            (
                i + 1
                for i, row in enumerate(rows[:HEADER_SEARCH_ROWS])
                if _header_matches([v or "" for v in row], known)
            ),
            next((i + 1 for i, row in enumerate(rows) if any(row)), 1),
        )
    width = max((len(r) for r in rows), default=0)
    headers = [v or "" for v in rows[header_row - 1]] if header_row <= len(rows) else []
    headers += [""] * (width - len(headers))
    if not any(h.strip() for h in headers):
        raise SourceError(f"{label}: no header row found (row {header_row})")
    report.sheet, report.header_row = sheet, header_row

    data = rows[header_row:]
    arrays = {"_src": pa.array(range(header_row + 1, header_row + 1 + len(data)), pa.int64())}
    for i in range(width):
        arrays[f"c{i}"] = pa.array([r[i] if i < len(r) else None for r in data], pa.string())
    con.register("__hf_arrow", pa.table(arrays))
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE __hf_stage AS SELECT * FROM __hf_arrow")
    finally:
        con.unregister("__hf_arrow")
    return _Staged(headers)


def native_text_sql(expr: str, dtype: str) -> str:
    """SQL rendering a value of DuckDB type `dtype` as the text a person would read: whole
    numbers without '.0', midnight timestamps as dates. What the loader stages a Parquet column
    as, and how the validation shows a natively read value in quarantine."""
    if dtype.startswith(("DOUBLE", "FLOAT", "DECIMAL", "REAL")):
        return (
            f"CASE WHEN {expr} = trunc({expr}) AND abs({expr}) < 1e15 "
            f"THEN CAST(CAST({expr} AS BIGINT) AS VARCHAR) ELSE CAST({expr} AS VARCHAR) END"
        )
    if dtype.startswith("TIMESTAMP"):
        return (
            f"CASE WHEN CAST({expr} AS TIME) = TIME '00:00:00' THEN CAST(CAST({expr} AS DATE) "
            f"AS VARCHAR) ELSE strftime({expr}, '%Y-%m-%dT%H:%M:%S') END"
        )
    return f"CAST({expr} AS VARCHAR)"


_PLAIN_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "DATE", "TIMESTAMP", "TIME",
    "BOOLEAN",
)

# Parquet column types read natively (no detour through text) into a contract column of each
# type, and the SQL turning such a value into the contract type. Each gives exactly what parsing
# the staged text would give, NULL included (a type failure in validation): whole numbers that
# fit for INTEGER, finite numbers for DOUBLE (text parsing also refused 'nan' and 'inf').
# FLOAT stays on the text path for DOUBLE: its shortest text is not the double it widens to.
_WIDE_INTS = ("BIGINT", "HUGEINT", "UINTEGER", "UBIGINT", "UHUGEINT")
_SMALL_INTS = ("TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT")
_TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")


def _native_to_contract(expr: str, native: str, dtype: str) -> str | None:
    """SQL for a value of Parquet type `native` as contract type `dtype`; None: read as text."""
    decimal = native.startswith("DECIMAL")
    if dtype == "DATE":
        return {"DATE": expr, **{t: f"CAST({expr} AS DATE)" for t in _TIMESTAMPS}}.get(native)
    if dtype == "BOOLEAN":
        return expr if native == "BOOLEAN" else None
    if dtype == "INTEGER":
        if native == "INTEGER":
            return expr
        if native in _SMALL_INTS:
            return f"CAST({expr} AS INTEGER)"
        if native in (*_WIDE_INTS, "DOUBLE", "FLOAT") or decimal:
            return f"hf__integral(CAST({expr} AS DOUBLE))"
        return None
    if dtype == "DOUBLE":
        if native == "DOUBLE":
            return f"CASE WHEN isfinite({expr}) THEN {expr} END"
        if native in (*_SMALL_INTS, *_WIDE_INTS) or decimal:
            return f"CAST({expr} AS DOUBLE)"
    return None


def _parquet_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of a Parquet file, from its footer."""
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({_lit(str(path))})"
        ).fetchall()
    except duckdb.Error as e:
        raise SourceError(f"{path.name}: not a readable Parquet file ({type(e).__name__})")
    return [(n, t) for n, t, *_ in described]


def _stage_parquet(
    con: duckdb.DuckDBPyConnection, inp: TableInput, report: FileReport, *, view: bool = False
) -> _Staged:
    """Stage a Parquet file as text (c0..cN); a view (`view=True`) also offers each column
    natively as n0..nN. A view reads the file where it is used (guard, insert), which costs less
    than a text copy of a national-scale file held in memory; what is not used is not read."""
    report.sha256, report.bytes = sha256_file(inp.path), inp.path.stat().st_size
    described = _parquet_columns(con, inp.path)
    src = f"read_parquet({_lit(str(inp.path))}, file_row_number=true)"
    exprs = [f"{native_text_sql(_ident(n), t)} AS c{i}" for i, (n, t) in enumerate(described)]
    if view:
        exprs += [f"{_ident(n)} AS n{i}" for i, (n, _) in enumerate(described)]
    kind = "VIEW" if view else "TABLE"
    con.execute(
        f"CREATE OR REPLACE TEMP {kind} __hf_stage AS "
        f"SELECT file_row_number + 1 AS _src{''.join(', ' + e for e in exprs)} FROM {src}"
    )
    plain = frozenset(i for i, (_, t) in enumerate(described) if t.startswith(_PLAIN_TYPES))
    no_values = frozenset(i for i, (_, t) in enumerate(described)
                          if t.startswith(("DATE", "TIMESTAMP", "TIME", "BOOLEAN")))
    return _Staged([n for n, _ in described], plain=plain, no_values=no_values)


def _drop_stage(con: duckdb.DuckDBPyConnection) -> None:
    kinds = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = '__hf_stage'"
    ).fetchall()
    for (kind,) in kinds:
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS __hf_stage")


# ---- from stage to raw table ---------------------------------------------------------------------


def _code_sql(value: str, column: contract.Column, mapping: dict[str, str]) -> str:
    """Mapping first (exact, then case-insensitive), then the contract's codes ignoring case."""
    lower: dict[str, str] = {}
    for k, v in mapping.items():
        lower.setdefault(k.lower(), v)
    for code in column.codes or ():
        lower.setdefault(code.lower(), code)
    ci = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in lower.items())
    out = f"CASE lower({value}) {ci} ELSE {value} END"
    if mapping:
        exact = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in mapping.items())
        out = f"CASE {value} {exact} ELSE {out} END"
    # Most values already are a contract code that maps to itself: skip lower() and the CASEs.
    same = [c for c in column.codes or () if mapping.get(c, lower.get(c.lower(), c)) == c]
    if same:
        out = f"CASE WHEN {value} IN ({', '.join(_lit(c) for c in same)}) THEN {value} ELSE {out} END"
    return out


def _insert_staged(
    con: duckdb.DuckDBPyConnection,
    table: contract.Table,
    inp: TableInput,
    staged: _Staged,
    report: FileReport,
    rows_name: str,
    file_no: int,
    row_offset: int,
    label: str,
    native: dict[str, str] | None = None,
) -> int:
    """Insert the staged file into the raw rows table as file `file_no`; returns the number of
    rows loaded. Columns in `native` (contract column -> Parquet type) are taken from the
    stage's n<i> as they are."""
    native = native or {}
    plan = _plan_columns(table, staged.headers, inp.mapping, label)
    native_idx = {plan.sources[c] for c in native if c in plan.sources}
    ncols = len(staged.headers)
    if table.kind == "input":  # person-level: refuse identifiers before loading a row
        guard.check_staged(
            con, "__hf_stage", table, staged.headers, plan.sources, plan.ignored, label,
            staged.no_values,
        )

    # Columns without a header name are only worth reporting when they hold something.
    # A header row naming no known column is probably a data row (the file lacks its header):
    # its "names" may be person-level values, so such columns are reported by position.
    header_is_data = not plan.sources and not plan.ignored
    unknown = []
    for i in plan.unknown:
        name = _clean_header(staged.headers[i])
        if name and header_is_data:
            unknown.append(f"(column {i + 1})")
        elif name:
            unknown.append(name)
        elif con.execute(f"SELECT count({_clean_value_sql(f'c{i}')}) FROM __hf_stage").fetchall()[0][0]:
            unknown.append(f"(unnamed column {i + 1})")
    report.unknown_columns = unknown
    report.ignored_columns = plan.ignored
    report.mapped_columns_not_found = plan.absent
    report.column_map = {c: _clean_header(staged.headers[i]) for c, i in plan.sources.items()}

    exprs = []
    for col in table.columns:
        if col.name in plan.sources:
            value = f"v{plan.sources[col.name]}"
        elif col.name in inp.mapping.constants:
            value = _lit(inp.mapping.constants[col.name])
        elif col.name in inp.mapping.defaults:
            value = _lit(inp.mapping.defaults[col.name])
        else:
            value = "NULL"
            target = (
                report.missing_required_columns if col.required else report.missing_optional_columns
            )
            target.append(col.name)
        if col.codes is not None and value != "NULL":
            value = _code_sql(value, col, inp.mapping.codes.get(col.name, {}))
        exprs.append(f"CAST({value} AS {native.get(col.name, 'VARCHAR')}) AS {_ident(col.name)}")

    cleaned = ", ".join(["_src", *(
        f"n{i} AS v{i}" if i in native_idx
        else f"c{i} AS v{i}" if i in staged.plain
        else f"{_clean_value_sql(f'c{i}')} AS v{i}"
        for i in range(ncols)
    )])
    blank = " AND ".join(f"v{i} IS NULL" for i in range(ncols)) or "true"
    total, first_src, last_src = con.execute(
        "SELECT count(*), min(_src), max(_src) FROM __hf_stage"
    ).fetchall()[0]

    def insert(row_id: str) -> int:
        con.execute(
            f"INSERT INTO {_ident(rows_name)} "
            f"SELECT {row_id}, {file_no}, _src, {', '.join(exprs)} "
            f"FROM (SELECT {cleaned} FROM __hf_stage) WHERE NOT ({blank})"
        )
        return con.execute(
            f"SELECT count(*) FROM {_ident(rows_name)} WHERE _row_id > {row_offset}"
        ).fetchall()[0][0]

    # Row ids number the loaded rows 1, 2, ... in file order. When the staged rows are numbered
    # without gaps (Parquet, Excel, CSV without rejects) and none is blank, that is _src shifted:
    # no sort needed. Otherwise (or if a blank row turns up) number them by sorting.
    loaded = -1
    if total and last_src - first_src + 1 == total:
        loaded = insert(f"{row_offset - first_src + 1} + _src")
        if loaded != total:
            con.execute(f"DELETE FROM {_ident(rows_name)} WHERE _row_id > {row_offset}")
            loaded = -1
    if loaded < 0:
        loaded = insert(f"{row_offset} + row_number() OVER (ORDER BY _src)")
    report.rows_blank = total - loaded
    report.rows_rejected = staged.rejects
    report.rows_read = loaded + staged.rejects
    report.unmapped_codes = _count_unmapped(con, table, rows_name, row_offset, plan, inp.mapping)
    return loaded


def _count_unmapped(con, table, raw_name, row_offset, plan, mapping) -> dict[str, dict[str, int]]:
    cols = [
        c
        for c in table.columns
        if c.codes is not None
        and (c.name in plan.sources or c.name in mapping.constants or c.name in mapping.defaults)
    ]
    if not cols:
        return {}

    def outside(c: contract.Column) -> str:
        return f"{_ident(c.name)} NOT IN ({', '.join(_lit(x) for x in c.codes)})"

    rows_of = f"FROM {_ident(raw_name)} WHERE _row_id > {row_offset}"
    # Rows first, in one parallel pass; distinct values (a slower aggregate) only where needed.
    counts = con.execute(
        f"SELECT {', '.join(f'count(*) FILTER (WHERE {outside(c)})' for c in cols)} {rows_of}"
    ).fetchall()[0]
    found = [(c, int(n)) for c, n in zip(cols, counts, strict=True) if n]
    if not found:
        return {}
    aggs = [f"count(DISTINCT {_ident(c.name)}) FILTER (WHERE {outside(c)})" for c, _ in found]
    distinct = con.execute(f"SELECT {', '.join(aggs)} {rows_of}").fetchall()[0]
    return {c.name: {"distinct": int(d), "rows": n}
            for (c, n), d in zip(found, distinct, strict=True)}


def _file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    if suffix == ".parquet":
        return "parquet"
    raise SourceError(f"{path.name}: unsupported file format {suffix or '(none)'}")


def stage_file(
    con: duckdb.DuckDBPyConnection,
    inp: TableInput,
    table: contract.Table,
    work_dir: Path,
    label: str,
) -> tuple[FileReport, list[str], list[tuple[int, str, str]]]:
    """Read one file into temp table __hf_stage (_src, c0..cN VARCHAR) as `load_raw_table` does,
    without loading it anywhere: its report, header names and rejected (row, reason, line).
    For tools that work on a file's own columns (`hfeval pseudonymise`); the caller drops
    __hf_stage. `table` only helps find the header row."""
    fmt = _file_format(inp.path)
    fr = FileReport(path=inp.path.name, source_id=inp.source_id, sha256="", bytes=0, format=fmt)
    rejects: list[tuple[int, str, str]] = []
    if fmt == "csv":
        staged, rejects = _stage_csv(con, inp, table, fr, Path(work_dir), label)
    elif fmt == "xlsx":
        staged = _stage_xlsx(con, inp, table, fr, label)
    else:
        staged = _stage_parquet(con, inp, fr)
    return fr, staged.headers, rejects


def xlsx_sheet_names(path: Path) -> list[str]:
    return _read_sheet(path, None, data_only=False)[0]


def _native_columns(
    con: duckdb.DuckDBPyConnection, table: contract.Table, inputs: list[TableInput]
) -> dict[str, str]:
    """Typed contract columns to load as the Parquet files hold them, with that type: those
    that every input is a Parquet file providing in one type read natively (none comes from a
    constant or default). Parsing text back costs more than reading it, at national scale."""
    try:
        if not inputs or any(_file_format(i.path) != "parquet" for i in inputs):
            return {}
        found: dict[str, set[str]] = {}
        given: set[str] = set()
        for inp in inputs:
            described = _parquet_columns(con, inp.path)
            plan = _plan_columns(table, [n for n, _ in described], inp.mapping, inp.path.name)
            given |= set(inp.mapping.constants) | set(inp.mapping.defaults)
            for col, i in plan.sources.items():
                found.setdefault(col, set()).add(described[i][1])
    except SourceError:
        return {}  # the file's own load reports it, in input order
    out = {}
    for col in table.columns:
        types = found.get(col.name, set())
        if col.dtype == "VARCHAR" or col.name in given or len(types) != 1:
            continue
        (kind,) = types
        if _native_to_contract("x", kind, col.dtype) is not None:
            out[col.name] = kind
    return out


def load_raw_table(
    con: duckdb.DuckDBPyConnection,
    table: contract.Table,
    inputs: list[TableInput],
    *,
    extraction_dates: dict[str, dt.date | None],
    data_root: Path,
    work_dir: Path,
) -> RawLoadReport:
    """(Re)create `raw_<table>` and `raw_<table>__rejects` from the given inputs, in order.

    `raw_<table>` is a view: provenance columns, then the contract columns. Its rows are in
    `raw_<table>__rows`, the files' provenance in RAW_FILES. Contract columns are text, except
    typed columns that every input is a Parquet file holding in a type read natively
    (`_native_columns`): those keep the file's type."""
    raw_name = f"raw_{table.name}"
    rows_name = raw_rows_name(table.name)
    rejects_name = f"{raw_name}__rejects"
    native = _native_columns(con, table, inputs)
    columns = [
        ("_row_id", "BIGINT"), ("_file", "INTEGER"), ("_source_row", "BIGINT"),
        *((c.name, native.get(c.name, "VARCHAR")) for c in table.columns),
    ]
    con.execute(
        f"CREATE OR REPLACE TABLE {_ident(rows_name)} ("
        + ", ".join(f"{_ident(n)} {t}" for n, t in columns)
        + ")"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {RAW_FILES} ("
        + ", ".join(f"{n} {t}" for n, t in RAW_FILES_COLUMNS) + ")"
    )
    con.execute(f"DELETE FROM {RAW_FILES} WHERE table_name = ?", [table.name])
    con.execute(
        f"CREATE OR REPLACE TABLE {_ident(rejects_name)} (_source_id VARCHAR, "
        "_source_file VARCHAR, _source_row BIGINT, reason VARCHAR, raw_line VARCHAR)"
    )
    report = RawLoadReport(table=table.name)
    offset = 0
    for file_no, inp in enumerate(inputs, start=1):
        rel = _relative(inp.path, data_root)
        fmt = _file_format(inp.path)
        label = f"{rel} ({table.name})"
        fr = FileReport(path=rel, source_id=inp.source_id, sha256="", bytes=0, format=fmt)
        if fmt == "csv":
            staged, rejects = _stage_csv(con, inp, table, fr, Path(work_dir), label)
            if rejects and table.kind == "input":
                guard.check_lines(con, [line for _, _, line in rejects], label)
            if rejects:
                con.executemany(
                    f"INSERT INTO {_ident(rejects_name)} VALUES (?, ?, ?, ?, ?)",
                    [(inp.source_id, rel, row, reason, line) for row, reason, line in rejects],
                )
                staged.rejects = len(rejects)
        elif fmt == "xlsx":
            staged = _stage_xlsx(con, inp, table, fr, label)
        else:
            staged = _stage_parquet(con, inp, fr, view=True)
        try:
            offset += _insert_staged(
                con,
                table,
                inp,
                staged,
                fr,
                rows_name,
                file_no,
                offset,
                label,
                native,
            )
        finally:
            _drop_stage(con)
        con.execute(
            f"INSERT INTO {RAW_FILES} VALUES (?, ?, ?, ?, ?)",
            [table.name, file_no, inp.source_id, rel, extraction_dates.get(inp.source_id)],
        )
        report.files.append(fr)
        report.rows_read += fr.rows_read
        report.rows_rejected += fr.rows_rejected
        report.rows_blank += fr.rows_blank
        log.info(
            "%s: %d rows read, %d rejected, %d unknown column(s)",
            label,
            fr.rows_read,
            fr.rows_rejected,
            len(fr.unknown_columns),
            extra=hflog.fields(
                "file_loaded", file=fr.path, table=table.name, format=fr.format,
                encoding=fr.encoding, rows_read=fr.rows_read, rows_rejected=fr.rows_rejected,
                rows_blank=fr.rows_blank, unknown_columns=fr.unknown_columns,
                missing_required_columns=fr.missing_required_columns,
            ),
        )
    _create_raw_view(con, table)
    return report


def raw_rows_name(table_name: str) -> str:
    """The table holding the rows of the view raw_<table> (without per-file provenance)."""
    return f"raw_{table_name}__rows"


def _per_file_sql(values: list, dtype: str) -> str:
    """SQL for a value per file, picked by the row's `_file`: a constant when all agree."""
    def lit(v: object) -> str:
        return "NULL" if v is None else _lit(v.isoformat() if isinstance(v, dt.date) else v)

    if len(set(values)) <= 1:
        return f"CAST({lit(values[0] if values else None)} AS {dtype})"
    return f"CAST([{', '.join(lit(v) for v in values)}] AS {dtype}[])[r._file]"


def _create_raw_view(con: duckdb.DuckDBPyConnection, table: contract.Table) -> None:
    """(Re)create the view raw_<table>: PROVENANCE, then the contract columns, in row order."""
    files = con.execute(
        f"SELECT _source_id, _source_file, _extraction_date FROM {RAW_FILES} "
        "WHERE table_name = ? ORDER BY _file", [table.name]
    ).fetchall()
    ids, names, dates = ([f[i] for f in files] for i in range(3))
    raw_name = f"raw_{table.name}"
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ? "
        "AND table_schema = current_schema() AND table_catalog = current_database()", [raw_name]
    ).fetchall()
    if kind and kind[0][0] != "VIEW":
        con.execute(f"DROP TABLE {_ident(raw_name)}")
    cols = ", ".join(f"r.{_ident(c.name)}" for c in table.columns)
    con.execute(
        f"CREATE OR REPLACE VIEW {_ident(raw_name)} AS SELECT r._row_id, "
        f"{_per_file_sql(ids, 'VARCHAR')} AS _source_id, "
        f"{_per_file_sql(names, 'VARCHAR')} AS _source_file, r._source_row, "
        f"{_per_file_sql(dates, 'DATE')} AS _extraction_date, {cols} "
        f"FROM {_ident(raw_rows_name(table.name))} AS r"
    )


def set_extraction_dates(
    con: duckdb.DuckDBPyConnection, tables: list[contract.Table], dates: dict[str, dt.date]
) -> None:
    """Set the extraction date of every file of the given sources (source_id -> date) in
    the given tables: one row per file changes, not one per data row."""
    for source_id, day in dates.items():
        con.execute(
            f"UPDATE {RAW_FILES} SET _extraction_date = ? WHERE _source_id = ? "
            f"AND table_name IN ({', '.join('?' for _ in tables)})",
            [day, source_id, *(t.name for t in tables)],
        )
    for table in tables:
        _create_raw_view(con, table)


# ---- parsing macros and the typed view -----------------------------------------------------------

_MACROS = r"""
-- trim() with a character list is slow and most values need no trimming: test the ends first
-- (the loader has trimmed raw values already; other callers pass any text).
CREATE OR REPLACE MACRO hf__trim_chars() AS ' ' || chr(9) || chr(10) || chr(13) || chr(160)
    || chr(8239);
CREATE OR REPLACE MACRO hf__trim_text(t) AS (
    CASE WHEN contains(hf__trim_chars(), t[1]) OR contains(hf__trim_chars(), t[-1])
        THEN trim(t, hf__trim_chars()) ELSE t END
);
CREATE OR REPLACE MACRO hf__trim(s) AS hf__trim_text(CAST(s AS VARCHAR));
CREATE OR REPLACE MACRO hf_parse_date(s) AS (
    CASE
        WHEN regexp_full_match(CAST(s AS VARCHAR), '\d{4}-\d{2}-\d{2}')
            THEN CAST(try_strptime(CAST(s AS VARCHAR), '%Y-%m-%d') AS DATE)
        WHEN regexp_full_match(hf__trim(s), '\d{4}-\d{2}-\d{2}(T.*| 00:00(:00(\.0+)?)?)?')
            THEN CAST(try_strptime(left(hf__trim(s), 10), '%Y-%m-%d') AS DATE)
        WHEN regexp_full_match(hf__trim(s),
                '\d{1,2}\.\d{1,2}\.\d{4}( 00:00(:00)?)?|\d{1,2}/\d{1,2}/\d{4}( 00:00(:00)?)?'
                || '|\d{1,2}-\d{1,2}-\d{4}( 00:00(:00)?)?')
            THEN CAST(try_strptime(
                translate(split_part(hf__trim(s), ' ', 1), '/-', '..'), '%d.%m.%Y') AS DATE)
    END
);
CREATE OR REPLACE MACRO hf__number_text(t) AS (
    CASE
        WHEN contains(t, '.') AND contains(t, ',') THEN
            CASE WHEN strpos(reverse(t), ',') < strpos(reverse(t), '.')
                THEN replace(replace(t, '.', ''), ',', '.')
                ELSE replace(t, ',', '') END
        WHEN length(t) - length(replace(t, ',', '')) = 1 THEN replace(t, ',', '.')
        WHEN contains(t, ',') THEN replace(t, ',', '')
        WHEN length(t) - length(replace(t, '.', '')) > 1 THEN replace(t, '.', '')
        ELSE t
    END
);
CREATE OR REPLACE MACRO hf__parse_number(t) AS (
    CASE WHEN regexp_full_match(t, '-?(\d+(\.\d*)?|\.\d+)') THEN TRY_CAST(t AS DOUBLE) END
);
CREATE OR REPLACE MACRO hf__parse_double_any(s) AS hf__parse_number(hf__number_text(
    regexp_replace(CAST(s AS VARCHAR), '[\s\x{00A0}\x{202F}]', '', 'g')));
-- Fast paths: plain digits (what Parquet and most exports hold) give what the general rules
-- would, without the macro expansions that repeat the argument a dozen times.
CREATE OR REPLACE MACRO hf_parse_double(s) AS (
    CASE WHEN regexp_full_match(CAST(s AS VARCHAR), '-?\d+(\.\d+)?')
        THEN TRY_CAST(CAST(s AS VARCHAR) AS DOUBLE) ELSE hf__parse_double_any(s) END
);
CREATE OR REPLACE MACRO hf__integral(d) AS (
    CASE WHEN d = floor(d) AND abs(d) <= 2147483647 THEN CAST(d AS INTEGER) END
);
CREATE OR REPLACE MACRO hf_parse_int(s) AS (
    CASE WHEN regexp_full_match(CAST(s AS VARCHAR), '-?\d{1,9}')
        THEN CAST(CAST(s AS VARCHAR) AS INTEGER) ELSE hf__integral(hf__parse_double_any(s)) END
);
CREATE OR REPLACE MACRO hf_parse_bool(s) AS (
    CASE
        WHEN lower(hf__trim(s)) IN ('true', 'ja', 'yes', '1', 'sant', 'sand') THEN true
        WHEN lower(hf__trim(s)) IN ('false', 'nei', 'nej', 'no', '0', 'usant', 'falsk')
            THEN false
    END
);
"""

_PARSERS = {
    "DATE": "hf_parse_date",
    "DOUBLE": "hf_parse_double",
    "INTEGER": "hf_parse_int",
    "BOOLEAN": "hf_parse_bool",
}


_macros_on: weakref.WeakSet = weakref.WeakSet()


def register_parse_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the hf_parse_* SQL macros (persistent, so views on them survive a reconnect);
    once per connection, since every catalog write costs a commit."""
    if con in _macros_on:
        return
    con.execute(_MACROS)
    _macros_on.add(con)


def create_typed_view(
    con: duckdb.DuckDBPyConnection, table: contract.Table, raw_name: str, typed_name: str
) -> None:
    """View over a raw table: contract columns in their types, plus `<col>__raw`, the value as
    read: the text, parsed by the hf_parse_* macros, or a Parquet file's own value, converted
    (`_native_to_contract`)."""
    register_parse_macros(con)
    raw_types = dict(con.execute(
        f"SELECT column_name, column_type FROM (DESCRIBE {_ident(raw_name)})"
    ).fetchall())
    select = [_ident(n) for n, _ in PROVENANCE]
    for col in table.columns:
        c = _ident(col.name)
        kind = raw_types.get(col.name, "VARCHAR")
        if col.dtype == "VARCHAR":
            select.append(c)
            continue
        value = (f"{_PARSERS[col.dtype]}({c})" if kind == "VARCHAR"
                 else _native_to_contract(c, kind, col.dtype) or f"CAST({c} AS {col.dtype})")
        select.append(f"{value} AS {c}")
        select.append(f"{c} AS {_ident(col.name + '__raw')}")
    con.execute(
        f"CREATE OR REPLACE VIEW {_ident(typed_name)} AS SELECT {', '.join(select)} "
        f"FROM {_ident(raw_name)}"
    )
