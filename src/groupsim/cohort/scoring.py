"""Scoring real answers: each student's latent score under the model's graded response model.

The model measures its latent social-interaction score (0-1) with one graded response model
whose item parameters are fixed constants (:class:`groupsim.model.measures.QuestionnaireModel`).
Scoring a real student therefore means estimating one number per student with the item
parameters held fixed, not fitting an IRT model: the libraries that fit graded response
models (girth, or mirt in R) estimate their own item parameters from the sample, which would
put the students on a different scale from the one the simulation measures on. So the
estimate is the expected a posteriori (EAP) score of Bock & Mislevy (1982), computed by
numerical integration on a fine grid with the model's own item parameters:

    posterior(theta | answers) ~ prior(theta) * prod_i P(answer_i | theta)

over the answered items only (a missing answer carries no information; nothing is
imputed). The prior is the cohort's own distribution of the score: a Beta distribution on
[0, 1] (the range the composite score can take) fitted to the cohort by EM with the item
parameters fixed (Bock & Aitkin 1981; the M-step matches the Beta's mean and variance to
those of the pooled posteriors). Under that prior a low total is partly read as measurement
noise, so the estimates regress toward the cohort mean as real retests would. A cohort of
fewer than `MIN_FOR_PRIOR` students gets the uniform prior on [0, 1]. The posterior mean and
standard deviation are returned.

References: Bock & Aitkin (1981), Psychometrika 46, 443-459; Bock & Mislevy (1982), Applied
Psychological Measurement 6, 431-444.

Example:
    >>> import numpy as np
    >>> from groupsim.model.measures import QUESTIONNAIRE
    >>> answers = QUESTIONNAIRE.responses(np.array([0.3, 0.6]), np.random.default_rng(1))
    >>> mean, sd = eap_scores(answers, QUESTIONNAIRE)
    >>> [round(float(m), 1) for m in mean]
    [0.3, 0.6]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from groupsim.model.measures import QuestionnaireModel

__all__ = ["GRID", "MIN_FOR_PRIOR", "cohort_prior", "eap_scores", "log_likelihoods"]

#: The integration grid over the latent score's range [0, 1].
GRID = np.linspace(0.0, 1.0, 1001)

#: The fewest students whose answers fit a cohort prior (fewer: the uniform prior).
MIN_FOR_PRIOR = 30

#: Students scored at once (bounds memory: chunk x items x grid floats).
_CHUNK = 256


def category_log_probabilities(model: QuestionnaireModel, grid: np.ndarray) -> np.ndarray:
    """Log P(answer = lowest + m | theta) for each grid point, item and category m."""
    at_least = model.category_probabilities(grid)  # (grid, items, steps): P(X >= lowest + k + 1)
    ones = np.ones((*at_least.shape[:2], 1))
    bounds = np.concatenate([ones, at_least, 0.0 * ones], axis=2)
    exactly = bounds[:, :, :-1] - bounds[:, :, 1:]
    return np.log(np.clip(exactly, 1e-300, None))


def log_likelihoods(
    answers: ArrayLike, model: QuestionnaireModel, grid: np.ndarray = GRID
) -> np.ndarray:
    """Each student's log-likelihood at each grid point (n, grid); NaN answers are skipped.

    `answers` are scored answers (reverse-scored items already turned round) in
    lowest..highest, NaN where missing.
    """
    answers = np.asarray(answers, dtype=float)
    table = category_log_probabilities(model, grid)  # (grid, items, categories)
    answered = ~np.isnan(answers)
    category = np.where(answered, answers - model.lowest, 0).astype(np.int64)
    items = np.arange(model.items)[None, :]
    out = np.empty((len(answers), len(grid)))
    for start in range(0, len(answers), _CHUNK):
        rows = slice(start, start + _CHUNK)
        picked = table[:, items, category[rows]]  # (grid, chunk, items)
        out[rows] = np.where(answered[rows][None], picked, 0.0).sum(axis=2).T
    return out


def _posteriors(log_like: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    """Each student's posterior weights on the grid (rows sum to 1)."""
    log_post = log_like + log_prior[None, :]
    weights = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def _beta_log_density(mean: float, variance: float, grid: np.ndarray) -> np.ndarray:
    """Log-density (up to a constant) of the Beta with this mean and variance on the grid."""
    concentration = max(mean * (1.0 - mean) / variance - 1.0, 2.0)  # a + b; at least 2
    a, b = mean * concentration, (1.0 - mean) * concentration
    inside = np.clip(grid, 1e-6, 1.0 - 1e-6)
    return (a - 1.0) * np.log(inside) + (b - 1.0) * np.log1p(-inside)


def cohort_prior(log_like: np.ndarray, grid: np.ndarray = GRID, rounds: int = 50) -> np.ndarray:
    """The cohort's Beta prior on the grid (log-density), fitted by moment-matching EM.

    E-step: each student's posterior under the current prior; M-step: the Beta whose mean
    and variance are those of the pooled posteriors. Starts from the uniform prior.
    """
    log_prior = np.zeros(len(grid))
    for _ in range(rounds):
        weights = _posteriors(log_like, log_prior)
        pooled = weights.mean(axis=0)
        mean = float(pooled @ grid)
        variance = max(float(pooled @ grid**2) - mean**2, 1e-6)
        log_prior = _beta_log_density(min(max(mean, 1e-3), 1 - 1e-3), variance, grid)
    return log_prior


def eap_scores(
    answers: ArrayLike, model: QuestionnaireModel, grid: np.ndarray = GRID, prior: str = "cohort"
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation of each student's latent score.

    `prior` is "cohort" (a Beta fitted to these students, `cohort_prior`; uniform below
    `MIN_FOR_PRIOR` students) or "uniform" (uniform on [0, 1]).
    """
    log_like = log_likelihoods(answers, model, grid)
    fit = prior == "cohort" and len(log_like) >= MIN_FOR_PRIOR
    log_prior = cohort_prior(log_like, grid) if fit else np.zeros(len(grid))
    weights = _posteriors(log_like, log_prior)
    mean = weights @ grid
    sd = np.sqrt(np.maximum(weights @ grid**2 - mean**2, 0.0))
    return mean, sd
