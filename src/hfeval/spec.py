"""The pipeline spec (`pipelines/pipeline.yaml`): models, their inputs, outputs and labels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from hfeval.disclosure import DisclosureRule

Label = Literal["person-level", "publishable"]
LABELS = ("person-level", "publishable")


@dataclass(frozen=True)
class Model:
    name: str
    sql_path: Path
    inputs: tuple[str, ...]
    label: Label
    disclosure: DisclosureRule

    @property
    def layer(self) -> str:
        return self.name.split("_", 1)[0]

    @property
    def sql(self) -> str:
        return self.sql_path.read_text(encoding="utf-8")


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
        models.append(
            Model(
                name=entry["name"],
                sql_path=path.parent / entry["sql"],
                inputs=tuple(entry.get("inputs", ())),
                label=label,
                disclosure=DisclosureRule.from_spec(entry.get("disclosure")),
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

    tree = json.loads(duckdb.execute("select json_serialize_sql(?)", [sql]).fetchone()[0])
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
