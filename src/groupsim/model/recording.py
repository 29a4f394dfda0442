"""Recording a week (ODD 3, step 5; 4, Observation): metrics, snapshots and group measures.

`record_week` writes the week's metrics to Mesa's `DataCollector` (through `WEEKLY_REPORTERS`),
a row per faculty, and when asked a row per student and the edge list. Recording reads the
model and draws no random numbers, so a run is the same whichever weeks it records.

The group measures (`density`, `cohesion`, `isolates`, `clustering`) read the k x k matrix of
tie strengths among a group's members (`TieStore.dense`). They and the week's means are the
definitions; a recorded week takes them in compiled calls (`recording_kernel`, summing in
numpy's order, so the very same numbers) and appends the row to the DataCollector's lists
(`collect`): a few hundred numpy calls a week cost more than the week's campus life.

Example:
    >>> import numpy as np
    >>> tie = np.array([[0.0, 0.5, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> density(tie), cohesion(tie), isolates(tie), clustering(tie)
    (0.3333333333333333, 0.16666666666666666, 1, 0.0)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.model import recording_kernel

if TYPE_CHECKING:
    from groupsim.model.agents import CounselingGroup, StudentStates
    from groupsim.model.model import HomeRoomModel
    from groupsim.model.schedule import Week
    from groupsim.model.ties import TieStore

__all__ = [
    "CLUSTERING_SAMPLE",
    "NO_CLIMATE",
    "WEEKLY_REPORTERS",
    "client_states",
    "clustering",
    "clustering_sample",
    "clustering_students",
    "cohesion",
    "collect",
    "collects_records",
    "density",
    "disclosed_share",
    "faculty_snapshot",
    "group_members",
    "group_ties",
    "in_group_ties",
    "isolates",
    "record_week",
    "recorded_value",
    "reporter",
    "student_rows",
    "student_snapshot",
    "tie_snapshot",
    "week_record",
    "weekly_metrics",
]

#: Campus clustering is estimated on at most this many students (a systematic sample).
CLUSTERING_SAMPLE = 3000

#: The weekly table's columns, in order (see groupsim.runs.outputs for their meanings): the
#: calendar's, then the measures (`recording_kernel.WEEK_MEASURES`).
WEEKLY_REPORTERS = ("week", "phase", "session", "stage", *recording_kernel.WEEK_MEASURES)

#: The climates and tensions of no group (`weekly_metrics`).
NO_CLIMATE = np.empty((0, 2))

#: The columns that are counts (the measures are floats but these), by position.
INTEGER_AT = tuple(
    WEEKLY_REPORTERS.index(name) for name in ("group_isolates", "campus_ties", "friends")
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
    sample, local, _ = recording_kernel.clustering_sample(ties.keys, ties.n, CLUSTERING_SAMPLE)
    return sample, local


# ---------------------------------------------------------------------- the week's records


def record_week(
    model: HomeRoomModel,
    week: Week,
    measures: np.ndarray | None = None,
    students: np.ndarray | None = None,
) -> None:
    """Record this week: metrics (Mesa DataCollector), faculty rows, student and tie snapshots.

    Only the model's `record_weeks` when they are given, and only the snapshots it keeps
    (student rows: only its `student_weeks` when they are given). `measures` and
    `students`: the week's row of `recording_kernel.WEEK_MEASURES` and its students' rows
    (`recording_kernel.STUDENT_ROWS`) as the compiled week kept them (`groupsim.model.weeks`);
    None: taken now from the model's state (week 0).
    """
    if not model.records(week.number):
        return
    degree: np.ndarray | None = None
    if measures is None:
        model.record, degree, local = weekly_metrics(model, week)
    else:
        model.record = week_record(week, measures)
        if model.snapshots:
            # A week with tie or faculty snapshots ends the compiled weeks
            # (`weeks.weeks_ahead`): these are its own.
            assert model.simulated_week == week.number, "a snapshot of a week run ahead"
            assert model.last_measures is not None
            degree, local = model.last_measures
    collect(model)
    if model.record_faculties:
        assert degree is not None
        sample = (clustering_students(model.n), local)
        model.faculty_rows.append(faculty_snapshot(model, week.number, degree, sample))
    if model.keeps_students(week.number):
        if students is None:
            assert degree is not None
            students = student_rows(model, degree)
        model.student_frames.append(student_snapshot(model, week.number, students))
    if model.record_ties:
        model.tie_frames.append(tie_snapshot(model.ties, week.number))


def collects_records(model: HomeRoomModel) -> bool:
    """Whether the model's DataCollector keeps the weekly records alone (`collect`).

    It then reads nothing of the model but `model.record`: the weeks may run ahead of the
    recording (`HomeRoomModel.run_model`).
    """
    collector = model.datacollector
    return (
        tuple(collector.model_vars) == WEEKLY_REPORTERS
        and not collector.agent_reporters
        and not collector.agenttype_reporters
    )


def collect(model: HomeRoomModel) -> None:
    """Add the week's metrics (`model.record`) to Mesa's DataCollector, as its `collect` would.

    `DataCollector.collect` calls the 37 reporters (`reporter`), each reading one value of
    `model.record`, and deep-copies what they return; the values are numbers and strings, so
    appending them to `model_vars` (and the step to the steps Mesa's `batch_run` reads) keeps
    the very same record at a tenth of the cost. A collector given other reporters is
    collected by Mesa.
    """
    collector = model.datacollector
    record = model.record
    if not collects_records(model):
        collector.collect(model)
        return
    collector._collection_steps.append(model.time)
    for values, value in zip(collector.model_vars.values(), record.values(), strict=True):
        values.append(value)


def weekly_metrics(
    model: HomeRoomModel, week: Week
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """The weekly table's row (`WEEKLY_REPORTERS`): groups, campus, clients, others, friends.

    Also returns every student's number of ties and the local clustering of the clustering
    sample (`clustering_students`), which the faculty and student rows read.

    The measures are taken in one compiled call (`recording_kernel.week_measures`), as the
    definitions here and in the model take them: `density`, `cohesion`, `isolates`,
    `clustering`, `disclosed_share`, `in_group_ties`, the campus clustering of
    `clustering_sample`, `HomeRoomModel.climate` and `tension`, means as `values.mean()`;
    the score's parts by `measures.score_terms` itself (compiled).
    """
    s = model.states
    groups = model.groups
    holds_group = model.config.holds_group
    members, bounds = model.group_members
    m = model.config.measurement
    row, local, degree = recording_kernel.week_measures(
        model.ties.keys,
        model.ties.strength,
        model.n,
        members,
        bounds,
        np.array([(g.climate, g.tension) for g in groups]) if holds_group else NO_CLIMATE,
        model.clients,
        model.friends,
        s.client,
        client_states(s),
        model.social_interaction,
        model.strength_sum,
        s.attended,
        s.dropped_out,
        model.config.disclosure.personal_threshold,
        groups[0].sessions_held if holds_group else 0,
        CLUSTERING_SAMPLE,
        m.contact_scale,
        m.tie_scale,
    )  # fmt: skip
    return week_record(week, row), degree, local


def week_record(week: Week, measures: np.ndarray) -> dict[str, Any]:
    """The weekly table's row (`WEEKLY_REPORTERS`): the week's calendar, then its `measures`."""
    sessions = week.sessions
    values = [
        week.number,
        week.phase,
        sessions[-1].number if sessions else 0,
        sessions[-1].stage if sessions else "",
        *measures.tolist(),
    ]
    for at in INTEGER_AT:
        values[at] = int(values[at])
    return dict(zip(WEEKLY_REPORTERS, values, strict=True))


def client_states(s: StudentStates) -> tuple[np.ndarray, ...]:
    """The states whose client means the weekly table keeps, as `week_measures` takes them."""
    return (
        s.anxiety, s.skill, s.attitude, s.resolve, s.rapport, s.openness, s.disclosure,
        s.contact_rate,
    )  # fmt: skip


def group_members(groups: list[CounselingGroup]) -> tuple[np.ndarray, np.ndarray]:
    """All groups' members, group after group, and where each group starts (and the end).

    The model keeps them (`HomeRoomModel.group_members`): the groups do not change.
    """
    members = np.concatenate([g.members for g in groups]).astype(np.int64, copy=False)
    return members, np.cumsum([0, *(len(g.members) for g in groups)], dtype=np.int64)


def clustering_students(n: int) -> np.ndarray:
    """The students whose local clustering is the campus clustering: every k-th of `n`.

    k = ceil(n / CLUSTERING_SAMPLE): at most `CLUSTERING_SAMPLE` students, everyone in a
    cohort up to that size (as `recording_kernel.clustering_sample` samples them).
    """
    return np.arange(0, n, -(-n // CLUSTERING_SAMPLE))


def group_ties(model: HomeRoomModel) -> list[np.ndarray]:
    """Each group's k x k matrix of tie strengths among its members (the groups' order)."""
    return [model.ties.dense(g.members) for g in model.groups]


def in_group_ties(model: HomeRoomModel, dense: list[np.ndarray] | None = None) -> np.ndarray:
    """Each client's summed tie strength to the other members of their group (clients' order).

    `dense`: the groups' tie matrices (`group_ties`) when the caller has them already.
    """
    strength = np.zeros(model.n)
    for group, tie in zip(model.groups, dense or group_ties(model), strict=True):
        strength[group.members] = tie.sum(axis=1)
    return strength[model.clients]


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


def student_rows(model: HomeRoomModel, degree: np.ndarray) -> np.ndarray:
    """The students' rows of the model's state now (`recording_kernel.STUDENT_ROWS` x n).

    As the compiled weeks keep them (`recording_kernel.keep_students`), which this calls:
    the one way a week's students' rows are taken.
    """
    s = model.states
    rows = np.empty((len(recording_kernel.STUDENT_ROWS), model.n))
    recording_kernel.keep_students(
        rows, model.student_arrays, s.contact_rate, model.strength_sum,
        model.social_interaction, degree,
    )  # fmt: skip
    return rows


def student_snapshot(model: HomeRoomModel, week: int, rows: np.ndarray) -> dict[str, np.ndarray]:
    """A row per student: every state, degree, summed tie strength and score.

    `rows`: the week's `recording_kernel.STUDENT_ROWS` (`student_rows`, or as the compiled
    week kept them), whose rows become the float columns (views: the block is the week's
    own). The columns that stay the same all run (student id, faculty, client, group) are
    copied once, read-only, and shared by every week's rows.
    """
    n = model.n
    fixed = model.student_frames[0] if model.student_frames else _fixed_student_columns(model)
    columns = dict(zip(recording_kernel.STUDENT_ROWS, rows, strict=True))
    return {
        "week": np.full(n, week, dtype=np.int64),
        "student_id": fixed["student_id"],
        "faculty": fixed["faculty"],
        "client": fixed["client"],
        "group": fixed["group"],
        **columns,
        "degree": columns["degree"].astype(np.int64),  # in its place among the columns
    }


def _fixed_student_columns(model: HomeRoomModel) -> dict[str, np.ndarray]:
    """The student rows' columns that stay the same all run, as read-only copies."""
    s = model.states
    columns = {
        "student_id": np.arange(model.n, dtype=np.int64),
        "faculty": s.faculty.astype(np.int64),
        "client": s.client.copy(),
        "group": model.group_of.copy(),
    }
    for values in columns.values():
        values.flags.writeable = False
    return columns


def tie_snapshot(ties: TieStore, week: int) -> dict[str, np.ndarray]:
    """The edge list this week: week, source, target, strength (copies)."""
    return {
        "week": np.full(len(ties), week, dtype=np.int64),
        "source": ties.sources,
        "target": ties.targets,
        "strength": ties.strength.copy(),
    }


def reporter(name: str) -> Callable[[HomeRoomModel], Any]:
    """A Mesa model reporter that reads `name` from the model's last recorded week.

    A `functools.partial` of a module function, which Mesa calls with the model and pickle
    can save (a model is copied and pickled with its DataCollector).
    """
    return functools.partial(recorded_value, name=name)


def recorded_value(model: HomeRoomModel, name: str) -> Any:
    """The value of `name` in the model's last recorded week (what `reporter` reads)."""
    return model.record[name]
