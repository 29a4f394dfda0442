"""Cohort files: a real cohort's students (estimated latent scores) and friendships, read once.

`groupsim cohort import` (:mod:`groupsim.cohort`) writes a cohort file; a scenario names it
as ``cohort.data`` and the model starts from it (:mod:`groupsim.model.roster`). The file is
one Parquet table, a row per student:

========================  ============================================================
column                    meaning
========================  ============================================================
``id``                    the student's pseudonym (or the raw id with ``--keep-ids``)
``faculty``               faculty name ("" when the responses had no faculty column)
``latent``                posterior mean of the latent social-interaction score, 0-1
``latent_sd``             its posterior standard deviation
``answered``              items answered
``screening_total``       the screening total on the model's questionnaire (35 items, 1-4):
                          the observed total when the instrument is the model's and every
                          item was answered, else the expected total at ``latent``
``tie_targets``           ids this student named in the friendship survey (list)
``tie_strengths``         the strength of each of those ties, in (0, 1] (list)
========================  ============================================================

Nothing else is stored: no names, no free text, no raw answers. The file's metadata records
whether the ids are pseudonyms.

Example:
    >>> COHORT_COLUMNS[:3]
    ('id', 'faculty', 'latent')
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from groupsim.scenario.schema import ScenarioError

if TYPE_CHECKING:  # pandas comes with the table (`to_pandas`): not imported for every command
    import pandas as pd

__all__ = [
    "COHORT_COLUMNS",
    "COHORT_FORMAT",
    "CohortData",
    "adopt_cohort_file",
    "read_cohort",
]

#: The columns of a cohort file, in order.
COHORT_COLUMNS = (
    "id",
    "faculty",
    "latent",
    "latent_sd",
    "answered",
    "screening_total",
    "tie_targets",
    "tie_strengths",
)

#: The metadata key and version of a cohort file.
COHORT_FORMAT = ("groupsim_cohort", 1)


@dataclass(frozen=True)
class CohortData:
    """A cohort read from its file: students sorted by faculty (then id), ties by index."""

    source: str
    ids: tuple[str, ...]
    faculty: np.ndarray  # faculty number of each student (0-based, contiguous blocks)
    faculty_names: tuple[str, ...]
    latent: np.ndarray
    latent_sd: np.ndarray
    screening_total: np.ndarray
    tie_source: np.ndarray  # student indices
    tie_target: np.ndarray
    tie_strength: np.ndarray
    pseudonymised: bool

    @property
    def n(self) -> int:
        """The number of students."""
        return len(self.ids)

    @property
    def faculty_sizes(self) -> np.ndarray:
        """Students in each faculty."""
        return np.bincount(self.faculty, minlength=len(self.faculty_names))

    @property
    def has_network(self) -> bool:
        """Whether the file holds a friendship survey (at least one tie)."""
        return len(self.tie_source) > 0

    @property
    def positions(self) -> dict[str, int]:
        """Each id's row (its student number in the model)."""
        return {student: i for i, student in enumerate(self.ids)}


def read_cohort(path: str | Path) -> CohortData:
    """Read a cohort file (cached by path and modification time).

    Raises:
        ScenarioError: no such file, not a cohort file, or a column is missing or malformed.
    """
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        raise ScenarioError(str(path), "cohort.data", "no such cohort file") from None
    return _read_cohort(str(path.resolve()), stamp)


@lru_cache(maxsize=4)
def _read_cohort(path: str, stamp: int) -> CohortData:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as error:
        raise ScenarioError(path, "cohort.data", f"not a cohort file (Parquet): {error}") from None
    meta = table.schema.metadata or {}
    key = COHORT_FORMAT[0].encode()
    if key not in meta:
        raise ScenarioError(
            path, "cohort.data", "not a cohort file: write one with `groupsim cohort import`"
        )
    info = json.loads(meta[key])
    missing = [c for c in COHORT_COLUMNS if c not in table.column_names]
    if missing:
        raise ScenarioError(path, f"column {missing[0]}", "missing from the cohort file")
    frame = table.to_pandas()
    frame["faculty"] = frame["faculty"].astype(str)
    frame = frame.sort_values(["faculty", "id"], kind="stable").reset_index(drop=True)
    names = tuple(dict.fromkeys(frame["faculty"]))
    number = {name: f for f, name in enumerate(names)}
    ids = tuple(frame["id"].astype(str))
    position = {student: i for i, student in enumerate(ids)}
    sources, targets, strengths = _ties(frame, position, path)
    return CohortData(
        source=path,
        ids=ids,
        faculty=frame["faculty"].map(number).to_numpy(np.int64),
        faculty_names=tuple(name or "All students" for name in names),
        latent=frame["latent"].to_numpy(float),
        latent_sd=frame["latent_sd"].to_numpy(float),
        screening_total=frame["screening_total"].to_numpy(float),
        tie_source=sources,
        tie_target=targets,
        tie_strength=strengths,
        pseudonymised=bool(info.get("pseudonymised", True)),
    )


def _ties(
    frame: pd.DataFrame, position: dict[str, int], path: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The friendship ties as index arrays (each undirected pair once, its strongest)."""
    strongest: dict[tuple[int, int], float] = {}
    for row, (student, targets, strengths) in enumerate(
        zip(frame["id"], frame["tie_targets"], frame["tie_strengths"], strict=True)
    ):
        for target, strength in zip(list(targets), list(strengths), strict=True):
            if target not in position:
                raise ScenarioError(path, f"row {row + 1}, column tie_targets", "unknown id")
            a, b = position[str(student)], position[str(target)]
            pair = (min(a, b), max(a, b))
            strongest[pair] = max(strongest.get(pair, 0.0), float(strength))
    pairs = np.array(sorted(strongest), dtype=np.int64).reshape(-1, 2)
    strength = np.array([strongest[(int(a), int(b))] for a, b in pairs], dtype=float)
    return pairs[:, 0], pairs[:, 1], strength


def adopt_cohort_file(data: dict[str, Any], source: str) -> dict[str, Any]:
    """A scenario dict whose ``cohort.data`` names a file takes that cohort's shape.

    The file's faculties (their number and names) replace ``cohort.faculties`` and
    ``cohort.faculty_names``; ``cohort.students_per_faculty`` becomes the largest faculty's
    size (faculties may differ in size; the model reads the real sizes from the file). The
    ids of ``group.client_ids`` must be in the file. Without ``cohort.data`` the dict is
    returned as it is.
    """
    cohort = data.get("cohort")
    path = cohort.get("data") if isinstance(cohort, dict) else None
    group = data.get("group") if isinstance(data.get("group"), dict) else {}
    client_ids = group.get("client_ids") if isinstance(group, dict) else None
    if not path or not isinstance(path, str):
        if client_ids:
            raise ScenarioError(source, "group.client_ids", "needs cohort.data (a cohort file)")
        return data
    roster = read_cohort(path)
    adopted = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    adopted["cohort"].update(
        faculties=len(roster.faculty_names),
        students_per_faculty=max(2, int(roster.faculty_sizes.max())),
        faculty_names=list(roster.faculty_names),
    )
    if isinstance(client_ids, list):
        known = roster.positions
        unknown = [str(c) for c in client_ids if str(c) not in known]
        if unknown:
            raise ScenarioError(
                source, "group.client_ids", f"{unknown[0]!r} is not an id in {roster.source}"
            )
    return adopted
