"""Writing results to disk, atomically: a folder appears complete or not at all.

Files are written into a temporary sibling folder, which is renamed into place at the end; a
single file is written to a temporary name in the same folder and renamed (`os.replace`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groupsim.scenario import scenario_to_toml

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from groupsim.runs.runner import RunResult

__all__ = [
    "RUN_FILES",
    "OutputError",
    "atomic_file",
    "atomic_folder",
    "check_output_path",
    "file_stem",
    "sweep_temporaries",
    "write_folder",
    "write_run",
    "write_table",
]

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
    if path.is_symlink():
        raise OutputError(f"{path}: is a symbolic link; groupsim does not write through one")
    created = _make_parents(path)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
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
    """Yield a temporary folder; on success it replaces `path` whole.

    Nothing of an earlier folder at `path` survives (no stale file of an earlier run is
    mixed in); until the swap, the earlier folder is untouched. A symbolic link at `path` is
    refused (a writer never follows one out of its output folder). Temporary folders that a
    killed process left next to `path` are removed first (`sweep_temporaries`).
    """
    path = Path(path)
    if path.is_symlink():
        raise OutputError(f"{path}: is a symbolic link; groupsim does not write through one")
    created = _make_parents(path)
    sweep_temporaries(path)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent))
    try:
        # mkdtemp creates the folder private (0700); give it the permissions mkdir() would.
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise


def _swap_in(new: Path, path: Path) -> None:
    """Put the folder `new` at `path`; an earlier folder there is moved aside, then removed."""
    if not path.exists():
        os.replace(new, path)
        return
    old = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".old", dir=path.parent))
    os.rmdir(old)
    os.replace(path, old)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _temp_prefix(path: Path) -> str:
    """Temporary names next to `path` carry the writing process's id (see sweep_temporaries)."""
    return f".{path.name}.{os.getpid()}."


def sweep_temporaries(path: Path) -> int:
    """Remove the temporary siblings of `path` whose writing process has ended; how many."""
    removed = 0
    if not path.parent.is_dir():
        return 0
    for item in path.parent.glob(f".{glob.escape(path.name)}.*"):
        parts = item.name[len(path.name) + 2 :].split(".")
        if not (parts[0].isdigit() and item.suffix in (".tmp", ".old")):
            continue
        if _process_alive(int(parts[0])) or item.is_symlink():
            continue
        if item.is_dir():
            shutil.rmtree(item, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                item.unlink()
        removed += 1
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


class OutputError(ValueError):
    """An output path that cannot be written: one line naming it (exit status 2)."""


def check_output_path(path: str | Path, option: str = "--out", *, folder: bool = True) -> Path:
    """Check before any run that `path` can be written; return it.

    Refused: an empty path or the current folder (a result folder replaces what is at its
    path), a name the file system cannot take, a symbolic link, a file where a folder goes
    (or a folder where a file goes), and a parent that is not a folder or not writable.

    Example:
        >>> check_output_path("")
        Traceback (most recent call last):
        ...
        groupsim.runs.store.OutputError: --out: give a folder name (got '')
    """
    text = str(path)
    if text.strip() == "":
        raise OutputError(f"{option}: give a {'folder' if folder else 'file'} name (got '')")
    path = Path(path)
    try:
        os.fsencode(text).decode("utf-8")
        absolute = path.resolve()
    except (UnicodeError, ValueError, OSError) as exc:
        raise OutputError(f"{option}: {text!r}: not a usable path ({exc})") from None
    if "\0" in text:
        raise OutputError(f"{option}: {text!r}: a path may not hold a NUL character")
    if folder and absolute in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
        raise OutputError(
            f"{path}: {option}: is the current folder or one above it; name a new folder "
            "(it is replaced whole)"
        )
    if path.is_symlink():
        raise OutputError(f"{path}: {option}: is a symbolic link; give a real folder")
    if folder and path.exists() and not path.is_dir():
        raise OutputError(f"{path}: {option}: is a file; give a folder to write into")
    if not folder and path.is_dir():
        raise OutputError(f"{path}: {option}: is a folder; give a file name")
    _check_parent(path, option)
    return path


def _check_parent(path: Path, option: str) -> None:
    """The nearest existing ancestor of `path` must be a writable folder."""
    ancestor = path.absolute().parent
    while not ancestor.exists() and not ancestor.is_symlink():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"{path}: {option}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: {option}: cannot write in {ancestor} (permission denied)")


#: The longest file-name stem `file_stem` makes (file systems allow 255 bytes in a name).
MAX_STEM = 80


def file_stem(name: str) -> str:
    """A name (a scenario's, say) made safe as part of a file name, with a hash if changed.

    Letters, digits, `-`, `_` and `.` are kept (no leading dot); anything else becomes `_`;
    a changed or over-long name gets 8 hex digits of its hash, so two names stay apart.

    Example:
        >>> file_stem("home_room")
        'home_room'
        >>> file_stem("../../x")
        '_.._x-9cdf6a50'
    """
    import hashlib
    import re

    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".")[:MAX_STEM] or "_"
    if stem == name:
        return stem
    return f"{stem}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


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
    import networkx as nx  # only a written run needs it (~0.15 s to import)

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
        import networkx as nx

        nx.write_graphml(_graphml_ready(result.network), folder / "network.graphml")
        header = f"# Resolved scenario of a groupsim run (seed {result.seed}); rerun with:\n"
        header += f"#   groupsim run scenario.toml --seed {result.seed}\n\n"
        (folder / "scenario.toml").write_text(header + scenario_to_toml(result.scenario))

    return write_folder(out_dir, tables, network_and_scenario)
