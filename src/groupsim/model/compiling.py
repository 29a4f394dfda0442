"""How the model's code is compiled: numba options and a disk cache stamped with every model file.

`compiled` is the one decorator of every compiled function in `groupsim.model` (the loops of
`kernel`, `campus`, `session_kernel`, `weekly`, `recording_kernel`, and `measures`' own).
numba caches compiled code on disk, but it checks only the file of the function it compiled:
a loop in `campus.py` that inlines a mechanism of `mechanisms.py` would survive a change to
that mechanism. The cache locators registered here stamp every cached function with a hash of
all the model's sources (`sources_stamp`), so a change to any of them recompiles everything.

Imported before any model function is compiled (numba picks a locator at decoration).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numba
from numba.core import caching

__all__ = ["MODEL_DIR", "SOURCES_STAMP", "compile_options", "compiled", "sources_stamp"]

MODEL_DIR = Path(__file__).resolve().parent


def sources_stamp() -> str:
    """A hash of every source file of `groupsim.model`: the compiled code's version.

    numba's disk cache checks only the file of the function it compiled; a loop in
    `campus.py` compiled with `mechanisms.py` inlined would survive a change to a mechanism.
    Stamping every cached function with all the model's sources makes any change to any of
    them recompile everything.
    """
    digest = hashlib.sha256()
    for path in sorted(MODEL_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


SOURCES_STAMP = sources_stamp()


class _ModelSources:
    """A numba cache locator mix-in: model files only, stamped with `SOURCES_STAMP`."""

    def get_source_stamp(self) -> str:
        return SOURCES_STAMP

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        if Path(py_file).resolve().parent != MODEL_DIR:
            return None  # another package's function: numba's own locators
        return super().from_function(py_func, py_file)  # type: ignore[misc]


class _ModelSourcesUserDir(_ModelSources, caching.UserProvidedCacheLocator):
    """In `NUMBA_CACHE_DIR` when it is set."""


class _ModelSourcesInTree(_ModelSources, caching.InTreeCacheLocator):
    """In `__pycache__` next to the module otherwise."""


# Registered before any function below is compiled (numba picks a locator at decoration).
_LOCATORS = caching.CacheImpl._locator_classes  # numba's locators, tried in order
if _ModelSourcesUserDir not in _LOCATORS:
    _LOCATORS[:0] = [_ModelSourcesUserDir, _ModelSourcesInTree]


def compile_options() -> dict[str, Any]:
    """Options of every compiled function: nopython, cached on disk, no fastmath.

    Fastmath stays off so floating point follows IEEE order and a seed gives the same
    numbers on every machine with the same build.
    """
    return {"cache": True, "nogil": True}


def compiled(function: Any) -> Any:
    """`function` compiled by numba with the package's options (`compile_options`)."""
    return numba.njit(**compile_options())(function)
