"""Structured run log: one JSON object per line in `runs/<run id>/log.jsonl`.

Every event carries the run id, a UTC timestamp and the seconds since the run started, plus
names, counts and timings; never a data value (the same rule as for messages: see
docs/privacy.md). Events come from three places:

* the run itself (`RunLog.event`): `run_start`, `run_end`;
* pipeline steps, through the progress reporter (`RunLog.reporter`): `step_start`, `step_done`;
* any `hfeval.*` module logging through the standard `logging` module while the run is active
  (`RunLog.capture`); a record can carry structured fields with `extra=fields(event, ...)`.

The file is appended line by line and flushed at once, so a killed run still leaves the events
up to the kill.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Reporter = Callable[[str, str], None]

_SCALARS = (str, int, float, bool, type(None))


def fields(event: str, **values: Any) -> dict[str, Any]:
    """`extra=` for a stdlib log call that becomes a structured event in the run log."""
    return {"hf_event": event, "hf_fields": values}


def _plain(value: Any) -> Any:
    """JSON-safe copy of names, counts and timings (other objects become their type name, so
    a stray object can never smuggle its contents into the log)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return f"<{type(value).__name__}>"


class RunLog:
    """Append-only JSON-lines log of one run."""

    def __init__(self, path: Path, run_id: str):
        self.path, self.run_id = Path(path), run_id
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._lock = threading.Lock()
        self._t0 = time.perf_counter()
        self._open_steps: list[tuple[str, float]] = []

    def event(self, event: str, **values: Any) -> None:
        record = {
            "ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "t": round(time.perf_counter() - self._t0, 3),
            "run_id": self.run_id,
            "event": event,
            **_plain(values),
        }
        line = json.dumps(record, ensure_ascii=False)
        with self._lock:
            if not self._fh.closed:
                self._fh.write(line + "\n")
                self._fh.flush()

    def close(self) -> None:
        with self._lock:
            self._fh.close()

    def reporter(self, inner: Reporter) -> Reporter:
        """Wrap a progress reporter: step starts and ends also become events, with seconds."""

        def report(kind: str, text: str) -> None:
            if kind == "start":
                self._open_steps.append((text, time.perf_counter()))
                self.event("step_start", step=text)
            elif kind == "done" and self._open_steps:
                step, t = self._open_steps.pop()
                self.event("step_done", step=step, seconds=round(time.perf_counter() - t, 3))
            inner(kind, text)

        return report

    @contextmanager
    def capture(self, logger_name: str = "hfeval", level: int = logging.INFO) -> Iterator[None]:
        """Copy records of `logger_name` (and its children) into this log while active."""
        logger = logging.getLogger(logger_name)
        handler = _Handler(self)
        handler.setLevel(level)
        old_level = logger.level
        if logger.getEffectiveLevel() > level:
            logger.setLevel(level)
        logger.addHandler(handler)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)


class _Handler(logging.Handler):
    def __init__(self, runlog: RunLog):
        super().__init__()
        self.runlog = runlog

    def emit(self, record: logging.LogRecord) -> None:
        try:
            values = getattr(record, "hf_fields", None) or {}
            self.runlog.event(
                getattr(record, "hf_event", "log"),
                level=record.levelname,
                logger=record.name,
                message=record.getMessage(),
                **values,
            )
        except Exception:  # noqa: BLE001, S110 - logging must never break a run, and the
            pass  # stdlib's handleError would print the record's arguments (maybe values)


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events of a run log, in order (for tests and audits)."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
