"""Execute the research notebooks against the current warehouse and keep them as HTML.

    runs/<run_id>/notebooks/<name>.html    PERSON-LEVEL: keep inside the secure zone

The notebooks read the person-level warehouse and print unprotected estimates (their own notes
say so), so the executed copies are person-level output: the folder gets a README saying so and
the run's manifest labels the step `person-level`. They are executed with papermill in the
project's own environment (kernel `python3`), with `HFEVAL_HOME`/`HFEVAL_OUTPUT` pointing at the
run's warehouse, and exported with nbconvert; Altair charts are rendered to inline SVG so the
HTML needs no network.

Committed notebooks carry no outputs: `strip` (also `python -m hfeval.reporting.notebooks strip
notebooks/*.ipynb`, or `make strip-notebooks`) clears outputs, execution counts and run metadata
with nbformat, no extra tool needed.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from hfeval.config import Paths

KERNEL = "python3"
LABEL = "person-level"
FOLDER = "notebooks"
README = """PERSON-LEVEL OUTPUT: keep inside the secure zone; never publish or e-mail.

These are the research notebooks (notebooks/*.ipynb) executed against this run's person-level
warehouse. Their tables and charts are NOT disclosure-controlled. Publishable results are in
warehouse/hfeval_publish.duckdb, the dashboard and `hfeval report`.
"""
# Run first in every executed copy (never in the committed file): charts as static SVG.
SETUP_CELL = "import altair as _alt\n_alt.renderers.enable('svg')"
SETUP_TAG = "hfeval-setup"
RUN_METADATA = ("execution", "papermill", "collapsed", "scrolled")


@dataclass
class NotebookResult:
    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    html: str | None = None
    error: str | None = None  # exception type and cell number only: never a value


@dataclass
class NotebookRun:
    folder: Path
    results: list[NotebookResult] = field(default_factory=list)

    @property
    def failed(self) -> list[NotebookResult]:
        return [r for r in self.results if r.status != "ok"]

    def notes(self) -> list[str]:
        ok = len(self.results) - len(self.failed)
        out = [(f"notebooks: {ok} of {len(self.results)} executed; HTML in "
                f"runs/<run id>/{FOLDER}/ ({LABEL}: secure zone only)")]
        out += [f"notebook {r.notebook} failed: {r.error}" for r in self.failed]
        return out


def notebook_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


@contextmanager
def _environment(paths: Paths) -> Iterator[None]:
    """The kernel inherits the environment: make it find this run's warehouse."""
    saved = {k: os.environ.get(k) for k in ("HFEVAL_HOME", "HFEVAL_OUTPUT")}
    os.environ["HFEVAL_HOME"] = str(paths.root)
    os.environ["HFEVAL_OUTPUT"] = str(paths.output)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _with_setup_cell(source: Path, target: Path) -> None:
    nb = nbformat.read(source, as_version=4)
    cell = nbformat.v4.new_code_cell(SETUP_CELL, metadata={"tags": [SETUP_TAG]})
    nb.cells.insert(0, cell)
    nbformat.write(nb, target)


def to_html(executed: Path, html: Path) -> Path:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_filename(str(executed))
    html.write_text(body, encoding="utf-8")
    return html


def execute(source: Path, out_dir: Path, *, timeout_s: int = 600) -> NotebookResult:
    """Run one notebook top to bottom (papermill) and export it to HTML, even when a cell
    fails: the HTML then shows where. Never raises for a failing notebook."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    work = out_dir / f".{source.stem}.input.ipynb"
    executed = out_dir / f".{source.stem}.executed.ipynb"
    _with_setup_cell(source, work)
    start = time.monotonic()
    status, error = "ok", None
    try:
        papermill.execute_notebook(
            str(work), str(executed), kernel_name=KERNEL, cwd=str(source.parent),
            progress_bar=False, log_output=False, execution_timeout=timeout_s,
        )
    except PapermillExecutionError as exc:
        # Only the exception type and the cell: a cell's message could quote data values.
        # cell_index counts from 0 in the copy that starts with the setup cell, so it is the
        # 1-based position of the failing cell in the notebook itself.
        status, error = "failed", f"{exc.ename} in cell {exc.cell_index}"
    except Exception as exc:  # noqa: BLE001 - a kernel that would not start, a timeout
        status, error = "failed", type(exc).__name__
    seconds = round(time.monotonic() - start, 1)
    html = None
    if executed.exists():
        html = to_html(executed, out_dir / f"{source.stem}.html").name
    for p in (work, executed):
        p.unlink(missing_ok=True)
    return NotebookResult(source.name, status, seconds, html, error)


def run_notebooks(
    paths: Paths, run_id: str, *, folder: Path | None = None,
    report: Callable[[str, str], None] | None = None, timeout_s: int = 600,
) -> NotebookRun:
    """Execute every notebook in `folder` (default: the project's notebooks/) against the
    warehouse of `paths`; write the HTML under runs/<run_id>/notebooks/."""
    folder = folder or paths.root / FOLDER
    out_dir = paths.runs / run_id / FOLDER
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "README.txt").write_text(README, encoding="utf-8")
    run = NotebookRun(out_dir)
    with _environment(paths):
        for nb in notebook_files(folder):
            if report:
                report("start", f"notebook {nb.name}")
            result = execute(nb, out_dir, timeout_s=timeout_s)
            run.results.append(result)
            if report:
                if result.status == "ok":
                    report("done", f"notebook {nb.name} ({result.seconds:.1f} s)")
                else:
                    report("warn", f"notebook {nb.name} failed: {result.error}")
    return run


# ---- committed notebooks carry no outputs ---------------------------------------------------


def is_clean(nb: nbformat.NotebookNode) -> bool:
    return all(not c.get("outputs") and c.get("execution_count") is None
               and not any(k in c.get("metadata", {}) for k in RUN_METADATA)
               for c in nb.cells if c.cell_type == "code") \
        and "papermill" not in nb.metadata


def strip(path: Path) -> bool:
    """Clear outputs, execution counts and run metadata in place; True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    if is_clean(nb):
        return False
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
    nb.metadata.pop("papermill", None)
    nbformat.write(nb, path)
    return True


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "strip":
        print("usage: python -m hfeval.reporting.notebooks strip NOTEBOOK.ipynb ...")
        return 2
    for name in argv[1:]:
        if strip(Path(name)):
            print(f"stripped {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
