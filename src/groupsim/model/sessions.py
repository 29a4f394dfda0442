"""Group sessions (ODD 3, step 1; 7.1-7.6): attendance, tension, climate, rapport, turns.

Every group holds the week's session among the members who came, turn by turn, on the
members' k x k tie matrix; the ties go back to the model's tie store at the end, every
group's at once. A session has time for a fixed number of turns (its length over a turn's),
shared by whoever is present, so each member's airtime falls as the group grows.

A session's code is in four modules, each importing only the ones before it:

- `groupsim.model.session_inputs`: what a session takes in (the scenario's numbers as a numpy
  record, the students' state arrays, the session's uniforms, `session_draws`);
- `groupsim.model.session_kernel`: the compiled loops of one group's session
  (`group_session`: `take_attendance`, `open_session`, `hold_turns`, `group_exchange`,
  `teach`, `session_ties`), the mechanisms of `groupsim.model.mechanisms` compiled;
- `groupsim.model.week_kernel`: `hold_sessions`, every group's session in turn, their ties
  written to the tie store in one merge (`kernel.set_pairs`: one a session, not one a group,
  which at campus scale, 250 groups among 100,000 students, would copy the whole store once
  per group), then resolve; it runs inside the compiled week (`run_weeks`);
- here, the Python around them: the counselor's `facilitation`, the stage's `depth_cap`
  (what `groupsim.model.weeks` hands the compiled week), and the sessions table's
  `session_row`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from groupsim.model import mechanisms as mech
from groupsim.model.week_kernel import SESSION_MEASURES

if TYPE_CHECKING:
    from groupsim.model.agents import CounselingGroup
    from groupsim.model.model import HomeRoomModel
    from groupsim.model.schedule import Session

__all__ = ["depth_cap", "facilitation", "session_row"]


def facilitation(model: HomeRoomModel, group: CounselingGroup) -> float:
    """The facilitation this group's counselor achieves with the technique's turn-taking."""
    return mech.practised_facilitation(
        group.counselor.facilitation,
        model.practices["turn_taking"],
        model.config.engagement.turn_taking_share,
    )


def depth_cap(model: HomeRoomModel, session: Session) -> float:
    """The deepest disclosure the session's stage allows (ice-breakers deepen forming)."""
    d = model.config.disclosure
    cap = getattr(d, f"{session.stage}_depth")
    if session.stage == "forming":
        cap += d.ice_breaker_depth * model.practices["ice_breakers"]
    return float(min(1.0, cap))


def session_row(group: CounselingGroup, session: Session, measures: list[float]) -> dict[str, Any]:
    """The sessions table's row for one group's session: its `week_kernel.SESSION_MEASURES`.

    `measures` as `week_kernel.hold_sessions` takes them: the climate and tension after the
    session, the share of members present, turns taken of those offered, the mean depth
    disclosed, and the share of member pairs with a tie, their mean tie strength and the share
    who disclosed (the numbers `recording.density`, `recording.cohesion` and
    `recording.disclosed_share` give of the members' tie matrix and disclosure).
    """
    return {
        "group": group.number,
        "session": session.number,
        "week": session.week,
        "stage": session.stage,
        **dict(zip(SESSION_MEASURES, measures, strict=True)),
    }
