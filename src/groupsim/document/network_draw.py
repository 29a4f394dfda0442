"""The group-network picture drawn two ways from one geometry: SVG and matplotlib.

:func:`scene_svg` draws a :class:`~groupsim.document.network.NetworkScene` as an SVG string
for the browser (the teaching page and the replay: tooltips, ``data-`` attributes a test or a
script can read); :func:`draw_scene` draws the same scene into a matplotlib axes for
raster and print (the comparison report's network figure and the slide animation). Both take
positions, radii, widths, colours and labels from the scene and only convert units, so the
pictures agree.

Example:
    >>> from groupsim.document.network import WeekPicture, faculty_layout
    >>> picture = WeekPicture(week=4, clients=(0, 1), context=(), colour={0: 0.2, 1: 0.9},
    ...                       disclosure={0: 0.1, 1: 0.6}, edges=((0, 1, 0.7),))
    >>> svg = network_svg(picture, faculty_layout([0, 1], [0, 1]), {0: "S0 <x>", 1: "S1"})
    >>> svg.startswith("<svg") and 'data-ties="1"' in svg and "S0 &lt;x&gt;" in svg
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import TYPE_CHECKING, Any

from groupsim.document.network import (
    ENGLISH,
    PIXEL,
    VIRIDIS,
    NetworkScene,
    NetworkTexts,
    WeekPicture,
    colour_of,
    network_scene,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap

__all__ = ["colour_map", "draw_scene", "network_svg", "scene_svg"]

#: Height in pixels of the reference SVG drawing (`PIXEL` is one of its pixels).
REFERENCE_SIZE = 380


# ---------------------------------------------------------------------------------- SVG


def _svg_edges(
    scene: NetworkScene, place: Callable[[float, float], tuple[float, float]], px: float
) -> list[str]:
    out = []
    for edge in scene.edges:
        (x1, y1), (x2, y2) = place(edge.x1, edge.y1), place(edge.x2, edge.y2)
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{edge.colour}" stroke-width="{edge.width * px:.2f}" '
            f'stroke-opacity="{edge.opacity}" stroke-linecap="round">'
            f"<title>{escape(edge.title)}</title></line>"
        )
    return out


def _svg_nodes(
    scene: NetworkScene,
    place: Callable[[float, float], tuple[float, float]],
    px: float,
    font: float,
) -> list[str]:
    out = []
    for node in scene.nodes:
        x, y = place(node.x, node.y)
        if not node.client:
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{node.radius * px:.1f}" '
                f'fill="{node.fill}" fill-opacity="{node.opacity}" stroke="none">'
                f"<title>{escape(node.title)}</title></circle>"
            )
            continue
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{node.radius * px:.1f}" fill="{node.fill}" '
            f'stroke="{node.stroke}" stroke-width="{node.stroke_width * px:.1f}" class="client" '
            f'data-student="{node.student}" data-value="{node.value:.4f}" '
            f'data-disclosure="{node.disclosure:.4f}" data-opened="{int(node.opened)}">'
            f"<title>{escape(node.title)}</title></circle>"
        )
        if node.opened:
            # A second ring outside the disc: this client has opened up.
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{node.radius * px + 4:.1f}" fill="none" '
                f'stroke="{node.stroke}" stroke-width="1.5" class="opened" '
                'pointer-events="none"/>'
            )
        lx, ly = place(node.label_x, node.label_y)
        # SVG places text by its baseline: a third of the font lower looks centred.
        out.append(
            f'<text x="{lx:.1f}" y="{ly + font / 3:.1f}" font-size="{font:.0f}" '
            f'text-anchor="{node.anchor}" fill="#263238" paint-order="stroke" stroke="white" '
            f'stroke-width="3">{escape(node.label)}</text>'
        )
    return out


def _svg_legend(scene: NetworkScene, width: float, size: float, font: float) -> str:
    y = size + 4
    bar = 6 * font
    stops = "".join(
        f'<stop offset="{k / (len(VIRIDIS) - 1):.3f}" stop-color="{colour_of(k / 8)}"/>'
        for k in range(len(VIRIDIS))
    )
    return (
        f'<defs><linearGradient id="viridis">{stops}</linearGradient></defs>'
        f'<text x="6" y="{y + font:.1f}" font-size="{font:.0f}" fill="#263238">'
        f"{escape(scene.texts.colour_legend.format(state=scene.colour_name))}</text>"
        f'<text x="{6 + font * 0.6:.1f}" y="{y + 2.3 * font:.1f}" font-size="{font:.0f}" '
        'text-anchor="middle">0</text>'
        f'<rect x="{6 + font * 1.2:.1f}" y="{y + 1.3 * font:.1f}" width="{bar:.0f}" '
        f'height="{font:.0f}" fill="url(#viridis)"/>'
        f'<text x="{6 + font * 1.5 + bar:.1f}" y="{y + 2.3 * font:.1f}" font-size="{font:.0f}">'
        f"{escape(scene.texts.size_legend)}</text>"
    )


def scene_svg(
    scene: NetworkScene,
    size: int = 460,
    font: float | None = None,
    fluid: bool = False,
    margin: int = 100,
) -> str:
    """The scene as an SVG string `size` pixels high (plus a legend), wider than tall.

    Args:
        scene: what to draw.
        size: height of the drawing without its legend, in pixels (SVG user units).
        font: label and legend size in pixels; default 11 at the reference size, scaled.
        fluid: fill the width of its container (the page scales it with the window)
            instead of a fixed pixel size.
        margin: room for labels left and right of the ring, in pixels.
    """
    # Wider than tall: the labels sit left and right of the ring.
    width = size + 2 * margin
    px = 0.4 * size  # pixels per layout unit
    font = font if font is not None else 11 * px * PIXEL

    def place(x: float, y: float) -> tuple[float, float]:
        return width / 2 + px * x, size / 2 + px * y

    height = size + 2.6 * font + 8
    shown = 'width="100%"' if fluid else f'width="{width}" height="{height:.0f}"'
    return "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
            f'{shown} class="groupsim-network" '
            f'data-week="{scene.week}" data-colour-by="{escape(scene.colour_by)}" '
            f'data-ties="{scene.group_ties}" data-opened="{len(scene.opened)}" '
            'font-family="sans-serif">',
            f'<rect width="{width}" height="{height:.0f}" fill="white"/>',
            *_svg_edges(scene, place, px),
            *_svg_nodes(scene, place, px, font),
            _svg_legend(scene, width, size, font),
            "</svg>",
        ]
    )


def network_svg(
    picture: WeekPicture,
    positions: Mapping[int, tuple[float, float]],
    labels: Mapping[int, str],
    colour_by: str = "social_interaction",
    size: int = 460,
    highlight: int | None = None,
    texts: NetworkTexts = ENGLISH,
    threshold: float | None = None,
    **style: Any,
) -> str:
    """The group's network in one week as an SVG string (:func:`network_scene` drawn).

    `style` goes to :func:`scene_svg` (font, fluid, margin).
    """
    scene = network_scene(picture, positions, labels, colour_by, highlight, texts, threshold)
    return scene_svg(scene, size, **style)


# ---------------------------------------------------------------------------------- matplotlib


def colour_map() -> Colormap:
    """The scenes' colour scale as a matplotlib colour map (for a colour bar)."""
    from matplotlib.colors import LinearSegmentedColormap

    colours = [tuple(channel / 255 for channel in stop) for stop in VIRIDIS]
    return LinearSegmentedColormap.from_list("groupsim-viridis", colours)


def _points_per_unit(ax: Axes, extent: tuple[float, float]) -> float:
    """Points per layout unit in `ax` (line widths are in points, not data units).

    Read from the axes' position before any layout engine moves it, so widths are close
    to, not exactly, the SVG's proportions.
    """
    box = ax.get_position()
    figure = ax.get_figure(root=True)
    assert figure is not None, "the axes belongs to a figure"
    width, height = figure.get_size_inches()
    return min(box.width * width * 72 / (2 * extent[0]), box.height * height * 72 / (2 * extent[1]))


def draw_scene(
    ax: Axes, scene: NetworkScene, extent: tuple[float, float] = (1.3, 1.3), font_size: float = 8
) -> float:
    """Draw the scene into `ax`: ties (a line collection), clients, then campus friends.

    Args:
        ax: an empty axes; its limits become +-`extent` (x, y) with y downwards, as in SVG.
        scene: what to draw.
        extent: half the visible width and height in layout units.
        font_size: of the labels, in points.

    Returns:
        Points per layout unit used for line widths (to draw a matching legend).
    """
    from matplotlib.collections import EllipseCollection, LineCollection
    from matplotlib.colors import to_rgba

    ax.set_xlim(-extent[0], extent[0])
    ax.set_ylim(extent[1], -extent[1])  # y grows downwards in the scene
    ax.set_aspect("equal")
    ax.set_axis_off()
    points = _points_per_unit(ax, extent)
    edges = scene.edges
    ax.add_collection(
        LineCollection(
            [[(e.x1, e.y1), (e.x2, e.y2)] for e in edges],
            linewidths=[e.width * points for e in edges],
            colors=[to_rgba(e.colour, e.opacity) for e in edges],
            capstyle="round",
            zorder=1,
        )
    )
    for client, zorder in ((True, 3), (False, 2)):
        nodes = [node for node in scene.nodes if node.client is client]
        diameters = [2 * node.radius for node in nodes]
        ax.add_collection(
            EllipseCollection(
                diameters,
                diameters,
                [0.0] * len(nodes),
                units="xy",
                offsets=[(node.x, node.y) for node in nodes],
                offset_transform=ax.transData,
                facecolors=[to_rgba(node.fill, node.opacity) for node in nodes],
                edgecolors=[node.stroke or "none" for node in nodes],
                linewidths=[node.stroke_width * points for node in nodes],
                zorder=zorder,
            )
        )
    opened = scene.opened
    if opened:
        # The opened-up mark: a ring just outside the disc, as in the SVG.
        ring = [2 * node.radius + 8 * PIXEL for node in opened]
        ax.add_collection(
            EllipseCollection(
                ring,
                ring,
                [0.0] * len(opened),
                units="xy",
                offsets=[(node.x, node.y) for node in opened],
                offset_transform=ax.transData,
                facecolors="none",
                edgecolors=[node.stroke for node in opened],
                linewidths=1.2 * points * PIXEL,
                zorder=3,
            )
        )
    align = {"start": "left", "middle": "center", "end": "right"}
    for node in scene.clients:
        ax.text(
            node.label_x,
            node.label_y,
            node.label,
            ha=align[node.anchor],
            va="center",
            fontsize=font_size,
            zorder=4,
        )
    return points
