"""The tie store against a networkx reference (tests/network_reference.py).

Random sequences of operations (set, strengthen, decay and drop below the floor) are applied
to a `TieStore` and to a networkx graph by the reference functions; after each operation both
must hold the same ties with the same strengths, and agree on neighbours, degrees, strength
sums, the networkx view and the group measures.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import network_reference as net
from groupsim.model import mechanisms as mech
from groupsim.model import recording
from groupsim.model.ties import TieStore

N = 9  # students: small, so random pairs often meet the same tie again


def pairs_strategy(n: int = N):
    """Distinct unordered pairs of distinct students, given in either order."""
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    return st.lists(pair, max_size=12, unique_by=lambda p: (min(p), max(p)))


strength = st.floats(0.01, 1.5, allow_nan=False)

operation = st.one_of(
    st.tuples(
        st.just("set"),
        pairs_strategy(),
        st.lists(strength, min_size=12, max_size=12),
        st.booleans(),
    ),
    st.tuples(st.just("strengthen"), pairs_strategy(), st.floats(0.0, 1.0), st.integers(1, 3)),
    st.tuples(st.just("decay"), st.floats(0.0, 0.9), st.floats(0.0, 0.5)),
    st.tuples(st.just("drop"), st.floats(0.0, 0.8)),
)


def apply(store: TieStore, graph: nx.Graph, used: set[tuple[int, int]], op: tuple) -> None:
    """Apply one operation to the store and (through the reference functions) to the graph."""
    kind = op[0]
    if kind == "set":
        _, pairs, values, mark = op
        if not pairs:
            return
        a, b = (np.array(side) for side in zip(*pairs, strict=True))
        store.set(a, b, np.array(values[: len(pairs)]), used=mark)
        for (i, j), value in zip(pairs, values, strict=False):
            net.set_tie_strength(graph, i, j, value)
            if mark:
                used.add((min(i, j), max(i, j)))
    elif kind == "strengthen":  # a campus week's good exchanges: each pair `times` times
        _, pairs, gain, times = op
        if not pairs:
            return
        a, b = (np.array(side) for side in zip(*pairs, strict=True))
        value = np.asarray(mech.strengthen_tie(store.lookup(a, b), gain, times))
        grown = value > 0  # as the model: with no gain strangers stay strangers
        store.set(a[grown], b[grown], value[grown], used=True)
        for i, j in pairs:
            strength = float(mech.strengthen_tie(net.tie_strength(graph, i, j), gain, times))
            if strength > 0:
                net.set_tie_strength(graph, i, j, strength)
                used.add((min(i, j), max(i, j)))
    elif kind == "decay":  # the model's decay_week: unused ties weaken, then the week ends
        _, rate, floor = op
        store.decay(rate, floor)
        net.decay_unused_ties(graph, used, rate, floor)
        # The week's end drops every tie below the floor, a used one too (ODD 7.9); the
        # reference drops only the unused ones it decayed.
        graph.remove_edges_from([(i, j) for i, j, s in graph.edges(data="strength") if s < floor])
        used.clear()
    else:
        _, floor = op
        dropped = store.drop_weaker_than(floor)
        weak = [(i, j) for i, j, s in graph.edges(data="strength") if s < floor]
        graph.remove_edges_from(weak)
        used.difference_update((min(i, j), max(i, j)) for i, j in weak)  # a tie gone is unmarked
        assert dropped == len(weak)


def assert_same(store: TieStore, graph: nx.Graph, used: set[tuple[int, int]]) -> None:
    """The store and the reference graph hold the same network."""
    # Keys sorted and unique; each tie stored once, lower id first.
    assert np.all(np.diff(store.keys) > 0)
    assert np.all(store.sources < store.targets)
    assert len(store) == graph.number_of_edges()
    a, b = np.triu_indices(N, 1)
    expected = [net.tie_strength(graph, int(i), int(j)) for i, j in zip(a, b, strict=True)]
    assert store.lookup(a, b).tolist() == expected
    assert store.lookup(b, a).tolist() == expected  # either order
    assert {(int(i), int(j)) for i, j in zip(store.sources, store.targets, strict=True)} == {
        (min(i, j), max(i, j)) for i, j in graph.edges
    }
    marked = {
        (int(i), int(j))
        for i, j in zip(store.sources[store.used], store.targets[store.used], strict=True)
    }
    assert marked == {pair for pair in used if graph.has_edge(*pair)}
    assert store.degrees().tolist() == [graph.degree(i) for i in range(N)]
    np.testing.assert_allclose(store.strength_sums(), net.strength_sums(graph, N), rtol=1e-12)
    view = store.to_networkx()
    assert sorted(view.nodes) == list(range(N))
    assert nx.utils.edges_equal(view.edges, graph.edges)
    for i, j, s in graph.edges(data="strength"):
        assert view[i][j]["strength"] == s
    indptr, cols, weights, _ = store.csr()
    for i in range(N):
        row = cols[indptr[i] : indptr[i + 1]].tolist()
        assert sorted(row) == sorted(graph[i])
        assert weights[indptr[i] : indptr[i + 1]].tolist() == [graph[i][j]["strength"] for j in row]


@settings(max_examples=60, deadline=None)
@given(st.lists(operation, max_size=12))
def test_random_operations_agree_with_the_networkx_reference(ops):
    store, graph, used = TieStore(N), nx.Graph(), set()
    graph.add_nodes_from(range(N))
    for op in ops:
        apply(store, graph, used, op)
        assert_same(store, graph, used)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(pairs_strategy(), st.lists(strength, min_size=12, max_size=12)), max_size=3),
    st.lists(st.integers(0, N - 1), unique=True, max_size=N),
)
def test_group_measures_on_the_dense_matrix_agree_with_networkx(batches, members):
    store, graph, used = TieStore(N), nx.Graph(), set()
    graph.add_nodes_from(range(N))
    for pairs, values in batches:
        apply(store, graph, used, ("set", pairs, values, False))
    tie = store.dense(np.array(members, dtype=np.int64))
    assert np.array_equal(tie, tie.T)
    assert recording.density(tie) == pytest.approx(net.group_density(graph, members))
    assert recording.cohesion(tie) == pytest.approx(net.group_cohesion(graph, members))
    assert recording.isolates(tie) == net.group_isolates(graph, members)
    assert recording.clustering(tie) == pytest.approx(net.group_clustering(graph, members))


@settings(max_examples=40, deadline=None)
@given(
    pairs_strategy(),
    st.lists(strength, min_size=12, max_size=12),
    st.lists(st.integers(0, N - 1), max_size=20),
    st.integers(0, 2**32 - 1),
)
def test_sampled_neighbours_are_friends_or_none(pairs, values, students, seed):
    store, graph, used = TieStore(N), nx.Graph(), set()
    graph.add_nodes_from(range(N))
    apply(store, graph, used, ("set", pairs, values, False))
    drawn = store.sample_neighbours(np.array(students, dtype=np.int64), np.random.default_rng(seed))
    for student, friend in zip(students, drawn.tolist(), strict=True):
        if graph.degree(student) == 0:
            assert friend == -1
        else:
            assert graph.has_edge(student, friend)


def test_sampling_follows_tie_strength():
    """Student 0 has friends 1, 2, 3 with strengths 0.1, 0.3, 0.6: drawn in that proportion."""
    store = TieStore(4)
    store.set(np.array([0, 0, 0]), np.array([1, 2, 3]), np.array([0.1, 0.3, 0.6]))
    drawn = store.sample_neighbours(np.zeros(20_000, dtype=np.int64), np.random.default_rng(1))
    shares = np.bincount(drawn, minlength=4)[1:] / len(drawn)
    np.testing.assert_allclose(shares, [0.1, 0.3, 0.6], atol=0.015)


def test_set_clips_at_one_and_copy_is_independent():
    store = TieStore(3)
    store.set(np.array([2]), np.array([0]), np.array([1.7]))
    assert store.lookup(np.array([0]), np.array([2])).tolist() == [1.0]
    other = store.copy()
    other.set(np.array([0]), np.array([1]), np.array([0.4]))
    other.strength[:] = 0.2
    assert len(store) == 1
    assert store.strength.tolist() == [1.0]
    assert len(other) == 2
