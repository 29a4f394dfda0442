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

__all__ = ["TieStore"]


class TieStore:
    """Undirected weighted ties among `n` students."""

    def __init__(self, n: int):
        self.n = n
        self.keys = np.zeros(0, dtype=np.int64)
        self.strength = np.zeros(0, dtype=np.float64)
        self.used = np.zeros(0, dtype=bool)
        self._csr: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ keys and lookup

    def pair_keys(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The store's key of each pair: `min(a, b) * n + max(a, b)`."""
        lo = np.minimum(a, b).astype(np.int64)
        hi = np.maximum(a, b).astype(np.int64)
        return lo * self.n + hi

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of keys in the store and whether each is present."""
        pos = np.searchsorted(self.keys, keys)
        found = pos < len(self.keys)
        found[found] = self.keys[pos[found]] == keys[found]
        return pos, found

    def lookup(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Strength of each pair's tie (0 when there is none)."""
        keys = self.pair_keys(np.asarray(a), np.asarray(b))
        pos, found = self._find(keys)
        out = np.zeros(len(keys))
        out[found] = self.strength[pos[found]]
        return out

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
        """Set the strength of pairs (adding the new ones); pairs must be distinct."""
        keys = self.pair_keys(np.asarray(a), np.asarray(b))
        strength = np.minimum(np.asarray(strength, dtype=float), 1.0)
        pos, found = self._find(keys)
        self.strength[pos[found]] = strength[found]
        if used:
            self.used[pos[found]] = True
        new = ~found
        if new.any():
            # Insert the new pairs where they belong: sort only the few new keys, then one
            # linear pass (np.insert) instead of re-sorting the whole store.
            order = np.argsort(keys[new], kind="stable")
            keys_new = keys[new][order]
            where = pos[new][order]
            self.keys = np.insert(self.keys, where, keys_new)
            self.strength = np.insert(self.strength, where, strength[new][order])
            self.used = np.insert(self.used, where, used)
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

    def end_week(self, floor: float) -> int:
        """Close a week: drop ties below the floor and clear the `used` marks.

        Returns how many ties were dropped. (The decay itself is `mechanisms.decay_tie`,
        applied by the model to the unused ties first.)
        """
        self.used[:] = False
        self._csr = None
        return self.drop_weaker_than(floor)

    # ------------------------------------------------------------------ per student

    def strength_sums(self) -> np.ndarray:
        """Each student's summed tie strength (weighted degree)."""
        return np.bincount(self.sources, self.strength, self.n) + np.bincount(
            self.targets, self.strength, self.n
        )

    def degrees(self) -> np.ndarray:
        """Each student's number of ties."""
        return np.bincount(self.sources, minlength=self.n) + np.bincount(
            self.targets, minlength=self.n
        )

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rows of neighbours: (indptr, neighbour, strength, cumulative strength)."""
        if self._csr is None:
            from scipy import sparse

            src, dst = self.sources, self.targets
            # scipy's COO -> CSR conversion is a linear-time counting sort by row.
            matrix = sparse.csr_matrix(
                (
                    np.concatenate([self.strength, self.strength]),
                    (np.concatenate([src, dst]), np.concatenate([dst, src])),
                ),
                shape=(self.n, self.n),
            )
            indptr = matrix.indptr.astype(np.int64)
            cols = matrix.indices.astype(np.int64)
            self._csr = (indptr, cols, matrix.data, np.cumsum(matrix.data))
        return self._csr

    def sample_neighbours(self, students: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each student, a friend drawn in proportion to tie strength (-1: no friends)."""
        indptr, cols, _, cumulative = self.csr()
        students = np.asarray(students, dtype=np.int64)
        start, stop = indptr[students], indptr[students + 1]
        has = stop > start
        out = np.full(len(students), -1, dtype=np.int64)
        if not has.any():
            return out
        before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
        total = cumulative[np.maximum(stop - 1, 0)] - before
        target = before + rng.random(len(students)) * total
        pos = np.searchsorted(cumulative, target, side="right")
        pos = np.clip(pos, start, np.maximum(stop - 1, start))  # guard float round-off
        out[has] = cols[pos[has]]
        return out

    def dense(self, members: np.ndarray) -> np.ndarray:
        """The k x k matrix of tie strengths among `members` (0 where no tie)."""
        members = np.asarray(members, dtype=np.int64)
        k = len(members)
        a, b = np.triu_indices(k, 1)
        values = self.lookup(members[a], members[b])
        matrix = np.zeros((k, k))
        matrix[a, b] = values
        matrix[b, a] = values
        return matrix

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
