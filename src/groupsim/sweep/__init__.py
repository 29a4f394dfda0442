"""The sweep layer: sweep files (`spec`), running them (`run`), their store and analysis.

The package is also the sweep function of the Python API: ``groupsim.sweep(spec, out=...)``
runs a sweep file and returns its store (`groupsim.sweep.store.SweepStore`; ``.runs()`` is
a DataFrame). A package and a function cannot share the name ``groupsim.sweep`` otherwise
(importing any ``groupsim.sweep.*`` module binds the name to the package), so the package
module itself is callable.

This package file imports nothing heavy: `import groupsim.sweep` loads neither Mesa nor SciPy.

Example:
    >>> import tempfile, groupsim
    >>> store = groupsim.sweep("scenarios/sweeps/quick.toml", out=tempfile.mkdtemp() + "/q",
    ...                        workers=1, label=None)
    >>> len(store.runs())
    16
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from groupsim.runs.backends import Backend
    from groupsim.sweep.spec import Sweep
    from groupsim.sweep.store import SweepStore

__all__ = ["sweep"]


def sweep(
    spec: str | Path | Sweep,
    out: str | Path,
    *,
    workers: int | None = None,
    backend: Backend | None = None,
    resume: bool = False,
    label: str | None = "sweep",
) -> SweepStore:
    """Run (or resume) a sweep and return its store.

    Args:
        spec: a sweep file (see docs/sweeps.md) or a loaded `Sweep`.
        out: the sweep folder (new or empty unless `resume`).
        workers: local worker processes (default: all cores); or give `backend`.
        backend: a backend of `groupsim.runs.backends` (e.g. `DaskBackend(local_workers=2)`).
        resume: continue the sweep in `out` (see `groupsim.sweep.run.run_sweep`).
        label: the progress bar's label (None: no progress output).

    Returns:
        The folder's `SweepStore`: ``.runs()`` is every run's row as a DataFrame.

    Raises:
        ScenarioError: a bad sweep file. SweepError: `out` holds another sweep.
        ValueError: both `workers` and `backend`.
    """
    from groupsim.runs.backends import make_backend
    from groupsim.sweep.run import run_sweep
    from groupsim.sweep.spec import Sweep, load_sweep
    from groupsim.sweep.store import SweepStore

    if workers is not None and backend is not None:
        raise ValueError("give workers or backend, not both")
    loaded = spec if isinstance(spec, Sweep) else load_sweep(spec)
    chosen = backend if backend is not None else make_backend(workers=workers)
    run_sweep(loaded, out, chosen, resume=resume, label=label)
    return SweepStore(out)


class _CallablePackage(types.ModuleType):
    """This package, callable as `sweep` (see the module's docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> SweepStore:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
