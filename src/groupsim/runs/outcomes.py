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

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from groupsim.model.model import HomeRoomModel
    from groupsim.runs.records import RunRecords
    from groupsim.runs.runner import RunResult
    from groupsim.scenario import Scenario

__all__ = [
    "OUTCOMES",
    "client_columns",
    "client_outcomes",
    "model_outcomes",
    "outcome_weeks",
    "record_outcomes",
    "run_outcomes",
    "time_points",
]

#: Weekly columns followed at pre, post and follow-up, under short outcome names.
TRACKED = {
    "social_interaction": "clients_social_interaction",
    "transfer_interaction": "clients_transfer_interaction",
    "part_contact": "clients_part_contact",
    "part_ties": "clients_part_ties",
    "part_skill": "clients_part_skill",
    "part_attitude": "clients_part_attitude",
    "part_calm": "clients_part_calm",
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

#: The tracked outcomes' names and weekly columns at each time point (named once, not a run).
TRACKED_AT = {
    when: tuple((f"{when}_{short}", column) for short, column in TRACKED.items())
    for when in ("pre", "post", "followup")
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
        "questionnaire_gain": "mean post - pre total of the clients who answered both",
        "final_climate": "group climate after the last session (NaN without a group)",
        "mean_engagement": "mean session engagement (NaN without a group)",
        "all_disclosed_by_working": "1 if every client had opened up by the first working "
        "session's end, else 0 (NaN without a working stage)",
        "all_disclosed": "1 if every client had opened up by the last session, else 0 (NaN "
        "without a group)",
        "final_tension": "group tension after the last session (NaN without a group)",
        "attendance": "clients' mean share of the group sessions they attended (NaN without "
        "a group)",
        "dropout_share": "share of clients who dropped out of their group",
        "post_missing_share": "share of clients without a post-test answer",
        "improved_share": "share of clients with a post-test who reliably improved "
        "(Jacobson-Truax)",
        "no_change_share": "share of clients with a post-test without reliable change",
        "deteriorated_share": "share of clients with a post-test who reliably deteriorated",
    }
)


def outcome_weeks(scenario: Scenario) -> dict[str, int]:
    """Weeks of the pre-test, post-test and follow-up of a run of `scenario`.

    The weekly rows the outcomes read (a summary-only run records just these, see
    `record_weeks` of `HomeRoomModel`).

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
    """The outcomes of one run (see `OUTCOMES`), from its records (no table is built)."""
    return record_outcomes(result.records)


def model_outcomes(model: HomeRoomModel) -> dict[str, float]:
    """The outcomes of a finished model: `run_outcomes` without a `RunResult`.

    Example:
        >>> from groupsim import HomeRoomModel, load_scenario
        >>> model = HomeRoomModel(rng=1, config=load_scenario("scenarios/home_room.toml"))
        >>> model.run_model()
        >>> model_outcomes(model)["post_social_interaction"] > 0
        True
    """
    from groupsim.runs.records import RunRecords

    return record_outcomes(RunRecords.of(model))


def record_outcomes(records: RunRecords) -> dict[str, float]:
    """The outcomes (see `OUTCOMES`) read from a run's records.

    The one computation behind `run_outcomes` and `model_outcomes`; the means skip missing
    values and sum as pandas does, so they equal the same means taken over the run's tables.
    """
    weekly = records.weekly
    row_of = {int(week): index for index, week in enumerate(weekly["week"])}
    out: dict[str, float] = {}
    for when, week in outcome_weeks(records.scenario).items():
        row = row_of[week]
        for name, column in TRACKED_AT[when]:
            out[name] = float(weekly[column][row])
    for when in ("pre", "post", "followup"):
        out[f"questionnaire_{when}"] = _mean(records.answers(when))
    # Paired: the clients who answered both (available cases), not two different sets.
    out["questionnaire_gain"] = _mean(records.answers("post") - records.answers("pre"))
    out.update(_session_outcomes(records.sessions))
    out.update(_client_outcomes(records))
    return out


def _client_outcomes(records: RunRecords) -> dict[str, float]:
    """Attendance, dropout, missing post-tests and reliable change, as shares of clients.

    Reliable change is counted among the clients who answered the post-test (available
    cases); `post_missing_share` says how many did not.
    """
    from groupsim.model.measures import CHANGE_CATEGORIES

    traits = records.client_traits
    sessions = records.scenario.program.sessions if records.scenario.holds_group else 0
    change = records.change_categories
    counts = Counter(change.tolist())
    answered = len(change) - counts[""]  # the clients with a post-test
    shares = {
        category: counts[category] / answered if answered else math.nan
        for category in CHANGE_CATEGORIES
    }
    return {
        "attendance": _mean(traits["attended"] / sessions) if sessions else math.nan,
        "dropout_share": _share(traits["dropped_out"]),
        "post_missing_share": _share(np.isnan(records.answers("post"))),
        "improved_share": shares["improved"],
        "no_change_share": shares["no reliable change"],
        "deteriorated_share": shares["deteriorated"],
    }


def _session_outcomes(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Final climate, mean engagement and whether all had opened up by the working stage.

    With several groups there is a row per group per session: every group's row of the
    session in question counts, not only the first or last row.
    """
    nan = float("nan")
    if not rows:
        return {
            "final_climate": nan,
            "mean_engagement": nan,
            "all_disclosed_by_working": nan,
            "final_tension": nan,
            "all_disclosed": nan,
        }
    last_session = max(r["session"] for r in rows)
    last = [r for r in rows if r["session"] == last_session]
    working = [r for r in rows if r["stage"] == "working"]
    all_disclosed = nan
    if working:
        first_session = min(r["session"] for r in working)
        first = [r for r in working if r["session"] == first_session]
        all_disclosed = float(all(r["clients_disclosed_share"] >= 1.0 for r in first))
    return {
        "final_climate": _mean(np.array([r["climate"] for r in last], dtype=np.float64)),
        "mean_engagement": _mean(np.array([r["engagement"] for r in rows], dtype=np.float64)),
        "all_disclosed_by_working": all_disclosed,
        "final_tension": _mean(np.array([r["tension"] for r in last], dtype=np.float64)),
        "all_disclosed": float(all(r["clients_disclosed_share"] >= 1.0 for r in last)),
    }


def _mean(values: np.ndarray) -> float:
    """A mean that skips NaN, summed as pandas' `Series.mean` sums (so results agree exactly)."""
    # Imported here: the outcomes' names and weeks (which `groupsim.sweep.spec` reads) must
    # not load numba and scipy with the compiled model.
    from groupsim.model.recording_kernel import present_mean

    return float(present_mean(values))


def _share(mask: np.ndarray) -> float:
    """The share of True in `mask` (NaN when empty): its mean, without numpy's mean."""
    return int(np.count_nonzero(mask)) / len(mask) if len(mask) else math.nan


def client_outcomes(result: RunResult) -> pd.DataFrame:
    """A row per client: baseline traits and social interaction at pre, post and follow-up.

    For "who benefits" analyses (effects by baseline anxiety or sociability); the table of
    `client_columns`.
    """
    return pd.DataFrame(client_columns(result.records))


def client_columns(records: RunRecords) -> dict[str, np.ndarray]:
    """`client_outcomes` as columns, read from a run's student snapshots (no table is built).

    A comparison takes these from every run and builds one table at the end. The snapshot's
    rows are the students in id order, so a client's row is their id.
    """
    if not records.students:
        raise ValueError("client_outcomes needs the students table (run with record_students)")
    snapshot = {int(frame["week"][0]): frame for frame in records.students}
    points = outcome_weeks(records.scenario)
    if missing := sorted(set(points.values()) - set(snapshot)):
        raise ValueError(f"client_outcomes needs the student rows of weeks {missing} (record them)")
    base = snapshot[points["pre"]]
    ids = base["student_id"][base["client"]]
    columns = {
        "student_id": ids,
        "faculty": base["faculty"][ids],
        "baseline_anxiety": base["anxiety"][ids],
        "baseline_sociability": base["sociability"][ids],
    }
    for when, week in points.items():
        columns[f"{when}_social_interaction"] = snapshot[week]["social_interaction"][ids]
    return columns
