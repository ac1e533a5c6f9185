"""A run killed with SIGKILL mid-way leaves the previous warehouse usable; runs do not collide."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from hfeval import logging as hflog
from hfeval import pipeline, synth
from hfeval.config import get_paths
from tests.helpers import sha256, write_source

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    synth.generate(out, synth.SynthConfig())
    return out


def _start_run(data: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hfeval", "run", "--data", str(data), "--quiet", *extra],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_build_file(warehouse_dir: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(warehouse_dir.glob(".building-*.duckdb")):
            return
        assert proc.poll() is None, "the run ended before it started building"
        time.sleep(0.05)
    raise AssertionError("the run never started building")


def test_a_run_killed_mid_way_leaves_the_previous_warehouse_and_the_next_run_succeeds(demo_data):
    paths = get_paths()
    first = pipeline.run(demo_data, paths=paths)
    assert first.exit_code == 0, first.messages
    before = (sha256(paths.warehouse), sha256(paths.publish_db))

    proc = _start_run(demo_data)
    _wait_for_build_file(paths.warehouse_dir, proc)
    time.sleep(1.0)  # well into loading
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    assert (sha256(paths.warehouse), sha256(paths.publish_db)) == before
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from mart_participants").fetchall()[0][0] > 0
    assert list(paths.warehouse_dir.glob(".building-*")), "the killed run left its half-built file"

    again = pipeline.run(demo_data, paths=paths)
    assert again.exit_code == 0, again.messages
    assert not list(paths.warehouse_dir.glob(".building-*"))
    assert any("interrupted run" in n for n in again.manifest["notes"])


def test_a_second_concurrent_run_exits_clearly_or_waits(demo_data):
    paths = get_paths()
    proc = _start_run(demo_data)
    try:
        _wait_for_build_file(paths.warehouse_dir, proc)
        busy = pipeline.run(demo_data, paths=paths)
        assert busy.exit_code == pipeline.EXIT_LOCKED
        waited = pipeline.run(demo_data, paths=paths, wait_for_lock=True)
        assert waited.exit_code == 0, waited.messages
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == 0
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        run_id = con.execute("select run_id from _manifest").fetchall()[0][0]
    assert run_id == waited.run_id  # the waiting run finished last and its warehouse stands


# ---- killed while publishing or renaming ---------------------------------------------------------

# A child process runs the pipeline and kills itself (SIGKILL: no cleanup, no finally) at an
# exact point, so the test does not depend on timing.
_KILL_AFTER = """
import os, signal, sys
from pathlib import Path
from hfeval import pipeline
point = sys.argv[2]
if point == "publish":  # publishable database built, nothing renamed yet
    original = pipeline._publish
    def _publish(*args, **kwargs):
        original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    pipeline._publish = _publish
else:  # the warehouse renamed into place, the publishable database not yet
    original = pipeline.atomic_replace
    def atomic_replace(tmp, final):
        original(tmp, final)
        os.kill(os.getpid(), signal.SIGKILL)
    pipeline.atomic_replace = atomic_replace
pipeline.run(Path(sys.argv[1]))
"""


def _run_killed_at(data: Path, point: str) -> None:
    proc = subprocess.run([sys.executable, "-c", _KILL_AFTER, str(data), point],
                          env=os.environ.copy(), capture_output=True, timeout=300, check=False)
    assert proc.returncode == -signal.SIGKILL


def _run_ids(paths) -> tuple[str, str]:
    ids = []
    for db in (paths.warehouse, paths.publish_db):
        with duckdb.connect(str(db), read_only=True) as con:
            ids.append(con.execute("select run_id from _manifest").fetchall()[0][0])
    return tuple(ids)


def test_a_run_killed_after_publishing_but_before_renaming_leaves_both_files(tmp_path):
    paths = get_paths()
    data = write_source(tmp_path / "data")
    assert pipeline.run(data, paths=paths).exit_code == 0
    before = (sha256(paths.warehouse), sha256(paths.publish_db))
    _run_killed_at(data, "publish")
    assert (sha256(paths.warehouse), sha256(paths.publish_db)) == before
    (killed,) = [d for d in paths.runs.iterdir() if not (d / "manifest.json").exists()]
    events = [e["event"] for e in hflog.read_events(killed / "log.jsonl")]
    assert events[0] == "run_start" and "run_end" not in events  # logged up to the kill
    again = pipeline.run(data, paths=paths)
    assert again.exit_code == 0 and not list(paths.warehouse_dir.glob(".building-*"))


@pytest.mark.xfail(strict=True, reason=(
    "known gap, reported to the lead: the warehouse and the publishable database are renamed "
    "one after the other, so a kill between the two renames leaves each file whole but from "
    "different runs (the next successful run repairs it)."))
def test_a_run_killed_between_the_two_renames_leaves_a_matching_pair(tmp_path):
    paths = get_paths()
    data = write_source(tmp_path / "data")
    assert pipeline.run(data, paths=paths).exit_code == 0
    _run_killed_at(data, "rename")
    warehouse_run, publish_run = _run_ids(paths)  # both files still open and whole
    assert warehouse_run == publish_run
