"""The compiled weeks (`groupsim.model.week_kernel`, `groupsim.model.weeks`).

`run_model` runs the weeks between two pauses in one compiled call; `step` runs one. Both
must give the very run stepping week by week gives, table by table, and pause wherever Python
reads the state (questionnaires, snapshots).
"""

from __future__ import annotations

import dis
import pickle

import mesa
import numpy as np
import pandas as pd
import pytest

from groupsim import HomeRoomModel, load_scenario
from groupsim.model import week_kernel, weeks
from groupsim.runs.outcomes import outcome_weeks

SCENARIOS = ("home_room", "no_intervention", "standard_group")


def _recording(name: str, mode: str) -> dict[str, object]:
    scenario = load_scenario(f"scenarios/{name}.toml")
    return {
        "all": {},
        "compare": {
            "record_faculties": False,
            "record_ties": False,
            "student_weeks": outcome_weeks(scenario).values(),
        },
        "off": {"record_students": False, "record_ties": False, "record_weeks": (0, 3, 11)},
    }[mode]


def _tables(model: HomeRoomModel) -> dict[str, pd.DataFrame]:
    """Everything a run records, as frames (and the model's last state)."""
    frames = {
        "weekly": model.datacollector.get_model_vars_dataframe(),
        "sessions": pd.DataFrame(model.session_rows),
        "questionnaire": pd.DataFrame(model.questionnaire),
        "students": pd.concat([pd.DataFrame(f) for f in model.student_frames] or [pd.DataFrame()]),
        "ties": pd.concat([pd.DataFrame(f) for f in model.tie_frames] or [pd.DataFrame()]),
        "faculties": pd.concat([pd.DataFrame(f) for f in model.faculty_rows] or [pd.DataFrame()]),
        "final": pd.DataFrame({"resolve": model.states.resolve, "score": model.social_interaction}),
    }
    return frames


class SteppedModel(HomeRoomModel):
    """The same model, its `step` overridden: `run_model` runs it a week a step."""

    def step(self) -> None:
        super().step()


@pytest.mark.parametrize("mode", ["all", "compare", "off"])
@pytest.mark.parametrize("name", SCENARIOS)
def test_running_ahead_gives_the_run_stepping_gives(name, mode):
    """`run_model` (weeks in one call) and a week a step: every table equal, seed by seed."""
    scenario = load_scenario(f"scenarios/{name}.toml")
    for seed in (0, 7):
        ahead = HomeRoomModel(seed, scenario, **_recording(name, mode))
        ahead.run_model()
        stepped = SteppedModel(seed, scenario, **_recording(name, mode))
        stepped.run_model()
        assert ahead.week == stepped.week == scenario.total_weeks
        assert ahead.steps == stepped.steps == scenario.total_weeks
        for table, frame in _tables(ahead).items():
            pd.testing.assert_frame_equal(frame, _tables(stepped)[table], check_exact=True)


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The week counts of every `simulate_weeks` call from now on."""
    calls: list[int] = []
    simulate = weeks.simulate_weeks
    monkeypatch.setattr(
        weeks, "simulate_weeks", lambda model, count: (calls.append(count), simulate(model, count))
    )
    return calls


def test_a_default_run_runs_its_weeks_in_one_call(monkeypatch):
    """With `compare`'s recording the weeks go in one call: the students' rows are kept there.

    Every week's measures and the students' rows of the outcome weeks, as a week a step
    records them (`test_running_ahead_gives_the_run_stepping_gives`).
    """
    scenario = load_scenario("scenarios/home_room.toml")
    calls = _calls(monkeypatch)
    model = HomeRoomModel(1, scenario, **_recording("home_room", "compare"))
    model.run_model()
    assert calls == [model.calendar.last_week]
    assert len(model.student_frames) == len(set(outcome_weeks(scenario).values()))


def test_a_run_without_snapshots_runs_its_weeks_in_one_call_questionnaires_and_all(monkeypatch):
    """A questionnaire's week is no pause: the call keeps what its questionnaire reads.

    As a power study and a sweep run the model; the questionnaires equal a week a step's.
    """
    scenario = load_scenario("scenarios/home_room.toml")
    calls = _calls(monkeypatch)
    quiet = {"record_students": False, "record_ties": False, "record_faculties": False}
    for seed in (0, 5):
        calls.clear()
        ahead = HomeRoomModel(seed, scenario, record_weeks=(), **quiet)
        ahead.run_model()
        assert calls == [scenario.total_weeks]
        stepped = SteppedModel(seed, scenario, record_weeks=(), **quiet)
        stepped.run_model()
        assert sorted(ahead.questionnaire) == ["followup", "post", "pre", "screening"]
        for occasion, totals in stepped.questionnaire.items():
            np.testing.assert_array_equal(ahead.questionnaire[occasion], totals)
            np.testing.assert_array_equal(ahead.latent.get(occasion), stepped.latent.get(occasion))
        for occasion, totals in stepped.expected_totals.items():
            np.testing.assert_array_equal(ahead.expected_totals[occasion], totals)
        assert (
            ahead.measurement_rng.bit_generator.state == stepped.measurement_rng.bit_generator.state
        )


def test_the_weeks_ahead_stop_at_every_week_python_reads():
    """A pause at each recorded week with a tie or faculty snapshot.

    None at a questionnaire's week or at a week that keeps the students' rows: the compiled
    weeks keep what those read.
    """
    scenario = load_scenario("scenarios/home_room.toml")

    def stops(model: HomeRoomModel) -> list[int]:
        found = []
        while model.week < model.calendar.last_week:
            model.week += weeks.weeks_ahead(model)
            found.append(model.week)
        return found

    last = scenario.total_weeks  # the last week ends the run
    students = HomeRoomModel(2, scenario, record_ties=False, record_faculties=False)
    assert stops(students) == [last]
    no_faculties = {"record_students": False, "record_faculties": False}
    ties = HomeRoomModel(2, scenario, record_weeks=[0, 5, 9], **no_faculties)
    assert stops(ties) == [5, 9, last]
    faculties = HomeRoomModel(2, scenario, record_weeks=[0, 7], record_ties=False)
    assert stops(faculties) == [7, last]
    everything = HomeRoomModel(2, scenario)  # every week has its snapshots
    assert weeks.weeks_ahead(everything) == 1


def test_a_step_sees_the_state_of_its_own_week():
    """Stepped by hand, each week's state is that week's: the same as a fresh run to it."""
    scenario = load_scenario("scenarios/home_room.toml")
    model = HomeRoomModel(4, scenario, record_ties=False)
    for _ in range(6):
        model.step()
    other = HomeRoomModel(4, scenario, record_ties=False)
    for _ in range(6):
        other.step()
    np.testing.assert_array_equal(model.social_interaction, other.social_interaction)
    assert model.simulated_week == model.week == 6
    assert not model.simulated_weeks


def test_a_model_read_by_its_own_reporters_runs_a_week_a_step():
    """A DataCollector that reads the model sees each week's own state (no running ahead)."""
    scenario = load_scenario("scenarios/home_room.toml")
    model = HomeRoomModel(3, scenario, record_ties=False)
    model.datacollector = mesa.DataCollector(
        model_reporters={"week_seen": lambda m: m.simulated_week}
    )
    model.run_model()
    seen = model.datacollector.get_model_vars_dataframe()["week_seen"].tolist()
    assert seen == list(range(1, scenario.total_weeks + 1))


def test_a_copy_taken_between_steps_runs_on_as_the_original():
    """Pickling keeps the group stream's Generator: a copy's next weeks are the original's."""
    scenario = load_scenario("scenarios/home_room.toml")
    model = HomeRoomModel(5, scenario, record_ties=False, record_faculties=False)
    for _ in range(3):
        model.step()
    copy = pickle.loads(pickle.dumps(model))
    assert copy.group_stream.generator is copy.group_rng
    model.run_model()
    copy.run_model()
    pd.testing.assert_frame_equal(_tables(model)["sessions"], _tables(copy)["sessions"])
    np.testing.assert_array_equal(model.social_interaction, copy.social_interaction)


#: The steps of a week (ODD section 3) as the compiled week calls them, in order.
WEEK_IN_ODD_ORDER = [
    "hold_sessions",
    "campus_week",
    "decay_week",
    "count_contacts",
    "score_students",
    "week_measures",
]


def test_the_compiled_week_runs_odd_3_in_order():
    """`run_weeks` calls the week's steps in the order of ODD section 3, each once."""
    order = [
        ins.argval
        for ins in dis.get_instructions(week_kernel.run_weeks.py_func)
        if ins.opname in {"LOAD_GLOBAL", "LOAD_ATTR"} and ins.argval in WEEK_IN_ODD_ORDER
    ]
    assert order == WEEK_IN_ODD_ORDER
