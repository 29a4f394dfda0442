"""`groupsim cohort import`: answers and friendships in, a pseudonymised cohort file out.

Steps: read and check the answer sheet (:mod:`groupsim.cohort.responses`), score every
student's latent social-interaction score with the model's graded response model
(:mod:`groupsim.cohort.scoring`), leave out (and list) students with too few answers,
replace ids with keyed pseudonyms, read the friendship survey, and write the cohort file
atomically (:mod:`groupsim.scenario.cohort_file` describes its columns). Nothing is written
when any input is bad.

Pseudonyms are ``P`` and the first 12 hex digits of HMAC-SHA256(key, id): the same id and
key always give the same pseudonym (a later import of the same students, or of their
friendship survey, lines up), and without the key an id cannot be recovered by hashing
guessed student numbers. The key is a random 256-bit secret kept in a key file outside the
cohort file (by default ``~/.config/groupsim/pseudonym.key``, created on first use).

Example:
    >>> pseudonym("2024-0007", b"k" * 32)
    'P4b8665fe7e53'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from groupsim.cohort.responses import Answers, Edges, read_answers, read_edges, read_sheet
from groupsim.cohort.scoring import eap_scores
from groupsim.model.measures import QUESTIONNAIRE, QuestionnaireModel
from groupsim.runs.store import OutputError, atomic_file
from groupsim.scenario.cohort_file import COHORT_COLUMNS, COHORT_FORMAT
from groupsim.scenario.instrument import Instrument

__all__ = [
    "DEFAULT_KEY_FILE",
    "ImportSummary",
    "import_cohort",
    "load_key",
    "pseudonym",
    "score_cohort",
]

#: Where the pseudonym key lives unless --key-file says otherwise.
DEFAULT_KEY_FILE = Path("~/.config/groupsim/pseudonym.key")


@dataclass
class ImportSummary:
    """What an import did: students kept and left out, missing answers, ties, fit."""

    students: int
    left_out_rows: list[int] = field(default_factory=list)
    missing_answers: int = 0
    students_with_missing: int = 0
    ties: int = 0
    ties_dropped: int = 0
    below_model_range: int = 0
    mean_total: float = float("nan")
    mean_expected_total: float = float("nan")
    pseudonymised: bool = True

    def lines(self) -> list[str]:
        """The summary as lines for the terminal (rows, never ids)."""
        out = [
            f"students: {self.students} imported, {len(self.left_out_rows)} left out "
            "(too few answers)",
            f"missing answers: {self.missing_answers} (in {self.students_with_missing} "
            "imported students; scored from the answers given, nothing imputed)",
            f"friendship nominations: {self.ties} kept ({self.ties_dropped} dropped: they "
            "named or came from a student left out)",
            f"mean screening total {self.mean_total:.1f}; the model's expected total at the "
            f"estimated scores {self.mean_expected_total:.1f}",
            f"ids: {'pseudonymised (keyed hash)' if self.pseudonymised else 'KEPT AS GIVEN'}",
        ]
        if self.left_out_rows:
            out.append("left out, sheet rows: " + ", ".join(map(str, self.left_out_rows)))
        if self.below_model_range:
            out.append(
                f"{self.below_model_range} students answered below the lowest total the model "
                "can produce; their latent score is 0 (see docs/cohort.md)"
            )
        return out


def pseudonym(student_id: str, key: bytes) -> str:
    """A stable pseudonym: ``P`` + 12 hex digits of HMAC-SHA256(key, id)."""
    digest = hmac.new(key, student_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return "P" + digest[:12]


def load_key(path: str | Path) -> bytes:
    """The pseudonym key in `path`, created (random, private) if the file does not exist."""
    path = Path(path).expanduser()
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(path) as handle:
                handle.write(secrets.token_hex(32) + "\n")
            os.chmod(path, 0o600)
        text = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise OutputError(f"{path}: --key-file: cannot read or create the key ({error})") from None
    if len(text) < 32:
        raise OutputError(f"{path}: --key-file: a key file holds at least 32 characters")
    return text.encode("utf-8")


def score_cohort(
    answers: Answers, instrument: Instrument, min_answered: int
) -> tuple[pd.DataFrame, list[int]]:
    """Score the students with enough answers; the rows of those left out."""
    scored = instrument.scored(answers.values)
    answered = (~np.isnan(scored)).sum(axis=1)
    keep = answered >= min_answered
    own = QuestionnaireModel.from_instrument(instrument)
    latent, latent_sd = eap_scores(scored[keep], own)
    same_scale = own == QUESTIONNAIRE
    observed = scored[keep].sum(axis=1)  # NaN where an answer is missing
    expected = QUESTIONNAIRE.expected_total(latent)
    screening = np.where(same_scale & ~np.isnan(observed), observed, expected)
    frame = pd.DataFrame(
        {
            "raw_id": np.array(answers.ids, dtype=object)[keep],
            "faculty": np.array(answers.faculty, dtype=object)[keep],
            "latent": latent,
            "latent_sd": latent_sd,
            "answered": answered[keep].astype(np.int64),
            "screening_total": screening,
            "own_total": observed,
            "own_expected": own.expected_total(latent),
            "own_floor": own.expected_total([0.0])[0],
        }
    )
    left_out = [row for row, k in zip(answers.rows, keep, strict=True) if not k]
    return frame, left_out


def _attach_ties(frame: pd.DataFrame, edges: Edges | None) -> int:
    """Put each kept nomination on its source's row; return how many were dropped."""
    frame["tie_targets"] = [[] for _ in range(len(frame))]
    frame["tie_strengths"] = [[] for _ in range(len(frame))]
    if edges is None:
        return 0
    row_of = {student: i for i, student in enumerate(frame["raw_id"])}
    dropped = 0
    for source, target, strength in zip(edges.source, edges.target, edges.strength, strict=True):
        if source not in row_of or target not in row_of:
            dropped += 1
            continue
        frame.at[row_of[source], "tie_targets"].append(target)
        frame.at[row_of[source], "tie_strengths"].append(float(strength))
    return dropped


def import_cohort(
    responses: str | Path,
    instrument: Instrument,
    out: str | Path,
    *,
    network: str | Path | None = None,
    id_column: str = "id",
    faculty_column: str | None = None,
    item_prefix: str = "item",
    min_answered: int | None = None,
    key_file: str | Path | None = DEFAULT_KEY_FILE,
) -> ImportSummary:
    """Read, check, score and write a cohort file; ``key_file=None`` keeps the raw ids.

    The key file is read (or created) only after both inputs passed every check.

    Raises:
        ScenarioError: a bad cell in either file (file, row and column named); nothing is
            written.
    """
    sheet = read_sheet(responses)
    answers = read_answers(sheet, instrument, responses, id_column, faculty_column, item_prefix)
    edges = read_edges(network, set(answers.ids)) if network is not None else None
    needed = (instrument.items + 1) // 2 if min_answered is None else min_answered
    frame, left_out = score_cohort(answers, instrument, needed)
    dropped = _attach_ties(frame, edges)
    key = load_key(key_file) if key_file is not None else None
    rename = (lambda s: pseudonym(s, key)) if key is not None else (lambda s: s)
    frame["id"] = frame["raw_id"].map(rename)
    if frame["id"].duplicated().any():
        raise OutputError("two ids share a pseudonym (a hash collision); use another key file")
    frame["tie_targets"] = frame["tie_targets"].map(lambda ts: [rename(t) for t in ts])
    missing = np.isnan(answers.values).sum(axis=1)
    kept_missing = missing[np.isin(answers.rows, left_out, invert=True)]
    summary = ImportSummary(
        students=len(frame),
        left_out_rows=left_out,
        missing_answers=int(kept_missing.sum()),
        students_with_missing=int((kept_missing > 0).sum()),
        ties=int(sum(len(t) for t in frame["tie_targets"])),
        ties_dropped=dropped,
        below_model_range=int((frame["own_total"] < frame["own_floor"]).sum()),
        mean_total=float(frame["own_total"].mean()),  # complete sheets (pandas skips NaN)
        mean_expected_total=float(frame["own_expected"].mean()),
        pseudonymised=key is not None,
    )
    _write(frame[list(COHORT_COLUMNS)], out, instrument, key is not None)
    return summary


def _write(frame: pd.DataFrame, out: str | Path, instrument: Instrument, pseudonyms: bool) -> None:
    """Write the cohort file atomically, with what it is in its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    info = {
        "version": COHORT_FORMAT[1],
        "pseudonymised": pseudonyms,
        "instrument": instrument.model_dump(mode="json"),
    }
    table = table.replace_schema_metadata({COHORT_FORMAT[0]: json.dumps(info)})
    with atomic_file(out, "wb") as handle:
        pq.write_table(table, handle)
