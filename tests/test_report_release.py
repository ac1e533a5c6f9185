"""Release hygiene: the version is written once (pyproject.toml), everything shows that version,
and CHANGELOG.md (Keep a Changelog, semantic versions) agrees with it."""

from __future__ import annotations

import re
import tomllib

from hfeval import __version__
from hfeval.config import get_paths

ROOT = get_paths().root
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$",
                     re.MULTILINE)


def pyproject_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"]


def changelog_sections() -> list[tuple[str, str | None]]:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return [(m["name"], m["date"]) for m in HEADING.finditer(text)]


def as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def test_the_installed_package_reports_the_pyproject_version():
    assert __version__ == pyproject_version()


def test_the_version_is_written_only_in_pyproject():
    pattern = re.compile(r"""__version__\s*=\s*["']\d+\.\d+\.\d+["']""")
    hardcoded = [p.relative_to(ROOT).as_posix() for p in (ROOT / "src").rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert hardcoded == []


def test_every_changelog_release_is_a_dated_semantic_version_newest_first():
    releases = [(name, date) for name, date in changelog_sections() if name != "Unreleased"]
    assert releases
    assert all(SEMVER.match(name) and date for name, date in releases), releases
    versions = [as_tuple(name) for name, _ in releases]
    assert versions == sorted(versions, reverse=True)


def test_an_unreleased_section_can_only_come_first():
    names = [name for name, _ in changelog_sections()]
    assert "Unreleased" not in names[1:]


def test_the_newest_release_is_the_pyproject_version_or_unreleased_work_is_above_it():
    sections = changelog_sections()
    newest = next(name for name, _ in sections if name != "Unreleased")
    version = pyproject_version()
    if newest != version:
        # pyproject already names the coming version: its changes must be under Unreleased.
        assert sections[0][0] == "Unreleased", (newest, version)
        assert as_tuple(version) > as_tuple(newest), (newest, version)
