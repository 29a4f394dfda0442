"""Measurement: the latent social interaction score and the simulated questionnaire (ODD 7.10).

The latent score is a documented composite of contact frequency, ties, skill, attitude and
calm. The questionnaire turns it into 35 item responses on a 1-to-4 scale (totals 35 to 140)
through one fixed graded response model (Samejima 1969), the same in every scenario: item
thresholds are constants of this module, not scenario parameters, so differences between
arms come from the mechanisms and never from the measurement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from groupsim.model.mechanisms import logistic

__all__ = [
    "QUESTIONNAIRE",
    "QuestionnaireModel",
    "social_interaction_score",
    "update_contact_rate",
]

#: Weights of the latent score's components (equal: no component is privileged).
SCORE_WEIGHTS = {"contact": 0.2, "ties": 0.2, "skill": 0.2, "attitude": 0.2, "calm": 0.2}


def update_contact_rate(contact_rate: ArrayLike, contacts: ArrayLike, memory: float) -> np.ndarray:
    """Exponential moving average of good exchanges per week (the frequency a student reports)."""
    return memory * np.asarray(contact_rate, dtype=float) + (1.0 - memory) * np.asarray(contacts)


def social_interaction_score(
    contact_rate: ArrayLike,
    strength_sum: ArrayLike,
    skill: ArrayLike,
    attitude: ArrayLike,
    anxiety: ArrayLike,
    contact_scale: float,
    tie_scale: float,
) -> np.ndarray:
    """Latent social interaction in [0, 1].

    How often, with how many and how strong ties, how competently, how willingly and how
    calmly a student interacts.

    Contact frequency and ties saturate (`1 - exp(-x / scale)`): the fifth friend adds less
    than the first.
    """
    contact = 1.0 - np.exp(-np.asarray(contact_rate, dtype=float) / contact_scale)
    ties = 1.0 - np.exp(-np.asarray(strength_sum, dtype=float) / tie_scale)
    w = SCORE_WEIGHTS
    return (
        w["contact"] * contact
        + w["ties"] * ties
        + w["skill"] * np.asarray(skill)
        + w["attitude"] * np.asarray(attitude)
        + w["calm"] * (1.0 - np.asarray(anxiety))
    )


@dataclass(frozen=True)
class QuestionnaireModel:
    """A graded response model from the latent score to Likert item responses.

    Item i answers at least category k+1 with probability
    `logistic(discrimination * (score - threshold[k] - location[i]))`, k = 1..3. Item
    locations spread evenly over `[-spread, +spread]` (easier and harder items).
    """

    items: int = 35
    lowest: int = 1
    highest: int = 4
    discrimination: float = 10.0
    thresholds: tuple[float, ...] = (0.025, 0.275, 0.525)
    spread: float = 0.1

    @property
    def minimum(self) -> int:
        """The lowest possible total."""
        return self.items * self.lowest

    @property
    def maximum(self) -> int:
        """The highest possible total."""
        return self.items * self.highest

    def category_probabilities(self, score: ArrayLike) -> np.ndarray:
        """P(response >= k+1) for each student, item and step: shape (n, items, steps)."""
        score = np.asarray(score, dtype=float)[:, None, None]
        locations = np.linspace(-self.spread, self.spread, self.items)[None, :, None]
        thresholds = np.asarray(self.thresholds)[None, None, :]
        return np.asarray(logistic(self.discrimination * (score - thresholds - locations)))

    def expected_total(self, score: ArrayLike) -> np.ndarray:
        """Mean scale total at a latent score (no item noise)."""
        return self.minimum + self.category_probabilities(score).sum(axis=(1, 2))

    def responses(self, score: ArrayLike, rng: np.random.Generator) -> np.ndarray:
        """Draw item responses (n, items) in lowest..highest."""
        p = self.category_probabilities(score)
        # One uniform per item: the response passes every step whose probability exceeds it
        # (the step probabilities fall with k, so this samples the graded response model).
        u = rng.random(p.shape[:2])[:, :, None]
        return self.lowest + (u < p).sum(axis=2)

    def totals(self, score: ArrayLike, rng: np.random.Generator) -> np.ndarray:
        """Scale totals (items x lowest .. items x highest) for each student."""
        return self.responses(score, rng).sum(axis=1)


#: The one questionnaire of groupsim: 35 items scored 1 to 4 (Nur Azizah & Murtafi'ah 2021).
QUESTIONNAIRE = QuestionnaireModel()
