"""The run manifest: everything needed to know what went into a run and to rerun it.

SHA-256 of every input file, rows read / loaded / quarantined per table (which must add up),
package versions, git commit, the full parameter set, extraction dates, and per-step timings.
Written to `runs/<run_id>/manifest.json` and into both DuckDB files (`_manifest`). Holds counts,
names and hashes only: no person-level values.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from hfeval import __version__

PACKAGES = (
    "hfeval", "duckdb", "polars", "pandas", "pyarrow", "numpy", "scipy", "great-expectations",
    "lifelines", "altair", "streamlit", "openpyxl", "pyyaml", "typer", "rich",
)


class AccountingError(AssertionError):
    """Rows read != rows loaded + quarantined + replaced: a bug, never expected."""


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def git_state(root: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "-C", str(root), *args], check=False, capture_output=True,
                                 text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(dirty) if commit else None}


@dataclass
class Manifest:
    run_id: str
    paths: Any
    data_dir: Path
    started_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    finished_at: str | None = None
    status: str = "running"
    exit_code: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    validation: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: list[dict[str, Any]] = field(default_factory=list)
    published: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    extraction_dates: dict[str, Any] = field(default_factory=dict)
    data_docs: str | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _t0: float = field(default_factory=time.perf_counter)

    # -- recording ------------------------------------------------------------------------------
    @contextmanager
    def timed(self, name: str, report: Any = None, **extra: Any) -> Iterator[None]:
        if report:
            report("start", name)
        t = time.perf_counter()
        try:
            yield
        finally:
            secs = round(time.perf_counter() - t, 3)
            self.steps.append({"step": name, "seconds": secs, **extra})
            if report:
                report("done", f"{name} ({secs:.2f} s)")

    def record_sources(self, found: list[Any], data_dir: Path) -> None:
        for s in found:
            self.sources.append({
                "source_id": s.source_id,
                "path": _rel(s.root, data_dir),
                "mapping_file": _rel(s.mapping_file, data_dir) if s.mapping_file else None,
                "description": s.description,
                "synthetic": bool(s.synthetic),
                "extraction_date": str(s.extraction_date) if s.extraction_date else None,
                "tables": sorted(s.inputs),
                "unrecognised_files": [_rel(p, data_dir) for p in
                                       getattr(s, "unrecognised_files", [])],
            })

    def record_load(self, rep: Any, root: Path) -> None:
        for f in rep.to_dict()["files"]:
            self.inputs.append({"table": rep.table, "root": str(root), **f})

    def record_validation(self, val: Any, *, rejected: int, replaced: int, rows_read: int) -> None:
        loaded = val.rows_valid
        quarantined = val.rows_quarantined + rejected
        if rows_read != loaded + quarantined + replaced:
            raise AccountingError(
                f"{val.table}: rows read ({rows_read}) != loaded ({loaded}) + quarantined "
                f"({quarantined}) + replaced by override ({replaced})"
            )
        self.tables[val.table] = {
            "rows_read": rows_read,
            "rows_loaded": loaded,
            "rows_quarantined": quarantined,
            "rows_rejected_by_parser": rejected,
            "rows_replaced_by_override": replaced,
        }
        self.validation[val.table] = val.to_dict()

    def record_model(self, model: Any, rows: int) -> None:
        self.models.append({"name": model.name, "layer": model.layer, "label": model.label,
                            "rows": rows, "sql": str(model.sql_path.name)})

    def record_publish(self, name: str, rows: int, protected: bool) -> None:
        self.published.append({"table": name, "rows": rows,
                               "disclosure_control": "applied" if protected else "none needed"})

    def finish(self, status: str, exit_code: int) -> None:
        self.status, self.exit_code = status, exit_code
        self.finished_at = dt.datetime.now(dt.UTC).isoformat()

    # -- output ---------------------------------------------------------------------------------
    @property
    def synthetic(self) -> bool:
        return any(s["synthetic"] for s in self.sources)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds_total": round(time.perf_counter() - self._t0, 3),
            "synthetic_data": self.synthetic,
            "hfeval_version": __version__,
            "git": git_state(self.paths.root),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "packages": package_versions(),
            "data_dir": str(self.data_dir),
            "parameters": self.parameters,
            "extraction_dates": self.extraction_dates,
            "sources": self.sources,
            "inputs": self.inputs,
            "tables": self.tables,
            "validation": self.validation,
            "models": self.models,
            "published": self.published,
            "steps": self.steps,
            "data_docs": self.data_docs,
            "notes": self.notes,
            "errors": self.errors,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str), encoding="utf-8")

    def write_into(self, con: Any) -> None:
        """Store the manifest (as it stands) in a DuckDB file, for the dashboard and audits."""
        # Only a run that got this far is written into a database: it will succeed unless
        # the final rename fails, in which case the database is never put in place.
        d = {**self.to_dict(), "status": "succeeded", "exit_code": 0}
        con.execute("create or replace table _manifest (run_id varchar, synthetic_data boolean, "
                    "manifest_json varchar)")
        con.execute("insert into _manifest values (?, ?, ?)",
                    [self.run_id, self.synthetic, json.dumps(d, default=str)])


def _rel(p: Path | None, base: Path) -> str | None:
    if p is None:
        return None
    try:
        return Path(p).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(p)
