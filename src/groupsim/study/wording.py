"""Numbers in words for the reports: decimals, intervals, p-values, shares and directions.

Example:
    >>> _interval(0.1234, 0.5, 2), _p(0.0004), share(0.256)
    ('0.12 to 0.50', 'p < 0.001', '26%')
"""

from __future__ import annotations

import math

__all__ = ["DASH", "share"]


#: What a number that does not exist (NaN) is shown as.
DASH = "\N{EN DASH}"


def _decimals(unit: str) -> int:
    return 1 if unit == "35-140" else 3


def _num(value: float, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    return f"{value:.{digits}f}"


def _interval(low: float, high: float, digits: int) -> str:
    if math.isnan(low) or math.isnan(high):
        return DASH
    return f"{_num(low, digits)} to {_num(high, digits)}"


def _p(value: float) -> str:
    if math.isnan(value):
        return DASH
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _p_cell(value: float) -> str:
    if math.isnan(value):
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _direction(low: float, high: float, up: str, down: str, none: str) -> str:
    if not math.isnan(low) and low > 0:
        return up
    if not math.isnan(high) and high < 0:
        return down
    return none


def share(value: float) -> str:
    """A share as a whole percentage (a dash when it does not exist)."""
    return DASH if math.isnan(value) else f"{100 * value:.0f}%"
