"""A Griffe extension for the docs site: `Example:` sections are read as doctest examples.

groupsim's docstrings follow Google style, which spells the section `Example:` or
`Examples:` (both are Napoleon's too); Griffe reads only `Examples:` as code and renders
`Example:` as an admonition of Markdown, where `[0.786, 0.957]` looks like a link. This
extension renames the section before the docstring is parsed, and keeps a parenthesised title
(`Example (Borenstein et al. 2009, section 4.4):`) as the first line of text. mkdocs.yml loads
it (`plugins.mkdocstrings.handlers.python.options.extensions`).
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension

_EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)Example(?:[ \t]*\((?P<title>[^)\n]*)\))?:[ \t]*$", re.M)


def examples_sections(text: str) -> str:
    """The docstring with every `Example:` section header written as `Examples:`.

    >>> examples_sections("Sum.\\n\\nExample (a book):\\n    >>> 1 + 1\\n    2")
    'Sum.\\n\\nExamples:\\n    From a book:\\n    >>> 1 + 1\\n    2'
    """

    def header(match: re.Match[str]) -> str:
        indent, title = match["indent"], match["title"]
        line = f"{indent}Examples:"
        return line if not title else f"{line}\n{indent}    From {title}:"

    return _EXAMPLE.sub(header, text)


class ExampleSections(Extension):
    """Rename `Example:` to `Examples:` in every docstring Griffe loads."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        """Rewrite the docstring of each loaded object before it is parsed."""
        if obj.docstring is not None:
            obj.docstring.value = examples_sections(obj.docstring.value)
