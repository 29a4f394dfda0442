"""Property tests: for random valid parameters the model keeps its invariants every week."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groupsim import HomeRoomModel
from groupsim.model.agents import STATES
from groupsim.runs.runner import collect
from groupsim.scenario import PRACTICES, scenario_from_dict

SHARE = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def scenarios(draw):
    """A small valid scenario: 3-4 faculties x 4-8 students, short programs, random rates."""
    faculties = draw(st.integers(3, 4))
    per_faculty = draw(st.integers(4, 8))
    students = faculties * per_faculty
    sessions = draw(st.integers(1, 8))
    per_week = draw(st.integers(1, 3))
    openness_w = draw(st.floats(0.0, 1.0))
    rapport_w = draw(st.floats(0.0, 1.0 - openness_w))
    along = draw(SHARE)
    closure = draw(st.floats(0.0, 1.0 - along))
    groups = draw(st.integers(1, 2))
    selection = draw(
        st.sampled_from(["across_faculties", "within_faculty", "lowest", "random_screened"])
    )
    # Every group's clients must fit: in the cohort, or in one faculty for 'within_faculty'.
    most = per_faculty if selection == "within_faculty" else students // groups
    clients = draw(st.integers(2, most))
    data = {
        "cohort": {
            "faculties": faculties,
            "students_per_faculty": per_faculty,
            "responsiveness_sd": draw(st.floats(0.0, 3.0)),
            "sensitivity_sd": draw(st.floats(0.0, 3.0)),
            "burn_in_weeks": draw(st.integers(0, 3)),
            "initial_ties": draw(st.floats(0.0, 10.0)),
        },
        "group": {
            "clients": clients,
            "selection": selection,
            "screened_share": draw(st.floats(clients * groups / students, 1.0)),
            "screening": draw(st.sampled_from(["separate", "pretest"])),
            "turn_minutes": draw(st.floats(0.5, 30.0)),
        },
        "counselor": {
            "technique": draw(st.sampled_from(["home_room", "standard", "none"])),
            "warmth": draw(SHARE),
            "facilitation": draw(SHARE),
            "warmth_sd": draw(st.floats(0.0, 5.0)),
            "facilitation_sd": draw(st.floats(0.0, 5.0)),
        },
        "technique": {name: draw(SHARE) for name in PRACTICES if draw(st.booleans())},
        "program": {
            "groups": groups,
            "sessions": sessions,
            "sessions_per_week": per_week,
            "baseline_weeks": draw(st.integers(0, 2)),
            "session_minutes": draw(st.floats(5.0, 120.0)),
            "followup_weeks": draw(st.integers(0, 3)),
            "transition_share": draw(SHARE),
        },
        "climate": {"rate": draw(SHARE), "setting_weight": draw(SHARE), "campus": draw(SHARE)},
        "rapport": {"rate": draw(SHARE), "family_tone_boost": draw(st.floats(0.0, 10.0))},
        "attendance": {
            "intercept": draw(st.floats(-5.0, 5.0)),
            "anxiety": draw(st.floats(0.0, 10.0)),
            "dropout_after": draw(st.integers(1, 4)),
            "dropout_chance": draw(SHARE),
        },
        "tension": {
            "rate": draw(SHARE),
            "anxiety_weight": draw(st.floats(0.0, 10.0)),
            "mismatch_weight": draw(st.floats(0.0, 10.0)),
            "calming": draw(SHARE),
        },
        "exchange": {
            "tie_gain": draw(SHARE),
            "anxiety_relief": draw(SHARE),
            "anxiety_sting": draw(SHARE),
            "skill_gain": draw(SHARE),
            "campus_learning": draw(SHARE),
            "tie_loss": draw(SHARE),
            "novelty": draw(SHARE),
        },
        "disclosure": {
            "openness_weight": openness_w,
            "rapport_weight": rapport_w,
            "climate_weight": 1.0 - openness_w - rapport_w,
            "tie_bonus": draw(SHARE),
            "openness_gain": draw(SHARE),
            "withdrawal": draw(SHARE),
            "ice_breaker_depth": draw(SHARE),
        },
        "attitude": {
            "psychoeducation_rate": draw(SHARE),
            "confidence_bound": draw(SHARE),
            "convergence": draw(st.floats(0.0, 0.5)),
        },
        "campus": {
            "contacts_per_week": draw(st.floats(0.0, 8.0)),
            "along_ties": along,
            "triadic_closure": closure,
            "same_faculty": draw(st.floats(0.0, 1.0 - along - closure)),
        },
        "decay": {
            "tie_decay": draw(SHARE),
            "tie_floor": draw(st.floats(0.001, 0.5)),
            "state_drift": draw(SHARE),
        },
    }
    if draw(st.booleans()):
        data["program"]["weeks"] = -(-sessions // per_week) + draw(st.integers(0, 2))
    return scenario_from_dict(data, "<hypothesis>")


def _check_states(model: HomeRoomModel) -> None:
    for name in STATES:
        values = getattr(model.states, name)
        assert not np.isnan(values).any(), name
        assert values.min() >= 0.0, (name, values.min())
        assert values.max() <= 1.0, (name, values.max())
    strengths = np.array([s for _, _, s in model.network.edges(data="strength")])
    if strengths.size:
        assert strengths.min() > 0.0
        assert strengths.max() <= 1.0
    if model.counselor.technique != "none":
        assert 0.0 <= model.climate <= 1.0


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_states_ties_and_tables_stay_valid(scenario, seed):
    model = HomeRoomModel(rng=seed, config=scenario)
    _check_states(model)
    while model.running:
        model.step()
        _check_states(model)
    result = collect(model, seed)

    weekly = result.weekly
    assert len(weekly) == scenario.total_weeks + 1
    assert list(weekly["week"]) == list(range(scenario.total_weeks + 1))
    # Attendance is a share of the sessions held so far: NaN before the first session.
    allowed_nan = {"clients_attendance"}
    if not scenario.holds_group:
        allowed_nan.update({"climate", "tension"})
        assert weekly["climate"].isna().all()
        assert weekly["tension"].isna().all()
    if scenario.group.clients * scenario.program.groups == scenario.students:
        allowed_nan.add("others_social_interaction")  # no one is outside the groups
    if (weekly["friends"] == 0).all():
        # The clients had no friends at screening: the friends' means have no one to average.
        allowed_nan.update({"friends_social_interaction", "friends_ties", "friends_contact_rate"})
    numeric = weekly.select_dtypes("number").drop(columns=sorted(allowed_nan))
    assert not numeric.isna().any().any(), numeric.columns[numeric.isna().any()].tolist()

    held = scenario.program.sessions if scenario.holds_group else 0
    held *= scenario.program.groups
    assert len(result.sessions) == held
    assert (
        result.sessions[["climate", "tension", "attendance", "engagement", "disclosure_depth"]]
        .stack()
        .between(0, 1)
        .all()
    )

    states = result.students[list(STATES)]
    assert states.notna().all().all()
    assert ((states >= 0) & (states <= 1)).all().all()
    assert ((result.ties["strength"] > 0) & (result.ties["strength"] <= 1)).all()

    q = result.questionnaire
    assert len(q) == scenario.group.clients * scenario.program.groups
    assert q[["screening", "pre"]].stack().between(35, 140).all()
    # A post-test may be missing (not answered), and says so; an answer is a valid total.
    assert (q["post"].isna() == q["post_missing"]).all()
    assert q["post"].dropna().between(35, 140).all()
    assert set(q["reliable_change"]) <= {"improved", "no reliable change", "deteriorated", ""}
    assert (q["attended"] <= scenario.program.sessions).all()
    assert (q["attended"] >= 0).all()
