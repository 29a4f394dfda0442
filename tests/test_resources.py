import pytest

from groupsim import HomeRoomModel, ScenarioError
from groupsim.resources import available_memory, check_memory, estimate_memory
from groupsim.scenario import Scenario


def test_estimate_grows_with_students_and_records():
    small = Scenario()
    big = Scenario.model_validate({"cohort": {"faculties": 20, "students_per_faculty": 5000}})
    assert estimate_memory(big, False, False) > 10 * (estimate_memory(small, False, False) - 250e6)
    assert estimate_memory(big, True, True) > estimate_memory(big, False, False)


def test_the_default_fits_and_the_override_lowers_what_is_available(monkeypatch):
    check_memory(Scenario(), True, True, source="x")  # no error on this machine
    monkeypatch.setenv("GROUPSIM_MEMORY_LIMIT", "1000")
    assert available_memory() == 1000


def test_model_refuses_up_front_and_says_how_much(monkeypatch):
    monkeypatch.setenv("GROUPSIM_MEMORY_LIMIT", str(300e6))
    with pytest.raises(ScenarioError, match=r"would need about [0-9.]+ GB") as info:
        HomeRoomModel(rng=0, cohort_faculties=50, cohort_students_per_faculty=10_000)
    assert info.value.field == "cohort.students_per_faculty"
