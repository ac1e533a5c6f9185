"""The `hfeval` command line: synthetic data, pipeline runs, summaries, the dashboard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hfeval import __version__
from hfeval.config import get_paths

app = typer.Typer(
    help="hfeval: evaluate Housing First programmes (retention, costs) reproducibly and privately.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # tracebacks could show data values: never print them
)
# Piped output (CI, logs) gets a fixed width rather than rich's 80 columns.
# soft_wrap: long paths and messages stay on one line so they can be copied.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 110)
err = Console(stderr=True, highlight=False, soft_wrap=True,
              width=None if sys.stderr.isatty() else 110)


def _version(value: bool) -> None:
    if value:
        console.print(f"hfeval {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    pass


@app.command()
def synth(
    out: Annotated[Path | None, typer.Option(help="Output folder (default: build/demo-data).")] = None,
    participants: Annotated[int | None, typer.Option(
        help="Total participants; default = the calibrated demo size (721). For national scale "
             "use e.g. --participants 100000 --style contract --format parquet.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 20140101,
    style: Annotated[str, typer.Option(help="municipal (exports + mapping files) or contract.")] = "municipal",
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet (contract style).")] = "csv",
) -> None:
    """Generate SYNTHETIC demo data shaped like the five municipalities' exports."""
    from hfeval import synth as synth_mod

    out = out or get_paths().demo_data
    _clear_previous_synthetic(out)
    cfg = synth_mod.SynthConfig(seed=seed, participants=participants, style=style,
                                file_format=file_format)
    try:
        with console.status("generating synthetic data..."):
            summary = synth_mod.generate(out, cfg)
    except ValueError as exc:  # a configuration the generator cannot make
        err.print(f"error: {exc}")
        raise typer.Exit(3) from None
    console.print(f"[bold]SYNTHETIC[/bold] data written to {out}")
    for table, n in summary.rows.items():
        console.print(f"  {table:<20} {n:>12,} rows")


def _clear_previous_synthetic(out: Path) -> None:
    """Empty a folder an earlier `hfeval synth` wrote, so no stale files of another style or
    size remain; refuse to touch a non-empty folder that synth did not write."""
    if not out.exists() or not any(out.iterdir()):
        return
    marker = out / "README.txt"
    if not (marker.exists() and "SYNTHETIC" in marker.read_text(encoding="utf-8", errors="ignore")):
        err.print(f"{out} is not empty and was not written by `hfeval synth`; choose another --out")
        raise typer.Exit(3)
    import shutil

    shutil.rmtree(out)


class _StepPrinter:
    """Progress for a pipeline run: a line per finished step, a spinner while one runs."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.status = None

    def __call__(self, event: str, text: str) -> None:
        if self.quiet:
            return
        if event == "start":
            if self.status is None:
                self.status = err.status(f"{text}...")
                self.status.start()
            else:
                self.status.update(f"{text}...")
        elif event == "done":
            err.print(f"  [green]✓[/green] {text}")
        elif event == "warn":
            err.print(f"  [yellow]![/yellow] {text}")
        else:
            err.print(f"    {text}")

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()


@app.command()
def run(
    data: Annotated[Path, typer.Option(help="Folder with the sources (see data/README.md).")],
    params: Annotated[Path | None, typer.Option(help="YAML file of parameter overrides.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a parameter: --set validation.mostly=0.99 (repeatable).")] = None,
    wait: Annotated[bool, typer.Option(help="Wait for another run to finish instead of exiting.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress display.")] = False,
) -> None:
    """Load, validate, transform and publish: the whole pipeline on DATA."""
    from hfeval import pipeline

    printer = _StepPrinter(quiet)
    try:
        result = pipeline.run(data, params_file=params, overrides=set_ or [],
                              wait_for_lock=wait, report=printer)
    finally:
        printer.stop()
    _print_run(result)
    raise typer.Exit(result.exit_code)


def _print_run(result) -> None:
    m = result.manifest
    tables = Table(title="Rows per input table", show_edge=False)
    for col in ("table", "read", "loaded", "quarantined", "replaced"):
        tables.add_column(col, justify="left" if col == "table" else "right")
    for name, t in m.get("tables", {}).items():
        tables.add_row(name, f"{t['rows_read']:,}", f"{t['rows_loaded']:,}",
                       f"{t['rows_quarantined']:,}", f"{t['rows_replaced_by_override']:,}")
    if m.get("tables"):
        console.print(tables)
    if m.get("synthetic_data"):
        console.print("[bold magenta]SYNTHETIC DATA[/bold magenta]: results describe no real person.")
    for msg in result.messages:
        err.print(f"[red]error:[/red] {msg}")
    colour = "green" if result.exit_code == 0 else "red"
    console.print(f"[{colour}]{result.status}[/{colour}] (exit {result.exit_code}) · run "
                  f"{result.run_id} · manifest {result.manifest_path}")
    if m.get("data_docs"):
        console.print(f"validation report (GX Data Docs): {m['data_docs']}")


@app.command()
def summary() -> None:
    """Print the headline numbers from the publishable (disclosure-controlled) database."""
    from hfeval import report

    paths = get_paths()
    if not paths.publish_db.exists():
        err.print("no published results yet: run `hfeval run --data DIR` first")
        raise typer.Exit(1)
    report.print_summary(console, paths)


@app.command()
def demo(
    serve: Annotated[bool, typer.Option(help="Start the dashboard afterwards.")] = True,
    port: Annotated[int, typer.Option(help="Dashboard port.")] = 8501,
) -> None:
    """Generate the synthetic demo data, run the pipeline, print a summary, open the dashboard."""
    paths = get_paths()
    synth(out=paths.demo_data, participants=None, seed=20140101, style="municipal",
          file_format="csv")
    try:
        run(data=paths.demo_data, params=None, set_=None, wait=True, quiet=False)
    except typer.Exit as exc:
        if exc.exit_code:
            raise
    summary()
    if serve:
        dashboard(port=port)


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = True,
) -> None:
    """Start the Streamlit dashboard (reads only the publishable database)."""
    paths = get_paths()
    app_py = paths.root / "dashboard" / "app.py"
    console.print(f"dashboard: http://localhost:{port}  (Ctrl+C to stop)")
    env = {**os.environ, "HFEVAL_PUBLISH_DB": str(paths.publish_db)}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_py), "--server.port", str(port),
           "--server.headless", str(headless).lower(), "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "viewer"]
    raise typer.Exit(subprocess.call(cmd, env=env))


@app.command()
def expectations(
    write: Annotated[bool, typer.Option(help="Rewrite expectations/*.json from the contract.")] = False,
) -> None:
    """Check (or rewrite) the Great Expectations suites generated from the data contract."""
    from hfeval import validation

    paths = get_paths()
    if write:
        for p in validation.write_suites(paths.expectations):
            console.print(f"wrote {p}")
        return
    stale = validation.stale_suites(paths.expectations)
    if stale:
        err.print(f"out of date: {', '.join(stale)}; run `hfeval expectations --write`")
        raise typer.Exit(1)
    console.print("expectation suites match the contract")


@app.command()
def docs(
    write: Annotated[bool, typer.Option(help="Rewrite data/README.md and data/templates/.")] = False,
) -> None:
    """Write the data contract documentation and blank templates from the code."""
    from hfeval import contract_docs

    paths = get_paths()
    if write:
        contract_docs.write_docs(paths.root)
        console.print("wrote data/README.md and data/templates/")
    else:
        typer.echo(contract_docs.render_markdown(), nl=False)


if __name__ == "__main__":
    app()
