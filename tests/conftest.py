"""Shared test set-up: every test writes outputs under a temporary folder, never ./build."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_output(tmp_path, monkeypatch):
    monkeypatch.setenv("HFEVAL_OUTPUT", str(tmp_path / "hfeval-output"))
    # `hfeval run` executes the notebooks after publishing; tests of that step turn it back on.
    monkeypatch.setenv("HFEVAL_NOTEBOOKS", "0")
    yield
