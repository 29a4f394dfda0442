"""Teaching pictures besides the network: line charts of the clients' states and week captions.

The network itself is drawn from one geometry for every page, animation and report
(:mod:`groupsim.document.network` and :mod:`groupsim.document.network_draw`); this module adds
what only the teaching page and the replay show: :func:`chart_svg` (values in 0-1 over weeks)
and :func:`week_caption`.

Example:
    >>> svg = chart_svg([0, 1, 2], {"anxiety": [0.5, 0.4, 0.3]}, 4, marker_week=1, title="t")
    >>> 'data-series="anxiety" data-value="0.40"' in svg
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd

from groupsim.document.network import NetworkTexts
from groupsim.teach import lesson
from groupsim.teach.messages import Messages

__all__ = [
    "CLIENT_SERIES",
    "SERIES_COLOURS",
    "SERIES_COLOUR_PAIR",
    "chart_svg",
    "network_texts",
    "result_series",
    "short_labels",
    "week_caption",
]

#: Clients' weekly means plotted over time (weekly-table column -> legend).
CLIENT_SERIES = {
    "clients_social_interaction": "social interaction",
    "clients_anxiety": "anxiety",
    "clients_skill": "skill",
    "clients_attitude": "attitude",
    "clients_resolve": "resolve",
    "clients_rapport": "rapport",
}

#: One colour per plotted series (colour-blind safe, Okabe-Ito).
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

#: The two arms' colours on an overlay chart (the first two series colours).
SERIES_COLOUR_PAIR = SERIES_COLOURS[:2]


def network_texts(words: Messages) -> NetworkTexts:
    """The network picture's tooltips and legend in the catalogue's language."""
    return NetworkTexts(
        states=words.states(),
        node=words.table["drawing.node_title"],
        friend=words.table["drawing.campus_friend"],
        tie=words.table["drawing.tie_title"],
        colour_legend=words.table["drawing.colour_legend"],
        size_legend=words.table["drawing.size_legend"],
    )


def short_labels(
    faculty_names: Mapping[int, str], words: Messages, tags: Mapping[int, str] | None = None
) -> dict[int, str]:
    """Drawing labels such as "S3 Law" (the faculty's short name, in the reader's language).

    `tags` names the students otherwise (a cohort from data: their pseudonyms).
    """
    tags = tags or {}
    return {
        i: f"{tags.get(i, f'S{i}')} {words.short_faculty(name)}"
        for i, name in faculty_names.items()
    }


#: One line for the class: week, phase, sessions and stages, climate (`lesson.week_caption`).
week_caption = lesson.week_caption


def chart_svg(
    weeks: Sequence[int],
    series: Mapping[str, Sequence[float]],
    last_week: int,
    marker_week: int | None = None,
    program: tuple[int, int] | None = None,
    title: str = "",
    width: int = 460,
    height: int = 240,
    dashed: Sequence[str] = (),
    font: float = 10,
    fluid: bool = False,
    words: tuple[str, str] = ("week", "program"),
    series_weeks: Mapping[str, Sequence[int]] | None = None,
) -> str:
    """Line chart of values in [0, 1] over weeks, as an SVG string.

    The x axis always spans week 0 to `last_week`, so lines grow to the right as a run
    proceeds; the program's weeks are shaded and `marker_week` gets a vertical line. The
    legend shows each series' value at the marker (or its last value). `font` sets every
    text's size (pixels); `fluid` makes the chart fill its container's width; `words` are
    the axis and shading labels; `series_weeks` gives a series its own weeks (arms of
    different lengths on one chart).
    """
    legend_width = max(len(name) for name in series) * 0.55 * font + 70 if series else 60
    left, right, top, bottom = 2.6 * font, legend_width, 1.9 * font, 2.6 * font
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max(last_week, 1)

    def px(week: float) -> float:
        return left + plot_w * week / span

    def py(value: float) -> float:
        return top + plot_h * (1.0 - min(max(value, 0.0), 1.0))

    shown = 'width="100%"' if fluid else f'width="{width}" height="{height}"'
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" {shown} '
        f'class="groupsim-chart" font-family="sans-serif">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="{1.3 * font:.1f}" font-size="{font + 1:.0f}" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    if program is not None:
        x0, x1 = px(program[0]), px(program[1])
        out.append(
            f'<rect x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0, 1):.1f}" height="{plot_h:.1f}" '
            f'fill="#fff3e0"><title>{escape(words[1])}</title></rect>'
            f'<text x="{(x0 + x1) / 2:.1f}" y="{top + font:.1f}" font-size="{font:.0f}" '
            f'text-anchor="middle" fill="#e65100">{escape(words[1])}</text>'
        )
    for v in (0.0, 0.5, 1.0):
        out.append(
            f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
            f'stroke="#e0e0e0"/><text x="{left - 4:.1f}" y="{py(v) + font / 3:.1f}" '
            f'font-size="{font:.0f}" text-anchor="end">{v:g}</text>'
        )
    for w in range(0, span + 1, max(1, span // 7)):
        out.append(
            f'<text x="{px(w):.1f}" y="{top + plot_h + 1.1 * font:.1f}" font-size="{font:.0f}" '
            f'text-anchor="middle">{w}</text>'
        )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 0.3 * font:.1f}" font-size="{font:.0f}" '
        f'text-anchor="middle">{escape(words[0])}</text>'
    )
    for k, (name, values) in enumerate(series.items()):
        own = list(series_weeks[name]) if series_weeks and name in series_weeks else list(weeks)
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        points = " ".join(
            f"{px(w):.1f},{py(v):.1f}" for w, v in zip(own, values, strict=True) if v == v
        )
        dash = ' stroke-dasharray="6,4"' if name in dashed else ""
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>'
        )
        at = len(values) - 1
        if marker_week is not None and marker_week in own:
            at = own.index(marker_week)
        value = float(values[at]) if len(values) else float("nan")
        shown_value = f"{value:.2f}" if value == value else "\N{EN DASH}"
        y = top + 0.5 * font + 1.4 * font * k
        x = width - right + 8
        out.append(
            f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="3"{dash}/>'
            f'<text x="{x + 23:.1f}" y="{y + font / 3:.1f}" font-size="{font:.0f}" class="legend" '
            f'data-series="{escape(name)}" data-value="{shown_value}">{escape(name)} '
            f"{shown_value}</text>"
        )
    if marker_week is not None:
        out.append(
            f'<line x1="{px(marker_week):.1f}" x2="{px(marker_week):.1f}" y1="{top:.1f}" '
            f'y2="{top + plot_h:.1f}" stroke="#d32f2f" stroke-width="1.5"/>'
        )
    out.append("</svg>")
    return "".join(out)


def result_series(weekly: pd.DataFrame) -> dict[str, list[float]]:
    """The clients' mean states from a weekly table, keyed by their legend names."""
    return {legend: [float(v) for v in weekly[column]] for column, legend in CLIENT_SERIES.items()}
