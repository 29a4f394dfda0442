"""Per-run outcomes: the numbers experiments, sweeps and power analyses compare.

One place defines them, so `groupsim compare`, `groupsim sweep` and `groupsim power` speak of
the same things. Time points: `pre` = last baseline week (the pre-test), `post` = last program
week (the post-test), `followup` = last week.

Example:
    >>> from groupsim import load_scenario, run
    >>> from groupsim.runs.outcomes import run_outcomes
    >>> out = run_outcomes(run(load_scenario("scenarios/home_room.toml"), seed=1))
    >>> out["post_social_interaction"] > out["pre_social_interaction"]
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from groupsim.runs.runner import RunResult
from groupsim.scenario import Scenario

__all__ = [
    "OUTCOMES",
    "client_outcomes",
    "model_outcomes",
    "outcome_weeks",
    "run_outcomes",
    "time_points",
]

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


def outcome_weeks(scenario: Scenario) -> dict[str, int]:
    """Weeks of the pre-test, post-test and follow-up of a run of `scenario`: the weekly
    rows the outcomes read (a summary-only run records just these, see `record_weeks` of
    `HomeRoomModel`).

    Example:
        >>> from groupsim import load_scenario
        >>> outcome_weeks(load_scenario("scenarios/home_room.toml"))
        {'pre': 2, 'post': 6, 'followup': 14}
    """
    program = scenario.program
    # With screening on the pre-test itself, the pre-test is given at screening (week 0).
    pre = 0 if scenario.group.screening == "pretest" else program.baseline_weeks
    post = program.baseline_weeks + scenario.program_weeks
    return {"pre": pre, "post": post, "followup": scenario.total_weeks}


def time_points(result: RunResult) -> dict[str, int]:
    """Weeks of the pre-test, post-test and follow-up (`outcome_weeks` of its scenario)."""
    return outcome_weeks(result.scenario)


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


def model_outcomes(model: Any) -> dict[str, float]:
    """`run_outcomes` of a finished model, read straight from its records (no DataFrames).

    The same numbers as ``run_outcomes(collect(model, seed))``, bit for bit (the means skip
    missing values and sum as pandas does); a sweep calls it once per run, where building
    the tables would cost more than a small run's simulation.

    Example:
        >>> from groupsim import HomeRoomModel, load_scenario
        >>> model = HomeRoomModel(rng=1, config=load_scenario("scenarios/home_room.toml"))
        >>> while model.running:
        ...     model.step()
        >>> model_outcomes(model)["post_social_interaction"] > 0
        True
    """
    weekly = model.datacollector.model_vars
    points = outcome_weeks(model.config)
    row_of = {int(week): index for index, week in enumerate(weekly["week"])}
    out: dict[str, float] = {}
    for when, week in points.items():
        row = row_of[week]
        for short, column in TRACKED.items():
            out[f"{when}_{short}"] = float(weekly[column][row])
    answers = model.questionnaire
    for when in ("pre", "post", "followup"):
        values = answers.get(when)
        out[f"questionnaire_{when}"] = (
            _mean(np.asarray(values, dtype=np.float64)) if values is not None else float("nan")
        )
    out["questionnaire_gain"] = out["questionnaire_post"] - out["questionnaire_pre"]
    rows = model.session_rows
    if rows:
        session = np.array([r["session"] for r in rows], dtype=np.int64)
        climate = np.array([r["climate"] for r in rows], dtype=np.float64)
        engagement = np.array([r["engagement"] for r in rows], dtype=np.float64)
        out["final_climate"] = _mean(climate[session == session.max()])
        out["mean_engagement"] = _mean(engagement)
        working = np.array([r["stage"] == "working" for r in rows])
        if working.any():
            first = working & (session == session[working].min())
            disclosed = np.array([r["clients_disclosed_share"] for r in rows], dtype=np.float64)
            out["all_disclosed_by_working"] = float((disclosed[first] >= 1.0).all())
        else:
            out["all_disclosed_by_working"] = float("nan")
    else:
        out["final_climate"] = out["mean_engagement"] = float("nan")
        out["all_disclosed_by_working"] = float("nan")
    return out


def _mean(values: np.ndarray) -> float:
    """A mean that skips NaN, summed as pandas' `Series.mean` sums (so results agree exactly)."""
    present = ~np.isnan(values)
    count = int(present.sum())
    if count == 0:
        return float("nan")
    return float(np.where(present, values, 0.0).sum() / count)


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
