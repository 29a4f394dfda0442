"""The tie store: all friendships of a cohort in sorted numpy arrays (ODD 2, Network).

A tie is an unordered pair (a, b), a < b, with a strength in (0, 1]. Pairs are kept sorted by
the key `a * n + b`, so looking up, strengthening or adding many ties at once is a
`searchsorted` and a merge, and a campus of 100,000 students costs a few arrays, not a
networkx graph. A compressed-row view (both directions) serves neighbour sampling; networkx
graphs are built on demand for snapshots, metrics and export (`to_networkx`).

Example:
    >>> import numpy as np
    >>> ties = TieStore(4)
    >>> ties.set(np.array([0, 2]), np.array([1, 1]), np.array([0.5, 0.2]))
    >>> ties.lookup(np.array([1, 0]), np.array([0, 3])).tolist()
    [0.5, 0.0]
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from groupsim.model import kernel

__all__ = ["TieStore"]


class TieStore:
    """Undirected weighted ties among `n` students."""

    def __init__(self, n: int):
        self.n = n
        self.keys = np.zeros(0, dtype=np.int64)
        self.strength = np.zeros(0, dtype=np.float64)
        self.used = np.zeros(0, dtype=bool)
        self._csr: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def of_pairs(cls, n: int, keys: np.ndarray, strength: np.ndarray) -> TieStore:
        """A store of the ties given as it keeps them (`screening.initial_ties`), none used yet.

        `keys`: distinct pair keys in ascending order; `strength`: each tie's, in (0, 1].
        """
        ties = cls(n)
        ties.keys, ties.strength = keys, strength
        ties.used = np.zeros(len(keys), dtype=bool)
        return ties

    # ------------------------------------------------------------------ keys and lookup

    def pair_keys(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The store's key of each pair: `min(a, b) * n + max(a, b)`."""
        lo = np.minimum(a, b).astype(np.int64)
        hi = np.maximum(a, b).astype(np.int64)
        return lo * self.n + hi

    def lookup(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Strength of each pair's tie (0 when there is none)."""
        keys = self.pair_keys(np.asarray(a), np.asarray(b))
        return kernel.lookup(self.keys, self.strength, keys)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def sources(self) -> np.ndarray:
        """Each tie's lower student id."""
        return self.keys // self.n

    @property
    def targets(self) -> np.ndarray:
        """Each tie's higher student id."""
        return self.keys % self.n

    # ------------------------------------------------------------------ changes

    def set(self, a: np.ndarray, b: np.ndarray, strength: np.ndarray, used: bool = False) -> None:
        """Set the strength of pairs (adding the new ones); pairs must be distinct.

        A pair set to 0 is removed: the store holds ties only (`kernel.set_pairs`).
        """
        keys = self.pair_keys(np.asarray(a), np.asarray(b))
        strength = np.asarray(strength, dtype=float)
        # The new pairs are merged in where they belong (`kernel.set_pairs`): one linear
        # pass, not a re-sort of the whole store.
        self.keys, self.strength, self.used = kernel.set_pairs(
            self.keys, self.strength, self.used, keys, strength, np.full(len(keys), used)
        )
        self._csr = None

    def changed(self) -> None:
        """Forget the compressed-row view after the arrays were changed in place."""
        self._csr = None

    def drop_weaker_than(self, floor: float) -> int:
        """Remove ties below the floor; returns how many."""
        keep = self.strength >= floor
        dropped = int((~keep).sum())
        if dropped:
            self.keys = self.keys[keep]
            self.strength = self.strength[keep]
            self.used = self.used[keep]
            self._csr = None
        return dropped

    def decay(self, rate: float, floor: float) -> int:
        """Close a week: unused ties decay (`mechanisms.decay_tie`), ties below the floor go.

        Every tie's `used` mark is cleared; returns how many ties were dropped.
        """
        before = len(self.keys)
        self.keys, self.strength, self.used = kernel.decay_ties(
            self.keys, self.strength, self.used, rate, floor
        )
        self._csr = None
        return before - len(self.keys)

    # ------------------------------------------------------------------ per student

    def strength_sums(self) -> np.ndarray:
        """Each student's summed tie strength (weighted degree)."""
        return kernel.strength_sums(self.keys, self.strength, self.n)

    def degrees(self) -> np.ndarray:
        """Each student's number of ties."""
        return np.bincount(self.sources, minlength=self.n) + np.bincount(
            self.targets, minlength=self.n
        )

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rows of neighbours: (indptr, neighbour, strength, cumulative strength)."""
        if self._csr is None:
            self._csr = kernel.build_csr(self.keys, self.strength, self.n)
        return self._csr

    def sample_neighbours(self, students: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each student, a friend drawn in proportion to tie strength (-1: no friends)."""
        indptr, cols, _, cumulative = self.csr()
        students = np.asarray(students, dtype=np.int64)
        return kernel.sample_neighbours(indptr, cols, cumulative, students, rng)

    def dense(self, members: np.ndarray) -> np.ndarray:
        """The k x k matrix of tie strengths among `members` (0 where no tie)."""
        members = np.asarray(members, dtype=np.int64)
        return kernel.dense(self.keys, self.strength, members, self.n)

    # ------------------------------------------------------------------ views

    def to_networkx(self, nodes: int | None = None) -> nx.Graph:
        """A networkx graph of all ties (edge attribute `strength`)."""
        graph = nx.Graph()
        graph.add_nodes_from(range(self.n if nodes is None else nodes))
        graph.add_weighted_edges_from(
            zip(self.sources.tolist(), self.targets.tolist(), self.strength.tolist(), strict=True),
            weight="strength",
        )
        return graph

    def copy(self) -> TieStore:
        """An independent copy of the store."""
        other = TieStore(self.n)
        other.keys = self.keys.copy()
        other.strength = self.strength.copy()
        other.used = self.used.copy()
        return other
