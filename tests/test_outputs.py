"""The output contract: every table of a run has exactly the columns and dtypes of TABLES."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import small_scenario
from groupsim import run
from groupsim.model.model import WEEKLY_REPORTERS
from groupsim.runs.outputs import SESSION_COLUMNS, TABLES, conform, markdown_table


@pytest.fixture(scope="module")
def results(small_result):
    return {
        "home_room": small_result,
        "no_intervention": run(small_scenario("no_intervention"), seed=2),
        "lean": run(
            small_scenario("standard_group"), seed=2, record_students=False, record_ties=False
        ),
    }


@pytest.mark.parametrize("arm", ["home_room", "no_intervention", "lean"])
@pytest.mark.parametrize("table", list(TABLES))
def test_tables_match_the_contract(results, arm, table):
    frame = getattr(results[arm], table)
    spec = TABLES[table]
    assert list(frame.columns) == list(spec)
    for name, (dtype, _) in spec.items():
        assert frame[name].dtype == pd.Series(dtype=dtype).dtype, (table, name, frame[name].dtype)
    assert frame.index.equals(pd.RangeIndex(len(frame)))


def test_weekly_reporters_follow_the_contract():
    assert list(WEEKLY_REPORTERS) == list(TABLES["weekly"])
    assert list(TABLES["sessions"]) == SESSION_COLUMNS


def test_contract_has_a_meaning_for_every_column():
    for table, spec in TABLES.items():
        for name, (dtype, meaning) in spec.items():
            assert meaning.strip(), (table, name)
            pd.Series(dtype=dtype)  # a dtype pandas knows


def test_conform_orders_types_and_rejects_missing_columns():
    frame = pd.DataFrame({"strength": [0.5], "target": [2], "source": [1], "week": [0], "x": [9]})
    out = conform("ties", frame)
    assert list(out.columns) == ["week", "source", "target", "strength"]
    assert str(out["week"].dtype) == "int64"
    with pytest.raises(KeyError, match="lacks columns"):
        conform("ties", frame.drop(columns="strength"))
    empty = conform("weekly", pd.DataFrame())
    assert list(empty.columns) == list(TABLES["weekly"])
    assert empty.empty


@pytest.mark.parametrize("table", list(TABLES))
def test_markdown_table_lists_every_column(table):
    text = markdown_table(table)
    lines = text.splitlines()
    assert lines[0] == "| column | type | meaning |"
    assert len(lines) == 2 + len(TABLES[table])
    for name in TABLES[table]:
        assert f"| `{name}` |" in text
