"""Recording a week (ODD 3, step 5; 4, Observation): metrics, snapshots and group measures.

`record_week` writes the week's metrics to Mesa's `DataCollector` (through `WEEKLY_REPORTERS`),
a row per faculty, and when asked a row per student and the edge list. Recording reads the
model and draws no random numbers, so a run is the same whichever weeks it records.

The group measures (`density`, `cohesion`, `isolates`, `clustering`) read the k x k matrix of
tie strengths among a group's members (`TieStore.dense`).

Example:
    >>> import numpy as np
    >>> tie = np.array([[0.0, 0.5, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> density(tie), cohesion(tie), isolates(tie), clustering(tie)
    (0.3333333333333333, 0.16666666666666666, 1, 0.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.model import kernel
from groupsim.model.measures import score_parts, social_interaction_score

if TYPE_CHECKING:
    from groupsim.model.model import HomeRoomModel
    from groupsim.model.schedule import Week
    from groupsim.model.ties import TieStore

__all__ = [
    "CLUSTERING_SAMPLE",
    "WEEKLY_REPORTERS",
    "clustering",
    "clustering_sample",
    "cohesion",
    "density",
    "disclosed_share",
    "faculty_snapshot",
    "group_ties",
    "in_group_ties",
    "isolates",
    "record_week",
    "reporter",
    "student_snapshot",
    "tie_snapshot",
    "weekly_metrics",
]

#: Campus clustering is estimated on at most this many students (a systematic sample).
CLUSTERING_SAMPLE = 3000

#: The weekly table's columns, in order (see groupsim.runs.outputs for their meanings).
WEEKLY_REPORTERS = (
    "week",
    "phase",
    "session",
    "stage",
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

# ---------------------------------------------------------------------- group measures


def _pairs(k: int) -> float:
    return k * (k - 1) / 2.0


def density(tie: np.ndarray) -> float:
    """Share of member pairs that have a tie."""
    pairs = _pairs(len(tie))
    return float((tie > 0).sum() / 2.0 / pairs) if pairs else 0.0


def cohesion(tie: np.ndarray) -> float:
    """Mean tie strength over all member pairs (a missing tie counts 0)."""
    pairs = _pairs(len(tie))
    return float(tie.sum() / 2.0 / pairs) if pairs else 0.0


def isolates(tie: np.ndarray) -> int:
    """Members with no tie to any other member."""
    return int(((tie > 0).sum(axis=1) == 0).sum())


def clustering(tie: np.ndarray) -> float:
    """Average local clustering of a small network (as networkx.average_clustering)."""
    if len(tie) < 3:
        return 0.0
    adjacency = (tie > 0).astype(float)
    triangles = np.diag(adjacency @ adjacency @ adjacency) / 2.0
    d = adjacency.sum(axis=1)
    possible = d * (d - 1) / 2.0
    local = np.divide(triangles, possible, out=np.zeros_like(triangles), where=possible > 0)
    return _mean(local)


def disclosed_share(disclosure: np.ndarray, threshold: float) -> float:
    """Share of students (the given disclosure depths) who disclosed personally."""
    return float(np.mean(disclosure >= threshold))


def _mean(values: np.ndarray) -> float:
    """`values.mean()` (NaN when empty) as sum over count: the same number, a third the calls.

    Recording takes some forty means a week; numpy's `mean` wrapper cost more than the sums.
    """
    return float(values.sum() / len(values)) if len(values) else float("nan")


# ---------------------------------------------------------------------- campus measures


def clustering_sample(ties: TieStore) -> tuple[np.ndarray, np.ndarray]:
    """Local clustering of a systematic sample of students (all of a small cohort).

    Returns the sampled students and their local clustering coefficients.
    """
    step = -(-ties.n // CLUSTERING_SAMPLE)  # ceil: at most CLUSTERING_SAMPLE students
    sample = np.arange(0, ties.n, step)
    indptr, cols, _, _ = ties.csr()
    return sample, kernel.local_clustering(indptr, cols, sample)


# ---------------------------------------------------------------------- the week's records


def record_week(model: HomeRoomModel, week: Week) -> None:
    """Record this week: metrics (Mesa DataCollector), faculty rows, student and tie snapshots.

    Only the model's `record_weeks` when they are given, and only the snapshots it keeps.
    """
    if model.record_weeks is not None and week.number not in model.record_weeks:
        return
    degree = model.ties.degrees()
    sample = clustering_sample(model.ties)
    model.record = weekly_metrics(model, week, degree, sample)
    model.datacollector.collect(model)
    if model.record_faculties:
        model.faculty_rows.append(faculty_snapshot(model, week.number, degree, sample))
    if model.record_students:
        model.student_frames.append(student_snapshot(model, week.number, degree))
    if model.record_ties:
        model.tie_frames.append(tie_snapshot(model.ties, week.number))


def weekly_metrics(
    model: HomeRoomModel,
    week: Week,
    degree: np.ndarray,
    sample: tuple[np.ndarray, np.ndarray],
) -> dict[str, Any]:
    """The weekly table's row (`WEEKLY_REPORTERS`): groups, campus, clients, others, friends."""
    dense = group_ties(model)
    return {
        **_calendar_metrics(model, week),
        **_group_metrics(dense),
        **_campus_metrics(model, sample),
        **_client_metrics(model, dense),
        **_peer_metrics(model, degree),
    }


def _calendar_metrics(model: HomeRoomModel, week: Week) -> dict[str, Any]:
    held = week.sessions
    return {
        "week": week.number,
        "phase": week.phase,
        "session": held[-1].number if held else 0,
        "stage": held[-1].stage if held else "",
        "climate": model.climate,
        "tension": model.tension,
    }


def group_ties(model: HomeRoomModel) -> list[np.ndarray]:
    """Each group's k x k matrix of tie strengths among its members (the groups' order)."""
    return [model.ties.dense(g.members) for g in model.groups]


def _group_metrics(dense: list[np.ndarray]) -> dict[str, Any]:
    return {
        "group_density": float(np.mean([density(t) for t in dense])),
        "group_cohesion": float(np.mean([cohesion(t) for t in dense])),
        "group_isolates": int(sum(isolates(t) for t in dense)),
        "group_clustering": float(np.mean([clustering(t) for t in dense])),
    }


def _campus_metrics(model: HomeRoomModel, sample: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    n = model.n
    local = sample[1]
    return {
        "campus_density": 2.0 * len(model.ties) / (n * (n - 1)),
        "campus_ties": len(model.ties),
        "campus_clustering": _mean(local) if len(local) else 0.0,
    }


def _client_metrics(model: HomeRoomModel, dense: list[np.ndarray]) -> dict[str, Any]:
    s = model.states
    cl = model.clients
    started = model.config.holds_group and model.groups[0].sessions_held > 0
    threshold = model.config.disclosure.personal_threshold
    return {
        "clients_disclosed_share": disclosed_share(s.disclosure[cl], threshold) if started else 0.0,
        "clients_social_interaction": _mean(model.social_interaction[cl]),
        **_score_metrics(model, dense),
        **_attendance_metrics(model),
        "clients_anxiety": _mean(s.anxiety[cl]),
        "clients_skill": _mean(s.skill[cl]),
        "clients_attitude": _mean(s.attitude[cl]),
        "clients_resolve": _mean(s.resolve[cl]),
        "clients_rapport": _mean(s.rapport[cl]),
        "clients_openness": _mean(s.openness[cl]),
        "clients_disclosure": _mean(s.disclosure[cl]),
        "clients_contact_rate": _mean(s.contact_rate[cl]),
    }


def in_group_ties(model: HomeRoomModel, dense: list[np.ndarray] | None = None) -> np.ndarray:
    """Each client's summed tie strength to the other members of their group (clients' order).

    `dense`: the groups' tie matrices (`group_ties`) when the caller has them already.
    """
    strength = np.zeros(model.n)
    for group, tie in zip(model.groups, dense or group_ties(model), strict=True):
        strength[group.members] = tie.sum(axis=1)
    return strength[model.clients]


def _score_metrics(model: HomeRoomModel, dense: list[np.ndarray]) -> dict[str, float]:
    """The clients' score by part, and without the ties inside their group (transfer)."""
    s = model.states
    cl = model.clients
    m = model.config.measurement
    inside = in_group_ties(model, dense)
    outside = np.maximum(model.strength_sum[cl] - inside, 0.0)
    state = (s.skill[cl], s.attitude[cl], s.anxiety[cl], m.contact_scale, m.tie_scale)
    parts = score_parts(s.contact_rate[cl], model.strength_sum[cl], *state)
    transfer = social_interaction_score(s.contact_rate[cl], outside, *state)
    return {
        "clients_transfer_interaction": _mean(transfer),
        **{f"clients_part_{name}": _mean(value) for name, value in parts.items()},
        "clients_in_group_ties": _mean(inside),
    }


def _attendance_metrics(model: HomeRoomModel) -> dict[str, float]:
    """Share of the sessions held so far that clients attended, and the share who dropped out."""
    s = model.states
    cl = model.clients
    held = model.groups[0].sessions_held if model.config.holds_group else 0
    return {
        "clients_attendance": _mean(s.attended[cl]) / held if held else float("nan"),
        "clients_dropped_out": _mean(s.dropped_out[cl]),
    }


def _peer_metrics(model: HomeRoomModel, degree: np.ndarray) -> dict[str, Any]:
    s = model.states
    friends = model.friends
    return {
        "others_social_interaction": _mean(model.social_interaction[~s.client]),
        "friends": len(friends),
        "friends_social_interaction": _mean(model.social_interaction[friends]),
        "friends_ties": _mean(degree[friends]),
        "friends_contact_rate": _mean(s.contact_rate[friends]),
    }


def faculty_snapshot(
    model: HomeRoomModel, week: int, degree: np.ndarray, sample: tuple[np.ndarray, np.ndarray]
) -> dict[str, np.ndarray]:
    """A row per faculty: size, clients, density, clustering, degree and scores (spill-over)."""
    s = model.states
    faculties = model.config.cohort.faculties
    fac = s.faculty
    src, dst = model.ties.sources, model.ties.targets
    inside = fac[src] == fac[dst]
    ties_inside = np.bincount(fac[src][inside], minlength=faculties)
    size = np.bincount(fac, minlength=faculties)
    pairs = size * (size - 1) / 2.0
    is_friend = np.zeros(model.n, dtype=bool)
    is_friend[model.friends] = True
    everyone = np.ones(model.n, dtype=bool)
    sampled, local = sample

    def mean_by(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        total = np.bincount(fac[mask], values[mask], minlength=faculties)
        count = np.bincount(fac[mask], minlength=faculties)
        return np.divide(total, count, out=np.full(faculties, np.nan), where=count > 0)

    clustering_sum = np.bincount(fac[sampled], local, minlength=faculties)
    clustering_n = np.bincount(fac[sampled], minlength=faculties)
    return {
        "week": np.full(faculties, week, dtype=np.int64),
        "faculty": np.arange(faculties, dtype=np.int64),
        "faculty_name": np.array(model.faculty_names, dtype=object),
        "students": size.astype(np.int64),
        "clients": np.bincount(fac[s.client], minlength=faculties).astype(np.int64),
        "density": np.divide(ties_inside, pairs, out=np.zeros(faculties), where=pairs > 0),
        "clustering": np.divide(
            clustering_sum, clustering_n, out=np.zeros(faculties), where=clustering_n > 0
        ),
        "mean_degree": mean_by(everyone, degree.astype(float)),
        "social_interaction": mean_by(everyone, model.social_interaction),
        "clients_social_interaction": mean_by(s.client, model.social_interaction),
        "friends_social_interaction": mean_by(is_friend, model.social_interaction),
    }


def student_snapshot(model: HomeRoomModel, week: int, degree: np.ndarray) -> dict[str, np.ndarray]:
    """A row per student: every state, degree, summed tie strength and score (copies)."""
    s = model.states
    n = model.n
    return {
        "week": np.full(n, week, dtype=np.int64),
        "student_id": np.arange(n, dtype=np.int64),
        "faculty": s.faculty.astype(np.int64),
        "client": s.client.copy(),
        "group": model.group_of.copy(),
        "sociability": s.sociability.copy(),
        "openness": s.openness.copy(),
        "anxiety": s.anxiety.copy(),
        "skill": s.skill.copy(),
        "attitude": s.attitude.copy(),
        "resolve": s.resolve.copy(),
        "rapport": s.rapport.copy(),
        "disclosure": s.disclosure.copy(),
        "contact_rate": s.contact_rate.copy(),
        "degree": degree.astype(np.int64),
        "tie_strength_sum": model.strength_sum.copy(),
        "social_interaction": model.social_interaction.copy(),
    }


def tie_snapshot(ties: TieStore, week: int) -> dict[str, np.ndarray]:
    """The edge list this week: week, source, target, strength (copies)."""
    return {
        "week": np.full(len(ties), week, dtype=np.int64),
        "source": ties.sources,
        "target": ties.targets,
        "strength": ties.strength.copy(),
    }


def reporter(name: str) -> Callable[[HomeRoomModel], Any]:
    """A Mesa model reporter that reads `name` from the model's last recorded week."""

    def report(model: HomeRoomModel) -> Any:
        return model.record[name]

    report.__name__ = f"report_{name}"
    return report
