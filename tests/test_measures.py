"""Measurement: the latent social interaction score and the 35-item questionnaire."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from groupsim.model.measures import (
    QUESTIONNAIRE,
    SCORE_WEIGHTS,
    SURE_GAP,
    SURE_RANGE,
    QuestionnaireModel,
    social_interaction_score,
    steps_passed,
    update_contact_rate,
)
from groupsim.scenario.instrument import Instrument


def test_questionnaire_is_the_35_item_one_to_four_scale():
    assert QUESTIONNAIRE.items == 35
    assert QUESTIONNAIRE.minimum == 35
    assert QUESTIONNAIRE.maximum == 140


def test_questionnaire_totals_stay_in_35_to_140_and_are_whole():
    rng = np.random.default_rng(1)
    scores = np.concatenate([np.linspace(-0.5, 1.5, 41), rng.random(200)])
    totals = QUESTIONNAIRE.totals(scores, rng)
    assert totals.shape == scores.shape
    assert totals.min() >= 35
    assert totals.max() <= 140
    assert np.all(totals == np.round(totals))
    responses = QUESTIONNAIRE.responses(scores, rng)
    assert responses.shape == (len(scores), 35)
    assert responses.min() >= 1
    assert responses.max() <= 4
    # The extremes reach the ends of the scale.
    assert QUESTIONNAIRE.totals(np.array([-5.0]), rng)[0] == 35
    assert QUESTIONNAIRE.totals(np.array([5.0]), rng)[0] == 140


def test_expected_total_is_monotone_and_bounded():
    scores = np.linspace(0.0, 1.0, 101)
    expected = QUESTIONNAIRE.expected_total(scores)
    assert np.all(np.diff(expected) > 0)
    assert expected.min() >= 35
    assert expected.max() <= 140


def test_step_probabilities_fall_with_the_step():
    p = QUESTIONNAIRE.category_probabilities(np.linspace(0, 1, 11))
    assert p.shape == (11, 35, 3)
    assert np.all(np.diff(p, axis=2) <= 0)  # P(>= k+1) falls with k: a valid graded model


def test_sampled_totals_center_on_the_expected_total():
    rng = np.random.default_rng(3)
    score = np.full(4000, 0.45)
    totals = QUESTIONNAIRE.totals(score, rng)
    assert totals.mean() == pytest.approx(QUESTIONNAIRE.expected_total([0.45])[0], abs=0.5)
    assert totals.std() > 0  # item noise: a questionnaire is a noisy measure


def test_questionnaire_reproducible_with_the_same_generator_seed():
    scores = np.linspace(0, 1, 20)
    a = QUESTIONNAIRE.totals(scores, np.random.default_rng(5))
    b = QUESTIONNAIRE.totals(scores, np.random.default_rng(5))
    assert np.array_equal(a, b)


def test_social_interaction_score_in_unit_interval_and_monotone():
    rng = np.random.default_rng(2)
    n = 500
    args = dict(
        contact_rate=rng.uniform(0, 50, n),
        strength_sum=rng.uniform(0, 30, n),
        skill=rng.random(n),
        attitude=rng.random(n),
        anxiety=rng.random(n),
    )
    score = social_interaction_score(**args, contact_scale=4.0, tie_scale=2.0)
    assert np.all((score >= 0.0) & (score <= 1.0))
    assert social_interaction_score(0, 0, 0, 0, 1, 4.0, 2.0) == pytest.approx(0.0)
    assert social_interaction_score(1e9, 1e9, 1, 1, 0, 4.0, 2.0) == pytest.approx(1.0)
    base = dict(contact_rate=2.0, strength_sum=1.0, skill=0.5, attitude=0.5, anxiety=0.5)
    ref = social_interaction_score(**base, contact_scale=4.0, tie_scale=2.0)
    for key, higher in [
        ("contact_rate", 3.0),
        ("strength_sum", 2.0),
        ("skill", 0.6),
        ("attitude", 0.6),
    ]:
        assert (
            social_interaction_score(**{**base, key: higher}, contact_scale=4.0, tie_scale=2.0)
            > ref
        )
    assert (
        social_interaction_score(**{**base, "anxiety": 0.6}, contact_scale=4.0, tie_scale=2.0) < ref
    )


def test_score_weights_sum_to_one():
    assert sum(SCORE_WEIGHTS.values()) == pytest.approx(1.0)


def test_contact_rate_is_a_moving_average():
    rate = update_contact_rate(np.array([2.0, 0.0]), np.array([4.0, 4.0]), 0.5)
    assert np.allclose(rate, [3.0, 2.0])
    assert np.allclose(update_contact_rate([2.0], [4.0], 0.0), [4.0])


def _sum_of_responses(model: QuestionnaireModel, scores: np.ndarray, seed: int) -> np.ndarray:
    return model.responses(scores, np.random.default_rng(seed)).sum(axis=1)


@pytest.mark.parametrize("points", [4, 7])
def test_totals_are_the_sums_of_the_responses_with_the_same_uniforms(points):
    """`totals` decides steps by the logit of their uniform: the same totals as `responses`."""
    model = QuestionnaireModel.from_instrument(Instrument(items=20, lowest=1, highest=points))
    for seed in range(200):
        rng = np.random.default_rng(seed)
        scores = rng.uniform(-0.5, 1.5, 60) if seed % 2 else rng.random(60)
        scores[:3] = [np.nan, np.inf, -1e300]
        totals = model.totals(scores, np.random.default_rng(seed))
        assert totals.dtype == np.int64
        assert np.array_equal(totals, _sum_of_responses(model, scores, seed))


def test_a_uniform_of_exactly_zero_passes_every_step_without_a_warning():
    """`Generator.random` can return 0.0 (once in 2**53): its logit is -inf, not a warning."""

    class Zeros:
        def random(self, shape):
            return np.zeros(shape)

    q = QUESTIONNAIRE
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        totals = q.totals(np.array([0.0, 0.5, 1.0]), Zeros())  # type: ignore[arg-type]
    assert (totals == q.items * q.highest).all()


def test_totals_decide_a_step_at_its_uniform_by_the_logistic():
    """A step whose argument sits on its uniform's logit is left to the logistic, exactly."""
    q = QUESTIONNAIRE
    u = np.random.default_rng(11).random((40, q.items))
    # Scores that put step 1 of item 0 right at each student's logit(u).
    logit = np.log(u[:, 0] / (1.0 - u[:, 0]))
    scores = logit / q.discrimination + q.thresholds[1] + q.locations[0]
    _, unsure, undecided = steps_passed(
        scores, np.asarray(q.thresholds), q.locations, q.discrimination, u, SURE_GAP, SURE_RANGE
    )
    assert unsure[:, 0, 1].all()
    assert undecided == unsure.sum()
    totals = q.totals(scores, np.random.default_rng(11))
    assert np.array_equal(totals, _sum_of_responses(q, scores, 11))
