"""The data contract for people: `data/README.md` and blank templates, generated from code.

Everything here is derived from `hfeval.contract.TABLES`, so the documentation cannot drift from
what the loaders and validators enforce. `tests/test_contract.py` fails when the committed files
differ from what `write_docs` would write (`hfeval docs --write` refreshes them).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hfeval import config, contract
from hfeval.contract import Column, Table

README = Path("data") / "README.md"
TEMPLATES = Path("data") / "templates"
LANGUAGES = ("nb", "da")  # language-specific templates use the first alias in this language
_MAX_INLINE_CODES = 6  # longer code lists are linked to their section instead of inlined


def code_lists() -> dict[str, tuple[str, ...]]:
    """Named code lists of the contract (lower-case name -> codes), in contract order.

    Found by value, so a code list added to `contract.py` is documented without touching this
    module. Only lists that some column uses are included.
    """
    used = {c.codes for t in contract.TABLES.values() for c in t.columns if c.codes}
    named: dict[str, tuple[str, ...]] = {}
    for name, value in vars(contract).items():
        if not (name.isupper() and isinstance(value, tuple)):
            continue
        if value in used and value not in named.values():
            named[name.lower()] = value
    return named


def _code_list_name(codes: tuple[str, ...]) -> str | None:
    for name, values in code_lists().items():
        if values == codes:
            return name
    return None


def _anchor(name: str) -> str:
    # GitHub heading anchors: lower case, spaces become hyphens, underscores are kept
    return f"#code-list-{name}"


def _cell(text: str) -> str:
    """Make text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _bound(value: float | str) -> str:
    if value == contract.EXTRACTION:
        return "extraction date"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and abs(value) >= 10_000:  # group thousands, but not years
        return f"{value:,}".replace(",", " ")
    return str(value)


def _range(col: Column) -> str:
    if col.min_value is None and col.max_value is None:
        return ""
    low = "" if col.min_value is None else _bound(col.min_value)
    high = "" if col.max_value is None else _bound(col.max_value)
    return f"{low} – {high}".strip()


def _codes(col: Column) -> str:
    if not col.codes:
        return ""
    name = _code_list_name(col.codes)
    if len(col.codes) <= _MAX_INLINE_CODES or name is None:
        return ", ".join(f"`{c}`" for c in col.codes)
    return f"[{name}]({_anchor(name)}) ({len(col.codes)} codes)"


def _terms(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _column_row(col: Column) -> str:
    description = col.description
    if col.personal:
        description += " **Personal data**: never printed in logs, errors or outputs."
    cells = [
        f"`{col.name}`",
        col.dtype,
        "yes" if col.required else "no",
        _codes(col),
        _range(col),
        col.unit or "",
        _terms(col.nb),
        _terms(col.da),
        description,
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _keys(cols: tuple[str, ...]) -> str:
    return ", ".join(f"`{c}`" for c in cols)


def _table_section(t: Table) -> list[str]:
    if t.kind == "reference":
        kind = "reference table; hfeval ships defaults"
    else:
        kind = "input table, " + ("required: a run fails without it" if t.required else "optional")
    lines = [f"## `{t.name}`", "", t.description, ""]
    lines.append(f"- **Kind:** {kind}.")
    if t.grain:
        lines.append(f"- **Grain:** {t.grain}.")
    lines.append(f"- **Primary key:** {_keys(t.primary_key) if t.primary_key else 'none'}.")
    if t.foreign_keys:
        fks = "; ".join(
            f"{_keys(fk.columns)} → " + ", ".join(f"`{fk.ref_table}.{c}`" for c in fk.ref_columns)
            for fk in t.foreign_keys
        )
        lines.append(f"- **Foreign keys:** {fks}.")
    if t.row_rules:
        lines.append(f"- **Row rules:** {_keys(t.row_rules)}.")
    if t.nb or t.da:
        lines.append(
            f"- **File or sheet names seen:** Norwegian {_terms(t.nb) or '–'}; "
            f"Danish {_terms(t.da) or '–'}."
        )
    if t.kind == "input":
        lines.append(
            f"- **Templates:** [`templates/{t.name}.csv`](templates/{t.name}.csv), "
            f"[`.nb.csv`](templates/{t.name}.nb.csv), [`.da.csv`](templates/{t.name}.da.csv)."
        )
    else:
        lines.append(
            f"- **Default data:** [`reference/{t.name}.csv`](reference/{t.name}.csv), "
            "sources in [`reference/SOURCES.md`](reference/SOURCES.md)."
        )
    lines += [
        "",
        (
            "| column | type | required | allowed codes | range | unit | Norwegian terms "
            "| Danish terms | description |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
        *(_column_row(c) for c in t.columns),
        "",
    ]
    return lines


def _intro() -> list[str]:
    mostly = config.PARAMETER_DOCS["validation.mostly"][0]
    tables = "\n".join(
        f"| [`{t.name}`](#{t.name}) | {t.kind} "
        f"| {'yes' if t.required else 'no'} | {_cell(t.description)} |"
        for t in contract.TABLES.values()
    )
    return [
        "# The hfeval data contract",
        "",
        (
            "<!-- Generated by hfeval.contract_docs from src/hfeval/contract.py. Do not edit by "
            "hand: run `hfeval docs --write`. -->"
        ),
        "",
        "This page lists every table hfeval reads: its columns, types, allowed codes and keys,",
        "and the Norwegian and Danish column names a municipal export is likely to use. It is",
        "generated from `src/hfeval/contract.py`, the same definitions the loaders and validators",
        "use, so it cannot disagree with them.",
        "",
        "## Sources, files and mapping",
        "",
        "A **source** is one municipality's delivery: a folder of exported files plus a",
        "`source.yaml` mapping file. Each file holds one table (a CSV file, or a sheet of an",
        "Excel workbook).",
        "",
        "- **File formats:** CSV separated by comma or semicolon; encoding UTF-8 (with or",
        "  without BOM) or Windows-1252; Excel `.xlsx`; Parquet.",
        "- **Values:** dates as ISO `yyyy-mm-dd` or `dd.mm.yyyy`; decimals with a point or a",
        "  decimal comma (`3,5`).",
        "- **Mapping:** `source.yaml` maps the municipality's own column names and codes onto",
        "  this contract: which file is which table, which column is which contract column, and",
        "  which local code means which contract code. See",
        "  [`mappings/example_nb.yaml`](mappings/example_nb.yaml) (Norwegian) and",
        "  [`mappings/example_da.yaml`](mappings/example_da.yaml) (Danish). Columns named with",
        "  one of the Norwegian or Danish terms below are recognised without mapping.",
        "- **Nothing is dropped or kept silently:** unknown columns and unmapped codes are",
        "  reported by column name and count, never silently kept or dropped.",
        "- **Quarantine:** rows that fail validation are set aside in quarantine with the reason",
        "  (table, column and rule), and are not analysed. If fewer than",
        f"  {mostly:.0%} of a table's rows pass a rule (parameter `validation.mostly`), the table",
        "  fails and nothing is published.",
        "- **Required** on a column means the column must be present and non-empty in every row.",
        "  A required *table* must be provided by at least one source (a run without it fails);",
        "  optional tables may be left out, and the analyses that need them are skipped.",
        "- **Extraction date:** give each source's `extraction_date` in `source.yaml`; ongoing",
        "  spells are censored there and later dates are implausible. Without it, the latest date",
        "  found in the source is used, and the manifest says so.",
        "",
        "## Privacy rule",
        "",
        "Files must **never** contain national identity numbers (Norwegian fødselsnummer or",
        "D-number, Danish CPR number), names or addresses. Identify people by a **pseudonym**",
        "only: a keyed hash made by the data owner, or a project serial number. Give the **birth",
        "year**, never the birth date. Columns marked *Personal data* below are never printed in",
        "logs, error messages or outputs.",
        "",
        "## Templates and reference data",
        "",
        "[`templates/`](templates/) holds a blank file (header row only) for every input table:",
        "`<table>.csv` with the contract column names, comma-separated, and `<table>.nb.csv` /",
        "`<table>.da.csv` with the Norwegian / Danish column names, semicolon-separated as",
        "municipal exports usually are. [`reference/`](reference/) holds the default reference",
        "tables (municipalities, unit costs, CPI, exchange rates) with their sources in",
        "[`reference/SOURCES.md`](reference/SOURCES.md); replace any row with a local figure.",
        "",
        "## Tables",
        "",
        "Listed in validation order: a table's foreign keys point only to tables above it.",
        "",
        "| table | kind | required | description |",
        "|---|---|---|---|",
        tables,
        "",
    ]


def _code_list_section() -> list[str]:
    lines = ["## Code lists", ""]
    lines.append("Codes are case-sensitive and must match exactly after mapping.")
    lines.append("")
    for name, values in code_lists().items():
        users = [
            f"`{t.name}.{c.name}`"
            for t in contract.TABLES.values()
            for c in t.columns
            if c.codes == values
        ]
        lines += [f"### Code list: {name}", "", f"Used by {', '.join(users)}.", ""]
        lines += [f"- `{v}`" for v in values]
        lines.append("")
    lines += [
        "### Housing groups",
        "",
        "For retention, these `housing_type` codes count as a home of one's own (a tenancy): "
        + _keys(contract.STABLE_HOUSING_TYPES)
        + ". These count as homeless: "
        + _keys(contract.HOMELESS_HOUSING_TYPES)
        + ".",
        "",
        "### MANSA items",
        "",
        "Each item is satisfaction rated 1 (couldn't be worse) to 7 (couldn't be better).",
        "",
        *(f"- `{name}`: {label}" for name, label in contract.MANSA_ITEMS),
        "",
    ]
    return lines


def render_markdown() -> str:
    """The contract documentation (the content of data/README.md)."""
    lines = _intro()
    for t in contract.TABLES.values():
        lines += _table_section(t)
    lines += _code_list_section()
    return "\n".join(lines).rstrip("\n") + "\n"


def template_header(t: Table, language: str | None = None) -> list[str]:
    """Header row of a blank template: contract names, or the first nb/da alias of each column."""
    if language is None:
        return t.column_names
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    return [(getattr(c, language) or (c.name,))[0] for c in t.columns]


def render_template(t: Table, language: str | None = None) -> str:
    """A blank CSV template: comma-separated with contract names, semicolons with nb/da names.

    The nb/da templates start with a UTF-8 byte order mark so that Excel shows æ, ø and å
    correctly when a user opens them; the loaders accept a BOM.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if language else ",", lineterminator="\n")
    writer.writerow(template_header(t, language))
    return ("\ufeff" if language else "") + buf.getvalue()


def generated_files() -> dict[Path, str]:
    """Every generated file, relative to the project root, with its content."""
    files = {README: render_markdown()}
    for name in contract.INPUT_TABLES:
        t = contract.TABLES[name]
        files[TEMPLATES / f"{name}.csv"] = render_template(t)
        for language in LANGUAGES:
            files[TEMPLATES / f"{name}.{language}.csv"] = render_template(t, language)
    return files


def write_docs(root: Path | None = None) -> list[Path]:
    """Write data/README.md and data/templates/*.csv under `root` (default: the project root)."""
    root = Path(root) if root is not None else config.get_paths().root
    written = []
    for rel, text in generated_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        # newline="" keeps "\n" on every platform, so committed files compare byte for byte
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written


def stale_files(root: Path | None = None) -> list[Path]:
    """Generated files under `root` that are missing or differ from what write_docs writes."""
    root = Path(root) if root is not None else config.get_paths().root
    stale = []
    for rel, text in generated_files().items():
        path = root / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(rel)
    return stale
