"""Where each student of the network picture stands: one position per student, all run long.

:func:`faculty_layout` gives each faculty a sector of the circle with the group's clients on
an inner ring; :func:`stable_layout` lets the friends drawn in any week settle near the clients
they befriend (one spring layout over all weeks), so nothing jumps while the weeks play. Both
feed :func:`groupsim.document.network.network_scene`.

Example:
    >>> positions = faculty_layout([0, 1, 0], [0, 1])
    >>> sorted(positions), [round(v, 2) for v in positions[0]]
    ([0, 1, 2], [0.0, -0.55])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from groupsim.document.network import WeekPicture

__all__ = ["faculty_layout", "stable_layout"]


def faculty_layout(
    faculty: Sequence[int] | np.ndarray, clients: Sequence[int] | np.ndarray, radius: float = 0.55
) -> dict[int, tuple[float, float]]:
    """A position for every student that never changes from week to week.

    Each faculty owns a sector of the circle; its clients sit on an inner ring (the group) and
    its other students on outer rings, so a friend on campus appears near the faculty they
    share and the picture stays put while ties come and go.
    """
    faculty = np.asarray(faculty)
    faculties = int(faculty.max()) + 1 if len(faculty) else 1
    client_set = {int(c) for c in clients}
    # Clients go round the circle in faculty order, evenly spaced, the first at the top.
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
    faculty: Sequence[int] | np.ndarray,
    clients: Sequence[int] | np.ndarray,
    seed: int = 0,
) -> dict[int, tuple[float, float]]:
    """One layout for a whole run: friends settle near the clients they befriend.

    The clients keep their places on the circle (:func:`faculty_layout`); the friends drawn in
    any week start from their faculty's sector and move by a spring layout (fixed seed) over
    the ties of all weeks at once, so nothing jumps while the weeks play.
    """
    import networkx as nx

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
