"""A comparison's tables are built once from every run's columns, and equal the old tables.

`tests/data/compare_reference_*.parquet` hold the `results`, `outcomes` and `clients` tables of
`compare` (no intervention, standard group, home room; 3 replications, seed 5) as revision
b274643 built them, a DataFrame per run merged and concatenated. The columns path must give
the same values, types and order, exactly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import SCENARIOS, small_scenario
from groupsim import compare, run
from groupsim.runs.outcomes import client_columns, client_outcomes

DATA = Path(__file__).parent / "data"
ARMS = ["no_intervention", "standard_group", "home_room"]


@pytest.fixture(scope="module")
def comparison():
    files = [SCENARIOS / f"{arm}.toml" for arm in ARMS]
    return compare(files, reps=3, seed=5, workers=1, label=None)


@pytest.mark.parametrize("table", ["results", "outcomes", "clients"])
def test_tables_equal_the_reference_exactly(comparison, table):
    reference = pd.read_parquet(DATA / f"compare_reference_{table}.parquet")
    pd.testing.assert_frame_equal(getattr(comparison, table), reference, check_exact=True)


def test_client_columns_are_the_client_outcomes_table(small_result):
    columns = client_columns(small_result.records)
    table = client_outcomes(small_result)
    assert list(table.columns) == list(columns)
    for name, values in columns.items():
        assert (table[name].to_numpy() == values).all(), name


def test_faculty_rows_off_leaves_the_run_unchanged():
    scenario = small_scenario()
    kept = run(scenario, seed=4, record_ties=False)
    skipped = run(scenario, seed=4, record_ties=False, record_faculties=False)
    assert skipped.faculties.empty
    assert list(skipped.faculties.columns) == list(kept.faculties.columns)
    assert len(kept.faculties) > 0
    for table in ("weekly", "students", "questionnaire", "sessions"):
        pd.testing.assert_frame_equal(getattr(skipped, table), getattr(kept, table))


def test_client_columns_need_the_outcome_weeks():
    scenario = small_scenario()
    partial = run(scenario, seed=2, record_ties=False, record_weeks=[0, 1])
    with pytest.raises(ValueError, match="student rows of weeks"):
        client_columns(partial.records)
