"""Find the municipal exports in a data directory and read their `source.yaml` mapping files.

A *source* is one export, usually one municipality's case-record system: a folder holding a
`source.yaml` plus the files it names, or a folder of files recognised by name (the contract
table name or a Norwegian/Danish alias such as `deltakere.csv`). This module only decides which
file feeds which table and how its columns and codes map onto the contract; `hfeval.loaders`
reads the files. Errors name the file and key, never a data value.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from hfeval import contract

log = logging.getLogger(__name__)

MAPPING_FILE = "source.yaml"
SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".parquet")
DELIMITERS = {";": ";", ",": ",", "\t": "\t", "tab": "\t", "|": "|"}
REFERENCE_DIR = "reference"

_TOP_KEYS = {
    "source_id",
    "description",
    "extraction_date",
    "synthetic",
    "municipality_code",
    "csv",
    "tables",
}
_TABLE_KEYS = {"file", "sheet", "header_row", "columns", "codes", "constants", "ignore_columns"}
_CSV_KEYS = {"delimiter", "encoding"}


class SourceError(Exception):
    """A data directory or mapping file that cannot be used as it is. Names file and key only."""


@dataclass
class TableMapping:
    """How one table of one source maps onto the contract (empty = recognise by name)."""

    columns: dict[str, str] = field(default_factory=dict)  # contract column -> file column
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {file: contract}
    constants: dict[str, str] = field(default_factory=dict)  # column -> value for every row
    ignore_columns: list[str] = field(default_factory=list)
    sheet: str | None = None
    header_row: int | None = None
    # Filled only where a file lacks the column (the source-level municipality_code).
    defaults: dict[str, str] = field(default_factory=dict)


@dataclass
class TableInput:
    source_id: str
    table: str
    path: Path
    mapping: TableMapping
    csv_hints: dict = field(default_factory=dict)  # {"delimiter": ";", "encoding": "cp1252"}


@dataclass
class Source:
    source_id: str
    root: Path
    mapping_file: Path | None
    description: str
    extraction_date: date | None
    synthetic: bool
    municipality_code: str | None
    inputs: dict[str, list[TableInput]]
    # Files (and non-source folders) in the source folder that feed no table.
    unrecognised_files: list[Path] = field(default_factory=list)


# ---- names ---------------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """Comparable form of a column or file name: 'Fødselsår ' -> 'fodselsar'."""
    s = str(name).strip().strip("\"'").strip().lower()
    s = s.replace("æ", "ae").replace("ø", "o").replace("å", "a")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[\s\-]+", "_", s)


@cache
def table_aliases() -> dict[str, str]:
    """Normalised file/sheet name -> input table name."""
    out: dict[str, str] = {}
    for name in contract.INPUT_TABLES:
        t = contract.TABLES[name]
        for alias in (t.name, *t.nb, *t.da):
            out.setdefault(normalise_name(alias), t.name)
    return out


@cache
def column_aliases(table_name: str) -> dict[str, str]:
    """Normalised column name -> contract column, for one table (first alias wins on a clash)."""
    out: dict[str, str] = {}
    for c in contract.table(table_name).columns:
        for alias in (c.name, *c.nb, *c.da):
            out.setdefault(normalise_name(alias), c.name)
    return out


def table_for_file(path: Path) -> str | None:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return None
    return table_aliases().get(normalise_name(path.stem))


def plain_input(source_id: str, table_name: str, path: Path) -> TableInput:
    """An input read by name and aliases alone (no mapping), e.g. a reference table's CSV."""
    contract.table(table_name)  # fail early on a typo
    return TableInput(source_id, table_name, Path(path), TableMapping(), {})


# ---- discovery -----------------------------------------------------------------------------------


def _is_hidden(path: Path) -> bool:
    return path.name.startswith((".", "~$"))


def _candidate_subdirs(data_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in data_dir.iterdir()
        if p.is_dir() and not _is_hidden(p) and p.name != REFERENCE_DIR
    )


def discover_sources(data_dir: Path) -> list[Source]:
    """Sources in `data_dir`: the folder itself and every immediate subfolder with a source.yaml.

    The folder itself is a source if it has a source.yaml, files named after contract tables,
    or no subfolder with a source.yaml (then all its files are reported as unrecognised).
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise SourceError(f"data directory {data_dir} does not exist or is not a directory")
    subdirs = _candidate_subdirs(data_dir)
    sub_sources = [d for d in subdirs if (d / MAPPING_FILE).is_file()]
    has_own_mapping = (data_dir / MAPPING_FILE).is_file()
    has_named_files = any(
        p.is_file() and not _is_hidden(p) and table_for_file(p) for p in data_dir.iterdir()
    )
    sources: list[Source] = []
    skipped = [d for d in subdirs if d not in sub_sources]
    if has_own_mapping or has_named_files or not sub_sources:
        sources.append(_read_source(data_dir, skipped))
    elif skipped:
        log.warning(
            "%d folder(s) in %s have no source.yaml and are skipped", len(skipped), data_dir
        )
    for d in sub_sources:
        sources.append(_read_source(d, [p for p in sorted(d.iterdir()) if p.is_dir()]))
    seen: dict[str, Path] = {}
    for s in sources:
        if s.source_id in seen:
            raise SourceError(
                f"source_id {s.source_id!r} is used by both {seen[s.source_id]} and {s.root}; "
                "set a distinct source_id in source.yaml"
            )
        seen[s.source_id] = s.root
    return sources


def _read_source(root: Path, subdirs: list[Path]) -> Source:
    """One source; `subdirs` are its folders that are not sources themselves."""
    mapping_file = root / MAPPING_FILE
    if mapping_file.is_file():
        spec = _read_yaml(mapping_file)
    else:
        mapping_file, spec = None, {}
    where = str(mapping_file) if mapping_file else str(root)

    source_id = _opt_str(spec, "source_id", where) or root.resolve().name
    municipality_code = _opt_code(spec, "municipality_code", where)
    csv_hints = _csv_hints(spec.get("csv"), where)
    tables_spec = spec.get("tables") or {}
    if not isinstance(tables_spec, dict):
        raise SourceError(f"{where}: 'tables' must be a mapping of table name to settings")

    inputs: dict[str, list[TableInput]] = {}
    named: set[Path] = set()
    for table_name, tspec in tables_spec.items():
        table = _input_table(table_name, where)
        key = f"tables.{table_name}"
        mapping, files = _table_mapping(table, tspec, root, where, key)
        _add_defaults(mapping, table, municipality_code)
        for path in files:
            named.add(path.resolve())
            inputs.setdefault(table.name, []).append(
                TableInput(source_id, table.name, path, mapping, dict(csv_hints))
            )

    unrecognised: list[Path] = []
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        if _is_hidden(path) or path.name == MAPPING_FILE or path.resolve() in named:
            continue
        if path.stem.upper().startswith("README"):  # documentation beside the data, not data
            continue
        table_name = table_for_file(path)
        if table_name is None or table_name in tables_spec:
            unrecognised.append(path)
            continue
        mapping = TableMapping()
        _add_defaults(mapping, contract.table(table_name), municipality_code)
        inputs.setdefault(table_name, []).append(
            TableInput(source_id, table_name, path, mapping, dict(csv_hints))
        )
    # A folder is reported unless the mapping file reads files from it.
    used_dirs = {a for path in named for a in path.parents}
    unrecognised.extend(d for d in subdirs if not _is_hidden(d) and d.resolve() not in used_dirs)
    if unrecognised:
        log.warning("source %s: %d file(s) feed no table", source_id, len(unrecognised))

    return Source(
        source_id=source_id,
        root=root,
        mapping_file=mapping_file,
        description=_opt_str(spec, "description", where) or "",
        extraction_date=_opt_date(spec, "extraction_date", where),
        synthetic=_opt_bool(spec, "synthetic", where),
        municipality_code=municipality_code,
        inputs={t: inputs[t] for t in contract.INPUT_TABLES if t in inputs},
        unrecognised_files=unrecognised,
    )


def _add_defaults(mapping: TableMapping, table: contract.Table, municipality_code: str | None):
    if (
        municipality_code
        and "municipality_code" in table.column_names
        and "municipality_code" not in mapping.constants
    ):
        mapping.defaults["municipality_code"] = municipality_code


# ---- mapping file parsing ------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        # The YAML error text quotes the offending line; give the position only.
        mark = getattr(e, "problem_mark", None)
        pos = f" at line {mark.line + 1}" if mark is not None else ""
        raise SourceError(f"{path}: not valid UTF-8 YAML{pos}") from None
    if not isinstance(spec, dict):
        raise SourceError(f"{path}: expected a mapping of keys at the top level")
    unknown = sorted(set(map(str, spec)) - _TOP_KEYS)
    if unknown:
        raise SourceError(
            f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_KEYS))}"
        )
    return spec


def _input_table(name: Any, where: str) -> contract.Table:
    if str(name) not in contract.INPUT_TABLES:
        raise SourceError(
            f"{where}: tables.{name}: unknown input table; "
            f"known: {', '.join(contract.INPUT_TABLES)}"
        )
    return contract.TABLES[str(name)]


def _opt_str(spec: dict, key: str, where: str) -> str | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SourceError(f"{where}: {key} must be a text")
    return value.strip()


def _opt_code(spec: dict, key: str, where: str) -> str | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        # Unquoted YAML numbers lose leading zeros (0301 even becomes octal 193).
        raise SourceError(f'{where}: {key} must be quoted text, e.g. "0301"')
    return value.strip()


def _opt_bool(spec: dict, key: str, where: str) -> bool:
    value = spec.get(key, False)
    if not isinstance(value, bool):
        raise SourceError(f"{where}: {key} must be true or false")
    return value


def _opt_date(spec: dict, key: str, where: str) -> date | None:
    value = spec.get(key)
    if value is None or (isinstance(value, date) and not hasattr(value, "hour")):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SourceError(f"{where}: {key} must be an ISO date, e.g. 2019-12-31")


def _csv_hints(spec: Any, where: str) -> dict[str, str]:
    if spec is None:
        return {}
    if not isinstance(spec, dict) or set(map(str, spec)) - _CSV_KEYS:
        raise SourceError(f"{where}: csv: allowed keys are {', '.join(sorted(_CSV_KEYS))}")
    hints: dict[str, str] = {}
    if spec.get("delimiter") is not None:
        delim = DELIMITERS.get(str(spec["delimiter"]))
        if delim is None:
            raise SourceError(f"{where}: csv.delimiter must be one of ; , | tab")
        hints["delimiter"] = delim
    if spec.get("encoding") is not None:
        try:
            hints["encoding"] = codecs.lookup(str(spec["encoding"])).name
        except LookupError:
            raise SourceError(f"{where}: csv.encoding is not a known encoding") from None
    return hints


def _table_mapping(
    table: contract.Table, tspec: Any, root: Path, where: str, key: str
) -> tuple[TableMapping, list[Path]]:
    if not isinstance(tspec, dict):
        raise SourceError(f"{where}: {key} must be a mapping with at least 'file'")
    unknown = sorted(set(map(str, tspec)) - _TABLE_KEYS)
    if unknown:
        raise SourceError(
            f"{where}: {key}: unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_TABLE_KEYS))}"
        )
    files = _files(tspec.get("file"), root, where, f"{key}.file")
    mapping = TableMapping(
        columns=_columns(table, tspec.get("columns"), where, f"{key}.columns"),
        codes=_codes(table, tspec.get("codes"), where, f"{key}.codes"),
        constants=_constants(table, tspec.get("constants"), where, f"{key}.constants"),
        ignore_columns=_str_list(tspec.get("ignore_columns"), where, f"{key}.ignore_columns"),
        sheet=_opt_str(tspec, "sheet", f"{where}: {key}"),
        header_row=tspec.get("header_row"),
    )
    hr = mapping.header_row
    if hr is not None and (not isinstance(hr, int) or isinstance(hr, bool) or hr < 1):
        raise SourceError(f"{where}: {key}.header_row must be a whole number >= 1")
    both = set(mapping.columns) & set(mapping.constants)
    if both:
        raise SourceError(
            f"{where}: {key}: column(s) {', '.join(sorted(both))} given both in columns and "
            "constants"
        )
    return mapping, files


def _files(value: Any, root: Path, where: str, key: str) -> list[Path]:
    names = [value] if isinstance(value, str) else value
    if not names or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SourceError(f"{where}: {key} must be a file name or a list of file names")
    paths = []
    for name in names:
        path = root / name
        if path.suffix.lower() == ".xls":
            raise SourceError(
                f"{where}: {key}: {name} is an old .xls workbook; save it as .xlsx (or CSV)"
            )
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise SourceError(
                f"{where}: {key}: {name} has an unsupported format; "
                f"use one of {', '.join(SUPPORTED_SUFFIXES)}"
            )
        if not path.is_file():
            raise SourceError(f"{where}: {key}: file {name} does not exist in {root}")
        paths.append(path)
    return paths


def _column(table: contract.Table, name: Any, where: str, key: str) -> contract.Column:
    if str(name) not in table.column_names:
        raise SourceError(f"{where}: {key}: {name} is not a column of {table.name}")
    return table.column(str(name))


def _columns(table: contract.Table, spec: Any, where: str, key: str) -> dict[str, str]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise SourceError(f"{where}: {key} must map contract column to file column")
    out = {}
    for col, file_col in spec.items():
        _column(table, col, where, key)
        if not isinstance(file_col, str | int) or isinstance(file_col, bool):
            raise SourceError(f"{where}: {key}.{col} must be a column name")
        out[str(col)] = str(file_col).strip()
    dupes = {v for v in out.values() if list(out.values()).count(v) > 1}
    if dupes:
        raise SourceError(f"{where}: {key}: one file column mapped to several contract columns")
    return out


def _codes(table: contract.Table, spec: Any, where: str, key: str) -> dict[str, dict[str, str]]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise SourceError(f"{where}: {key} must map contract column to {{file code: code}}")
    out: dict[str, dict[str, str]] = {}
    for col_name, pairs in spec.items():
        col = _column(table, col_name, where, key)
        ckey = f"{key}.{col_name}"
        if col.codes is None:
            raise SourceError(f"{where}: {ckey}: {col.name} has no code list to map to")
        if not isinstance(pairs, dict):
            raise SourceError(f"{where}: {ckey} must map file codes to contract codes")
        canonical = {c.lower(): c for c in col.codes}
        mapped: dict[str, str] = {}
        for file_code, target in pairs.items():
            if isinstance(file_code, bool | float) or file_code is None:
                # YAML turns yes/no/on/off into booleans and 1.0 into a float: ambiguous.
                raise SourceError(
                    f"{where}: {ckey}: quote the file codes (yes/no/true/false/numbers with a "
                    "decimal point and empty keys are read differently by YAML)"
                )
            if not isinstance(target, str) or target.strip().lower() not in canonical:
                raise SourceError(
                    f"{where}: {ckey}: every code must map to one of {', '.join(col.codes)}"
                )
            mapped[str(file_code).strip()] = canonical[target.strip().lower()]
        out[col.name] = mapped
    return out


def _constants(table: contract.Table, spec: Any, where: str, key: str) -> dict[str, str]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise SourceError(f"{where}: {key} must map contract column to a value")
    out = {}
    for col_name, value in spec.items():
        col = _column(table, col_name, where, key)
        if isinstance(value, bool) or value is None or isinstance(value, list | dict):
            raise SourceError(f"{where}: {key}.{col_name} must be a single text or number")
        if isinstance(value, int | float) and col.dtype == "VARCHAR":
            raise SourceError(f'{where}: {key}.{col_name} must be quoted text, e.g. "0301"')
        out[col.name] = value.isoformat() if isinstance(value, date) else str(value).strip()
    return out


def _str_list(value: Any, where: str, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise SourceError(f"{where}: {key} must be a list of column names")
    return [str(v).strip() for v in value]
