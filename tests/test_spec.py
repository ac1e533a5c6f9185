"""The pipeline spec: every model is labelled, reads only declared inputs, and comes in order."""

import inspect

import duckdb
import pytest

from hfeval.config import get_paths
from hfeval.contract import TABLES
from hfeval.disclosure import DisclosureRule
from hfeval.spec import LABELS, Model, ModelInputs, SpecError, load_spec, referenced_tables

SPEC = load_spec(get_paths().pipeline_spec)
SQL_MODELS = [m for m in SPEC.models if m.kind == "sql"]
PYTHON_MODELS = [m for m in SPEC.models if m.kind == "python"]


@pytest.mark.parametrize("model", SQL_MODELS, ids=lambda m: m.name)
def test_model_reads_exactly_its_declared_inputs(model):
    assert referenced_tables(model.sql) == set(model.inputs)


# Python models cannot be parsed: the runner hands them a ModelInputs that refuses undeclared
# tables and fails the run if a declared input was never read (tests/test_retention_pipeline.py).
@pytest.mark.parametrize("model", PYTHON_MODELS, ids=lambda m: m.name)
def test_python_model_names_an_importable_function_of_inputs_and_params(model):
    fn = model.function()
    assert model.python.startswith("hfeval.")
    assert list(inspect.signature(fn).parameters) == ["inputs", "params"]


@pytest.mark.parametrize("model", SPEC.models, ids=lambda m: m.name)
def test_model_is_labelled_and_named_by_layer(model):
    assert model.label in LABELS
    assert model.layer in ("stg", "int", "mart")
    if model.kind == "sql":
        assert (
            model.sql_path.parent.name
            == {"stg": "staging", "int": "intermediate", "mart": "marts"}[model.layer]
        )


def test_a_python_model_reading_an_undeclared_table_is_refused():
    model = Model(name="mart_x", sql_path=None, inputs=("mart_a",), label="publishable",
                  disclosure=DisclosureRule(enabled=False), python="m:f")
    inputs = ModelInputs(duckdb.connect(), model)
    with pytest.raises(SpecError, match="mart_b"):
        inputs.sql("select * from mart_a join mart_b using (k)")


def test_a_model_needs_exactly_one_of_sql_and_python(tmp_path):
    (tmp_path / "m.sql").write_text("select 1 as n")
    (tmp_path / "pipeline.yaml").write_text(
        "load: {outputs: []}\nmodels:\n  - {name: mart_x, sql: m.sql, python: 'a:b', "
        "inputs: [], label: person-level}\n"
    )
    with pytest.raises(SpecError, match="one of"):
        load_spec(tmp_path / "pipeline.yaml")


def test_models_only_read_tables_made_before_them():
    made = {"load_accounting", "quarantine"} | {f"valid_{t}" for t in TABLES}
    for model in SPEC.models:
        assert set(model.inputs) <= made, model.name
        made.add(model.name)


def test_person_level_tables_are_never_published():
    for model in SPEC.publishable:
        assert model.name.startswith(("mart_", "stg_"))
    names = {m.name for m in SPEC.publishable}
    assert "mart_participants" not in names


def test_a_model_with_a_syntax_error_is_reported():
    with pytest.raises(SpecError, match="does not parse"):
        referenced_tables("select from where")


def test_publishable_model_without_disclosure_rule_is_refused(tmp_path):
    (tmp_path / "m.sql").write_text("select 1 as n")
    (tmp_path / "pipeline.yaml").write_text(
        "load: {outputs: []}\nmodels:\n  - {name: mart_x, sql: m.sql, inputs: [], "
        "label: publishable}\n"
    )
    with pytest.raises(SpecError, match="disclosure"):
        load_spec(tmp_path / "pipeline.yaml")
