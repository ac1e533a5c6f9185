"""The identifier guard: what it refuses, what it never refuses, and what it says."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from hfeval import contract, guard, loaders, pipeline, sources, synth
from hfeval.config import get_paths
from tests import synthetic_ids as ids
from tests.helpers import PARTICIPANTS, sha256, write_source

FNR = ids.fodselsnummer()  # 01.01.2035, valid check digits: nobody's


def scan(values: list[str | None], scope: guard.Scope = "text", header: str = "c") -> list[str]:
    """Kinds of finding for one column holding `values`."""
    con = duckdb.connect()
    con.register("t", pa.table({"c0": pa.array(values, pa.string())}))
    scans = guard.scan_columns(con, "t", [("c0", header, scope)])
    return sorted({f.kind for f in guard.findings_of(scans)})


# ---- fødselsnummer and D-numbers ----------------------------------------------------------------


def test_the_synthetic_numbers_pass_an_independent_check():
    # Weights of the two mod-11 check digits (Skatteetaten), applied by hand to 010135 500 + kk.
    digits = [int(c) for c in FNR]
    assert sum(d * w for d, w in zip(digits[:10], (3, 7, 6, 1, 8, 9, 4, 5, 2, 1))) % 11 == 0
    assert sum(d * w for d, w in zip(digits, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1))) % 11 == 0


@pytest.mark.parametrize(
    "value",
    [FNR, f"{FNR[:6]} {FNR[6:]}", f"{FNR[:6]}-{FNR[6:]}", f"ref: {FNR}, see file", f" {FNR} "],
    ids=["plain", "space", "hyphen", "inside-text", "padded"],
)
def test_a_valid_fodselsnummer_is_found_alone_or_inside_text(value):
    assert scan(["P1", value, "P3"]) == ["fodselsnummer"]


def test_a_d_number_is_found():
    assert scan([ids.d_number()]) == ["fodselsnummer"]


def test_a_fodselsnummer_whose_leading_zero_excel_dropped_is_found():
    assert FNR.startswith("0")
    assert scan([FNR[1:]], scope="typed") == ["fodselsnummer"]


def test_a_wrong_check_digit_is_not_a_fodselsnummer():
    assert scan([ids.with_wrong_check_digit(FNR)], scope="typed") == []


def test_an_impossible_date_is_not_a_fodselsnummer():
    base = next(f"310235{i:03d}" for i in range(500, 1000) if ids.check_digits(f"310235{i:03d}"))
    assert scan([base + ids.check_digits(base)], scope="typed") == []  # 31 February


def test_eleven_digits_inside_a_longer_number_or_word_are_not_a_fodselsnummer():
    assert scan([f"9{FNR}", f"{FNR}7", f"X{FNR}", f"{FNR}b"], scope="typed") == []


# ---- CPR -----------------------------------------------------------------------------------------


def test_a_formatted_cpr_number_is_found_in_any_column():
    for scope in ("text", "typed", "unknown", "ignored"):
        assert scan([ids.cpr()], scope=scope) == ["cpr"], scope


def test_ten_bare_digits_with_a_valid_date_are_a_cpr_number_in_text_columns_only():
    bare = ids.cpr().replace("-", "")
    assert scan([bare], scope="text") == ["cpr"]
    assert scan([bare], scope="unknown") == ["cpr"]
    assert scan([bare], scope="typed") == []  # an amount of ten digits is not refused


def test_ten_digits_without_a_valid_date_are_not_a_cpr_number():
    assert scan(["3213351234", "0100351234"]) == []  # day 32; month 0


# ---- phone numbers and e-mail --------------------------------------------------------------------


def test_a_column_of_phone_numbers_with_country_codes_is_refused():
    assert scan(["+47 912 34 567", "0045 33 12 34 56", "+4741234567"]) == ["phone"]


def test_phone_numbers_in_fewer_than_half_the_rows_are_not_refused():
    assert scan(["+47 912 34 567", "a", "b"]) == []
    assert scan(["+47 912 34 567", "a"]) == ["phone"]  # exactly half


def test_bare_eight_digit_numbers_count_as_phones_only_in_columns_the_contract_does_not_know():
    values = ["91234567", "22 33 44 55", "412 34 567"]
    assert scan(values, scope="unknown") == ["phone"]
    assert scan(values, scope="text") == []
    assert scan(values, scope="typed") == []
    assert scan(values, scope="ignored") == []


def test_a_yyyymmdd_date_is_not_a_phone_number():
    assert scan(["20140106", "19991231"], scope="unknown") == []


def test_an_email_address_is_found_inside_a_note():
    assert scan(["no personal data", f"ask {ids.EMAIL} please"]) == ["email"]


def test_an_at_sign_without_an_address_is_not_an_email():
    assert scan(["meet @ 10", "a@b", "@home"]) == []


# ---- header names and scopes ---------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Navn", "Fornavn", "efternavn", "Adresse", "E-post",
                                    "Telefon", "Fødselsnummer", "CPR-nr.", "fødselsdato",
                                    "email"])
def test_an_unknown_column_named_like_a_direct_identifier_is_refused(header):
    assert scan(["x"], scope="unknown", header=header) == ["identifier_column"]


def test_a_mapped_or_ignored_column_is_not_refused_for_its_name():
    assert scan(["x"], scope="text", header="navn") == []
    assert scan(["x"], scope="ignored", header="navn") == []


def test_ignoring_a_column_never_lets_an_identity_number_or_email_through():
    assert scan([FNR, ids.cpr(), ids.EMAIL], scope="ignored") == ["cpr", "email", "fodselsnummer"]


# ---- contract values never trigger it ------------------------------------------------------------


def test_genuine_contract_values_never_trigger_the_guard():
    values = ["SYN-NO4205-000123", "SYN-DK461-000001", "PS-SOC32AIMLSQLGE4D", "4205", "0301",
              "461", "2014-01-06", "06.01.2014", "1.5.2012", "2014-01-06T00:00:00", "3,0",
              "4098000,0", "12 500 000", "1980", "HF-team", "Egen leiekontrakt", "0.5",
              "SYNTHETIC: 5.2 FTE x 700000 NOK", "2014", "1234567890.50"]
    for scope in ("text", "typed", "unknown"):
        assert scan(values, scope=scope) == [], scope


@pytest.mark.slow
def test_the_synthetic_demo_data_passes_the_guard(tmp_path):
    synth.generate(tmp_path / "demo", synth.SynthConfig(participants=300))
    result = pipeline.run(tmp_path / "demo", paths=get_paths())
    assert result.exit_code == 0, result.messages


# ---- in the pipeline -----------------------------------------------------------------------------


def test_a_planted_fodselsnummer_stops_the_run_naming_file_and_column_never_the_value(tmp_path):
    paths = get_paths()
    assert pipeline.run(write_source(tmp_path / "good"), paths=paths).exit_code == 0
    before = (sha256(paths.warehouse), sha256(paths.publish_db))
    planted = PARTICIPANTS.replace("P03,", f"{FNR},")
    result = pipeline.run(write_source(tmp_path / "bad", participants=planted), paths=paths)
    assert result.exit_code == pipeline.EXIT_IDENTIFIER == 5
    (message,) = result.messages
    assert "participants.csv" in message and "column 'participant_id'" in message
    assert "fødselsnummer" in message
    outputs = [message, result.manifest_path.read_text(encoding="utf-8"),
               (result.run_dir / "log.jsonl").read_text(encoding="utf-8")]
    assert not any(FNR in text or FNR[1:] in text for text in outputs)
    assert (sha256(paths.warehouse), sha256(paths.publish_db)) == before
    assert not list(paths.warehouse_dir.glob(".building-*"))


def test_a_header_row_that_names_no_known_column_is_checked_and_reported_by_position():
    """A file without its header: the first data row is read as the header."""
    con = duckdb.connect()
    con.execute("create temp table __hf_stage as select 'x' as c0, 'y' as c1")
    headers = ["Ingeborg Planteland", FNR]
    with pytest.raises(guard.IdentifierFound) as refused:
        guard.check_staged(con, "__hf_stage", contract.table("participants"), headers, {}, [],
                           "p.csv")
    message = str(refused.value)
    assert "(the header row)" in message and "fødselsnummer" in message
    assert FNR not in message and "Planteland" not in message


def test_a_false_alarm_from_a_weak_rule_is_silenced_by_ignore_columns(tmp_path):
    with_cases = "".join(
        line + (",saksnummer\n" if i == 0 else f",{91234560 + i}\n")
        for i, line in enumerate(PARTICIPANTS.splitlines())
    )
    refused = pipeline.run(write_source(tmp_path / "a", participants=with_cases),
                           paths=get_paths())
    assert refused.exit_code == 5 and "column 'saksnummer'" in refused.messages[0]
    yaml = ("source_id: tiny\nextraction_date: 2016-12-31\ntables:\n  participants:\n"
            "    file: participants.csv\n    ignore_columns: [saksnummer]\n")
    accepted = pipeline.run(
        write_source(tmp_path / "b", participants=with_cases, source_yaml=yaml), paths=get_paths()
    )
    assert accepted.exit_code == 0, accepted.messages


def test_reference_tables_are_not_guarded(tmp_path):
    # They describe municipalities and prices, not people; a citation may hold an address.
    f = tmp_path / "municipalities.csv"
    f.write_text("municipality_code,name,country,source\n4205,Lindesnes,NO,post@example.invalid\n",
                 encoding="utf-8")
    rep = loaders.load_raw_table(
        duckdb.connect(), contract.table("municipalities"),
        [sources.plain_input("s", "municipalities", f)],
        extraction_dates={}, data_root=tmp_path, work_dir=tmp_path / "work",
    )
    assert rep.rows_read == 1


def test_the_guard_scans_three_million_values_in_seconds():
    """Not a benchmark (benchmarks/guard_speed.py is): a guard against an accidental
    row-by-row rewrite, on 10^6 rows and 3 columns."""
    import time

    con = duckdb.connect()
    con.execute(
        "create table s as select 'SYN-NO4205-' || lpad(cast(i % 100000 as varchar), 6, '0') c0,"
        " strftime(date '2010-01-01' + cast(i % 3000 as integer), '%d.%m.%Y') c1,"
        " cast(i % 90000 as varchar) || ',0' c2 from range(1000000) t(i)"
    )
    t = time.perf_counter()
    scans = guard.scan_columns(con, "s", [("c0", "a", "text"), ("c1", "b", "typed"),
                                          ("c2", "c", "unknown")])
    assert guard.findings_of(scans) == []
    assert time.perf_counter() - t < 10
