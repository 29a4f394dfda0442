"""A settled cohort: the state of a run after set-up and burn-in (ODD 5), for another arm.

The arms of a comparison run each replication with the same seed (common random numbers),
so a drawn cohort, its starting network and the burn-in's weeks of campus life are the same
in every arm whose scenario agrees on what set-up and burn-in read: the `cohort` section and
the parameters of the compiled campus week and week end (`campus.campus_parameters`,
`weekly.week_end_parameters`). The first arm keeps its settled state (`SettledCohort.of`); the
others start from it (`HomeRoomModel(..., cohort=...)`) instead of drawing and settling the
same cohort again, about a third of a default run. Screening, the groups and everything
after differ by arm and are not shared.

The shared state is a copy of the very arrays and random streams a fresh run would have at
that point, so an arm run from it is identical to the arm run from scratch
(`tests/test_settled.py` checks every record). Nothing is shared across seeds, and a cohort
from data (`cohort.data`) or a run seeded with a Generator instead of an integer is never
shared: `settling_key` is None for them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.model.agents import StudentStates
from groupsim.model.campus import campus_parameters
from groupsim.model.ties import TieStore
from groupsim.model.weekly import week_end_parameters

if TYPE_CHECKING:
    from groupsim.model.model import HomeRoomModel
    from groupsim.scenario import Scenario

__all__ = ["SettledCohort", "settling_key"]

#: The model's random streams, in the order `HomeRoomModel` spawns them.
STREAMS = ("population_rng", "campus_rng", "group_rng", "measurement_rng", "counselor_rng")


def settling_key(config: Scenario, seed: Any) -> tuple[Any, ...] | None:
    """What set-up and burn-in depend on: the seed, the cohort, campus and week-end numbers.

    None when the state must not be shared: no integer seed, or a cohort from data.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or config.cohort.data:
        return None
    return (
        int(seed),
        repr(sorted(config.cohort.model_dump().items())),
        campus_parameters(config).tobytes(),  # the records' numbers, bit for bit
        week_end_parameters(config).tobytes(),
    )


def copied(states: StudentStates) -> StudentStates:
    """An independent copy of every state array (and the baselines)."""
    arrays: dict[str, Any] = {
        f.name: getattr(states, f.name).copy() for f in fields(states) if f.name != "baseline"
    }
    baseline = {name: values.copy() for name, values in states.baseline.items()}
    return StudentStates(**arrays, baseline=baseline)


@dataclass(frozen=True)
class SettledCohort:
    """The students' states, ties, scores and random streams after burn-in, with their key."""

    key: tuple[Any, ...]
    states: StudentStates
    ties: tuple[np.ndarray, np.ndarray, np.ndarray]  # TieStore keys, strength, used
    social_interaction: np.ndarray
    strength_sum: np.ndarray
    streams: tuple[dict[str, Any], ...]  # each stream's bit generator state (`STREAMS`)

    @classmethod
    def of(cls, model: HomeRoomModel, key: tuple[Any, ...]) -> SettledCohort:
        """A copy of `model`'s settled state (call it right after burn-in)."""
        return cls(
            key=key,
            states=copied(model.states),
            ties=(model.ties.keys.copy(), model.ties.strength.copy(), model.ties.used.copy()),
            social_interaction=model.social_interaction.copy(),
            strength_sum=model.strength_sum.copy(),
            # `state` is a new dict on every read, and setting it copies the numbers in.
            streams=tuple(getattr(model, s).bit_generator.state for s in STREAMS),
        )

    def restore(self, model: HomeRoomModel) -> None:
        """Put a copy of this state into `model`: states, ties, scores, random streams.

        Copies, so arms never share an array; the random streams continue from where the
        settling left them. The model then places the students (`HomeRoomModel.start_settled`).
        """
        model.states = copied(self.states)
        model.ties = TieStore(model.states.n)
        model.ties.keys, model.ties.strength, model.ties.used = (a.copy() for a in self.ties)
        model.social_interaction = self.social_interaction.copy()
        model.strength_sum = self.strength_sum.copy()
        for name, state in zip(STREAMS, self.streams, strict=True):
            getattr(model, name).bit_generator.state = state
