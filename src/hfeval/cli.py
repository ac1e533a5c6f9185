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
    notebooks: Annotated[bool, typer.Option(
        "--notebooks/--no-notebooks", envvar="HFEVAL_NOTEBOOKS",
        help="After a successful run, execute notebooks/*.ipynb against the new warehouse "
             "into runs/<id>/notebooks/ (person-level HTML).")] = True,
) -> None:
    """Load, validate, transform and publish: the whole pipeline on DATA."""
    from hfeval import pipeline

    printer = _StepPrinter(quiet)
    try:
        result = pipeline.run(data, params_file=params, overrides=set_ or [],
                              wait_for_lock=wait, report=printer, notebooks=notebooks)
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
        run(data=paths.demo_data, params=None, set_=None, wait=True, quiet=False,
            notebooks=False)  # the dashboard first; `hfeval report --notebooks` runs them
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
def report(
    municipality: Annotated[list[str] | None, typer.Option(
        "--municipality", "-m",
        help="Municipality code or name (repeatable), or `all` (default).")] = None,
    lang: Annotated[list[str] | None, typer.Option(
        "--lang", "-l", help="nb, da or en (repeatable), or `all` (default).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Output folder (default: build/reports).")] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also print each report to PDF "
                                      "(headless Chromium).")] = True,
    notebooks: Annotated[bool, typer.Option(
        "--notebooks", help="Also execute notebooks/*.ipynb against the current warehouse into "
                            "runs/<id>/notebooks/ (person-level: secure zone only).")] = False,
) -> None:
    """Steering-group report per municipality (HTML + PDF, 4-6 pages) from the publishable
    database: summary, retention, pathways, costs per payer, fidelity, methods and manifest."""
    from hfeval import reporting
    from hfeval.reporting import build
    from hfeval.reporting import pdf as pdf_mod

    paths = get_paths()
    if not paths.publish_db.exists():
        err.print("no published results yet: run `hfeval run --data DIR` (or `make demo`) first")
        raise typer.Exit(1)
    out = out or paths.output / "reports"

    def done(f: reporting.ReportFile) -> None:
        pages = f" ({f.pages} pages)" if f.pages else ""
        console.print(f"  {f.municipality_code} {f.municipality_name} [{f.lang}]: {f.html}"
                      + (f", {f.pdf}{pages}" if f.pdf else "")
                      + (f" (reported as {f.unit_code})" if f.unit_code != f.municipality_code
                         else ""), markup=False)

    try:
        files = reporting.write_reports(paths.publish_db, out, municipalities=municipality or
                                        ["all"], langs=lang or ["all"], with_pdf=pdf,
                                        progress=done)
    except build.ReportError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(3) from None
    except pdf_mod.PdfError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from None
    console.print(f"{len(files)} report(s) written to {out} (index: {reporting.INDEX_FILE})")
    if notebooks:
        _report_notebooks(paths)


def _report_notebooks(paths) -> None:
    """Execute the notebooks against the current warehouse, holding the warehouse lock so no
    run replaces it meanwhile."""
    from hfeval import pipeline
    from hfeval.reporting import notebooks as nb

    if not paths.warehouse.exists():
        err.print("no warehouse: the notebooks need `hfeval run` first")
        raise typer.Exit(1)
    run_id = pipeline.latest_manifest(paths)["run_id"]
    printer = _StepPrinter(quiet=False)
    try:
        with pipeline.warehouse_lock(paths.lock_file, wait=True):
            result = nb.run_notebooks(paths, run_id, report=printer)
    finally:
        printer.stop()
    console.print(f"notebooks (person-level, secure zone only): {result.folder}")
    if result.failed:
        raise typer.Exit(1)


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


@app.command()
def costs(
    design: Annotated[list[str] | None, typer.Option(
        help="prepost and/or did (repeatable; default both).")] = None,
    window: Annotated[int | None, typer.Option(
        help="Months before and after the anchor (default: costs.window_months).")] = None,
    price_year: Annotated[int | None, typer.Option(
        help="Price year (default: costs.price_year).")] = None,
    currency: Annotated[str | None, typer.Option(
        help="NOK, DKK, EUR or local (default: costs.currency).")] = None,
    by: Annotated[str, typer.Option(help="municipality, country or all.")] = "municipality",
    ci: Annotated[str | None, typer.Option(help="bca or percentile (default: costs.ci_method).")
                  ] = None,
    resamples: Annotated[int | None, typer.Option(
        help="Bootstrap resamples (default: costs.bootstrap.n_resamples).")] = None,
    params: Annotated[Path | None, typer.Option(help="YAML file of parameter overrides.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a parameter, e.g. --set costs.discount_rate.NO=0.02.")] = None,
    show_small_strata: Annotated[bool, typer.Option(
        help="Print strata with few people too (researchers inside the secure zone only).")
    ] = False,
) -> None:
    """Net saving per participant-year with CIs, by payer sector (reads the person-level
    warehouse: a researcher tool for the secure zone)."""
    import duckdb

    from hfeval import costs as costs_mod
    from hfeval.config import resolve_parameters
    from hfeval.costs import outputs

    paths = get_paths()
    if not paths.warehouse.exists():
        err.print("no warehouse yet: run `hfeval run --data DIR` first")
        raise typer.Exit(1)
    try:
        p = resolve_parameters(params, set_ or [])
        settings = costs_mod.CostSettings.from_params(
            p, window_months=window, price_year=price_year, currency=currency,
            ci_method=ci, n_resamples=resamples)
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            inputs = costs_mod.read_inputs(con)
        costed = costs_mod.cost(inputs, settings)
        threshold = int(p["disclosure.threshold"])
        for d in design or ["prepost", "did"]:
            est = costs_mod.estimate(costed, design=d, by=by)
            if not show_small_strata:
                est = outputs.suppress_small(est, threshold, int(p["disclosure.rounding_base"]))
            for line in costs_mod.result_lines(est, threshold=threshold):
                console.print(line, markup=False)
            console.print()
    except (ValueError, KeyError) as exc:  # parameters and reference tables: names, no values
        err.print(f"error: {str(exc).strip(chr(39))}")
        raise typer.Exit(3) from None
    console.print(costs_mod.OBSERVATION_NOTE, markup=False)
    console.print(f"Bootstrap: {settings.n_resamples} person-level resamples, seed "
                  f"{settings.seed}; programme cost is taken as known.", markup=False)


@app.command()
def retention(
    by: Annotated[str, typer.Option(
        help="Stratum: all, country, municipality, cohort_year, support_model, sex, age_band, "
             "arm.")] = "all",
    at: Annotated[str, typer.Option(help="Months after move-in, comma-separated.")] = "6,12,24",
    definition: Annotated[str | None, typer.Option(
        help="Definition set (housing_first, hud_spm, strict_any_exit); default: the run's.")
    ] = None,
    arm: Annotated[str, typer.Option(help="housing_first, comparison or all.")] = "housing_first",
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    no_disclosure_control: Annotated[bool, typer.Option(
        "--no-disclosure-control",
        help="Print unprotected estimates (secure zone only).")] = False,
) -> None:
    """Tenancy survival (Kaplan-Meier, 95 % CI, number at risk) per stratum, from the
    person-level warehouse; disclosure-controlled unless --no-disclosure-control."""
    from hfeval.retention import report as retention_report

    if output_format not in ("table", "csv", "json"):
        err.print("--format must be table, csv or json")
        raise typer.Exit(3)
    try:
        months = [float(m) for m in at.split(",") if m.strip()]
    except ValueError:
        err.print("--at must be months separated by commas, e.g. 6,12,24")
        raise typer.Exit(3) from None
    if no_disclosure_control:
        err.print("[yellow]warning:[/yellow] disclosure control is OFF: small strata are shown "
                  "unprotected. Keep this output inside the secure zone.")
    try:
        rep = retention_report.retention_report(
            by=by, months=months, definition=definition, arm=arm,
            disclosure_control=not no_disclosure_control,
        )
    except FileNotFoundError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    except (KeyError, ValueError) as exc:
        err.print(str(exc).strip("'\""))
        raise typer.Exit(3) from None
    if output_format == "csv":
        typer.echo(retention_report.to_csv(rep), nl=False)
        return
    if output_format == "json":
        typer.echo(retention_report.to_json(rep))
        return
    for line in retention_report.header_lines(rep):
        console.print(line)
    columns, rows = retention_report.table_rows(rep)
    table = Table(show_edge=False)
    for i, col in enumerate(columns):
        labels = len(columns) - 1 - 2 * len(months)  # arm and/or stratum: left-aligned
        table.add_column(col, justify="left" if i < labels else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command()
def pseudonymise(
    in_dir: Annotated[Path, typer.Argument(metavar="IN", help="Folder of raw exports.")],
    out_dir: Annotated[Path, typer.Argument(metavar="OUT", help="New folder for the result.")],
    key_file: Annotated[Path | None, typer.Option(
        help="File holding the secret key (>= 32 bytes), kept outside the project.")] = None,
    key_env: Annotated[str | None, typer.Option(
        help="Environment variable holding the secret key instead.")] = None,
    id_column: Annotated[list[str] | None, typer.Option(
        help="A column of identifiers to hash (repeatable).")] = None,
    drop_column: Annotated[list[str] | None, typer.Option(
        help="A column to remove (repeatable).")] = None,
    keep_column: Annotated[list[str] | None, typer.Option(
        help="Keep a column a name or value rule would remove (repeatable).")] = None,
) -> None:
    """Data owner, before analysis: hash identity numbers, remove direct identifiers, birth
    dates to years (docs/privacy.md)."""
    from hfeval import pseudonymise as ps
    from hfeval import sources

    root = get_paths().root
    project = (root / "pyproject.toml").is_file() and (root / "pipelines").is_dir()
    try:
        key = ps.load_key(key_file, key_env, keep_out_of=(root, out_dir) if project else (out_dir,))
        result = ps.pseudonymise(in_dir, out_dir, key, ps.Options(
            tuple(id_column or ()), tuple(drop_column or ()), tuple(keep_column or ())))
    except (ps.PseudonymiseError, sources.SourceError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(3) from None
    except Exception as exc:  # noqa: BLE001 - a library's message could quote a value
        err.print(f"[red]internal error[/red] ({type(exc).__name__}); nothing was written")
        raise typer.Exit(1) from None
    table = Table(title="What changed, by column (counts only)", show_edge=False)
    for col in ("file", "column", "action", "values", "reason"):
        table.add_column(col, justify="right" if col == "values" else "left")
    for f in result.files:
        for c in f.columns:
            if c.action != "kept":
                table.add_row(f.output, c.column, c.action, f"{c.values:,}", c.reason)
    console.print(table)
    for f in result.files:
        extra = [f"{n:,} {what}" for n, what in (
            (f.title_rows, "title row(s) above the header"), (f.rows_blank, "blank row(s)"),
            (f.rows_rejected, "unreadable line(s)")) if n]
        console.print(f"{f.input}{f' [{f.sheet}]' if f.sheet else ''} -> {f.output}: "
                      f"{f.rows_written:,} of {f.rows_read:,} rows written"
                      + (f"; left out: {', '.join(extra)}" if extra else ""))
        if f.rejected_rows:
            err.print(f"  [yellow]![/yellow] unreadable line(s) at row(s) "
                      f"{', '.join(map(str, f.rejected_rows[:20]))}: fix them in the export")
    for note in result.notes:
        err.print(f"  [yellow]![/yellow] {note}")
    if result.skipped:
        err.print(f"  [yellow]![/yellow] not copied (not data): {', '.join(result.skipped)}")
    console.print(f"key id {result.key_id} · written to {out_dir} · report {ps.REPORT_FILE}")


if __name__ == "__main__":
    app()
