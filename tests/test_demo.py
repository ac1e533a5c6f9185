"""The calibrated SYNTHETIC demo, end to end: municipal exports in every format, run, rerun, break.

The demo is generated once per module and run once; tests that need another run use their own
output folder. Assert messages name tables, files and columns only (marts are person-level).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from hfeval import pipeline, synth
from hfeval.config import Paths, get_paths
from tests.helpers import sha256

pytestmark = pytest.mark.slow

BROKEN_SOURCE = "lindesnes"  # loses the required column `sex` from its participants file
DATED_SOURCE = "odense"  # gets unreadable start dates in its housing spells
N_BAD_DATES = 3


def output_paths(folder: Path) -> Paths:
    return Paths(root=get_paths().root, output=folder)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-data")
    synth.generate(out, synth.SynthConfig(style="municipal"))
    return out


@pytest.fixture(scope="module")
def demo_run(demo, tmp_path_factory) -> pipeline.RunResult:
    paths = output_paths(tmp_path_factory.mktemp("output"))
    result = pipeline.run(demo, paths=paths)
    assert result.exit_code == 0, result.messages
    return result


def test_the_demo_runs_and_accounts_for_every_row(demo_run):
    for name, t in demo_run.manifest["tables"].items():
        assert t["rows_read"] == (
            t["rows_loaded"] + t["rows_quarantined"] + t["rows_replaced_by_override"]
        ), name


def test_the_clean_demo_quarantines_no_row(demo_run):
    quarantined = {n: t["rows_quarantined"] for n, t in demo_run.manifest["tables"].items()}
    assert quarantined == dict.fromkeys(quarantined, 0)


def test_the_overview_covers_the_five_demo_municipalities(demo_run):
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        codes = con.execute(
            "select distinct municipality_code from mart_overview_by_municipality"
        ).fetchall()
    assert {c for (c,) in codes} == set(synth.CALIBRATION)
    assert len(codes) == 5


def test_the_demo_is_flagged_synthetic_in_the_manifest_and_the_publishable_database(demo_run):
    assert demo_run.manifest["synthetic_data"] is True
    with duckdb.connect(str(demo_run.publish_db), read_only=True) as con:
        flag, manifest_json = con.execute(
            "select synthetic_data, manifest_json from _manifest"
        ).fetchone()
    assert flag is True
    assert json.loads(manifest_json)["synthetic_data"] is True


def test_every_municipal_file_format_was_read(demo_run, demo):
    inputs = [i for i in demo_run.manifest["inputs"] if i["source_id"] != pipeline.DEFAULT_SOURCE]
    kinds = {(i["format"], i["encoding"]) for i in inputs}
    assert {("csv", "cp1252"), ("csv", "utf-8-sig")} <= kinds
    assert "xlsx" in {i["format"] for i in inputs}
    # The recorded encodings are the files' real ones: a BOM, and bytes that are not UTF-8.
    by_encoding = {i["encoding"]: demo / i["path"] for i in inputs}
    assert by_encoding["utf-8-sig"].read_bytes().startswith(codecs.BOM_UTF8)
    with pytest.raises(UnicodeDecodeError):
        by_encoding["cp1252"].read_bytes().decode("utf-8")


# ---- reproducibility ------------------------------------------------------------------------------


def table_digests(db: Path, tables_sql: str) -> dict[str, str]:
    """SHA-256 of each table's sorted rows, so a difference names the table, never a value."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [n for (n,) in con.execute(tables_sql).fetchall()]
        return {
            n: hashlib.sha256(
                repr(con.execute(f"select * from {n} order by all").fetchall()).encode()
            ).hexdigest()
            for n in names
        }


MARTS = (
    "select table_name from information_schema.tables where table_name like 'mart\\_%' escape '\\'"
)
PUBLISHED = "select table_name from information_schema.tables where table_name <> '_manifest'"


def test_two_runs_on_the_same_demo_give_identical_marts(demo, demo_run, tmp_path):
    again = pipeline.run(demo, paths=output_paths(tmp_path / "again"))
    assert again.exit_code == 0, again.messages
    first = table_digests(demo_run.warehouse, MARTS)
    assert first, "no mart in the warehouse"
    assert table_digests(again.warehouse, MARTS) == first
    published = table_digests(demo_run.publish_db, PUBLISHED)
    assert "mart_overview_by_municipality" in published
    assert table_digests(again.publish_db, PUBLISHED) == published


# ---- a broken copy ----------------------------------------------------------------------------------


def read_mapping(source: Path) -> dict:
    return yaml.safe_load((source / "source.yaml").read_text(encoding="utf-8"))


def rewrite_csv(path: Path, mapping: dict, edit) -> None:
    """Read a municipal CSV with its own delimiter and encoding, edit its rows, write it back."""
    opts = mapping["csv"]
    with open(path, encoding=opts["encoding"], newline="") as fh:
        rows = list(csv.reader(fh, delimiter=opts["delimiter"]))
    rows = edit(rows)
    with open(path, "w", encoding=opts["encoding"], newline="") as fh:
        csv.writer(fh, delimiter=opts["delimiter"], lineterminator="\r\n").writerows(rows)


def drop_required_column(source: Path, *, from_mapping: bool) -> str:
    """Delete `sex` from the source's participants file; return that file's name."""
    mapping = read_mapping(source)
    spec = mapping["tables"]["participants"]
    header = spec["columns"]["sex"]

    def drop(rows):
        i = rows[0].index(header)
        return [r[:i] + r[i + 1 :] for r in rows]

    rewrite_csv(source / spec["file"], mapping, drop)
    if from_mapping:  # the municipality also updated its mapping file
        del spec["columns"]["sex"]
        spec.get("codes", {}).pop("sex", None)
        (source / "source.yaml").write_text(
            yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return spec["file"]


def corrupt_start_dates(source: Path, n: int) -> str:
    """Replace the first n start dates of the source's housing spells by a day that does not
    exist; return that file's name."""
    mapping = read_mapping(source)
    spec = mapping["tables"]["housing_spells"]

    def corrupt(rows):
        i = rows[0].index(spec["columns"]["start_date"])
        for r in rows[1 : n + 1]:
            r[i] = "31.02.2015"
        return rows

    rewrite_csv(source / spec["file"], mapping, corrupt)
    return spec["file"]


@pytest.mark.parametrize("from_mapping", [False, True], ids=["file-only", "file-and-mapping"])
def test_a_broken_copy_of_the_demo_fails_and_leaves_the_warehouse_untouched(
    demo, demo_run, tmp_path, from_mapping
):
    # The good run's warehouse, in an output folder of this test's own.
    paths = output_paths(tmp_path / "output")
    paths.warehouse_dir.mkdir(parents=True)
    for db in (demo_run.warehouse, demo_run.publish_db):
        shutil.copy2(db, paths.warehouse_dir / db.name)
    before = (sha256(paths.warehouse), sha256(paths.publish_db))

    broken = tmp_path / "broken"
    shutil.copytree(demo, broken)
    bad_name = drop_required_column(broken / BROKEN_SOURCE, from_mapping=from_mapping)
    dated_name = corrupt_start_dates(broken / DATED_SOURCE, N_BAD_DATES)
    bad_file, dated_file = f"{BROKEN_SOURCE}/{bad_name}", f"{DATED_SOURCE}/{dated_name}"

    result = pipeline.run(broken, paths=paths)

    assert (sha256(paths.warehouse), sha256(paths.publish_db)) == before
    assert not list(paths.warehouse_dir.glob(".building-*"))
    assert result.exit_code == pipeline.EXIT_VALIDATION
    # Row-level problems of the other table are kept for the data owner, person-level.
    q = result.run_dir / "person-level" / "quarantine.parquet"
    assert q.exists()
    files = duckdb.sql(
        f"select _source_file, count(distinct _row_id) from read_parquet('{q}') "
        "where table_name = 'housing_spells' group by all"
    ).fetchall()
    assert files == [(dated_file, N_BAD_DATES)]
    # The message names the file and the column, and no file that is fine.
    message = " ".join(" ".join(result.messages).split())
    assert bad_file in message and "sex" in message
    other_participant_files = {
        i["path"]
        for i in demo_run.manifest["inputs"]
        if i["table"] == "participants" and i["source_id"] != pipeline.DEFAULT_SOURCE
    } - {bad_file}
    assert other_participant_files
    assert [f for f in sorted(other_participant_files) if f in message] == []
