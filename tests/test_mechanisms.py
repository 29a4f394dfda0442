"""Unit tests of the mechanisms (ODD 7): direction of effect, bounds and fixed points."""

from __future__ import annotations

import numpy as np
import pytest

from groupsim.model import mechanisms as mech

GRID = np.linspace(0.0, 1.0, 11)


# 7.1 Climate -----------------------------------------------------------------------------


def test_logistic_is_bounded_symmetric_and_safe_for_large_inputs():
    x = np.array([-1e6, -5.0, 0.0, 5.0, 1e6])
    p = mech.logistic(x)
    assert np.all(np.isfinite(p))
    assert np.all((p >= 0.0) & (p <= 1.0))
    assert mech.logistic(0.0) == pytest.approx(0.5)
    assert mech.logistic(2.0) + mech.logistic(-2.0) == pytest.approx(1.0)
    assert np.all(np.diff(p) >= 0)
    assert mech.logistic(1.0) == pytest.approx(1.0 / (1.0 + np.exp(-1.0)))


def test_climate_setting_a_home_like_room_passes_on_more_warmth():
    home = mech.climate_setting(0.8, 1.0, 0.6)
    formal = mech.climate_setting(0.8, 0.0, 0.6)
    half = mech.climate_setting(0.8, 0.5, 0.6)
    assert home == pytest.approx(0.8)  # a home-like room passes on all the warmth
    assert formal == pytest.approx(0.48)
    assert formal < half < home
    assert mech.climate_setting(0.0, 1.0, 0.6) == 0.0  # no warmth, no setting
    assert mech.climate_setting(0.9, 1.0, 0.6) > home  # warmer counselors set a warmer room


def test_climate_target_mixes_setting_and_cohesion_less_tension():
    assert mech.climate_target(0.8, 0.2, 0.0, 1.0, 0.5) == pytest.approx(0.8)
    assert mech.climate_target(0.8, 0.2, 0.0, 0.0, 0.5) == pytest.approx(0.2)
    assert mech.climate_target(0.8, 0.2, 0.0, 0.75, 0.5) == pytest.approx(0.65)
    # More cohesion, higher target; tension lowers it, never below 0.
    assert mech.climate_target(0.5, 0.9, 0.0, 0.5, 0.5) > mech.climate_target(
        0.5, 0.1, 0.0, 0.5, 0.5
    )
    assert mech.climate_target(0.8, 0.2, 0.4, 0.75, 0.5) == pytest.approx(0.45)
    assert mech.climate_target(0.1, 0.0, 1.0, 0.75, 1.0) == 0.0


@pytest.mark.parametrize("climate", [0.0, 0.3, 0.9])
@pytest.mark.parametrize("target", [0.1, 0.6, 1.0])
def test_update_climate_moves_toward_target_without_overshoot(climate, target):
    new = mech.update_climate(climate, target, 0.3)
    assert abs(new - target) <= abs(climate - target) + 1e-12
    assert min(climate, target) - 1e-12 <= new <= max(climate, target) + 1e-12
    assert mech.update_climate(climate, target, 0.0) == climate
    assert mech.update_climate(climate, target, 1.0) == pytest.approx(target)
    # The target is a fixed point.
    assert mech.update_climate(target, target, 0.3) == pytest.approx(target)


# 7.2 Rapport ------------------------------------------------------------------------------


def test_grow_rapport_rises_with_warmth_and_climate_and_stays_in_unit_interval():
    rapport = GRID
    grown = mech.grow_rapport(rapport, 0.8, 0.7, 0.3, 0.5, 0.6)
    assert np.all(grown >= rapport)
    assert np.all(grown <= 1.0)
    assert grown[-1] == pytest.approx(1.0)  # full trust is a fixed point
    warmer = mech.grow_rapport(rapport, 1.0, 0.7, 0.3, 0.5, 0.6)
    safer = mech.grow_rapport(rapport, 0.8, 0.9, 0.3, 0.5, 0.6)
    calmer = mech.grow_rapport(rapport, 0.8, 0.7, 0.0, 0.5, 0.6)
    assert np.all(warmer[:-1] > grown[:-1])
    assert np.all(safer[:-1] > grown[:-1])
    assert np.all(calmer[:-1] > grown[:-1])  # an anxious client trusts more slowly
    # A cold counselor or a tense room builds no trust.
    assert np.allclose(mech.grow_rapport(rapport, 0.0, 0.7, 0.3, 0.5, 0.6), rapport)
    assert np.allclose(mech.grow_rapport(rapport, 0.8, 0.0, 0.3, 0.5, 0.6), rapport)


def test_grow_rapport_stays_in_the_unit_interval_at_any_rate():
    fast = mech.grow_rapport(GRID, 1.0, 1.0, 0.0, 11.0, 0.6)  # rate x family-tone boost
    assert np.all((fast >= 0.0) & (fast <= 1.0))
    assert np.allclose(fast, 1.0)


def test_counselor_trait_is_logit_normal_around_the_scenario_value():
    assert mech.counselor_trait(0.85, 0.0, 2.5) == 0.85  # no spread: every counselor alike
    assert mech.counselor_trait(0.85, 0.8, 0.0) == pytest.approx(0.85)  # the median
    draws = np.array([mech.counselor_trait(0.85, 0.8, z) for z in np.linspace(-3, 3, 61)])
    assert np.all((draws > 0.0) & (draws < 1.0))
    assert np.all(np.diff(draws) > 0)
    wider = np.array([mech.counselor_trait(0.85, 1.6, z) for z in np.linspace(-3, 3, 61)])
    assert wider.std() > draws.std()


def test_tension_rises_with_anxiety_mismatch_and_stage_and_a_calm_counselor_lowers_it():
    def target(anxiety=0.5, spread=0.1, stage=1.0, calm=0.5):
        return mech.tension_target(anxiety, spread, stage, calm, 1.0, 2.0, 0.8)

    assert 0.0 < target() < 1.0
    assert target(anxiety=0.8) > target()
    assert target(spread=0.3) > target()
    assert target(stage=0.4) < target()  # the working stage allows less conflict than storming
    assert target(calm=0.9) < target()
    assert target(stage=0.0) == 0.0
    assert target(anxiety=100.0, spread=100.0, calm=0.0) < 1.0
    assert mech.update_tension(0.2, 0.6, 0.5) == pytest.approx(0.4)
    assert mech.felt_climate(0.8, 0.3) == pytest.approx(0.5)
    assert mech.felt_climate(0.2, 0.3) == 0.0


def test_attendance_rises_with_resolve_rapport_climate_and_falls_with_anxiety():
    def chance(resolve=0.5, rapport=0.5, climate=0.5, anxiety=0.5):
        return mech.attendance_probability(
            resolve, rapport, climate, anxiety, 1.5, 1.5, 1.5, 1.5, 2.0
        )

    assert 0.0 < chance() < 1.0
    assert chance(resolve=0.9) > chance()
    assert chance(rapport=0.9) > chance()
    assert chance(climate=0.9) > chance()
    assert chance(anxiety=0.9) < chance()


def test_turns_in_session_share_the_time():
    assert mech.turns_in_session(45.0, 2.5) == 18
    assert mech.turns_in_session(90.0, 2.5) == 36
    assert mech.turns_in_session(5.0, 60.0) == 1  # at least one turn


def test_practices_act_on_facilitation_and_inhibition():
    assert mech.practised_facilitation(0.6, 1.0, 0.5) == pytest.approx(0.6)
    assert mech.practised_facilitation(0.6, 0.0, 0.5) == pytest.approx(0.3)
    assert mech.relieved_inhibition(4.0, 1.0, 0.4) == pytest.approx(2.4)
    assert mech.relieved_inhibition(4.0, 0.0, 0.4) == pytest.approx(4.0)


# 7.3 Engagement ---------------------------------------------------------------------------


def _engagement(sociability=0.5, resolve=0.5, anxiety=0.5, climate=0.5):
    return mech.engagement_probability(sociability, resolve, anxiety, climate, -1.0, 2.0, 2.0, 4.0)


def test_engagement_rises_with_sociability_resolve_and_falls_with_anxiety():
    base = _engagement()
    assert 0.0 < base < 1.0
    assert _engagement(sociability=0.9) > base
    assert _engagement(resolve=0.9) > base
    assert _engagement(anxiety=0.9) < base


def test_engagement_anxiety_inhibits_only_as_far_as_the_climate_is_unsafe():
    # In a perfectly safe room anxiety no longer matters.
    assert _engagement(anxiety=0.0, climate=1.0) == pytest.approx(
        _engagement(anxiety=1.0, climate=1.0)
    )
    # A safer room helps an anxious student.
    assert _engagement(anxiety=0.8, climate=0.9) > _engagement(anxiety=0.8, climate=0.1)
    p = mech.engagement_probability(GRID, GRID, GRID, 0.3, -20.0, 20.0, 20.0, 20.0)
    assert np.all((p >= 0.0) & (p <= 1.0))


def test_facilitate_keeps_the_most_engaged_and_lifts_the_least_most():
    p = np.array([0.1, 0.4, 0.7, 0.9])
    lifted = mech.facilitate(p, 0.5)
    assert lifted.max() == pytest.approx(p.max())
    assert lifted[p.argmax()] == pytest.approx(p.max())
    gains = lifted - p
    assert np.all(gains >= 0)
    assert gains.argmax() == p.argmin()
    assert np.all(np.diff(gains) <= 0)  # sorted ascending p: gains fall
    assert np.all(lifted <= 1.0)
    assert np.allclose(mech.facilitate(p, 0.0), p)
    assert np.allclose(mech.facilitate(p, 1.0), p.max())
    assert mech.facilitate(np.array([]), 0.5).size == 0


# 7.4 Exchange -----------------------------------------------------------------------------


def test_partner_weights_normalised_prefer_friends_and_include_strangers():
    ties = np.array([0.0, 0.2, 0.9])
    w = mech.partner_weights(ties, 0.3)
    assert w.sum() == pytest.approx(1.0)
    assert np.all(np.diff(w) > 0)
    assert w[0] > 0  # a stranger can still be met
    assert np.allclose(mech.partner_weights(np.zeros(4), 0.3), 0.25)


def _success(skill=0.5, climate=0.5, tie=0.0):
    return mech.exchange_success_probability(skill, skill, climate, tie, -2.5, 3.0, 3.0, 2.0)


def test_exchange_success_rises_with_skill_climate_and_tie():
    base = _success()
    assert 0.0 < base < 1.0
    assert _success(skill=0.9) > base
    assert _success(climate=0.9) > base
    assert _success(tie=0.8) > base
    # Only the pair's mean skill counts.
    a = mech.exchange_success_probability(0.2, 0.8, 0.5, 0.0, -2.5, 3.0, 3.0, 2.0)
    assert a == pytest.approx(_success(skill=0.5))


def test_strengthen_tie_moves_toward_one_and_never_exceeds_it():
    ties = GRID
    for gain in (0.0, 0.25, 0.9, 1.0, 1.5):
        new = mech.strengthen_tie(ties, gain)
        assert np.all(new >= ties - 1e-12)
        assert np.all(new <= 1.0)
    assert mech.strengthen_tie(0.0, 0.25) == pytest.approx(0.25)  # a stranger starts at the gain
    assert mech.strengthen_tie(0.4, 0.5) == pytest.approx(0.7)
    assert mech.strengthen_tie(1.0, 0.5) == pytest.approx(1.0)  # fixed point
    assert mech.strengthen_tie(0.4, 5.0) == pytest.approx(1.0)  # gain clipped to 1
    assert mech.strengthen_tie(0.4, -1.0) == pytest.approx(0.4)  # and to 0


def test_relieve_anxiety_lowers_anxiety_and_scales_with_climate():
    anxiety = GRID
    safe = mech.relieve_anxiety(anxiety, 0.2, 0.9)
    tense = mech.relieve_anxiety(anxiety, 0.2, 0.1)
    assert np.all(safe <= anxiety)
    assert np.all(safe >= 0.0)
    assert np.all(anxiety - safe >= anxiety - tense)
    assert np.all((anxiety - safe)[1:] > (anxiety - tense)[1:])
    assert np.allclose(mech.relieve_anxiety(anxiety, 0.2, 0.0), anxiety)  # no safety, no relief
    assert mech.relieve_anxiety(0.5, 0.2, 1.0) == pytest.approx(0.4)
    assert mech.relieve_anxiety(0.0, 0.2, 1.0) == 0.0  # calm is a fixed point


def test_sting_anxiety_raises_anxiety_cushioned_by_climate():
    anxiety = GRID
    tense = mech.sting_anxiety(anxiety, 0.1, 0.1)
    safe = mech.sting_anxiety(anxiety, 0.1, 0.9)
    assert np.all(tense >= anxiety)
    assert np.all(tense <= 1.0)
    assert np.all((tense - anxiety)[:-1] > (safe - anxiety)[:-1])
    assert np.allclose(mech.sting_anxiety(anxiety, 0.1, 1.0), anxiety)  # a safe room: no sting
    assert mech.sting_anxiety(1.0, 1.0, 0.0) == pytest.approx(1.0)


def test_practice_skill_rises_toward_one():
    skill = GRID
    new = mech.practice_skill(skill, 0.1)
    assert np.all(new >= skill)
    assert np.all(new <= 1.0)
    assert new[-1] == pytest.approx(1.0)
    assert mech.practice_skill(0.5, 0.1) == pytest.approx(0.55)
    assert np.allclose(mech.practice_skill(skill, 0.0), skill)


# 7.5 Self-disclosure ----------------------------------------------------------------------


def test_disclosure_depth_is_capped_by_stage_and_grows_with_readiness():
    depth = mech.disclosure_depth(0.5, 0.5, 0.5, 1.0, 0.4, 0.3, 0.3)
    assert depth == pytest.approx(0.5)
    assert mech.disclosure_depth(1.0, 1.0, 1.0, 0.25, 0.4, 0.3, 0.3) == pytest.approx(0.25)
    assert mech.disclosure_depth(0.9, 0.5, 0.5, 1.0, 0.4, 0.3, 0.3) > depth
    assert mech.disclosure_depth(0.5, 0.9, 0.5, 1.0, 0.4, 0.3, 0.3) > depth
    assert mech.disclosure_depth(0.5, 0.5, 0.9, 1.0, 0.4, 0.3, 0.3) > depth
    # Working stage deeper than forming, same readiness.
    assert mech.disclosure_depth(0.5, 0.5, 0.5, 1.0, 0.4, 0.3, 0.3) > mech.disclosure_depth(
        0.5, 0.5, 0.5, 0.25, 0.4, 0.3, 0.3
    )
    grid = mech.disclosure_depth(GRID, GRID, 1.0, 1.0, 0.4, 0.3, 0.3)
    assert np.all((grid >= 0.0) & (grid <= 1.0))


def test_open_up_raises_openness_with_depth_and_stays_below_one():
    openness = GRID
    deep = mech.open_up(openness, 0.9, 0.2)
    shallow = mech.open_up(openness, 0.1, 0.2)
    assert np.all(deep >= shallow)
    assert np.all(shallow >= openness)
    assert np.all(deep <= 1.0)
    assert np.allclose(mech.open_up(openness, 0.0, 0.2), openness)


# 7.6 Attitude -----------------------------------------------------------------------------


def test_learning_weight_falls_with_a_close_partner_and_scales_with_responsiveness():
    assert mech.learning_weight(1.0, 0.0, 0.5) == pytest.approx(1.0)
    assert mech.learning_weight(1.0, 1.0, 0.5) == pytest.approx(0.5)
    assert mech.learning_weight(2.0, 0.5, 0.5) == pytest.approx(1.5)
    assert mech.learning_weight(1.0, 1.0, 0.0) == pytest.approx(1.0)  # no novelty effect


def test_failed_exchanges_weaken_ties_and_withdraw_disclosure_as_far_as_unsafe():
    assert mech.weaken_tie(0.5, 0.2, 0.0) == pytest.approx(0.4)
    assert mech.weaken_tie(0.5, 0.2, 1.0) == pytest.approx(0.5)  # a safe room: no loss
    assert mech.withdraw(0.6, 0.5, 0.0) == pytest.approx(0.3)
    assert mech.withdraw(0.6, 0.5, 1.0) == pytest.approx(0.6)
    assert 0.0 <= mech.withdraw(1.0, 1.0, 0.0) <= 1.0


def test_psychoeducation_pulls_toward_the_counselor_view_through_rapport():
    attitude = np.array([0.2, 0.5, 0.95])
    pulled = mech.psychoeducation(attitude, 0.8, 0.1, 0.9)
    assert np.all(np.abs(pulled - 0.9) <= np.abs(attitude - 0.9))
    assert pulled[0] > attitude[0]
    assert pulled[2] < attitude[2]
    assert np.allclose(mech.psychoeducation(attitude, 0.0, 0.1, 0.9), attitude)  # no trust
    more_trust = mech.psychoeducation(attitude, 1.0, 0.1, 0.9)
    assert np.all(np.abs(more_trust - 0.9) <= np.abs(pulled - 0.9))
    assert mech.psychoeducation(0.9, 0.8, 0.1, 0.9) == pytest.approx(0.9)  # the anchor is fixed


def test_confidence_bound_widens_with_climate_up_to_one():
    assert mech.confidence_bound(0.0, 0.2, 0.3) == pytest.approx(0.2)
    assert mech.confidence_bound(1.0, 0.2, 0.3) == pytest.approx(0.5)
    assert mech.confidence_bound(0.8, 0.2, 0.3) > mech.confidence_bound(0.2, 0.2, 0.3)
    assert mech.confidence_bound(1.0, 0.9, 0.9) == 1.0


def test_bounded_confidence_converges_within_epsilon_and_does_nothing_beyond():
    a, b = mech.bounded_confidence(0.4, 0.5, 0.2, 0.3)
    assert a == pytest.approx(0.43)
    assert b == pytest.approx(0.47)
    assert a + b == pytest.approx(0.9)  # the mean is kept
    assert abs(b - a) < 0.1
    # Beyond (and at) epsilon nothing moves.
    assert mech.bounded_confidence(0.1, 0.6, 0.2, 0.3) == (0.1, 0.6)
    assert mech.bounded_confidence(0.3, 0.5, 0.2, 0.3) == (0.3, 0.5)
    # mu = 0.5 meets in the middle; order does not matter.
    assert mech.bounded_confidence(0.6, 0.5, 0.2, 0.5) == pytest.approx((0.55, 0.55))


# 7.7 Resolve ------------------------------------------------------------------------------


def test_resolve_from_attitude_control_and_calm():
    base = mech.resolve_from(0.5, 0.5, 0.5, 0.45, 0.35, 0.2)
    assert base == pytest.approx(0.5)
    assert mech.resolve_from(0.9, 0.5, 0.5, 0.45, 0.35, 0.2) > base
    assert mech.resolve_from(0.5, 0.9, 0.5, 0.45, 0.35, 0.2) > base
    assert mech.resolve_from(0.5, 0.5, 0.9, 0.45, 0.35, 0.2) < base
    assert mech.resolve_from(1.0, 1.0, 0.0, 0.45, 0.35, 0.2) == pytest.approx(1.0)
    assert mech.resolve_from(0.0, 0.0, 1.0, 0.45, 0.35, 0.2) == pytest.approx(0.0)


# 7.9 Decay --------------------------------------------------------------------------------


def test_decay_tie_weakens_proportionally():
    ties = GRID
    decayed = mech.decay_tie(ties, 0.2)
    assert np.allclose(decayed, 0.8 * ties)
    assert np.all(decayed <= ties)
    assert np.all(decayed >= 0.0)
    assert np.allclose(mech.decay_tie(ties, 0.0), ties)
    assert np.allclose(mech.decay_tie(ties, 1.0), 0.0)


def test_drift_toward_baseline_closes_a_share_of_the_gap():
    state = np.array([0.1, 0.5, 0.9])
    baseline = np.array([0.5, 0.5, 0.5])
    drifted = mech.drift_toward(state, baseline, 0.25)
    assert np.allclose(drifted, [0.2, 0.5, 0.8])
    assert np.all(np.abs(drifted - baseline) <= np.abs(state - baseline))
    assert np.allclose(mech.drift_toward(state, baseline, 1.0), baseline)
    assert np.allclose(mech.drift_toward(state, baseline, 0.0), state)


# Several exchanges at once (campus weeks) ----------------------------------------------------


@pytest.mark.parametrize("times", [0, 1, 2, 5])
def test_times_equals_repeating_the_single_step(times):
    def repeat(step, value):
        for _ in range(times):
            value = step(value)
        return value

    for start in (0.0, 0.3, 0.9):
        assert mech.strengthen_tie(start, 0.25, times) == pytest.approx(
            repeat(lambda w: mech.strengthen_tie(w, 0.25), start)
        )
        assert mech.relieve_anxiety(start, 0.2, 0.6, times) == pytest.approx(
            repeat(lambda a: mech.relieve_anxiety(a, 0.2, 0.6), start)
        )
        assert mech.sting_anxiety(start, 0.1, 0.4, times) == pytest.approx(
            repeat(lambda a: mech.sting_anxiety(a, 0.1, 0.4), start)
        )
        assert mech.practice_skill(start, 0.05, times) == pytest.approx(
            repeat(lambda s: mech.practice_skill(s, 0.05), start)
        )


def test_times_per_student_arrays_stay_in_bounds():
    values = GRID
    times = np.arange(len(GRID)) * 3
    for new in (
        mech.strengthen_tie(values, 0.5, times),
        mech.relieve_anxiety(values, 0.9, 1.0, times),
        mech.sting_anxiety(values, 0.9, 0.0, times),
        mech.practice_skill(values, 0.9, times),
    ):
        assert np.all((new >= 0.0) & (new <= 1.0))
    assert np.allclose(mech.strengthen_tie(values, 0.5, np.zeros(len(GRID))), values)


def test_bounded_confidence_heard_moves_listeners_toward_the_views_they_heard():
    attitude = np.array([0.2, 0.3, 0.5, 0.9])
    # 0 hears 1 and 2; 3 hears 0 (too far); 1 hears nobody; 2 hears 1.
    speaker = np.array([1, 2, 0, 1])
    listener = np.array([0, 0, 3, 2])
    new = mech.bounded_confidence_heard(attitude, speaker, listener, epsilon=0.35, convergence=0.5)
    # 0: gaps +0.1 and +0.3, both heard, mean pull 0.2, moves half of it.
    assert new[0] == pytest.approx(0.2 + 0.5 * 0.2)
    assert new[1] == attitude[1]  # heard no one
    assert new[2] == pytest.approx(0.5 + 0.5 * (0.3 - 0.5))
    assert new[3] == attitude[3]  # 0.7 apart: beyond epsilon, nothing moves
    # A convex step: every listener stays between its view and the views it heard.
    rng = np.random.default_rng(0)
    attitude = rng.random(50)
    speaker, listener = rng.integers(0, 50, 400), rng.integers(0, 50, 400)
    new = mech.bounded_confidence_heard(attitude, speaker, listener, 0.3, 0.5)
    assert np.all((new >= 0.0) & (new <= 1.0))
    assert np.all(np.abs(new - attitude) <= 0.5 * 0.3 + 1e-12)
    unchanged = mech.bounded_confidence_heard(attitude, speaker, listener, 0.0, 0.5)
    assert np.array_equal(unchanged, attitude)
