"""The compiled fast path: it runs the mechanisms themselves, and gives the old kernel's numbers.

`tests/data/kernel_reference.json` holds every outcome of seeds 0..5 of the three shipped arms
as the numpy kernel before the compiled one computed them (written by
`benchmarks/bench_equivalence.py --write-reference` from revision e97e4f2). The compiled
kernel draws the same random numbers in the same order, so it must give the same outcomes,
seed by seed; the 1,000-seed distribution check is `benchmarks/bench_equivalence.py`.
"""

from __future__ import annotations

import dis
import json
import math
from pathlib import Path

import numpy as np
import pytest

from groupsim import load_scenario, run
from groupsim.model import campus, kernel, measures, session_kernel, week_kernel, weekly
from groupsim.model import mechanisms as mech
from groupsim.runs.outcomes import outcome_weeks, run_outcomes

REFERENCE = json.loads(
    (Path(__file__).parent / "data" / "kernel_reference.json").read_text(encoding="utf-8")
)

#: The compiled loops of the weekly process, each with the mechanisms (ODD 7) it must run.
LOOPS = {
    campus.campus_week: {"exchange_success_probability", "resolve_from"},
    campus.campus_meetings: {"engagement_probability"},
    campus.strengthen_campus_ties: {"strengthen_tie"},
    campus.learn_on_campus: {
        "relieve_anxiety",
        "sting_anxiety",
        "practice_skill",
        "confidence_bound",
        "bounded_confidence_heard",
    },
    session_kernel.take_attendance: {"attendance_probability"},
    session_kernel.open_session: {
        "tension_target",
        "update_tension",
        "climate_target",
        "update_climate",
        "grow_rapport",
    },
    session_kernel.hold_turns: {"facilitate", "engagement_probability", "partner_weights"},
    session_kernel.group_exchange: {
        "exchange_success_probability",
        "felt_climate",
        "weaken_tie",
        "strengthen_tie",
        "learning_weight",
        "relieve_anxiety",
        "practice_skill",
        "confidence_bound",
        "bounded_confidence",
    },
    session_kernel.fail_exchange: {"sting_anxiety", "withdraw"},
    session_kernel.disclose: {"disclosure_depth", "open_up"},
    session_kernel.teach: {"psychoeducation"},
    kernel.decay_ties: {"decay_tie"},
    weekly.decay_week: {"drift_toward", "resolve_from"},
    weekly.count_contacts: set(),
    weekly.score_students: set(),
    weekly.burn_in_weeks: set(),
    week_kernel.hold_sessions: {"resolve_from"},
    week_kernel.run_weeks: set(),
}


@pytest.mark.parametrize("name", kernel.COMPILED_NAMES)
def test_each_compiled_mechanism_is_the_mechanism_itself(name):
    """`kernel.X` is `mechanisms.X` compiled: no second copy that could drift."""
    compiled = getattr(kernel, name)
    assert compiled.py_func is getattr(mech, name)
    assert kernel.COMPILED[name] is compiled


@pytest.mark.parametrize("name", sorted(kernel.MEASURES_COMPILED))
def test_each_compiled_measure_is_the_measure_itself(name):
    """`kernel.X` is `measures.X` compiled, and the weekly measurement calls it by name."""
    compiled = getattr(kernel, name)
    assert compiled.py_func is getattr(measures, name)
    assert kernel.MEASURES_COMPILED[name] is compiled
    called = {
        ins.argval
        for loop in (weekly.count_contacts, weekly.score_students)
        for ins in dis.get_instructions(loop.py_func)
        if ins.opname in {"LOAD_ATTR", "LOAD_GLOBAL", "LOAD_METHOD"}
    }
    assert name in called


@pytest.mark.parametrize("name", sorted(kernel.CALLED_FROM_PYTHON))
def test_what_python_code_calls_compiled_is_the_function_itself(name):
    """`kernel.X` is the mechanism or measure `X` itself, compiled (only its libm differs)."""
    compiled = getattr(kernel, name)
    assert kernel.CALLED_FROM_PYTHON[name] is compiled
    assert compiled.py_func in (getattr(mech, name, None), getattr(measures, name, None))


def test_the_compiled_score_and_contact_rate_equal_the_numpy_ones():
    """The measurement gives the same numbers compiled as from Python (to the last bits)."""
    rng = np.random.default_rng(3)
    parts = [rng.uniform(0, 5, 50), rng.uniform(0, 3, 50), *rng.random((3, 50))]
    np.testing.assert_allclose(
        kernel.social_interaction_score(*parts, 4.0, 2.0),
        measures.social_interaction_score(*parts, 4.0, 2.0),
        rtol=1e-15,
    )
    np.testing.assert_array_equal(
        kernel.update_contact_rate(parts[0], parts[1], 0.7),
        measures.update_contact_rate(parts[0], parts[1], 0.7),
    )


@pytest.mark.parametrize("loop", list(LOOPS), ids=lambda f: f.py_func.__qualname__)
def test_the_fast_path_calls_the_named_mechanisms(loop):
    """Each compiled loop calls its mechanisms through `kernel` (the compiled mechanisms)."""
    names = {
        ins.argval
        for ins in dis.get_instructions(loop.py_func)
        if ins.opname in {"LOAD_ATTR", "LOAD_GLOBAL", "LOAD_METHOD"}
    }
    called = names & set(mech.__all__)
    assert LOOPS[loop] <= called, LOOPS[loop] - called
    # And nothing but compiled mechanisms under those names.
    for name in called & set(kernel.COMPILED_NAMES):
        assert getattr(kernel, name).py_func is getattr(mech, name)


def test_every_compiled_mechanism_is_run_by_a_loop():
    """The registry holds no mechanism the fast path never runs."""
    run_by_loops = set().union(*LOOPS.values())
    assert set(kernel.COMPILED_NAMES) == run_by_loops


@pytest.mark.parametrize("arm", sorted(REFERENCE["arms"]))
def test_same_outcomes_as_the_numpy_kernel_seed_by_seed(arm):
    """Every outcome of the reference seeds equals the old kernel's (to 1e-9, relative)."""
    scenario = load_scenario(f"scenarios/{arm}.toml")
    weeks = tuple(outcome_weeks(scenario).values())
    expected = REFERENCE["arms"][arm]
    for seed in range(REFERENCE["seeds"]):
        result = run(
            scenario, seed=seed, record_students=False, record_ties=False, record_weeks=weeks
        )
        got = run_outcomes(result)
        for name, values in expected.items():
            want = values[seed]
            if want is None or (isinstance(want, float) and math.isnan(want)):
                assert math.isnan(got[name]), (arm, seed, name)
            else:
                assert got[name] == pytest.approx(want, rel=1e-9, abs=1e-12), (arm, seed, name)


def test_same_seed_same_run_twice():
    """Same seed, same numbers: the compiled path reads only the run's generators."""
    scenario = load_scenario("scenarios/home_room.toml", {"cohort.students_per_faculty": 8})
    first, second = (
        run(scenario, seed=11, record_students=True, record_ties=True) for _ in range(2)
    )
    assert first.students.equals(second.students)
    assert first.ties.equals(second.ties)


@pytest.mark.parametrize("loop", [*LOOPS, kernel.exchange_success_probability])
def test_disk_cache_is_stamped_with_every_model_source(loop):
    """A changed mechanism invalidates the cached loops that inline it (numba alone would not)."""
    locator = loop._cache._impl.locator
    assert locator.get_source_stamp() == kernel.sources_stamp()


# ---------------------------------------------------------------------- the tie store's loops


def test_search_left_is_numpys_searchsorted():
    """The branch-free search finds what `np.searchsorted` finds, in any range."""
    rng = np.random.default_rng(5)
    for _ in range(500):
        values = np.sort(rng.integers(0, 30, rng.integers(0, 40)))
        lo = int(rng.integers(0, len(values) + 1))
        hi = int(rng.integers(lo, len(values) + 1))
        for target in range(-1, 32):
            expected = np.searchsorted(values[lo:hi], target) + lo
            assert kernel.search_left(values, target, lo, hi) == expected


def test_lower_students_divide_the_keys():
    """Walking up sorted keys finds each pair's lower student, as `keys // n`."""
    rng = np.random.default_rng(6)
    for n in (1, 2, 7, 180):
        keys = np.unique(rng.integers(0, n * n, 3 * n))
        np.testing.assert_array_equal(kernel.lower_students(keys, n), keys // n)


def test_build_csr_is_scipys_symmetric_matrix():
    """The rows of neighbours are scipy's CSR of the symmetric tie matrix, row by row."""
    from scipy import sparse

    rng = np.random.default_rng(9)
    for n in (2, 7, 180):
        keys = np.unique(rng.integers(0, n * n, 3 * n))
        keys = keys[keys // n < keys % n]  # pairs (lower, higher), as the store holds them
        strength = rng.random(len(keys))
        lower, upper = keys // n, keys % n
        matrix = sparse.coo_array(
            (np.concatenate([strength, strength]),
             (np.concatenate([lower, upper]), np.concatenate([upper, lower]))),
            shape=(n, n),
        ).tocsr()  # fmt: skip
        matrix.sort_indices()
        indptr, cols, data, cumulative = kernel.build_csr(keys, strength, n)
        np.testing.assert_array_equal(indptr, matrix.indptr)
        np.testing.assert_array_equal(cols, matrix.indices)
        np.testing.assert_array_equal(data, matrix.data)
        np.testing.assert_array_equal(cumulative, np.cumsum(matrix.data))


def test_set_pairs_merges_ordered_keys_as_any_order():
    """New keys given in order (merged without a sort) give the same store as shuffled."""
    rng = np.random.default_rng(7)
    for _ in range(50):
        keys = np.unique(rng.integers(0, 400, 60))
        strength, used = rng.random(len(keys)), rng.random(len(keys)) < 0.5
        new_keys = np.unique(rng.integers(0, 400, 30))
        new_strength, new_used = rng.random(len(new_keys)) * 1.2, rng.random(len(new_keys)) < 0.5
        shuffled = rng.permutation(len(new_keys))
        ordered = kernel.set_pairs(
            keys, strength.copy(), used.copy(), new_keys, new_strength, new_used
        )
        unordered = kernel.set_pairs(
            keys, strength.copy(), used.copy(), new_keys[shuffled], new_strength[shuffled],
            new_used[shuffled],
        )  # fmt: skip
        for got, want in zip(ordered, unordered, strict=True):
            np.testing.assert_array_equal(got, want)


def test_set_pairs_holds_ties_only():
    """A pair set to 0 leaves the store and a new pair at 0 is not added; the rest as given."""
    keys = np.array([1, 5, 9, 12], dtype=np.int64)
    strength, used = np.array([0.2, 0.4, 0.6, 0.8]), np.zeros(4, dtype=np.bool_)
    new_keys = np.array([9, 3, 5, 7], dtype=np.int64)
    new_strength = np.array([0.0, 0.0, 0.9, 0.3])
    out_keys, out_strength, out_used = kernel.set_pairs(
        keys, strength.copy(), used.copy(), new_keys, new_strength, np.ones(4, dtype=np.bool_)
    )
    np.testing.assert_array_equal(out_keys, [1, 5, 7, 12])
    np.testing.assert_array_equal(out_strength, [0.2, 0.9, 0.3, 0.8])
    np.testing.assert_array_equal(out_used, [False, True, True, False])
    # Only removals: the same pairs less the emptied one.
    out_keys, out_strength, _ = kernel.set_pairs(
        keys, strength.copy(), used.copy(), keys[:1], np.zeros(1), np.zeros(1, dtype=np.bool_)
    )
    np.testing.assert_array_equal(out_keys, [5, 9, 12])
    np.testing.assert_array_equal(out_strength, [0.4, 0.6, 0.8])


def test_find_pairs_is_find_among_the_lower_students_keys():
    """Searching each pair among its lower student's keys finds what `find` finds."""
    rng = np.random.default_rng(8)
    for n in (2, 5, 40):
        keys = np.unique(rng.integers(0, n * n, 2 * n))
        keys = keys[keys // n < keys % n]  # pairs (lower, higher), as the store holds them
        np.testing.assert_array_equal(
            kernel.row_starts(keys, n), np.searchsorted(keys, np.arange(n + 1) * n)
        )
        a, b = rng.integers(0, n, 300), rng.integers(0, n, 300)
        keep = a != b
        a, b = a[keep], b[keep]
        pairs, pos, found = kernel.find_pairs(keys, n, a, b)
        np.testing.assert_array_equal(pairs, np.minimum(a, b) * n + np.maximum(a, b))
        expected_pos, expected_found = kernel.find(keys, pairs)
        np.testing.assert_array_equal(pos, expected_pos)
        np.testing.assert_array_equal(found, expected_found)


def test_parameter_records_take_their_types_from_the_annotations_not_the_values():
    """Every scenario gives the same record type, so the compiled code is compiled once."""
    values = weekly.WeekEndParameters(*range(9))  # integers where numbers are annotated
    record = kernel.parameter_record(values)
    assert record.shape == (1,)
    assert all(record.dtype[name] == np.float64 for name in values._fields)
    assert record[0].tolist() == tuple(float(v) for v in values)
    path = Path(__file__).parents[1] / "scenarios" / "home_room.toml"
    default, other = load_scenario(path), load_scenario(path, {"campus.contacts_per_week": 4})
    assert campus.campus_parameters(other).dtype == campus.campus_parameters(default).dtype
    assert campus.campus_parameters(default).dtype["channel_cdf"].shape == (4,)
    assert campus.campus_parameters(other)[0]["contacts_per_week"] == 4.0


def test_a_campus_week_reads_its_parameters_from_the_record():
    """The compiled week reads the record's fields by name: a changed field changes the week."""
    from groupsim import HomeRoomModel

    model = HomeRoomModel(rng=4, record_weeks=(), cohort_students_per_faculty=10)
    s, ties = model.states, model.ties
    contacts = s.contacts_this_week

    def campus_week() -> None:
        ties.keys, ties.strength, ties.used = campus.campus_week(
            model.campus_stream, ties.keys, ties.strength, ties.used, s.sociability,
            s.resolve, s.anxiety, s.skill, s.attitude, contacts, s.faculty,
            model.faculty_start, model.faculty_sizes, model.campus_parameters,
        )  # fmt: skip

    contacts[:] = 0.0
    model.campus_parameters[0]["contacts_per_week"] = 0.0  # no opportunities: no exchange
    campus_week()
    assert contacts.max() == 0.0
    model.campus_parameters[0]["contacts_per_week"] = 3.0
    campus_week()
    assert contacts.max() > 0.0


def test_a_random_stream_is_its_generator_handed_over():
    """A campus week drawing from a stream draws what its Generator itself would draw.

    The same week from the same state, once given the Generator and once a stream of a twin
    Generator: the same ties and states after, and both Generators in the same state; the
    stream keeps drawing where Python's draws left the Generator.
    """
    from groupsim import HomeRoomModel

    def week(model: HomeRoomModel, rng: object) -> list[np.ndarray]:
        s, ties = model.states, model.ties
        arrays = [a.copy() for a in (s.resolve, s.anxiety, s.skill, s.attitude)]
        contacts = s.contacts_this_week.copy()
        keys, strength, used = campus.campus_week(
            rng, ties.keys.copy(), ties.strength.copy(), ties.used.copy(), s.sociability,
            *arrays, contacts, s.faculty, model.faculty_start, model.faculty_sizes,
            model.campus_parameters,
        )  # fmt: skip
        return [keys, strength, used, *arrays, contacts]

    model = HomeRoomModel(rng=6, record_weeks=(), cohort_students_per_faculty=10)
    plain, twin = np.random.default_rng(11), np.random.default_rng(11)
    stream = kernel.random_stream(twin)
    assert stream.generator is twin
    assert kernel.generator_of(stream) is twin
    assert kernel.generator_of(plain) is plain
    for _ in range(3):
        assert plain.random() == twin.random()  # Python draws between compiled ones
        for by_generator, by_stream in zip(week(model, plain), week(model, stream), strict=True):
            np.testing.assert_array_equal(by_generator, by_stream)
        assert plain.bit_generator.state == twin.bit_generator.state
    assert model.campus_stream.generator is model.campus_rng


@pytest.mark.parametrize("lam", [0.0, 1e-9, 0.5, 3.0, 9.999, 10.0, 42.5])
def test_poisson_draws_are_numpys(lam):
    """numpy's Poisson numbers to the last one, and the Generator left where numpy leaves it.

    Means below 10 by the hand-written loop (e^-lam taken once), from 10 and at 0 by numpy's
    own; from a Generator and from a stream of it; 0, 1 and 1,000 numbers.
    """
    for seed in range(40):
        for size in (0, 1, 1000):
            numpy_rng = np.random.default_rng(seed)
            drawn_rng = np.random.default_rng(seed)
            rng = kernel.random_stream(drawn_rng) if seed % 2 else drawn_rng
            got = kernel.poisson_draws(rng, lam, size)
            np.testing.assert_array_equal(got, numpy_rng.poisson(lam, size))
            assert got.dtype == np.int64
            assert drawn_rng.bit_generator.state == numpy_rng.bit_generator.state


# ---------------------------------------------------------------------- the population's draws


def numpy_traits(n, means, concentration, rng, responsiveness_sd, sensitivity_sd):
    """`agents.draw_traits` as numpy's calls in Python draw it (the model's code to 2026-12-02)."""

    def beta(mean):
        return rng.beta(mean * concentration, (1.0 - mean) * concentration, size=n)

    def mean_one(spread):
        exponents = spread * rng.standard_normal(n) - 0.5 * spread * spread
        return np.array([math.exp(x) for x in exponents.tolist()])

    sociability, anxiety, openness, skill, attitude = (
        beta(means[name]) for name in ("sociability", "anxiety", "openness", "skill", "attitude")
    )
    anxiety = np.clip(
        anxiety + (1.0 / 3.0) * ((1.0 - sociability) - (1.0 - means["sociability"])), 0.0, 1.0
    )
    return (
        sociability, openness, anxiety, skill, attitude, mean_one(responsiveness_sd),
        mean_one(sensitivity_sd),
    )  # fmt: skip


def numpy_starting_ties(faculty, faculty_start, faculty_size, mean_ties, in_faculty_share, rng):
    """`screening.initial_ties` as numpy's calls in Python draw it (until 2026-12-02)."""
    n = len(faculty)
    starts = rng.poisson(mean_ties / 2.0, size=n)
    a = np.repeat(np.arange(n), starts)
    inside = rng.random(len(a)) < in_faculty_share
    b = np.where(
        inside,
        faculty_start[faculty[a]] + rng.integers(0, faculty_size, size=len(a)),
        rng.integers(0, n, size=len(a)),
    )
    strength = rng.uniform(0.15, 0.6, size=len(a))
    keep = a != b
    a, b, strength = a[keep], b[keep], strength[keep]
    keys = np.minimum(a, b) * n + np.maximum(a, b)
    unique, first = np.unique(keys, return_index=True)  # a pair's first start
    return unique, strength[first]


TYPICAL_MEANS = {
    "sociability": 0.35,
    "openness": 0.5,
    "anxiety": 0.6,
    "skill": 0.4,
    "attitude": 0.5,
}
EXTREME_MEANS = {
    "sociability": 0.9,
    "openness": 0.1,
    "anxiety": 0.05,
    "skill": 0.5,
    "attitude": 0.95,
}


@pytest.mark.parametrize(
    ("means", "concentration", "sds"),
    [(TYPICAL_MEANS, 8.0, (0.3, 0.25)), (EXTREME_MEANS, 1.5, (0.0, 0.0))],
)
def test_the_compiled_traits_are_numpys_draws(means, concentration, sds):
    """The same traits to the last bit, and the Generator left in the same state, over seeds.

    Includes Beta shapes below 1 (numba draws those by another branch of numpy's algorithm)
    and spreads of 0 (every multiplier 1, the normals drawn all the same).
    """
    from groupsim.model.agents import DRAWN_TRAITS, draw_traits

    ordered = tuple(means[name] for name in DRAWN_TRAITS)
    for seed in range(60):
        compiled_rng, numpy_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        stream = kernel.random_stream(compiled_rng)
        got = draw_traits(23, ordered, concentration, stream, *sds)
        expected = numpy_traits(23, means, concentration, numpy_rng, *sds)
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, e)
        assert compiled_rng.random() == numpy_rng.random()


@pytest.mark.parametrize(
    ("faculties", "per_faculty", "mean_ties", "in_faculty"),
    [(9, 20, 8.0, 0.8), (3, 7, 30.0, 0.5), (4, 1, 2.0, 1.0), (2, 5, 0.0, 0.8)],
)
def test_the_compiled_starting_ties_are_numpys_draws(faculties, per_faculty, mean_ties, in_faculty):
    """The same pairs and strengths as numpy's calls, over seeds; the Generator in step.

    Dense starts (30 ties a student among 21) start many pairs twice: each keeps its first
    strength, as `np.unique(..., return_index=True)` picks it. One student a faculty makes
    every faculty tie a tie to oneself, which is dropped; no ties at all gives an empty store.
    """
    from groupsim.model.screening import initial_ties
    from groupsim.model.ties import TieStore

    faculty = np.repeat(np.arange(faculties), per_faculty)
    starts = np.arange(faculties) * per_faculty
    for seed in range(60):
        compiled_rng, numpy_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        args = (faculty, starts, per_faculty, mean_ties, in_faculty)
        keys, strength = initial_ties(*args, kernel.random_stream(compiled_rng))
        expected_keys, expected_strength = numpy_starting_ties(*args, numpy_rng)
        np.testing.assert_array_equal(keys, expected_keys)
        np.testing.assert_array_equal(strength, expected_strength)
        assert compiled_rng.random() == numpy_rng.random()
    stream = kernel.random_stream(np.random.default_rng(1))
    ties = TieStore.of_pairs(len(faculty), *initial_ties(*args, stream))
    assert ties.used.shape == ties.keys.shape
    assert not ties.used.any()
    assert np.all(np.diff(ties.keys) > 0)
