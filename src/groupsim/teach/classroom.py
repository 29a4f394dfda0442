"""The teaching page's model: one population under two arms that step together.

A :class:`Classroom` is a Mesa model holding one or two :class:`~groupsim.HomeRoomModel`
arms built from the same scenario and seed (the same students on the same campus): the
first under the chosen technique and counselor, the second under a chosen comparison
(:data:`groupsim.teach.lesson.SECOND_ARMS`: no intervention, a standard group, home room,
the lesson's warm four-session group) or any built-in scenario by name, run as it is.

Example:
    >>> from groupsim.scenario import load_scenario
    >>> room = Classroom(load_scenario("home_room", {"cohort.students_per_faculty": 6,
    ...     "cohort.faculties": 4, "group.clients": 4}), second="standard")
    >>> [arm.counselor.technique for arm in room.arms]
    ['home_room', 'standard']
    >>> room.step(); room.week
    1
"""

from __future__ import annotations

import pickle
from typing import Any

import mesa

from groupsim.model.model import HomeRoomModel
from groupsim.scenario import (
    Scenario,
    ScenarioError,
    builtin_scenarios,
    load_scenario,
    parameter_table,
    scenario_from_dict,
    with_overrides,
)
from groupsim.teach.lesson import SECOND_ARMS

__all__ = [
    "HISTORY_BYTES",
    "PARAMETER_PATHS",
    "TECHNIQUES",
    "Classroom",
    "WeekHistory",
    "model_params",
    "parameter_bounds",
    "recall",
    "scenario_choices",
]

#: Technique names as the class reads them -> the scenario's `counselor.technique`.
TECHNIQUES = {"home room": "home_room", "standard group": "standard", "no intervention": "none"}

#: The page's parameters -> dotted scenario paths.
PARAMETER_PATHS = {
    "warmth": "counselor.warmth",
    "facilitation": "counselor.facilitation",
    "sessions": "program.sessions",
    "clients": "group.clients",
}

#: Ranges a class can read on a projector (within the schema's): a group of 3 to 15 clients
#: (beyond that the drawing is a blob), 1 to 16 sessions.
TEACHING_RANGES = {"clients": (3, 15), "sessions": (1, 16)}

#: A built-in scenario is offered as a second arm only when it steps live (campus-scale
#: scenarios of thousands of students do not).
LIVE_STUDENTS = 2_000

#: The earlier weeks a page keeps for its Back button, in bytes (the oldest go first): the
#: default scenario's two arms take 0.3-0.7 MB a week, 6.4 MB for all of its 14 weeks.
HISTORY_BYTES = 64 * 2**20


def _with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    return with_overrides(scenario, overrides, f"{scenario.name} (page)")


def _arm(seed: int, scenario: Scenario) -> HomeRoomModel:
    """One arm as the page runs it: the weekly and student records, no edge lists.

    The page draws the current ties (`HomeRoomModel.network`) and reads the weekly table and
    the students' rows; without the edge lists and faculty rows it never reads, each week
    the page keeps for Back is half the size and pickles in half the time.
    """
    return HomeRoomModel(rng=seed, config=scenario, record_ties=False, record_faculties=False)


def scenario_choices() -> list[str]:
    """Built-in scenarios small enough to run live as a second arm."""
    names = []
    for entry in builtin_scenarios():
        if load_scenario(entry.name).students <= LIVE_STUDENTS:
            names.append(entry.name)
    return names


def parameter_bounds(base: Scenario) -> dict[str, tuple[float, float]]:
    """The sliders' ranges: the schema's, the cohort's and the teaching ranges intersected."""
    rows = {row["path"]: row for row in parameter_table()}
    most_sessions = rows["program.sessions"]["max"]
    if base.program.weeks is not None:
        most_sessions = min(most_sessions, base.program.weeks * base.program.sessions_per_week)
    bounds: dict[str, tuple[float, float]] = {
        name: (rows[path]["min"], rows[path]["max"]) for name, path in PARAMETER_PATHS.items()
    }
    bounds["sessions"] = (
        max(bounds["sessions"][0], TEACHING_RANGES["sessions"][0]),
        min(most_sessions, TEACHING_RANGES["sessions"][1]),
    )
    bounds["clients"] = (
        max(bounds["clients"][0], TEACHING_RANGES["clients"][0]),
        min(bounds["clients"][1], base.students, TEACHING_RANGES["clients"][1]),
    )
    return bounds


def model_params(base: Scenario) -> dict[str, Any]:
    """Mesa SolaraViz user parameters for a :class:`Classroom` (bounded as the page's sliders).

    The page has its own controls; this keeps a Classroom usable with Mesa's `SolaraViz`
    and `ModelCreator`.
    """
    labels = {
        "warmth": "Counselor warmth",
        "facilitation": "Counselor facilitation",
        "sessions": "Sessions",
        "clients": "Group size (clients)",
    }
    values = base.to_dict()
    params: dict[str, Any] = {
        "base": base,
        "technique": {
            "type": "Select",
            "value": next(k for k, v in TECHNIQUES.items() if v == base.counselor.technique),
            "values": list(TECHNIQUES),
            "label": "Technique",
        },
    }
    for name, (lo, hi) in parameter_bounds(base).items():
        section, key = PARAMETER_PATHS[name].split(".")
        is_float = name in ("warmth", "facilitation")
        params[name] = {
            "type": "SliderFloat" if is_float else "SliderInt",
            "value": min(max(values[section][key], lo), hi),
            "min": lo,
            "max": hi,
            "step": 0.05 if is_float else 1,
            "label": labels[name],
        }
    params["seed"] = {"type": "SliderInt", "value": 0, "min": 0, "max": 99, "step": 1}
    params["seed"]["label"] = "Seed"
    params["side_by_side"] = {"type": "Checkbox", "value": True, "label": "Second arm"}
    return params


class Classroom(mesa.Model):
    """One population under one or two counseling arms that step together.

    Args:
        base: the scenario the page started from (a file given to `groupsim ui`).
        technique: "home room", "standard group", "no intervention" (or the scenario's
            technique names home_room, standard, none).
        warmth: the counselor's warmth (overrides the scenario's `counselor.warmth`).
        facilitation: the counselor's facilitation (overrides `counselor.facilitation`).
        sessions: number of group sessions (overrides `program.sessions`).
        clients: clients in the group (overrides `group.clients`).
        seed: the population's seed; both arms share it (same students, same campus).
        side_by_side: add the second arm.
        second: the second arm: a key of `SECOND_ARMS` (the first arm's scenario with
            that change) or a built-in scenario's name; "" for none; default no
            intervention (home room when the first arm has no group).
    """

    def __init__(
        self,
        base: Scenario | None = None,
        technique: str = "home room",
        warmth: float | None = None,
        facilitation: float | None = None,
        sessions: int | None = None,
        clients: int | None = None,
        seed: int = 0,
        side_by_side: bool = True,
        second: str | None = None,
    ):
        super().__init__(rng=seed)
        self.base = base if base is not None else scenario_from_dict({}, "defaults")
        self.seed = int(seed)
        chosen = TECHNIQUES.get(technique, technique)
        overrides: dict[str, Any] = {"counselor.technique": chosen}
        for name, value in (
            ("warmth", warmth),
            ("facilitation", facilitation),
            ("sessions", sessions),
            ("clients", clients),
        ):
            if value is not None:
                overrides[PARAMETER_PATHS[name]] = value
        #: A combination the scenario rejects is shown on the page; the arms keep the base.
        self.problem = ""
        try:
            scenario = _with_overrides(self.base, overrides)
        except ScenarioError as exc:
            self.problem = str(exc)
            scenario = self.base
        if second is None:
            second = "none" if scenario.counselor.technique != "none" else "home_room"
        #: What each arm is: the first arm's technique, then the second arm's key.
        self.arm_keys: list[str] = [scenario.counselor.technique]
        self.arms: list[HomeRoomModel] = [_arm(self.seed, scenario)]
        if side_by_side and second:
            self.arm_keys.append(second)
            self.arms.append(_arm(self.seed, self._second(scenario, second)))

    def _second(self, scenario: Scenario, second: str) -> Scenario:
        if second in SECOND_ARMS:
            try:
                return _with_overrides(scenario, SECOND_ARMS[second])
            except ScenarioError as exc:
                self.problem = str(exc)
                return _with_overrides(scenario, {"counselor.technique": "none"})
        return load_scenario(second)

    @property
    def settings(self) -> dict[str, Any]:
        """The parameters the first arm runs with (slider values are easy to misread)."""
        c = self.arms[0].config
        return {
            "warmth": c.counselor.warmth,
            "facilitation": c.counselor.facilitation,
            "sessions": c.program.sessions,
            "clients": c.group.clients,
            "seed": self.seed,
        }

    @property
    def week(self) -> int:
        """The week the arms have reached (they step together; a shorter arm stops early)."""
        return max(arm.week for arm in self.arms)

    @property
    def last_week(self) -> int:
        """The last week of the longest arm."""
        return max(arm.calendar.last_week for arm in self.arms)

    def step(self) -> None:
        """One week in every arm still running."""
        for arm in self.arms:
            if arm.running:
                arm.step()
        self.running = any(arm.running for arm in self.arms)


def recall(snapshot: bytes) -> Classroom:
    """The classroom `WeekHistory.keep` pickled (this process's own bytes, never a visitor's)."""
    room = pickle.loads(snapshot)  # written by `WeekHistory.keep` in this process
    if not isinstance(room, Classroom):
        raise TypeError(f"not a Classroom snapshot: {type(room).__name__}")
    return room


class WeekHistory:
    """The classroom before each week a page stepped, for its Back button.

    Plain state, not a Solara reactive: keeping a week must not draw the page again (the
    step that follows does), so a step costs one drawing, not two.
    """

    def __init__(self, budget: int = HISTORY_BYTES):
        self.budget = budget
        self.snapshots: tuple[bytes, ...] = ()

    def keep(self, room: Classroom) -> None:
        """Keep `room` as it is now (pickled); the oldest go beyond `budget` bytes.

        The newest is always kept. `back` gives the classroom back: it runs on exactly as
        `room` does from here (`HomeRoomModel` pickles between weeks).
        """
        kept = (*self.snapshots, pickle.dumps(room))
        while len(kept) > 1 and sum(map(len, kept)) > self.budget:
            kept = kept[1:]
        self.snapshots = kept

    def back(self) -> Classroom | None:
        """The last classroom kept, taken out of the history (None when there is none)."""
        if not self.snapshots:
            return None
        *earlier, last = self.snapshots
        self.snapshots = tuple(earlier)
        return recall(last)

    def clear(self) -> None:
        """Forget every week kept (a new classroom)."""
        self.snapshots = ()

    def __len__(self) -> int:
        return len(self.snapshots)
