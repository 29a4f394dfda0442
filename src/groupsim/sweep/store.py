"""A sweep's folder on disk: manifest, design points, and a Parquet file per finished chunk.

Layout of a sweep folder::

    manifest.json       sweep file hash, package version, design, seeds, outcomes
    sweep.toml          the sweep file as run; scenario.toml: the resolved base scenario
    points.parquet      a row per design point (applied values; sampled: SALib's raw sample)
    runs/part-*.parquet a row per run: run_id, point, replication, seed, status, error,
                        the varied parameters, the outcomes (one file per finished chunk)
    weekly/part-*.parquet  weekly rows per run (only when the sweep asks for them)

Every file is written to a temporary name and renamed into place, so a file exists whole or
not at all. A chunk's `runs/` file is its commit: its `weekly/` file is written first and
ignored (and removed on resume) without it. A run id may appear as `failed` in one part and
`ok` in a later one (a retried failure); readers keep the `ok` row, else the latest failure.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from groupsim.runs.store import atomic_file

__all__ = ["MANIFEST", "RUNS", "WEEKLY", "SweepStore"]

MANIFEST = "manifest.json"
RUNS = "runs"
WEEKLY = "weekly"


class SweepStore:
    """Read and write one sweep folder.

    Example:
        >>> store = SweepStore("out/none-here")
        >>> store.exists()
        False
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._counter = 0
        self._lock_fd: int | None = None

    # ------------------------------------------------------------------ set-up

    def exists(self) -> bool:
        """Does the folder hold a sweep (a manifest)?"""
        return (self.root / MANIFEST).is_file()

    def create(self, manifest: dict[str, Any], files: dict[str, bytes], points: Any) -> None:
        """Write the manifest, copies and design points into a new folder, all at once.

        The folder is assembled under a temporary sibling name and renamed into place, so a
        sweep folder either has its manifest or does not exist. An existing empty folder is
        replaced.
        """
        self.root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{self.root.name}.", suffix=".tmp", dir=self.root.parent)
        )
        try:
            (tmp / RUNS).mkdir()
            (tmp / WEEKLY).mkdir()
            for name, content in files.items():
                (tmp / name).write_bytes(content)
            points.to_parquet(tmp / "points.parquet", index=False)
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
            if self.root.is_dir():
                self.root.rmdir()  # only an empty folder is replaced (checked by the caller)
            os.replace(tmp, self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def read_manifest(self) -> dict[str, Any]:
        """The sweep's manifest (see `groupsim.sweep.run`)."""
        return json.loads((self.root / MANIFEST).read_text())

    def lock(self) -> bool:
        """Take the folder's writer lock (released by the OS if the process dies)."""
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def unlock(self) -> None:
        """Release the writer lock taken by `lock`."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def clean_partial(self) -> int:
        """Remove what an interrupted sweep left half-done; returns how many files.

        Temporary files, and weekly parts whose chunk never committed.
        """
        removed = 0
        committed = {p.name for p in self._parts(RUNS)}
        for folder in (RUNS, WEEKLY):
            for path in (self.root / folder).iterdir():
                orphan = folder == WEEKLY and path.name not in committed
                if path.name.startswith(".") or orphan:
                    path.unlink()
                    removed += 1
        return removed

    # ------------------------------------------------------------------ chunks

    def write_chunk(self, first_run: int, rows: Any, weekly: Any = None) -> Path:
        """Write one finished chunk (its weekly rows first, then its runs file: the commit).

        `rows` is an Arrow table or a DataFrame; `weekly` a DataFrame or None.
        """
        # Parts sort in write order: a retried run's newer row comes later.
        self._counter += 1
        name = f"part-{time.time_ns():020d}-{self._counter:06d}-{first_run:09d}.parquet"
        if weekly is not None and len(weekly):
            with atomic_file(self.root / WEEKLY / name, "wb") as handle:
                weekly.to_parquet(handle, index=False)
        with atomic_file(self.root / RUNS / name, "wb") as handle:
            if hasattr(rows, "to_parquet"):  # a DataFrame
                rows.to_parquet(handle, index=False)
            else:  # an Arrow table: written as it is, no pandas on the way
                import pyarrow.parquet as pq

                pq.write_table(rows, handle)
        return self.root / RUNS / name

    def _parts(self, folder: str) -> list[Path]:
        path = self.root / folder
        if not path.is_dir():
            return []
        return sorted(p for p in path.glob("part-*.parquet"))

    def finished_runs(self) -> np.ndarray:
        """Run ids with an `ok` row (sorted)."""
        import pyarrow.parquet as pq

        done = [np.empty(0, dtype=np.int64)]
        for part in self._parts(RUNS):
            table = pq.read_table(part, columns=["run_id", "status"]).to_pandas()
            done.append(table.loc[table["status"] == "ok", "run_id"].to_numpy(dtype=np.int64))
        return np.unique(np.concatenate(done))

    def iter_run_parts(self, columns: list[str] | None = None) -> Iterator[Any]:
        """Each `runs/` part as a DataFrame (of `columns`, default all), in file order."""
        import pandas as pd

        for part in self._parts(RUNS):
            yield pd.read_parquet(part, columns=columns)

    def runs(self) -> Any:
        """Every run's current row, sorted by run id.

        The `ok` row if any attempt finished, else its latest failure.
        """
        import pandas as pd

        frames = list(self.iter_run_parts())
        if not frames:
            return pd.DataFrame()
        table = pd.concat(frames, ignore_index=True)
        table["_ok"] = table["status"] == "ok"
        table["_order"] = np.arange(len(table))
        table = table.sort_values(["run_id", "_ok", "_order"]).drop_duplicates(
            "run_id", keep="last"
        )
        return table.drop(columns=["_ok", "_order"]).reset_index(drop=True)

    def failures(self) -> Any:
        """Runs whose latest attempt failed and that never finished."""
        table = self.runs()
        if table.empty:
            return table
        cols = ["run_id", "point", "replication", "seed", "error"]
        return table.loc[table["status"] == "failed", cols].reset_index(drop=True)

    def weekly(self) -> Any:
        """Weekly rows of the finished runs (committed chunks only), sorted by run id, week."""
        import pandas as pd

        committed = {p.name for p in self._parts(RUNS)}
        frames = [pd.read_parquet(p) for p in self._parts(WEEKLY) if p.name in committed]
        if not frames:
            return pd.DataFrame()
        table = pd.concat(frames, ignore_index=True)
        return table.sort_values(["run_id", "week"], kind="stable").reset_index(drop=True)

    def write_status(self, status: dict[str, Any]) -> None:
        """Write `status.json` (runs, finished, failed, updated) atomically."""
        with atomic_file(self.root / "status.json", "w") as handle:
            handle.write(json.dumps(status, indent=2) + "\n")

    @contextlib.contextmanager
    def locked(self) -> Iterator[bool]:
        """Hold the writer lock for the block; yields whether it was free."""
        got = self.lock()
        try:
            yield got
        finally:
            if got:
                self.unlock()
