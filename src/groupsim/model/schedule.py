"""The calendar of a run: phases, program weeks, sessions and counseling stages (ODD 3).

Week 0 is the moment of screening (after burn-in). Weeks 1.. are baseline, program and
follow-up weeks. Sessions are numbered 1..N over the program and spread as evenly as the
weekly maximum allows. Stages follow Prayitno's group counseling stages: forming
(pembentukan), transition (peralihan), working (kegiatan), termination (pengakhiran).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STAGES", "Calendar", "Session", "Week", "session_stages"]

STAGES = ("forming", "transition", "working", "termination")


@dataclass(frozen=True)
class Session:
    """A group session: its number (1..N), week and counseling stage."""

    number: int
    week: int
    stage: str


@dataclass(frozen=True)
class Week:
    """A week of the calendar: its number, phase and the sessions held in it."""

    number: int
    phase: str  # baseline, program, followup
    sessions: tuple[Session, ...] = ()


def session_stages(sessions: int, transition_share: float) -> list[str]:
    """Stage of each session: the first forms the group, the last terminates it.

    Between them, the first `transition_share * (N - 2)` sessions, rounded half up (0.5 of 5
    gives 3), are the transition (hesitation and resistance; sessions 2 to 4 of 8 to 10 in the
    field), the rest the working stage. One session is only forming; two are forming and
    termination.
    """
    if sessions == 1:
        return ["forming"]
    middle = sessions - 2
    transition = min(middle, int(transition_share * middle + 0.5))
    return (
        ["forming"]
        + ["transition"] * transition
        + ["working"] * (middle - transition)
        + ["termination"]
    )


class Calendar:
    """Weeks of a run, built from the program parameters."""

    def __init__(
        self,
        baseline_weeks: int,
        program_weeks: int,
        followup_weeks: int,
        sessions: int,
        transition_share: float,
        with_group: bool = True,
    ):
        self.baseline_weeks = baseline_weeks
        self.program_weeks = program_weeks
        self.followup_weeks = followup_weeks
        stages = session_stages(sessions, transition_share)
        # Spread sessions evenly over the program: session i (from 0) falls in program week
        # floor(i * weeks / sessions), so no week holds more than ceil(sessions / weeks).
        per_week = [0] * program_weeks
        for i in range(sessions):
            per_week[i * program_weeks // sessions] += 1
        weeks: list[Week] = [Week(0, "baseline")]
        number = 1
        for _ in range(baseline_weeks):
            weeks.append(Week(number, "baseline"))
            number += 1
        session_number = 1
        for count in per_week:
            held = []
            for _ in range(count if with_group else 0):
                held.append(Session(session_number, number, stages[session_number - 1]))
                session_number += 1
            weeks.append(Week(number, "program", tuple(held)))
            number += 1
        for _ in range(followup_weeks):
            weeks.append(Week(number, "followup"))
            number += 1
        self.weeks = weeks

    @property
    def last_week(self) -> int:
        """The run's last week (the follow-up, or the last program week)."""
        return self.weeks[-1].number

    @property
    def last_baseline_week(self) -> int:
        """The week of the pre-test (0 without baseline weeks)."""
        return self.baseline_weeks

    @property
    def last_program_week(self) -> int:
        """The week of the post-test."""
        return self.baseline_weeks + self.program_weeks

    def week(self, number: int) -> Week:
        """The week with this number."""
        return self.weeks[number]

    def sessions_in(self, number: int) -> tuple[Session, ...]:
        """The sessions held in week `number`."""
        return self.weeks[number].sessions
