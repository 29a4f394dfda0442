"""Reading a cohort's answer sheet and friendship survey; refusing what must not be imported.

The answer sheet is a CSV or XLSX table, a row per student: an id column, one column per
item (``item1`` .. ``item35`` by default) and optionally a faculty column. Every other column
is refused, naming it: a text column may hold names or free text, which a cohort file never
stores, and an unknown number column is more likely a mistake than something to keep. Each
bad cell is reported as one line naming the file, the row (as a spreadsheet numbers it: the
header is row 1) and the column.

Example:
    >>> import pandas as pd
    >>> from groupsim.scenario.instrument import Instrument
    >>> sheet = pd.DataFrame({"id": ["a", "b"], "item1": ["1", ""], "item2": ["4", "2"]})
    >>> answers = read_answers(sheet, Instrument(items=2), "sheet.csv", "id", None, "item")
    >>> answers.ids, answers.values.tolist()
    (('a', 'b'), [[1.0, 4.0], [nan, 2.0]])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from groupsim.scenario.instrument import Instrument
from groupsim.scenario.schema import ScenarioError

__all__ = ["Answers", "Edges", "read_answers", "read_edges", "read_sheet"]


@dataclass(frozen=True)
class Answers:
    """Raw answers (n, items; NaN where missing), ids, faculties and sheet row numbers."""

    ids: tuple[str, ...]
    faculty: tuple[str, ...]
    values: np.ndarray
    rows: tuple[int, ...]


@dataclass(frozen=True)
class Edges:
    """Friendship nominations by raw id, with the sheet row of each."""

    source: tuple[str, ...]
    target: tuple[str, ...]
    strength: np.ndarray
    rows: tuple[int, ...]


def read_sheet(path: str | Path) -> pd.DataFrame:
    """A CSV or XLSX table as text cells ("" where empty); ScenarioError if unreadable."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, engine="openpyxl")
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise ScenarioError(str(path), "(file)", "no such file") from None
    except (OSError, ValueError, UnicodeDecodeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ScenarioError(
            str(path), "(file)", f"not a readable CSV or XLSX table: {reason}"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.fillna("").astype(str).apply(lambda column: column.str.strip())


def _cell(row: int, column: str) -> str:
    return f"row {row}, column {column}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _refuse_other_columns(
    frame: pd.DataFrame, path: str | Path, allowed: set[str], item_prefix: str
) -> None:
    """Any column that is not the id, an item or the faculty is refused, by name."""
    for column in frame.columns:
        if column in allowed:
            continue
        filled = [v for v in frame[column] if v != ""]
        if any(not _is_number(v) for v in filled):
            reason = (
                "holds text (names or free text are never imported); remove the column, or "
                "name it with --faculty-column if it is the faculty"
            )
        else:
            reason = (
                f"not an id, item ({item_prefix}1, ...) or faculty column; remove it "
                "(a cohort file keeps only ids, faculties and answers)"
            )
        raise ScenarioError(str(path), _cell(1, column), reason)


def _ids(frame: pd.DataFrame, path: str | Path, id_column: str) -> tuple[str, ...]:
    """The id column's values: present, non-empty and unique."""
    if id_column not in frame.columns:
        raise ScenarioError(
            str(path), _cell(1, id_column), "no id column (name it with --id-column)"
        )
    seen: dict[str, int] = {}
    for offset, student in enumerate(frame[id_column]):
        row = offset + 2
        if student == "":
            raise ScenarioError(str(path), _cell(row, id_column), "empty id")
        if student in seen:
            raise ScenarioError(
                str(path),
                _cell(row, id_column),
                f"duplicate id (also on row {seen[student]}); each student once",
            )
        seen[student] = row
    return tuple(frame[id_column])


def read_answers(
    frame: pd.DataFrame,
    instrument: Instrument,
    path: str | Path,
    id_column: str,
    faculty_column: str | None,
    item_prefix: str,
) -> Answers:
    """Check and read an answer sheet; raise ScenarioError at the first bad cell."""
    items = [f"{item_prefix}{k}" for k in range(1, instrument.items + 1)]
    ids = _ids(frame, path, id_column)
    for column in items:
        if column not in frame.columns:
            raise ScenarioError(
                str(path),
                _cell(1, column),
                f"no such item column; the instrument has {instrument.items} items named "
                f"{items[0]} .. {items[-1]} (--item-prefix sets the prefix)",
            )
    if faculty_column is not None and faculty_column not in frame.columns:
        raise ScenarioError(str(path), _cell(1, faculty_column), "no such faculty column")
    _refuse_other_columns(
        frame, path, {id_column, *items, faculty_column or id_column}, item_prefix
    )
    values = np.full((len(frame), instrument.items), np.nan)
    allowed = set(range(instrument.lowest, instrument.highest + 1))
    for j, column in enumerate(items):
        for offset, text in enumerate(frame[column]):
            if text == "":
                continue
            number = float(text) if _is_number(text) else None
            if number is None or number not in allowed:
                raise ScenarioError(
                    str(path),
                    _cell(offset + 2, column),
                    f"answers are whole numbers {instrument.lowest} to {instrument.highest} "
                    f"(or empty for no answer), got {text!r}",
                )
            values[offset, j] = number
    faculty = tuple(frame[faculty_column]) if faculty_column else ("",) * len(frame)
    return Answers(ids, faculty, values, tuple(range(2, len(frame) + 2)))


def read_edges(path: str | Path, known: set[str]) -> Edges:
    """A friendship survey: columns source, target and optionally strength in (0, 1]."""
    frame = read_sheet(path)
    for column in ("source", "target"):
        if column not in frame.columns:
            raise ScenarioError(str(path), _cell(1, column), "no such column")
    extra = [c for c in frame.columns if c not in ("source", "target", "strength")]
    if extra:
        raise ScenarioError(
            str(path), _cell(1, extra[0]), "only source, target and strength are read"
        )
    for offset, (source, target) in enumerate(zip(frame["source"], frame["target"], strict=True)):
        for column, student in (("source", source), ("target", target)):
            if student not in known:
                raise ScenarioError(
                    str(path),
                    _cell(offset + 2, column),
                    f"unknown id {student!r}: every id must be a student of the answer sheet",
                )
        if source == target:
            raise ScenarioError(
                str(path), _cell(offset + 2, "target"), "a student cannot name themself"
            )
    strength = np.full(len(frame), DEFAULT_STRENGTH)
    if "strength" in frame.columns:
        for offset, text in enumerate(frame["strength"]):
            number = float(text) if _is_number(text) else float("nan")
            if not 0.0 < number <= 1.0:
                raise ScenarioError(
                    str(path),
                    _cell(offset + 2, "strength"),
                    f"a tie strength is a number in (0, 1], got {text!r}",
                )
            strength[offset] = number
    rows = tuple(range(2, len(frame) + 2))
    return Edges(tuple(frame["source"]), tuple(frame["target"]), strength, rows)


#: The strength of a named friendship when the survey gives none: the middle of the model's
#: drawn starting ties (uniform 0.15-0.6, `groupsim.model.screening.initial_ties`).
DEFAULT_STRENGTH = 0.375
