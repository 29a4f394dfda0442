"""Recording's compiled loops: a recorded week's measures in one call (ODD 4, Observation).

A recorded week takes some forty means over arrays of 9 to 180 values, the groups' measures
and the campus clustering; as numpy calls that was a few hundred microseconds a week of call
overhead, more than the week's campus life. `week_measures` takes them all in one compiled
call (`kernel.compiled`: cached on disk and stamped with the model's sources like the rest of
the fast path).

The readable definitions stay in `groupsim.model.recording` (`density`, `cohesion`,
`isolates`, `clustering`, `disclosed_share`, `in_group_ties`, means as `values.mean()`); a
test checks this module against them. Sums are taken in numpy's order (`pairwise_sum`), so
the recorded numbers are the ones the numpy definitions give, to the last bit. The score's
parts are `measures.score_terms` itself, compiled as `kernel` compiles it for the weekly score.
`present_mean` takes a run's outcomes' NaN-skipping means (`groupsim.runs.outcomes`) the
same way.

Example:
    >>> import numpy as np
    >>> values = np.arange(200) / 7.0
    >>> bool(pairwise_sum(values, 0, len(values)) == values.sum())
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groupsim.model import kernel, measures
from groupsim.model.kernel import compiled

__all__ = [
    "SCORE_AT",
    "STUDENT_ROWS",
    "WEEK_MEASURES",
    "block_sum",
    "client_score_inputs",
    "clustering_everyone",
    "clustering_sample",
    "group_measures",
    "keep_students",
    "local_clustering",
    "mean_at",
    "neighbour_rows",
    "pairwise_sum",
    "present_mean",
    "score_means",
    "tie_clustering",
    "week_measures",
]

#: The weekly table's measured columns, in the table's order (after week, phase, session and
#: stage; see `groupsim.runs.outputs.WEEKLY`): the row `week_measures` fills.
WEEK_MEASURES = (
    "climate",
    "tension",
    "group_density",
    "group_cohesion",
    "group_isolates",
    "group_clustering",
    "clients_disclosed_share",
    "campus_density",
    "campus_ties",
    "campus_clustering",
    "clients_social_interaction",
    "clients_transfer_interaction",
    "clients_part_contact",
    "clients_part_ties",
    "clients_part_skill",
    "clients_part_attitude",
    "clients_part_calm",
    "clients_in_group_ties",
    "clients_attendance",
    "clients_dropped_out",
    "clients_anxiety",
    "clients_skill",
    "clients_attitude",
    "clients_resolve",
    "clients_rapport",
    "clients_openness",
    "clients_disclosure",
    "clients_contact_rate",
    "others_social_interaction",
    "friends",
    "friends_social_interaction",
    "friends_ties",
    "friends_contact_rate",
)

#: A week's students' rows, in the student table's order after its fixed columns
#: (`recording.student_snapshot`): the states, degree, summed tie strength and score.
STUDENT_ROWS = (
    "sociability", "openness", "anxiety", "skill", "attitude", "resolve", "rapport",
    "disclosure", "contact_rate", "degree", "tie_strength_sum", "social_interaction",
)  # fmt: skip

#: Where the score's columns start in `WEEK_MEASURES` (transfer, then the five parts in the
#: order of `measures.score_parts`): `score_means` fills them.
SCORE_AT = WEEK_MEASURES.index("clients_transfer_interaction")

#: numpy sums blocks of up to this many values with eight accumulators (`PW_BLOCKSIZE`).
PAIRWISE_BLOCK = 128


@compiled
def pairwise_sum(values: np.ndarray, start: int, count: int) -> float:
    """The sum of `values[start:start + count]` in the order numpy's `sum` adds them.

    numpy sums a contiguous float array pairwise: blocks of up to 128 values directly
    (`block_sum`), longer runs as the sums of two halves (the first a multiple of 8 long),
    recursively. The same order gives the same rounding, so a compiled mean equals numpy's.
    numba's disk cache cannot hold a recursive function that others call (loading it
    crashes), so the halves are walked with a stack instead.
    """
    if count <= PAIRWISE_BLOCK:
        return block_sum(values, start, count)
    starts = np.empty(64, dtype=np.int64)  # the halves being summed, outermost first
    counts = np.empty(64, dtype=np.int64)
    right = np.zeros(64, dtype=np.bool_)  # a second half (its first half is in `left`)
    left = np.empty(64)
    top = 0
    starts[0], counts[0] = start, count
    while True:
        if counts[top] > PAIRWISE_BLOCK:  # split: sum the first half first
            half = counts[top] // 2
            half -= half % 8
            starts[top + 1], counts[top + 1], right[top + 1] = starts[top], half, False
            top += 1
            continue
        value = block_sum(values, starts[top], counts[top])
        while top > 0 and right[top]:  # a second half completes its parent
            value = left[top - 1] + value
            top -= 1
        if top == 0:
            return value
        left[top - 1] = value  # a first half done: its sibling next
        starts[top] = starts[top] + counts[top]
        counts[top] = counts[top - 1] - counts[top]
        right[top] = True


@compiled
def block_sum(values: np.ndarray, start: int, count: int) -> float:
    """The sum numpy takes of up to 128 values: one by one below 8, else eight accumulators."""
    if count < 8:
        total = 0.0
        for i in range(start, start + count):
            total += values[i]
        return total
    r0, r1, r2, r3 = values[start], values[start + 1], values[start + 2], values[start + 3]
    r4, r5, r6, r7 = values[start + 4], values[start + 5], values[start + 6], values[start + 7]
    i = 8
    whole = count - count % 8
    while i < whole:
        at = start + i
        r0 += values[at]
        r1 += values[at + 1]
        r2 += values[at + 2]
        r3 += values[at + 3]
        r4 += values[at + 4]
        r5 += values[at + 5]
        r6 += values[at + 6]
        r7 += values[at + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < count:
        total += values[start + i]
        i += 1
    return total


@compiled
def mean_at(values: np.ndarray, index: np.ndarray) -> float:
    """`values[index].mean()` as numpy takes it (NaN when `index` is empty).

    Integer and boolean values are summed as floats: their partial sums are whole numbers
    far below 2**53, so exactly the integer sum numpy takes.
    """
    if len(index) == 0:
        return np.nan
    picked = np.empty(len(index))
    for i in range(len(index)):
        picked[i] = values[index[i]]
    return pairwise_sum(picked, 0, len(picked)) / len(index)


@compiled
def present_mean(values: np.ndarray) -> float:
    """The mean of the values that are not NaN (NaN when none is), as a run's outcomes take it.

    numpy's sum of the values with each NaN as 0, over their count: pandas' `Series.mean`
    (`groupsim.runs.outcomes`), in one compiled call instead of five numpy calls.
    """
    filled = np.empty(len(values))
    count = 0
    for i in range(len(values)):
        if np.isnan(values[i]):
            filled[i] = 0.0
        else:
            filled[i] = values[i]
            count += 1
    if count == 0:
        return np.nan
    return pairwise_sum(filled, 0, len(filled)) / count


@compiled
def score_means(
    row: np.ndarray, inputs: np.ndarray, contact_scale: float, tie_scale: float
) -> None:
    """Fill the score's columns of a `week_measures` row from the clients' score inputs.

    `inputs` are the arguments of `measures.score_terms` for the clients twice over
    (`client_score_inputs`): with all their ties, then with those outside their group. The
    transfer score is the sum of the second half's parts, in the order
    `measures.social_interaction_score` adds them; then the means of the transfer score and
    of the first half's five parts.
    """
    contact, ties, skill, attitude, calm = measures.score_terms(
        inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], contact_scale, tie_scale
    )
    k = len(contact) // 2
    transfer = np.empty(k)
    for i in range(k):
        j = k + i
        transfer[i] = contact[j] + ties[j] + skill[j] + attitude[j] + calm[j]
    first = np.arange(k)
    row[SCORE_AT] = mean_at(transfer, first)
    row[SCORE_AT + 1] = mean_at(contact, first)
    row[SCORE_AT + 2] = mean_at(ties, first)
    row[SCORE_AT + 3] = mean_at(skill, first)
    row[SCORE_AT + 4] = mean_at(attitude, first)
    row[SCORE_AT + 5] = mean_at(calm, first)


@compiled
def group_measures(
    keys: np.ndarray, strength: np.ndarray, n: int, members: np.ndarray, bounds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each group's density, cohesion, isolates and clustering, and its members' in-group ties.

    Group g is `members[bounds[g]:bounds[g + 1]]`. As `recording.density`, `cohesion`,
    `isolates` and `clustering` of the group's tie matrix (`kernel.dense`), and each member's
    summed tie strength to the others (`recording.in_group_ties`), in the members' order.
    """
    groups = len(bounds) - 1
    density = np.zeros(groups)
    cohesion = np.zeros(groups)
    isolates = np.zeros(groups, dtype=np.int64)
    clustering = np.zeros(groups)
    inside = np.zeros(len(members))
    for g in range(groups):
        start, stop = bounds[g], bounds[g + 1]
        k = stop - start
        tie = kernel.dense(keys, strength, members[start:stop], n)
        flat = tie.reshape(k * k)
        pairs = k * (k - 1) / 2.0
        tied = 0
        for i in range(k):
            row_tied = 0
            for j in range(k):
                if tie[i, j] > 0:
                    row_tied += 1
            tied += row_tied
            if row_tied == 0:
                isolates[g] += 1
            inside[start + i] = pairwise_sum(flat, i * k, k)  # numpy's row sum
        if pairs:
            density[g] = tied / 2.0 / pairs
            cohesion[g] = pairwise_sum(flat, 0, k * k) / 2.0 / pairs
        if k >= 3:
            clustering[g] = tie_clustering(tie)
    return density, cohesion, isolates, clustering, inside


@compiled
def tie_clustering(tie: np.ndarray) -> float:
    """Average local clustering of a small network of k >= 3 (as `recording.clustering`)."""
    k = len(tie)
    local = np.zeros(k)
    for i in range(k):
        degree = 0
        triangles = 0
        for j in range(k):
            if tie[i, j] > 0:
                degree += 1
                for m in range(j + 1, k):
                    if tie[i, m] > 0 and tie[j, m] > 0:
                        triangles += 1
        possible = degree * (degree - 1) / 2.0
        if possible > 0:
            local[i] = triangles / possible
    return pairwise_sum(local, 0, k) / k


@compiled
def client_score_inputs(
    clients: np.ndarray,
    inside_all: np.ndarray,
    strength_sum: np.ndarray,
    client_states: tuple[np.ndarray, ...],
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The clients' `measures.score_parts` arguments, in-group ties and how many disclosed.

    The arguments are rows (contact rate, summed tie strength, skill, attitude, anxiety) for
    the clients twice over: with all their ties, then with those outside their group.
    `inside_all`: every student's summed tie strength inside their group; `client_states`
    as `week_measures` takes them.
    """
    k = len(clients)
    inputs = np.empty((5, 2 * k))
    inside = np.empty(k)
    disclosed = 0
    for i in range(k):
        c = clients[i]
        inside[i] = inside_all[c]
        for j in (i, k + i):
            inputs[0, j] = client_states[7][c]  # contact rate
            inputs[2, j] = client_states[1][c]  # skill
            inputs[3, j] = client_states[2][c]  # attitude
            inputs[4, j] = client_states[0][c]  # anxiety
        inputs[1, i] = strength_sum[c]
        inputs[1, k + i] = max(strength_sum[c] - inside[i], 0.0)
        if client_states[6][c] >= threshold:  # disclosure
            disclosed += 1
    return inputs, inside, disclosed


@compiled
def neighbour_rows(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every student's neighbours, each row in ascending order: (indptr, neighbour).

    As `kernel.build_csr` without the strengths. The pairs are sorted by key `a * n + b`
    (a < b), so `a` only grows along them and is found without a division.
    """
    indptr = np.zeros(n + 1, dtype=np.int64)
    lows = np.empty(len(keys), dtype=np.int64)
    low, above = 0, n  # the keys of student `low` are below `above`
    for t in range(len(keys)):
        while keys[t] >= above:
            low += 1
            above += n
        lows[t] = low
        indptr[low + 1] += 1
        indptr[keys[t] - low * n + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    cols = np.empty(2 * len(keys), dtype=np.int64)
    for t in range(len(keys)):  # in key order: each row's lower neighbours come first
        a = lows[t]
        b = keys[t] - a * n
        cols[fill[a]] = b
        fill[a] += 1
        cols[fill[b]] = a
        fill[b] += 1
    return indptr, cols


@compiled
def local_clustering(indptr: np.ndarray, cols: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Local clustering coefficient of each sampled student (as networkx.clustering).

    The links among a student's neighbours: the student's neighbours are marked, then each
    neighbour u's higher neighbours (w > u, the end of u's ascending row) are looked up, so
    every link counts once.
    """
    out = np.zeros(len(sample))
    marked = np.full(len(indptr) - 1, -1, dtype=np.int64)  # the student that marked it
    for s in range(len(sample)):
        v = sample[s]
        start, stop = indptr[v], indptr[v + 1]
        degree = stop - start
        if degree < 2:
            continue
        for a in range(start, stop):
            marked[cols[a]] = v
        links = 0
        for a in range(start, stop):
            u = cols[a]
            b = indptr[u + 1] - 1
            while b >= indptr[u] and cols[b] > u:
                if marked[cols[b]] == v:
                    links += 1
                b -= 1
        out[s] = links / (degree * (degree - 1) / 2.0)
    return out


@compiled
def clustering_everyone(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every student's local clustering coefficient and number of ties.

    The same numbers as `local_clustering` of everyone, in half the steps: each triangle is
    found once, from its lowest student v, as a tie between two of v's higher neighbours
    (u < w), and counted for all three. The pairs sorted by key `a * n + b` (a < b) list
    each student's higher neighbours together, in ascending order.
    """
    m = len(keys)
    higher = np.empty(m, dtype=np.int64)  # each pair's higher student
    start = np.zeros(n + 1, dtype=np.int64)  # student a's pairs (a, b > a): start[a]:start[a + 1]
    degree = np.zeros(n, dtype=np.int64)
    low, above = 0, n  # the keys of student `low` are below `above`
    for t in range(m):
        while keys[t] >= above:
            low += 1
            above += n
        high = keys[t] - low * n
        higher[t] = high
        start[low + 1] += 1
        degree[low] += 1
        degree[high] += 1
    for i in range(n):
        start[i + 1] += start[i]
    triangles = np.zeros(n, dtype=np.int64)
    marked = np.full(n, -1, dtype=np.int64)  # the student whose higher neighbour it is
    for v in range(n):
        for t in range(start[v], start[v + 1]):
            marked[higher[t]] = v
        for t in range(start[v], start[v + 1]):
            u = higher[t]
            for r in range(start[u], start[u + 1]):
                w = higher[r]
                if marked[w] == v:
                    triangles[v] += 1
                    triangles[u] += 1
                    triangles[w] += 1
    local = np.zeros(n)
    for v in range(n):
        if degree[v] >= 2:
            local[v] = triangles[v] / (degree[v] * (degree[v] - 1) / 2.0)
    return local, degree


@compiled
def clustering_sample(
    keys: np.ndarray, n: int, most: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local clustering of a systematic sample of at most `most` students, and every degree.

    Returns the sampled students (every k-th, k = ceil(n / most): everyone in a cohort of
    up to `most`), their local clustering and every student's number of ties.
    """
    step = -(-n // most)
    sample = np.arange(0, n, step)
    if step == 1:
        local, degree = clustering_everyone(keys, n)
        return sample, local, degree
    indptr, cols = neighbour_rows(keys, n)
    return sample, local_clustering(indptr, cols, sample), indptr[1:] - indptr[:-1]


@compiled
def week_measures(
    keys: np.ndarray,
    strength: np.ndarray,
    n: int,
    members: np.ndarray,
    bounds: np.ndarray,
    climate: np.ndarray,
    clients: np.ndarray,
    friends: np.ndarray,
    is_client: np.ndarray,
    client_states: tuple[np.ndarray, ...],
    social_interaction: np.ndarray,
    strength_sum: np.ndarray,
    attended: np.ndarray,
    dropped_out: np.ndarray,
    threshold: float,
    held: int,
    most_sampled: int,
    contact_scale: float,
    tie_scale: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The week's row of `WEEK_MEASURES`, and what the faculty and student rows need.

    Group g is `members[bounds[g]:bounds[g + 1]]`, with its climate and tension in row g of
    `climate` (no rows without groups); `held`: the sessions held so far. `client_states`:
    anxiety, skill, attitude, resolve, rapport, openness, disclosure and contact rate (every
    student's); `contact_scale` and `tie_scale`: the score's (`measures.score_terms`).
    Returns the row, the clustering sample's local clustering and every student's number of
    ties.
    """
    density, cohesion, isolates, clustering, inside_members = group_measures(
        keys, strength, n, members, bounds
    )
    _, local, degree = clustering_sample(keys, n, most_sampled)
    inside_all = np.zeros(n)
    for i in range(len(members)):
        inside_all[members[i]] = inside_members[i]
    inputs, inside, disclosed = client_score_inputs(
        clients, inside_all, strength_sum, client_states, threshold
    )
    k = len(clients)
    groups = np.arange(len(density))
    others = np.flatnonzero(np.logical_not(is_client))
    row = np.full(len(WEEK_MEASURES), np.nan)
    every_group = np.arange(len(climate))
    row[0] = mean_at(np.ascontiguousarray(climate[:, 0]), every_group)
    row[1] = mean_at(np.ascontiguousarray(climate[:, 1]), every_group)
    row[2] = mean_at(density, groups)
    row[3] = mean_at(cohesion, groups)
    row[4] = isolates.sum()
    row[5] = mean_at(clustering, groups)
    row[6] = disclosed / k if held else 0.0
    row[7] = 2.0 * len(keys) / (n * (n - 1))
    row[8] = len(keys)
    row[9] = pairwise_sum(local, 0, len(local)) / len(local) if len(local) else 0.0
    row[10] = mean_at(social_interaction, clients)
    score_means(row, inputs, contact_scale, tie_scale)  # 11 to 16
    row[17] = mean_at(inside, np.arange(k))
    row[18] = mean_at(attended, clients) / held if held else np.nan
    row[19] = mean_at(dropped_out, clients)
    for s in range(len(client_states)):
        row[20 + s] = mean_at(client_states[s], clients)
    row[28] = mean_at(social_interaction, others)
    row[29] = len(friends)
    row[30] = mean_at(social_interaction, friends)
    row[31] = mean_at(degree, friends)
    row[32] = mean_at(client_states[7], friends)
    return row, local, degree


@compiled
def keep_students(
    rows: np.ndarray,
    st: Any,
    contact_rate: np.ndarray,
    strength_sum: np.ndarray,
    score: np.ndarray,
    degree: np.ndarray,
) -> None:
    """Copy the week's students' rows (`STUDENT_ROWS`) into `rows` (12 x n).

    `st`: the students' `StudentArrays`; `degree`: each student's number of ties (as
    `week_measures` returns it). The compiled weeks keep a week's rows so (`week_kernel`),
    and so does Python for week 0 (`recording.student_rows`).
    """
    rows[0] = st.sociability
    rows[1] = st.openness
    rows[2] = st.anxiety
    rows[3] = st.skill
    rows[4] = st.attitude
    rows[5] = st.resolve
    rows[6] = st.rapport
    rows[7] = st.disclosure
    rows[8] = contact_rate
    rows[9] = degree
    rows[10] = strength_sum
    rows[11] = score
