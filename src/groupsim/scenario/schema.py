"""The scenario schema: every parameter with its default, range, unit and meaning (ODD 6).

A scenario is a TOML file with one table per concern (`[cohort]`, `[group]`, `[counselor]`,
`[program]`, one per mechanism). Every parameter is declared once here; the scenario files,
`groupsim check` and the docs read them from this schema. :mod:`groupsim.scenario.files` reads,
validates, overrides and writes scenario files; :mod:`groupsim.scenario.sections` declares the
sections.
"""

from __future__ import annotations

import math
import tomllib
from functools import cache
from importlib import resources
from typing import Any

from pydantic import Field, model_validator

from groupsim.scenario.sections import (
    PRACTICES,
    Attendance,
    Attitude,
    Campus,
    Climate,
    Cohort,
    Counselor,
    Decay,
    Disclosure,
    Engagement,
    Exchange,
    Group,
    Measurement,
    Program,
    Rapport,
    Resolve,
    Technique,
    Tension,
    _Section,
)

__all__ = ["PRACTICES", "SECTIONS", "Scenario", "ScenarioError", "technique_presets"]


class ScenarioError(ValueError):
    """Bad scenario input: names the file, the field and what is allowed."""

    def __init__(self, source: str, field: str, allowed: str):
        self.source = source
        self.field = field
        self.allowed = allowed
        super().__init__(f"{source}: {field}: {allowed}")

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[str, str, str]]:
        """Pickle by the three arguments, so the error crosses to a worker's parent intact."""
        return (type(self), (self.source, self.field, self.allowed))


class Scenario(_Section):
    """All parameters of one simulated study."""

    name: str = Field("scenario", description="a short label for outputs and figures")
    description: str = Field("", description="what this scenario represents")
    cohort: Cohort = Field(default_factory=Cohort)
    group: Group = Field(default_factory=Group)
    counselor: Counselor = Field(default_factory=Counselor)
    technique: Technique = Field(default_factory=Technique)
    program: Program = Field(default_factory=Program)
    climate: Climate = Field(default_factory=Climate)
    rapport: Rapport = Field(default_factory=Rapport)
    engagement: Engagement = Field(default_factory=Engagement)
    attendance: Attendance = Field(default_factory=Attendance)
    tension: Tension = Field(default_factory=Tension)
    exchange: Exchange = Field(default_factory=Exchange)
    disclosure: Disclosure = Field(default_factory=Disclosure)
    attitude: Attitude = Field(default_factory=Attitude)
    resolve: Resolve = Field(default_factory=Resolve)
    campus: Campus = Field(default_factory=Campus)
    decay: Decay = Field(default_factory=Decay)
    measurement: Measurement = Field(default_factory=Measurement)

    @model_validator(mode="after")
    def _combinations(self) -> Scenario:
        students = self.cohort.faculties * self.cohort.students_per_faculty
        clients = self.group.clients * self.program.groups
        if clients > students:
            raise _ComboError(
                "group.clients",
                f"at most the cohort's {students} students (faculties x students_per_faculty) "
                f"over all {self.program.groups} group(s); got {self.group.clients} x "
                f"{self.program.groups} = {clients}",
            )
        ids = self.group.client_ids
        if ids and (len(ids) != clients or len(set(ids)) != len(ids)):
            raise _ComboError(
                "group.client_ids",
                f"exactly program.groups x group.clients = {clients} different ids, "
                f"got {len(ids)} ({len(set(ids))} different)",
            )
        if self.group.selection == "within_faculty":
            per_faculty_groups = math.ceil(self.program.groups / self.cohort.faculties)
            if per_faculty_groups * self.group.clients > self.cohort.students_per_faculty:
                raise _ComboError(
                    "group.selection",
                    f"'within_faculty' needs {per_faculty_groups} group(s) of "
                    f"{self.group.clients} in a faculty of {self.cohort.students_per_faculty}; "
                    "use fewer or smaller groups, or another selection",
                )
        if self.group.selection == "random_screened":
            screened = math.floor(self.group.screened_share * students)
            if screened < clients:
                raise _ComboError(
                    "group.screened_share",
                    f"screens {screened} students, fewer than the {clients} clients needed",
                )
        weeks = self.program.weeks
        if weeks is not None and weeks * self.program.sessions_per_week < self.program.sessions:
            raise _ComboError(
                "program.sessions",
                f"{self.program.sessions} sessions do not fit in {weeks} program weeks at "
                f"{self.program.sessions_per_week} per week (at most "
                f"{weeks * self.program.sessions_per_week})",
            )
        names = self.cohort.faculty_names
        if names and len(names) != self.cohort.faculties:
            raise _ComboError(
                "cohort.faculty_names",
                f"one name per faculty ({self.cohort.faculties}), got {len(names)}",
            )
        return self

    @property
    def program_weeks(self) -> int:
        """Weeks of the program: as given, or as few as the sessions need."""
        if self.program.weeks is not None:
            return self.program.weeks
        return math.ceil(self.program.sessions / self.program.sessions_per_week)

    @property
    def total_weeks(self) -> int:
        """Recorded weeks after week 0: baseline + program + follow-up."""
        return self.program.baseline_weeks + self.program_weeks + self.program.followup_weeks

    @property
    def technique_name(self) -> str:
        """The technique's label: `[technique] name`, else the preset's name."""
        return self.technique.name or self.counselor.technique

    @property
    def holds_group(self) -> bool:
        """Whether the technique holds group sessions (`[technique] group`, else the preset's)."""
        if self.technique.group is not None:
            return self.technique.group
        return bool(technique_presets()[self.counselor.technique]["group"])

    @property
    def practices(self) -> dict[str, float]:
        """Every practice's value: the `[technique]` table's, else the preset's (ODD 7)."""
        preset = technique_presets()[self.counselor.technique]
        own = {name: getattr(self.technique, name) for name in PRACTICES}
        return {name: float(preset[name] if own[name] is None else own[name]) for name in own}

    @property
    def students(self) -> int:
        """Students on campus: faculties times students per faculty (or the cohort file's)."""
        if self.cohort.data:
            from groupsim.scenario.cohort_file import read_cohort  # it imports this module

            return read_cohort(self.cohort.data).n
        return self.cohort.faculties * self.cohort.students_per_faculty

    def to_dict(self) -> dict[str, Any]:
        """The scenario as a nested dict of sections (as read from TOML; unset keys left out)."""
        data = self.model_dump(mode="python")
        if data["program"]["weeks"] is None:
            del data["program"]["weeks"]
        data["technique"] = {k: v for k, v in data["technique"].items() if v is not None}
        return data


@cache
def technique_presets() -> dict[str, dict[str, Any]]:
    """The presets of `counselor.technique` (`techniques.toml` shipped with the package)."""
    text = resources.files("groupsim.scenario").joinpath("techniques.toml").read_text("utf-8")
    return tomllib.loads(text)


class _ComboError(ValueError):
    """An impossible combination of otherwise valid values (raised inside validation)."""

    def __init__(self, field: str, allowed: str):
        self.field = field
        self.allowed = allowed
        super().__init__(allowed)

    def __reduce__(self) -> tuple[type[_ComboError], tuple[str, str]]:
        """Pickle by the two arguments (see `ScenarioError.__reduce__`)."""
        return (type(self), (self.field, self.allowed))


SECTIONS: dict[str, type[_Section]] = {
    name: info.annotation
    for name, info in Scenario.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, _Section)
}
