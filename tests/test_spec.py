"""The pipeline spec: every model is labelled, reads only declared inputs, and comes in order."""

import pytest

from hfeval.config import get_paths
from hfeval.contract import TABLES
from hfeval.spec import LABELS, SpecError, load_spec, referenced_tables

SPEC = load_spec(get_paths().pipeline_spec)


@pytest.mark.parametrize("model", SPEC.models, ids=lambda m: m.name)
def test_model_reads_exactly_its_declared_inputs(model):
    assert referenced_tables(model.sql) == set(model.inputs)


@pytest.mark.parametrize("model", SPEC.models, ids=lambda m: m.name)
def test_model_is_labelled_and_named_by_layer(model):
    assert model.label in LABELS
    assert model.layer in ("stg", "int", "mart")
    assert (
        model.sql_path.parent.name
        == {"stg": "staging", "int": "intermediate", "mart": "marts"}[model.layer]
    )


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
