"""Per-run outcomes: the numbers experiments, sweeps and power analyses compare.

One place defines them, so `groupsim compare`, `groupsim sweep` and `groupsim power` speak of
the same things. Time points: `pre` = last baseline week (the pre-test), `post` = last program
week (the post-test), `followup` = last week.

Example:
    >>> from groupsim import load_scenario, run
    >>> from groupsim.outcomes import run_outcomes
    >>> out = run_outcomes(run(load_scenario("scenarios/home_room.toml"), seed=1))
    >>> out["post_social_interaction"] > out["pre_social_interaction"]
    True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from groupsim.runner import RunResult

__all__ = ["OUTCOMES", "time_points", "run_outcomes", "client_outcomes"]

#: Weekly columns followed at pre, post and follow-up, under short outcome names.
TRACKED = {
    "social_interaction": "clients_social_interaction",
    "attitude": "clients_attitude",
    "resolve": "clients_resolve",
    "anxiety": "clients_anxiety",
    "skill": "clients_skill",
    "group_density": "group_density",
    "disclosed_share": "clients_disclosed_share",
    "group_isolates": "group_isolates",
    "others_social_interaction": "others_social_interaction",
    "friends_social_interaction": "friends_social_interaction",
    "friends_contact_rate": "friends_contact_rate",
    "campus_density": "campus_density",
    "campus_clustering": "campus_clustering",
}

#: Every outcome `run_outcomes` returns, with its meaning.
OUTCOMES: dict[str, str] = {}
for _short, _column in TRACKED.items():
    for _when in ("pre", "post", "followup"):
        OUTCOMES[f"{_when}_{_short}"] = f"weekly `{_column}` at the {_when} time point"
OUTCOMES.update(
    {
        "questionnaire_pre": "clients' mean pre-test total (35-140)",
        "questionnaire_post": "clients' mean post-test total (35-140)",
        "questionnaire_followup": "clients' mean follow-up total (35-140)",
        "questionnaire_gain": "mean post - pre total",
        "final_climate": "group climate after the last session (NaN without a group)",
        "mean_engagement": "mean session engagement (NaN without a group)",
        "all_disclosed_by_working": "1 if every client had opened up by the first working "
        "session's end, else 0 (NaN without a working stage)",
    }
)


def time_points(result: RunResult) -> dict[str, int]:
    """Weeks of the pre-test, post-test and follow-up."""
    program = result.scenario.program
    # With screening on the pre-test itself, the pre-test is given at screening (week 0).
    pre = 0 if result.scenario.group.screening == "pretest" else program.baseline_weeks
    post = program.baseline_weeks + result.scenario.program_weeks
    return {"pre": pre, "post": post, "followup": int(result.weekly["week"].max())}


def run_outcomes(result: RunResult) -> dict[str, float]:
    """The outcomes of one run (see `OUTCOMES`)."""
    weekly = result.weekly.set_index("week")
    out: dict[str, float] = {}
    for when, week in time_points(result).items():
        for short, column in TRACKED.items():
            out[f"{when}_{short}"] = float(weekly.loc[week, column])
    q = result.questionnaire
    out["questionnaire_pre"] = float(q["pre"].mean())
    out["questionnaire_post"] = float(q["post"].mean())
    out["questionnaire_followup"] = float(q["followup"].mean())
    out["questionnaire_gain"] = out["questionnaire_post"] - out["questionnaire_pre"]
    s = result.sessions
    # With several groups the sessions table has a row per group per session: read every
    # group's row of the session in question, not only the first or last row.
    last = s[s["session"] == s["session"].max()]
    out["final_climate"] = float(last["climate"].mean()) if len(s) else float("nan")
    out["mean_engagement"] = float(s["engagement"].mean()) if len(s) else float("nan")
    working = s[s["stage"] == "working"]
    first_working = working[working["session"] == working["session"].min()]
    out["all_disclosed_by_working"] = (
        float((first_working["clients_disclosed_share"] >= 1.0).all())
        if len(working)
        else float("nan")
    )
    return out


def client_outcomes(result: RunResult) -> pd.DataFrame:
    """A row per client: baseline traits and social interaction at pre, post and follow-up.

    For "who benefits" analyses (effects by baseline anxiety or sociability).
    """
    students = result.students
    if students.empty:
        raise ValueError("client_outcomes needs the students table (run with record_students)")
    points = time_points(result)
    clients = students[students["client"]]
    base = clients[clients["week"] == points["pre"]].set_index("student_id")
    frame = pd.DataFrame(
        {
            "student_id": base.index.to_numpy(dtype=np.int64),
            "faculty": base["faculty"].to_numpy(),
            "baseline_anxiety": base["anxiety"].to_numpy(),
            "baseline_sociability": base["sociability"].to_numpy(),
        }
    )
    for when, week in points.items():
        at = clients[clients["week"] == week].set_index("student_id")
        scores = at.loc[frame["student_id"], "social_interaction"]
        frame[f"{when}_social_interaction"] = scores.to_numpy()
    return frame
