"""The data contract is consistent, its docs and templates match the code, and the shipped
reference tables obey it."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from hfeval import contract, contract_docs
from hfeval.contract import TABLES, Table

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"
PROGRAMME_UNIT_COSTS = "programme_unit_costs"
EXPECTED_MUNICIPALITIES = {"4205", "1108", "3403", "730", "461"}

ALL_TABLES = list(TABLES.values())
REFERENCE_TABLES = [TABLES[n] for n in contract.REFERENCE_TABLES]
INPUT_TABLES = [TABLES[n] for n in contract.INPUT_TABLES]


def _ids(tables: list[Table]) -> list[str]:
    return [t.name for t in tables]


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def column_problems(table: Table, rows: list[dict[str, str]]) -> list[str]:
    """Contract violations in `rows`, as 'column: rule (n rows)' (never the values)."""
    problems = []
    for col in table.columns:
        values = [r[col.name] for r in rows]
        present = [v for v in values if v != ""]
        counts = {"missing": len(values) - len(present) if col.required else 0}
        if col.codes:
            counts["code not allowed"] = sum(v not in col.codes for v in present)
        if col.dtype in ("INTEGER", "DOUBLE"):
            parse = int if col.dtype == "INTEGER" else float
            numbers = []
            for v in present:
                try:
                    numbers.append(parse(v))
                except ValueError:
                    counts["not a number"] = counts.get("not a number", 0) + 1
            low, high = col.min_value, col.max_value
            counts["out of range"] = sum(
                (isinstance(low, (int, float)) and n < low)
                or (isinstance(high, (int, float)) and n > high)
                for n in numbers
            )
        problems += [f"{col.name}: {rule} ({n} rows)" for rule, n in counts.items() if n]
    return problems


# ---- the contract itself --------------------------------------------------------------------


@pytest.mark.parametrize("table", ALL_TABLES, ids=_ids(ALL_TABLES))
def test_column_names_are_unique_within_a_table(table):
    duplicated = [name for name, n in Counter(table.column_names).items() if n > 1]
    assert not duplicated, f"{table.name}: duplicated columns {duplicated}"


@pytest.mark.parametrize("table", ALL_TABLES, ids=_ids(ALL_TABLES))
def test_primary_key_columns_exist(table):
    assert set(table.primary_key) <= set(table.column_names)


@pytest.mark.parametrize("table", ALL_TABLES, ids=_ids(ALL_TABLES))
def test_foreign_keys_point_to_existing_columns_of_an_earlier_table(table):
    order = list(TABLES)
    for fk in table.foreign_keys:
        assert set(fk.columns) <= set(table.column_names)
        assert fk.ref_table in TABLES, f"{table.name}: unknown target {fk.ref_table}"
        assert order.index(fk.ref_table) < order.index(table.name)
        assert len(fk.columns) == len(fk.ref_columns)
        assert set(fk.ref_columns) <= set(TABLES[fk.ref_table].column_names)


@pytest.mark.parametrize("table", ALL_TABLES, ids=_ids(ALL_TABLES))
def test_coded_columns_are_text_and_numeric_ranges_are_ordered(table):
    for col in table.columns:
        if col.codes:
            assert col.dtype == "VARCHAR", f"{table.name}.{col.name}"
        if isinstance(col.min_value, (int, float)) and isinstance(col.max_value, (int, float)):
            assert col.min_value <= col.max_value, f"{table.name}.{col.name}"


# ---- generated docs and templates -----------------------------------------------------------


def test_committed_readme_and_templates_match_the_contract():
    stale = contract_docs.stale_files(ROOT)
    assert not stale, (
        f"out of date: {', '.join(map(str, stale))}; run `uv run hfeval docs --write` "
        "and commit the result"
    )


def test_write_docs_writes_the_readme_and_three_templates_per_input_table(tmp_path):
    written = contract_docs.write_docs(tmp_path)

    assert (tmp_path / "data" / "README.md") in written
    templates = sorted(p.name for p in (tmp_path / "data" / "templates").iterdir())
    assert templates == sorted(
        f"{t.name}{suffix}" for t in INPUT_TABLES for suffix in (".csv", ".nb.csv", ".da.csv")
    )
    assert contract_docs.stale_files(tmp_path) == []


def test_contract_template_is_a_comma_separated_header_of_contract_names():
    assert contract_docs.render_template(TABLES["support_contacts"]) == (
        "participant_id,contact_date,contact_type,minutes\n"
    )


def test_norwegian_template_uses_the_first_alias_separated_by_semicolons():
    assert contract_docs.render_template(TABLES["support_contacts"], "nb") == (
        "\ufeffløpenummer;dato;kontakttype;minutter\n"
    )


def test_danish_template_uses_the_first_alias_separated_by_semicolons():
    assert contract_docs.render_template(TABLES["programme_costs"], "da") == (
        "\ufeffkommunekode;år;omkostningspost;beløb;valuta;årsværk;bemærkning\n"
    )


@pytest.mark.parametrize("language", [None, "nb", "da"])
def test_template_headers_are_unique_in_every_language(language):
    for table in INPUT_TABLES:
        header = contract_docs.template_header(table, language)
        assert len(header) == len(set(header)), f"{table.name} ({language})"


def test_template_header_rejects_an_unknown_language():
    with pytest.raises(ValueError):
        contract_docs.template_header(TABLES["participants"], "sv")


def test_readme_has_a_section_and_a_row_for_every_table_and_column():
    md = contract_docs.render_markdown()
    for table in ALL_TABLES:
        assert f"## `{table.name}`" in md
        for col in table.columns:
            assert f"| `{col.name}` | {col.dtype} |" in md, f"{table.name}.{col.name}"


def test_readme_lists_every_code_list_with_its_codes():
    md = contract_docs.render_markdown()
    for name, codes in contract_docs.code_lists().items():
        assert f"### Code list: {name}" in md
        assert all(f"- `{c}`" in md for c in codes), name


def test_readme_states_the_privacy_rule_and_accepted_formats():
    md = contract_docs.render_markdown()
    for phrase in (
        "national identity numbers",
        "pseudonym",
        "birth",
        "Windows-1252",
        "dd.mm.yyyy",
        "decimal comma",
        "source.yaml",
        "quarantine",
    ):
        assert phrase in md, phrase


def test_pipes_in_descriptions_are_escaped_inside_table_cells():
    md = contract_docs.render_markdown()
    assert "separated by '\\|'" in md


def test_long_code_lists_link_to_their_section_and_short_ones_are_inlined():
    md = contract_docs.render_markdown()
    assert "[service](#code-list-service) (14 codes)" in md
    assert "`female`, `male`, `other`, `unknown`" in md


# ---- shipped reference tables ---------------------------------------------------------------


def test_reference_folder_holds_only_known_tables():
    names = {p.stem for p in REFERENCE.glob("*.csv")}
    assert names == set(contract.REFERENCE_TABLES) | {PROGRAMME_UNIT_COSTS}


@pytest.mark.parametrize("table", REFERENCE_TABLES, ids=_ids(REFERENCE_TABLES))
def test_reference_csv_has_exactly_the_contract_columns(table):
    header, _ = read_csv(REFERENCE / f"{table.name}.csv")
    assert header == table.column_names


@pytest.mark.parametrize("table", REFERENCE_TABLES, ids=_ids(REFERENCE_TABLES))
def test_reference_csv_values_obey_the_contract(table):
    _, rows = read_csv(REFERENCE / f"{table.name}.csv")
    assert rows, f"{table.name}.csv is empty"
    assert column_problems(table, rows) == []


@pytest.mark.parametrize("table", REFERENCE_TABLES, ids=_ids(REFERENCE_TABLES))
def test_reference_csv_primary_key_is_unique(table):
    _, rows = read_csv(REFERENCE / f"{table.name}.csv")
    keys = Counter(tuple(r[c] for c in table.primary_key) for r in rows)
    duplicated = sum(1 for n in keys.values() if n > 1)
    assert duplicated == 0, f"{table.name}: {duplicated} duplicated primary keys"


def test_every_unit_cost_row_names_its_source():
    _, rows = read_csv(REFERENCE / "unit_costs.csv")
    assert sum(not r["source"].strip() for r in rows) == 0


def test_reference_municipalities_are_the_five_programme_municipalities():
    _, rows = read_csv(REFERENCE / "municipalities.csv")
    assert {r["municipality_code"] for r in rows} == EXPECTED_MUNICIPALITIES


def test_lindesnes_lists_mandals_former_code():
    _, rows = read_csv(REFERENCE / "municipalities.csv")
    lindesnes = next(r for r in rows if r["municipality_code"] == "4205")
    assert "1002" in lindesnes["former_codes"].split("|")


def test_programme_targets_come_from_the_seeds():
    _, rows = read_csv(REFERENCE / "municipalities.csv")
    by_code = {r["municipality_code"]: r for r in rows}
    assert by_code["4205"]["target_housed_per_year"] == "10"
    assert by_code["1108"]["target_housed_total"] == "15"


@pytest.mark.parametrize("country", ["NO", "DK"])
def test_cpi_is_100_in_the_base_year_and_covers_2009_to_2024(country):
    _, rows = read_csv(REFERENCE / "cpi.csv")
    series = {int(r["year"]): float(r["index_value"]) for r in rows if r["country"] == country}
    assert set(range(2009, 2025)) <= set(series)
    assert series[2015] == 100.0
    assert all(series[y] < series[y + 1] for y in range(2009, 2024))  # prices rose every year


def test_exchange_rates_have_eur_equal_to_one_in_every_year():
    _, rows = read_csv(REFERENCE / "exchange_rates.csv")
    years = {r["year"] for r in rows}
    eur = {r["year"]: float(r["per_eur"]) for r in rows if r["currency"] == "EUR"}
    assert set(eur) == years
    assert set(eur.values()) == {1.0}


def test_programme_unit_costs_have_unit_cost_columns_with_item_for_service():
    header, rows = read_csv(REFERENCE / f"{PROGRAMME_UNIT_COSTS}.csv")
    expected = ["item" if c == "service" else c for c in TABLES["unit_costs"].column_names]
    assert header == expected
    assert rows
    assert sum(not r["source"].strip() for r in rows) == 0


def test_column_problems_reports_columns_and_counts_only():
    rows = [
        {
            "country": "SE",
            "year": "2015",
            "index_value": "100",
            "base_year": "2015",
            "source": "x",
            "note": "",
        },
        {
            "country": "NO",
            "year": "1800",
            "index_value": "",
            "base_year": "2015",
            "source": "x",
            "note": "",
        },
    ]
    assert column_problems(TABLES["cpi"], rows) == [
        "country: code not allowed (1 rows)",
        "year: out of range (1 rows)",
        "index_value: missing (1 rows)",
    ]
