"""Make the synthetic example cohort: 180 invented students, their answers and friendships.

NOT REAL PEOPLE. Every value is drawn from the random generator below: the ids look like
student numbers but belong to nobody; the faculties are the model's default names. The
cohort exists so that `docs/cohort.md` can walk through an import without anyone's data.

What is drawn (seed 2026, so the files are the same on every machine):

* 180 students in 9 faculties of unequal size (17 to 24).
* Each student's latent social-interaction score from a Beta(6, 7) distribution (mean 0.46,
  SD 0.13), a little lower in two faculties, so the cohort's mean total is near the reference
  study's 95 of 140.
* Answers to the 35 items of `examples/instrument.toml` from the model's own graded response
  model (items 3, 8, 14, 22 and 29 worded the other way, so their raw answers are reversed).
* 1.5% of answers left empty at random, and three students who stopped after 10 items (the
  import leaves those out and lists them).
* A friendship survey ("who do you talk to?"): each student names Poisson(0.5 + 5 x score)
  others, 80% in their own faculty, the more active students more often (weight = score
  squared), with "how often" (rarely/weekly/daily) as strength 0.3/0.5/0.8.

Run from the repository root::

    python examples/make_synthetic_cohort.py

It writes `examples/synthetic_responses.csv` and `examples/synthetic_friendships.csv`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from groupsim.model.measures import QuestionnaireModel
from groupsim.model.model import DEFAULT_FACULTY_NAMES
from groupsim.scenario.instrument import load_instrument

HERE = Path(__file__).parent
SIZES = (24, 22, 21, 20, 20, 19, 19, 18, 17)
SEED = 2026


def draw_latent(faculty: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Latent scores: Beta(6, 7), 0.05 lower in faculties 2 and 6."""
    latent = rng.beta(6.0, 7.0, size=len(faculty))
    return np.clip(latent - 0.05 * np.isin(faculty, [2, 6]), 0.01, 0.99)


def draw_answers(latent: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Raw answers (reverse-worded items turned back), some left empty."""
    instrument = load_instrument(HERE / "instrument.toml")
    scored = QuestionnaireModel.from_instrument(instrument).responses(latent, rng).astype(float)
    raw = instrument.scored(scored)  # reversing twice: scored -> raw answers
    raw[rng.random(raw.shape) < 0.015] = np.nan
    stopped = rng.choice(len(latent), size=3, replace=False)
    raw[stopped, 10:] = np.nan
    columns = [f"item{k}" for k in range(1, instrument.items + 1)]
    return pd.DataFrame(raw, columns=columns).astype("Int64")


def draw_friendships(
    ids: np.ndarray, faculty: np.ndarray, latent: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Nominations: Poisson(0.5 + 5 x score) each, 80% inside the faculty, no repeats.

    Who is named follows how socially active they are (weight = score squared): the active
    students are named often, the withdrawn ones rarely, as in a real sociogram.
    """
    rows = []
    weight = latent**2
    for i in range(len(ids)):
        named: set[int] = set()
        for _ in range(rng.poisson(0.5 + 5.0 * latent[i])):
            inside = rng.random() < 0.8
            pool = np.flatnonzero(faculty == faculty[i]) if inside else np.arange(len(ids))
            j = int(rng.choice(pool, p=weight[pool] / weight[pool].sum()))
            if j != i and j not in named:
                named.add(j)
                how_often = rng.choice([0.3, 0.5, 0.8], p=[0.3, 0.45, 0.25])
                rows.append({"source": ids[i], "target": ids[j], "strength": how_often})
    return pd.DataFrame(rows)


def main() -> None:
    """Draw the cohort and write the answer sheet and the friendship survey."""
    rng = np.random.default_rng(SEED)
    faculty = np.repeat(np.arange(len(SIZES)), SIZES)
    ids = np.array([f"24{n:05d}" for n in rng.choice(100_000, size=len(faculty), replace=False)])
    latent = draw_latent(faculty, rng)
    answers = draw_answers(latent, rng)
    sheet = pd.concat(
        [
            pd.DataFrame({"id": ids, "faculty": [DEFAULT_FACULTY_NAMES[f] for f in faculty]}),
            answers,
        ],
        axis=1,
    )
    order = rng.permutation(len(sheet))  # a sheet is not sorted by faculty
    sheet.iloc[order].to_csv(HERE / "synthetic_responses.csv", index=False)
    draw_friendships(ids, faculty, latent, rng).to_csv(
        HERE / "synthetic_friendships.csv", index=False
    )
    print(f"wrote {len(sheet)} students to {HERE / 'synthetic_responses.csv'}")


if __name__ == "__main__":
    main()
