"""Writing results to disk, atomically: a folder appears complete or not at all.

Files are written into a temporary sibling folder, which is renamed into place at the end; a
single file is written to a temporary name in the same folder and renamed (`os.replace`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from groupsim.scenario import scenario_to_toml

if TYPE_CHECKING:
    import pandas as pd

    from groupsim.runs.runner import RunResult

__all__ = ["RUN_FILES", "atomic_file", "atomic_folder", "write_folder", "write_run", "write_table"]

#: What `write_run` (and `groupsim run --out`) writes.
RUN_FILES = (
    "weekly.parquet",
    "sessions.parquet",
    "students.parquet",
    "ties.parquet",
    "faculties.parquet",
    "questionnaire.csv",
    "network.graphml",
    "scenario.toml",
)


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "w") -> Iterator:
    """Open a temporary file next to `path`; on success rename it to `path`."""
    path = Path(path)
    created = _make_parents(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file private (0600); give it the permissions open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        _remove_empty(created)
        raise


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces `path`.

    Files already in `path` are kept unless written again.
    """
    path = Path(path)
    created = _make_parents(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        # mkdtemp creates the folder private (0700); give it the permissions mkdir() would.
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        if path.exists():
            for item in tmp.iterdir():
                os.replace(item, path / item.name)
            tmp.rmdir()
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _make_parents(path: Path) -> list[Path]:
    """Create the missing parent folders of `path`; return them, deepest first."""
    missing = [p for p in path.parents if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove folders this module created, deepest first, as long as they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _graphml_ready(graph: nx.Graph) -> nx.Graph:
    """GraphML takes str, int, float and bool attributes: convert numpy scalars."""
    out = nx.Graph()
    for node, data in graph.nodes(data=True):
        out.add_node(int(node), **{k: _plain(v) for k, v in data.items()})
    for a, b, data in graph.edges(data=True):
        out.add_edge(int(a), int(b), **{k: _plain(v) for k, v in data.items()})
    return out


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return value


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as Parquet or CSV, by the file name's suffix (no index column)."""
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        raise ValueError(f"{path.name}: a table is written as .parquet or .csv")


def write_folder(
    out_dir: str | Path,
    tables: Mapping[str, pd.DataFrame],
    write_more: Callable[[Path], object] | None = None,
) -> Path:
    """Write `tables` (file name -> table) into `out_dir` all or nothing; return `out_dir`.

    Every result folder of groupsim (a run, a comparison, a power analysis) is written here:
    into a temporary sibling, swapped in whole (`atomic_folder`). `write_more`, if given, adds
    further files (figures, reports, scenarios) to the same temporary folder.
    """
    out_dir = Path(out_dir)
    with atomic_folder(out_dir) as tmp:
        for name, frame in tables.items():
            write_table(frame, tmp / name)
        if write_more is not None:
            write_more(tmp)
    return out_dir


def write_run(result: RunResult, out_dir: str | Path) -> Path:
    """Write a run's tables, final network and resolved scenario into `out_dir`."""
    # Each table file is named after the RunResult table it holds (RUN_FILES).
    tables = {
        name: getattr(result, Path(name).stem)
        for name in RUN_FILES
        if Path(name).suffix in (".parquet", ".csv")
    }

    def network_and_scenario(folder: Path) -> None:
        nx.write_graphml(_graphml_ready(result.network), folder / "network.graphml")
        header = f"# Resolved scenario of a groupsim run (seed {result.seed}); rerun with:\n"
        header += f"#   groupsim run scenario.toml --seed {result.seed}\n\n"
        (folder / "scenario.toml").write_text(header + scenario_to_toml(result.scenario))

    return write_folder(out_dir, tables, network_and_scenario)
