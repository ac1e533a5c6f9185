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

from hfeval import pipeline, synth
from hfeval.config import get_paths
from tests.helpers import sha256

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
