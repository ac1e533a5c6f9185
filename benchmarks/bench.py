"""`make bench`: the whole pipeline at growing national scale, against a floor and pandas.

For each size (participants; the largest has about 1.1 x 10^7 service events and 2.2 x 10^7
support contacts), synthetic contract-layout Parquet data are generated once and cached under
build/bench/data/ (keyed on size, seed and a hash of synth.py), then three things run, each in
its own process, one after another:

* floor: DuckDB reads every column of every input file once (`sum(hash(col))` per column): the
  least any tool must do;
* hfeval: `hfeval run` on the folder; wall time per stage (load, validate, transform, publish)
  from the run's manifest and log, peak RSS of the process (wait4) and per stage (sampled);
* pandas: benchmarks/pandas_marts.py, the headline marts written in plain pandas.

The ratios (pipeline / floor, pandas / pipeline) come from the same run, so they hold on a busy
machine better than the seconds do. pandas is run up to --pandas-max participants; beyond that its
time is extrapolated linearly in service events from the largest size run (marked `~`). Last,
benchmarks/dashboard_speed.py times the dashboard on the largest size's publishable database.

Prints the table, writes benchmarks/results/latest.json and the generated section of
BENCHMARKS.md.

    uv run python benchmarks/bench.py [--sizes 1000,10000,100000] [--pandas-max 100000]
        [--no-dashboard] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "build" / "bench"
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
MARKDOWN = ROOT / "BENCHMARKS.md"
MD_START, MD_END = "<!-- bench:start -->", "<!-- bench:end -->"
SEED = 20140101
GIB = 1024**3

# Targets from issue 8.
TARGET_FLOOR_RATIO = 3.0
TARGET_PANDAS_RATIO = 10.0
TARGET_PEAK_GIB = 4.0
TARGET_GROWTH = 1.2  # time ~ events^k: k at most this counts as close to linear
TARGET_FIRST_RENDER_S = 2.0
TARGET_FILTER_S = 0.3

STAGES = ("load", "validate", "transform", "publish", "report")
# The marts benchmarks/pandas_marts.py computes; with every model they read, they are what hfeval
# spends on the same output ("same marts" in the table).
PANDAS_MARTS = ("mart_overview_by_municipality", "mart_enrolment_by_municipality_year",
                "mart_retention_by_stratum", "mart_costs_by_person_period")


# ---- running a process and watching its memory -------------------------------------------------


@dataclass
class Measured:
    returncode: int
    wall_s: float
    cpu_s: float  # user + system of the process and its children
    peak_rss: int  # bytes (ru_maxrss of the process tree)
    samples: list[tuple[float, int]] = field(default_factory=list)  # (epoch s, tree RSS bytes)
    stdout: str = ""


def _tree_rss(proc: Any) -> int:
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a child that just ended
            total += p.memory_info().rss
    return total


def measure(cmd: list[str], env: dict[str, str] | None = None, sample_s: float = 0.25,
            timeout_s: float | None = None) -> Measured:
    """Run `cmd`; wall time, CPU time and peak RSS from wait4, RSS samples from psutil."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    samples: list[tuple[float, int]] = []
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)
    reader.start()
    try:
        import psutil

        ps = psutil.Process(proc.pid)
    except Exception:  # noqa: BLE001 - psutil missing or the process already gone
        ps = None
    status = None
    while status is None:
        pid, st, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status = st
            break
        if ps is not None:
            samples.append((time.time(), _tree_rss(ps)))
        if timeout_s and time.perf_counter() - t0 > timeout_s:
            proc.kill()
        time.sleep(sample_s)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=5)
    return Measured(
        returncode=proc.returncode, wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss=usage.ru_maxrss * 1024, samples=samples, stdout="".join(out),
    )


# ---- data --------------------------------------------------------------------------------------


def synth_version() -> str:
    h = hashlib.sha256()
    for f in ("synth.py", "contract.py"):
        h.update((ROOT / "src" / "hfeval" / f).read_bytes())
    return h.hexdigest()[:10]


def dataset(participants: int, log: Any) -> tuple[Path, float | None]:
    """The cached data folder for this size (generated if missing) and generation seconds."""
    key = f"p{participants}-s{SEED}-{synth_version()}"
    base = BENCH / "data"
    folder = base / key
    if (folder / ".complete").exists():
        return folder, None
    for old in base.glob(f"p{participants}-s*"):  # an older synth version of this size
        shutil.rmtree(old, ignore_errors=True)
    tmp = base / f".tmp-{key}"
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"generating {participants:,} participants -> {folder.relative_to(ROOT)}")
    m = measure([sys.executable, "-m", "hfeval", "synth", "--participants", str(participants),
                 "--style", "contract", "--format", "parquet", "--seed", str(SEED),
                 "--out", str(tmp)])
    if m.returncode:
        raise SystemExit(f"hfeval synth failed:\n{m.stdout[-2000:]}")
    (tmp / ".complete").write_text(key + "\n")
    tmp.rename(folder)
    return folder, m.wall_s


def input_files(folder: Path) -> list[Path]:
    """Every file the pipeline reads for this folder: inputs, reference overrides, defaults."""
    own = sorted(p for p in folder.rglob("*") if p.suffix in (".parquet", ".csv"))
    overridden = {p.name for p in own if p.parent.name == "reference"}
    defaults = sorted(p for p in (ROOT / "data" / "reference").glob("*.csv")
                      if p.name not in overridden)
    return own + defaults


def row_counts(folder: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect()
    return {p.stem: con.execute(f"select count(*) from read_parquet('{p}')").fetchall()[0][0]
            for p in sorted(folder.glob("*.parquet"))}


# ---- the three contenders ------------------------------------------------------------------------


FLOOR_SCRIPT = r"""
import sys, time, duckdb
con = duckdb.connect()
t0 = time.perf_counter()
for f in sys.argv[1:]:
    src = (f"read_parquet('{f}')" if f.endswith('.parquet')
           else f"read_csv('{f}', all_varchar=true)")
    cols = [r[0] for r in con.execute(f'describe select * from {src}').fetchall()]
    aggs = ', '.join(['count(*)'] + [f'sum(hash("{c}"))' for c in cols])
    con.execute(f'select {aggs} from {src}').fetchall()
print(f'scan seconds {time.perf_counter() - t0}')
"""


def run_floor(folder: Path) -> tuple[Measured, float]:
    """The process, and the seconds of the scan itself (without starting Python and DuckDB,
    so the floor is the read alone)."""
    m = measure([sys.executable, "-c", FLOOR_SCRIPT, *map(str, input_files(folder))])
    line = next((x for x in m.stdout.splitlines() if x.startswith("scan seconds")), None)
    if m.returncode or line is None:
        raise SystemExit(f"floor scan failed:\n{m.stdout[-2000:]}")
    return m, float(line.split()[-1])


def run_pipeline(folder: Path, participants: int, overrides: list[str],
                 notebooks: bool = False) -> tuple[Measured, dict]:
    out = BENCH / "out" / f"p{participants}"
    for old in (out / "runs").glob("*"):  # keep only the run measured now
        shutil.rmtree(old, ignore_errors=True)
    cmd = [sys.executable, "-m", "hfeval", "run", "--data", str(folder), "--quiet",
           "--notebooks" if notebooks else "--no-notebooks"]
    for o in overrides:
        cmd += ["--set", o]
    m = measure(cmd, env={"HFEVAL_OUTPUT": str(out)})
    runs = sorted((out / "runs").glob("*/manifest.json"))
    if m.returncode or not runs:
        raise SystemExit(f"hfeval run failed (exit {m.returncode}):\n{m.stdout[-3000:]}")
    manifest = json.loads(runs[-1].read_text(encoding="utf-8"))
    return m, {"manifest": manifest, "log": runs[-1].parent / "log.jsonl",
               "publish_db": out / "warehouse" / "hfeval_publish.duckdb"}


def run_pandas(folder: Path) -> Measured:
    return measure([sys.executable, str(ROOT / "benchmarks" / "pandas_marts.py"),
                    "--data", str(folder)])


def stage_of(step: dict[str, Any]) -> str:
    """load, validate, transform (models), publish; other steps (notebooks, reports): report."""
    if "layer" in step:
        return "transform"
    return {"discover": "load", "load": "load", "validate": "validate",
            "data docs": "validate", "publish": "publish"}.get(step["step"], "report")


def same_marts_seconds(manifest: dict[str, Any], spec_file: Path | None = None) -> float:
    """Load, validate and the models PANDAS_MARTS need (themselves and all they read)."""
    import yaml

    spec_file = spec_file or ROOT / "pipelines" / "pipeline.yaml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    inputs = {m["name"]: m.get("inputs", []) for m in spec["models"]}
    needed: set[str] = set()
    todo = [m for m in PANDAS_MARTS if m in inputs]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += [i for i in inputs.get(name, []) if i in inputs]
    return sum(float(s["seconds"]) for s in manifest["steps"]
               if s["step"] in needed or stage_of(s) in ("load", "validate"))


def stage_times(manifest: dict[str, Any]) -> dict[str, float]:
    out = dict.fromkeys(STAGES, 0.0)
    for step in manifest["steps"]:
        out[stage_of(step)] += float(step["seconds"])
    return out


def stage_peaks(manifest: dict[str, Any], log_file: Path,
                samples: list[tuple[float, int]]) -> dict[str, int]:
    """Highest sampled RSS while each stage ran (step times from the run's log.jsonl)."""
    models = {s["step"] for s in manifest["steps"] if "layer" in s}
    windows: list[tuple[str, float, float]] = []
    started: dict[str, float] = {}
    for line in log_file.read_text(encoding="utf-8").splitlines():
        ev = json.loads(line)
        if ev.get("event") not in ("step_start", "step_done"):
            continue
        ts = dt.datetime.fromisoformat(ev["ts"]).timestamp()
        if ev["event"] == "step_start":
            started[ev["step"]] = ts
        elif ev["step"] in started:
            step = {"step": ev["step"], **({"layer": 1} if ev["step"] in models else {})}
            windows.append((stage_of(step), started.pop(ev["step"]), ts))
    peaks = dict.fromkeys(STAGES, 0)
    for stage, lo, hi in windows:
        for t, rss in samples:
            if lo <= t <= hi:
                peaks[stage] = max(peaks[stage], rss)
    return peaks


def slowest_models(manifest: dict[str, Any], n: int = 5) -> list[tuple[str, float]]:
    steps = [(s["step"], float(s["seconds"])) for s in manifest["steps"] if "layer" in s]
    return sorted(steps, key=lambda s: -s[1])[:n]


# ---- machine and report --------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "ram_gib": round(mem_kb / 1024**2, 1), "cpu": cpu,
            "platform": platform.platform(), "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        r = subprocess.run(["git", "-C", str(ROOT), *args], check=False, capture_output=True,
                           text=True)
        return r.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("duckdb", "pandas", "polars", "pyarrow")}


def growth(rows: list[dict[str, Any]], key: str) -> float | None:
    """k in time ~ events^k between the two largest sizes with a measured value."""
    pts = [(r["service_events"], r[key]) for r in rows if r.get(key)]
    if len(pts) < 2:
        return None
    (e0, t0), (e1, t1) = pts[-2], pts[-1]
    return math.log(t1 / t0) / math.log(e1 / e0) if e1 > e0 and t0 > 0 else None


def extrapolate_pandas(rows: list[dict[str, Any]]) -> None:
    measured = [r for r in rows if r.get("pandas_s") and not r.get("pandas_extrapolated")]
    if not measured:
        return
    ref = measured[-1]
    for r in rows:
        if r.get("pandas_s") is None:
            r["pandas_s"] = ref["pandas_s"] * r["service_events"] / ref["service_events"]
            r["pandas_extrapolated"] = True
            r["pandas_peak_gib"] = None


def fmt_s(x: float | None, approx: bool = False) -> str:
    if x is None:
        return "-"
    s = f"{x:.2f}" if x < 1 else f"{x:.1f}" if x < 100 else f"{x:.0f}"
    return ("~" if approx else "") + s


def table_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    head = ["participants", "service events", "floor s", "load s", "validate s", "transform s",
            "publish s", "report s", "hfeval s", "CPU s", "peak GiB", "hfeval/floor",
            "same marts s", "pandas s", "pandas/same"]
    body = []
    for r in rows:
        st = r["stages_s"]
        approx = bool(r.get("pandas_extrapolated"))
        ratio = r["pandas_s"] / r["same_marts_s"] if r.get("pandas_s") else None
        body.append([
            f"{r['participants']:,}", f"{r['service_events']:,}", fmt_s(r["floor_s"]),
            *(fmt_s(st.get(s)) for s in STAGES), fmt_s(r["hfeval_s"]), fmt_s(r["hfeval_cpu_s"]),
            f"{r['hfeval_peak_gib']:.2f}", f"{r['hfeval_s'] / r['floor_s']:.0f}x",
            fmt_s(r["same_marts_s"]), fmt_s(r.get("pandas_s"), approx),
            ("~" if approx else "") + (f"{ratio:.2f}x" if ratio else "-"),
        ])
    return head, body


def verdicts(result: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    big = result["sizes"][-1]
    ratio_p = big["pandas_s"] / big["hfeval_s"] if big.get("pandas_s") else None
    ratio_same = big["pandas_s"] / big["same_marts_s"] if big.get("pandas_s") else None
    k = result["growth_exponent"]
    out = [
        (f"end-to-end within {TARGET_FLOOR_RATIO:.0f}x of the floor",
         f"{big['hfeval_s'] / big['floor_s']:.0f}x", big["hfeval_s"] / big["floor_s"]
         <= TARGET_FLOOR_RATIO),
        (f"at least {TARGET_PANDAS_RATIO:.0f}x faster than pandas, end to end",
         f"{ratio_p:.2f}x" if ratio_p else "-", ratio_p >= TARGET_PANDAS_RATIO
         if ratio_p else None),
        (f"at least {TARGET_PANDAS_RATIO:.0f}x faster than pandas, same marts",
         f"{ratio_same:.2f}x" if ratio_same else "-", ratio_same >= TARGET_PANDAS_RATIO
         if ratio_same else None),
        (f"peak memory under {TARGET_PEAK_GIB:.0f} GiB", f"{big['hfeval_peak_gib']:.2f} GiB",
         big["hfeval_peak_gib"] < TARGET_PEAK_GIB),
        ("growth close to linear (time ~ events^k)", f"k = {k:.2f}" if k else "-",
         k <= TARGET_GROWTH if k else None),
    ]
    dash = result.get("dashboard") or {}
    if dash.get("pages"):
        first = max(p["first_render_s"] for p in dash["pages"])
        filters = [p["filter_change_s"] for p in dash["pages"] if p.get("filter_change_s")]
        out.append((f"dashboard first render under {TARGET_FIRST_RENDER_S:.0f} s (slowest page)",
                    f"{first:.2f} s", first < TARGET_FIRST_RENDER_S))
        if filters:
            out.append((f"filter change under {TARGET_FILTER_S * 1000:.0f} ms (slowest)",
                        f"{max(filters) * 1000:.0f} ms", max(filters) < TARGET_FILTER_S))
    return out


def markdown(result: dict[str, Any]) -> str:
    head, body = table_rows(result["sizes"])
    m, g = result["machine"], result["git"]
    lines = [
        (f"Measured {result['finished_at'][:16].replace('T', ' ')} UTC on {m['nproc']} cores "
         f"({m['cpu']}), {m['ram_gib']} GiB RAM, load average at start "
         f"{', '.join(map(str, m['load_average_at_start']))}; commit `{g['commit'][:10]}`"
         f"{' (with uncommitted changes)' if g['dirty'] else ''}; "
         f"duckdb {result['versions']['duckdb']}, pandas {result['versions']['pandas']}."),
        f"Command: `{result['command']}` ({result['bench_seconds'] / 60:.1f} min in all).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---:" for _ in head) + "|",
        *("| " + " | ".join(r) + " |" for r in body),
        "",
        "| target | measured | met |",
        "|---|---:|:---:|",
        *(f"| {name} | {value} | {'-' if ok is None else 'yes' if ok else 'no'} |"
          for name, value, ok in verdicts(result)),
    ]
    dash = result.get("dashboard") or {}
    if dash.get("pages"):
        lines += ["", "| dashboard page | first render s | filter change ms |", "|---|---:|---:|"]
        for p in dash["pages"]:
            f = p.get("filter_change_s")
            lines.append(f"| {p['page']} | {p['first_render_s']:.2f} | "
                         f"{'-' if f is None else f'{f * 1000:.0f}'} |")
    elif dash.get("error"):
        lines += ["", f"Dashboard: not measured ({dash['error']})."]
    big = result["sizes"][-1]
    peaks = big.get("stage_peak_gib") or {}
    if any(peaks.values()):
        lines += ["", "Peak RSS by stage at the largest size (sampled every 0.25 s): " + ", ".join(
            f"{k} {v:.2f} GiB" for k, v in peaks.items() if v) + "."]
    slow = big.get("slowest_models") or []
    if slow:
        lines += ["", "Slowest models at the largest size: " + ", ".join(
            f"{n} {s:.0f} s" for n, s in slow) + "."]
    return "\n".join(lines)


def write_markdown(result: dict[str, Any]) -> None:
    if not MARKDOWN.exists():
        return
    text = MARKDOWN.read_text(encoding="utf-8")
    if MD_START not in text or MD_END not in text:
        return
    before, rest = text.split(MD_START, 1)
    _, after = rest.split(MD_END, 1)
    MARKDOWN.write_text(f"{before}{MD_START}\n{markdown(result)}\n{MD_END}{after}",
                        encoding="utf-8")


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    head, body = table_rows(result["sizes"])
    t = Table(title="hfeval national-scale benchmark", title_justify="left")
    for h in head:
        t.add_column(h, justify="right")
    for r in body:
        t.add_row(*r)
    console = Console(width=max(Console().width, 180))
    console.print(t)
    for name, value, ok in verdicts(result):
        mark = "-" if ok is None else "[green]met[/]" if ok else "[red]missed[/]"
        console.print(f"  {name}: {value}  {mark}")
    if any(r.get("pandas_extrapolated") for r in result["sizes"]):
        console.print("  ~ pandas extrapolated linearly in service events from the largest size "
                      "it ran at (--pandas-max)")


# ---- main ----------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000",
                    help="participants per size, comma-separated")
    ap.add_argument("--pandas-max", type=int, default=100_000,
                    help="run pandas up to this many participants; extrapolate beyond")
    ap.add_argument("--no-dashboard", action="store_true")
    ap.add_argument("--notebooks", action="store_true",
                    help="let hfeval run execute the notebooks too (column `report`)")
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    help="parameter override passed to hfeval run (repeatable)")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.0f} s] {msg}", flush=True)

    result: dict[str, Any] = {
        "command": "make bench" if os.environ.get("MAKELEVEL") else " ".join(
            ["uv run python benchmarks/bench.py", *sys.argv[1:]]),
        "started_at": dt.datetime.now(dt.UTC).isoformat(), "machine": machine(),
        "git": git_commit(), "versions": versions(), "synth_version": synth_version(),
        "overrides": args.overrides, "notebooks": args.notebooks, "sizes": [],
    }
    publish_db = None
    for n in sizes:
        folder, gen_s = dataset(n, log)
        counts = row_counts(folder)
        row: dict[str, Any] = {
            "participants": n, "rows": counts, "service_events": counts.get("service_use", 0),
            "input_mb": sum(p.stat().st_size for p in input_files(folder)) / 1e6,
            "synth_s": gen_s,
        }
        log(f"{n:,}: floor")
        floor, scan_s = run_floor(folder)
        row.update(floor_s=scan_s, floor_process_s=floor.wall_s,
                   floor_peak_gib=floor.peak_rss / GIB)
        log(f"{n:,}: hfeval run")
        m, info = run_pipeline(folder, n, args.overrides, args.notebooks)
        row.update(hfeval_s=m.wall_s, hfeval_cpu_s=m.cpu_s, hfeval_peak_gib=m.peak_rss / GIB,
                   stages_s=stage_times(info["manifest"]),
                   same_marts_s=same_marts_seconds(info["manifest"]),
                   stage_peak_gib={k: v / GIB for k, v in
                                   stage_peaks(info["manifest"], info["log"], m.samples).items()},
                   slowest_models=slowest_models(info["manifest"]))
        publish_db = info["publish_db"]
        if n <= args.pandas_max:
            log(f"{n:,}: pandas")
            p = run_pandas(folder)
            if p.returncode:
                log(f"pandas failed (exit {p.returncode}): {p.stdout[-500:]}")
            else:
                row.update(pandas_s=p.wall_s, pandas_cpu_s=p.cpu_s,
                           pandas_peak_gib=p.peak_rss / GIB)
        result["sizes"].append(row)
        log(f"{n:,}: hfeval {m.wall_s:.1f} s, floor {scan_s:.2f} s, "
            f"pandas {fmt_s(row.get('pandas_s'))} s")
    extrapolate_pandas(result["sizes"])
    result["growth_exponent"] = growth(result["sizes"], "hfeval_s")
    result["growth_exponent_cpu"] = growth(result["sizes"], "hfeval_cpu_s")
    if not args.no_dashboard and publish_db is not None:
        log("dashboard")
        result["dashboard"] = run_dashboard(publish_db)
    result["finished_at"] = dt.datetime.now(dt.UTC).isoformat()
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["bench_seconds"] = time.perf_counter() - t_start
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    if args.results == RESULTS:
        write_markdown(result)
    print_table(result)
    log(f"results: {args.results.relative_to(ROOT) if args.results.is_relative_to(ROOT) else args.results}")


def run_dashboard(db: Path) -> dict[str, Any]:
    m = measure([sys.executable, str(ROOT / "benchmarks" / "dashboard_speed.py"), "--db", str(db),
                 "--json"], timeout_s=600)
    lines = [x for x in m.stdout.splitlines() if x.startswith("{")]
    if m.returncode or not lines:
        return {"error": (m.stdout.strip().splitlines() or ["no output"])[-1][:300]}
    return json.loads(lines[-1])


if __name__ == "__main__":
    main()
