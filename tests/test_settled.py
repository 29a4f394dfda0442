"""Arms that share a settled cohort (`groupsim.model.settled`) run exactly as from scratch."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from groupsim import load_scenario, run
from groupsim.model.settled import settling_key
from groupsim.scenario import with_overrides

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
ARMS = ("home_room", "no_intervention", "standard_group", "home_room_formal_room")


def same(a: Any, b: Any) -> bool:
    """Exactly the same records: arrays to the bit (NaN equal to NaN), values by ==."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype == object or b.dtype == object:
            return a.shape == b.shape and a.tolist() == b.tolist()
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    return bool(a == b)


def assert_same_run(shared: Any, fresh: Any) -> None:
    for f in dataclasses.fields(fresh.records):
        if f.name != "scenario":
            assert same(getattr(shared.records, f.name), getattr(fresh.records, f.name)), f.name
    a, b = shared.network, fresh.network
    assert same(list(a.nodes(data=True)), list(b.nodes(data=True)))
    assert same(list(a.edges(data=True)), list(b.edges(data=True)))


@pytest.mark.parametrize("seed", [0, 7])
def test_arms_sharing_a_settled_cohort_run_exactly_as_from_scratch(seed: int) -> None:
    cohorts: dict = {}
    for name in ARMS:
        scenario = load_scenario(SCENARIOS / f"{name}.toml")
        shared = run(scenario, seed=seed, settled_cohorts=cohorts)
        assert_same_run(shared, run(scenario, seed=seed))
    assert len(cohorts) == 1  # the four shipped arms agree on cohort and campus life


def test_every_section_outside_the_key_may_differ_between_sharing_arms() -> None:
    """Sections set-up and burn-in do not read: sharing stays exact however they differ.

    If set-up or burn-in came to read one of them, this fails until `settling_key` has it.
    """
    base = load_scenario(SCENARIOS / "home_room.toml")
    changed = with_overrides(
        base,
        {
            "group.clients": 7, "group.screened_share": 0.3, "group.turn_minutes": 3.0,
            "counselor.warmth": 0.5, "counselor.facilitation": 0.9,
            "program.sessions": 6, "program.baseline_weeks": 1, "program.followup_weeks": 4,
            "climate.rate": 0.5, "climate.setting_weight": 0.5, "climate.tension_weight": 0.8,
            "rapport.rate": 0.3, "attendance.intercept": 0.5, "tension.rate": 0.7,
            "disclosure.openness_gain": 0.2, "attitude.psychoeducation_rate": 0.3,
            "exchange.tie_loss": 0.3, "exchange.disillusion": 0.5, "exchange.novelty": 0.5,
            "measurement.response_rate": 0.8,
        },
    )  # fmt: skip
    assert settling_key(changed, 3) == settling_key(base, 3)
    cohorts: dict = {}
    run(base, seed=3, settled_cohorts=cohorts)
    assert_same_run(run(changed, seed=3, settled_cohorts=cohorts), run(changed, seed=3))


@pytest.mark.parametrize(
    "overrides",
    [
        {"cohort.sociability_mean": 0.6},
        {"campus.contacts_per_week": 4.0},
        {"exchange.skill_gain": 0.05},
        {"decay.tie_decay": 0.25},
        {"measurement.contact_memory": 0.6},
        {"climate.campus": 0.4},
    ],
)
def test_a_different_cohort_or_campus_life_is_settled_anew(overrides: dict[str, Any]) -> None:
    base = load_scenario(SCENARIOS / "home_room.toml")
    other = with_overrides(base, overrides)
    assert settling_key(other, 3) != settling_key(base, 3)
    cohorts: dict = {}
    run(base, seed=3, settled_cohorts=cohorts)
    assert_same_run(run(other, seed=3, settled_cohorts=cohorts), run(other, seed=3))
    assert len(cohorts) == 2


def test_nothing_is_shared_without_an_integer_seed() -> None:
    base = load_scenario(SCENARIOS / "home_room.toml")
    assert settling_key(base, None) is None
    assert settling_key(base, np.random.default_rng(1)) is None
    assert settling_key(base, np.int64(4)) == settling_key(base, 4)
    assert settling_key(base, 4) != settling_key(base, 5)


def test_power_runs_of_one_seed_share_their_cohort_exactly() -> None:
    """Group sizes and screening options of one seed: the same totals as run one by one."""
    from groupsim.scenario import with_clients
    from groupsim.study.power import group_totals, seed_group_totals, with_screening

    base = load_scenario(SCENARIOS / "home_room.toml")
    control = load_scenario(SCENARIOS / "no_intervention.toml")
    scenarios = (
        with_clients(base, 6),
        base,
        with_screening(base, "pretest"),
        with_clients(control, 6),
    )
    shared = seed_group_totals((scenarios, 11))
    for scenario, totals in zip(scenarios, shared, strict=True):
        assert same(totals, group_totals((scenario, 11)))
