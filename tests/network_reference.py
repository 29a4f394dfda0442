"""The friendship network: a weighted undirected networkx graph over all students.

Node = student id (0..n-1); edge attribute `strength` in (0, 1] is the tie strength. Ties
weaker than the floor are removed, so every edge present is a tie that counts (ODD 2, 7.9).
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

__all__ = [
    "decay_unused_ties",
    "edge_table",
    "group_clustering",
    "group_cohesion",
    "group_density",
    "group_isolates",
    "initial_network",
    "pick_campus_partner",
    "set_tie_strength",
    "strength_sums",
    "tie_strength",
]


def initial_network(
    faculty: np.ndarray, mean_ties: float, in_faculty_share: float, rng: np.random.Generator
) -> nx.Graph:
    """Random starting friendships: mostly inside faculties (homophily), some across.

    Each student draws Poisson(mean_ties / 2) ties it starts (so the mean degree is about
    `mean_ties`); a partner is a faculty mate with probability `in_faculty_share`, otherwise
    anyone. Strengths are uniform in [0.15, 0.6]: acquaintances to friends, no close ties yet.
    """
    n = len(faculty)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    members = {f: np.flatnonzero(faculty == f) for f in np.unique(faculty)}
    starts = rng.poisson(mean_ties / 2.0, size=n)
    for i in range(n):
        for _ in range(starts[i]):
            pool = members[faculty[i]] if rng.random() < in_faculty_share else None
            j = int(rng.choice(pool)) if pool is not None else int(rng.integers(n))
            if j != i and not graph.has_edge(i, j):
                graph.add_edge(i, j, strength=float(rng.uniform(0.15, 0.6)))
    return graph


def tie_strength(graph: nx.Graph, a: int, b: int) -> float:
    """Strength of the tie between a and b, 0 when there is none."""
    data = graph.get_edge_data(a, b)
    return 0.0 if data is None else data["strength"]


def set_tie_strength(graph: nx.Graph, a: int, b: int, strength: float) -> None:
    """Set a tie's strength, clipped to (0, 1]."""
    graph.add_edge(a, b, strength=float(min(1.0, strength)))


def decay_unused_ties(
    graph: nx.Graph, used: set[tuple[int, int]], rate: float, floor: float
) -> int:
    """Weaken every tie not used this week; drop those below the floor. Returns ties dropped."""
    dropped = []
    keep = 1.0 - rate
    for a, b, data in graph.edges(data=True):
        if (a, b) in used or (b, a) in used:
            continue
        data["strength"] *= keep
        if data["strength"] < floor:
            dropped.append((a, b))
    graph.remove_edges_from(dropped)
    return len(dropped)


def strength_sums(graph: nx.Graph, n: int) -> np.ndarray:
    """Each student's summed tie strength (weighted degree)."""
    sums = np.zeros(n)
    for node, value in graph.degree(weight="strength"):
        sums[node] = value
    return sums


def _pairs(members: list[int]) -> int:
    return len(members) * (len(members) - 1) // 2


def group_density(graph: nx.Graph, members: list[int]) -> float:
    """Share of member pairs that have a tie."""
    pairs = _pairs(members)
    return graph.subgraph(members).number_of_edges() / pairs if pairs else 0.0


def group_cohesion(graph: nx.Graph, members: list[int]) -> float:
    """Mean tie strength over all member pairs (a missing tie counts 0)."""
    pairs = _pairs(members)
    if not pairs:
        return 0.0
    total = sum(d["strength"] for _, _, d in graph.subgraph(members).edges(data=True))
    return total / pairs


def group_isolates(graph: nx.Graph, members: list[int]) -> int:
    """Members with no tie to any other member."""
    sub = graph.subgraph(members)
    return sum(1 for node in members if sub.degree(node) == 0)


def group_clustering(graph: nx.Graph, members: list[int]) -> float:
    """Average clustering (unweighted) of the members' own network."""
    if len(members) < 3:
        return 0.0
    return float(nx.average_clustering(graph.subgraph(members)))


def pick_campus_partner(
    graph: nx.Graph,
    student: int,
    channel: str,
    faculty_mates: np.ndarray,
    n: int,
    rng: np.random.Generator,
) -> int | None:
    """Who a student meets on campus through one channel (ODD 7.8).

    - `tie`: a friend, chosen in proportion to tie strength;
    - `closure`: a friend of a friend (a two-step walk by strength), triadic closure;
    - `faculty`: a faculty mate at random (homophily);
    - `anyone`: any student at random.
    Without friends, `tie` and `closure` fall back to a faculty mate. Returns None when the
    draw lands on the student themself.
    """
    if channel in ("tie", "closure"):
        friend = _friend_by_strength(graph, student, rng)
        if friend is None:
            channel = "faculty"
        elif channel == "tie":
            return friend
        else:
            partner = _friend_by_strength(graph, friend, rng)
            return None if partner is None or partner == student else partner
    if channel == "faculty":
        partner = int(faculty_mates[rng.integers(len(faculty_mates))])
    else:
        partner = int(rng.integers(n))
    return None if partner == student else partner


def _friend_by_strength(graph: nx.Graph, student: int, rng: np.random.Generator) -> int | None:
    neighbours = graph[student]
    if not neighbours:
        return None
    friends = list(neighbours)
    weights = np.fromiter((neighbours[f]["strength"] for f in friends), float, len(friends))
    return friends[int(np.searchsorted(np.cumsum(weights), rng.random() * weights.sum()))]


def edge_table(graph: nx.Graph, week: int) -> pd.DataFrame:
    """The network as an edge list for one week: week, source, target, strength."""
    edges: Iterable = graph.edges(data="strength")
    rows = [(week, min(a, b), max(a, b), s) for a, b, s in edges]
    frame = pd.DataFrame(rows, columns=["week", "source", "target", "strength"])
    return frame.astype({"week": "int64", "source": "int64", "target": "int64"})
