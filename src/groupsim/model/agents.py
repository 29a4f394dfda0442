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

import mesa
import numpy as np

__all__ = [
    "STATES",
    "TRAIT_BASELINES",
    "CounselingGroup",
    "Counselor",
    "Student",
    "StudentStates",
    "create_students",
    "draw_students",
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


def _beta(mean: float, concentration: float, size: int, rng: np.random.Generator) -> np.ndarray:
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size=size)


def _lognormal_mean_one(spread: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Multipliers with mean 1 and log-SD `spread` (all 1 when `spread` is 0).

    The C library's exp, as compiled code has it: numpy's own exp gives other last bits on
    CPUs with AVX-512, and a client's responsiveness would depend on the machine.
    """
    exponents = spread * rng.standard_normal(size) - 0.5 * spread * spread
    return np.array([math.exp(x) for x in exponents.tolist()], dtype=np.float64)


def draw_students(
    faculties: int,
    per_faculty: int,
    means: dict[str, float],
    concentration: float,
    rng: np.random.Generator,
    responsiveness_sd: float = 0.0,
    sensitivity_sd: float = 0.0,
) -> StudentStates:
    """Draw a cohort: Beta-distributed traits around the cohort means (ODD 5, Initialisation).

    Shy students tend to be anxious: anxiety is drawn, then pulled toward 1 - sociability by a
    third, a modest correlation as found between extraversion and social anxiety. How much a
    student learns from good exchanges (`responsiveness`) and how much failed ones hurt
    (`sensitivity`) are log-normal multipliers with mean 1, independent of the rest.
    """
    n = faculties * per_faculty
    faculty = np.repeat(np.arange(faculties), per_faculty)
    sociability = _beta(means["sociability"], concentration, n, rng)
    anxiety = _beta(means["anxiety"], concentration, n, rng)
    anxiety = anxiety + (1.0 / 3.0) * ((1.0 - sociability) - (1.0 - means["sociability"]))
    anxiety = np.clip(anxiety, 0.0, 1.0)
    openness = _beta(means["openness"], concentration, n, rng)
    skill = _beta(means["skill"], concentration, n, rng)
    attitude = _beta(means["attitude"], concentration, n, rng)
    states = StudentStates(
        faculty=faculty,
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
        responsiveness=_lognormal_mean_one(responsiveness_sd, n, rng),
        sensitivity=_lognormal_mean_one(sensitivity_sd, n, rng),
        attended=np.zeros(n, dtype=np.int64),
        absent_streak=np.zeros(n, dtype=np.int64),
        dropped_out=np.zeros(n, dtype=bool),
    )
    states.baseline = {name: getattr(states, name).copy() for name in TRAIT_BASELINES}
    return states


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
    watched = Student._datasets or any(name == "agents" for name, _ in model.subscribers)
    if watched or n == 0:
        return [Student(model, i, faculty_names[i], tags[i]) for i in range(n)]
    agents = [Student(model, 0, faculty_names[0], tags[0])]
    everyone, students = model.agents, model.agents_by_type[Student]
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
