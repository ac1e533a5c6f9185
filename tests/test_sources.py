"""Finding sources in a data directory and reading their source.yaml mapping files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from hfeval.sources import SourceError, discover_sources, normalise_name, table_for_file

MAPPINGS = Path(__file__).resolve().parents[1] / "data" / "mappings"


def write(path: Path, text: str = "x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_yaml(path: Path, spec: dict) -> Path:
    return write(path, yaml.safe_dump(spec, allow_unicode=True))


# ---- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Fødselsår", "fodselsar"),
        ("  Kjønn ", "kjonn"),
        ('"Løbenummer"', "lobenummer"),
        ("Årsak utflytting", "arsak_utflytting"),
        ("Fra-dato", "fra_dato"),
        ("Mængde", "maengde"),
        ("Behovsnivå", "behovsniva"),
        ("Café", "cafe"),
    ],
)
def test_normalise_name_folds_case_nordic_letters_accents_and_separators(raw, expected):
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("participants.csv", "participants"),
        ("Deltakere.CSV", "participants"),
        ("deltagere.xlsx", "participants"),
        ("boligforløb.parquet", "housing_spells"),
        ("tjenestebruk.txt", "service_use"),
        ("deltakere.xls", None),
        ("notes.docx", None),
        ("deltakere_2019.csv", None),
    ],
)
def test_files_are_recognised_by_table_name_or_nb_da_alias(name, table):
    assert table_for_file(Path(name)) == table


# ---- discovery -----------------------------------------------------------------------------------


def test_flat_dir_without_mapping_is_one_source_named_after_the_folder(tmp_path):
    data = tmp_path / "lindesnes"
    write(data / "deltakere.csv")
    write(data / "Boforhold.xlsx")
    write(data / "notes.docx")
    write(data / ".DS_Store")

    (source,) = discover_sources(data)

    assert source.source_id == "lindesnes"
    assert source.mapping_file is None
    assert {t: [i.path.name for i in ins] for t, ins in source.inputs.items()} == {
        "participants": ["deltakere.csv"],
        "housing_spells": ["Boforhold.xlsx"],
    }
    assert [p.name for p in source.unrecognised_files] == ["notes.docx"]


def test_subfolders_with_source_yaml_are_sources_and_reference_and_hidden_dirs_are_skipped(
    tmp_path,
):
    write_yaml(tmp_path / "oslo" / "source.yaml", {"source_id": "oslo-gerica"})
    write(tmp_path / "oslo" / "deltakere.csv")
    write_yaml(tmp_path / "aarhus" / "source.yaml", {})
    write(tmp_path / "aarhus" / "borgere.csv")
    write(tmp_path / "reference" / "municipalities.csv")
    write(tmp_path / ".cache" / "source.yaml", "{}")

    sources = discover_sources(tmp_path)

    assert [s.source_id for s in sources] == ["aarhus", "oslo-gerica"]
    assert [i.path.name for i in sources[0].inputs["participants"]] == ["borgere.csv"]


def test_data_dir_with_contract_named_files_is_a_source_beside_its_subfolder_sources(tmp_path):
    data = tmp_path / "data"
    write(data / "participants.csv")
    write(data / "old-export" / "deltakere.csv")  # no source.yaml: not a source
    write_yaml(data / "bergen" / "source.yaml", {})
    write(data / "bergen" / "deltakere.csv")

    sources = discover_sources(data)

    assert [s.source_id for s in sources] == ["data", "bergen"]
    assert [p.name for p in sources[0].unrecognised_files] == ["old-export"]


def test_mapping_file_settings_are_read(tmp_path):
    write(tmp_path / "deltakere.csv")
    write_yaml(
        tmp_path / "source.yaml",
        {
            "description": "Lindesnes kommune",
            "extraction_date": "2019-12-31",
            "synthetic": True,
            "municipality_code": "4205",
            "csv": {"delimiter": "tab", "encoding": "Windows-1252"},
        },
    )

    (source,) = discover_sources(tmp_path)

    assert source.description == "Lindesnes kommune"
    assert source.extraction_date == date(2019, 12, 31)
    assert source.synthetic is True
    assert source.municipality_code == "4205"
    (inp,) = source.inputs["participants"]
    assert inp.csv_hints == {"delimiter": "\t", "encoding": "cp1252"}
    assert inp.mapping.defaults == {"municipality_code": "4205"}


def test_table_entry_with_columns_codes_constants_and_several_files(tmp_path):
    write(tmp_path / "a.csv")
    write(tmp_path / "b.csv")
    write_yaml(
        tmp_path / "source.yaml",
        {
            "tables": {
                "participants": {
                    "file": ["a.csv", "b.csv"],
                    "header_row": 3,
                    "columns": {"participant_id": "Løpenr"},
                    "codes": {"sex": {"K": "female", "M": "MALE"}, "support_model": {"A": "act"}},
                    "constants": {"municipality_code": "0301"},
                    "ignore_columns": ["Kommentar"],
                }
            }
        },
    )

    (source,) = discover_sources(tmp_path)

    first, second = source.inputs["participants"]
    assert [first.path.name, second.path.name] == ["a.csv", "b.csv"]
    m = first.mapping
    assert m.columns == {"participant_id": "Løpenr"}
    assert m.codes == {"sex": {"K": "female", "M": "male"}, "support_model": {"A": "ACT"}}
    assert m.constants == {"municipality_code": "0301"}
    assert m.ignore_columns == ["Kommentar"]
    assert m.header_row == 3


def test_file_matching_a_mapped_table_by_name_but_not_listed_is_unrecognised(tmp_path):
    write(tmp_path / "deltakere_2019.csv")
    write(tmp_path / "deltakere.csv")
    write_yaml(
        tmp_path / "source.yaml", {"tables": {"participants": {"file": "deltakere_2019.csv"}}}
    )

    (source,) = discover_sources(tmp_path)

    assert [i.path.name for i in source.inputs["participants"]] == ["deltakere_2019.csv"]
    assert [p.name for p in source.unrecognised_files] == ["deltakere.csv"]


def test_source_municipality_code_is_not_a_default_for_tables_without_that_column(tmp_path):
    write(tmp_path / "boforhold.csv")
    write_yaml(tmp_path / "source.yaml", {"municipality_code": "4205"})

    (source,) = discover_sources(tmp_path)

    assert source.inputs["housing_spells"][0].mapping.defaults == {}


@pytest.mark.parametrize("example", ["example_nb.yaml", "example_da.yaml"])
def test_example_mapping_files_are_valid(tmp_path, example):
    spec = yaml.safe_load((MAPPINGS / example).read_text(encoding="utf-8"))
    shutil.copy(MAPPINGS / example, tmp_path / "source.yaml")
    for tspec in spec["tables"].values():
        files = tspec["file"] if isinstance(tspec["file"], list) else [tspec["file"]]
        for name in files:
            write(tmp_path / name)

    (source,) = discover_sources(tmp_path)

    assert set(source.inputs) == set(spec["tables"])
    assert source.extraction_date is not None


# ---- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"tables": {"clients": {"file": "d.csv"}}}, "tables.clients: unknown input table"),
        ({"tables": {"municipalities": {"file": "d.csv"}}}, "unknown input table"),
        (
            {"tables": {"participants": {"file": "d.csv", "columns": {"shoe_size": "Sko"}}}},
            "shoe_size is not a column of participants",
        ),
        ({"tables": {"participants": {"file": "missing.csv"}}}, "file missing.csv does not exist"),
        ({"tables": {"participants": {"file": "d.xls"}}}, "save it as .xlsx"),
        ({"tables": {"participants": {}}}, "tables.participants.file"),
        ({"tables": {"participants": {"file": "d.csv", "sheets": "x"}}}, "unknown key(s) sheets"),
        ({"extraction_dat": "2019-12-31"}, "unknown key(s) extraction_dat"),
        ({"extraction_date": "31.12.2019"}, "extraction_date must be an ISO date"),
        ({"municipality_code": 4205}, "municipality_code must be quoted"),
        ({"synthetic": "yes please"}, "synthetic must be true or false"),
        ({"csv": {"delimiter": "::"}}, "csv.delimiter"),
        ({"csv": {"encoding": "klingon"}}, "csv.encoding"),
        (
            {"tables": {"participants": {"file": "d.csv", "codes": {"sex": {"K": "woman"}}}}},
            "tables.participants.codes.sex: every code must map to one of female",
        ),
        (
            {"tables": {"participants": {"file": "d.csv", "codes": {"birth_year": {"x": "y"}}}}},
            "birth_year has no code list",
        ),
        (
            {"tables": {"participants": {"file": "d.csv", "codes": {"sex": {True: "female"}}}}},
            "quote the file codes",
        ),
        (
            {"tables": {"participants": {"file": "d.csv", "header_row": 0}}},
            "header_row must be a whole number",
        ),
        (
            {
                "tables": {
                    "participants": {"file": "d.csv", "constants": {"municipality_code": 301}}
                }
            },
            "constants.municipality_code must be quoted",
        ),
        (
            {
                "tables": {
                    "participants": {
                        "file": "d.csv",
                        "columns": {"sex": "K"},
                        "constants": {"sex": "female"},
                    }
                }
            },
            "given both in columns and constants",
        ),
    ],
)
def test_bad_mapping_file_is_an_error_naming_file_and_key(tmp_path, spec, message):
    write(tmp_path / "d.csv")
    write(tmp_path / "d.xls")
    mapping = write_yaml(tmp_path / "source.yaml", spec)

    with pytest.raises(SourceError) as err:
        discover_sources(tmp_path)

    assert message in str(err.value)
    assert str(mapping) in str(err.value)


def test_unparseable_yaml_is_an_error_with_position_only(tmp_path):
    write(tmp_path / "source.yaml", "tables:\n  participants: [secret-value\n")

    with pytest.raises(SourceError, match=r"source.yaml: not valid UTF-8 YAML at line \d") as err:
        discover_sources(tmp_path)

    assert "secret-value" not in str(err.value)


def test_two_sources_with_the_same_source_id_are_an_error(tmp_path):
    write_yaml(tmp_path / "a" / "source.yaml", {"source_id": "same"})
    write_yaml(tmp_path / "b" / "source.yaml", {"source_id": "same"})

    with pytest.raises(SourceError, match="source_id 'same' is used by both"):
        discover_sources(tmp_path)


def test_missing_data_dir_is_an_error(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        discover_sources(tmp_path / "nope")


def test_a_readme_beside_the_data_is_neither_loaded_nor_reported(tmp_path):
    (tmp_path / "participants.csv").write_text("participant_id\nP1\n", encoding="utf-8")
    (tmp_path / "README.txt").write_text("SYNTHETIC data, made by hfeval synth\n", encoding="utf-8")

    (source,) = discover_sources(tmp_path)

    assert source.unrecognised_files == []
    assert set(source.inputs) == {"participants"}
