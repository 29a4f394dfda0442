import pytest

from groupsim import ScenarioError
from groupsim.runs.resources import available_memory, check_memory, estimate_memory
from groupsim.runs.runner import build_model
from groupsim.scenario import Scenario, scenario_from_dict


def test_estimate_grows_with_students_and_records():
    small = Scenario()
    big = Scenario.model_validate({"cohort": {"faculties": 20, "students_per_faculty": 5000}})
    assert estimate_memory(big, False, False) > 10 * (estimate_memory(small, False, False) - 250e6)
    assert estimate_memory(big, True, True) > estimate_memory(big, False, False)


def test_the_default_fits_and_the_override_lowers_what_is_available(monkeypatch):
    check_memory(Scenario(), True, True, source="x")  # no error on this machine
    monkeypatch.setenv("GROUPSIM_MEMORY_LIMIT", "1000")
    assert available_memory() == 1000


def test_a_run_is_refused_up_front_and_says_how_much(monkeypatch):
    """Every run is built by `build_model`, which checks memory before the model exists."""
    monkeypatch.setenv("GROUPSIM_MEMORY_LIMIT", str(300e6))
    big = scenario_from_dict({"cohort": {"faculties": 50, "students_per_faculty": 10_000}})
    with pytest.raises(ScenarioError, match=r"would need about [0-9.]+ GB") as info:
        build_model(big, 0)
    assert info.value.field == "cohort.students_per_faculty"


def test_recording_fewer_weeks_needs_less_and_the_model_counts_them(monkeypatch):
    scenario = Scenario()
    every = estimate_memory(scenario, True, True)
    three = estimate_memory(scenario, True, True, recorded_weeks=3)
    lean = estimate_memory(scenario, False, False)
    assert lean < three < every
    assert three - lean == pytest.approx((every - lean) * 3 / (scenario.total_weeks + 1))
    monkeypatch.setenv("GROUPSIM_MEMORY_LIMIT", str((three + every) / 2))
    with pytest.raises(ScenarioError, match="would need"):
        build_model(scenario, 0)
    model = build_model(scenario, 0, record_weeks=[0, 1, 2])  # fits
    assert list(model.datacollector.model_vars["week"]) == [0]
    # Student rows of three weeks only: the edge lists of every week still count.
    rows = estimate_memory(scenario, True, True, student_weeks=3)
    assert three < rows < every
    assert every - rows == pytest.approx(
        estimate_memory(scenario, True, False) - estimate_memory(scenario, True, False, None, 3)
    )


def test_the_cgroup_limit_is_the_lowest_number_and_max_means_none(tmp_path):
    from groupsim.runs.resources import cgroup_limit

    v2, v1 = tmp_path / "memory.max", tmp_path / "memory.limit_in_bytes"
    v2.write_text("max\n")
    assert cgroup_limit((str(v2), str(tmp_path / "absent"))) is None
    v1.write_text("4096\n")
    assert cgroup_limit((str(v2), str(v1))) == 4096.0
    v2.write_text("2048\n")
    assert cgroup_limit((str(v2), str(v1))) == 2048.0


def test_available_memory_is_psutils_or_lower(monkeypatch):
    import psutil

    monkeypatch.delenv("GROUPSIM_MEMORY_LIMIT", raising=False)
    assert 0 < available_memory() <= psutil.virtual_memory().total


def test_the_system_reading_is_reused_for_a_second(monkeypatch):
    """A study checks memory before every run: the system is asked at most once a second."""
    import groupsim.runs.resources as resources

    calls = []

    class Reading:
        available = 5e9

    def virtual_memory():
        calls.append(1)
        return Reading()

    monkeypatch.setattr(resources.psutil, "virtual_memory", virtual_memory)
    monkeypatch.setattr(resources, "_memory_reading", None)
    monkeypatch.delenv("GROUPSIM_MEMORY_LIMIT", raising=False)
    for _ in range(50):
        check_memory(Scenario(), True, True, source="x")
    assert len(calls) == 1
    monkeypatch.setattr(resources, "_memory_reading", (-10.0, 1.0))  # a reading too old
    assert available_memory() <= 5e9
    assert len(calls) == 2
