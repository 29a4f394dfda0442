"""What the lesson reads off a run: captions per session, the lesson's numbers, presets, arms.

Pure functions over a live :class:`~groupsim.HomeRoomModel` (the teaching page) or a run's
tables (the replay and the animation), in the language of a
:class:`~groupsim.teach.messages.Messages` catalogue:

- :func:`week_caption`: week, phase, every session held that week with its stage, and the
  climate, the last two only while a group meets;
- :func:`arm_numbers` / :func:`result_numbers`: questionnaire means, "k of n opened up",
  density, isolates and attendance (when the model records it);
- :func:`pause_reason`: why Play stops after a week (a new stage, the program's end);
- :data:`PRESETS` and :data:`SECOND_ARMS`: the lesson's questions as one-click settings and
  the choices of a second arm.

Example:
    >>> from groupsim.teach.messages import messages
    >>> row = {"week": 3, "phase": "program", "climate": 0.61}
    >>> week_caption(row, 14, [(3, "transition"), (4, "working")], messages("en"))
    'Week 3 of 14 · program · session 3 (transition), session 4 (working) · climate 0.61'
    >>> week_caption({"week": 1, "phase": "baseline", "climate": 0.5}, 14, [], messages("id"))
    'Minggu 1 dari 14 · masa awal'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from groupsim.teach.messages import Messages, messages

__all__ = [
    "PRESETS",
    "SECOND_ARMS",
    "LessonNumbers",
    "Preset",
    "arm_numbers",
    "attendance_of",
    "opened_up",
    "pause_reason",
    "result_numbers",
    "sessions_of_week",
    "stage_so_far",
    "week_caption",
]

#: Second-arm choices that vary the first arm's scenario (key -> overrides); a built-in
#: scenario's name is a choice too, run as it is.
SECOND_ARMS: dict[str, dict[str, Any]] = {
    "none": {"counselor.technique": "none"},
    "standard": {"counselor.technique": "standard"},
    "home_room": {"counselor.technique": "home_room"},
    "q3_warm": {
        "counselor.technique": "home_room",
        "counselor.warmth": 0.85,
        "program.sessions": 4,
    },
}


@dataclass(frozen=True)
class Preset:
    """One lesson question as settings: the first arm's parameters, the second arm, colour."""

    key: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    second: str = "none"
    colour_by: str = "social_interaction"


#: The questions of docs/teaching.md, each a one-click preset (parameters not named keep
#: the scenario's own values).
PRESETS = (
    Preset("q1", {"technique": "home_room"}, "none"),
    Preset("q2", {"technique": "home_room"}, "standard", "disclosure"),
    Preset("q3", {"technique": "home_room", "warmth": 0.3, "sessions": 12}, "q3_warm"),
    Preset("free", {}, "none"),
)


def sessions_of_week(sessions: Any, week: int) -> list[tuple[int, str]]:
    """(number, stage) of the sessions held in `week`, from a run's sessions table."""
    if sessions is None or len(sessions) == 0:
        return []
    rows = sessions[sessions["week"] == week].drop_duplicates("session").sort_values("session")
    return [(int(n), str(s)) for n, s in zip(rows["session"], rows["stage"], strict=True)]


def week_caption(
    row: Mapping[str, Any],
    last_week: int,
    sessions: Sequence[tuple[int, str]] | None = None,
    words: Messages | None = None,
) -> str:
    """One line for the class: week, phase, the sessions held and their stages, climate.

    Stage and climate appear only in a week the group meets. Without `sessions` the row's
    own `session` and `stage` (the week's last session) are used.
    """
    words = words or messages("en")
    text = (
        f"{words('caption.week', week=int(row['week']), last=last_week)}"
        f" · {words.phase(str(row['phase']))}"
    )
    if sessions is None:
        held = int(row.get("session", 0) or 0)
        sessions = [(held, str(row.get("stage", "")))] if held > 0 else []
    if not sessions:
        return text
    text += " · " + ", ".join(
        words("caption.session", number=n, stage=words.stage(s)) for n, s in sessions
    )
    climate = row.get("climate")
    if climate is not None and climate == climate:  # NaN: no group, no climate
        text += " · " + words("caption.climate", climate=float(climate))
    return text


def opened_up(disclosure: np.ndarray, members: Sequence[int], threshold: float) -> list[int]:
    """The members whose deepest disclosure has reached the threshold ("opened up")."""
    return [int(i) for i in members if disclosure[int(i)] >= threshold]


@dataclass(frozen=True)
class LessonNumbers:
    """The numbers a lesson reads for one arm in one week."""

    questionnaire: tuple[float | None, float | None, float | None]  # pre, post, follow-up
    opened: tuple[int, ...]
    clients: int
    density: float
    isolates: int
    climate: float | None
    attendance: float | None

    def rows(self, words: Messages) -> list[tuple[str, str]]:
        """(label, value) pairs in the reader's language."""

        def total(v: float | None) -> str:
            return words("lesson.not_yet") if v is None else f"{v:.1f}"

        occasions = ("lesson.pre", "lesson.post", "lesson.followup")
        out = [
            (f"{words('lesson.q_short')}: {words(key)}", total(value))
            for key, value in zip(occasions, self.questionnaire, strict=True)
        ]
        out += [
            (
                words("lesson.opened_up"),
                words("lesson.opened_of", k=len(self.opened), n=self.clients),
            ),
            (words("lesson.density"), f"{self.density:.2f}"),
            (words("lesson.isolates"), str(self.isolates)),
        ]
        if self.climate is not None:
            out.append((words("lesson.climate"), f"{self.climate:.2f}"))
        if self.attendance is not None:
            out.append((words("lesson.attendance"), f"{100 * self.attendance:.0f}%"))
        return out


def attendance_of(row: Mapping[str, Any]) -> float | None:
    """The week's attendance share when the model records one (a column named attendance)."""
    for key in ("clients_attendance", "attendance", "group_attendance"):
        value = row.get(key)
        if value is not None and value == value:
            return float(value)
    return None


def _mean(values: Any) -> float | None:
    array = np.asarray(values, dtype=float)
    return float(np.nanmean(array)) if array.size and not np.isnan(array).all() else None


def arm_numbers(arm: Any) -> LessonNumbers:
    """The lesson's numbers for a live arm (a :class:`~groupsim.HomeRoomModel`) this week."""
    row = arm.record
    clients = [int(i) for i in arm.clients]
    threshold = arm.config.disclosure.personal_threshold
    meets = bool(arm.calendar.sessions_in(arm.week))
    climate = row.get("climate")
    return LessonNumbers(
        questionnaire=tuple(  # type: ignore[arg-type]
            _mean(arm.questionnaire[o]) if o in arm.questionnaire else None
            for o in ("pre", "post", "followup")
        ),
        opened=tuple(opened_up(arm.states.disclosure, clients, threshold)),
        clients=len(clients),
        density=float(row.get("group_density", math.nan)),
        isolates=int(row.get("group_isolates", 0)),
        climate=float(climate) if meets and climate == climate else None,
        attendance=attendance_of(row),
    )


def result_numbers(result: Any, week: int) -> LessonNumbers:
    """The lesson's numbers of a finished run as they stood in `week`."""
    row = result.weekly.set_index("week").loc[week].to_dict()
    cal = result.scenario.program
    q = result.questionnaire
    due = {
        "pre": cal.baseline_weeks,
        "post": cal.baseline_weeks + result.scenario.program_weeks,
        "followup": int(result.weekly["week"].max()),
    }
    students = result.students[result.students["week"] == week]
    clients = [int(i) for i in q["student_id"]]
    disclosure = np.zeros(int(result.students["student_id"].max()) + 1)
    disclosure[students["student_id"].to_numpy()] = students["disclosure"].to_numpy()
    threshold = result.scenario.disclosure.personal_threshold
    meets = bool(sessions_of_week(result.sessions, week))
    climate = row.get("climate")
    return LessonNumbers(
        questionnaire=tuple(  # type: ignore[arg-type]
            _mean(q[o]) if week >= due[o] and o in q else None for o in ("pre", "post", "followup")
        ),
        opened=tuple(opened_up(disclosure, clients, threshold)),
        clients=len(clients),
        density=float(row.get("group_density", math.nan)),
        isolates=int(row.get("group_isolates", 0)),
        climate=float(climate) if meets and climate == climate else None,
        attendance=attendance_of(row),
    )


def stage_so_far(arm: Any) -> str:
    """The stage of the last session `arm` has held ("" before the first)."""
    held = [s for w in range(arm.week + 1) for s in arm.calendar.sessions_in(w)]
    return held[-1].stage if held else ""


def pause_reason(arm: Any, stage_before: str) -> tuple[str, str] | None:
    """Why Play should stop after the week `arm` has just run, as (message key, stage).

    A new counseling stage began this week (the forming stage included), the program ended
    (the post-test week), or the run reached its last week; None to play on.
    """
    cal = arm.calendar
    if arm.week >= cal.last_week:
        return ("page.paused_last", "")
    for session in cal.sessions_in(arm.week):
        if session.stage != stage_before:
            return ("page.paused_stage", session.stage)
        stage_before = session.stage
    if arm.week == cal.last_program_week:
        return ("page.paused_end", "")
    return None
