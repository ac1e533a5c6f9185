"""Identifier guard: refuse input files that hold national identity numbers or contact details.

Input must be pseudonymised before it reaches hfeval (`hfeval pseudonymise`, docs/privacy.md).
The loader calls `check_staged` on every input file after reading it and before loading a single
row of it, so a file holding a Norwegian fødselsnummer, a Danish CPR number, e-mail addresses or
phone numbers stops the run (exit code 5) and nothing of it reaches the warehouse. Messages name
the file, the column, the kind of identifier and counts; never a value.

Detection runs as one set-based DuckDB pass per file (regular expressions and check-digit
arithmetic in SQL macros), so it costs seconds at national scale. The rules (docs/privacy.md has
the full table and the reasons for each threshold):

* a valid fødselsnummer / D-number / H-number (11 digits, valid date, both mod-11 check digits;
  also 10 digits whose leading zero a spreadsheet dropped), a CPR number written DDMMYY-SSSS
  with a valid date, or an e-mail address, alone or inside text, in any column: one value stops
  the file;
* 10 digits alone with a valid DDMMYY date (a CPR number without its hyphen), in a text column
  (a contract text column or one the contract does not know): one value stops the file;
* phone numbers (+47/+45/0047/0045 and 8 digits in text and typed columns; also 8 bare digits
  starting 2-9, not a yyyymmdd date, in columns the contract does not know): when at least
  `PHONE_SHARE` of the column's non-empty values are phone-like;
* a column the contract does not know whose header names a direct identifier (navn, adresse,
  telefon, e-post, fnr, cpr, fødselsdato, ...): always.

Unknown columns are never loaded, but their presence means the file was not pseudonymised. A
column listed under `ignore_columns` in source.yaml is checked by the first rule only: that
silences a false alarm from the weaker rules but never lets an identity number or an e-mail
address through.
"""

from __future__ import annotations

import logging
import re
import time
import weakref
from dataclasses import dataclass
from typing import Literal

import duckdb
import pyarrow as pa

from hfeval import contract
from hfeval import logging as hflog
from hfeval.sources import normalise_name

log = logging.getLogger(__name__)

Scope = Literal["text", "typed", "unknown", "ignored"]
Kind = Literal["fodselsnummer", "cpr", "email", "phone", "identifier_column"]

# A column is refused when at least this share of its non-empty values look like phone
# numbers: single 8-digit values are common (amounts, case numbers), a column of them is not.
PHONE_SHARE = 0.5
REJECTED_LINES = "(lines the CSV parser could not split)"
HEADER_ROW = "(the header row)"

KIND_TEXT = {
    "fodselsnummer": "a Norwegian fødselsnummer or D-number (valid date and check digits)",
    "cpr": "a Danish CPR number (valid date)",
    "email": "an e-mail address",
    "phone": "a Norwegian or Danish phone number",
    "identifier_column": "a direct identifier, by its column name",
}

# Header names (normalised by `header_key`) of direct identifiers, nb/da/en. Used by the guard
# (unknown columns with these names stop a run) and by `hfeval pseudonymise`.
NATIONAL_ID_NAMES = (
    "fodselsnummer", "fodselsnr", "fnr", "f_nr", "personnummer", "personnr", "pnr",
    "dnummer", "d_nummer", "dnr", "hnummer", "cpr", "cpr_nr", "cprnr", "cpr_nummer",
    "cprnummer", "personnummer_cpr", "ssn", "national_id", "nin", "person_id_number",
)
NAME_NAMES = (
    "navn", "fornavn", "etternavn", "mellomnavn", "fullt_navn", "fulltnavn", "efternavn",
    "mellemnavn", "fuldt_navn", "fuldtnavn", "klientnavn", "borgernavn", "deltakernavn",
    "deltagernavn", "name", "first_name", "firstname", "last_name", "lastname", "surname",
    "given_name", "full_name", "fullname", "middle_name",
)
ADDRESS_NAMES = (
    "adresse", "gateadresse", "postadresse", "bostedsadresse", "folkeregisteradresse",
    "vejnavn", "gadenavn", "bopaelsadresse", "address", "street", "street_address",
    "home_address", "husnummer",
)
PHONE_NAMES = (
    "telefon", "telefonnummer", "telefonnr", "tlf", "tlf_nr", "tlfnr", "mobil", "mobilnr",
    "mobilnummer", "mobiltelefon", "phone", "phone_number", "telephone", "mobile",
)
EMAIL_NAMES = (
    "epost", "e_post", "epostadresse", "e_postadresse", "email", "e_mail", "mail",
    "mailadresse", "email_address",
)
BIRTH_DATE_NAMES = (
    "fodselsdato", "fodselsdag", "fodt_dato", "fdato", "birth_date", "birthdate",
    "date_of_birth", "dob",
)
IDENTIFIER_NAMES: dict[str, tuple[str, ...]] = {
    "national_id": NATIONAL_ID_NAMES,
    "name": NAME_NAMES,
    "address": ADDRESS_NAMES,
    "phone": PHONE_NAMES,
    "email": EMAIL_NAMES,
    "birth_date": BIRTH_DATE_NAMES,
}


def header_key(name: str) -> str:
    """'E-post ' -> 'e_post', 'CPR-nr.' -> 'cpr_nr', 'Fødselsnummer' -> 'fodselsnummer'."""
    return re.sub(r"[^a-z0-9_]", "", normalise_name(name)).strip("_")


def identifier_name_kind(name: str) -> str | None:
    """Which direct identifier a column header names (national_id, name, ...), if any."""
    key = header_key(name)
    return next((k for k, names in IDENTIFIER_NAMES.items() if key in names), None)


# ---- SQL -----------------------------------------------------------------------------------------

# A digit run bounded by anything but a letter or digit (so 'SYN-NO4205-000123' and hashes in
# base32 never match).
_B0, _B1 = r"(?:^|[^0-9A-Za-z])", r"(?:[^0-9A-Za-z]|$)"
FNR_SEARCH = _B0 + r"(\d{6}[ -]?\d{5})" + _B1
CPR_SEARCH = _B0 + r"(\d{6}-\d{4})" + _B1
EMAIL_SEARCH = (
    r"[^\s@<>()\[\],;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*"
    r"\.[A-Za-z]{2,}"
)
PHONE_PREFIXED = r"\s*(?:\+|00)\s?(?:47|45)[\s-]?(?:\d[\s-]?){7}\d\s*"
PHONE_BARE = r"\s*(?:[2-9]\d{7}|[2-9]\d(?: \d\d){3}|[2-9]\d\d \d\d \d\d\d)\s*"
YYYYMMDD = r"\s*(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s*"

def _sql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)  # check digit 1 over digits 1-9 (Skatteetaten)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)  # check digit 2 over digits 1-10


def _digit(x: str, i: int) -> str:
    """SQL for digit i (1 = leftmost) of the 11-digit number x."""
    return f"(({x} // {10 ** (11 - i)}) % 10)"


def _weighted(x: str, weights: tuple[int, ...]) -> str:
    return " + ".join(f"{w} * {_digit(x, i)}" for i, w in enumerate(weights, start=1))


_MACROS = rf"""
CREATE OR REPLACE MACRO hfg_k(w) AS CASE WHEN w % 11 = 0 THEN 0 ELSE 11 - w % 11 END;
-- A calendar date from two-digit day, month and year (29 February in every fourth year).
CREATE OR REPLACE MACRO hfg_dmy_ok(dd, mm, yy) AS (
    mm BETWEEN 1 AND 12 AND dd >= 1 AND dd <= CASE
        WHEN mm IN (4, 6, 9, 11) THEN 30
        WHEN mm = 2 THEN CASE WHEN yy % 4 = 0 THEN 29 ELSE 28 END
        ELSE 31 END
);
-- x: an 11-digit fødselsnummer as a number (digits by integer arithmetic: far cheaper than
-- substrings). Day +40 = D-number, month +40 = H-number; two mod-11 check digits.
CREATE OR REPLACE MACRO hfg_fnr_num_ok(x) AS (
    hfg_dmy_ok((x // 1000000000) % 40, ((x // 10000000) % 100) % 40, (x // 100000) % 100)
    AND hfg_k({_weighted("x", _W1)}) = {_digit("x", 10)}
    AND hfg_k({_weighted("x", _W2)}) = {_digit("x", 11)}
);
CREATE OR REPLACE MACRO hfg_fnr_ok(s) AS CASE
    WHEN regexp_full_match(s, '\d{{11}}') THEN hfg_fnr_num_ok(TRY_CAST(s AS BIGINT)) ELSE false END;
-- s: 10 digits (hyphen removed). The CPR modulus-11 check was dropped in 2007: date only.
CREATE OR REPLACE MACRO hfg_cpr_num_ok(x) AS
    hfg_dmy_ok(x // 100000000, (x // 1000000) % 100, (x // 10000) % 100);
CREATE OR REPLACE MACRO hfg_cpr_ok(s) AS CASE
    WHEN regexp_full_match(s, '\d{{10}}') THEN hfg_cpr_num_ok(TRY_CAST(s AS BIGINT)) ELSE false END;
CREATE OR REPLACE MACRO hfg_digits(s) AS regexp_replace(s, '[\s-]', '', 'g');
-- Identity numbers inside longer text (the whole-value forms are checked on numbers, see
-- `_phase2`). CASE, not AND: DuckDB evaluates a THEN branch only for the rows its WHEN
-- selects, so the costly checks run on candidates alone.
CREATE OR REPLACE MACRO hfg_fnr_in_text(c) AS CASE
    WHEN regexp_matches(c, '\d{{6}}[ -]?\d{{5}}') THEN
        len(list_filter(regexp_extract_all(c, {_sql(FNR_SEARCH)}, 1),
                        lambda x: hfg_fnr_ok(hfg_digits(x)))) > 0
    ELSE false END;
CREATE OR REPLACE MACRO hfg_cpr_in_text(c) AS CASE
    WHEN regexp_matches(c, '\d{{6}}-\d{{4}}') THEN
        len(list_filter(regexp_extract_all(c, {_sql(CPR_SEARCH)}, 1),
                        lambda x: hfg_cpr_ok(replace(x, '-', '')))) > 0
    ELSE false END;
CREATE OR REPLACE MACRO hfg_has_email(c) AS CASE
    WHEN contains(c, '@') THEN regexp_matches(c, {_sql(EMAIL_SEARCH)}) ELSE false END;
CREATE OR REPLACE MACRO hfg_is_phone_prefixed(c) AS regexp_full_match(c, {_sql(PHONE_PREFIXED)});
CREATE OR REPLACE MACRO hfg_is_phone_bare(c) AS CASE
    WHEN regexp_full_match(c, {_sql(PHONE_BARE)}) THEN NOT regexp_full_match(c, {_sql(YYYYMMDD)})
    ELSE false END;
"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_registered: weakref.WeakSet = weakref.WeakSet()


def register_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the hfg_* detection macros on a connection, once (temporary: they die with it,
    and never reach a warehouse file)."""
    if con in _registered:
        return
    con.execute(_MACROS.replace("CREATE OR REPLACE MACRO", "CREATE OR REPLACE TEMP MACRO"))
    _registered.add(con)


# ---- scanning ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnScan:
    column: str  # the header as in the file, or "(column N)" for a blank header
    scope: Scope
    non_empty: int
    fodselsnummer: int = 0
    cpr: int = 0
    email: int = 0
    phone: int = 0

    def count(self, kind: str) -> int:
        return int(getattr(self, kind))


@dataclass(frozen=True)
class Finding:
    column: str
    kind: Kind
    rows: int  # values of this kind (0 for identifier_column)
    non_empty: int

    def describe(self) -> str:
        what = KIND_TEXT[self.kind]
        where = self.column if self.column.startswith("(") else f"column {self.column!r}"
        if self.kind == "identifier_column":
            return f"{where} is named like {what}"
        share = f"{self.rows:,} of {self.non_empty:,} non-empty values"
        return f"{where}: {share} look like {what}"


class IdentifierFound(Exception):
    """A file holds identifiers: the run stops (exit code 5). Names file and columns only."""

    exit_code = 5

    def __init__(self, label: str, findings: list[Finding]):
        self.label, self.findings = label, findings
        lines = "\n  - ".join(f.describe() for f in findings)
        super().__init__(
            f"{label}: identifying data found; the run stopped before loading this file, nothing "
            f"was published and the previous warehouse is unchanged:\n  - {lines}\n"
            "Input must be pseudonymised first: `hfeval pseudonymise` "
            "(docs/privacy.md). A false alarm from a phone-like or header-name rule can be "
            "silenced by listing the column under `ignore_columns` in source.yaml."
        )


# A whole value that is an identity number, maybe with one space or hyphen after the 6th digit.
WHOLE_ID = r"\s*\d{6}[ -]?\d{4,5}\s*"


def _phase2(expr: str, relation: str, prefilter: str) -> str:
    """Candidate rows with the whole-value identity number computed once per row: c (text),
    n (its digits as a number), nlen (how many digits), plain (no separator)."""
    return (
        "SELECT c, TRY_CAST(d AS BIGINT) AS n, length(d) AS nlen, d = trim(c) AS plain, "
        "contains(c, '-') AS hyphen FROM (SELECT c, CASE WHEN regexp_full_match(c, "
        f"{_sql(WHOLE_ID)}) THEN hfg_digits(c) END AS d FROM (SELECT {expr} AS c "
        f"FROM {relation}) WHERE regexp_matches(c, {_sql(prefilter)}))"
    )


def _aggregates(scope: Scope) -> list[tuple[str, str]]:
    """(kind, SQL count) pairs over `_phase2` rows, by scope."""
    fnr = ("CASE WHEN n IS NOT NULL THEN nlen IN (10, 11) AND hfg_fnr_num_ok(n) "
           "ELSE hfg_fnr_in_text(c) END")  # 10 digits: a leading zero lost in a spreadsheet
    cpr = ("CASE WHEN n IS NOT NULL THEN nlen = 10 AND hyphen AND hfg_cpr_num_ok(n) "
           "ELSE hfg_cpr_in_text(c) END")
    if scope in ("text", "unknown"):
        cpr = f"({cpr} OR (n IS NOT NULL AND nlen = 10 AND plain AND hfg_cpr_num_ok(n)))"
    out = [("fodselsnummer", fnr), ("cpr", cpr), ("email", "hfg_has_email(c)")]
    if scope != "ignored":
        phone = "hfg_is_phone_prefixed(c)"
        if scope == "unknown":
            phone = f"({phone} OR hfg_is_phone_bare(c))"
        out.append(("phone", phone))
    return [(k, f"count(*) FILTER (WHERE {cond})") for k, cond in out]


def _prefilter(scope: Scope) -> str:
    """One regular expression every candidate of the scope's rules matches (cheap first pass)."""
    parts = [r"\d{6}[ -]?\d{4}", "@"]  # identity numbers (with or without separator), e-mail
    if scope != "ignored":
        parts.append(r"^\s*(?:\+|00)\s?4[57]")
    if scope == "unknown":
        parts.append(r"^\s*[2-9]\d[\d ]{6,8}\s*$")
    return "|".join(parts)


# A column with at most this share of distinct values is searched once per distinct value
# (group first, then search): national tables repeat ids, codes and amounts millions of times.
GROUP_BELOW_DISTINCT_SHARE = 0.25
GROUP_MIN_ROWS = 100_000


def scan_columns(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[tuple[str, str, Scope]],
    no_values: frozenset[int] = frozenset(),
) -> list[ColumnScan]:
    """Count identifier-like values in `columns` ((SQL column name, label, scope)).

    Two passes: one cheap regular expression per value counts candidates in every column; the
    exact rules (check digits, dates) then run only on the candidate rows of columns that have
    any. Clean data costs one pass. In large files, a column that repeats its values is
    searched per distinct value (with its row count) instead of per row. Columns in
    `no_values` (positions in `columns`: dates, times or booleans as text, which cannot spell
    an identifier) are counted, not searched.
    """
    if not columns:
        return []
    exprs = [f"CAST({_ident(sql_name)} AS VARCHAR)" for sql_name, _, _ in columns]
    searched = [i for i in range(len(columns)) if i not in no_values]
    grouped: set[int] = set()
    if searched:
        stats = con.execute(
            f"SELECT count(*), {', '.join(f'approx_count_distinct({exprs[i]})' for i in searched)} "
            f"FROM {relation}"
        ).fetchall()[0]
        if stats[0] >= GROUP_MIN_ROWS:
            grouped = {i for i, d in zip(searched, stats[1:], strict=True)
                       if d <= GROUP_BELOW_DISTINCT_SHARE * stats[0]}

    def candidate(expr: str, scope: Scope) -> str:
        return f"regexp_matches({expr}, {_sql(_prefilter(scope))})"

    first = []
    for i, (expr, (_, _, scope)) in enumerate(zip(exprs, columns, strict=True)):
        if i in grouped:
            first += ["NULL", "NULL"]
            continue
        first.append(f"count(*) FILTER (WHERE {expr} <> '')")
        first.append("0" if i in no_values else f"count(*) FILTER (WHERE {candidate(expr, scope)})")
    row = list(con.execute(f"SELECT {', '.join(first)} FROM {relation}").fetchall()[0])
    for i in sorted(grouped):
        scope = columns[i][2]
        row[2 * i], row[2 * i + 1] = con.execute(
            "SELECT sum(n) FILTER (WHERE v <> ''), sum(n) FILTER (WHERE "
            f"{candidate('v', scope)}) FROM (SELECT v, count(*) AS n FROM "
            f"(SELECT {exprs[i]} AS v FROM {relation}) GROUP BY v)"
        ).fetchall()[0]
    scans = []
    for i, (expr, (_, label, scope)) in enumerate(zip(exprs, columns, strict=True)):
        counts = {"non_empty": int(row[2 * i] or 0)}
        if row[2 * i + 1]:
            register_macros(con)
            aggs = _aggregates(scope)
            found = con.execute(
                f"SELECT {', '.join(a for _, a in aggs)} "
                f"FROM ({_phase2(expr, relation, _prefilter(scope))})"
            ).fetchall()[0]
            counts.update({kind: int(n or 0) for (kind, _), n in zip(aggs, found, strict=True)})
        scans.append(ColumnScan(column=label, scope=scope, **counts))
    return scans


def findings_of(scans: list[ColumnScan]) -> list[Finding]:
    """Apply the stop rules (module docstring) to column scans."""
    out: list[Finding] = []
    for s in scans:
        for kind in ("fodselsnummer", "cpr", "email"):
            if s.count(kind):
                out.append(Finding(s.column, kind, s.count(kind), s.non_empty))
        if s.phone and s.phone >= PHONE_SHARE * s.non_empty:
            out.append(Finding(s.column, "phone", s.phone, s.non_empty))
        if s.scope == "unknown" and identifier_name_kind(s.column):
            out.append(Finding(s.column, "identifier_column", 0, s.non_empty))
    return out


def column_scopes(
    table: contract.Table, headers: list[str], sources: dict[str, int], ignored: list[str]
) -> list[Scope]:
    """Scope of each file column: mapped contract column (text/typed), ignored or unknown."""
    mapped = {i: c for c, i in sources.items()}
    ignore = {normalise_name(n) for n in ignored}
    scopes: list[Scope] = []
    for i, h in enumerate(headers):
        if i in mapped:
            scopes.append("text" if table.column(mapped[i]).dtype == "VARCHAR" else "typed")
        elif normalise_name(str(h or "").strip()) in ignore:
            scopes.append("ignored")
        else:
            scopes.append("unknown")
    return scopes


def _label(header: str, i: int) -> str:
    h = str(header or "").replace("\ufeff", "").strip().strip("\"'").strip()
    return h or f"(column {i + 1})"


def check_staged(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    table: contract.Table,
    headers: list[str],
    sources: dict[str, int],
    ignored: list[str],
    label: str,
    no_values: frozenset[int] = frozenset(),
) -> list[ColumnScan]:
    """Scan a staged file (columns c0..cN) and raise IdentifierFound if a stop rule fires.
    `no_values`: columns holding dates, times or booleans (see `scan_columns`)."""
    t0 = time.perf_counter()
    scopes = column_scopes(table, headers, sources, ignored)
    # A header row naming no known column is probably a data row (the file lacks its header):
    # name its columns by position, and check its cells like values.
    header_is_data = not sources and not ignored
    labels = [f"(column {i + 1})" if header_is_data else _label(h, i)
              for i, h in enumerate(headers)]
    scans = scan_columns(con, relation, [(f"c{i}", labels[i], scopes[i])
                                         for i in range(len(headers))], no_values)
    findings = findings_of(scans) + _header_findings(con, headers)
    if header_is_data:  # the name rule, on the real header cells, reported by position
        findings += [Finding(labels[i], "identifier_column", 0, scans[i].non_empty)
                     for i, h in enumerate(headers) if identifier_name_kind(str(h or ""))]
    seconds = round(time.perf_counter() - t0, 3)
    log.info(
        "%s: identifier guard checked %d column(s) in %.2f s: %d finding(s)",
        label, len(scans), seconds, len(findings),
        extra=hflog.fields(
            "guard", file=label, table=table.name, columns=len(scans), seconds=seconds,
            findings=[{"column": f.column, "kind": f.kind, "rows": f.rows} for f in findings],
        ),
    )
    if findings:
        raise IdentifierFound(label, findings)
    return scans


def _header_findings(con: duckdb.DuckDBPyConnection, headers: list[str]) -> list[Finding]:
    """Strict rules on the header cells: a file without its header row has a data row there."""
    cells = [str(h or "") for h in headers]
    if not cells:
        return []
    con.register("__hfg_header", pa.table({"c0": pa.array(cells, pa.string())}))
    try:
        scans = scan_columns(con, "__hfg_header", [("c0", HEADER_ROW, "ignored")])
    finally:
        con.unregister("__hfg_header")
    return findings_of(scans)


def check_lines(con: duckdb.DuckDBPyConnection, lines: list[str], label: str) -> None:
    """Lines the CSV parser rejected go to quarantine whole: refuse them if they hold a valid
    identity number or an e-mail address (the strong rules; a line has no columns to judge)."""
    if not lines:
        return
    con.register("__hfg_lines", pa.table({"c0": pa.array(lines, pa.string())}))
    try:
        scans = scan_columns(con, "__hfg_lines", [("c0", REJECTED_LINES, "ignored")])
    finally:
        con.unregister("__hfg_lines")
    findings = findings_of(scans)
    if findings:
        raise IdentifierFound(label, findings)
