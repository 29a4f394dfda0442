"""What a sweep keeps of each run: built-in outcomes, effects against a twin, custom outcomes.

A sweep file's ``[custom_outcomes]`` table names outcomes a user defines, each either

- a function ``"module:function"`` that takes a run's records (`groupsim.runs.records.
  RunRecords`) and returns a number (imported in every worker: the module must be importable
  there, e.g. installed, or a file next to the sweep file, whose folder is put on the
  workers' import path), or
- a column expression over the other outcomes (``"questionnaire_post - questionnaire_pre"``),
  evaluated with `pandas.DataFrame.eval` over a chunk's rows.

Both are checked when the sweep file is loaded, before anything runs. With ``effects = true``
every kept outcome ``X`` (built-in or function) also gets ``effect_X``: the run's value minus
its no-intervention twin's, run with the same seed (`groupsim.scenario.twin`).

Example:
    >>> plan = OutcomePlan(raw=("questionnaire_post",), effects=True,
    ...                    expressions=(("gain", "effect_questionnaire_post / 2"),))
    >>> plan.columns
    ('questionnaire_post', 'effect_questionnaire_post', 'gain')
"""

from __future__ import annotations

import ast
import importlib
import inspect
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groupsim.runs.outcomes import OUTCOMES
from groupsim.scenario import ScenarioError

if TYPE_CHECKING:
    from groupsim.runs.records import RunRecords

__all__ = [
    "EFFECT_PREFIX",
    "OutcomePlan",
    "check_custom_outcomes",
    "evaluate_expressions",
    "load_function",
]

#: Effects against the twin are named `effect_<outcome>`.
EFFECT_PREFIX = "effect_"

_FUNCTION = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class OutcomePlan:
    """What a worker computes per run (plain data: it pickles to any backend).

    Attributes:
        raw: built-in outcomes kept (`groupsim.runs.outcomes.OUTCOMES`).
        effects: also run each run's twin and keep `effect_X` for every raw and function X.
        functions: (name, "module:function") custom outcomes, computed from the run's records.
        expressions: (name, expression) custom outcomes over the other columns, in order.
        search_path: a folder put on the import path before importing a function's module.
    """

    raw: tuple[str, ...]
    effects: bool = False
    functions: tuple[tuple[str, str], ...] = ()
    expressions: tuple[tuple[str, str], ...] = ()
    search_path: str = ""

    @property
    def measured(self) -> tuple[str, ...]:
        """Outcomes measured on a run (and on its twin): raw, then function outcomes."""
        return (*self.raw, *(name for name, _ in self.functions))

    @property
    def columns(self) -> tuple[str, ...]:
        """Every outcome column a run's row holds, in order."""
        effects = tuple(EFFECT_PREFIX + name for name in self.measured) if self.effects else ()
        return (*self.measured, *effects, *(name for name, _ in self.expressions))

    def measure(self, records: RunRecords) -> dict[str, float]:
        """A run's built-in outcomes (all of them) and its function outcomes."""
        from groupsim.runs.outcomes import record_outcomes

        values = record_outcomes(records)
        for name, spec in self.functions:
            values[name] = _number(name, load_function(spec, self.search_path)(records))
        return values


def _number(name: str, value: Any) -> float:
    """A custom outcome's value as a float; anything else is the run's failure."""
    if isinstance(value, bool) or (
        not isinstance(value, (int, float)) and not hasattr(value, "__float__")
    ):
        raise TypeError(f"custom outcome {name!r} returned {type(value).__name__}, not a number")
    return float(value)


def load_function(spec: str, search_path: str = "") -> Callable[[Any], Any]:
    """Import ``module:function`` (first from the import path, then from `search_path`)."""
    module_name, _, attribute = spec.partition(":")
    if search_path and search_path not in sys.path:
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError:
            sys.path.append(search_path)
    module = importlib.import_module(module_name)
    function = getattr(module, attribute)
    if not callable(function):
        raise TypeError(f"{spec} is not a function")
    return function


def evaluate_expressions(columns: dict[str, list[Any]], plan: OutcomePlan) -> None:
    """Add each expression's column to a chunk's columns (NaN in rows that failed)."""
    if not plan.expressions:
        return
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {name: np.asarray(values, dtype=float) for name, values in columns.items()}
    )
    for name, expression in plan.expressions:
        result = frame.eval(expression, engine="python") if len(frame) else frame.iloc[:, 0]
        frame[name] = np.asarray(result, dtype=float)
        columns[name] = frame[name].tolist()


# ---------------------------------------------------------------------------- checking


def check_custom_outcomes(
    source: str, table: dict[str, Any], known: tuple[str, ...], effects: bool
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Validate `[custom_outcomes]`: names, importable functions, expressions over known names.

    Args:
        source: the sweep file (for messages).
        table: name -> "module:function" or an expression.
        known: the built-in outcomes kept.
        effects: whether `effect_X` columns exist.

    Returns:
        (functions, expressions), each as (name, definition) pairs in file order.

    Raises:
        ScenarioError: "FILE: custom_outcomes.NAME: what is allowed".
    """
    search_path = str(Path(source).resolve().parent)
    functions: list[tuple[str, str]] = []
    expressions: list[tuple[str, str]] = []
    for name, definition in table.items():
        where = f"custom_outcomes.{name}"
        if not _NAME.fullmatch(name) or name in OUTCOMES or name.startswith(EFFECT_PREFIX):
            raise ScenarioError(
                source,
                where,
                "a new outcome name: lower-case letters, digits and _, not a built-in outcome "
                f"and not starting with {EFFECT_PREFIX!r}",
            )
        if not isinstance(definition, str) or not definition.strip():
            raise ScenarioError(
                source, where, 'a text: "module:function" or an expression over outcomes'
            )
        if _FUNCTION.fullmatch(definition):
            _check_function(source, where, definition, search_path)
            functions.append((name, definition))
        else:
            expressions.append((name, definition))
    measured = (*known, *(name for name, _ in functions))
    available = {*measured, *(EFFECT_PREFIX + n for n in measured if effects)}
    for name, expression in expressions:
        _check_expression(source, f"custom_outcomes.{name}", expression, available)
        available.add(name)
    return tuple(functions), tuple(expressions)


def _check_function(source: str, where: str, spec: str, search_path: str) -> None:
    try:
        function = load_function(spec, search_path)
    except Exception as exc:  # any import error is the user's to fix: one line
        message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise ScenarioError(
            source,
            where,
            f"cannot import {spec} ({message}); the module must be importable (installed, "
            "or a .py file next to the sweep file)",
        ) from None
    try:
        inspect.signature(function).bind(None)
    except (TypeError, ValueError):
        raise ScenarioError(
            source, where, f"{spec} must take one argument, the run's records (RunRecords)"
        ) from None


def _check_expression(source: str, where: str, expression: str, available: set[str]) -> None:
    """An expression must parse, name only available outcomes, and evaluate to numbers."""
    import numpy as np
    import pandas as pd

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ScenarioError(
            source,
            where,
            f"neither module:function nor a valid expression over outcomes (got {expression!r})",
        ) from None
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    unknown = sorted(names - available)
    if unknown:
        raise ScenarioError(
            source,
            where,
            f"unknown outcome {unknown[0]!r} in {expression!r}; allowed: the kept outcomes "
            "(sweep.outcomes), effect_X with effects = true, and earlier custom outcomes",
        )
    frame = pd.DataFrame({name: np.ones(2) for name in available})
    try:
        result = np.asarray(frame.eval(expression, engine="python"), dtype=float)
    except Exception as exc:  # pandas raises many kinds for a bad expression
        raise ScenarioError(
            source, where, f"cannot evaluate {expression!r} ({type(exc).__name__}: {exc})"
        ) from None
    if result.shape != (2,) or not all(math.isfinite(v) or math.isnan(v) for v in result):
        raise ScenarioError(source, where, f"{expression!r} must give one number per run")
