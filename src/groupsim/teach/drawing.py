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
from typing import Any

import pandas as pd

__all__ = ["CLIENT_SERIES", "SERIES_COLOURS", "chart_svg", "result_series", "week_caption"]

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


def week_caption(row: Mapping[str, Any], last_week: int) -> str:
    """One line for the class: week, phase, session and stage, climate."""
    text = f"Week {int(row['week'])} of {last_week} · {row['phase']}"
    if int(row["session"]) > 0:
        text += f" · session {int(row['session'])} ({row['stage']})"
    climate = row.get("climate")
    if climate is not None and climate == climate:  # NaN: no group, no climate
        text += f" · climate {float(climate):.2f}"
    return text


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
) -> str:
    """Line chart of values in [0, 1] over weeks, as an SVG string.

    The x axis always spans week 0 to `last_week`, so lines grow to the right as a run
    proceeds; the program's weeks are shaded and `marker_week` gets a vertical line. The
    legend shows each series' value at the marker (or its last value).
    """
    left, right, top, bottom = 36, 150, 24, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max(last_week, 1)

    def px(week: float) -> float:
        return left + plot_w * week / span

    def py(value: float) -> float:
        return top + plot_h * (1.0 - min(max(value, 0.0), 1.0))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" class="groupsim-chart" font-family="sans-serif">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="15" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    if program is not None:
        x0, x1 = px(program[0]), px(program[1])
        out.append(
            f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1):.1f}" height="{plot_h}" '
            f'fill="#fff3e0"><title>program weeks</title></rect>'
            f'<text x="{(x0 + x1) / 2:.1f}" y="{top + 11}" font-size="9" text-anchor="middle" '
            f'fill="#e65100">program</text>'
        )
    for v in (0.0, 0.5, 1.0):
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
            f'stroke="#e0e0e0"/><text x="{left - 4}" y="{py(v) + 3:.1f}" font-size="9" '
            f'text-anchor="end">{v:g}</text>'
        )
    for w in range(0, span + 1, max(1, span // 6)):
        out.append(
            f'<text x="{px(w):.1f}" y="{height - 10}" font-size="9" text-anchor="middle">{w}</text>'
        )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 1}" font-size="9" '
        'text-anchor="middle">week</text>'
    )
    at = len(weeks) - 1
    if marker_week is not None and marker_week in weeks:
        at = list(weeks).index(marker_week)
    for k, (name, values) in enumerate(series.items()):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        points = " ".join(
            f"{px(w):.1f},{py(v):.1f}" for w, v in zip(weeks, values, strict=True) if v == v
        )
        dash = ' stroke-dasharray="5,3"' if name in dashed else ""
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        value = float(values[at]) if len(values) else float("nan")
        shown = f"{value:.2f}" if value == value else "\N{EN DASH}"
        y = top + 6 + 15 * k
        out.append(
            f'<line x1="{width - right + 8}" x2="{width - right + 24}" y1="{y}" y2="{y}" '
            f'stroke="{colour}" stroke-width="3"{dash}/>'
            f'<text x="{width - right + 28}" y="{y + 4}" font-size="10" class="legend" '
            f'data-series="{escape(name)}" data-value="{shown}">{escape(name)} {shown}</text>'
        )
    if marker_week is not None:
        out.append(
            f'<line x1="{px(marker_week):.1f}" x2="{px(marker_week):.1f}" y1="{top}" '
            f'y2="{top + plot_h}" stroke="#d32f2f" stroke-width="1.5"/>'
        )
    out.append("</svg>")
    return "".join(out)


def result_series(weekly: pd.DataFrame) -> dict[str, list[float]]:
    """The clients' mean states from a weekly table, keyed by their legend names."""
    return {legend: [float(v) for v in weekly[column]] for column, legend in CLIENT_SERIES.items()}
