"""The one figure convention: matplotlib `Figure` objects, one style, PNG plus deterministic SVG.

Figures are built as :class:`matplotlib.figure.Figure` objects, never through pyplot, so no
figure depends on a display, a backend chosen at import or global figure state. Build them
inside :func:`styled` (the style applies when artists are made) and write them with
:func:`save_figure`: PNG at 150 dpi and an SVG whose bytes depend only on the figure (fixed
``svg.hashsalt``, no date or software stamp).

Example:
    >>> import tempfile
    >>> from groupsim.document.figures import save_figure, styled
    >>> with styled():
    ...     fig = Figure(figsize=(3, 2))
    ...     _ = fig.subplots().plot([0, 1], [1, 0])
    >>> folder = tempfile.mkdtemp()
    >>> png, svg = save_figure(fig, folder, "line")
    >>> first = svg.read_bytes()
    >>> _ = save_figure(fig, folder, "line")
    >>> png.name, svg.read_bytes() == first
    ('line.png', True)
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "PNG_COMPRESSION",
    "STYLE",
    "Figure",
    "drawn_figure_bytes",
    "figure_bytes",
    "png_bytes",
    "save_figure",
    "styled",
    "write_figure_bytes",
]

#: Resolution of every PNG.
DPI = 150

#: zlib level of the saved PNGs: level 1 writes them ~10% faster than the default 6 (a tenth of
#: a save) for files ~10% larger; the pixels are the same.
PNG_COMPRESSION = {"compress_level": 1}

#: Matplotlib settings for every figure: legible at a report's width.
STYLE: dict[str, Any] = {
    "font.size": 10,
    "figure.titlesize": 12,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "groupsim",  # stable ids: the same figure gives the same SVG
    # Scenario names reach titles and ticks: "$" is a dollar sign, never mathtext.
    "text.parse_math": False,
}


def styled(**overrides: Any) -> AbstractContextManager[Any]:
    """The house style (plus `overrides`, e.g. ``{"axes.grid": False}``) for building a figure."""
    settings: Any = STYLE | overrides  # matplotlib types rc names as literals; these are valid
    return mpl.rc_context(settings)


def save_figure(fig: Figure, folder: str | Path, name: str) -> list[Path]:
    """Write `fig` as `name.png` (150 dpi) and `name.svg` into `folder`; return both paths.

    The SVG has no date and fixed ids, so the same figure gives the same bytes.
    """
    return write_figure_bytes(figure_bytes(fig), folder, name)


def figure_bytes(fig: Figure) -> tuple[bytes, bytes]:
    """`fig` as the PNG and SVG bytes `save_figure` writes."""
    png, svg = io.BytesIO(), io.BytesIO()
    with styled():  # svg.hashsalt applies when saving
        fig.savefig(
            png,
            format="png",
            dpi=DPI,
            metadata={"Software": None},
            pil_kwargs=dict(PNG_COMPRESSION),
        )
        with _layout_kept(fig):
            fig.savefig(svg, format="svg", metadata={"Date": None})
    return png.getvalue(), svg.getvalue()


def drawn_figure_bytes(draw: Callable[[], Figure]) -> tuple[bytes, bytes]:
    """Draw a figure and return its PNG and SVG bytes (`figure_bytes`).

    A module-level function of one picklable task (e.g. a `functools.partial` of a
    module-level drawing function), so a worker process can draw a report's figure
    (`groupsim.document.render.write_document`'s `map_figures`).
    """
    return figure_bytes(draw())


def write_figure_bytes(files: tuple[bytes, bytes], folder: str | Path, name: str) -> list[Path]:
    """Write a figure's PNG and SVG bytes (`figure_bytes`) as `name.png` and `name.svg`."""
    paths = [Path(folder) / f"{name}.png", Path(folder) / f"{name}.svg"]
    for path, data in zip(paths, files, strict=True):
        path.write_bytes(data)
    return paths


@contextmanager
def _layout_kept(fig: Figure) -> Iterator[None]:
    """The layout the last save computed, kept: saved again, `fig` is not laid out again.

    A layout engine (e.g. ``layout="constrained"``) runs at every save and costs a quarter of
    it; the PNG's layout serves the SVG (it is in figure-relative units; text extents differ
    between the renderers by a fraction of a pixel at most).
    """
    engine = fig.get_layout_engine()
    if engine is None:
        yield
        return
    fig.set_layout_engine("none")
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """`fig` as PNG bytes (for embedding in a page or a frame)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
