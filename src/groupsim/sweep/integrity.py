"""Checking a sweep folder against its checksums, and repairing what can be recomputed.

Every part carries its row count and sha256 in its name, and the manifest carries those of
the copies (`sweep.toml`, `scenario.toml`) and of `points.parquet`, and a checksum of its own
content (see `groupsim.sweep.store`). `damage` lists every file that does not match;
`analyze` refuses a folder with any, and `repair` (called by `run_sweep` on resume) removes
damaged parts, so that their runs are computed again, and writes the manifest, copies and
points again from the sweep file. Only a damaged manifest whose sweep cannot be told from the
folder's copies is beyond repair.

Example:
    >>> import tempfile
    >>> from groupsim.sweep.spec import load_sweep
    >>> from groupsim.sweep.run import run_sweep
    >>> out = Path(tempfile.mkdtemp()) / "quick"
    >>> _ = run_sweep(load_sweep("scenarios/sweeps/quick.toml"), out, label=None)
    >>> damage(SweepStore(out))
    []
    >>> part = SweepStore(out).parts("runs")[0]
    >>> _ = part.write_bytes(part.read_bytes()[:100])
    >>> [(d.path.parent.name, d.reason) for d in damage(SweepStore(out))]
    [('runs', 'checksum differs from its name (truncated or changed)')]
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groupsim.sweep.spec import SweepError
from groupsim.sweep.store import (
    MANIFEST,
    PART_NAME,
    POINTS,
    RUNS,
    WEEKLY,
    SweepStore,
    manifest_checksum,
    part_key,
)

if TYPE_CHECKING:
    from groupsim.sweep.spec import Sweep

__all__ = ["Damage", "damage", "manifest_damage", "repair"]

#: Keys a manifest must have for a sweep to be read (the rest is description).
MANIFEST_KEYS = ("sweep_hash", "outcomes", "design", "seed", "name")

#: The files the manifest checks beside itself (copies, then the design points).
RECORDED = ("sweep.toml", "scenario.toml", POINTS)


@dataclass(frozen=True)
class Damage:
    """A file of a sweep folder that does not match its checksum, and why."""

    path: Path
    reason: str


def manifest_damage(store: SweepStore) -> str | None:
    """Why the manifest cannot be trusted, or None when it is whole."""
    try:
        manifest = json.loads((store.root / MANIFEST).read_bytes())
    except FileNotFoundError:
        return "missing"
    except (ValueError, OSError) as exc:  # UnicodeDecodeError and JSONDecodeError included
        return f"not readable JSON ({type(exc).__name__})"
    if not isinstance(manifest, dict):
        return f"not a JSON object (a {type(manifest).__name__})"
    missing = [key for key in MANIFEST_KEYS if key not in manifest]
    if missing:
        return f"lacks {', '.join(missing)}"
    if "checksum" in manifest and manifest["checksum"] != manifest_checksum(manifest):
        return "checksum differs from its content (changed)"
    return None


def damage(store: SweepStore) -> list[Damage]:
    """Every damaged file of the sweep folder (manifest first, then copies, then parts)."""
    found = []
    reason = manifest_damage(store)
    if reason is not None:
        found.append(Damage(store.root / MANIFEST, reason))
        recorded: dict[str, Any] = {}
    else:
        recorded = store.read_manifest().get("files", {})
    for name in RECORDED:
        why = _recorded_damage(store.root / name, recorded.get(name))
        if why is not None:
            found.append(Damage(store.root / name, why))
    for folder in (RUNS, WEEKLY):
        for path in store.parts(folder):
            why = _part_damage(path)
            if why is not None:
                found.append(Damage(path, why))
    return found


def repair(store: SweepStore, sweep: Sweep) -> list[Damage]:
    """Make a resumable folder of a damaged one; returns what it repaired.

    Damaged parts are removed with their chunk's other part (runs and weekly go together),
    so resume computes their runs again; a damaged manifest, copy or `points.parquet` is
    written again from `sweep`.

    Raises:
        SweepError: the manifest is damaged and the folder's copies do not show that it
            holds `sweep` (nothing is changed then).
        ScenarioError: the manifest is whole and records another sweep (from `check_same`).
    """
    from groupsim.sweep.run import sweep_files

    found = damage(store)
    whole = {d.path.name for d in found}
    manifest, files, points = sweep_files(sweep)
    if MANIFEST in whole and not _copies_match(store, files):
        first = found[0]
        raise SweepError(
            f"{first.path}: damaged: {first.reason}; the folder's sweep.toml or "
            f"scenario.toml differs from {sweep.path}, so which sweep it holds cannot be "
            "told; run the sweep into a new --out"
        )
    if MANIFEST not in whole:
        check_same(store, sweep)
        manifest = store.read_manifest()
    if whole & {MANIFEST, *RECORDED}:
        store.rewrite(manifest, files, points)
    for item in found:
        if item.path.parent.name in (RUNS, WEEKLY):
            _remove_chunk(store, item.path)
    return found


def check_same(store: SweepStore, sweep: Sweep) -> None:
    """Refuse to resume a folder whose (whole) manifest records another sweep."""
    from groupsim.scenario import ScenarioError

    if store.read_manifest().get("sweep_hash") != sweep.digest:
        raise ScenarioError(
            str(sweep.path),
            "(file)",
            f"differs from the sweep started in {store.root} (the sweep file or its base "
            "scenario changed); restore it, or run into a new --out",
        )


def _copies_match(store: SweepStore, files: dict[str, bytes]) -> bool:
    """Do the folder's copies hold exactly what `sweep` would write?"""
    try:
        return all((store.root / name).read_bytes() == content for name, content in files.items())
    except OSError:
        return False


def _remove_chunk(store: SweepStore, path: Path) -> None:
    """Remove a damaged part and the other part of its chunk (so its runs are run again)."""
    key = part_key(path.name)
    for folder in (RUNS, WEEKLY):
        for part in store.parts(folder):
            if part == path or part_key(part.name) == key:
                part.unlink(missing_ok=True)


def _recorded_damage(path: Path, facts: dict[str, Any] | None) -> str | None:
    """Why a copy or `points.parquet` does not match the manifest's record of it."""
    if not path.is_file():
        return "missing"
    if facts is None:  # a sweep from before checksums: a readable points file will do
        return _parquet_damage(path) if path.suffix == ".parquet" else None
    if hashlib.sha256(path.read_bytes()).hexdigest() != facts.get("sha256"):
        return "checksum differs from the manifest's (truncated or changed)"
    return None


def _part_damage(path: Path) -> str | None:
    """Why a part does not match the checksum and row count in its name."""
    match = PART_NAME.fullmatch(path.name)
    if match is None:
        return "not a part's name (part-TIME-COUNTER-RUN-<rows>r-<sha256>.parquet)"
    if match["sha256"] is None:  # written before checksums: a readable file will do
        return _parquet_damage(path)
    if hashlib.sha256(path.read_bytes()).hexdigest() != match["sha256"]:
        return "checksum differs from its name (truncated or changed)"
    import pyarrow.parquet as pq

    if pq.read_metadata(path).num_rows != int(match["rows"]):
        return "row count differs from its name"
    return None


def _parquet_damage(path: Path) -> str | None:
    """Why a Parquet file without a checksum cannot be read, or None."""
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
    except (OSError, ValueError) as exc:  # ArrowInvalid is a ValueError
        return f"not a readable Parquet file ({type(exc).__name__})"
    return None
