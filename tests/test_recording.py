"""Recording: the compiled week's measures equal the readable definitions, to the last bit.

`groupsim.model.recording_kernel` takes a recorded week's measures in compiled calls; the
definitions are the numpy functions of `groupsim.model.recording`, `HomeRoomModel.climate`
and `tension`, and `groupsim.model.measures.score_parts` / `social_interaction_score`. Sums
are taken in numpy's order, so the numbers must be equal, not just close. The score's
saturating parts take exp: the model's is the C library's on every CPU (compiled), numpy's
own differs in the last bit with AVX-512, so the week's definitions take the compiled parts,
and the parts are held to numpy's within the last bit of exp. The records also
go to Mesa's DataCollector directly; they must be what Mesa's own `collect` keeps.
"""

from __future__ import annotations

import math

import mesa
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from conftest import small_scenario
from groupsim.model import kernel, recording, recording_kernel
from groupsim.model.measures import SCORE_WEIGHTS, score_terms
from groupsim.model.model import HomeRoomModel
from groupsim.model.ties import TieStore
from groupsim.runs.runner import build_model


def _finished(scenario_name: str = "home_room", seed: int = 3, **overrides) -> HomeRoomModel:
    model = build_model(small_scenario(scenario_name, **overrides), seed, record_ties=False)
    model.run_model()
    return model


def _numpy_record(model: HomeRoomModel) -> dict[str, float]:
    """The week's measures as the numpy definitions take them (the recording before it was
    compiled)."""
    s = model.states
    cl = model.clients
    m = model.config.measurement
    dense = recording.group_ties(model)
    inside = recording.in_group_ties(model, dense)
    outside = np.maximum(model.strength_sum[cl] - inside, 0.0)
    state = (s.skill[cl], s.attitude[cl], s.anxiety[cl], m.contact_scale, m.tie_scale)
    terms = kernel.score_terms(s.contact_rate[cl], model.strength_sum[cl], *state)
    parts = dict(zip(SCORE_WEIGHTS, terms, strict=True))
    transfer = kernel.social_interaction_score(s.contact_rate[cl], outside, *state)
    held = model.groups[0].sessions_held if model.config.holds_group else 0
    degree = model.ties.degrees()
    _, local = recording.clustering_sample(model.ties)
    n = model.n
    threshold = model.config.disclosure.personal_threshold
    return {
        "climate": model.climate,
        "tension": model.tension,
        "group_density": float(np.mean([recording.density(t) for t in dense])),
        "group_cohesion": float(np.mean([recording.cohesion(t) for t in dense])),
        "group_isolates": sum(recording.isolates(t) for t in dense),
        "group_clustering": float(np.mean([recording.clustering(t) for t in dense])),
        "clients_disclosed_share": recording.disclosed_share(s.disclosure[cl], threshold)
        if held
        else 0.0,
        "campus_density": 2.0 * len(model.ties) / (n * (n - 1)),
        "campus_ties": len(model.ties),
        "campus_clustering": float(local.mean()),
        "clients_social_interaction": float(model.social_interaction[cl].mean()),
        "clients_transfer_interaction": float(transfer.mean()),
        **{f"clients_part_{name}": float(value.mean()) for name, value in parts.items()},
        "clients_in_group_ties": float(inside.mean()),
        "clients_attendance": float(s.attended[cl].mean()) / held if held else math.nan,
        "clients_dropped_out": float(s.dropped_out[cl].mean()),
        **{
            f"clients_{name}": float(getattr(s, name)[cl].mean())
            for name in (
                "anxiety",
                "skill",
                "attitude",
                "resolve",
                "rapport",
                "openness",
                "disclosure",
                "contact_rate",
            )
        },
        "others_social_interaction": float(model.social_interaction[~s.client].mean()),
        "friends": len(model.friends),
        "friends_social_interaction": float(model.social_interaction[model.friends].mean()),
        "friends_ties": float(degree[model.friends].mean()),
        "friends_contact_rate": float(s.contact_rate[model.friends].mean()),
    }


@pytest.mark.parametrize("size", [*range(0, 140), 255, 256, 257, 1000, 3001, 8193, 20011])
def test_pairwise_sum_is_numpys_sum(size):
    rng = np.random.default_rng(size)
    values = rng.standard_normal(size) * 10.0 ** rng.uniform(-3, 3, size)
    assert recording_kernel.pairwise_sum(values, 0, size) == values.sum()
    if size > 20:
        part = values[7:-5]
        assert recording_kernel.pairwise_sum(values, 7, size - 12) == part.sum()


@pytest.mark.parametrize("size", [0, 1, 5, 9, 16, 130, 1000])
@pytest.mark.parametrize("missing", [0.0, 0.3, 1.0])
def test_present_mean_is_the_nan_skipping_mean_of_numpy(size, missing):
    """`present_mean` (the outcomes' means) as numpy takes it: NaN as 0 summed, over the count."""
    rng = np.random.default_rng(size)
    values = rng.standard_normal(size) * 10.0 ** rng.uniform(-3, 3, size)
    values[rng.random(size) < missing] = np.nan
    present = ~np.isnan(values)
    expected = np.where(present, values, 0.0).sum() / present.sum() if present.any() else np.nan
    mean = recording_kernel.present_mean(values)
    assert mean == expected or (np.isnan(mean) and np.isnan(expected))


def test_compiled_score_parts_are_numpys_to_the_last_bit_of_exp():
    # The parts are in [0, 1] and take `1 - exp(-x)`: exp off by a unit in its last place moves
    # a part by at most 2**-52 (numpy's exp and the C library's differ so with AVX-512).
    rng = np.random.default_rng(7)
    inputs = (rng.uniform(0, 5, 5000), rng.uniform(0, 8, 5000), *rng.uniform(0, 1, (3, 5000)))
    for scales in ((1.0, 1.0), (2.5, 4.0), (0.3, 7.0)):
        compiled = kernel.score_terms(*inputs, *scales)
        readable = score_terms(*inputs, *scales)
        for got, want in zip(compiled, readable, strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=np.finfo(np.float64).eps)


@pytest.mark.parametrize(
    ("scenario", "overrides"),
    [
        ("home_room", {}),
        ("standard_group", {"program__groups": 3}),
        ("no_intervention", {}),
        ("home_room", {"group__clients": 2}),
    ],
)
def test_recorded_week_equals_the_numpy_definitions_exactly(scenario, overrides):
    model = _finished(scenario, **overrides)
    record, degree, local = recording.weekly_metrics(model, model.calendar.week(model.week))
    expected = _numpy_record(model)
    assert list(record) == list(recording.WEEKLY_REPORTERS)
    for name, want in expected.items():
        got = record[name]
        assert type(got) is type(want), name
        assert got == want or (math.isnan(got) and math.isnan(want)), (name, got, want)
    assert np.array_equal(degree, model.ties.degrees())
    assert np.array_equal(local, recording.clustering_sample(model.ties)[1])


def test_the_recorded_weeks_are_what_mesa_collects():
    """Appending to the DataCollector's lists keeps what `DataCollector.collect` would."""
    model = HomeRoomModel(rng=5, config=small_scenario(), record_ties=False)
    reporters = {name: recording.reporter(name) for name in recording.WEEKLY_REPORTERS}
    mesa_collector = mesa.DataCollector(model_reporters=reporters)
    mesa_collector.collect(model)  # week 0, recorded when the model was built
    while model.running:
        model.step()
        mesa_collector.collect(model)
    ours = model.datacollector
    pd.testing.assert_frame_equal(
        ours.get_model_vars_dataframe(), mesa_collector.get_model_vars_dataframe()
    )
    assert ours._collection_steps == mesa_collector._collection_steps
    assert list(ours.get_model_vars_dataframe()["week"]) == list(range(model.week + 1))


def test_a_collector_with_other_reporters_is_collected_by_mesa():
    model = HomeRoomModel(rng=5, config=small_scenario(), record_ties=False)
    model.datacollector = mesa.DataCollector(
        model_reporters={"ties": lambda m: len(m.ties), "week": recording.reporter("week")}
    )
    model.step()
    model.step()
    assert model.datacollector.model_vars["week"] == [1, 2]
    assert len(model.datacollector.model_vars["ties"]) == 2
    assert model.datacollector.model_vars["ties"][-1] == len(model.ties)


def random_ties(rng: np.random.Generator, n: int, draws: int, weakest: float) -> TieStore:
    """Ties among `n` students: `draws` random pairs (self-pairs and repeats dropped)."""
    ties = TieStore(n)
    a, b = rng.integers(0, n, draws), rng.integers(0, n, draws)
    keep = a != b
    keys, first = np.unique(ties.pair_keys(a[keep], b[keep]), return_index=True)
    ties.set(a[keep][first], b[keep][first], rng.uniform(weakest, 1.0, len(keys)))
    return ties


def test_group_measures_equal_the_readable_definitions():
    rng = np.random.default_rng(11)
    n = 30
    ties = random_ties(rng, n, 200, 0.05)
    groups = [rng.choice(n, k, replace=False) for k in (0, 1, 2, 3, 9, 12)]
    members = np.concatenate(groups).astype(np.int64)
    bounds = np.cumsum([0, *map(len, groups)])
    density, cohesion, isolates, clustering, inside = recording_kernel.group_measures(
        ties.keys, ties.strength, n, members, bounds
    )
    for g, group in enumerate(groups):
        tie = ties.dense(group)
        assert density[g] == recording.density(tie)
        assert cohesion[g] == recording.cohesion(tie)
        assert isolates[g] == recording.isolates(tie)
        assert clustering[g] == recording.clustering(tie)
        assert np.array_equal(inside[bounds[g] : bounds[g + 1]], tie.sum(axis=1))


@pytest.mark.parametrize("most", [3000, 7, 1])
def test_campus_clustering_is_networkx_local_clustering(most):
    """Everyone (the triangles once each) or a sample (per student): networkx's numbers."""
    rng = np.random.default_rng(4)
    n = 40
    ties = random_ties(rng, n, 150, 0.1)
    sample, local, degree = recording_kernel.clustering_sample(ties.keys, n, most)
    assert np.array_equal(sample, np.arange(0, n, -(-n // most)))
    expected = nx.clustering(ties.to_networkx())
    assert local.tolist() == pytest.approx([expected[i] for i in sample], abs=0, rel=1e-15)
    indptr, cols, _, _ = ties.csr()
    assert np.array_equal(local, recording_kernel.local_clustering(indptr, cols, sample))
    assert np.array_equal(degree, ties.degrees())
    indptr_rows, cols_rows = recording_kernel.neighbour_rows(ties.keys, n)
    assert np.array_equal(indptr_rows, indptr)
    assert np.array_equal(cols_rows, cols)


def test_student_rows_share_the_columns_that_stay_the_same():
    model = _finished()
    first, last = model.student_frames[0], model.student_frames[-1]
    for name in ("student_id", "faculty", "client", "group"):
        assert last[name] is first[name]
        assert not first[name].flags.writeable
    assert np.array_equal(last["group"], model.group_of)
    assert np.array_equal(last["social_interaction"], model.social_interaction)
    assert last["social_interaction"] is not model.social_interaction


def test_a_weeks_student_rows_are_the_named_states():
    """`keep_students` writes each of `STUDENT_ROWS` from the state of that name.

    At the run's end (its last week kept by the compiled weeks) and taken now from the state
    (`student_rows`, as week 0 is): the table's columns are those states, degree an integer.
    """
    model = _finished()
    s = model.states
    named = {
        "tie_strength_sum": model.strength_sum,
        "social_interaction": model.social_interaction,
        "degree": np.bincount(np.concatenate([model.ties.sources, model.ties.targets]),
                              minlength=model.n),
    }  # fmt: skip
    last = model.student_frames[-1]
    now = recording.student_snapshot(model, 99, recording.student_rows(model, named["degree"]))
    for name in recording_kernel.STUDENT_ROWS:
        expected = named[name] if name in named else getattr(s, name)
        np.testing.assert_array_equal(last[name], expected)
        np.testing.assert_array_equal(now[name], expected)
    assert last["degree"].dtype == now["degree"].dtype == np.int64
    assert list(last)[5:] == list(recording_kernel.STUDENT_ROWS)
