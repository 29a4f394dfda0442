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
imputed). The prior is uniform on [0, 1], the range the composite latent score can take;
the posterior mean and standard deviation are returned.

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

__all__ = ["GRID", "eap_scores", "log_likelihoods"]

#: The integration grid over the latent score's range [0, 1].
GRID = np.linspace(0.0, 1.0, 1001)

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


def eap_scores(
    answers: ArrayLike, model: QuestionnaireModel, grid: np.ndarray = GRID
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation of each student's latent score (uniform prior)."""
    log_like = log_likelihoods(answers, model, grid)
    weights = np.exp(log_like - log_like.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    mean = weights @ grid
    sd = np.sqrt(np.maximum(weights @ grid**2 - mean**2, 0.0))
    return mean, sd
