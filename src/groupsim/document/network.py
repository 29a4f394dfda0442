"""The counseling group's network picture, computed once: who is drawn, where, how big, what colour.

One geometry serves every picture of the group: the teaching page and the replay (SVG), the
comparison report's network figure and the slide animation (matplotlib), drawn by
:mod:`groupsim.document.network_draw`. The inputs are plain tables and arrays (a run's
student and tie tables, or a live model's arrays), so nothing here imports Mesa.

- :class:`WeekPicture`: what one week shows (members, friends, ties, a state per student);
- :func:`faculty_layout` and :func:`stable_layout`: a position per student that never moves;
- :func:`network_scene`: nodes and edges with their coordinates, radii, colours and labels,
  in layout units (a frame of about -1.05 to 1.05; y grows downwards, as in SVG).

Example:
    >>> picture = WeekPicture(week=2, clients=(0, 1), context=(2,),
    ...                       colour={0: 0.0, 1: 1.0, 2: 0.5}, disclosure={0: 0.0, 1: 1.0, 2: 0.0},
    ...                       edges=((0, 1, 0.5), (1, 2, 0.2)))
    >>> scene = network_scene(picture, faculty_layout([0, 1, 0], [0, 1]), {0: "A", 1: "B"})
    >>> [(node.label, node.fill) for node in scene.nodes]
    [('', '#21908d'), ('A', '#440154'), ('B', '#fde725')]
    >>> scene.group_ties, scene.density
    (1, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from groupsim.document.layout import faculty_layout, stable_layout

__all__ = [
    "COLOUR_STATES",
    "PIXEL",
    "VIRIDIS",
    "Edge",
    "NetworkScene",
    "NetworkTexts",
    "Node",
    "WeekPicture",
    "colour_of",
    "faculty_layout",
    "network_scene",
    "picture_from_model",
    "pictures_from_result",
    "stable_layout",
    "student_labels",
    "tie_width",
]

#: States a node can be coloured by (student-table column -> words shown to the reader).
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

#: Viridis at 9 stops: low values dark purple, high values yellow (perceptually uniform, and
#: legible when printed in grey). Every picture interpolates these, so colours agree.
VIRIDIS = (
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

#: One pixel of the reference drawing in layout units: a 380-pixel frame maps 1 layout unit
#: to 152 pixels. Sizes are given in these pixels and scale with the drawing.
PIXEL = 1 / 152

GROUP_TIE = "#37474f"
CAMPUS_TIE = "#b0bec5"
NODE_EDGE = "#263238"
HIGHLIGHT = "#d32f2f"


# ---------------------------------------------------------------------------------- words


@dataclass(frozen=True)
class NetworkTexts:
    """The words inside a picture (tooltips, legend), so a caller can give another language.

    Templates are filled with str.format: `node` with label, state, value, disclosure;
    `friend` with label; `tie` with a, b, strength; `colour_legend` with state.
    """

    states: Mapping[str, str] = field(default_factory=lambda: dict(COLOUR_STATES))
    node: str = "{label}: {state} {value:.2f}, disclosure {disclosure:.2f}"
    friend: str = "{label} (campus friend)"
    tie: str = "{a} \N{EN DASH} {b}: tie strength {strength:.2f}"
    colour_legend: str = "colour: {state}"
    size_legend: str = "1 · size: disclosure"

    def state(self, name: str) -> str:
        """A state's name in these words."""
        return self.states.get(name, COLOUR_STATES.get(name, name))


ENGLISH = NetworkTexts()


# ---------------------------------------------------------------------------------- weeks


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
    result: Any,
    colour_by: str = "social_interaction",
    context: bool = True,
    weeks: Collection[int] | None = None,
) -> list[WeekPicture]:
    """Every recorded week of a :class:`~groupsim.RunResult` (needs its students and ties).

    With `weeks`, only those of them (a report's four snapshots of a 40-week run).
    """
    students = result.students
    if students.empty:
        raise ValueError("the run has no student table; run it with record_students=True")
    clients = result.questionnaire["student_id"].to_numpy()
    n = int(students["student_id"].max()) + 1
    if weeks is not None:
        students = students[students["week"].isin(list(weeks))]
    ties_by_week = dict(tuple(result.ties.groupby("week"))) if not result.ties.empty else {}
    pictures = []
    for week, rows in students.groupby("week", sort=True):
        order = rows["student_id"].to_numpy()
        colour_values = np.zeros(n)
        disclosure_values = np.zeros(n)
        colour_values[order] = rows[colour_by].to_numpy()
        disclosure_values[order] = rows["disclosure"].to_numpy()
        edges = []
        if week in ties_by_week:  # no rows: no ties that week
            ties = ties_by_week[week]
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


# ---------------------------------------------------------------------------------- scene


def colour_of(value: float) -> str:
    """Viridis colour of a value in [0, 1] as #rrggbb (values outside are clamped)."""
    v = min(max(float(value), 0.0), 1.0) * (len(VIRIDIS) - 1)
    lo = math.floor(v)
    hi = min(lo + 1, len(VIRIDIS) - 1)
    t = v - lo
    rgb = [round(VIRIDIS[lo][c] + t * (VIRIDIS[hi][c] - VIRIDIS[lo][c])) for c in range(3)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@dataclass(frozen=True)
class Node:
    """A drawn student: a disc with a label outside it (layout units; y grows downwards).

    Attributes:
        student: the student's id.
        client: a member of the group (else a campus friend, drawn small and faint).
        x, y, radius: the disc.
        fill: its colour; value: the state it shows; disclosure: what sets the radius.
        stroke, stroke_width: its outline ("" for none).
        opacity: of the fill.
        label: text beside the disc ("" for none), anchored at (label_x, label_y) on its
            "start", "middle" or "end" (away from the picture's centre).
        title: the tooltip.
        opened: the client has opened up (disclosure at the threshold): drawn with a ring.
    """

    student: int
    client: bool
    x: float
    y: float
    radius: float
    fill: str
    value: float
    disclosure: float
    stroke: str
    stroke_width: float
    opacity: float
    label: str
    label_x: float
    label_y: float
    anchor: str
    title: str
    opened: bool = False


@dataclass(frozen=True)
class Edge:
    """A drawn tie: a line from (x1, y1) to (x2, y2), `width` in layout units."""

    source: int
    target: int
    x1: float
    y1: float
    x2: float
    y2: float
    strength: float
    in_group: bool
    width: float
    colour: str
    opacity: float
    title: str


@dataclass(frozen=True)
class NetworkScene:
    """Everything a renderer needs for one week's picture, in drawing order.

    Attributes:
        week: the week shown.
        colour_by: the state that colours the nodes (a key of `COLOUR_STATES` or a column).
        edges: campus ties first, the group's ties on top.
        nodes: campus friends first, then the clients.
        texts: the words of its legend.
    """

    week: int
    colour_by: str
    edges: tuple[Edge, ...]
    nodes: tuple[Node, ...]
    texts: NetworkTexts = ENGLISH

    @property
    def clients(self) -> tuple[Node, ...]:
        """The group's members."""
        return tuple(node for node in self.nodes if node.client)

    @property
    def group_ties(self) -> int:
        """Ties between two members of the group."""
        return sum(1 for edge in self.edges if edge.in_group)

    @property
    def density(self) -> float:
        """Share of client pairs tied (NaN for fewer than two clients)."""
        k = len(self.clients)
        return self.group_ties / (k * (k - 1) / 2) if k > 1 else math.nan

    @property
    def colour_name(self) -> str:
        """The coloured state in words."""
        return self.texts.state(self.colour_by)

    @property
    def opened(self) -> tuple[Node, ...]:
        """The clients who have opened up."""
        return tuple(node for node in self.clients if node.opened)


def tie_width(strength: float, in_group: bool = True) -> float:
    """Drawn width of a tie in layout units: the group's ties wide, campus ties thin."""
    return ((0.6 + 5.5 * strength) if in_group else (0.3 + 1.5 * strength)) * PIXEL


def _edge(
    a: int,
    b: int,
    strength: float,
    in_group: bool,
    positions: Mapping[int, tuple[float, float]],
    labels: Mapping[int, str],
    texts: NetworkTexts = ENGLISH,
) -> Edge:
    (x1, y1), (x2, y2) = positions[a], positions[b]
    return Edge(
        source=a,
        target=b,
        x1=x1,
        y1=y1,
        x2=x2,
        y2=y2,
        strength=strength,
        in_group=in_group,
        # The group's ties carry the story: wide and dark; campus ties stay in the background.
        width=tie_width(strength, in_group),
        colour=GROUP_TIE if in_group else CAMPUS_TIE,
        opacity=0.85 if in_group else 0.45,
        title=texts.tie.format(a=labels.get(a, str(a)), b=labels.get(b, str(b)), strength=strength),
    )


def _friend(
    i: int,
    picture: WeekPicture,
    positions: Mapping[int, tuple[float, float]],
    labels: Mapping[int, str],
    texts: NetworkTexts = ENGLISH,
) -> Node:
    x, y = positions[i]
    value = picture.colour[i]
    return Node(
        student=i,
        client=False,
        x=x,
        y=y,
        radius=3 * PIXEL,
        fill=colour_of(value),
        value=value,
        disclosure=picture.disclosure[i],
        stroke="",
        stroke_width=0.0,
        opacity=0.45,
        label="",
        label_x=x,
        label_y=y,
        anchor="middle",
        title=texts.friend.format(label=labels.get(i, str(i))),
    )


def _client(
    i: int,
    picture: WeekPicture,
    positions: Mapping[int, tuple[float, float]],
    labels: Mapping[int, str],
    colour_by: str,
    highlight: int | None,
    texts: NetworkTexts = ENGLISH,
    threshold: float | None = None,
) -> Node:
    x, y = positions[i]
    value, disclosure = picture.colour[i], picture.disclosure[i]
    radius = (7 + 14 * disclosure) * PIXEL
    # The label sits outside the disc, on the ray from the centre, anchored away from it.
    norm = math.hypot(x, y) or 1.0
    gap = radius + 4 * PIXEL
    anchor = "start" if x > 5 * PIXEL else "end" if x < -5 * PIXEL else "middle"
    label = labels.get(i, str(i))
    return Node(
        student=i,
        client=True,
        x=x,
        y=y,
        radius=radius,
        fill=colour_of(value),
        value=value,
        disclosure=disclosure,
        stroke=HIGHLIGHT if i == highlight else NODE_EDGE,
        stroke_width=(3 if i == highlight else 1) * PIXEL,
        opacity=1.0,
        label=label,
        label_x=x + gap * x / norm,
        label_y=y + gap * y / norm,
        anchor=anchor,
        title=texts.node.format(
            label=label, state=texts.state(colour_by), value=value, disclosure=disclosure
        ),
        opened=threshold is not None and disclosure >= threshold,
    )


def network_scene(
    picture: WeekPicture,
    positions: Mapping[int, tuple[float, float]],
    labels: Mapping[int, str],
    colour_by: str = "social_interaction",
    highlight: int | None = None,
    texts: NetworkTexts = ENGLISH,
    threshold: float | None = None,
) -> NetworkScene:
    """The picture of one week, ready to draw.

    Node colour = `colour_by` (viridis, 0 to 1), node radius grows with self-disclosure, edge
    width with tie strength; clients carry their label (`labels`, default the id), campus
    friends are small and faint; `highlight` rings one client in red; with a `threshold`
    the clients whose disclosure reached it are marked as having opened up. `texts` gives
    the tooltips and legend in another language.
    """
    members = set(picture.clients)
    edges = [
        _edge(a, b, s, a in members and b in members, positions, labels, texts)
        for a, b, s in picture.edges
    ]
    edges.sort(key=lambda edge: edge.in_group)  # stable: faint ties first, group ties on top
    nodes = [_friend(i, picture, positions, labels, texts) for i in picture.context]
    nodes += [
        _client(i, picture, positions, labels, colour_by, highlight, texts, threshold)
        for i in picture.clients
    ]
    return NetworkScene(picture.week, colour_by, tuple(edges), tuple(nodes), texts)
