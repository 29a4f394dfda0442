"""Instruments: the questionnaire a study measured with, declared once (items, points, scoring).

An instrument is what a field study or a counselor's screening used: so many items, each
answered on a scale from `lowest` to `highest`, some reverse-scored, optionally grouped into
subscales, with a reliability where the source reports one. The model measures its latent
social-interaction score on an instrument through one graded response model
(:class:`groupsim.model.measures.QuestionnaireModel`, built by its ``from_instrument``);
cohort import (scoring real responses) and calibration (matching published summaries on the
study's own scale) read the same declaration.

The built-in default is the 35-item, 1-to-4 social interaction questionnaire of the reference
study (Nur Azizah & Murtafi'ah 2021; totals 35 to 140).

An instrument file is TOML with one ``[instrument]`` table::

    [instrument]
    name = "social interaction questionnaire"
    items = 35
    lowest = 1
    highest = 4
    reverse_items = [3, 8, 14]        # 1-based item numbers, scored highest + lowest - answer
    reliability = 0.89                # Cronbach's alpha where known (optional)

    [instrument.subscales]            # optional: 1-based item numbers per subscale
    frequency = [1, 2, 3, 4, 5]

Example:
    >>> default = default_instrument()
    >>> default.items, default.lowest, default.highest, default.minimum, default.maximum
    (35, 1, 4, 35, 140)
    >>> float(default.score([[4] * 35])[0])
    140.0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from groupsim.scenario.files import parse_toml, read_input_file
from groupsim.scenario.schema import ScenarioError

__all__ = [
    "Instrument",
    "default_instrument",
    "instrument_from_dict",
    "load_instrument",
    "step_thresholds",
]


class Instrument(BaseModel):
    """A questionnaire: items, answer points, reverse-scored items, subscales, reliability."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("social interaction questionnaire", description="What the scale is called.")
    items: int = Field(35, ge=1, le=500, description="Number of items.")
    lowest: int = Field(1, ge=0, le=10, description="Lowest answer point of every item.")
    highest: int = Field(4, ge=1, le=11, description="Highest answer point of every item.")
    reverse_items: tuple[int, ...] = Field(
        (), description="1-based numbers of the reverse-scored items."
    )
    subscales: dict[str, tuple[int, ...]] = Field(
        default_factory=dict, description="Subscale name -> its 1-based item numbers."
    )
    reliability: float | None = Field(
        None, gt=0.0, lt=1.0, description="Internal consistency (Cronbach's alpha) if reported."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        if self.highest <= self.lowest:
            raise ValueError("highest must be above lowest")
        for label, numbers in [("reverse_items", self.reverse_items)] + [
            (f"subscales.{k}", v) for k, v in self.subscales.items()
        ]:
            bad = [n for n in numbers if not 1 <= n <= self.items]
            if bad:
                raise ValueError(f"{label}: item numbers must be 1..{self.items}, got {bad}")
            if len(set(numbers)) != len(numbers):
                raise ValueError(f"{label}: an item number is listed twice")
        return self

    @property
    def steps(self) -> int:
        """Answer steps between the lowest and the highest point (3 on a 1-4 scale)."""
        return self.highest - self.lowest

    @property
    def minimum(self) -> int:
        """The lowest possible total."""
        return self.items * self.lowest

    @property
    def maximum(self) -> int:
        """The highest possible total."""
        return self.items * self.highest

    def scored(self, responses: ArrayLike) -> np.ndarray:
        """Raw answers (n, items) with reverse-scored items turned round (NaN stays NaN)."""
        scored = np.array(responses, dtype=float, copy=True)
        if self.reverse_items:
            columns = np.asarray(self.reverse_items) - 1
            scored[:, columns] = self.lowest + self.highest - scored[:, columns]
        return scored

    def score(self, responses: ArrayLike) -> np.ndarray:
        """Scale totals of raw answers (n, items); NaN where any answer is missing."""
        return self.scored(responses).sum(axis=1)


def default_instrument() -> Instrument:
    """The built-in 35-item, 1-to-4 questionnaire of the reference study."""
    return Instrument()


def instrument_from_dict(data: dict[str, Any], source: str) -> Instrument:
    """Validate an ``[instrument]`` table; errors name the source and the field."""
    try:
        return Instrument.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "instrument"
        raise ScenarioError(source, f"instrument.{field}", first["msg"]) from None


def load_instrument(path: str | Path | None) -> Instrument:
    """Read an instrument TOML file (its ``[instrument]`` table); None gives the default.

    Raises:
        ScenarioError: the file is missing, is not TOML, has no ``[instrument]`` table, or a
            field is not allowed (the message names the file and the field).
    """
    if path is None:
        return default_instrument()
    source = str(path)
    data = parse_toml(read_input_file(Path(path), "questionnaire instrument"), source)
    table = data.get("instrument")
    if not isinstance(table, dict):
        raise ScenarioError(source, "instrument", "the file needs an [instrument] table")
    return instrument_from_dict(table, source)


def step_thresholds(steps: int) -> tuple[float, ...]:
    """The graded response model's step thresholds on the latent score for `steps` steps.

    Spread evenly over [0.025, 0.525] whatever the number of points, so a 1-4 scale gets the
    calibrated (0.025, 0.275, 0.525) and other scales cover the same latent range.

    Example:
        >>> step_thresholds(3)
        (0.025, 0.275, 0.525)
    """
    if steps == 1:
        return (0.275,)  # the middle of the range
    return tuple(round(float(t), 12) for t in np.linspace(0.025, 0.525, steps))
