"""Group sessions (ODD 3, step 1; 7.1-7.6): attendance, tension, climate, rapport, turns.

Every group holds the week's session among the members who came, turn by turn, on the
members' k x k tie matrix; the ties go back to the model's tie store at the end
(`run_group_sessions`). A session has time for a fixed number of turns (its length over a
turn's), shared by whoever is present, so each member's airtime falls as the group grows.

A session's code is in three modules, each importing only the ones before it:

- `groupsim.model.session_inputs`: what a session takes in (the scenario's numbers as a numpy
  record, the students' state arrays, the session's uniforms, `session_draws`);
- `groupsim.model.session_kernel`: the compiled loops of one group's session
  (`group_session`: `take_attendance`, `open_session`, `hold_turns`, `group_exchange`,
  `teach`, `session_ties`), the mechanisms of `groupsim.model.mechanisms` compiled;
- here, the Python around them: `run_group_sessions` and `run_group_session` (which
  `HomeRoomModel` calls by these names), the counselor's `facilitation`, the stage's
  `depth_cap`, and the sessions table's `session_row`.

`run_group_session` hands one group's arrays to `group_session`, one compiled call a group
session: a session is a few dozen small steps, so most of its time went into getting in and
out of compiled code. It hands back the members' ties as pairs, and `run_group_sessions`
writes every group's pairs into the tie store at once (`kernel.set_pairs`): one merge a
session, not one a group, which at campus scale (250 groups among 100,000 students) would copy
the whole store once per group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.model import kernel as k
from groupsim.model import mechanisms as mech
from groupsim.model.recording import cohesion
from groupsim.model.session_inputs import session_draws
from groupsim.model.session_kernel import group_session

if TYPE_CHECKING:
    from groupsim.model.agents import CounselingGroup
    from groupsim.model.model import HomeRoomModel
    from groupsim.model.schedule import Session

__all__ = [
    "depth_cap",
    "facilitation",
    "run_group_session",
    "run_group_sessions",
    "session_row",
]


def run_group_sessions(model: HomeRoomModel, session: Session) -> None:
    """Every group holds this session, in the order of their numbers; resolve is recomputed.

    The groups' ties go back to the tie store together, after the last group's session.
    Groups have no members in common, so no group's session reads a tie another changed:
    the order of groups does not matter, and one merge gives the store each group's return
    would have given.
    """
    returned = [model.run_group_session(group, session) for group in model.groups]
    if returned:
        # One group (the usual case) hands its pairs over as they are: no copies to join.
        pair_keys, pair_strength, pair_used = (
            returned[0]
            if len(returned) == 1
            else [np.concatenate(part) for part in zip(*returned, strict=True)]
        )
        ties = model.ties
        ties.keys, ties.strength, ties.used = k.set_pairs(
            ties.keys, ties.strength, ties.used, pair_keys, pair_strength, pair_used
        )
        ties.changed()
    model.ties_changed()
    model.update_resolve()


def run_group_session(
    model: HomeRoomModel, group: CounselingGroup, session: Session
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One session: attendance, tension and climate, rapport, turns, teaching (ODD 3, step 1).

    Returns the members' ties after the session as pairs for the tie store (`session_ties`:
    pair keys, strengths, used marks; `run_group_sessions` writes them); the session's row goes
    to `model.session_rows`.
    """
    members = group.members
    ties = model.ties
    outcome = group_session(
        session_draws(model.group_rng, len(members), model.session_parameters), members,
        ties.keys, ties.strength, ties.n, model.student_arrays,
        group.climate, group.tension, group.setting, group.counselor.warmth,
        facilitation(model, group), getattr(model.config.tension, session.stage),
        depth_cap(model, session), session.stage == "working", model.session_parameters,
    )  # fmt: skip
    group.climate, group.tension, present, offered, taken, depth_sum, disclosed, tie = outcome[:8]
    pairs = outcome[8:]
    group.sessions_held += 1
    turns = (offered, taken, depth_sum / disclosed if disclosed else 0.0)
    # The pairs handed back are the member pairs with a tie: the row's density counts them.
    row = session_row(model, group, session, tie, len(pairs[0]), len(present), turns)
    model.session_rows.append(row)
    return pairs


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


def session_row(
    model: HomeRoomModel,
    group: CounselingGroup,
    session: Session,
    tie: np.ndarray,
    tied_pairs: int,
    present: int,
    turns: tuple[int, int, float],
) -> dict[str, Any]:
    """The sessions table's row for one group's session.

    `tie`: the members' tie matrix after it; `tied_pairs`: how many member pairs have a tie;
    `present`: how many members came; `turns`: offered, taken, mean depth disclosed. Density
    and the share who disclosed are counts over the members' pairs and members: the numbers
    `recording.density` and `recording.disclosed_share` give, without their array passes
    (most of the row's time).
    """
    size = len(group.members)
    pairs = size * (size - 1) / 2.0
    disclosed = model.states.disclosure[group.members] >= model.config.disclosure.personal_threshold
    offered, taken, mean_depth = turns
    return {
        "group": group.number,
        "session": session.number,
        "week": session.week,
        "stage": session.stage,
        "climate": group.climate,
        "tension": group.tension,
        "attendance": present / size,
        "engagement": taken / offered if offered else 0.0,
        "disclosure_depth": mean_depth,
        "group_density": tied_pairs / pairs if pairs else 0.0,
        "group_cohesion": cohesion(tie),
        "clients_disclosed_share": int(np.count_nonzero(disclosed)) / size,
    }
