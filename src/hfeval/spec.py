"""The pipeline spec (`pipelines/pipeline.yaml`): models, their inputs, outputs and labels."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from hfeval.disclosure import DisclosureRule

Label = Literal["person-level", "publishable"]
LABELS = ("person-level", "publishable")


@dataclass(frozen=True)
class Model:
    """One step. A SQL model is a SELECT in `sql_path`; a Python model (`python:
    module:function` in the spec) is a function (con, params) -> polars DataFrame, for estimates
    SQL cannot make (Kaplan-Meier, ...). Either way the runner writes the result as the table."""

    name: str
    sql_path: Path | None
    inputs: tuple[str, ...]
    label: Label
    disclosure: DisclosureRule
    python: str | None = None  # "package.module:function"

    @property
    def layer(self) -> str:
        return self.name.split("_", 1)[0]

    @property
    def kind(self) -> str:
        return "python" if self.python else "sql"

    @property
    def sql(self) -> str:
        if self.sql_path is None:
            raise SpecError(f"model {self.name} is a Python model and has no SQL")
        return self.sql_path.read_text(encoding="utf-8")

    def function(self) -> Callable[..., Any]:
        """The Python model's function, imported from its `module:function` target."""
        if not self.python:
            raise SpecError(f"model {self.name} is a SQL model")
        module, _, attr = self.python.partition(":")
        fn = getattr(importlib.import_module(module), attr, None)
        if not callable(fn):
            raise SpecError(f"model {self.name}: {self.python} is not a function")
        return fn


@dataclass(frozen=True)
class PipelineSpec:
    path: Path
    models: tuple[Model, ...]
    load_outputs: tuple[dict, ...]

    @property
    def publishable(self) -> list[Model]:
        return [m for m in self.models if m.label == "publishable"]

    def model(self, name: str) -> Model:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)


class SpecError(ValueError):
    pass


def load_spec(path: Path) -> PipelineSpec:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    models = []
    for entry in raw["models"]:
        label = entry.get("label")
        if label not in LABELS:
            raise SpecError(f"{path.name}: model {entry.get('name')} needs label in {LABELS}")
        if label == "publishable" and "disclosure" not in entry:
            raise SpecError(f"{path.name}: publishable model {entry['name']} needs `disclosure`")
        if ("sql" in entry) == ("python" in entry):
            raise SpecError(f"{path.name}: model {entry.get('name')} needs one of `sql`, `python`")
        models.append(
            Model(
                name=entry["name"],
                sql_path=path.parent / entry["sql"] if "sql" in entry else None,
                inputs=tuple(entry.get("inputs", ())),
                label=label,
                disclosure=DisclosureRule.from_spec(entry.get("disclosure")),
                python=entry.get("python"),
            )
        )
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise SpecError(f"{path.name}: duplicate model names")
    return PipelineSpec(path=path, models=tuple(models), load_outputs=tuple(raw["load"]["outputs"]))


def referenced_tables(sql: str) -> set[str]:
    """Tables a SELECT reads, from DuckDB's own parser (CTE names excluded)."""
    import json

    import duckdb

    tree = json.loads(duckdb.execute("select json_serialize_sql(?)", [sql]).fetchall()[0][0])
    if tree.get("error"):
        raise SpecError(f"SQL does not parse: {tree.get('error_message')}")
    tables: set[str] = set()
    ctes: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                tables.add(node["table_name"])
            for entry in (node.get("cte_map") or {}).get("map", []):
                ctes.add(entry["key"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(tree)
    return tables - ctes


class ModelInputs:
    """What a Python model gets instead of the connection: SELECTs that may read only the
    model's declared inputs. It records what was read, so the runner can check a Python model
    reads exactly its declared inputs, as the spec tests check for SQL models."""

    def __init__(self, con: Any, model: Model) -> None:
        self._con = con
        self.model = model
        self.read: set[str] = set()

    def _check(self, query: str) -> None:
        tables = referenced_tables(query)
        undeclared = tables - set(self.model.inputs)
        if undeclared:
            raise SpecError(
                f"model {self.model.name} reads {sorted(undeclared)}, which are not among its "
                "declared inputs in pipeline.yaml"
            )
        self.read |= tables

    def sql(self, query: str, params: dict[str, Any] | None = None) -> Any:
        """A DuckDB relation (`.pl()`, `.fetchall()`) over a SELECT of declared inputs."""
        self._check(query)
        return self._con.sql(query, params=params)

    def execute(self, query: str, parameters: Any = None) -> Any:
        self._check(query)
        return self._con.execute(query, parameters)
