"""`hfeval pseudonymise`: keyed hashes for identity numbers, no direct identifiers, birth years,
counts-only reports; the result passes the guard and the pipeline."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
from pathlib import Path

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from hfeval import pipeline
from hfeval import pseudonymise as ps
from hfeval.cli import app
from hfeval.config import get_paths
from tests import synthetic_ids as ids
from tests.helpers import HOUSING_SPELLS

KEY = b"k" * 32
FNR = ids.fodselsnummer()
FNR2 = ids.fodselsnummer(day=2)
CPR = ids.cpr()


def write(root: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(text.encode(encoding))
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def run(in_dir: Path, out_dir: Path, key: bytes = KEY, **opts) -> ps.Report:
    return ps.pseudonymise(in_dir, out_dir, key, ps.Options(**opts))


def expected(key: bytes, text: str) -> str:
    """HMAC-SHA256 computed here independently of the module."""
    mac = hmac.new(key, text.encode(), hashlib.sha256).digest()
    return "PS-" + base64.b32encode(mac[:10]).decode()


# ---- identity numbers --------------------------------------------------------------------------


def test_a_national_id_becomes_the_hmac_sha256_of_its_normalised_form(tmp_path):
    run(write(tmp_path / "in", {"a.csv": f"fnr,x\n{FNR},1\n"}), tmp_path / "out")
    (row,) = read_csv(tmp_path / "out" / "a.csv")
    assert row == {"participant_id": expected(KEY, f"nid:{FNR}"), "x": "1"}


def test_one_person_gets_one_pseudonym_in_every_file_and_spelling(tmp_path):
    spellings = [FNR, f"{FNR[:6]} {FNR[6:]}", f"{FNR[:6]}-{FNR[6:]}", FNR[1:]]  # last: Excel
    files = {f"kommune{i}/f.csv": f"personnummer,x\n{s},{i}\n" for i, s in enumerate(spellings)}
    run(write(tmp_path / "in", files), tmp_path / "out")
    got = {read_csv(tmp_path / "out" / f"kommune{i}" / "f.csv")[0]["participant_id"]
           for i in range(len(spellings))}
    assert got == {expected(KEY, f"nid:{FNR}")}


def test_a_column_of_national_ids_is_hashed_whatever_its_header(tmp_path):
    run(write(tmp_path / "in", {"a.csv": f"ref,x\n{FNR},1\n{FNR2},2\n{CPR},3\n"}),
        tmp_path / "out")
    refs = [r["ref"] for r in read_csv(tmp_path / "out" / "a.csv")]
    assert refs == [expected(KEY, f"nid:{v}") for v in (FNR, FNR2, CPR.replace("-", ""))]


def test_local_ids_are_hashed_apart_per_source(tmp_path):
    files = {"hamar/deltakere.csv": "løpenummer,x\n17,1\n",
             "sandnes/deltakere.csv": "løpenummer,x\n17,1\n"}
    for src in ("hamar", "sandnes"):
        files[f"{src}/source.yaml"] = f"source_id: {src}\n"
    run(write(tmp_path / "in", files), tmp_path / "out")
    a = read_csv(tmp_path / "out" / "hamar" / "deltakere.csv")[0]["løpenummer"]
    b = read_csv(tmp_path / "out" / "sandnes" / "deltakere.csv")[0]["løpenummer"]
    assert a == expected(KEY, "local:hamar:17") and b == expected(KEY, "local:sandnes:17")


def test_a_column_the_user_names_is_hashed(tmp_path):
    run(write(tmp_path / "in", {"a.csv": "klient,x\nAB 12,1\n"}), tmp_path / "out",
        id_columns=("klient",))
    (row,) = read_csv(tmp_path / "out" / "a.csv")
    assert row["klient"] == expected(KEY, f"local:{(tmp_path / 'in').name}:AB12")


def test_another_key_gives_other_pseudonyms(tmp_path):
    data = write(tmp_path / "in", {"a.csv": f"fnr\n{FNR}\n"})
    run(data, tmp_path / "one", key=b"a" * 32)
    run(data, tmp_path / "two", key=b"b" * 32)
    assert read_csv(tmp_path / "one" / "a.csv") != read_csv(tmp_path / "two" / "a.csv")


# ---- direct identifiers, birth dates, free text --------------------------------------------------


@pytest.mark.parametrize("header", ["Navn", "Etternavn", "Efternavn", "Name", "Adresse",
                                    "Vejnavn", "Address", "Telefon", "Mobil", "Phone", "E-post",
                                    "Email"])
def test_a_direct_identifier_column_is_removed_by_its_name(tmp_path, header):
    run(write(tmp_path / "in", {"a.csv": f"id,{header},x\nP1,whatever,1\n"}), tmp_path / "out")
    assert list(read_csv(tmp_path / "out" / "a.csv")[0]) == ["id", "x"]


def test_columns_of_phone_numbers_or_email_addresses_are_removed_by_their_values(tmp_path):
    text = f"id,kontakt,info,x\nP1,+47 912 34 567,{ids.EMAIL},1\nP2,41234567,b@example.org,2\n"
    report = run(write(tmp_path / "in", {"a.csv": text}), tmp_path / "out")
    assert list(read_csv(tmp_path / "out" / "a.csv")[0]) == ["id", "x"]
    actions = {c.column: (c.action, c.reason) for c in report.files[0].columns}
    assert actions["kontakt"] == ("dropped", "values are phone numbers")
    assert actions["info"] == ("dropped", "values are e-mail addresses")


def test_a_column_the_user_keeps_is_not_removed_for_its_name(tmp_path):
    run(write(tmp_path / "in", {"a.csv": "id,navn\nP1,Lønn team\n"}), tmp_path / "out",
        keep_columns=("navn",))
    assert read_csv(tmp_path / "out" / "a.csv")[0]["navn"] == "Lønn team"


def test_birth_dates_become_birth_years(tmp_path):
    text = "id,Fødselsdato\nP1,01.02.1980\nP2,1975-12-31\nP3,1990\nP4,not a date\n"
    report = run(write(tmp_path / "in", {"a.csv": text}), tmp_path / "out")
    rows = read_csv(tmp_path / "out" / "a.csv")
    assert [r["birth_year"] for r in rows] == ["1980", "1975", "1990", ""]
    (col,) = [c for c in report.files[0].columns if c.column == "Fødselsdato"]
    assert (col.action, col.values, col.unreadable) == ("birth_year", 3, 1)


def test_a_birth_date_beside_a_birth_year_is_removed(tmp_path):
    text = "id,fødselsår,fødselsdato\nP1,1980,01.02.1980\n"
    run(write(tmp_path / "in", {"deltakere.csv": text}), tmp_path / "out")
    assert list(read_csv(tmp_path / "out" / "deltakere.csv")[0]) == ["id", "fødselsår"]


def test_identifiers_inside_free_text_are_replaced(tmp_path):
    text = (f'id,merknad\nP1,"ring +47 912 34 567 eller {ids.EMAIL}"\nP2,fnr {FNR} og {CPR}\n'
            "P3,ingen\n")
    run(write(tmp_path / "in", {"a.csv": text}), tmp_path / "out")
    notes = [r["merknad"] for r in read_csv(tmp_path / "out" / "a.csv")]
    assert notes == ["ring [removed] eller [removed]", "fnr [removed] og [removed]", "ingen"]


# ---- reports, formats, mapping files ------------------------------------------------------------


def test_the_report_counts_changes_by_column_and_never_holds_a_value(tmp_path):
    text = f"fnr,Navn,x\n{FNR},Ingeborg Planteland,1\n{FNR2},Ola,2\n"
    run(write(tmp_path / "in", {"a.csv": text}), tmp_path / "out")
    raw = (tmp_path / "out" / ps.REPORT_FILE).read_text(encoding="utf-8")
    report = json.loads(raw)
    cols = {c["column"]: (c["action"], c["values"]) for c in report["files"][0]["columns"]}
    assert cols == {"fnr": ("hashed", 2), "Navn": ("dropped", 2), "x": ("kept", 0)}
    assert report["key_id"] == ps.key_id(KEY)
    for value in (FNR, FNR2, "Planteland", "Ola", KEY.decode()):
        assert value not in raw


def test_windows_1252_semicolon_csv_excel_and_parquet_become_utf8_csv(tmp_path):
    data = write(tmp_path / "in", {"a.csv": "løpenummer;kjønn\nP1;kvinne\n"}, encoding="cp1252")
    wb = openpyxl.Workbook()
    wb.active.title = "Ark1"
    wb.active.append(["Deltakere"])  # a title row above the header
    wb.active.append(["fnr", "x"])
    wb.active.append([int(FNR), 1])  # typed as a number: leading zero lost
    wb.create_sheet("Ark2").append(["id", "y"])
    wb["Ark2"].append(["P9", "z"])
    wb.save(data / "b.xlsx")
    import polars as pl

    pl.DataFrame({"id": ["P1"], "n": [3]}).write_parquet(data / "c.parquet")
    report = run(data, tmp_path / "out")
    out = tmp_path / "out"
    assert read_csv(out / "a.csv") == [{"løpenummer": expected(KEY, "local:in:P1"),
                                        "kjønn": "kvinne"}]
    assert read_csv(out / "b__Ark1.csv") == [{"participant_id": expected(KEY, f"nid:{FNR}"),
                                              "x": "1"}]
    assert read_csv(out / "b__Ark2.csv") == [{"id": expected(KEY, "local:in:P9"), "y": "z"}]
    assert read_csv(out / "c.csv") == [{"id": expected(KEY, "local:in:P1"), "n": "3"}]
    (ark1,) = [f for f in report.files if f.sheet == "Ark1"]
    assert (ark1.title_rows, ark1.rows_read, ark1.rows_written) == (1, 1, 1)


def test_source_yaml_is_rewritten_for_the_new_files(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Info"
    wb.create_sheet("Klienter").append(["Fødselsnummer", "Fødselsdato", "Kjønn"])
    wb["Klienter"].append([FNR, "01.01.1980", "K"])
    data = tmp_path / "in"
    data.mkdir()
    wb.save(data / "uttrekk.xlsx")
    (data / "source.yaml").write_text(
        "source_id: kommune\ncsv: {delimiter: ';', encoding: cp1252}\ntables:\n  participants:\n"
        "    file: uttrekk.xlsx\n    sheet: Klienter\n    header_row: 1\n    columns:\n"
        "      participant_id: Fødselsnummer\n      birth_year: Fødselsdato\n"
        "      sex: Kjønn\n", encoding="utf-8")
    run(data, tmp_path / "out")
    spec = yaml.safe_load((tmp_path / "out" / "source.yaml").read_text(encoding="utf-8"))
    assert spec["csv"] == {"delimiter": ",", "encoding": "utf-8"}
    assert spec["tables"]["participants"] == {
        "file": "uttrekk__Klienter.csv",
        "columns": {"participant_id": "participant_id", "birth_year": "birth_year",
                    "sex": "Kjønn"},
    }


def test_the_pseudonymised_export_passes_the_guard_and_the_pipeline(tmp_path):
    participants = (
        "Fødselsnummer;Navn;Telefon;Fødselsdato;Kjønn;Innskrivingsdato;Gruppe;Kommunenr\n"
        f"{FNR};Ingeborg Planteland;91234567;01.01.1980;mann;06.01.2014;HF;4205\n"
        f"{FNR2};Ola;41234567;02.02.1975;kvinne;06.01.2014;HF;4205\n"
    )
    spells = HOUSING_SPELLS.splitlines()[0] + "\n" + (
        f"{FNR},2014-01-06,,own_lease,ordinary,\n{FNR2[:6]} {FNR2[6:]},2014-01-06,,shelter,,\n")
    source = ("source_id: kommune\nextraction_date: 2016-12-31\ntables:\n  participants:\n"
              "    file: deltakere.csv\n    codes:\n      sex: {mann: male, kvinne: female}\n"
              "      arm: {HF: housing_first}\n")
    raw = write(tmp_path / "raw", {"deltakere.csv": participants, "boforhold.csv": spells,
                                   "source.yaml": source})
    refused = pipeline.run(raw, paths=get_paths())
    assert refused.exit_code == 5
    run(raw, tmp_path / "clean")
    result = pipeline.run(tmp_path / "clean", paths=get_paths())
    assert result.exit_code == 0, result.messages
    assert result.manifest["tables"]["participants"]["rows_loaded"] == 2
    assert result.manifest["tables"]["housing_spells"]["rows_loaded"] == 2  # linked by pseudonym


# ---- refusals ------------------------------------------------------------------------------------


def test_a_key_shorter_than_32_bytes_is_refused(tmp_path):
    key = tmp_path / "key"
    key.write_bytes(b"x" * 31 + b"\n")
    with pytest.raises(ps.PseudonymiseError, match="at least 32 bytes"):
        ps.load_key(key, None)


def test_the_key_comes_from_exactly_one_of_a_file_or_an_environment_variable(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("HF_KEY", "s" * 40)
    assert ps.load_key(None, "HF_KEY") == b"s" * 40
    with pytest.raises(ps.PseudonymiseError, match="exactly one"):
        ps.load_key(tmp_path / "key", "HF_KEY")
    with pytest.raises(ps.PseudonymiseError, match="not set"):
        ps.load_key(None, "HF_KEY_UNSET")


def test_a_key_file_inside_the_project_or_the_output_is_refused(tmp_path):
    key = tmp_path / "out" / "key"
    key.parent.mkdir()
    key.write_bytes(b"x" * 40)
    with pytest.raises(ps.PseudonymiseError, match="outside"):
        ps.load_key(key, None, keep_out_of=(tmp_path / "out",))


def test_the_output_folder_must_be_new_or_empty(tmp_path):
    data = write(tmp_path / "in", {"a.csv": "id\nP1\n"})
    write(tmp_path / "out", {"keep.txt": "mine"})
    with pytest.raises(ps.PseudonymiseError, match="not empty"):
        run(data, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_nothing_is_written_when_a_file_cannot_be_read(tmp_path):
    data = write(tmp_path / "in", {"a.csv": "id\nP1\n", "b.csv": ""})
    with pytest.raises(Exception, match="b.csv"):
        run(data, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in"]  # no half-written folder


def test_a_file_whose_first_row_is_data_with_an_identity_number_is_refused(tmp_path):
    data = write(tmp_path / "in", {"a.csv": f"{FNR},kvinne\n{FNR2},mann\n"})
    with pytest.raises(ps.PseudonymiseError, match="header row") as refused:
        run(data, tmp_path / "out")
    assert FNR not in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_the_cli_prints_counts_and_a_key_id_never_a_value(tmp_path, monkeypatch):
    data = write(tmp_path / "in", {"a.csv": f"fnr,Navn\n{FNR},Ingeborg Planteland\n"})
    monkeypatch.setenv("HF_KEY", KEY.decode())
    result = CliRunner().invoke(app, ["pseudonymise", str(data), str(tmp_path / "out"),
                                      "--key-env", "HF_KEY"])
    assert result.exit_code == 0
    screen = result.stdout + result.stderr
    assert "hashed" in screen and "dropped" in screen and ps.key_id(KEY) in screen
    assert FNR not in screen and "Planteland" not in screen and KEY.decode() not in screen


def test_the_cli_refuses_a_short_key_with_exit_code_3(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_KEY", "tiny-secret")
    data = write(tmp_path / "in", {"a.csv": "id\nP1\n"})
    result = CliRunner().invoke(app, ["pseudonymise", str(data), str(tmp_path / "out"),
                                      "--key-env", "HF_KEY"])
    assert result.exit_code == 3
    assert "at least 32 bytes" in result.stderr and "tiny-secret" not in result.stderr
    assert not (tmp_path / "out").exists()
