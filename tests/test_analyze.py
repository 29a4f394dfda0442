"""`groupsim analyze`: effect tables with CIs, heatmaps, Sobol and Morris indices, failures."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from groupsim.runs.backends import SerialBackend
from groupsim.sweep.analyze import analyze
from groupsim.sweep.run import FAIL_RUNS_ENV, run_sweep
from groupsim.sweep.spec import SweepError, load_sweep
from groupsim.sweep.store import SweepStore
from test_sweep import write_sweep

BOUNDS = '"counselor.warmth" = {min = 0.2, max = 1.0}\n"program.sessions" = {min = 2, max = 5}'


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid")
    out = folder / "out"
    run_sweep(load_sweep(write_sweep(folder, replications=4)), out, SerialBackend(), label=None)
    return out


def test_effects_are_means_with_95_percent_cis_over_runs(grid_sweep):
    report = analyze(grid_sweep)
    assert (report.runs, report.finished, report.failed, report.missing) == (24, 24, 0, 0)
    effects = pd.read_csv(grid_sweep / "analysis" / "effects.csv")
    runs = SweepStore(grid_sweep).runs()
    warmth = effects[
        (effects["parameter"] == "counselor.warmth") & (effects["outcome"] == "final_climate")
    ]
    assert list(warmth["value"]) == [0.3, 0.6, 0.9]
    expected = runs.groupby("counselor.warmth")["final_climate"].mean().to_numpy()
    np.testing.assert_allclose(warmth["mean"], expected)
    assert (warmth["n"] == 8).all()
    assert (warmth["ci_low"] < warmth["mean"]).all()
    assert (warmth["mean"] < warmth["ci_high"]).all()
    # Warmer counselors make a warmer room (the climate mechanism), visible in the sweep.
    assert warmth["mean"].is_monotonic_increasing
    for name in ("effect_final_climate.png", "heatmap_final_climate.png", "points.csv"):
        assert (grid_sweep / "analysis" / name).stat().st_size > 0


def test_heatmap_covers_the_two_parameters(grid_sweep):
    analyze(grid_sweep, ["questionnaire_gain"])
    heat = pd.read_csv(grid_sweep / "analysis" / "heatmap.csv")
    assert set(heat["outcome"]) == {"questionnaire_gain"}
    assert len(heat) == 6  # 3 warmth values x 2 session counts
    assert set(heat["program.sessions"]) == {2, 4}


def test_sobol_indices_with_confidence_intervals(tmp_path):
    path = write_sweep(
        tmp_path, design="sobol", parameters=BOUNDS, extra="samples = 16", replications=1
    )
    run_sweep(load_sweep(path), tmp_path / "out", SerialBackend(), label=None)
    report = analyze(tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "analysis" / "sobol.csv")
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(table.columns)
    climate = table[table["outcome"] == "final_climate"].set_index("parameter")
    assert set(climate.index) == {"counselor.warmth", "program.sessions"}
    # Warmth sets the room's climate: it carries most of the climate's variance.
    assert climate.loc["counselor.warmth", "ST"] > climate.loc["program.sessions", "ST"]
    assert (table["S1_conf"] >= 0).all()
    assert "sobol_final_climate.png" in report.files


def test_morris_mu_star_and_sigma(tmp_path):
    path = write_sweep(
        tmp_path, design="morris", parameters=BOUNDS, extra="samples = 4", replications=1
    )
    run_sweep(load_sweep(path), tmp_path / "out", SerialBackend(), label=None)
    report = analyze(tmp_path / "out", ["final_climate"])
    table = pd.read_csv(tmp_path / "out" / "analysis" / "morris.csv").set_index("parameter")
    assert {"mu", "mu_star", "mu_star_conf", "sigma"} <= set(table.columns)
    assert table.loc["counselor.warmth", "mu_star"] > 0
    assert "morris_final_climate.png" in report.files


def test_failures_are_reported(tmp_path, monkeypatch, capsys):
    from groupsim import cli

    path = write_sweep(tmp_path, replications=1)
    monkeypatch.setenv(FAIL_RUNS_ENV, "4")
    sweep = load_sweep(path)
    run_sweep(sweep, tmp_path / "out", SerialBackend(), label=None)
    report = analyze(tmp_path / "out")
    assert (report.finished, report.failed) == (5, 1)
    failures = pd.read_csv(tmp_path / "out" / "analysis" / "failures.csv")
    assert list(failures["run_id"]) == [4]
    assert failures["seed"][0] == sweep.run_seed(4)
    readme = (tmp_path / "out" / "analysis" / "README.md").read_text()
    assert "1 failed" in readme
    assert "## What this analysis assumes" in readme
    monkeypatch.setattr(sys, "argv", ["groupsim", "analyze", str(tmp_path / "out")])
    cli.main()
    assert "1 failed" in capsys.readouterr().out


def test_a_folder_without_a_sweep_is_refused(tmp_path, monkeypatch, capsys):
    from groupsim import cli

    with pytest.raises(SweepError, match="holds no sweep"):
        analyze(tmp_path)
    monkeypatch.setattr(sys, "argv", ["groupsim", "analyze", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "analysis").exists()


def test_sobol_at_small_n_warns_and_says_the_replication_noise_share(tmp_path):
    path = write_sweep(
        tmp_path, design="sobol", parameters=BOUNDS, extra="samples = 8", replications=2
    )
    run_sweep(load_sweep(path), tmp_path / "out", SerialBackend(), label=None)
    report = analyze(tmp_path / "out", ["post_social_interaction"])
    warning = next(n for n in report.notes if n.startswith("Sobol indices of"))
    assert "N = 8 base samples" in warning
    noise = pd.read_csv(tmp_path / "out" / "analysis" / "noise.csv").iloc[0]
    assert 0 < noise["noise_share"] <= 1
    assert any("replication noise is" in n for n in report.notes)


def test_feature_scores_rank_the_parameter_that_drives_the_outcome(grid_sweep):
    analyze(grid_sweep, ["final_climate"])
    scores = pd.read_csv(grid_sweep / "analysis" / "feature_scores.csv").set_index("parameter")
    assert scores["score"].sum() == pytest.approx(1.0)
    # Warmth sets the room's climate; the number of sessions (2 or 4) hardly does.
    assert scores.loc["counselor.warmth", "score"] > scores.loc["program.sessions", "score"]


@pytest.mark.parametrize("seed", range(5))
def test_prim_recovers_a_known_box(seed):
    from groupsim.sweep.discover import discover

    rng = np.random.default_rng(seed)
    n = 1500
    cases = pd.DataFrame(
        {
            "counselor.warmth": rng.uniform(0, 1, n),
            "climate.rate": rng.uniform(0, 1, n),
            "rapport.rate": rng.uniform(0, 1, n),
            "counselor.technique": rng.choice(["home_room", "standard"], n).astype(object),
            "program.sessions": rng.integers(2, 13, n),
        }
    )
    inside = (
        (cases["counselor.warmth"] > 0.6)
        & (cases["climate.rate"] < 0.4)
        & (cases["counselor.technique"] == "home_room")
    )
    # Noise near the box's edges: 5% of the cases' outcomes are flipped.
    flipped = rng.uniform(size=n) < 0.05
    cases["effect_post_total"] = np.where(inside ^ flipped, 15.0, 0.0)
    found = discover(cases, list(cases.columns[:5]), "effect_post_total > 10")
    assert set(found.restricted) == {"counselor.warmth", "climate.rate", "counselor.technique"}
    assert found.limits.loc["counselor.warmth", "low"] == pytest.approx(0.6, abs=0.05)
    assert found.limits.loc["climate.rate", "high"] == pytest.approx(0.4, abs=0.05)
    assert found.limits.loc["counselor.technique", "values"] == "home_room"
    # The true box's own coverage and density on these noisy cases: PRIM's box comes close.
    interesting = inside ^ flipped
    ideal_coverage = (interesting & inside).sum() / interesting.sum()
    ideal_density = (interesting & inside).sum() / inside.sum()
    assert found.coverage > 0.9 * ideal_coverage
    assert found.density > 0.9 * ideal_density


def test_discover_and_csv_from_the_command_line(grid_sweep, monkeypatch, capsys):
    from groupsim import cli

    monkeypatch.setattr(
        sys,
        "argv",
        ["groupsim", "analyze", str(grid_sweep), "--csv", "--discover", "final_climate > 0.5"],
    )
    cli.main()
    out = capsys.readouterr().out
    assert "PRIM:" in out
    assert "coverage" in out
    assert "density" in out
    analysis = grid_sweep / "analysis"
    table = pd.read_csv(analysis / "runs.csv")
    assert {"counselor_warmth", "program_sessions", "final_climate"} <= set(table.columns)
    assert (analysis / "prim_trajectory.png").is_file()
    trajectory = pd.read_csv(analysis / "prim_trajectory.csv")
    assert trajectory["coverage"].between(0, 1).all()
    assert "counselor.warmth" in pd.read_parquet(grid_sweep / "runs").columns


def test_discover_refuses_a_bad_condition(grid_sweep, monkeypatch, capsys):
    from groupsim import cli

    monkeypatch.setattr(
        sys, "argv", ["groupsim", "analyze", str(grid_sweep), "--discover", "final_climate +"]
    )
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--discover" in err
    assert len(err.strip().splitlines()) == 1
