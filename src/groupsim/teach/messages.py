"""The teaching tools' words in English and Bahasa Indonesia, from one catalogue per language.

`catalogue/en.toml` and `catalogue/id.toml` (next to this module) hold every label of the
page, the replay, the animation and the lesson under the same keys; :func:`messages` gives
one language's catalogue and :data:`LANGUAGES` the languages there are. A plain TOML
catalogue rather than gettext: the teaching words are a few hundred short strings with named
placeholders, the replay's script needs them as JSON, and a reviewer reads both languages
side by side in a text editor without compiling .mo files (tests check that every key exists
in both).

Example:
    >>> words = messages("id")
    >>> words("stage.forming"), words("caption.week", week=3, last=14)
    ('pembentukan', 'Minggu 3 dari 14')
    >>> messages("en").state("resolve")
    'resolve to interact'
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "Messages", "catalogue", "check_language", "messages"]

#: Language codes with a catalogue.
LANGUAGES = ("en", "id")


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """Every message of a language, keyed "section.key"."""
    check_language(language)
    folder = resources.files("groupsim.teach").joinpath("catalogue")
    text = folder.joinpath(f"{language}.toml").read_text(encoding="utf-8")
    return _flatten(tomllib.loads(text))


def check_language(language: str) -> str:
    """`language` if there is a catalogue for it, else a ValueError naming the choices."""
    if language not in LANGUAGES:
        raise ValueError(f"--lang: must be one of {', '.join(LANGUAGES)} (got {language})")
    return language


class Messages:
    """One language's words; call it with a key (and placeholders) to get a text."""

    def __init__(self, language: str = "en"):
        self.language = check_language(language)
        self.table = catalogue(language)

    def __call__(self, key: str, **values: Any) -> str:
        """The message `key`, its placeholders filled from `values`."""
        text = self.table[key]
        return text.format(**values) if values else text

    def state(self, name: str) -> str:
        """A state's name (a key of `COLOUR_STATES`), or `name` itself when unknown."""
        return self.table.get(f"state.{name}", name)

    def stage(self, name: str) -> str:
        """A counseling stage's name."""
        return self.table.get(f"stage.{name}", name)

    def phase(self, name: str) -> str:
        """A phase's name (baseline, program, followup)."""
        return self.table.get(f"phase.{name}", name)

    def arm(self, technique: str) -> str:
        """A technique (`counselor.technique`) or arm name in words."""
        return self.table.get(f"arm.{technique}", technique.replace("_", " "))

    def faculty(self, name: str) -> str:
        """A faculty name: the default names translated, a scenario's own names unchanged."""
        return self.table.get(f"faculty.{name}", name)

    def short_faculty(self, name: str) -> str:
        """A faculty's short name for a drawing's label ("Law", "Hukum")."""
        short = self.table.get(f"faculty_short.{name}")
        if short is not None:
            return short
        for prefix in ("Faculty of ", "Fakultas "):
            name = name.removeprefix(prefix)
        return name

    def states(self) -> dict[str, str]:
        """Every state's key -> its name, in catalogue order."""
        return {
            key.removeprefix("state."): text
            for key, text in self.table.items()
            if key.startswith("state.")
        }


@functools.cache
def messages(language: str = "en") -> Messages:
    """The catalogue of `language` ("en" or "id")."""
    return Messages(language)
