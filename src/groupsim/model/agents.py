"""Agents: students and the counselor (ODD 2, Entities and state variables).

Student states live in numpy arrays (one per state, indexed by student id) so that mechanisms
run on whole groups at once; each `Student` agent is a view of its row, so Mesa's API, the
UI and `mesa.batch_run` see ordinary agents with attributes.

A cohort's agents are made at once (`create_students`): Mesa registers an agent through a
chain of calls (signal, logging) that cost ~5 us an agent, about a fifth of a default model's
set-up beyond its burn-in; the students are registered as Mesa would, in one loop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np

from groupsim.model.kernel import compiled, generator_of

__all__ = [
    "DRAWN_TRAITS",
    "STATES",
    "TRAIT_BASELINES",
    "CounselingGroup",
    "Counselor",
    "ReservedStudents",
    "Student",
    "StudentStates",
    "agents_watched",
    "create_students",
    "draw_students",
    "draw_traits",
    "mean_one",
    "student_label",
    "student_tag",
]

#: Student states in [0, 1] (ODD 2). `resolve` is derived; `rapport` and `disclosure` are 0
#: for students outside the group.
STATES = (
    "sociability",
    "openness",
    "anxiety",
    "skill",
    "attitude",
    "resolve",
    "rapport",
    "disclosure",
)

#: States that drift back toward a baseline drawn at the start (the student's trait level).
TRAIT_BASELINES = ("openness", "anxiety", "skill", "attitude")


@dataclass
class StudentStates:
    """All students' states as arrays of length n."""

    faculty: np.ndarray
    client: np.ndarray
    sociability: np.ndarray
    openness: np.ndarray
    anxiety: np.ndarray
    skill: np.ndarray
    attitude: np.ndarray
    resolve: np.ndarray
    rapport: np.ndarray
    disclosure: np.ndarray
    baseline: dict[str, np.ndarray] = field(default_factory=dict)
    contacts_this_week: np.ndarray = field(default_factory=lambda: np.zeros(0))
    contact_rate: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: How much a student learns from good exchanges, and how much failed ones hurt (mean 1).
    responsiveness: np.ndarray = field(default_factory=lambda: np.ones(0))
    sensitivity: np.ndarray = field(default_factory=lambda: np.ones(0))
    #: Group sessions attended, absences in a row, and whether the client dropped out.
    attended: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    absent_streak: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dropped_out: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def n(self) -> int:
        """The number of students."""
        return len(self.faculty)


#: The traits drawn for each student, in `draw_students`' order of `means` and of its result.
DRAWN_TRAITS = ("sociability", "openness", "anxiety", "skill", "attitude")


def draw_students(
    faculties: int,
    per_faculty: int,
    means: dict[str, float],
    concentration: float,
    rng: Any,
    responsiveness_sd: float = 0.0,
    sensitivity_sd: float = 0.0,
) -> StudentStates:
    """Draw a cohort: Beta-distributed traits around the cohort means (ODD 5, Initialisation).

    Shy students tend to be anxious: anxiety is drawn, then pulled toward 1 - sociability by a
    third, a modest correlation as found between extraversion and social anxiety. How much a
    student learns from good exchanges (`responsiveness`) and how much failed ones hurt
    (`sensitivity`) are log-normal multipliers with mean 1, independent of the rest.
    `rng`: a numpy Generator or a `kernel.RandomStream` of one; the draws are `draw_traits`'.
    """
    n = faculties * per_faculty
    sociability, openness, anxiety, skill, attitude, responsiveness, sensitivity = draw_traits(
        n, tuple(float(means[name]) for name in DRAWN_TRAITS), concentration, rng,
        responsiveness_sd, sensitivity_sd,
    )  # fmt: skip
    states = StudentStates(
        faculty=np.repeat(np.arange(faculties), per_faculty),
        client=np.zeros(n, dtype=bool),
        sociability=sociability,
        openness=openness,
        anxiety=anxiety,
        skill=skill,
        attitude=attitude,
        resolve=np.zeros(n),
        rapport=np.zeros(n),
        disclosure=np.zeros(n),
        contacts_this_week=np.zeros(n),
        contact_rate=np.zeros(n),
        responsiveness=responsiveness,
        sensitivity=sensitivity,
        attended=np.zeros(n, dtype=np.int64),
        absent_streak=np.zeros(n, dtype=np.int64),
        dropped_out=np.zeros(n, dtype=bool),
    )
    states.baseline = {name: getattr(states, name).copy() for name in TRAIT_BASELINES}
    return states


@compiled
def draw_traits(
    n: int,
    means: tuple[float, ...],
    concentration: float,
    rng: Any,
    responsiveness_sd: float,
    sensitivity_sd: float,
) -> tuple[np.ndarray, ...]:
    """`n` students' traits (`DRAWN_TRAITS`, `means` in that order), responsiveness, sensitivity.

    In this order from `rng`: Beta(mean x concentration, (1 - mean) x concentration) draws of
    sociability, anxiety, openness, skill and attitude; anxiety then moves a third of the way
    of (1 - sociability) - (1 - its mean), clipped to [0, 1]; then `n` standard normals
    each for responsiveness and sensitivity, `exp(sd * z - sd**2 / 2)` (mean 1; all 1 at
    sd 0; `mean_one`). numba's Generator methods draw numpy's own numbers, so these are the
    very values numpy's calls in Python give (tested against them, `tests/test_kernel.py`).
    """
    rng = generator_of(rng)
    sociability_mean, openness_mean, anxiety_mean, skill_mean, attitude_mean = means
    k = concentration
    sociability = rng.beta(sociability_mean * k, (1.0 - sociability_mean) * k, n)
    anxiety = rng.beta(anxiety_mean * k, (1.0 - anxiety_mean) * k, n)
    openness = rng.beta(openness_mean * k, (1.0 - openness_mean) * k, n)
    skill = rng.beta(skill_mean * k, (1.0 - skill_mean) * k, n)
    attitude = rng.beta(attitude_mean * k, (1.0 - attitude_mean) * k, n)
    for i in range(n):
        pulled = anxiety[i] + (1.0 / 3.0) * ((1.0 - sociability[i]) - (1.0 - sociability_mean))
        anxiety[i] = min(max(pulled, 0.0), 1.0)
    responsiveness = mean_one(rng.standard_normal(n), responsiveness_sd)
    sensitivity = mean_one(rng.standard_normal(n), sensitivity_sd)
    return sociability, openness, anxiety, skill, attitude, responsiveness, sensitivity


@compiled
def mean_one(z: np.ndarray, spread: float) -> np.ndarray:
    """Standard normals `z` as log-normal multipliers with mean 1 and log-SD `spread` (in place).

    `exp(spread * z - spread**2 / 2)` by the C library's exp (all 1 at spread 0): numpy's
    own exp gives other last bits on CPUs with AVX-512, and a client's responsiveness would
    depend on the machine.
    """
    for i in range(len(z)):
        z[i] = math.exp(spread * z[i] - 0.5 * spread * spread)
    return z


def _state_property(name: str) -> property:
    def get(self: Student) -> float:
        return float(getattr(self.model.states, name)[self.student_id])

    def set_(self: Student, value: float) -> None:
        getattr(self.model.states, name)[self.student_id] = value

    return property(get, set_, doc=f"This student's {name} (a view of the model's array).")


class Student(mesa.Agent):
    """A student: a view of one row of the model's state arrays."""

    def __init__(
        self, model: mesa.Model, student_id: int, faculty_name: str, name: str | None = None
    ):
        super().__init__(model)
        self.student_id = student_id
        self.faculty_name = faculty_name
        #: The student's id in a cohort from data (a pseudonym by default); None when drawn.
        self.name = name

    sociability = _state_property("sociability")
    openness = _state_property("openness")
    anxiety = _state_property("anxiety")
    skill = _state_property("skill")
    attitude = _state_property("attitude")
    resolve = _state_property("resolve")
    rapport = _state_property("rapport")
    disclosure = _state_property("disclosure")

    @property
    def faculty(self) -> int:
        """This student's faculty number."""
        return int(self.model.states.faculty[self.student_id])

    @property
    def client(self) -> bool:
        """Whether this student is in a counseling group."""
        return bool(self.model.states.client[self.student_id])

    @property
    def tag(self) -> str:
        """How the student is named: "S3", or its id in a cohort from data (a pseudonym)."""
        return student_tag(self.name, self.student_id)

    @property
    def label(self) -> str:
        """A short label such as "S3 - Faculty of Law" (a cohort from data: its id)."""
        return student_label(self.tag, self.faculty_name)

    def state(self) -> dict[str, float]:
        """All states of this student."""
        return {name: getattr(self, name) for name in STATES}


def student_tag(name: str | None, student_id: int) -> str:
    """`Student.tag`: the student's id in a cohort from data, else "S" and its number."""
    return name or f"S{student_id}"


def student_label(tag: str, faculty_name: str) -> str:
    """`Student.label`: the tag and the faculty, "S3 - Faculty of Law"."""
    return f"{tag} - {faculty_name}"


def create_students(
    model: mesa.Model, faculty_names: Sequence[str], names: Sequence[str] | None = None
) -> list[Student]:
    """The cohort's `Student` agents, student i with `faculty_names[i]` (and `names[i]`).

    The same agents as `Student(model, i, ...)` one by one: registered with the model in
    order (`model.agents`, `model.agents_by_type[Student]`), with the next unique ids. The
    first is made by Mesa itself (which sets up the Students' agent set); the others are
    registered as `mesa.Model.register_agent` does, without its per-agent debug log and
    signal, in one loop. When anything observes the model's agents (a signal subscriber) or
    tracks Students in a dataset, every agent is made by Mesa, so they see each one.
    """
    n = len(faculty_names)
    tags: Sequence[str | None] = names if names is not None else [None] * n
    if agents_watched(model) or n == 0:
        return [Student(model, i, faculty_names[i], tags[i]) for i in range(n)]
    agents = [Student(model, 0, faculty_names[0], tags[0])]
    # Mesa's own agent sets (a model may make its students when its `agents` are first read).
    everyone = mesa.Model.agents.fget(model)
    students = mesa.Model.agents_by_type.fget(model)[Student]
    unique_id = model.agent_id_counter
    for i in range(1, n):
        agent = Student.__new__(Student)
        # Agent.__init__'s attributes, register_agent's unique id, then Student's own.
        agent.__dict__.update(
            model=model, unique_id=unique_id, pos=None, student_id=i,
            faculty_name=faculty_names[i], name=tags[i],
        )  # fmt: skip
        everyone.add(agent)
        students.add(agent)
        agents.append(agent)
        unique_id += 1
    model.agent_id_counter = unique_id
    return agents


def agents_watched(model: mesa.Model) -> bool:
    """Whether anything watches the model's agents: a signal subscriber, a Student dataset."""
    return bool(Student._datasets) or any(name == "agents" for name, _ in model.subscribers)


@dataclass(frozen=True)
class ReservedStudents:
    """A cohort's `Student` agents before they are made: their first unique id and names.

    A study never reads the agents (it reads the state arrays), and making a default
    cohort's 180 cost 0-7% of a run (four knock-out measurements, 2026-12-02; made only when
    read, a run was 1.04-1.13x as fast, by recording mode: docs/performance.md).
    `HomeRoomModel.enrol_students` reserves their unique ids when the cohort is placed;
    `make` makes them when something first asks for the model's agents: the same agents,
    with the same ids, in the same place among the model's agents, as if they had been made
    at the reservation.
    """

    first_id: int
    faculty_names: list[str]
    names: Sequence[str] | None

    def make(self, model: mesa.Model) -> list[Student]:
        """The students (`create_students`), placed before the agents registered after them."""
        counter = model.agent_id_counter
        model.agent_id_counter = self.first_id
        try:
            students = create_students(model, self.faculty_names, self.names)
        finally:
            model.agent_id_counter = counter
        end = self.first_id + len(self.faculty_names)
        everyone = mesa.Model.agents.fget(model)
        for agent in [a for a in everyone if a.unique_id >= end]:
            everyone.remove(agent)  # to the end, behind the students
            everyone.add(agent)
        by_type = mesa.Model.agents_by_type.fget(model)
        for kind in [t for t in by_type if all(a.unique_id >= end for a in by_type[t])]:
            by_type[kind] = by_type.pop(kind)
        return students


class Counselor(mesa.Agent):
    """The group's counselor: technique, warmth and facilitation (ODD 2).

    Counselors of one technique differ: each draws warmth and facilitation around the
    scenario's values (`counselor.warmth_sd`, `counselor.facilitation_sd`).
    """

    def __init__(self, model: mesa.Model, technique: str, warmth: float, facilitation: float):
        super().__init__(model)
        self.technique = technique
        self.warmth = warmth
        self.facilitation = facilitation


@dataclass
class CounselingGroup:
    """One counseling group: its members, counselor and climate (ODD 2, collectives)."""

    number: int
    members: np.ndarray
    counselor: Counselor
    setting: float
    climate: float
    tension: float = 0.0
    sessions_held: int = 0
    depths: list[float] = field(default_factory=list)
