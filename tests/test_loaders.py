"""Loading exports into raw_<table> (CSV, XLSX, Parquet) and the parse macros / typed view."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from hfeval import contract, validation
from hfeval.loaders import (
    create_typed_view,
    load_raw_table,
    register_parse_macros,
    sha256_file,
)
from hfeval.sources import SourceError, TableInput, TableMapping, discover_sources

CONTACTS = contract.SUPPORT_CONTACTS  # participant_id, contact_date, contact_type, minutes
PARTICIPANTS = contract.PARTICIPANTS


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def load(tmp_path, table, *files, mapping=None, hints=None, extraction_date=None):
    con = duckdb.connect()
    inputs = [
        TableInput("src", table.name, f, mapping or TableMapping(), hints or {}) for f in files
    ]
    report = load_raw_table(
        con,
        table,
        inputs,
        extraction_dates={"src": extraction_date},
        data_root=tmp_path,
        work_dir=tmp_path / "work",
    )
    return con, report


def rows(con, table, *cols):
    select = ", ".join(cols)
    return con.execute(f"SELECT {select} FROM raw_{table.name} ORDER BY _row_id").fetchall()


def contact_values(con):
    return rows(con, CONTACTS, "participant_id", "contact_date", "contact_type", "minutes")


# ---- CSV dialects and encodings ------------------------------------------------------------------


def test_comma_csv(tmp_path):
    f = write(
        tmp_path / "c.csv",
        "participant_id,contact_date,contact_type,minutes\nP1,2020-01-02,phone,15\n",
    )

    con, report = load(tmp_path, CONTACTS, f)

    assert contact_values(con) == [("P1", "2020-01-02", "phone", "15")]
    assert report.files[0].delimiter == ","


def test_semicolon_csv_with_decimal_commas_in_values(tmp_path):
    f = write(
        tmp_path / "c.csv",
        "participant_id;contact_date;contact_type;minutes\nP1;02.01.2020;phone;1,5\n",
    )

    con, report = load(tmp_path, CONTACTS, f)

    assert contact_values(con) == [("P1", "02.01.2020", "phone", "1,5")]
    assert report.files[0].delimiter == ";"


def test_tab_separated_txt(tmp_path):
    f = write(
        tmp_path / "c.txt", "participant_id\tcontact_date\tcontact_type\nP1\t2020-01-02\tphone\n"
    )

    con, report = load(tmp_path, CONTACTS, f)

    assert contact_values(con) == [("P1", "2020-01-02", "phone", None)]
    assert report.files[0].delimiter == "\t"


def test_delimiter_hint_overrides_detection(tmp_path):
    f = write(
        tmp_path / "c.csv", "participant_id|contact_date;x|contact_type\nP1|2020-01-02;y|phone\n"
    )

    con, _ = load(tmp_path, CONTACTS, f, hints={"delimiter": "|"})

    assert rows(con, CONTACTS, "participant_id", "contact_type") == [("P1", "phone")]


def test_quoted_fields_keep_the_delimiter_and_quotes_inside(tmp_path):
    f = write(
        tmp_path / "c.csv",
        'participant_id;contact_date;contact_type\n"P;1";"2020-01-02";"say ""hi"""\n',
    )

    con, _ = load(tmp_path, CONTACTS, f)

    assert rows(con, CONTACTS, "participant_id", "contact_type") == [("P;1", 'say "hi"')]


def test_header_names_with_surrounding_spaces_and_quotes_are_recognised(tmp_path):
    f = write(
        tmp_path / "c.csv",
        ' "participant_id" ; contact_date ;"contact_type"\nP1;2020-01-02;phone\n',
    )

    con, report = load(tmp_path, CONTACTS, f)

    assert report.files[0].unknown_columns == []
    assert rows(con, CONTACTS, "participant_id", "contact_type") == [("P1", "phone")]


def test_values_are_trimmed_and_empty_strings_are_null(tmp_path):
    f = write(
        tmp_path / "c.csv",
        'participant_id;contact_date;contact_type;minutes\n  P1 ;\u00a02020-01-02 ;"";  \n',
    )

    con, _ = load(tmp_path, CONTACTS, f)

    assert contact_values(con) == [("P1", "2020-01-02", None, None)]


def test_utf8_values_and_headers(tmp_path):
    f = write(tmp_path / "d.csv", "løpenummer;kjønn;fødselsår\nÆØÅ-1;K;1980\n")

    con, report = load(tmp_path, PARTICIPANTS, f)

    assert rows(con, PARTICIPANTS, "participant_id", "sex", "birth_year") == [
        ("ÆØÅ-1", "K", "1980")
    ]
    assert report.files[0].encoding == "utf-8"


def test_utf8_with_bom(tmp_path):
    f = write(tmp_path / "d.csv", "\ufeffløpenummer;kjønn\nP1;K\n")

    con, report = load(tmp_path, PARTICIPANTS, f)

    assert report.files[0].column_map == {"participant_id": "løpenummer", "sex": "kjønn"}
    assert rows(con, PARTICIPANTS, "participant_id") == [("P1",)]
    assert report.files[0].encoding == "utf-8-sig"


def test_windows_1252_headers_and_values_are_transcoded(tmp_path):
    f = write(tmp_path / "d.csv", "Løpenummer;Kjønn;Fødselsår\nBjørn–Åse;K;1980\n", "cp1252")

    con, report = load(tmp_path, PARTICIPANTS, f)

    assert report.files[0].encoding == "cp1252"
    assert report.files[0].column_map["birth_year"] == "Fødselsår"
    assert rows(con, PARTICIPANTS, "participant_id") == [("Bjørn–Åse",)]


def test_mixed_utf8_and_windows_1252_lines_are_each_decoded(tmp_path):
    f = tmp_path / "d.csv"
    f.write_bytes(
        "løpenummer;kjønn\n".encode() + "Søren;K\n".encode() + "Ærlig;M\n".encode("cp1252")
    )

    con, report = load(tmp_path, PARTICIPANTS, f)

    assert report.files[0].encoding == "mixed"
    assert rows(con, PARTICIPANTS, "participant_id") == [("Søren",), ("Ærlig",)]


def test_utf16_with_bom(tmp_path):
    f = write(tmp_path / "d.csv", "løpenummer;kjønn\r\nÅse;K\r\n", "utf-16")

    con, report = load(tmp_path, PARTICIPANTS, f)

    assert report.files[0].encoding == "utf-16"
    assert rows(con, PARTICIPANTS, "participant_id", "sex") == [("Åse", "K")]


def test_encoding_hint_is_used_and_violations_name_the_line_only(tmp_path):
    f = tmp_path / "d.csv"
    f.write_bytes("løpenummer\n".encode() + "Søren\n".encode("cp1252"))

    with pytest.raises(SourceError, match=r"line 2 is not valid UTF-8") as err:
        load(tmp_path, PARTICIPANTS, f, hints={"encoding": "utf-8"})

    assert "Søren" not in str(err.value) and "S\\xf8ren" not in str(err.value)


def test_mixed_line_endings_are_read(tmp_path):
    f = tmp_path / "c.csv"
    f.write_bytes(b"participant_id;contact_type\r\nP1;phone\nP2;digital\r\n")

    con, _ = load(tmp_path, CONTACTS, f)

    assert rows(con, CONTACTS, "participant_id", "contact_type") == [
        ("P1", "phone"),
        ("P2", "digital"),
    ]


# ---- rows: numbering, blanks, rejects ------------------------------------------------------------


def test_source_row_is_the_row_a_person_sees_counting_title_lines_and_header(tmp_path):
    f = write(
        tmp_path / "c.csv",
        "Uttrekk fra fagsystem 31.12.2019\n\nparticipant_id;contact_type\n"
        'P1;phone\nP2;"two\nlines"\nP3;phone\n',
    )

    con, report = load(tmp_path, CONTACTS, f)

    assert report.files[0].header_row == 3
    # A quoted line break stays within one row, as in a spreadsheet.
    assert rows(con, CONTACTS, "_source_row", "participant_id") == [(4, "P1"), (5, "P2"), (6, "P3")]


def test_row_ids_run_1_to_n_over_inputs_in_the_given_order(tmp_path):
    a = write(tmp_path / "a.csv", "participant_id\nA1\nA2\n")
    b = write(tmp_path / "b.csv", "participant_id\nB1\n")

    con, report = load(tmp_path, CONTACTS, b, a)

    assert rows(con, CONTACTS, "_row_id", "_source_file", "participant_id") == [
        (1, "b.csv", "B1"),
        (2, "a.csv", "A1"),
        (3, "a.csv", "A2"),
    ]
    assert report.rows_read == 3


def test_provenance_columns_come_first_then_every_contract_column(tmp_path):
    f = write(tmp_path / "c.csv", "participant_id\nP1\n")

    con, _ = load(tmp_path, CONTACTS, f, extraction_date=dt.date(2019, 12, 31))

    described = con.execute("DESCRIBE raw_support_contacts").fetchall()
    assert [(n, t) for n, t, *_ in described] == [
        ("_row_id", "BIGINT"),
        ("_source_id", "VARCHAR"),
        ("_source_file", "VARCHAR"),
        ("_source_row", "BIGINT"),
        ("_extraction_date", "DATE"),
        ("participant_id", "VARCHAR"),
        ("contact_date", "VARCHAR"),
        ("contact_type", "VARCHAR"),
        ("minutes", "VARCHAR"),
    ]
    assert rows(con, CONTACTS, "_source_id", "_extraction_date") == [("src", dt.date(2019, 12, 31))]


def test_malformed_lines_go_to_rejects_and_counts_add_up(tmp_path):
    f = write(
        tmp_path / "c.csv",
        'participant_id;contact_type\nP1;phone\nP2;phone;extra\nP3\nP4;phone\nP5;"open\n',
    )

    con, report = load(tmp_path, CONTACTS, f)

    assert rows(con, CONTACTS, "_source_row", "participant_id") == [(2, "P1"), (5, "P4")]
    rejects = con.execute(
        "SELECT _source_file, _source_row, reason, raw_line FROM raw_support_contacts__rejects "
        "ORDER BY _source_row"
    ).fetchall()
    assert rejects == [
        ("c.csv", 3, "too_many_fields", "P2;phone;extra"),
        ("c.csv", 4, "too_few_fields", "P3"),
        ("c.csv", 6, "unterminated_or_stray_quote", 'P5;"open'),
    ]
    fr = report.files[0]
    assert (fr.rows_read, fr.rows_rejected) == (5, 3)
    assert fr.rows_read == len(rows(con, CONTACTS, "*")) + len(rejects)


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_unterminated_quote_rejects_only_its_line_and_the_rows_after_it_load(tmp_path, eol):
    lines = ["participant_id;contact_type", "P1;phone", 'P2;"open', "P3;phone", 'P4;"x"', "P5;x"]
    f = write(tmp_path / "c.csv", eol.join(lines) + eol)

    con, report = load(tmp_path, CONTACTS, f)

    assert rows(con, CONTACTS, "_source_row", "participant_id", "contact_type") == [
        (2, "P1", "phone"),
        (4, "P3", "phone"),
        (5, "P4", "x"),
        (6, "P5", "x"),
    ]
    assert con.execute(
        "SELECT _source_row, reason, raw_line FROM raw_support_contacts__rejects"
    ).fetchall() == [(3, "unterminated_or_stray_quote", 'P2;"open')]
    assert (report.rows_read, report.rows_rejected) == (5, 1)


def test_blank_lines_are_skipped_and_counted_without_shifting_row_numbers(tmp_path):
    f = write(tmp_path / "c.csv", "participant_id;contact_type\nP1;phone\n\n;\nP2;phone\n\n\n")

    con, report = load(tmp_path, CONTACTS, f)

    assert rows(con, CONTACTS, "_source_row", "participant_id") == [(2, "P1"), (5, "P2")]
    assert (report.files[0].rows_read, report.files[0].rows_blank) == (2, 2)


def test_table_without_inputs_still_gets_empty_raw_and_rejects_tables(tmp_path):
    con, report = load(tmp_path, CONTACTS)

    assert con.execute("SELECT count(*) FROM raw_support_contacts").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM raw_support_contacts__rejects").fetchone() == (0,)
    assert report.to_dict() == {
        "table": "support_contacts",
        "rows_read": 0,
        "rows_rejected": 0,
        "rows_blank": 0,
        "files": [],
    }


# ---- columns -------------------------------------------------------------------------------------


def test_norwegian_and_danish_column_names_are_recognised(tmp_path):
    nb = write(
        tmp_path / "nb.csv", "Løpenummer;Kontaktdato;Kontakttype;Varighet\nP1;01.02.2020;phone;30\n"
    )
    da = write(tmp_path / "da.csv", "Løbenummer;Dato;Type;Minutter\nP2;02.02.2020;phone;45\n")

    con, report = load(tmp_path, CONTACTS, nb, da)

    assert [f.unknown_columns for f in report.files] == [[], []]
    assert contact_values(con) == [
        ("P1", "01.02.2020", "phone", "30"),
        ("P2", "02.02.2020", "phone", "45"),
    ]


def test_unknown_columns_are_reported_by_name_and_not_loaded(tmp_path):
    f = write(tmp_path / "c.csv", "participant_id;Skostørrelse;contact_type;\nP1;44;phone;\n")

    con, report = load(tmp_path, CONTACTS, f)

    assert report.files[0].unknown_columns == ["Skostørrelse"]  # empty trailing column: nothing
    assert contact_values(con) == [("P1", None, "phone", None)]


def test_ignored_columns_are_reported_as_ignored_not_unknown(tmp_path):
    f = write(tmp_path / "c.csv", "participant_id;Kommentar;contact_type\nP1;x;phone\n")

    _, report = load(tmp_path, CONTACTS, f, mapping=TableMapping(ignore_columns=["kommentar"]))

    assert report.files[0].ignored_columns == ["Kommentar"]
    assert report.files[0].unknown_columns == []


def test_mapped_columns_win_over_aliases(tmp_path):
    f = write(tmp_path / "c.csv", "Nr;id;Når;contact_type\nP1;X9;2020-01-02;phone\n")
    mapping = TableMapping(columns={"participant_id": "Nr", "contact_date": "Når"})

    con, report = load(tmp_path, CONTACTS, f, mapping=mapping)

    assert rows(con, CONTACTS, "participant_id", "contact_date") == [("P1", "2020-01-02")]
    assert report.files[0].column_map == {
        "participant_id": "Nr",
        "contact_date": "Når",
        "contact_type": "contact_type",
    }
    assert report.files[0].unknown_columns == ["id"]


def test_two_file_columns_matching_one_contract_column_is_an_error(tmp_path):
    f = write(tmp_path / "c.csv", "Dato;Kontaktdato;participant_id\n2020-01-01;2020-01-01;P1\n")

    with pytest.raises(
        SourceError, match="'Dato' and 'Kontaktdato' both match contract column contact_date"
    ):
        load(tmp_path, CONTACTS, f)


def test_a_mapped_column_the_file_lacks_is_reported_as_missing_not_as_a_mapping_error(tmp_path):
    # The file, not the mapping, is wrong: validation then fails the table (exit 2) and names it.
    f = write(tmp_path / "c.csv", "participant_id\nP1\n")

    _, report = load(
        tmp_path, CONTACTS, f, mapping=TableMapping(columns={"contact_type": "Type kontakt"})
    )

    assert report.files[0].mapped_columns_not_found == {"contact_type": "Type kontakt"}
    assert "contact_type" in report.files[0].missing_required_columns


def test_missing_required_and_optional_columns_are_reported_and_loaded_as_null(tmp_path):
    f = write(tmp_path / "c.csv", "participant_id;contact_type\nP1;phone\n")

    con, report = load(tmp_path, CONTACTS, f)

    assert report.files[0].missing_required_columns == ["contact_date"]
    assert report.files[0].missing_optional_columns == ["minutes"]
    assert contact_values(con) == [("P1", None, "phone", None)]


def test_constants_and_source_municipality_code_fill_absent_columns(tmp_path):
    f = write(tmp_path / "d.csv", "løpenummer;kjønn\nP1;K\n")
    mapping = TableMapping(
        constants={"arm": "housing_first"}, defaults={"municipality_code": "4205"}
    )

    con, report = load(tmp_path, PARTICIPANTS, f, mapping=mapping)

    assert rows(con, PARTICIPANTS, "arm", "municipality_code") == [("housing_first", "4205")]
    assert "municipality_code" not in report.files[0].missing_required_columns


def test_a_file_column_wins_over_the_source_municipality_code(tmp_path):
    f = write(tmp_path / "d.csv", "løpenummer;kommunenr\nP1;0301\n")

    con, _ = load(
        tmp_path, PARTICIPANTS, f, mapping=TableMapping(defaults={"municipality_code": "4205"})
    )

    assert rows(con, PARTICIPANTS, "municipality_code") == [("0301",)]


def test_constant_for_a_column_the_file_has_is_an_error(tmp_path):
    f = write(tmp_path / "d.csv", "løpenummer;gruppe\nP1;HF\n")

    with pytest.raises(SourceError, match="arm given as a constant but also present"):
        load(tmp_path, PARTICIPANTS, f, mapping=TableMapping(constants={"arm": "comparison"}))


# ---- codes ---------------------------------------------------------------------------------------


def test_codes_are_mapped_through_the_mapping(tmp_path):
    f = write(tmp_path / "d.csv", "løpenummer;kjønn;gruppe\nP1;K;HF\nP2;M;Kontroll\n")
    mapping = TableMapping(
        codes={
            "sex": {"K": "female", "M": "male"},
            "arm": {"HF": "housing_first", "Kontroll": "comparison"},
        }
    )

    con, report = load(tmp_path, PARTICIPANTS, f, mapping=mapping)

    assert rows(con, PARTICIPANTS, "sex", "arm") == [
        ("female", "housing_first"),
        ("male", "comparison"),
    ]
    assert report.files[0].unmapped_codes == {}


def test_codes_match_contract_codes_and_mapping_keys_ignoring_case(tmp_path):
    f = write(tmp_path / "d.csv", "løpenummer;metode;kjønn\nP1;act;k\nP2;Hf-Team;FEMALE\n")
    mapping = TableMapping(codes={"sex": {"K": "female"}})

    con, _ = load(tmp_path, PARTICIPANTS, f, mapping=mapping)

    assert rows(con, PARTICIPANTS, "support_model", "sex") == [
        ("ACT", "female"),
        ("HF-team", "female"),
    ]


def test_unmapped_codes_are_kept_as_they_are_and_counted(tmp_path):
    f = write(tmp_path / "d.csv", "løpenummer;kjønn\nP1;K\nP2;Q\nP3;Q\nP4;Z\nP5;\n")
    mapping = TableMapping(codes={"sex": {"K": "female"}})

    con, report = load(tmp_path, PARTICIPANTS, f, mapping=mapping)

    assert rows(con, PARTICIPANTS, "sex") == [("female",), ("Q",), ("Q",), ("Z",), (None,)]
    assert report.files[0].unmapped_codes == {"sex": {"distinct": 2, "rows": 3}}


def test_report_is_json_and_holds_counts_not_values(tmp_path):
    f = write(tmp_path / "d.csv", "løpenummer;kjønn;Hemmelig\nP-SECRET-1;Q-SECRET;x\n")

    _, report = load(tmp_path, PARTICIPANTS, f)

    text = json.dumps(report.to_dict())
    assert "SECRET" not in text
    assert json.loads(text)["files"][0]["unmapped_codes"] == {"sex": {"distinct": 1, "rows": 1}}


# ---- hashing -------------------------------------------------------------------------------------


def test_sha256_matches_hashlib_and_is_reported(tmp_path):
    f = write(tmp_path / "c.csv", "participant_id\nP1\n")

    _, report = load(tmp_path, CONTACTS, f)

    expected = hashlib.sha256(f.read_bytes()).hexdigest()
    assert sha256_file(f) == expected
    assert (report.files[0].sha256, report.files[0].bytes) == (expected, f.stat().st_size)


# ---- Excel ---------------------------------------------------------------------------------------


def save_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, data in sheets.items():
        ws = wb.create_sheet(name)
        for row in data:
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_title_rows_above_the_header_are_skipped_and_counted_in_source_row(tmp_path):
    f = save_workbook(
        tmp_path / "k.xlsx",
        {
            "Ark1": [
                ["Kontakter, uttrekk 2019"],
                [],
                ["Løpenummer", "Kontaktdato", "Kontakttype", "Minutter"],
                ["P1", dt.date(2020, 1, 2), "phone", 30],
                [],
                ["P2", dt.datetime(2020, 1, 3, 0, 0), "phone", 12.0],
            ]
        },
    )

    con, report = load(tmp_path, CONTACTS, f)

    fr = report.files[0]
    assert (fr.format, fr.sheet, fr.header_row, fr.rows_blank) == ("xlsx", "Ark1", 3, 1)
    assert rows(con, CONTACTS, "_source_row", "participant_id", "contact_date", "minutes") == [
        (4, "P1", "2020-01-02", "30"),
        (6, "P2", "2020-01-03", "12"),
    ]


def test_xlsx_cells_become_text_without_spurious_decimals(tmp_path):
    f = save_workbook(
        tmp_path / "k.xlsx",
        {
            "Ark1": [
                ["participant_id", "contact_date", "minutes"],
                [123, dt.datetime(2020, 1, 2, 13, 30), 1.5],
            ]
        },
    )

    con, _ = load(tmp_path, CONTACTS, f)

    assert rows(con, CONTACTS, "participant_id", "contact_date", "minutes") == [
        ("123", "2020-01-02T13:30:00", "1.5")
    ]


def test_xlsx_sheet_is_chosen_by_the_mapping(tmp_path):
    f = save_workbook(
        tmp_path / "k.xlsx",
        {"Info": [["Les meg"]], "Data": [["participant_id"], ["P1"]]},
    )

    con, report = load(tmp_path, CONTACTS, f, mapping=TableMapping(sheet="Data"))

    assert report.files[0].sheet == "Data"
    assert rows(con, CONTACTS, "participant_id") == [("P1",)]


def test_xlsx_sheet_named_like_the_table_is_chosen(tmp_path):
    f = save_workbook(
        tmp_path / "k.xlsx",
        {"Info": [["Les meg"]], "Kontakter": [["participant_id"], ["P1"]]},
    )

    _, report = load(tmp_path, CONTACTS, f)

    assert report.files[0].sheet == "Kontakter"


def test_xlsx_with_several_sheets_and_no_way_to_choose_is_an_error_naming_them(tmp_path):
    f = save_workbook(tmp_path / "k.xlsx", {"A": [["participant_id"]], "B": [["participant_id"]]})

    with pytest.raises(SourceError, match=r"2 sheets \(A, B\) and no way to choose"):
        load(tmp_path, CONTACTS, f)


def test_xlsx_mapping_naming_a_missing_sheet_is_an_error(tmp_path):
    f = save_workbook(tmp_path / "k.xlsx", {"A": [["participant_id"]]})

    with pytest.raises(SourceError, match="sheet 'Data' not found; sheets: A"):
        load(tmp_path, CONTACTS, f, mapping=TableMapping(sheet="Data"))


def test_xlsx_formulas_give_cached_values_or_else_their_text(tmp_path):
    f = save_workbook(
        tmp_path / "k.xlsx",
        {"Ark1": [["participant_id", "minutes", "contact_type"], ["P1", "=10+5", "=A2"]]},
    )
    # openpyxl saves no cached results; add one for B2 as Excel would.
    with zipfile.ZipFile(f) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"<f>10+5</f><v />", b"<f>10+5</f><v>15</v>")
    with zipfile.ZipFile(f, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)

    con, _ = load(tmp_path, CONTACTS, f)

    assert rows(con, CONTACTS, "minutes", "contact_type") == [("15", "=A2")]


def test_unreadable_xlsx_is_an_error_naming_the_file(tmp_path):
    f = write(tmp_path / "k.xlsx", "not a zip")

    with pytest.raises(SourceError, match=r"k.xlsx: not a readable .xlsx workbook"):
        load(tmp_path, CONTACTS, f)


# ---- Parquet -------------------------------------------------------------------------------------


def parquet(path: Path, select: str) -> Path:
    duckdb.connect().execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    return path


def raw_types(con, table) -> dict[str, str]:
    return dict(con.execute(
        f"SELECT column_name, column_type FROM (DESCRIBE raw_{table.name})").fetchall())


def typed_values(con, table, *cols):
    create_typed_view(con, table, f"raw_{table.name}", f"typed_{table.name}")
    return con.execute(
        f"SELECT {', '.join(cols)} FROM typed_{table.name} ORDER BY _row_id").fetchall()


def test_parquet_columns_in_a_type_read_natively_keep_it_in_the_raw_table(tmp_path):
    f = parquet(
        tmp_path / "kontakter.parquet",
        "SELECT 'P' || i AS participant_id, DATE '2020-01-01' + CAST(i AS INTEGER) AS dato, "
        "'phone' AS contact_type, CAST(i * 10 AS DOUBLE) AS minutes FROM range(2) t(i)",
    )

    con, report = load(tmp_path, CONTACTS, f)

    assert report.files[0].format == "parquet"
    assert raw_types(con, CONTACTS) == {
        "_row_id": "BIGINT", "_source_id": "VARCHAR", "_source_file": "VARCHAR",
        "_source_row": "BIGINT", "_extraction_date": "DATE", "participant_id": "VARCHAR",
        "contact_date": "DATE", "contact_type": "VARCHAR", "minutes": "DOUBLE",
    }
    assert rows(con, CONTACTS, "_source_row", "participant_id", "contact_date", "minutes") == [
        (1, "P0", dt.date(2020, 1, 1), 0.0),
        (2, "P1", dt.date(2020, 1, 2), 10.0),
    ]


def test_parquet_read_natively_gives_the_typed_values_its_text_would(tmp_path):
    f = parquet(
        tmp_path / "kontakter.parquet",
        "SELECT * FROM (VALUES ('P1', TIMESTAMP '2020-01-02 13:45:00', 30.0), "
        "('P2', TIMESTAMP '2020-01-03 00:00:00', 1.5), ('P3', NULL, 3e9)) "
        "AS v(participant_id, contact_date, minutes)",
    )
    con, _ = load(tmp_path, CONTACTS, f)

    got = typed_values(con, CONTACTS, "contact_date", "minutes", "minutes__raw")

    assert got == [
        (dt.date(2020, 1, 2), 30, 30.0),
        (dt.date(2020, 1, 3), None, 1.5),  # not a whole number: a type failure, as '1.5' was
        (None, None, 3e9),  # beyond INTEGER: a type failure, as '3000000000' was
    ]


def test_parquet_doubles_that_are_not_finite_are_type_failures_as_their_text_was(tmp_path):
    f = parquet(
        tmp_path / "tjenester.parquet",
        "SELECT 'P1' AS participant_id, x AS quantity "
        "FROM (VALUES (2.5), ('nan'::DOUBLE), ('inf'::DOUBLE)) AS v(x)",
    )
    con, _ = load(tmp_path, contract.SERVICE_USE, f)

    got = typed_values(con, contract.SERVICE_USE, "quantity", "quantity__raw IS NOT NULL")

    assert got == [(2.5, True), (None, True), (None, True)]


def test_a_quarantined_parquet_row_shows_its_values_as_the_text_they_would_be_read_as(tmp_path):
    f = parquet(
        tmp_path / "kontakter.parquet",
        "SELECT 'P1' AS participant_id, DATE '2020-01-02' AS contact_date, 'phone' AS "
        "contact_type, 1.5 ::DOUBLE AS minutes",
    )
    con, _ = load(tmp_path, CONTACTS, f, extraction_date=dt.date(2020, 12, 31))
    con.execute("CREATE TABLE valid_participants AS SELECT 'P1' AS participant_id")
    create_typed_view(con, CONTACTS, "raw_support_contacts", "typed_support_contacts")

    validation.validate_table(
        con, CONTACTS, validation.build_suite(CONTACTS), typed="typed_support_contacts",
        missing_columns=[], mostly=0.0,
    )

    (reason, row), = con.execute("SELECT expectation_type, row_json FROM quarantine").fetchall()
    assert reason == "expect_column_values_to_be_of_type"
    assert json.loads(row) == {"participant_id": "P1", "contact_date": "2020-01-02",
                               "contact_type": "phone", "minutes": "1.5"}


def test_parquet_columns_in_other_types_are_loaded_as_text_with_iso_dates(tmp_path):
    f = parquet(
        tmp_path / "kontakter.parquet",
        "SELECT 'P' || i AS participant_id, CAST(DATE '2020-01-01' + CAST(i AS INTEGER) AS "
        "VARCHAR) AS dato, 'phone' AS contact_type, CAST(i * 10 AS VARCHAR) AS minutes "
        "FROM range(2) t(i)",
    )

    con, _ = load(tmp_path, CONTACTS, f)

    assert set(raw_types(con, CONTACTS).values()) == {"BIGINT", "VARCHAR", "DATE"}
    assert contact_values(con) == [
        ("P0", "2020-01-01", "phone", "0"),
        ("P1", "2020-01-02", "phone", "10"),
    ]


def test_parquet_loaded_with_a_csv_file_is_loaded_as_text_without_spurious_decimals(tmp_path):
    p = parquet(
        tmp_path / "a.parquet",
        "SELECT 'P1' AS participant_id, DATE '2020-01-01' AS contact_date, 'phone' AS "
        "contact_type, 30.0 ::DOUBLE AS minutes",
    )
    c = write(tmp_path / "b.csv", "participant_id;contact_date;contact_type;minutes\n"
              "P2;02.01.2020;phone;45\n")

    con, _ = load(tmp_path, CONTACTS, p, c)

    assert raw_types(con, CONTACTS)["contact_date"] == "VARCHAR"
    assert contact_values(con) == [
        ("P1", "2020-01-01", "phone", "30"),
        ("P2", "02.01.2020", "phone", "45"),
    ]


def test_parquet_column_given_a_default_is_loaded_as_text(tmp_path):
    f = parquet(
        tmp_path / "kontakter.parquet",
        "SELECT 'P1' AS participant_id, DATE '2020-01-01' AS contact_date, 'phone' AS "
        "contact_type, 30 AS minutes",
    )

    con, _ = load(tmp_path, CONTACTS, f, mapping=TableMapping(defaults={"minutes": "0"}))

    assert raw_types(con, CONTACTS)["minutes"] == "VARCHAR"
    assert raw_types(con, CONTACTS)["contact_date"] == "DATE"


def test_parquet_files_disagreeing_on_a_columns_type_load_it_as_text(tmp_path):
    a = parquet(tmp_path / "a.parquet", "SELECT 'P1' AS participant_id, 30 AS minutes")
    b = parquet(tmp_path / "b.parquet", "SELECT 'P2' AS participant_id, 45.0 AS minutes")

    con, _ = load(tmp_path, CONTACTS, a, b)

    assert raw_types(con, CONTACTS)["minutes"] == "VARCHAR"
    assert rows(con, CONTACTS, "minutes") == [("30",), ("45",)]


# ---- end to end with discovery -------------------------------------------------------------------


def test_discovered_source_loads_with_its_mapping(tmp_path):
    data = tmp_path / "data" / "lindesnes"
    data.mkdir(parents=True)
    write(data / "eksport.csv", "Tittel\nLøpenr;Kjønn;Inntak\n1;K;01.02.2019\n", "cp1252")
    write(
        data / "source.yaml",
        "extraction_date: 2019-12-31\nmunicipality_code: '4205'\ncsv: {encoding: cp1252}\n"
        "tables:\n  participants:\n    file: eksport.csv\n    header_row: 2\n"
        "    columns: {participant_id: Løpenr, enrolment_date: Inntak}\n"
        "    codes: {sex: {K: female}}\n",
    )
    (source,) = discover_sources(tmp_path / "data")
    con = duckdb.connect()

    report = load_raw_table(
        con,
        PARTICIPANTS,
        source.inputs["participants"],
        extraction_dates={source.source_id: source.extraction_date},
        data_root=tmp_path / "data",
        work_dir=tmp_path / "work",
    )

    assert report.files[0].path == "lindesnes/eksport.csv"
    assert rows(
        con,
        PARTICIPANTS,
        "_source_row",
        "_extraction_date",
        "participant_id",
        "sex",
        "municipality_code",
        "enrolment_date",
    ) == [(3, dt.date(2019, 12, 31), "1", "female", "4205", "01.02.2019")]
    assert list((tmp_path / "work").iterdir()) == []  # transcoded copy removed


# ---- parse macros and typed view -----------------------------------------------------------------


@pytest.fixture
def macro_con():
    con = duckdb.connect()
    register_parse_macros(con)
    return con


def parse(con, macro, value):
    return con.execute(f"SELECT {macro}(CAST(? AS VARCHAR))", [value]).fetchone()[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-03-04", dt.date(2020, 3, 4)),
        ("2020-03-04T00:00:00", dt.date(2020, 3, 4)),
        ("2020-03-04 00:00:00", dt.date(2020, 3, 4)),
        ("04.03.2020", dt.date(2020, 3, 4)),
        ("4.3.2020", dt.date(2020, 3, 4)),
        ("04.03.2020 00:00:00", dt.date(2020, 3, 4)),
        ("04/03/2020", dt.date(2020, 3, 4)),
        ("04-03-2020", dt.date(2020, 3, 4)),
        (" 04.03.2020 ", dt.date(2020, 3, 4)),
        ("31.02.2020", None),
        ("2020-02-30", None),
        ("04.03.20", None),
        ("03/04/20", None),
        ("March 4", None),
        ("", None),
        (None, None),
    ],
)
def test_hf_parse_date(macro_con, text, expected):
    assert parse(macro_con, "hf_parse_date", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", 1234.5),
        ("1234,5", 1234.5),
        ("1 234,50", 1234.5),
        ("1\u00a0234,50", 1234.5),
        ("1.234,50", 1234.5),
        ("1,234.50", 1234.5),
        ("-12,5", -12.5),
        ("0", 0.0),
        ("12 kr", None),
        ("1,2,3.4,5", None),
        ("", None),
        ("abc", None),
    ],
)
def test_hf_parse_double(macro_con, text, expected):
    assert parse(macro_con, "hf_parse_double", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("12,0", 12), ("-3", -3), ("1 000", 1000), ("12,5", None), ("9999999999", None)],
)
def test_hf_parse_int_accepts_only_integral_values(macro_con, text, expected):
    assert parse(macro_con, "hf_parse_int", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Ja", True), ("nej", False), ("1", True), ("0", False), ("yes", True), ("kanskje", None)],
)
def test_hf_parse_bool(macro_con, text, expected):
    assert parse(macro_con, "hf_parse_bool", text) == expected


def test_typed_view_parses_to_contract_types_and_keeps_raw_text(tmp_path):
    f = write(
        tmp_path / "c.csv",
        "participant_id;contact_date;contact_type;minutes\nP1;02.01.2020;phone;30\nP2;31.02.2020;phone;1,5\n",
    )
    con, _ = load(tmp_path, CONTACTS, f)

    create_typed_view(con, CONTACTS, "raw_support_contacts", "typed_support_contacts")

    described = con.execute("DESCRIBE typed_support_contacts").fetchall()
    assert [(n, t) for n, t, *_ in described][5:] == [
        ("participant_id", "VARCHAR"),
        ("contact_date", "DATE"),
        ("contact_date__raw", "VARCHAR"),
        ("contact_type", "VARCHAR"),
        ("minutes", "INTEGER"),
        ("minutes__raw", "VARCHAR"),
    ]
    assert con.execute(
        "SELECT contact_date, contact_date__raw, minutes, minutes__raw "
        "FROM typed_support_contacts ORDER BY _row_id"
    ).fetchall() == [
        (dt.date(2020, 1, 2), "02.01.2020", 30, "30"),
        (None, "31.02.2020", None, "1,5"),
    ]


# ---- size ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_million_row_utf8_csv_loads_and_counts_add_up(tmp_path):
    n = 1_000_000
    f = tmp_path / "kontakter.csv"
    with open(f, "w", encoding="utf-8") as out:
        out.write("Løpenummer;Kontaktdato;Kontakttype;Minutter\n")
        out.writelines(f"P{i};{1 + i % 28:02d}.03.2020;phone;{i % 90}\n" for i in range(n))
        out.write("broken;line\n")
    start = time.perf_counter()

    con, report = load(tmp_path, CONTACTS, f)

    assert time.perf_counter() - start < 20
    assert (report.rows_read, report.rows_rejected) == (n + 1, 1)
    assert con.execute(
        "SELECT count(*), min(_row_id), max(_row_id), max(_source_row) FROM raw_support_contacts"
    ).fetchone() == (n, 1, n, n + 1)
