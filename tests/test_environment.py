"""environment.yml (for conda users) stays in step with pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
NOT_PYPROJECT_DEPS = {"python", "pip"}  # provided by conda itself
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}  # conda-forge names that differ from PyPI's
_INSTALLS_PROJECT = re.compile(r"^(-e\s+)?\.(\[[^\]]*\])?/?$")
_CONDA_SPEC = re.compile(r"^\s*(?:[\w.-]+::)?([A-Za-z0-9_.-]+)\s*(.*?)\s*$")


def conda_requirement(spec: str) -> tuple[str, SpecifierSet]:
    """Package name (PyPI spelling) and PEP 440 specifiers of a conda match spec.

    Conda's `name=1.2` means the 1.2 series (`==1.2.*`) and `name 1.2` an exact version.
    """
    match = _CONDA_SPEC.match(spec)
    if not match:
        raise ValueError(f"not a conda match spec: {spec!r}")
    name, version = match.groups()
    version = version.replace(" ", "")
    if version.startswith("=") and not version.startswith("=="):
        version = f"=={version[1:]}" + ("" if version.endswith("*") else ".*")
    elif version and version[0].isdigit():
        version = f"=={version}"
    name = CONDA_TO_PYPI.get(canonicalize_name(name), canonicalize_name(name))
    return name, SpecifierSet(version)


def lower_bound(spec: SpecifierSet) -> Version | None:
    bounds = [
        Version(s.version.removesuffix(".*"))
        for s in spec
        if s.operator in (">=", ">", "==", "~=", "===")
    ]
    return max(bounds) if bounds else None


def compatible(env_spec: SpecifierSet, project_spec: SpecifierSet) -> bool:
    """True if every version the environment may install is one pyproject allows at its
    lower end: the environment must not reach below pyproject's minimum."""
    if not list(project_spec):
        return True
    low = lower_bound(env_spec)
    return low is not None and project_spec.contains(low, prereleases=True)


def python_minors(spec: SpecifierSet) -> list[str]:
    return [f"3.{m}" for m in range(6, 30) if spec.contains(f"3.{m}.0")]


def environment_problems(env: dict[str, Any], pyproject: dict[str, Any]) -> list[str]:
    """Everything that makes `env` (parsed environment.yml) disagree with `pyproject`."""
    problems = []
    if env.get("name") != "hfeval":
        problems.append("name must be hfeval")
    if env.get("channels") != ["conda-forge"]:
        problems.append("channels must be [conda-forge]")

    conda: dict[str, SpecifierSet] = {}
    pip_entries: list[str] = []
    for dep in env.get("dependencies") or []:
        if isinstance(dep, dict):
            pip_entries += dep.get("pip") or []
        else:
            name, spec = conda_requirement(dep)
            conda[name] = spec

    project = pyproject["project"]
    wanted = python_minors(SpecifierSet(project["requires-python"]))
    if "python" not in conda:
        problems.append("python is not listed")
    elif python_minors(conda["python"]) != wanted:
        problems.append(f"python must be pinned to {', '.join(wanted)} like requires-python")
    if "pip" not in conda:
        problems.append("pip is not listed")
    if not any(_INSTALLS_PROJECT.match(e.strip()) for e in pip_entries):
        problems.append("the pip section does not install the project (-e .)")

    listed = {n: s for n, s in conda.items() if n not in NOT_PYPROJECT_DEPS}
    for entry in pip_entries:
        if not _INSTALLS_PROJECT.match(entry.strip()) and not entry.startswith("-"):
            req = Requirement(entry)
            listed[canonicalize_name(req.name)] = req.specifier

    declared = {
        canonicalize_name(r.name): r.specifier for r in map(Requirement, project["dependencies"])
    }
    for name, spec in sorted(listed.items()):
        if name not in declared:
            problems.append(f"{name} is not a dependency in pyproject.toml")
        elif not compatible(spec, declared[name]):
            problems.append(f"{name}: '{spec}' is not compatible with '{declared[name]}'")
    if listed:
        missing = sorted(set(declared) - set(listed))
        if missing:
            problems.append(f"lists some dependencies but not: {', '.join(missing)}")
    return problems


@pytest.fixture
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def minimal_env(*deps: Any) -> dict[str, Any]:
    return {
        "name": "hfeval",
        "channels": ["conda-forge"],
        "dependencies": ["python=3.11", "pip", *deps, {"pip": ["-e ."]}],
    }


def tiny_pyproject(*deps: str) -> dict[str, Any]:
    return {"project": {"requires-python": ">=3.11,<3.12", "dependencies": list(deps)}}


# ---- the committed file ----------------------------------------------------------------------


def test_environment_yml_agrees_with_pyproject(pyproject):
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert environment_problems(env, pyproject) == []


# ---- what the check catches -------------------------------------------------------------------


def test_a_minimal_environment_that_installs_the_project_passes():
    assert environment_problems(minimal_env(), tiny_pyproject("duckdb>=1.2")) == []


def test_another_python_minor_version_is_reported():
    env = minimal_env()
    env["dependencies"][0] = "python=3.12"
    assert environment_problems(env, tiny_pyproject()) == [
        "python must be pinned to 3.11 like requires-python"
    ]


def test_a_pip_section_without_the_project_is_reported():
    env = minimal_env()
    env["dependencies"][-1] = {"pip": ["duckdb>=1.2"]}
    assert environment_problems(env, tiny_pyproject("duckdb>=1.2")) == [
        "the pip section does not install the project (-e .)"
    ]


def test_a_package_pyproject_does_not_declare_is_reported():
    env = minimal_env("scikit-learn>=1.5")
    assert environment_problems(env, tiny_pyproject("scikit-learn>=1.5", "duckdb>=1.2")) == [
        "lists some dependencies but not: duckdb"
    ]
    assert "requests is not a dependency in pyproject.toml" in environment_problems(
        minimal_env("requests"), tiny_pyproject()
    )


def test_a_lower_minimum_than_pyproject_is_reported():
    env = minimal_env("duckdb>=1.0")
    assert environment_problems(env, tiny_pyproject("duckdb>=1.2")) == [
        "duckdb: '>=1.0' is not compatible with '>=1.2'"
    ]


def test_an_unpinned_conda_package_is_incompatible_with_a_pinned_one():
    env = minimal_env("duckdb")
    assert environment_problems(env, tiny_pyproject("duckdb>=1.2")) == [
        "duckdb: '' is not compatible with '>=1.2'"
    ]


def test_listing_every_dependency_with_compatible_specs_passes():
    env = minimal_env("python-duckdb=1.3", "polars >=1.10")
    assert environment_problems(env, tiny_pyproject("duckdb>=1.2", "polars>=1.10")) == []


@pytest.mark.parametrize(
    ("spec", "name", "specifiers"),
    [
        ("python=3.11", "python", "==3.11.*"),
        ("numpy >=1.26,<3", "numpy", "<3,>=1.26"),
        ("conda-forge::pyyaml 6.0.2", "pyyaml", "==6.0.2"),
        ("python-duckdb>=1.2", "duckdb", ">=1.2"),
    ],
)
def test_conda_match_specs_translate_to_pypi_names_and_pep440(spec, name, specifiers):
    assert conda_requirement(spec) == (name, SpecifierSet(specifiers))
