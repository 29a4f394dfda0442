"""Network helpers on small hand-made graphs."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import network_reference as net


def _graph(edges, n=5):
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for a, b, s in edges:
        graph.add_edge(a, b, strength=s)
    return graph


def test_group_density_cohesion_isolates_on_a_hand_made_graph():
    # Members 0..3: ties 0-1 (0.5) and 1-2 (0.3); 3 is alone in the group; 4 is an outsider
    # tied to 3, which must not count.
    graph = _graph([(0, 1, 0.5), (1, 2, 0.3), (3, 4, 0.9)])
    members = [0, 1, 2, 3]
    assert net.group_density(graph, members) == pytest.approx(2 / 6)
    assert net.group_cohesion(graph, members) == pytest.approx(0.8 / 6)
    assert net.group_isolates(graph, members) == 1
    assert net.group_clustering(graph, members) == pytest.approx(0.0)


def test_group_measures_complete_and_empty_groups():
    complete = _graph([(a, b, 1.0) for a in range(4) for b in range(a + 1, 4)], n=4)
    assert net.group_density(complete, [0, 1, 2, 3]) == pytest.approx(1.0)
    assert net.group_cohesion(complete, [0, 1, 2, 3]) == pytest.approx(1.0)
    assert net.group_isolates(complete, [0, 1, 2, 3]) == 0
    assert net.group_clustering(complete, [0, 1, 2, 3]) == pytest.approx(1.0)
    empty = _graph([], n=4)
    assert net.group_density(empty, [0, 1, 2, 3]) == 0.0
    assert net.group_cohesion(empty, [0, 1, 2, 3]) == 0.0
    assert net.group_isolates(empty, [0, 1, 2, 3]) == 4
    # Degenerate groups do not divide by zero.
    assert net.group_density(empty, [0]) == 0.0
    assert net.group_cohesion(empty, []) == 0.0
    assert net.group_clustering(empty, [0, 1]) == 0.0


def test_tie_strength_and_set_tie_strength_clip_at_one():
    graph = _graph([(0, 1, 0.4)])
    assert net.tie_strength(graph, 0, 1) == 0.4
    assert net.tie_strength(graph, 1, 0) == 0.4
    assert net.tie_strength(graph, 0, 2) == 0.0
    net.set_tie_strength(graph, 0, 2, 1.7)
    assert net.tie_strength(graph, 2, 0) == 1.0
    net.set_tie_strength(graph, 0, 1, 0.6)
    assert net.tie_strength(graph, 0, 1) == 0.6


def test_decay_unused_ties_weakens_drops_below_floor_and_spares_used():
    graph = _graph([(0, 1, 0.5), (1, 2, 0.055), (2, 3, 0.055), (3, 4, 0.9)])
    dropped = net.decay_unused_ties(graph, {(3, 2)}, rate=0.2, floor=0.05)
    assert dropped == 1
    assert not graph.has_edge(1, 2)  # 0.055 * 0.8 = 0.044 < floor
    assert graph.has_edge(2, 3)  # used (in either order): spared, unchanged
    assert net.tie_strength(graph, 2, 3) == pytest.approx(0.055)
    assert net.tie_strength(graph, 0, 1) == pytest.approx(0.4)
    assert net.tie_strength(graph, 3, 4) == pytest.approx(0.72)
    assert graph.number_of_nodes() == 5  # students are never dropped
    # No decay: nothing changes.
    assert net.decay_unused_ties(graph, set(), rate=0.0, floor=0.05) == 0
    assert net.tie_strength(graph, 0, 1) == pytest.approx(0.4)


def test_strength_sums_are_weighted_degrees():
    graph = _graph([(0, 1, 0.5), (1, 2, 0.25)])
    assert np.allclose(net.strength_sums(graph, 5), [0.5, 0.75, 0.25, 0.0, 0.0])


def test_initial_network_homophily_and_strengths():
    faculty = np.repeat(np.arange(4), 30)
    graph = net.initial_network(faculty, 8.0, 0.8, np.random.default_rng(1))
    assert graph.number_of_nodes() == 120
    strengths = np.array([s for _, _, s in graph.edges(data="strength")])
    assert np.all((strengths >= 0.15) & (strengths <= 0.6))
    assert not any(a == b for a, b in graph.edges())
    inside = np.mean([faculty[a] == faculty[b] for a, b in graph.edges()])
    assert inside > 0.6  # mostly within faculties (chance alone: about a quarter)
    mean_degree = 2 * graph.number_of_edges() / 120
    assert 5.0 < mean_degree < 9.0
    again = net.initial_network(faculty, 8.0, 0.8, np.random.default_rng(1))
    assert nx.utils.edges_equal(graph.edges(data=True), again.edges(data=True))


def test_pick_campus_partner_channels():
    graph = _graph([(0, 1, 1.0), (1, 2, 1.0)], n=6)
    mates = np.array([0, 3, 4])
    rng = np.random.default_rng(0)
    assert {net.pick_campus_partner(graph, 0, "tie", mates, 6, rng) for _ in range(20)} == {1}
    # Friend of a friend: 0 -> 1 -> (0 or 2); returning to oneself gives None.
    closure = {net.pick_campus_partner(graph, 0, "closure", mates, 6, rng) for _ in range(50)}
    assert closure == {2, None}
    faculty = {net.pick_campus_partner(graph, 0, "faculty", mates, 6, rng) for _ in range(50)}
    assert faculty <= {3, 4, None}
    assert {3, 4} <= faculty
    # Without friends, a tie falls back to a faculty mate.
    lonely = {net.pick_campus_partner(graph, 3, "tie", mates, 6, rng) for _ in range(50)}
    assert lonely <= {0, 4, None}
    anyone = {net.pick_campus_partner(graph, 0, "anyone", mates, 6, rng) for _ in range(200)}
    assert anyone == {1, 2, 3, 4, 5, None}


def test_edge_table_one_row_per_tie_smaller_id_first():
    graph = _graph([(3, 1, 0.5), (0, 4, 0.25)])
    table = net.edge_table(graph, 7)
    assert list(table.columns) == ["week", "source", "target", "strength"]
    assert len(table) == 2
    assert (table["week"] == 7).all()
    assert (table["source"] < table["target"]).all()
    assert str(table["source"].dtype) == "int64"
    empty = net.edge_table(_graph([]), 0)
    assert list(empty.columns) == ["week", "source", "target", "strength"]
    assert empty.empty


def test_model_group_metrics_agree_with_the_networkx_reference(small_result):
    """The model computes group metrics on dense arrays; they must equal these helpers on the
    final networkx graph."""
    graph = small_result.network
    members = [int(i) for i in small_result.questionnaire["student_id"]]
    last = small_result.weekly.iloc[-1]
    assert last["group_density"] == pytest.approx(net.group_density(graph, members))
    assert last["group_cohesion"] == pytest.approx(net.group_cohesion(graph, members))
    assert last["group_isolates"] == net.group_isolates(graph, members)
    assert last["group_clustering"] == pytest.approx(net.group_clustering(graph, members))
    assert last["campus_ties"] == graph.number_of_edges()
    assert last["campus_density"] == pytest.approx(nx.density(graph))
    # A small cohort is sampled whole, so campus clustering is networkx's average clustering.
    assert last["campus_clustering"] == pytest.approx(nx.average_clustering(graph))
    n = graph.number_of_nodes()
    students = small_result.students
    final = students[students["week"] == students["week"].max()].sort_values("student_id")
    assert np.allclose(final["tie_strength_sum"], net.strength_sums(graph, n))
    assert list(final["degree"]) == [graph.degree(i) for i in range(n)]
