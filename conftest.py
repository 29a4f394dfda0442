"""Doctest setup for `pytest --doctest-modules` over src/groupsim (see pyproject's testpaths).

Doctests read the repository's files (`scenarios/home_room.toml`, ...) by relative path, so
each one runs with the repository root as its working directory, wherever pytest started.
Modules of the optional teaching page import its extra dependencies (`groupsim[ui]`); without
them those modules are left out of the doctest collection instead of failing to import.

Ctrl-C is made deliverable to the test process: started with SIGINT ignored (`nohup make
test`, or `make test &` in a script), Python never raises KeyboardInterrupt, and the tests and
examples of what Ctrl-C does (`groupsim.model.interrupts`) would fail for the way they were
started, not for the code.
"""

from __future__ import annotations

import importlib.util
import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

#: Modules whose import needs an optional extra, with the module that extra provides.
OPTIONAL = {
    Path("src/groupsim/teach/app.py"): "solara",
}


def pytest_configure(config: pytest.Config) -> None:
    """Let Ctrl-C reach Python in this process, as in a terminal (see the module's note)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip a module whose optional dependency is not installed (None: decide as usual)."""
    for relative, needed in OPTIONAL.items():
        if collection_path == ROOT / relative and importlib.util.find_spec(needed) is None:
            return True
    return None


@pytest.fixture(autouse=True)
def _doctests_run_from_the_repository_root(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if isinstance(request.node, pytest.DoctestItem):
        monkeypatch.chdir(ROOT)
