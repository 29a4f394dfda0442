"""The output contract: every table's columns, types and meanings, defined once.

README.md's column tables are generated from here (`python -m groupsim.runs.outputs`) and a test
checks that the README matches, so the docs cannot drift from what runs produce.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "FACULTIES",
    "POSTERIOR_DRAWS",
    "QUESTIONNAIRE",
    "SESSIONS",
    "SESSION_COLUMNS",
    "STUDENTS",
    "TABLES",
    "TIES",
    "WEEKLY",
    "conform",
    "markdown_table",
]

# name: (dtype, meaning)
WEEKLY = {
    "week": (
        "int64",
        "week number; 0 = screening (after burn-in), then baseline, program, follow-up",
    ),
    "phase": ("string", "baseline, program or followup"),
    "session": ("int64", "number of the last group session held this week (0: none)"),
    "stage": ("string", "its stage: forming, transition, working, termination ('' when none)"),
    "climate": ("float64", "group climate (psychological safety) 0-1; NaN without a group"),
    "tension": (
        "float64",
        "group tension (conflict) 0-1 after the last session; NaN without a group",
    ),
    "group_density": ("float64", "share of client pairs with a tie"),
    "group_cohesion": ("float64", "mean tie strength over all client pairs (no tie = 0)"),
    "group_isolates": ("int64", "clients with no tie to another client"),
    "group_clustering": ("float64", "average clustering of the clients' network"),
    "clients_disclosed_share": (
        "float64",
        "share of clients who have opened up (disclosure >= personal_threshold)",
    ),
    "campus_density": ("float64", "density of the whole campus network"),
    "campus_ties": ("int64", "number of ties on campus"),
    "campus_clustering": (
        "float64",
        "average local clustering on campus (a systematic sample of at most 3,000 students)",
    ),
    "clients_social_interaction": ("float64", "clients' mean latent social interaction score 0-1"),
    "clients_transfer_interaction": (
        "float64",
        "clients' mean score without the ties inside their group (interaction with the rest "
        "of campus: transfer)",
    ),
    "clients_part_contact": ("float64", "the score's contact-frequency part (clients' mean)"),
    "clients_part_ties": ("float64", "the score's ties part, in-group ties included"),
    "clients_part_skill": ("float64", "the score's skill part"),
    "clients_part_attitude": ("float64", "the score's attitude part"),
    "clients_part_calm": ("float64", "the score's calm part (1 - anxiety)"),
    "clients_in_group_ties": (
        "float64",
        "clients' mean summed tie strength to members of their own group",
    ),
    "clients_attendance": (
        "float64",
        "share of the sessions held so far that clients attended (NaN before any)",
    ),
    "clients_dropped_out": ("float64", "share of clients who dropped out of their group"),
    "clients_anxiety": ("float64", "clients' mean social anxiety"),
    "clients_skill": ("float64", "clients' mean communication skill"),
    "clients_attitude": ("float64", "clients' mean view of the value of social interaction"),
    "clients_resolve": ("float64", "clients' mean resolve (intention to interact)"),
    "clients_rapport": ("float64", "clients' mean trust in the counselor"),
    "clients_openness": ("float64", "clients' mean openness"),
    "clients_disclosure": ("float64", "clients' mean deepest disclosure reached"),
    "clients_contact_rate": ("float64", "clients' mean good exchanges per week (moving average)"),
    "others_social_interaction": ("float64", "non-clients' mean latent social interaction score"),
    "friends": ("int64", "clients' friends: non-clients tied to a client at screening (fixed set)"),
    "friends_social_interaction": (
        "float64",
        "the friends' mean social interaction score (spill-over)",
    ),
    "friends_ties": ("float64", "the friends' mean number of ties"),
    "friends_contact_rate": ("float64", "the friends' mean good exchanges per week"),
}

SESSIONS = {
    "group": ("int64", "group number, 0..program.groups-1"),
    "session": ("int64", "session number, 1..program.sessions"),
    "week": ("int64", "week it was held in"),
    "stage": ("string", "forming, transition, working or termination"),
    "climate": ("float64", "climate during the session"),
    "tension": ("float64", "the group's tension (conflict) during the session"),
    "attendance": ("float64", "share of the group's clients present"),
    "engagement": ("float64", "share of the session's turns a present member took"),
    "disclosure_depth": ("float64", "mean depth of the disclosures made in the session (0: none)"),
    "group_density": ("float64", "share of client pairs with a tie after the session"),
    "group_cohesion": ("float64", "mean tie strength over client pairs after the session"),
    "clients_disclosed_share": ("float64", "share of clients who have opened up so far"),
}
SESSION_COLUMNS = list(SESSIONS)

STUDENTS = {
    "week": ("int64", "week number"),
    "student_id": ("int64", "student id, 0..n-1 (node id in the network)"),
    "faculty": ("int64", "faculty index"),
    "client": ("bool", "member of a counseling group"),
    "group": ("int64", "the student's group (-1: not a client)"),
    "sociability": ("float64", "propensity to start contact (stable trait)"),
    "openness": ("float64", "willingness to self-disclose"),
    "anxiety": ("float64", "social anxiety"),
    "skill": ("float64", "communication competence"),
    "attitude": ("float64", "view of the value of social interaction"),
    "resolve": ("float64", "intention to interact (from attitude, skill, calm)"),
    "rapport": ("float64", "trust in the counselor (clients; 0 otherwise)"),
    "disclosure": ("float64", "deepest self-disclosure reached in the group"),
    "contact_rate": ("float64", "good exchanges per week (moving average)"),
    "degree": ("int64", "number of ties"),
    "tie_strength_sum": ("float64", "summed strength of the student's ties"),
    "social_interaction": ("float64", "latent social interaction score 0-1"),
}

QUESTIONNAIRE = {
    "student_id": ("int64", "client's student id"),
    "faculty": ("int64", "client's faculty index"),
    "screening": ("float64", "total on the screening questionnaire (35 items, 1-4: 35-140)"),
    "pre": ("float64", "pre-test total (35-140)"),
    "post": ("float64", "post-test total after the last program week (35-140; NaN: missing)"),
    "followup": (
        "float64",
        "follow-up total at the last week (NaN: missing, or no follow-up weeks)",
    ),
    "post_missing": ("bool", "the client did not answer the post-test"),
    "followup_missing": ("bool", "no follow-up answer (not given, or not answered)"),
    "reliable_change": (
        "string",
        "post vs pre by the Jacobson-Truax index: improved, no reliable change, deteriorated "
        "('' when the post-test is missing)",
    ),
    "group": ("int64", "the client's group"),
    "attended": ("int64", "group sessions the client attended"),
    "dropped_out": ("bool", "the client dropped out of the group"),
    "responsiveness": ("float64", "how much the client learns from good exchanges (mean 1)"),
    "sensitivity": ("float64", "how much failed exchanges hurt the client (mean 1)"),
}

TIES = {
    "week": ("int64", "week number"),
    "source": ("int64", "student id (the smaller of the pair)"),
    "target": ("int64", "student id (the larger of the pair)"),
    "strength": ("float64", "tie strength in (0, 1]"),
}

FACULTIES = {
    "week": ("int64", "week number"),
    "faculty": ("int64", "faculty index"),
    "faculty_name": ("string", "faculty label"),
    "students": ("int64", "students in the faculty"),
    "clients": ("int64", "clients from the faculty"),
    "density": ("float64", "share of pairs inside the faculty that are tied"),
    "clustering": ("float64", "mean local clustering of the faculty's sampled students"),
    "mean_degree": ("float64", "mean number of ties"),
    "social_interaction": ("float64", "mean social interaction score of all its students"),
    "clients_social_interaction": ("float64", "its clients' mean score (NaN: none)"),
    "friends_social_interaction": ("float64", "its clients' friends' mean score (NaN: none)"),
}

#: `draws.csv` of `groupsim compare --posterior DIR`: a row per replication, these columns and
#: then one float64 column per posterior parameter (its dotted path, e.g. `counselor.warmth`)
#: holding the value every arm of that replication ran with.
POSTERIOR_DRAWS = {
    "replication": ("int64", "replication number, 0..reps-1"),
    "seed": ("int64", "the replication's seed (every arm's run)"),
    "particle": (
        "int64",
        "the posterior particle drawn (0-based row of posterior.parquet; "
        "`groupsim run --posterior DIR --draw K` runs it alone)",
    ),
}

TABLES = {
    "weekly": WEEKLY,
    "sessions": SESSIONS,
    "students": STUDENTS,
    "questionnaire": QUESTIONNAIRE,
    "ties": TIES,
    "faculties": FACULTIES,
}


def conform(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Put a frame's columns in contract order and types; an empty frame gets the columns."""
    spec = TABLES[table]
    if frame.empty and len(frame.columns) == 0:
        frame = pd.DataFrame({name: pd.Series(dtype=dtype) for name, (dtype, _) in spec.items()})
    missing = [name for name in spec if name not in frame.columns]
    if missing:
        raise KeyError(f"{table} lacks columns {missing}")
    frame = frame[list(spec)]
    # Cast only the columns whose type differs (most already match; astype costs per column).
    casts = {name: dtype for name, (dtype, _) in spec.items() if str(frame[name].dtype) != dtype}
    if casts:
        frame = frame.astype(casts)
    return frame.reset_index(drop=True)


def markdown_table(table: str | dict[str, tuple[str, str]]) -> str:
    """The columns of a table (a name in `TABLES`, or a spec) as a Markdown table."""
    lines = ["| column | type | meaning |", "| --- | --- | --- |"]
    spec = TABLES[table] if isinstance(table, str) else table
    for name, (dtype, meaning) in spec.items():
        lines.append(f"| `{name}` | {dtype} | {meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":
    for name in TABLES:
        print(f"### `{name}`\n\n{markdown_table(name)}\n")
