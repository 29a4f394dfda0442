"""A report's content as a list of blocks, built once and rendered to Markdown and HTML.

Text in headings, paragraphs, list items and notes is inline Markdown (`code`, *emphasis*);
table cells are plain text. A :class:`FigureBlock` names a figure file (`NAME.png` and
`NAME.svg` beside the report) and may carry the function that draws it.

Example:
    >>> import pandas as pd
    >>> doc = Document("Two arms", [
    ...     Heading("Result"),
    ...     Paragraph("`home_room` raised social interaction."),
    ...     Table.from_frame(pd.DataFrame({"arm": ["a|b"], "mean": [0.5]})),
    ... ])
    >>> [type(block).__name__ for block in doc.blocks]
    ['Heading', 'Paragraph', 'Table']
    >>> doc.blocks[2].rows
    (('a|b', '0.5'),)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "Block",
    "BulletList",
    "Code",
    "Document",
    "FigureBlock",
    "Heading",
    "Note",
    "Paragraph",
    "Table",
]


@dataclass(frozen=True)
class Heading:
    """A section heading (level 2 or 3; the document's title is level 1)."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of inline Markdown."""

    text: str


@dataclass(frozen=True)
class BulletList:
    """A bulleted list; each item is inline Markdown."""

    items: tuple[str, ...]

    def __init__(self, items: Iterable[str]):
        object.__setattr__(self, "items", tuple(items))


@dataclass(frozen=True)
class Note:
    """An aside set apart from the text (a warning, what is missing); inline Markdown."""

    text: str


@dataclass(frozen=True)
class Code:
    """A command or code to copy, shown verbatim."""

    text: str
    language: str = ""


@dataclass(frozen=True)
class Table:
    """A table of text cells: a header and rows of the same length."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @classmethod
    def from_rows(cls, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Table:
        """A table from a header and rows of values (shown with `str`)."""
        return cls(tuple(str(h) for h in header), tuple(tuple(str(v) for v in r) for r in rows))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Table:
        """A table from a DataFrame's columns and rows (its index is left out)."""
        return cls.from_rows(list(frame.columns), frame.itertuples(index=False))


@dataclass(frozen=True)
class FigureBlock:
    """A figure: `name.png` and `name.svg` beside the report, with a caption.

    Attributes:
        name: the files' stem.
        caption: what the figure shows (inline Markdown).
        draw: builds the figure when the report is written (None: the files exist already).
    """

    name: str
    caption: str
    draw: Callable[[], Figure] | None = field(default=None, compare=False)


Block = Heading | Paragraph | BulletList | Note | Code | Table | FigureBlock


@dataclass
class Document:
    """A report: a title and its blocks, in reading order."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def figures(self) -> list[FigureBlock]:
        """The figure blocks, in order."""
        return [block for block in self.blocks if isinstance(block, FigureBlock)]
