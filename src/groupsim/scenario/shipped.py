"""Built-in scenarios: the scenario files shipped inside the package.

The files live in ``groupsim/scenario/builtin/`` and are read with :mod:`importlib.resources`,
so an installed groupsim finds them from any working directory. They are written by
``tools/regen_scenarios.py`` together with the repository's user-facing ``scenarios/*.toml``
(the same text; a test keeps the two copies equal).

A *scenario name* is what a user may type instead of a path: no folder separator, no
``.toml`` ending, and not the name of an existing file (a file always wins).

Example:
    >>> builtin_names()  # doctest: +NORMALIZE_WHITESPACE
    ('campus_control', 'campus_rollout', 'home_room', 'home_room_formal_room',
     'no_intervention', 'standard_group')
    >>> is_scenario_name("home_room"), is_scenario_name("scenarios/home_room.toml")
    (True, False)
    >>> builtin_text("home_room").splitlines()[0]
    '# groupsim scenario: home_room'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = [
    "BUILTIN_FOLDER",
    "builtin_location",
    "builtin_names",
    "builtin_text",
    "is_scenario_name",
]

#: The folder of built-in scenario files inside the `groupsim.scenario` package.
BUILTIN_FOLDER = "builtin"


def _folder() -> Traversable:
    return resources.files("groupsim.scenario").joinpath(BUILTIN_FOLDER)


def builtin_names() -> tuple[str, ...]:
    """The names of the built-in scenarios, sorted (file names without ``.toml``)."""
    names = (
        entry.name.removesuffix(".toml")
        for entry in _folder().iterdir()
        if entry.is_file() and entry.name.endswith(".toml")
    )
    return tuple(sorted(names))


def _entry(name: str) -> Traversable:
    if name not in builtin_names():
        raise KeyError(name)
    return _folder().joinpath(f"{name}.toml")


def builtin_text(name: str) -> str:
    """The TOML text of a built-in scenario; KeyError for an unknown name."""
    return _entry(name).read_text(encoding="utf-8")


def builtin_location(name: str) -> str:
    """Where a built-in scenario's file is (a path for a normal install); KeyError if unknown."""
    return str(_entry(name))


def is_scenario_name(path: str | Path) -> bool:
    """True when `path` is a bare name to look up among the built-ins rather than a file.

    A bare name has no folder separator and no ``.toml`` ending and is not an existing file
    or folder in the working directory.
    """
    text = str(path)
    return (
        bool(text)
        and "/" not in text
        and "\\" not in text
        and not text.endswith(".toml")
        and not Path(text).exists()
    )
