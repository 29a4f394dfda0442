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
ignored (and removed on resume) without it; the two share the key `part-TIME-COUNTER-FIRSTRUN`.

Integrity (see `groupsim.sweep.integrity`): a part's name ends in its row count and the
sha256 of its bytes (``KEY-<rows>r-<sha256>.parquet``), so it carries its own checksum through
the one atomic rename that commits it, with no second file to update per chunk; the manifest
carries the sha256 and size of the copies and of `points.parquet` (with its row count), and a
`checksum` of its own content. A run id may appear as `failed` in one part and
`ok` in a later one (a retried failure); readers keep the `ok` row, else the latest failure.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from groupsim.runs.store import atomic_file

__all__ = [
    "MANIFEST",
    "PART_NAME",
    "POINTS",
    "RUNS",
    "WEEKLY",
    "SweepStore",
    "file_facts",
    "manifest_checksum",
    "part_key",
]

MANIFEST = "manifest.json"
POINTS = "points.parquet"
RUNS = "runs"
WEEKLY = "weekly"

#: A part's file name: its key (write time, counter, first run), then its row count and the
#: sha256 of its bytes (absent in parts written before groupsim checked them).
PART_NAME = re.compile(
    r"(?P<key>part-\d{20}-\d{6}-\d{9})(?:-(?P<rows>\d+)r-(?P<sha256>[0-9a-f]{64}))?\.parquet"
)


def part_key(name: str) -> str:
    """The key a chunk's runs and weekly parts share (the name itself if it is no part name).

    Example:
        >>> part_key("part-" + "0" * 20 + "-000001-000000004-3r-" + "a" * 64 + ".parquet")
        'part-00000000000000000000-000001-000000004'
    """
    match = PART_NAME.fullmatch(name)
    return match["key"] if match else name


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """sha256 of a manifest's content without its own `checksum` (keys sorted)."""
    content = {key: value for key, value in manifest.items() if key != "checksum"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def file_facts(path: Path) -> dict[str, Any]:
    """A file's sha256 and size (and row count for Parquet), as the manifest records them."""
    facts: dict[str, Any] = {
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "bytes": path.stat().st_size,
    }
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        facts["rows"] = pq.read_metadata(path).num_rows
    return facts


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
            points.to_parquet(tmp / POINTS, index=False)
            (tmp / MANIFEST).write_text(_sealed(tmp, manifest, [*files, POINTS]))
            if self.root.is_dir():
                self.root.rmdir()  # only an empty folder is replaced (checked by the caller)
            os.replace(tmp, self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def read_manifest(self) -> dict[str, Any]:
        """The sweep's manifest (see `groupsim.sweep.run`)."""
        return json.loads((self.root / MANIFEST).read_text())

    def rewrite(self, manifest: dict[str, Any], files: dict[str, bytes], points: Any) -> None:
        """Write the given copies and points again, then the manifest with their checksums.

        Used by resume to repair a damaged manifest, copy or `points.parquet`; each file is
        replaced atomically, the manifest last.
        """
        for name, content in files.items():
            with atomic_file(self.root / name, "wb") as handle:
                handle.write(content)
        with atomic_file(self.root / POINTS, "wb") as handle:
            points.to_parquet(handle, index=False)
        with atomic_file(self.root / MANIFEST, "w") as handle:
            handle.write(_sealed(self.root, manifest, [*files, POINTS]))

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
        committed = {part_key(p.name) for p in self.parts(RUNS)}
        for folder in (RUNS, WEEKLY):
            for path in (self.root / folder).iterdir():
                orphan = folder == WEEKLY and part_key(path.name) not in committed
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
        key = f"part-{time.time_ns():020d}-{self._counter:06d}-{first_run:09d}"
        if weekly is not None and len(weekly):
            self._write_part(WEEKLY, key, weekly)
        return self._write_part(RUNS, key, rows)

    def _write_part(self, folder: str, key: str, table: Any) -> Path:
        """Write a DataFrame or Arrow table as ``folder/KEY-<rows>r-<sha256>.parquet``."""
        buffer = io.BytesIO()
        if hasattr(table, "to_parquet"):  # a DataFrame
            table.to_parquet(buffer, index=False)
            rows = len(table)
        else:  # an Arrow table: written as it is, no pandas on the way
            import pyarrow.parquet as pq

            pq.write_table(table, buffer)
            rows = table.num_rows
        content = buffer.getvalue()
        digest = hashlib.sha256(content).hexdigest()
        path = self.root / folder / f"{key}-{rows}r-{digest}.parquet"
        with atomic_file(path, "wb") as handle:
            handle.write(content)
        return path

    def parts(self, folder: str) -> list[Path]:
        """The part files of `folder` (`RUNS` or `WEEKLY`), in write order."""
        path = self.root / folder
        if not path.is_dir():
            return []
        return sorted(p for p in path.glob("part-*.parquet"))

    def finished_runs(self) -> np.ndarray:
        """Run ids with an `ok` row (sorted)."""
        import pyarrow.parquet as pq

        done = [np.empty(0, dtype=np.int64)]
        for part in self.parts(RUNS):
            table = pq.read_table(part, columns=["run_id", "status"]).to_pandas()
            done.append(table.loc[table["status"] == "ok", "run_id"].to_numpy(dtype=np.int64))
        return np.unique(np.concatenate(done))

    def iter_run_parts(self, columns: list[str] | None = None) -> Iterator[Any]:
        """Each `runs/` part as a DataFrame (of `columns`, default all), in file order."""
        import pandas as pd

        for part in self.parts(RUNS):
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

        committed = {part_key(p.name) for p in self.parts(RUNS)}
        frames = [pd.read_parquet(p) for p in self.parts(WEEKLY) if part_key(p.name) in committed]
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


def _sealed(folder: Path, manifest: dict[str, Any], names: list[str]) -> str:
    """The manifest's text with the facts of `names` (files in `folder`) and its checksum."""
    manifest = {key: value for key, value in manifest.items() if key != "checksum"}
    manifest["files"] = {name: file_facts(folder / name) for name in names}
    manifest["checksum"] = manifest_checksum(manifest)
    return json.dumps(manifest, indent=2) + "\n"
