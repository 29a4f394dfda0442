"""Sweeps over levers and uncertainties: designs, posterior draws, effects, custom outcomes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from groupsim.runs.backends import DaskBackend, LocalPoolBackend, SerialBackend
from groupsim.scenario import ScenarioError, apply_overrides, scenario_from_dict
from groupsim.scenario.twin import matched_control
from groupsim.sweep.run import run_sweep
from groupsim.sweep.spec import load_sweep, run_seed
from groupsim.sweep.store import SweepStore

HOME_ROOM = Path(__file__).resolve().parents[1] / "scenarios" / "home_room.toml"

SETTINGS = """
[set]
"cohort.faculties" = 3
"cohort.students_per_faculty" = 6
"cohort.burn_in_weeks" = 4
"group.clients" = 3
"program.baseline_weeks" = 1
"program.followup_weeks" = 1
"""

LEVERS = """
[levers]
"counselor.technique" = ["home_room", "standard"]
"program.sessions" = [3, 5]
"""


def write(folder: Path, body: str, sweep: str = "", name: str = "s.toml") -> Path:
    path = folder / name
    path.write_text(
        f'[sweep]\nscenario = "{HOME_ROOM}"\nseed = 9\n'
        'outcomes = ["questionnaire_post", "post_social_interaction"]\n'
        f"{sweep}\n{SETTINGS}\n{body}\n"
    )
    return path


def test_factorial_design_crosses_every_lever_combination_with_the_same_draws(tmp_path):
    body = LEVERS + '[uncertainties]\n"counselor.warmth" = {min = 0.3, max = 0.9}\n'
    sweep = load_sweep(write(tmp_path, body, "samples = 5\ncommon_random_numbers = true"))
    assert sweep.points == 4 * 5
    assert sweep.combinations == 4
    design = pd.DataFrame(sweep.design, columns=list(sweep.parameters))
    draws = design.groupby(np.arange(sweep.points) // 4)["counselor.warmth"].nunique()
    assert (draws == 1).all()  # a draw's points are neighbours and share its values
    assert design["counselor.warmth"].between(0.3, 0.9).all()
    strata = (design["counselor.warmth"].unique() - 0.3) // 0.12
    assert sorted(strata) == [0, 1, 2, 3, 4]  # a Latin hypercube: one draw per fifth
    # Common random numbers: every lever combination under one draw gets the draw's seed.
    assert {sweep.run_seed(r) for r in range(4)} == {run_seed(9, 0)}
    assert sweep.run_seed(4) == run_seed(9, 1)
    assert sweep.roles["counselor.technique"] == "lever"
    assert sweep.roles["counselor.warmth"] == "uncertainty"


def test_joint_design_samples_levers_and_uncertainties_together(tmp_path):
    body = (
        LEVERS
        + "[uncertainties]\n"
        + '"climate.rate" = {distribution = "triangular", min = 0.1, mode = 0.2, max = 0.6}\n'
    )
    sweep = load_sweep(write(tmp_path, body, 'design = "joint"\nsamples = 40'))
    design = pd.DataFrame(sweep.design, columns=list(sweep.parameters))
    assert sweep.points == 40
    assert set(design["counselor.technique"]) == {"home_room", "standard"}
    assert set(design["program.sessions"]) == {3, 5}
    assert design["climate.rate"].between(0.1, 0.6).all()
    assert design["climate.rate"].median() < 0.35  # skewed towards the mode


def test_posterior_draws_follow_the_weights(tmp_path):
    posterior = tmp_path / "cal"
    posterior.mkdir()
    pd.DataFrame(
        {"counselor.warmth": [0.4, 0.8], "rapport.rate": [0.2, 0.6], "weight": [0.1, 0.9]}
    ).to_parquet(posterior / "posterior.parquet")
    body = LEVERS + '[uncertainties]\nposterior = "cal"\n"climate.rate" = {min = 0.1, max = 0.5}\n'
    sweep = load_sweep(write(tmp_path, body, "samples = 200"))
    design = pd.DataFrame(sweep.design, columns=list(sweep.parameters))
    assert list(sweep.parameters[2:]) == ["climate.rate", "counselor.warmth", "rapport.rate"]
    share = (design["counselor.warmth"] == 0.8).mean()
    assert 0.84 < share < 0.96  # weight 0.9, 200 draws: 3 binomial SDs is 0.064
    pairs = set(zip(design["counselor.warmth"], design["rapport.rate"], strict=True))
    assert pairs <= {(0.4, 0.2), (0.8, 0.6)}  # draws keep a particle's values together


@pytest.mark.parametrize(
    ("body", "sweep", "field", "message"),
    [
        (LEVERS, 'design = "sobol"', "sweep.design", "factorial or joint"),
        (LEVERS + '[parameters]\n"counselor.warmth" = [0.5]\n', "", "parameters", "not both"),
        (
            LEVERS + '[uncertainties]\n"counselor.technique" = {min = 0, max = 1}\n',
            "samples = 2",
            "uncertainties.counselor.technique",
            "numeric",
        ),
        (
            LEVERS + '[uncertainties]\n"climate.rate" = {distribution = "normal", mean = 0.3}\n',
            "samples = 2",
            "uncertainties.climate.rate",
            "sd > 0",
        ),
        (
            LEVERS + '[uncertainties]\nposterior = "nowhere"\n',
            "samples = 2",
            "uncertainties.posterior",
            "no posterior here",
        ),
        (LEVERS + '[custom_outcomes]\nx = "nosuchname * 2"\n', "", "custom_outcomes.x", "unknown"),
        (LEVERS + '[custom_outcomes]\nx = "nomodule_q:f"\n', "", "custom_outcomes.x", "import"),
        (LEVERS + '[custom_outcomes]\nx = "questionnaire_post +"\n', "", "custom_outcomes.x", ""),
    ],
)
def test_bad_levers_or_outcomes_name_the_field(tmp_path, body, sweep, field, message):
    with pytest.raises(ScenarioError) as caught:
        load_sweep(write(tmp_path, body, sweep))
    assert caught.value.field == field
    assert message in caught.value.allowed


def test_each_effect_equals_a_compare_of_the_run_and_its_twin_with_the_same_seed(tmp_path):
    from groupsim import compare

    body = LEVERS + '[uncertainties]\n"counselor.warmth" = {min = 0.3, max = 0.9}\n'
    sweep = load_sweep(
        write(tmp_path, body, "samples = 2\neffects = true\ncommon_random_numbers = true")
    )
    run_sweep(sweep, tmp_path / "out", SerialBackend(), label=None)
    runs = SweepStore(tmp_path / "out").runs().set_index("run_id")
    assert (runs["status"] == "ok").all()
    assert runs["effect_questionnaire_post"].abs().max() > 0
    for run_id in (1, 6):  # home_room with 5 sessions in draw 0; standard, 3 sessions, draw 1
        point, _ = sweep.locate(run_id)
        draw = point // sweep.combinations
        data = apply_overrides(sweep.base.to_dict(), sweep.overrides(point), "test")
        design = scenario_from_dict(data, "test")
        # compare's replication r runs with child r of SeedSequence(seed): the sweep's key.
        result = compare([matched_control(design), design], reps=draw + 1, seed=9, label=None)
        rows = result.outcomes[result.outcomes["replication"] == draw].set_index("scenario")
        assert rows["seed"].iloc[0] == runs.loc[run_id, "seed"]
        for outcome in ("questionnaire_post", "post_social_interaction"):
            expected = rows.loc[design.name, outcome] - rows.loc[f"{design.name}_control", outcome]
            assert runs.loc[run_id, f"effect_{outcome}"] == pytest.approx(expected, abs=1e-12)


def test_a_twin_starts_from_the_cohort_its_run_settled(tmp_path, burn_ins):
    sweep = load_sweep(write(tmp_path, LEVERS, "replications = 2\neffects = true"))
    run_sweep(sweep, tmp_path / "out", SerialBackend(), label=None)
    runs = SweepStore(tmp_path / "out").runs()
    assert (runs["status"] == "ok").all()
    assert len(runs) == 8
    # 8 runs, each with a twin of its own seed: 8 burn-ins, not 16 (the effects' values
    # are those of a compare of the two: the test above).
    assert len(burn_ins) == 8


def test_a_draws_lever_combinations_settle_their_common_cohort_once(tmp_path, burn_ins):
    body = LEVERS + '[uncertainties]\n"climate.campus" = {min = 0.2, max = 0.5}\n'
    sweep = load_sweep(
        write(tmp_path, body, "samples = 2\neffects = true\ncommon_random_numbers = true")
    )
    # Chunks of one run: each run settles its own cohort (its twin starts from it).
    run_sweep(sweep, tmp_path / "alone", SerialBackend(), chunk_size=1, label=None)
    assert len(burn_ins) == 8
    burn_ins.clear()
    # One chunk of 8: the 4 lever combinations of a draw and their twins share one seed and
    # the cohort the draw's campus climate settles: one burn-in a draw.
    run_sweep(sweep, tmp_path / "together", SerialBackend(), chunk_size=8, label=None)
    assert len(burn_ins) == 2
    together = SweepStore(tmp_path / "together").runs()
    assert (together["status"] == "ok").all()
    pd.testing.assert_frame_equal(together, SweepStore(tmp_path / "alone").runs())


FUNCTIONS = '''
import numpy as np

def attended_share(records):
    """Share of clients who attended at least one session."""
    return float(np.mean(records.client_traits["attended"] > 0))
'''


def test_custom_outcomes_run_in_workers_of_the_pool_and_of_dask(tmp_path):
    (tmp_path / "my_outcomes_q18.py").write_text(FUNCTIONS)
    body = LEVERS + (
        "[custom_outcomes]\n"
        'attended_any = "my_outcomes_q18:attended_share"\n'
        'twice = "2 * effect_attended_any"\n'
    )
    sweep = load_sweep(write(tmp_path, body, "replications = 2\neffects = true"))
    assert sweep.outcomes[-3:] == ("effect_post_social_interaction", "effect_attended_any", "twice")
    run_sweep(sweep, tmp_path / "serial", SerialBackend(), label=None)
    run_sweep(sweep, tmp_path / "pool", LocalPoolBackend(2), chunk_size=3, label=None)
    run_sweep(sweep, tmp_path / "dask", DaskBackend(local_workers=2), chunk_size=3, label=None)
    reference = SweepStore(tmp_path / "serial").runs()
    assert (reference["status"] == "ok").all(), reference["error"].tolist()
    assert reference["attended_any"].between(0, 1).all()
    assert reference["attended_any"].gt(0).any()
    np.testing.assert_allclose(reference["twice"], 2 * reference["effect_attended_any"])
    for out in ("pool", "dask"):
        pd.testing.assert_frame_equal(SweepStore(tmp_path / out).runs(), reference)


def test_faculty_rows_are_built_only_for_a_custom_function_which_may_read_them(
    tmp_path, monkeypatch
):
    """No built-in outcome reads the faculty rows, so a sweep without functions skips them."""
    from groupsim.sweep import chunk

    (tmp_path / "faculty_outcomes_q14.py").write_text(
        "def faculty_weeks(records):\n    return float(len(records.faculties))\n"
    )
    built = []
    finished = chunk._finished_model

    def watched(*args, **kwargs):
        model = finished(*args, **kwargs)
        built.append(len(model.faculty_rows))
        return model

    monkeypatch.setattr(chunk, "_finished_model", watched)
    plain = load_sweep(write(tmp_path, LEVERS, "replications = 1"))
    run_sweep(plain, tmp_path / "plain", SerialBackend(), label=None)
    assert built
    assert set(built) == {0}
    built.clear()
    body = LEVERS + '[custom_outcomes]\nweeks = "faculty_outcomes_q14:faculty_weeks"\n'
    custom = load_sweep(write(tmp_path, body, "replications = 1", name="c.toml"))
    run_sweep(custom, tmp_path / "custom", SerialBackend(), label=None)
    rows = SweepStore(tmp_path / "custom").runs()
    assert (rows["weeks"] == 3).all()  # the pre-test, post-test and follow-up weeks
    assert set(built) == {3}
    shared = ["run_id", "post_social_interaction", "questionnaire_post"]
    pd.testing.assert_frame_equal(rows[shared], SweepStore(tmp_path / "plain").runs()[shared])
