"""The compiled fast path: the mechanisms of ODD 7 and the tie store's loops, through numba.

A default run is a few thousand small steps on arrays of 9 to 180 students; run as numpy calls
its time went into call overhead, not arithmetic. The fast path compiles the weekly process
with numba (`numba.njit`), and the mechanisms it runs are the very functions of
`groupsim.model.mechanisms`, compiled: `kernel.exchange_success_probability.py_func is
mechanisms.exchange_success_probability` (a test checks every one). There is no second copy
of a mechanism to drift. The weekly measurement's `measures.update_contact_rate` and
`measures.social_interaction_score` are compiled the same way (`MEASURES_COMPILED`).

Compiled code is cached on disk (`cache=True`, in `__pycache__` next to each module, or in
`NUMBA_CACHE_DIR`), so only the first run after installing or changing the code pays the
compile time (`benchmarks/bench_run.py --compile` reports it). The cache is stamped with all
of the model's source files (`sources_stamp`, in `groupsim.model.compiling`), so changing
a mechanism recompiles every loop that runs it.

Random numbers come from the run's own `numpy.random.Generator` streams, passed into the
compiled code: numba draws from the Generator's bit generator with numpy's algorithms, so a
seed gives the same numbers, and the same run, on every backend. The campus week, called with
its Generator every week, takes it as a `RandomStream`: the same Generator, handed over in a
tenth of the time.

The tie store's arrays (`TieStore.keys`, `strength`, `used`, sorted by pair key) are shared:
`find`, `set_pairs`, `build_csr`, `sample_neighbours`, `decay_ties` and `strength_sums` here
are its loops. The loops of a week are in `groupsim.model.session_kernel`, `campus` and `weekly`
(decay, measurement, and the burn-in's weeks in one call).
"""

from __future__ import annotations

from functools import cache
from typing import Any, get_type_hints

import numpy as np
from numba import types
from numba.experimental import structref
from numba.extending import overload, register_jitable
from numba.np.random.distributions import random_loggam

from groupsim.model import measures
from groupsim.model import mechanisms as mech
from groupsim.model.compiling import (  # re-exported: one import for the model's loops
    SOURCES_STAMP,
    compile_options,
    compiled,
    sources_stamp,
)

__all__ = [
    "COMPILED",
    "MEASURES_COMPILED",
    "RANDOM_STREAM",
    "SOURCES_STAMP",
    "RandomStream",
    "RandomStreamType",
    "build_csr",
    "compile_options",
    "compiled",
    "decay_ties",
    "dense",
    "find",
    "find_pairs",
    "generator_of",
    "lookup",
    "lower_students",
    "merge_new_pairs",
    "pair_key",
    "parameter_record",
    "poisson_draws",
    "poisson_ptrs",
    "random_stream",
    "row_starts",
    "sample_neighbours",
    "search_left",
    "search_right",
    "set_found_pairs",
    "set_pairs",
    "sources_stamp",
    "strength_sums",
]


# Every mechanism may call another (most call `logistic`): registering them lets numba
# compile those calls. The functions themselves are unchanged (plain Python when called
# from Python).
for _name in mech.__all__:
    register_jitable(getattr(mech, _name))
register_jitable(measures.score_terms)

#: The mechanisms the fast path runs, compiled from the functions of `mechanisms` themselves.
COMPILED_NAMES = (
    "attendance_probability",
    "bounded_confidence",
    "bounded_confidence_heard",
    "climate_target",
    "confidence_bound",
    "decay_tie",
    "disclosure_depth",
    "drift_toward",
    "engagement_probability",
    "exchange_success_probability",
    "facilitate",
    "felt_climate",
    "grow_rapport",
    "learning_weight",
    "open_up",
    "partner_weights",
    "practice_skill",
    "psychoeducation",
    "relieve_anxiety",
    "resolve_from",
    "sting_anxiety",
    "strengthen_tie",
    "tension_target",
    "update_climate",
    "update_tension",
    "weaken_tie",
    "withdraw",
)
COMPILED = {name: compiled(getattr(mech, name)) for name in COMPILED_NAMES}

attendance_probability = COMPILED["attendance_probability"]
bounded_confidence = COMPILED["bounded_confidence"]
bounded_confidence_heard = COMPILED["bounded_confidence_heard"]
climate_target = COMPILED["climate_target"]
confidence_bound = COMPILED["confidence_bound"]
decay_tie = COMPILED["decay_tie"]
drift_toward = COMPILED["drift_toward"]
disclosure_depth = COMPILED["disclosure_depth"]
engagement_probability = COMPILED["engagement_probability"]
exchange_success_probability = COMPILED["exchange_success_probability"]
facilitate = COMPILED["facilitate"]
felt_climate = COMPILED["felt_climate"]
grow_rapport = COMPILED["grow_rapport"]
learning_weight = COMPILED["learning_weight"]
open_up = COMPILED["open_up"]
partner_weights = COMPILED["partner_weights"]
practice_skill = COMPILED["practice_skill"]
psychoeducation = COMPILED["psychoeducation"]
relieve_anxiety = COMPILED["relieve_anxiety"]
resolve_from = COMPILED["resolve_from"]
sting_anxiety = COMPILED["sting_anxiety"]
strengthen_tie = COMPILED["strengthen_tie"]
tension_target = COMPILED["tension_target"]
update_climate = COMPILED["update_climate"]
update_tension = COMPILED["update_tension"]
weaken_tie = COMPILED["weaken_tie"]
withdraw = COMPILED["withdraw"]

#: The weekly measurement's functions (ODD 7.10), compiled from `measures` themselves.
MEASURES_COMPILED = {
    name: compiled(getattr(measures, name))
    for name in ("social_interaction_score", "update_contact_rate")
}
social_interaction_score = MEASURES_COMPILED["social_interaction_score"]
update_contact_rate = MEASURES_COMPILED["update_contact_rate"]

#: Mechanisms and measures that Python code calls (screening, a data cohort), compiled so that
#: their exp, log and tanh are the C library's: numpy's differ in the last bit between CPUs
#: (AVX-512, AVX2), and a seed would give another run on another machine (docs/reliability.md).
CALLED_FROM_PYTHON = {
    "counselor_trait": compiled(mech.counselor_trait),
    "score_terms": compiled(measures.score_terms),
}
counselor_trait = CALLED_FROM_PYTHON["counselor_trait"]
score_terms = CALLED_FROM_PYTHON["score_terms"]


# ---------------------------------------------------------------------- parameters


def parameter_record(values: tuple[Any, ...]) -> np.ndarray:
    """A NamedTuple of parameters as a one-element numpy record array, as compiled code takes it.

    Compiled code reads the record in place (`p = params[0]`, then `p.climate`, ...): numba
    unboxes a record array in ~1 us, a NamedTuple field by field (~3 us for 9 numbers, ~5 us
    for campus life's 21, ~8 us for a session's 44), and the weekly process hands its
    parameters over some forty times a run. The fields' types come from the NamedTuple's
    annotations (`int`: int64, `float`: float64, an array: float64 of the value's shape), so
    every scenario gives the same record type and the compiled code is compiled once.
    """
    shapes = tuple(value.shape for value in values if isinstance(value, np.ndarray))
    record = np.zeros(1, dtype=_record_dtype(type(values), shapes))
    record[0] = tuple(values)
    return record


@cache
def _record_dtype(kind: type, shapes: tuple[tuple[int, ...], ...]) -> np.dtype:
    """The record type of NamedTuple class `kind` whose array fields have `shapes`, in order.

    Made once per class: reading the annotations (`get_type_hints`) costs ~100 us.
    """
    hints = get_type_hints(kind)
    scalars = {int: np.int64, float: np.float64}
    array_shapes = iter(shapes)
    return np.dtype(
        [
            (name, np.float64, next(array_shapes)) if hints[name] is np.ndarray
            else (name, scalars[hints[name]])
            for name in kind._fields  # type: ignore[attr-defined]
        ]
    )  # fmt: skip


# ---------------------------------------------------------------------- random streams


@structref.register
class RandomStreamType(types.StructRef):
    """numba's type of a `RandomStream`: a struct of one field, `rng`, a numpy Generator."""


class RandomStream(structref.StructRefProxy):
    """A numpy Generator that compiled code takes in ~2 us, not ~20 (`random_stream`).

    numba unboxes a Generator anew on every call into compiled code: it looks the bit
    generator's functions up through Python's `ctypes.cast`, ~20 us a call, and a run's
    campus week is called with one every week. A stream holds the Generator, unboxed once,
    and compiled code draws from that very Generator (`generator_of`): the same numbers, and
    the same state afterwards, as drawing from the Generator itself, in Python or compiled.
    """

    @property
    def generator(self) -> np.random.Generator:
        """The Generator this stream draws from (the same object)."""
        return _stream_generator(self)


structref.define_boxing(RandomStreamType, RandomStream)
RANDOM_STREAM = RandomStreamType([("rng", types.NumPyRandomGeneratorType("rng"))])


@compiled
def random_stream(rng: Any) -> Any:
    """`rng`, a numpy Generator, as a `RandomStream` (which keeps it alive)."""
    # An intrinsic: compiled code calls it with the type alone (mypy sees its typing form).
    stream: Any = structref.new(RANDOM_STREAM)  # type: ignore[call-arg]
    stream.rng = rng
    return stream


@compiled
def _stream_generator(stream: Any) -> Any:
    return stream.rng


def generator_of(rng: Any) -> Any:
    """The Generator to draw from: `rng` itself, or a `RandomStream`'s (also compiled).

    A compiled loop that may be given either calls it first (`campus.campus_week`).
    """
    return rng.generator if isinstance(rng, RandomStream) else rng


@overload(generator_of)
def _generator_of(rng: Any) -> Any:
    def of_stream(rng: Any) -> Any:
        return rng.rng

    def itself(rng: Any) -> Any:
        return rng

    return of_stream if isinstance(rng, RandomStreamType) else itself


@compiled
def poisson_draws(rng: np.random.Generator, lam: float, size: int) -> np.ndarray:
    """`rng.poisson(lam, size)`: numpy's very numbers, drawn by numpy's algorithms.

    numba's own `Generator.poisson` is not numpy's from a mean of 10: it rounds the
    candidate of numpy's transformed rejection (PTRS, Hormann 1993) toward zero where numpy
    takes the floor, so a candidate in (-1, 0) that numpy rejects comes out as 0 (and the
    stream runs on differently): at a mean of 10 about one draw in 20,000 (the first
    difference at the 13,883rd draw, median of 50 seeds), at 15 in two seeds of 50 within
    200,000 draws, at 30 none (2026-12-02, numba 0.68.1). A scenario may ask for such means
    (up to 100 contacts a week, 50 starting ties). Below 10 numpy multiplies uniforms until
    the product falls to e^-lam, and takes e^-lam anew for every number (numba too); here
    once: the campus week draws 180 of them a week at a mean of 3. `tests/test_kernel.py`
    checks the numbers and the Generator's state after against numpy's, below, at and above
    10. `rng`: a Generator or a `RandomStream` of one.
    """
    rng = generator_of(rng)
    out = np.zeros(size, dtype=np.int64)
    if lam >= 10.0:
        for i in range(size):
            out[i] = poisson_ptrs(rng, lam)
    elif lam > 0.0:
        limit = np.exp(-lam)
        for i in range(size):
            count = 0
            product = rng.random()
            while product > limit:
                count += 1
                product *= rng.random()
            out[i] = count
    return out


@compiled
def poisson_ptrs(rng: np.random.Generator, lam: float) -> int:
    """One Poisson number of mean `lam` >= 10 as numpy draws it (`random_poisson_ptrs`).

    numba's own loop with numpy's `floor` for its `int` (`poisson_draws`); log Gamma is
    numba's copy of numpy's `random_loggam`, the same formula.
    """
    slam = np.sqrt(lam)
    loglam = np.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - np.fabs(u)
        k = np.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if np.log(v) + np.log(invalpha) - np.log(a / (us * us) + b) <= (
            -lam + k * loglam - random_loggam(k + 1)
        ):
            return int(k)


# ---------------------------------------------------------------------- the tie store's loops


@compiled
def pair_key(a: int, b: int, n: int) -> int:
    """The store's key of the pair (a, b): `min * n + max`."""
    return min(a, b) * n + max(a, b)


@compiled
def find(keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `query` keys in the sorted `keys`, and whether each is there."""
    pos = np.empty(len(query), dtype=np.int64)
    found = np.zeros(len(query), dtype=np.bool_)
    for i in range(len(query)):
        pos[i] = search_left(keys, query[i], 0, len(keys))
        found[i] = pos[i] < len(keys) and keys[pos[i]] == query[i]
    return pos, found


@compiled
def find_pairs(
    keys: np.ndarray, n: int, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs (a, b)'s keys, and `find`'s positions of them in the sorted `keys`.

    Each pair is searched for among its lower student's keys alone (`row_starts`): a few
    keys, not the whole store.
    """
    starts = row_starts(keys, n)
    pairs = np.empty(len(a), dtype=np.int64)
    pos = np.empty(len(a), dtype=np.int64)
    found = np.zeros(len(a), dtype=np.bool_)
    for i in range(len(a)):
        lower = min(a[i], b[i])
        pairs[i] = pair_key(a[i], b[i], n)
        pos[i] = search_left(keys, pairs[i], starts[lower], starts[lower + 1])
        found[i] = pos[i] < len(keys) and keys[pos[i]] == pairs[i]
    return pairs, pos, found


@compiled
def row_starts(keys: np.ndarray, n: int) -> np.ndarray:
    """Where each student's keys as the lower student begin in the sorted `keys` (n + 1).

    `starts[s]` is the first position of a key at least `s * n`, as
    `np.searchsorted(keys, np.arange(n + 1) * n)`, in one walk up the keys.
    """
    starts = np.empty(n + 1, dtype=np.int64)
    starts[0] = 0
    student = 0
    for t in range(len(keys)):
        while keys[t] >= (student + 1) * n:
            student += 1
            starts[student] = t
    starts[student + 1 :] = len(keys)
    return starts


@compiled
def lookup(keys: np.ndarray, strength: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Strength of each queried pair key (0 when there is no tie)."""
    pos, found = find(keys, query)
    out = np.zeros(len(query))
    for i in range(len(query)):
        if found[i]:
            out[i] = strength[pos[i]]
    return out


@compiled
def set_pairs(
    keys: np.ndarray,
    strength: np.ndarray,
    used: np.ndarray,
    new_keys: np.ndarray,
    new_strength: np.ndarray,
    new_used: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Set the strength of distinct pairs (at most 1), adding the new ones in key order.

    The store holds ties only: a pair set to 0 leaves it (a tie a group session weakened to
    nothing, `session_kernel.session_ties`), and a new pair at 0 is not added. A pair already
    present keeps its `used` mark or gains `new_used`; returns the arrays (new ones when
    pairs were added or removed, else the same arrays changed in place).
    """
    place, found = find(keys, new_keys)
    return set_found_pairs(keys, strength, used, place, found, new_keys, new_strength, new_used)


@compiled
def set_found_pairs(
    keys: np.ndarray,
    strength: np.ndarray,
    used: np.ndarray,
    place: np.ndarray,
    found: np.ndarray,
    new_keys: np.ndarray,
    new_strength: np.ndarray,
    new_used: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`set_pairs` for pairs already looked up: `place, found = find(keys, new_keys)`.

    A caller that has found its pairs (the campus week, to read their ties) does not search
    for them twice.
    """
    added, emptied = 0, False
    for i in range(len(new_keys)):
        if found[i]:
            strength[place[i]] = min(new_strength[i], 1.0)
            used[place[i]] = used[place[i]] or new_used[i]
            emptied = emptied or new_strength[i] <= 0.0
        else:
            added += new_strength[i] > 0.0
    if added > 0:
        keys, strength, used = merge_new_pairs(
            keys, strength, used, found, new_keys, new_strength, new_used, added
        )
    if emptied:
        keep = strength > 0.0
        return keys[keep], strength[keep], used[keep]
    return keys, strength, used


@compiled
def merge_new_pairs(
    keys: np.ndarray,
    strength: np.ndarray,
    used: np.ndarray,
    found: np.ndarray,
    new_keys: np.ndarray,
    new_strength: np.ndarray,
    new_used: np.ndarray,
    added: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The store with the `added` new pairs (not `found`, strength above 0) merged in order."""
    ascending, last = True, -1
    for i in range(len(new_keys)):
        if not found[i] and new_strength[i] > 0.0:
            ascending = ascending and last < new_keys[i]
            last = new_keys[i]
    # New keys given in order (the campus week's) are merged as they come, without a sort.
    order = np.arange(len(new_keys)) if ascending else np.argsort(new_keys, kind="mergesort")
    total = len(keys) + added
    out_keys = np.empty(total, dtype=np.int64)
    out_strength = np.empty(total)
    out_used = np.empty(total, dtype=np.bool_)
    old, out = 0, 0
    for i in order:  # merge the new keys, in order, into the old
        if found[i] or new_strength[i] <= 0.0:
            continue
        while old < len(keys) and keys[old] < new_keys[i]:
            out_keys[out], out_strength[out], out_used[out] = keys[old], strength[old], used[old]
            old += 1
            out += 1
        out_keys[out] = new_keys[i]
        out_strength[out] = min(new_strength[i], 1.0)
        out_used[out] = new_used[i]
        out += 1
    while old < len(keys):
        out_keys[out], out_strength[out], out_used[out] = keys[old], strength[old], used[old]
        old += 1
        out += 1
    return out_keys, out_strength, out_used


@compiled
def build_csr(
    keys: np.ndarray, strength: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of neighbours in both directions: (indptr, neighbour, strength, cumulative).

    Walking the pairs in key order fills each row in ascending neighbour order (a row's
    lower neighbours come from earlier keys than its higher ones); `cumulative` is the
    running sum of the strengths over all rows, for drawing a neighbour by strength.
    The fill reads each row's next place once into a local: numba cannot tell that writing
    `cols` leaves `fill` alone, and read it again after every write (the campus week builds
    the rows every week; ~30% faster on a default cohort, 2026-12-02).
    """
    indptr = np.zeros(n + 1, dtype=np.int64)
    size = len(keys)
    lower = lower_students(keys, n)
    upper = keys - lower * n
    for t in range(size):
        indptr[lower[t] + 1] += 1
        indptr[upper[t] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    cols = np.empty(2 * size, dtype=np.int64)
    data = np.empty(2 * size)
    for t in range(size):
        a, b = lower[t], upper[t]
        at_a, at_b = fill[a], fill[b]
        cols[at_a], data[at_a] = b, strength[t]
        cols[at_b], data[at_b] = a, strength[t]
        fill[a], fill[b] = at_a + 1, at_b + 1
    return indptr, cols, data, np.cumsum(data)


@compiled
def sample_neighbours(
    indptr: np.ndarray,
    cols: np.ndarray,
    cumulative: np.ndarray,
    students: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """For each student a friend drawn in proportion to tie strength (-1: no friends).

    One uniform per student, drawn only when at least one of them has a friend.
    """
    out = np.full(len(students), -1, dtype=np.int64)
    anyone = False
    for s in students:
        anyone = anyone or indptr[s + 1] > indptr[s]
    if not anyone:
        return out
    draws = rng.random(len(students))
    for i in range(len(students)):
        start, stop = indptr[students[i]], indptr[students[i] + 1]
        if stop == start:
            continue
        before = cumulative[start - 1] if start > 0 else 0.0
        target = before + draws[i] * (cumulative[stop - 1] - before)
        pos = search_right(cumulative, target, start, stop)
        out[i] = cols[min(pos, stop - 1)]  # guard float round-off
    return out


@compiled
def search_right(values: np.ndarray, target: float, lo: int, hi: int) -> int:
    """The first index in [lo, hi) whose value exceeds `target` (hi if none), by bisection.

    As `np.searchsorted(values[lo:hi], target, side="right") + lo` on sorted values, without
    the array a scalar search costs numba.
    """
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] <= target:
            lo = mid + 1
        else:
            hi = mid
    return lo


@compiled
def search_left(values: np.ndarray, target: float, lo: int, hi: int) -> int:
    """The first index in [lo, hi) whose value is not below `target` (hi if none).

    As `np.searchsorted(values[lo:hi], target) + lo` on sorted values. The range is halved
    by a choice, not a branch: the keys looked for come in no order, and bisection's
    branches, mispredicted half the time, cost more than the comparisons.
    """
    size = hi - lo
    if size <= 0:
        return lo
    while size > 1:
        half = size >> 1
        lo = lo + half if values[lo + half] < target else lo
        size -= half
    return lo + (values[lo] < target)


@compiled
def dense(keys: np.ndarray, strength: np.ndarray, members: np.ndarray, n: int) -> np.ndarray:
    """The k x k matrix of tie strengths among `members` (0 where no tie)."""
    size = len(members)
    matrix = np.zeros((size, size))
    for i in range(size):
        for j in range(i + 1, size):
            key = pair_key(members[i], members[j], n)
            pos = np.searchsorted(keys, key)
            if pos < len(keys) and keys[pos] == key:
                matrix[i, j] = matrix[j, i] = strength[pos]
    return matrix


@compiled
def decay_ties(
    keys: np.ndarray, strength: np.ndarray, used: np.ndarray, rate: float, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Close a week: unused ties decay (`mechanisms.decay_tie`), ties below `floor` go.

    Returns the kept ties with their `used` marks cleared.
    """
    for t in range(len(keys)):
        if not used[t]:
            strength[t] = decay_tie(strength[t], rate)
    keep = strength >= floor
    return keys[keep], strength[keep], np.zeros(keep.sum(), dtype=np.bool_)


@compiled
def strength_sums(keys: np.ndarray, strength: np.ndarray, n: int) -> np.ndarray:
    """Each student's summed tie strength (weighted degree)."""
    out = np.zeros(n)
    lower = lower_students(keys, n)
    for t in range(len(keys)):
        out[lower[t]] += strength[t]
        out[keys[t] - lower[t] * n] += strength[t]
    return out


@compiled
def lower_students(keys: np.ndarray, n: int) -> np.ndarray:
    """Each pair's lower student (`keys // n`) for keys in ascending order, without dividing.

    The lower student of sorted keys never decreases, so a walk up the students finds each
    one. (Measured against `keys // n` in `build_csr` on a default cohort: no faster; the
    cost there is the scatter into rows, not the division. Either gives the same numbers.)
    """
    lower = np.empty(len(keys), dtype=np.int64)
    student = 0
    for t in range(len(keys)):
        while keys[t] >= (student + 1) * n:
            student += 1
        lower[t] = student
    return lower
