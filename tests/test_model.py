"""HomeRoomModel as a Mesa model: flat parameters, batch_run, running, agents as views."""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd
import pytest
from mesa.experimental.mesa_signals import ModelSignals

from conftest import HOME_ROOM, SMALL, small_scenario
from groupsim import Counselor, HomeRoomModel, ScenarioError, Student, load_scenario, run
from groupsim.model.agents import create_students
from groupsim.model.model import WEEKLY_REPORTERS, scenario_from_flat
from groupsim.runs.outputs import WEEKLY

BATCH_PARAMETERS = {"counselor_warmth": [0.3, 0.9], "cohort_students_per_faculty": 5}


def _flat(overrides: dict) -> dict:
    return {path.replace(".", "_", 1): value for path, value in overrides.items()}


@pytest.fixture(scope="module")
def finished_model() -> HomeRoomModel:
    model = HomeRoomModel(rng=3, **_flat(SMALL))
    while model.running:
        model.step()
    return model


def test_batch_run_as_a_mesa_user_calls_it():
    results = mesa.batch_run(
        HomeRoomModel,
        parameters=BATCH_PARAMETERS,
        rng=[1, 2],
        max_steps=100,
        number_processes=1,
        display_progress=False,
    )
    frame = pd.DataFrame(results)
    total_weeks = scenario_from_flat({"cohort_students_per_faculty": 5}).total_weeks
    # 2 warmths x 2 seeds; by default Mesa keeps the last step of each run.
    assert len(frame) == 4
    assert set(WEEKLY_REPORTERS) <= set(frame.columns)
    assert (frame["week"] == total_weeks).all()
    assert sorted(frame["counselor_warmth"]) == [0.3, 0.3, 0.9, 0.9]
    assert sorted(frame["rng"]) == [1, 1, 2, 2]


def test_batch_run_every_week():
    results = mesa.batch_run(
        HomeRoomModel,
        parameters=BATCH_PARAMETERS,
        rng=[1, 2],
        max_steps=100,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    frame = pd.DataFrame(results)
    total_weeks = scenario_from_flat({"cohort_students_per_faculty": 5}).total_weeks
    assert set(WEEKLY_REPORTERS) <= set(frame.columns)
    for _, rows in frame.groupby("RunId"):
        assert list(rows["week"]) == list(range(total_weeks + 1))
        assert rows["clients_social_interaction"].notna().all()
    assert frame["RunId"].nunique() == 4
    # A warmer counselor gives a warmer room at the end (same seed).
    last = frame[frame["week"] == total_weeks].set_index(["rng", "counselor_warmth"])["climate"]
    for seed in (1, 2):
        assert last[(seed, 0.9)] > last[(seed, 0.3)]


def test_flat_parameters_reach_the_scenario():
    model = HomeRoomModel(
        rng=1,
        counselor_warmth=0.3,
        counselor_warmth_sd=0.0,
        group_clients=5,
        cohort_students_per_faculty=4,
        program_sessions=4,
        cohort_burn_in_weeks=2,
    )
    assert model.config.counselor.warmth == 0.3
    assert model.counselor.warmth == 0.3  # no spread between counselors: the scenario's value
    assert len(model.clients) == 5
    assert model.n == 9 * 4
    assert model.config.program.sessions == 4


def test_unknown_flat_name_raises_scenario_error():
    with pytest.raises(ScenarioError, match=r"counselor_temperature: unknown parameter"):
        HomeRoomModel(rng=1, counselor_temperature=0.3)
    with pytest.raises(ScenarioError, match=r"counselor\.warmth: must be between 0 and 1"):
        HomeRoomModel(rng=1, counselor_warmth=3.0)


def test_config_and_flat_parameters_are_exclusive():
    with pytest.raises(ScenarioError, match="either config or flat"):
        HomeRoomModel(rng=1, config=small_scenario(), counselor_warmth=0.3)


def test_running_stops_after_the_last_week(finished_model):
    model = finished_model
    total = model.config.total_weeks
    assert model.running is False
    assert model.week == model.calendar.last_week == total
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == total + 1
    assert list(frame["week"]) == list(range(total + 1))
    assert list(frame.columns) == list(WEEKLY_REPORTERS) == list(WEEKLY)


def test_running_is_true_until_the_last_week():
    model = HomeRoomModel(rng=2, **_flat(SMALL))
    for _ in range(model.config.total_weeks - 1):
        model.step()
        assert model.running
    model.step()
    assert not model.running


def test_agents_student_views_and_counselor(finished_model):
    model = finished_model
    students = list(model.agents_by_type[Student])
    assert len(students) == model.n == len(model.student_agents)
    assert len(model.agents_by_type[Counselor]) == 1
    agent = model.student_agents[5]
    assert agent.label.startswith("S5 - ")
    assert agent.faculty == model.states.faculty[5]
    state = agent.state()
    assert set(state) == {
        "sociability",
        "openness",
        "anxiety",
        "skill",
        "attitude",
        "resolve",
        "rapport",
        "disclosure",
    }
    assert state["anxiety"] == model.states.anxiety[5]


def test_student_agent_is_a_view_of_the_state_arrays():
    model = HomeRoomModel(rng=4, **_flat(SMALL))
    agent = model.student_agents[3]
    agent.anxiety = 0.123
    assert model.states.anxiety[3] == 0.123
    model.states.skill[3] = 0.777
    assert agent.skill == 0.777
    agent.attitude = 0.25
    assert model.states.attitude[3] == 0.25


def test_clients_one_per_faculty_and_marked():
    model = HomeRoomModel(rng=5, **_flat(SMALL))
    assert len(model.clients) == SMALL["group.clients"]
    assert len(set(model.states.faculty[model.clients])) == len(model.clients)
    assert model.states.client.sum() == len(model.clients)
    assert all(model.student_agents[i].client for i in model.clients)


def test_lowest_selection_takes_the_lowest_screening_scores():
    model = HomeRoomModel(rng=6, **_flat({**SMALL, "group.selection": "lowest"}))
    screening = model.questionnaire["screening"]
    assert len(screening) == len(model.clients)
    assert screening.max() <= 140
    assert screening.min() >= 35
    # Before the first week the latent score is still the one screened: the clients are the
    # least socially active students (the questionnaire is noisy, so compare means).
    latent = model.social_interaction
    assert latent[model.clients].mean() < latent[~model.states.client].mean()
    assert latent[model.clients].mean() < np.quantile(latent, 0.4)


def test_arms_share_the_population_and_pre_test():
    home = run(small_scenario("home_room"), seed=11)
    control = run(small_scenario("no_intervention"), seed=11)
    assert home.questionnaire["student_id"].tolist() == control.questionnaire["student_id"].tolist()
    pd.testing.assert_series_equal(home.questionnaire["pre"], control.questionnaire["pre"])
    pre = home.scenario.program.baseline_weeks
    group_only = ("climate", "tension", "clients_attendance")  # NaN without a group
    columns = [c for c in home.weekly.columns if c not in group_only]
    pd.testing.assert_frame_equal(
        home.weekly.loc[home.weekly["week"] <= pre, columns],
        control.weekly.loc[control.weekly["week"] <= pre, columns],
    )


def test_sessions_are_recorded_with_stages():
    model = HomeRoomModel(rng=8, **_flat(SMALL))
    while model.running:
        model.step()
    rows = model.session_rows
    assert [r["session"] for r in rows] == list(range(1, SMALL["program.sessions"] + 1))
    assert rows[0]["stage"] == "forming"
    assert rows[-1]["stage"] == "termination"
    assert all(0 <= r["engagement"] <= 1 for r in rows)


def test_record_weeks_records_only_those_weeks_and_leaves_the_run_alone(finished_model):
    lean = HomeRoomModel(rng=3, record_weeks=[0, 4, 5], **_flat(SMALL))
    silent = HomeRoomModel(rng=3, record_weeks=(), **_flat(SMALL))
    for model in (lean, silent):
        while model.running:
            model.step()
    assert list(lean.datacollector.model_vars["week"]) == [0, 4, 5]
    assert [int(rows["week"][0]) for rows in lean.faculty_rows] == [0, 4, 5]
    assert [int(frame["week"][0]) for frame in lean.student_frames] == [0, 4, 5]
    full = finished_model.datacollector.get_model_vars_dataframe().set_index("week")
    for name, values in lean.datacollector.model_vars.items():
        if name != "week":
            assert list(full.loc[[0, 4, 5], name]) == pytest.approx(values, nan_ok=True), name
    assert not any(silent.datacollector.model_vars.values())
    assert not silent.faculty_rows
    # Recording draws no random numbers: the runs end in the same state.
    for model in (lean, silent):
        assert np.array_equal(model.social_interaction, finished_model.social_interaction)
        assert np.array_equal(model.ties.strength, finished_model.ties.strength)
        for when, totals in finished_model.questionnaire.items():
            assert np.array_equal(model.questionnaire[when], totals)


def test_student_weeks_keep_only_those_weeks_student_rows(finished_model):
    model = HomeRoomModel(rng=3, student_weeks=[0, 5], record_weeks=[0, 4, 5], **_flat(SMALL))
    while model.running:
        model.step()
    # Student rows of the recorded weeks among them; every recorded week's metrics.
    assert [int(frame["week"][0]) for frame in model.student_frames] == [0, 5]
    assert list(model.datacollector.model_vars["week"]) == [0, 4, 5]
    full = {int(frame["week"][0]): frame for frame in finished_model.student_frames}
    for frame in model.student_frames:
        week = int(frame["week"][0])
        for name, values in frame.items():
            assert np.array_equal(values, full[week][name]), (week, name)


def test_no_intervention_holds_no_sessions_and_has_no_climate():
    result = run(small_scenario("no_intervention"), seed=1)
    assert result.sessions.empty
    assert result.weekly["climate"].isna().all()
    assert (result.weekly["session"] == 0).all()
    assert (result.weekly["clients_rapport"] == 0).all()
    assert (result.weekly["clients_disclosed_share"] == 0).all()


def test_warmer_home_room_builds_more_rapport():
    cold = run(small_scenario(counselor__warmth=0.2), seed=2)
    warm = run(small_scenario(counselor__warmth=1.0), seed=2)
    assert warm.weekly["clients_rapport"].iloc[-1] > cold.weekly["clients_rapport"].iloc[-1]
    assert warm.sessions["climate"].iloc[-1] > cold.sessions["climate"].iloc[-1]


def test_pre_test_is_given_without_baseline_weeks():
    # Once a bug: without baseline weeks the pre-test was never given (pre = NaN).
    result = run(small_scenario(program__baseline_weeks=0), seed=1)
    assert result.questionnaire["pre"].notna().all()
    assert result.questionnaire["pre"].between(35, 140).all()


def test_no_zero_strength_ties_when_ties_do_not_grow():
    # Once a bug: with tie_gain = 0 a good exchange between strangers added a 0.0 tie.
    result = run(small_scenario(exchange__tie_gain=0.0), seed=1)
    assert (result.ties["strength"] > 0).all()


def test_tie_strengths_in_unit_interval_with_defaults(small_result):
    strength = small_result.ties["strength"]
    assert (strength > 0).all()
    assert (strength <= 1).all()
    assert not math.isnan(strength.sum())
    assert np.isfinite(small_result.weekly["clients_social_interaction"]).all()


def test_every_group_is_full_with_several_groups_across_faculties():
    scenario = small_scenario(
        cohort__faculties=3,
        cohort__students_per_faculty=4,
        group__clients=4,
        program__groups=3,
    )
    for seed in range(5):
        model = HomeRoomModel(rng=seed, config=scenario)
        assert [len(g.members) for g in model.groups] == [4, 4, 4]
        assert len(model.clients) == len(set(model.clients.tolist())) == 12


@pytest.mark.parametrize(("clients", "sessions"), [(4, 2), (12, 16), (4, 16), (12, 2)])
def test_extreme_designs_run_with_the_default_cohort(clients, sessions):
    scenario = load_scenario(
        HOME_ROOM,
        {"group.clients": clients, "program.sessions": sessions, "cohort.burn_in_weeks": 2},
    )
    result = run(scenario, seed=1, record_students=False, record_ties=False)
    assert len(result.questionnaire) == clients
    assert len(result.sessions) == sessions
    assert len(result.weekly) == scenario.total_weeks + 1
    q = result.questionnaire
    assert q["pre"].notna().all()
    assert (q["post"].isna() == q["post_missing"]).all()  # missing only where it says so


def test_students_are_registered_as_mesa_registers_them():
    """`create_students` makes the agents `Student(model, i, ...)` makes, one by one."""
    names, tags = ["Law", "Law", "Education"], ["a", "b", "c"]
    fast, by_mesa = mesa.Model(rng=0), mesa.Model(rng=0)
    made = create_students(fast, names, tags)
    one_by_one = [Student(by_mesa, i, names[i], tags[i]) for i in range(3)]
    for agent, twin in zip(made, one_by_one, strict=True):
        assert vars(agent).keys() == vars(twin).keys()
        assert {k: v for k, v in vars(agent).items() if k != "model"} == {
            k: v for k, v in vars(twin).items() if k != "model"
        }
        assert agent.model is fast
    assert list(fast.agents) == made == list(fast.agents_by_type[Student])
    assert [a.unique_id for a in made] == [1, 2, 3]
    assert Counselor(fast, "home_room", 0.5, 0.5).unique_id == 4
    made[1].remove()
    assert list(fast.agents_by_type[Student]) == [made[0], made[2]]


def test_an_observer_sees_every_student_added():
    """With a subscriber to the model's agents, every student goes through Mesa's signal."""

    class Watcher:  # Mesa keeps a weak reference to a bound method
        def __init__(self) -> None:
            self.seen: list[object] = []

        def added(self, signal: object) -> None:
            self.seen.append(signal)

    model, watcher = mesa.Model(rng=0), Watcher()
    model.observe("agents", ModelSignals.AGENT_ADDED, watcher.added)
    made = create_students(model, ["Law"] * 4)
    assert len(watcher.seen) == 4
    assert [a.unique_id for a in model.agents] == [a.unique_id for a in made] == [1, 2, 3, 4]


def test_students_made_when_first_read_are_those_made_at_once(monkeypatch):
    """The students a model makes when its agents are first read: as if made at set-up.

    A model whose agents something watches makes them at set-up (`agents_watched`); the one
    that makes them later has the same agents, ids, order and types.
    """
    later = HomeRoomModel(rng=8, **_flat(SMALL))
    monkeypatch.setattr("groupsim.model.model.agents_watched", lambda model: True)
    at_once = HomeRoomModel(rng=8, **_flat(SMALL))
    assert at_once._reserved_students is None
    assert later._reserved_students is not None

    def described(model: HomeRoomModel) -> list[tuple]:
        return [(type(a).__name__, a.unique_id, getattr(a, "label", None)) for a in model.agents]

    assert described(later) == described(at_once)
    assert [a.unique_id for a in later.agents][: later.n] == list(range(1, later.n + 1))
    assert list(later.agents_by_type) == list(at_once.agents_by_type) == [Student, Counselor]
    assert later.agent_types == [Student, Counselor]
    assert later.student_agents == list(later.agents_by_type[Student])


def test_a_run_makes_no_student_agents(monkeypatch):
    """A study reads the state arrays: `run` never makes the cohort's Student agents."""
    from groupsim.model.agents import ReservedStudents

    def refuse(self, model):
        raise AssertionError("a run made its Student agents")

    monkeypatch.setattr(ReservedStudents, "make", refuse)
    result = run(small_scenario(), seed=2, record_ties=True)
    students = SMALL["cohort.faculties"] * SMALL["cohort.students_per_faculty"]
    assert result.network.number_of_nodes() == students


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_model_copied_between_weeks_runs_on_exactly_as_the_original(how):
    """A copy (saved, or forked in memory) and the original end as one uninterrupted run."""
    import copy
    import pickle

    from groupsim.runs.runner import build_model, collect

    scenario = small_scenario()
    whole = build_model(scenario, 5)
    whole.run_model()
    model = build_model(scenario, 5)
    for _ in range(3):  # into the program: the sessions' state arrays are in use
        model.step()
    assert "student_arrays" in model.__dict__
    other = copy.deepcopy(model) if how == "deepcopy" else pickle.loads(pickle.dumps(model))
    assert other.campus_stream.generator is other.campus_rng
    assert other.student_arrays.anxiety is other.states.anxiety
    assert other.campus_rng is not model.campus_rng
    model.run_model()
    other.run_model()
    expected = collect(whole, 5)
    for result in (collect(model, 5), collect(other, 5)):
        for table in ("weekly", "students", "sessions", "ties", "questionnaire", "faculties"):
            pd.testing.assert_frame_equal(
                getattr(result, table), getattr(expected, table), check_exact=True
            )


def test_a_scenarios_inputs_are_derived_once_and_each_run_has_its_own_copies():
    """Runs of one scenario object share its calendar; their parameter records are copies."""
    from groupsim.model import model as model_module

    scenario = small_scenario()
    inputs = model_module.scenario_inputs(scenario)
    assert model_module.scenario_inputs(scenario) is inputs  # kept, not derived again
    first, second = HomeRoomModel(1, scenario), HomeRoomModel(2, scenario)
    assert first.calendar is second.calendar is inputs.calendar
    for name in ("campus_parameters", "session_parameters", "week_end_parameters"):
        mine, theirs, kept = getattr(first, name), getattr(second, name), getattr(inputs, name)
        np.testing.assert_array_equal(mine, kept)
        assert mine is not theirs
        assert mine is not kept
    first.campus_parameters["climate"] = 0.0  # a run that changed its record...
    assert second.campus_parameters["climate"] == inputs.campus_parameters["climate"] != 0.0
    # Another scenario (an equal copy included) derives its own; the oldest are let go.
    others = [scenario.model_copy(update={"name": f"copy {i}"}) for i in range(8)]
    for other in others:
        assert model_module.scenario_inputs(other) is not inputs
    assert id(scenario) not in model_module._INPUTS
    assert len(model_module._INPUTS) == model_module._INPUTS_KEPT


def test_scenario_inputs_are_safe_to_derive_from_several_threads():
    """Threads deriving inputs of many scenarios at once (a live page, threaded workers)."""
    from concurrent.futures import ThreadPoolExecutor

    from groupsim.model import model as model_module

    scenarios = [small_scenario().model_copy(update={"name": f"s{i}"}) for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        derived = list(pool.map(model_module.scenario_inputs, scenarios * 5))
    for scenario, inputs in zip(scenarios * 5, derived, strict=True):
        assert inputs.calendar.last_week == scenario.total_weeks
    assert len(model_module._INPUTS) <= model_module._INPUTS_KEPT
