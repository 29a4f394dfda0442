"""Pictures of the counseling group for teaching: week snapshots, a stable layout, SVG drawings.

One drawing code serves the live page (`groupsim.teach.app`), the self-contained replay
(`groupsim.teach.replay`) and the slide animation (`groupsim.teach.animate`), so a class sees
the same picture everywhere: the clients' group as a network (node colour = a chosen state,
node size = disclosure, edge width = tie strength, a label per student), their friends on campus
drawn faintly around it, and line charts of the clients' mean states week by week.

Example:
    >>> from groupsim import HomeRoomModel
    >>> from groupsim.teach.drawing import faculty_layout, network_svg, picture_from_model
    >>> from groupsim.teach.drawing import student_labels
    >>> model = HomeRoomModel(rng=1)
    >>> model.step()
    >>> picture = picture_from_model(model)
    >>> positions = faculty_layout(model.states.faculty, model.clients)
    >>> network_svg(picture, positions, student_labels(model)).startswith("<svg")
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

__all__ = [
    "CLIENT_SERIES",
    "COLOUR_STATES",
    "WeekPicture",
    "chart_svg",
    "colour_of",
    "faculty_layout",
    "network_svg",
    "picture_from_model",
    "pictures_from_result",
    "result_series",
    "stable_layout",
    "student_labels",
    "week_caption",
]

#: States a node can be coloured by (student-table column -> words shown to the class).
COLOUR_STATES = {
    "social_interaction": "social interaction",
    "anxiety": "social anxiety",
    "skill": "communication skill",
    "attitude": "attitude to interaction",
    "resolve": "resolve to interact",
    "openness": "openness",
    "rapport": "rapport with counselor",
    "disclosure": "self-disclosure",
    "sociability": "sociability (trait)",
}

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

# Viridis at 9 stops: low values dark purple, high values yellow (perceptually uniform, and
# legible when printed in grey).
_VIRIDIS = (
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
)


@dataclass(frozen=True)
class WeekPicture:
    """What the network drawing shows in one week.

    Attributes:
        week: the week number (0 = screening).
        clients: the group's members (student ids).
        context: their friends outside the group this week (drawn faintly).
        colour: the chosen state per drawn student.
        disclosure: deepest self-disclosure per drawn student (node size).
        edges: ties touching the group, as (student, student, strength).
    """

    week: int
    clients: tuple[int, ...]
    context: tuple[int, ...]
    colour: Mapping[int, float]
    disclosure: Mapping[int, float]
    edges: tuple[tuple[int, int, float], ...]


def _picture(
    week: int,
    clients: Sequence[int],
    edges: list[tuple[int, int, float]],
    colour_values: np.ndarray,
    disclosure_values: np.ndarray,
    context: bool,
) -> WeekPicture:
    members = {int(c) for c in clients}
    kept = [
        (a, b, s)
        for a, b, s in edges
        if (a in members and b in members) or (context and (a in members or b in members))
    ]
    friends = sorted({x for a, b, _ in kept for x in (a, b)} - members)
    drawn = sorted(members) + friends
    return WeekPicture(
        week=int(week),
        clients=tuple(sorted(members)),
        context=tuple(friends),
        colour={i: float(colour_values[i]) for i in drawn},
        disclosure={i: float(disclosure_values[i]) for i in drawn},
        edges=tuple(sorted(kept)),
    )


def picture_from_model(
    model: Any, colour_by: str = "social_interaction", context: bool = True
) -> WeekPicture:
    """The current week of a (partly stepped) :class:`~groupsim.HomeRoomModel`."""
    if colour_by == "social_interaction":
        values = np.asarray(model.social_interaction)
    else:
        values = getattr(model.states, colour_by)
    edges = [
        (min(a, b), max(a, b), float(d["strength"])) for a, b, d in model.network.edges(data=True)
    ]
    return _picture(
        model.week, model.clients, edges, values, model.states.disclosure, context=context
    )


def pictures_from_result(
    result: Any, colour_by: str = "social_interaction", context: bool = True
) -> list[WeekPicture]:
    """Every recorded week of a :class:`~groupsim.RunResult` (needs its students and ties)."""
    students = result.students
    if students.empty:
        raise ValueError("the run has no student table; run it with record_students=True")
    clients = result.questionnaire["student_id"].to_numpy()
    n = int(students["student_id"].max()) + 1
    ties_by_week = dict(tuple(result.ties.groupby("week"))) if not result.ties.empty else {}
    pictures = []
    for week, rows in students.groupby("week", sort=True):
        order = rows["student_id"].to_numpy()
        colour_values = np.zeros(n)
        disclosure_values = np.zeros(n)
        colour_values[order] = rows[colour_by].to_numpy()
        disclosure_values[order] = rows["disclosure"].to_numpy()
        ties = ties_by_week.get(week, pd.DataFrame(columns=["source", "target", "strength"]))
        edges = [
            (int(min(a, b)), int(max(a, b)), float(s))
            for a, b, s in zip(ties["source"], ties["target"], ties["strength"], strict=True)
        ]
        pictures.append(
            _picture(int(week), clients, edges, colour_values, disclosure_values, context)
        )
    return pictures


def student_labels(source: Any) -> dict[int, str]:
    """Labels such as "S3 - Faculty of Law" from a model or a run result."""
    if hasattr(source, "student_agents"):
        return {a.student_id: a.label for a in source.student_agents}
    return {int(i): str(d.get("label", f"S{i}")) for i, d in source.network.nodes(data=True)}


def week_caption(row: Mapping[str, Any], last_week: int) -> str:
    """One line for the class: week, phase, session and stage, climate."""
    text = f"Week {int(row['week'])} of {last_week} · {row['phase']}"
    if int(row["session"]) > 0:
        text += f" · session {int(row['session'])} ({row['stage']})"
    climate = row.get("climate")
    if climate is not None and climate == climate:  # NaN: no group, no climate
        text += f" · climate {float(climate):.2f}"
    return text


# ---------------------------------------------------------------------------------- layout


def faculty_layout(
    faculty: Sequence[int], clients: Sequence[int], radius: float = 0.55
) -> dict[int, tuple[float, float]]:
    """A position for every student that never changes from week to week.

    Each faculty owns a sector of the circle; its clients sit on an inner ring (the group) and
    its other students on outer rings, so a friend on campus appears near the faculty they
    share and the picture stays put while ties come and go.
    """
    faculty = np.asarray(faculty)
    faculties = int(faculty.max()) + 1 if len(faculty) else 1
    client_set = {int(c) for c in clients}
    # Clients go round the circle in faculty order, evenly spaced.
    ordered_clients = sorted(client_set, key=lambda i: (int(faculty[i]), i))
    k = max(len(ordered_clients), 1)
    positions: dict[int, tuple[float, float]] = {}
    for rank, i in enumerate(ordered_clients):
        angle = 2 * math.pi * rank / k - math.pi / 2
        positions[i] = (radius * math.cos(angle), radius * math.sin(angle))
    sector = 2 * math.pi / faculties
    for f in range(faculties):
        others = [int(i) for i in np.flatnonzero(faculty == f) if int(i) not in client_set]
        for rank, i in enumerate(others):
            # Spread over the sector and over three rings, by rank (deterministic).
            angle = sector * (f + (rank + 0.5) / max(len(others), 1)) - math.pi / 2
            ring = 0.82 + 0.08 * (rank % 3)
            positions[i] = (ring * math.cos(angle), ring * math.sin(angle))
    return positions


def stable_layout(
    pictures: Sequence[WeekPicture],
    faculty: Sequence[int],
    clients: Sequence[int],
    seed: int = 0,
) -> dict[int, tuple[float, float]]:
    """One layout for a whole run: friends settle near the clients they befriend.

    The clients keep their places on the circle (:func:`faculty_layout`); the friends drawn in
    any week start from their faculty's sector and move by a spring layout (fixed seed) over
    the ties of all weeks at once, so nothing jumps while the replay plays.
    """
    start = faculty_layout(faculty, clients)
    union = nx.Graph()
    union.add_nodes_from(int(c) for c in clients)
    for picture in pictures:
        union.add_nodes_from(picture.context)
        for a, b, strength in picture.edges:
            old = union.get_edge_data(a, b, {"strength": 0.0})["strength"]
            union.add_edge(a, b, strength=max(old, strength))
    members = {int(c) for c in clients}
    fixed = [i for i in union if i in members]
    if len(fixed) == union.number_of_nodes():
        return start
    moved = nx.spring_layout(
        union,
        pos={i: start[i] for i in union},
        fixed=fixed,
        k=0.25,
        iterations=50,
        weight="strength",
        seed=seed,
    )
    positions = dict(start)
    for i, (x, y) in moved.items():
        if i in members:
            continue
        # Keep friends outside the group's ring and inside the frame.
        r = math.hypot(x, y)
        scale = min(max(r, 0.75), 1.05) / r if r > 0 else 1.0
        positions[int(i)] = (float(x * scale), float(y * scale))
    return positions


# ---------------------------------------------------------------------------------- drawing


def colour_of(value: float) -> str:
    """Viridis colour of a value in [0, 1] as #rrggbb."""
    v = min(max(float(value), 0.0), 1.0) * (len(_VIRIDIS) - 1)
    lo = int(math.floor(v))
    hi = min(lo + 1, len(_VIRIDIS) - 1)
    t = v - lo
    rgb = [round(_VIRIDIS[lo][c] + t * (_VIRIDIS[hi][c] - _VIRIDIS[lo][c])) for c in range(3)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def network_svg(
    picture: WeekPicture,
    positions: Mapping[int, tuple[float, float]],
    labels: Mapping[int, str],
    colour_by: str = "social_interaction",
    size: int = 460,
    highlight: int | None = None,
) -> str:
    """The group's network in one week as an SVG string.

    Node colour = `colour_by` (viridis, 0 to 1), node radius grows with self-disclosure, edge
    width with tie strength; clients carry their label, campus friends are small and faint.
    """
    # Wider than tall: the labels sit left and right of the ring.
    width = size + 200
    centre_x, half = width / 2, size / 2
    scale = half * 0.8

    def xy(i: int) -> tuple[float, float]:
        x, y = positions[i]
        return centre_x + scale * x, half + scale * y

    members = set(picture.clients)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {size + 34}" '
        f'width="{width}" height="{size + 34}" class="groupsim-network" '
        f'data-week="{picture.week}" data-colour-by="{escape(colour_by)}" '
        f'data-ties="{sum(1 for a, b, _ in picture.edges if a in members and b in members)}" '
        'font-family="sans-serif">',
        f'<rect width="{width}" height="{size + 34}" fill="white"/>',
    ]
    # Faint ties first, group ties on top.
    for a, b, strength in sorted(
        picture.edges, key=lambda e: (e[0] in members) + (e[1] in members)
    ):
        (x1, y1), (x2, y2) = xy(a), xy(b)
        in_group = a in members and b in members
        colour = "#37474f" if in_group else "#b0bec5"
        stroke = (0.6 + 5.5 * strength) if in_group else (0.3 + 1.5 * strength)
        opacity = 0.85 if in_group else 0.45
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="{stroke:.2f}" stroke-opacity="{opacity}" stroke-linecap="round">'
            f"<title>{escape(labels.get(a, str(a)))} – {escape(labels.get(b, str(b)))}: "
            f"tie strength {strength:.2f}</title></line>"
        )
    for i in picture.context:
        x, y = xy(i)
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour_of(picture.colour[i])}" '
            f'fill-opacity="0.45" stroke="none"><title>{escape(labels.get(i, str(i)))} '
            f"(campus friend)</title></circle>"
        )
    for i in picture.clients:
        x, y = xy(i)
        value = picture.colour[i]
        radius = 7 + 14 * picture.disclosure[i]
        ring = ' stroke="#d32f2f" stroke-width="3"' if i == highlight else ' stroke="#263238"'
        label = escape(labels.get(i, str(i)))
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{colour_of(value)}"{ring} '
            f'class="client" data-student="{i}" data-value="{value:.4f}" '
            f'data-disclosure="{picture.disclosure[i]:.4f}"><title>{label}: '
            f"{escape(COLOUR_STATES.get(colour_by, colour_by))} {value:.2f}, disclosure "
            f"{picture.disclosure[i]:.2f}</title></circle>"
        )
        # Label on the outside of the node, anchored away from the centre.
        dx, dy = x - centre_x, y - half
        norm = math.hypot(dx, dy) or 1.0
        lx, ly = x + (radius + 4) * dx / norm, y + (radius + 4) * dy / norm + 4
        anchor = "start" if dx > 5 else "end" if dx < -5 else "middle"
        out.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="11" text-anchor="{anchor}" '
            f'fill="#263238" paint-order="stroke" stroke="white" stroke-width="3">{label}</text>'
        )
    out.append(_colour_legend(colour_by, width, size))
    out.append("</svg>")
    return "".join(out)


def _colour_legend(colour_by: str, width: int, size: int) -> str:
    y = size + 8
    stops = "".join(
        f'<stop offset="{k / (len(_VIRIDIS) - 1):.3f}" stop-color="{colour_of(k / 8)}"/>'
        for k in range(len(_VIRIDIS))
    )
    name = escape(COLOUR_STATES.get(colour_by, colour_by))
    return (
        f'<defs><linearGradient id="viridis">{stops}</linearGradient></defs>'
        f'<text x="10" y="{y + 11}" font-size="11" fill="#263238">colour: {name}</text>'
        f'<text x="{width - 250}" y="{y + 11}" font-size="10" text-anchor="end">0</text>'
        f'<rect x="{width - 245}" y="{y + 2}" width="120" height="11" fill="url(#viridis)"/>'
        f'<text x="{width - 120}" y="{y + 11}" font-size="10">1 · size: disclosure</text>'
    )


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
        shown = f"{value:.2f}" if value == value else "–"
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
