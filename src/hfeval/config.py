"""Paths and run parameters, in one place.

Paths resolve from the project root: `$HFEVAL_HOME` if set, else the source checkout this
package lives in, else the current directory. Outputs can be moved with `$HFEVAL_OUTPUT`
(warehouse, publishable database and run folders), so tests and benchmarks never touch a
user's warehouse.

Parameters are named, documented and overridable (a YAML file and/or `key=value` pairs); every
run prints the full resolved set in its manifest.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


def _find_root() -> Path:
    env = os.environ.get("HFEVAL_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "pipelines").is_dir():
            return parent
    return Path.cwd().resolve()


@dataclass(frozen=True)
class Paths:
    root: Path
    output: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def reference(self) -> Path:
        """Default reference tables (municipalities, unit costs, CPI, exchange rates)."""
        return self.data / "reference"

    @property
    def templates(self) -> Path:
        return self.data / "templates"

    @property
    def demo_data(self) -> Path:
        """Where `hfeval synth` writes the synthetic demo exports (git-ignored)."""
        return self.output / "demo-data"

    @property
    def expectations(self) -> Path:
        return self.root / "expectations"

    @property
    def pipelines(self) -> Path:
        return self.root / "pipelines"

    @property
    def pipeline_spec(self) -> Path:
        return self.pipelines / "pipeline.yaml"

    @property
    def warehouse_dir(self) -> Path:
        return self.output / "warehouse"

    @property
    def warehouse(self) -> Path:
        """Person-level DuckDB warehouse. Never opened by the dashboard."""
        return self.warehouse_dir / "hfeval.duckdb"

    @property
    def publish_db(self) -> Path:
        """Publishable, disclosure-controlled DuckDB file: the only thing the dashboard reads."""
        return self.warehouse_dir / "hfeval_publish.duckdb"

    @property
    def runs(self) -> Path:
        return self.output / "runs"

    @property
    def lock_file(self) -> Path:
        return self.warehouse_dir / ".hfeval.lock"


def get_paths() -> Paths:
    root = _find_root()
    out = os.environ.get("HFEVAL_OUTPUT")
    output = Path(out).resolve() if out else root / "build"
    return Paths(root=root, output=output)


# ---- parameters ----------------------------------------------------------------------------------

# Each entry: default value and what it means. Later analyses add their own sections.
PARAMETER_DOCS: dict[str, tuple[Any, str]] = {
    "extraction_date": (
        None,
        ("Data extraction date (ISO). Open spells are censored here and later dates are "
        "implausible. Default: the `extraction_date` of each source's mapping file, else the "
        "latest date found in that source."),
    ),
    "validation.mostly": (
        0.95,
        ("Share of rows that must pass each row-level expectation (GX `mostly`). Failing rows "
        "are quarantined; below this share the table fails and nothing is published."),
    ),
    "engine.memory_limit": (
        "4GB",
        "Most memory DuckDB may use; beyond it, work spills to disk in the run's build folder.",
    ),
    "engine.threads": (0, "DuckDB worker threads; 0 = one per core."),
    "disclosure.threshold": (
        7,
        "Statistics describing this many people or fewer are suppressed (OpenSAFELY: 7).",
    ),
    "disclosure.rounding_base": (
        5,
        "Published counts are rounded to the nearest multiple of this.",
    ),
}


def default_parameters() -> dict[str, Any]:
    return {k: copy.deepcopy(v[0]) for k, v in PARAMETER_DOCS.items()}


def _coerce(raw: str, like: Any) -> Any:
    if isinstance(like, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true/false, got {raw!r}")
    if isinstance(like, int):
        return int(raw)
    if isinstance(like, float):
        return float(raw)
    return yaml.safe_load(raw) if raw else None


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def resolve_parameters(
    file: Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """Defaults, then a YAML file (nested or dotted keys), then `key=value` overrides."""
    params = default_parameters()
    if file is not None:
        loaded = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
        for key, value in _flatten(loaded).items():
            if key not in params:
                raise KeyError(f"unknown parameter {key!r} in {file}")
            params[key] = value
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"parameter override must be key=value, got {item!r}")
        key, raw = item.split("=", 1)
        key = key.strip()
        if key not in params:
            raise KeyError(f"unknown parameter {key!r}; known: {', '.join(sorted(params))}")
        params[key] = _coerce(raw.strip(), PARAMETER_DOCS[key][0])
    return params
