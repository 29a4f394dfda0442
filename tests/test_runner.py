"""`groupsim.run`: reproducible results, in one process and across processes."""

from __future__ import annotations

import os
import subprocess
import textwrap

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from conftest import PYTHON, ROOT, SMALL, small_scenario
from groupsim import HomeRoomModel, run
from groupsim.runs.runner import collect

TABLES = ("weekly", "sessions", "students", "questionnaire", "ties")


def _assert_same_run(a, b) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=True)


def test_same_scenario_and_seed_give_identical_tables(small_home_room, small_result):
    again = run(small_home_room, seed=7)
    _assert_same_run(small_result, again)
    assert nx.utils.graphs_equal(small_result.network, again.network)


def test_different_seeds_differ(small_home_room, small_result):
    other = run(small_home_room, seed=8)
    assert not small_result.weekly.equals(other.weekly)
    assert not small_result.students.equals(other.students)
    assert not small_result.ties.equals(other.ties)


def test_reproducible_across_processes(tmp_path, small_result):
    """A fresh interpreter (another hash seed) writes the same tables as this process."""
    script = textwrap.dedent(
        f"""
        import sys
        from groupsim import load_scenario, run
        scenario = load_scenario({str(ROOT / "scenarios" / "home_room.toml")!r}, {SMALL!r})
        result = run(scenario, seed=7)
        for table in {TABLES!r}:
            getattr(result, table).to_parquet(f"{{sys.argv[1]}}/{{table}}.parquet", index=False)
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [PYTHON, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    for table in TABLES:
        written = pd.read_parquet(tmp_path / f"{table}.parquet")
        pd.testing.assert_frame_equal(written, getattr(small_result, table), check_exact=True)


def test_run_result_shapes(small_result):
    scenario = small_result.scenario
    weeks = scenario.total_weeks + 1
    assert len(small_result.weekly) == weeks
    assert len(small_result.sessions) == scenario.program.sessions
    assert len(small_result.students) == weeks * scenario.students
    assert len(small_result.questionnaire) == scenario.group.clients
    assert sorted(small_result.ties["week"].unique()) == list(range(weeks))
    assert small_result.seed == 7
    q = small_result.questionnaire
    assert q["pre"].notna().all()
    assert (q["post"].isna() == q["post_missing"]).all()
    assert (q["followup"].isna() == q["followup_missing"]).all()


def test_final_network_carries_student_states(small_result):
    graph = small_result.network
    assert graph.number_of_nodes() == small_result.scenario.students
    last = small_result.students[small_result.students["week"] == small_result.weekly["week"].max()]
    for node in (0, 5, 11):
        attrs = graph.nodes[node]
        row = last[last["student_id"] == node].iloc[0]
        for state in ("anxiety", "skill", "attitude", "resolve", "disclosure"):
            assert attrs[state] == pytest.approx(row[state])
        assert attrs["label"].startswith(f"S{node} - ")
    final_ties = small_result.ties[small_result.ties["week"] == small_result.weekly["week"].max()]
    assert graph.number_of_edges() == len(final_ties)


def test_without_student_and_tie_records_the_rest_is_unchanged(small_home_room, small_result):
    lean = run(small_home_room, seed=7, record_students=False, record_ties=False)
    assert lean.students.empty
    assert lean.ties.empty
    assert list(lean.students.columns) == list(small_result.students.columns)
    pd.testing.assert_frame_equal(lean.weekly, small_result.weekly)
    pd.testing.assert_frame_equal(lean.questionnaire, small_result.questionnaire)


def test_collect_a_partly_stepped_model():
    model = HomeRoomModel(rng=1, config=small_scenario())
    for _ in range(2):
        model.step()
    result = collect(model, 1)
    assert len(result.weekly) == 3
    assert result.questionnaire["post"].isna().all()
    assert result.questionnaire["pre"].notna().all()
    assert np.all(result.students["week"].unique() == [0, 1, 2])


def test_a_run_pauses_the_cyclic_collector_until_it_ends(small_home_room, monkeypatch):
    """The collector's passes over a large run's objects cost ~10% of its time."""
    import gc

    seen: list[bool] = []
    step = HomeRoomModel.step

    def watched(model: HomeRoomModel) -> None:
        seen.append(gc.isenabled())
        step(model)

    monkeypatch.setattr(HomeRoomModel, "step", watched)
    assert gc.isenabled()
    run(small_home_room, seed=7, record_ties=False)
    assert seen
    assert not any(seen)
    assert gc.isenabled()
