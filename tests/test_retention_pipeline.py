"""Retention in the pipeline and on the command line, on the tiny hand-written source of
tests/helpers.py (8 participants; extraction 2016-12-31).

Housing First first tenancies there: Lindesnes P01 (open), P02 (evicted after 315 days), P03
(open); Odense P05 (open), P06 (died after 214 days), P08 (open). So at 12 months Lindesnes has
S = 2/3 with 2 at risk and Odense S = 1 with 2 at risk; every stratum is below the disclosure
threshold of 7 people.
"""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from hfeval import pipeline
from hfeval.cli import app
from hfeval.config import default_parameters, get_paths
from hfeval.disclosure import DisclosureRule
from hfeval.spec import Model, load_spec
from tests.helpers import write_source

RETENTION_MARTS = ("mart_retention_by_stratum", "mart_km_curve_by_stratum",
                   "mart_cumulative_incidence_by_stratum", "mart_returns_by_window",
                   "mart_time_to_housing", "mart_temporary_stays", "mart_housed_vs_target",
                   "mart_days_stably_housed", "mart_fidelity", "mart_mansa_change",
                   "mart_retention_definition")


@pytest.fixture(scope="module")
def _tiny_output(tmp_path_factory):
    """One run for the whole module (a run takes seconds); tests only read it."""
    root = tmp_path_factory.mktemp("retention-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HFEVAL_OUTPUT", str(root / "out"))
        result = pipeline.run(write_source(root / "data"), paths=get_paths())
    assert result.exit_code == 0, result.messages
    return root / "out", result


@pytest.fixture
def tiny_run(_tiny_output, monkeypatch):
    output, result = _tiny_output
    monkeypatch.setenv("HFEVAL_OUTPUT", str(output))
    return result


def published(sql: str) -> list[tuple]:
    with duckdb.connect(str(get_paths().publish_db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_retention_mart_is_published(tiny_run):
    tables = {r[0] for r in published("select table_name from information_schema.tables")}
    assert set(RETENTION_MARTS) <= tables


def test_python_models_are_recorded_in_the_manifest_with_their_function(tiny_run):
    models = {m["name"]: m for m in tiny_run.manifest["models"]}
    assert models["mart_retention_by_stratum"]["python"] == (
        "hfeval.retention.marts:build_retention_by_stratum")


def test_the_manifest_records_the_definition_parameters(tiny_run):
    assert tiny_run.manifest["parameters"]["retention.definition"] == "housing_first"


def test_published_retention_names_its_definition(tiny_run):
    assert published("select distinct definition_name from mart_retention_by_stratum") == [
        ("housing_first",)]
    assert ("definition_name", "housing_first") in published(
        "select parameter, value from mart_retention_definition")


def test_strata_of_seven_or_fewer_people_are_suppressed_when_published(tiny_run):
    got = published("select distinct survival, survival_suppressed, n_people "
                    "from mart_retention_by_stratum where stratum_variable = 'municipality'")
    assert got == [(None, True, None)]


def test_the_published_curve_stops_before_seven_or_fewer_are_at_risk(tiny_run):
    assert published("select count(*) from mart_km_curve_by_stratum") == [(0,)]


def test_the_warehouse_keeps_the_unprotected_estimates_for_the_secure_zone(tiny_run):
    with duckdb.connect(str(get_paths().warehouse), read_only=True) as con:
        got = con.execute(
            "select stratum_value, n_people, n_at_risk, survival from mart_retention_by_stratum "
            "where arm = 'housing_first' and stratum_variable = 'municipality' and months = 12 "
            "order by 1").fetchall()
    assert got == [("Lindesnes", 3, 2, pytest.approx(2 / 3)), ("Odense", 3, 2, 1.0)]


def test_another_definition_changes_the_run_and_is_recorded(tmp_path):
    result = pipeline.run(write_source(tmp_path / "data"), paths=get_paths(),
                          overrides=["retention.definition=strict_any_exit"])
    assert result.exit_code == 0, result.messages
    with duckdb.connect(str(get_paths().warehouse), read_only=True) as con:
        got = con.execute("select event_type, event_code from mart_tenancies "
                          "where participant_id = 'P06'").fetchall()
    assert got == [("loss", "death")]


def test_an_unknown_definition_fails_the_run_as_an_input_error(tmp_path):
    result = pipeline.run(write_source(tmp_path / "data"), paths=get_paths(),
                          overrides=["retention.definition=nonsense"])
    assert result.exit_code == pipeline.EXIT_INPUT
    assert "housing_first" in result.messages[0]


# ---- Python models ---------------------------------------------------------------------------

def reads_nothing(inputs, params) -> pl.DataFrame:
    return pl.DataFrame({"n": [1]})


def reads_stg_participants(inputs, params) -> pl.DataFrame:
    return inputs.sql("select count(*) as n from stg_participants").pl()


def _model(fn: str, inputs: tuple[str, ...]) -> Model:
    return Model(name="mart_x", sql_path=None, inputs=inputs, label="person-level",
                 disclosure=DisclosureRule(enabled=False), python=f"{__name__}:{fn}")


def test_a_python_model_is_written_as_a_table():
    con = duckdb.connect()
    con.execute("create table stg_participants as select 1 as id")
    rows = pipeline.build_model(con, _model("reads_stg_participants", ("stg_participants",)),
                                default_parameters())
    assert rows == 1 and con.execute("select n from mart_x").fetchall() == [(1,)]


def test_a_python_model_that_does_not_read_a_declared_input_fails():
    with pytest.raises(pipeline.PipelineError, match="does not read"):
        pipeline.build_model(duckdb.connect(), _model("reads_nothing", ("stg_participants",)),
                             default_parameters())


def test_a_python_model_that_reads_an_undeclared_table_fails():
    con = duckdb.connect()
    con.execute("create table stg_participants as select 1 as id")
    with pytest.raises(pipeline.PipelineError, match="not among its declared inputs"):
        pipeline.build_model(con, _model("reads_stg_participants", ()), default_parameters())


def test_every_retention_model_is_in_the_spec():
    names = {m.name for m in load_spec(get_paths().pipeline_spec).models}
    assert {"int_retention_parameters", "int_tenancies", "int_returns", "int_temporary_stays",
            "mart_tenancies", "mart_person_outcomes", *RETENTION_MARTS} <= names


# ---- hfeval retention ------------------------------------------------------------------------

def hfeval(*args: str):
    return CliRunner().invoke(app, list(args))


def test_retention_names_the_definition_above_the_table(tiny_run):
    result = hfeval("retention", "--by", "municipality", "--at", "12")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert text.startswith("Definition housing_first:")
    assert "exponential Greenwood" in text and "Disclosure control" in text


def test_retention_suppresses_strata_of_seven_or_fewer_by_default(tiny_run):
    result = hfeval("retention", "--by", "municipality", "--at", "12")
    lindesnes = next(ln for ln in result.stdout.splitlines() if "Lindesnes" in ln)
    assert "suppressed" in lindesnes and "0.67" not in lindesnes


def test_retention_without_disclosure_control_warns_and_shows_the_estimates(tiny_run):
    result = hfeval("retention", "--by", "municipality", "--at", "12", "--no-disclosure-control")
    assert result.exit_code == 0
    assert "disclosure control is OFF" in " ".join(result.stderr.split())
    lindesnes = next(ln for ln in result.stdout.splitlines() if "Lindesnes" in ln)
    assert "0.67" in lindesnes


def test_retention_as_json_carries_the_definition_values(tiny_run):
    result = hfeval("retention", "--by", "municipality", "--at", "6,12", "--format", "json",
                    "--definition", "hud_spm", "--no-disclosure-control")
    data = json.loads(result.stdout)
    assert data["definition"]["name"] == "hud_spm"
    assert data["definition"]["death_handling"] == "exclude"
    assert {(r["stratum_value"], r["months"]) for r in data["rows"]} == {
        ("Lindesnes", 6.0), ("Lindesnes", 12.0), ("Odense", 6.0), ("Odense", 12.0)}


def test_retention_under_hud_spm_drops_the_death_from_odense(tiny_run):
    result = hfeval("retention", "--by", "municipality", "--at", "12", "--format", "csv",
                    "--definition", "hud_spm", "--no-disclosure-control")
    table = pl.read_csv(result.stdout.encode())
    odense = table.filter(pl.col("stratum_value") == "Odense").row(0, named=True)
    assert (odense["n_people"], odense["definition_name"]) == (2, "hud_spm")


def test_retention_with_an_unknown_definition_exits_3_naming_the_known_ones(tiny_run):
    result = hfeval("retention", "--definition", "nonsense")
    assert result.exit_code == 3
    assert "hud_spm" in result.stderr


def test_retention_without_a_warehouse_says_to_run_first():
    result = hfeval("retention")
    assert result.exit_code == 1
    assert "hfeval run" in result.stderr


def test_retention_by_an_unknown_stratum_exits_3_naming_the_known_ones(tiny_run):
    result = hfeval("retention", "--by", "shoe_size")
    assert result.exit_code == 3
    assert "municipality" in result.stderr
