r"""Field data for calibration: published summaries per study arm, and individual pilot data.

Two formats, each read by one function that checks every cell and names the file, the row
and the column of the first bad one (a :class:`~groupsim.scenario.ScenarioError`):

- **Published summaries** (:func:`load_summaries`, ``data/field_studies.csv``): one row per
  study arm with its size, the scale it was measured on (items, lowest and highest answer
  point) and the mean and SD of the scale totals at pre, post and follow-up where the source
  reports them. An empty cell means *not reported*; nothing is filled in by guess.
- **Pilot data** (:func:`load_pilot`): one row per client: ``client``, ``group``, ``arm``,
  ``pre``, ``post`` and optionally ``followup`` totals, or item responses
  ``pre_1 .. pre_K`` (and ``post_1 ..``, ``followup_1 ..``) on the study's instrument, from
  which the totals are scored. A missing post or follow-up is an empty cell.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first client row 2.

Example:
    >>> import io
    >>> from groupsim.scenario.instrument import default_instrument
    >>> text = "client,group,arm,pre,post\n1,1,treated,90,120\n2,1,treated,95,\n"
    >>> pilot = load_pilot(io.StringIO(text), default_instrument(), source="pilot.csv")
    >>> pilot["post"].isna().tolist()
    [False, True]
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from groupsim.scenario import ScenarioError
from groupsim.scenario.instrument import Instrument

__all__ = [
    "OCCASIONS",
    "PILOT_COLUMNS",
    "SUMMARY_COLUMNS",
    "load_pilot",
    "load_summaries",
    "summary_instrument",
]

#: The occasions a study measures on.
OCCASIONS = ("pre", "post", "followup")

#: The columns of the published-summaries format, in order.
SUMMARY_COLUMNS = (
    "study",
    "year",
    "arm",
    "technique",
    "outcome",
    "design",
    "n",
    "groups",
    "group_size",
    "sessions",
    "items",
    "lowest",
    "highest",
    "pre_mean",
    "pre_sd",
    "post_mean",
    "post_sd",
    "followup_mean",
    "followup_sd",
    "effect_size",
    "effect_kind",
    "reported_test",
    "note",
    "source",
)
_TEXT = {"study", "arm", "technique", "outcome", "design", "effect_kind", "reported_test"}
_TEXT |= {"note", "source"}
_WHOLE = ("year", "n", "groups", "group_size", "sessions", "items", "lowest", "highest")
_STATS = tuple(f"{o}_{s}" for o in OCCASIONS for s in ("mean", "sd"))
#: What `effect_kind` may say: a one-group pre/post d_z, a between-arm d, a correlation r.
EFFECT_KINDS = ("d_z", "d", "r")

#: The required columns of the pilot format (``followup`` is optional).
PILOT_COLUMNS = ("client", "group", "arm", "pre", "post")


def _where(row: int, column: str) -> str:
    return f"row {row}, column {column}"


def _read_csv(path: str | Path | IO[str], source: str) -> pd.DataFrame:
    """Every cell as text (empty: ''), or a one-line error naming the file."""
    try:
        if isinstance(path, (str, Path)):
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = path.read()
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ScenarioError(source, "(file)", "no such data file") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        message = " ".join(str(error).split())
        raise ScenarioError(source, "(file)", f"not a readable CSV file: {message}") from None


def _check_columns(
    frame: pd.DataFrame, source: str, required: Iterable[str], allowed: Iterable[str]
) -> None:
    allowed = set(allowed)
    for column in frame.columns:
        if column not in allowed:
            raise ScenarioError(source, _where(1, column), "not a column of this format")
    for column in required:
        if column not in frame.columns:
            raise ScenarioError(source, _where(1, column), "this column is missing")


def _number(text: str, source: str, row: int, column: str, *, whole: bool = False) -> float:
    """A cell as a number (NaN when empty), or a one-line error naming row and column."""
    text = text.strip()
    if text == "":
        return float("nan")
    try:
        value = float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise ScenarioError(
            source, _where(row, column), f"{kind} or empty (got {text!r})"
        ) from None
    if not np.isfinite(value) or (whole and value != int(value)):
        kind = "a whole number" if whole else "a finite number"
        raise ScenarioError(source, _where(row, column), f"{kind} or empty (got {text!r})")
    return value


def load_summaries(path: str | Path) -> pd.DataFrame:
    """Read published summaries (one row per study arm), checked cell by cell.

    Returns a frame with the `SUMMARY_COLUMNS`: text columns as text ('' not reported),
    number columns as floats (NaN not reported).

    Raises:
        ScenarioError: an unknown or missing column, a cell that is not a number where one
            belongs, a mean outside the arm's scale, a negative SD or size, or a scale whose
            highest point is not above its lowest (the message names file, row and column).
    """
    source = str(path)
    frame = _read_csv(path, source)
    _check_columns(frame, source, SUMMARY_COLUMNS, SUMMARY_COLUMNS)
    out: dict[str, list[object]] = {c: [] for c in SUMMARY_COLUMNS}
    for index, cells in enumerate(frame.to_dict("records")):
        row = index + 2
        if not str(cells["study"]).strip():
            raise ScenarioError(source, _where(row, "study"), "name the study")
        values = {c: _number(cells[c], source, row, c, whole=c in _WHOLE) for c in _WHOLE}
        values |= {c: _number(cells[c], source, row, c) for c in (*_STATS, "effect_size")}
        for column in ("n", "groups", "group_size", "sessions", "items", *_STATS):
            if values[column] < 0:
                raise ScenarioError(source, _where(row, column), "must not be negative")
        if values["highest"] <= values["lowest"]:
            raise ScenarioError(source, _where(row, "highest"), "must be above lowest")
        if values["items"] > 0 and np.isfinite(values["highest"]):
            low, high = values["items"] * values["lowest"], values["items"] * values["highest"]
            for occasion in OCCASIONS:
                mean = values[f"{occasion}_mean"]
                if not low <= mean <= high and np.isfinite(mean):
                    raise ScenarioError(
                        source,
                        _where(row, f"{occasion}_mean"),
                        f"must lie on the scale, {low:g} to {high:g} (got {mean:g})",
                    )
        kind = str(cells["effect_kind"]).strip()
        if kind and kind not in EFFECT_KINDS:
            raise ScenarioError(
                source, _where(row, "effect_kind"), f"one of {', '.join(EFFECT_KINDS)} or empty"
            )
        for column in SUMMARY_COLUMNS:
            out[column].append(str(cells[column]).strip() if column in _TEXT else values[column])
    return pd.DataFrame(out)


def summary_instrument(row: pd.Series, source: str) -> Instrument:
    """The scale one summary row was measured on (items, lowest and highest point)."""
    missing = [c for c in ("items", "lowest", "highest") if not np.isfinite(row[c])]
    if missing:
        raise ScenarioError(
            source,
            f"study {row['study']!r}, arm {row['arm']!r}, column {missing[0]}",
            "not reported: its totals cannot be matched on a scale",
        )
    return Instrument(
        name=f"{row['study']} scale",
        items=int(row["items"]),
        lowest=int(row["lowest"]),
        highest=int(row["highest"]),
    )


def _item_columns(instrument: Instrument) -> dict[str, list[str]]:
    return {o: [f"{o}_{k}" for k in range(1, instrument.items + 1)] for o in OCCASIONS}


def load_pilot(
    path: str | Path | IO[str],
    instrument: Instrument,
    arms: Iterable[str] | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Read individual pilot data: one row per client; totals scored on `instrument`.

    Args:
        path: the CSV file (or an open text stream).
        instrument: the scale the study used (totals and item responses must fit it).
        arms: the arms the calibration has a scenario for (None: any arm is accepted).
        source: the name errors give (default: the path).

    Returns:
        A frame with ``client``, ``group``, ``arm`` and the totals ``pre``, ``post`` and
        ``followup`` (NaN where missing), one row per client in file order.

    Raises:
        ScenarioError: an unknown or missing column, a repeated client, an arm without a
            scenario, a total off the instrument's range, or an item response that is not
            one of its points (the message names file, row and column).
    """
    source = source or str(path)
    frame = _read_csv(path, source)
    items = _item_columns(instrument)
    allowed = (*PILOT_COLUMNS, "followup", *(c for cols in items.values() for c in cols))
    _check_columns(frame, source, ("client", "group", "arm"), allowed)
    for occasion in ("pre", "post"):  # a total, or its items
        if occasion not in frame.columns and not set(items[occasion]) <= set(frame.columns):
            raise ScenarioError(
                source, _where(1, occasion), "this column (or all its item columns) is missing"
            )
    known_arms = None if arms is None else set(arms)
    seen: dict[str, int] = {}
    rows: list[dict[str, object]] = []
    for index, cells in enumerate(frame.to_dict("records")):
        row = index + 2
        client = str(cells["client"]).strip()
        if not client:
            raise ScenarioError(source, _where(row, "client"), "give the client's id")
        if client in seen:
            raise ScenarioError(
                source, _where(row, "client"), f"client {client!r} is already in row {seen[client]}"
            )
        seen[client] = row
        arm = str(cells["arm"]).strip()
        if known_arms is not None and arm not in known_arms:
            raise ScenarioError(
                source,
                _where(row, "arm"),
                f"arm {arm!r} has no scenario in the calibration file "
                f"(arms: {', '.join(sorted(known_arms))})",
            )
        record: dict[str, object] = {"client": client, "group": str(cells["group"]).strip()}
        record["arm"] = arm
        for occasion in OCCASIONS:
            record[occasion] = _pilot_total(
                cells, occasion, items[occasion], instrument, source, row
            )
        if np.isnan(float(str(record["pre"]))):
            raise ScenarioError(source, _where(row, "pre"), "every client needs a pre-test")
        rows.append(record)
    if not rows:
        raise ScenarioError(source, _where(2, "client"), "the file has no client rows")
    return pd.DataFrame(rows, columns=["client", "group", "arm", *OCCASIONS])


def _pilot_total(
    cells: dict[str, str],
    occasion: str,
    item_columns: list[str],
    instrument: Instrument,
    source: str,
    row: int,
) -> float:
    """One occasion's total: from its item responses when given, else its total column."""
    given = [c for c in item_columns if c in cells and str(cells[c]).strip()]
    if given:
        answers = []
        for column in item_columns:
            value = _number(cells.get(column, ""), source, row, column, whole=True)
            if np.isnan(value):
                raise ScenarioError(
                    source, _where(row, column), "answer every item or leave all items empty"
                )
            if not instrument.lowest <= value <= instrument.highest:
                raise ScenarioError(
                    source,
                    _where(row, column),
                    f"an answer from {instrument.lowest} to {instrument.highest} (got {value:g})",
                )
            answers.append(value)
        return float(instrument.score([answers])[0])
    total = _number(cells.get(occasion, ""), source, row, occasion)
    if np.isfinite(total) and not instrument.minimum <= total <= instrument.maximum:
        raise ScenarioError(
            source,
            _where(row, occasion),
            f"a total from {instrument.minimum} to {instrument.maximum} (got {total:g})",
        )
    return total
