"""Scenario files: read and validate TOML, apply overrides, write a scenario back as TOML.

Bad input raises :class:`~groupsim.scenario.schema.ScenarioError` (file, field, what is
allowed); the CLI turns it into one line on stderr and exit status 2.
"""

from __future__ import annotations

import math
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from groupsim.scenario.cohort_file import adopt_cohort_file
from groupsim.scenario.schema import PRACTICES, SECTIONS, Scenario, ScenarioError, _ComboError
from groupsim.scenario.shipped import (
    builtin_location,
    builtin_names,
    builtin_text,
    is_scenario_name,
)

__all__ = [
    "BuiltinScenario",
    "apply_overrides",
    "builtin_scenarios",
    "dotted_path",
    "flat_parameter_names",
    "load_scenario",
    "parameter_table",
    "parse_assignment",
    "parse_toml",
    "read_input_file",
    "scenario_from_dict",
    "scenario_to_toml",
    "with_clients",
    "with_overrides",
]


def _field_info(loc: tuple[Any, ...]) -> Any:
    """The pydantic field a validation error's location points to, if it is a parameter."""
    section = SECTIONS.get(str(loc[0])) if loc else None
    if section is None or len(loc) < 2:
        return None
    return section.model_fields.get(str(loc[1]))


def _unknown_key(loc: tuple[Any, ...]) -> str:
    """An extra key: name the keys allowed where it stands."""
    if len(loc) == 1:
        return "unknown key; allowed keys: " + ", ".join(Scenario.model_fields)
    section = SECTIONS.get(str(loc[0])) if loc else None
    if section is not None:
        return f"unknown key; allowed in [{loc[0]}]: " + ", ".join(section.model_fields)
    return "unknown key"


def _out_of_range(error: ErrorDetails, got_text: str) -> str:
    """A bound was crossed: name both bounds when the parameter has them."""
    lo = hi = None
    field_info = _field_info(tuple(error["loc"]))
    if field_info is not None:
        for m in field_info.metadata:
            lo = getattr(m, "ge", lo) if getattr(m, "ge", None) is not None else lo
            hi = getattr(m, "le", hi) if getattr(m, "le", None) is not None else hi
    if lo is not None and hi is not None:
        return f"must be between {lo:g} and {hi:g}{got_text}"
    return f"{error['msg'].lower()}{got_text}"


#: Pydantic error types whose message does not depend on the input, by what is allowed.
_ALLOWED_BY_KIND = {
    "finite_number": "must be a finite number, not NaN or infinity",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number",
    "string_type": "must be a text string",
    "list_type": "must be a list",
    "model_type": "must be a table of parameters",
    "dict_type": "must be a table of parameters",
    "model_attributes_type": "must be a table of parameters",
}

_RANGE_KINDS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})


def _describe_allowed(error: ErrorDetails) -> str:
    """Turn one pydantic error into 'what is allowed (got ...)'."""
    kind = error["type"]
    got = error.get("input")
    got_text = f" (got {got!r})" if not isinstance(got, dict) else ""
    if kind == "extra_forbidden":
        return _unknown_key(tuple(error["loc"]))
    if kind in _RANGE_KINDS:
        return _out_of_range(error, got_text)
    if kind in _ALLOWED_BY_KIND:
        return f"{_ALLOWED_BY_KIND[kind]}{got_text}"
    if kind == "literal_error":
        return f"must be one of {error.get('ctx', {}).get('expected', '')}{got_text}"
    if kind in {"float_type", "float_parsing"}:
        if isinstance(got, float) and math.isnan(got):
            return "must be a finite number, not NaN"
        return f"must be a number{got_text}"
    return f"{error['msg']}{got_text}"


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a nested dict (as read from TOML) into a :class:`Scenario`."""
    _reject_nan(data, source, ())
    data = adopt_cohort_file(data, source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        if isinstance(error.get("ctx", {}).get("error"), _ComboError):
            combo = error["ctx"]["error"]
            raise ScenarioError(source, combo.field, combo.allowed) from None
        loc = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "value_error":
            message = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
            raise ScenarioError(source, loc, message) from None
        raise ScenarioError(source, loc, _describe_allowed(error)) from None


def _reject_nan(data: Any, source: str, path: tuple[str, ...]) -> None:
    """TOML allows `nan` and `inf`; no parameter does."""
    if isinstance(data, dict):
        for key, value in data.items():
            _reject_nan(value, source, (*path, str(key)))
    elif isinstance(data, float) and not math.isfinite(data):
        raise ScenarioError(
            source, ".".join(path), f"must be a finite number, not NaN or infinity (got {data})"
        )


#: The largest input file read (a scenario file is a few kilobytes; a sweep file less).
MAX_INPUT_BYTES = 1_000_000
#: The deepest nesting of tables and lists an input file may have (a scenario needs 2).
MAX_NESTING = 8


def read_input_file(path: Path, kind: str = "scenario") -> bytes:
    """The bytes of an input file: a regular file (no FIFO or device) of at most 1 MB.

    `kind` names what was asked for in the message ("scenario", "sweep").
    """
    source = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(
            source, "(file)", f"no such file; give the path of a {kind} .toml"
        ) from None
    except (OSError, ValueError) as exc:  # a NUL in the name, a name too long, no permission
        raise ScenarioError(source, "(file)", f"cannot be opened ({_reason(exc)})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(source, "(file)", f"is a folder; give the path of a {kind} .toml")
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(
            source, "(file)", f"is not a regular file (a pipe or device); give a {kind} .toml"
        )
    if info.st_size > MAX_INPUT_BYTES:
        raise ScenarioError(
            source,
            "(file)",
            f"is {info.st_size:,} bytes; a {kind} file may have at most {MAX_INPUT_BYTES:,}",
        )
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_INPUT_BYTES + 1)[:MAX_INPUT_BYTES]
    except OSError as exc:
        raise ScenarioError(source, "(file)", f"cannot be read ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    """An OS error's reason without its repeated file name."""
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def parse_toml(raw: bytes, source: str) -> dict[str, Any]:
    r"""Parse an input file's bytes as TOML (UTF-8, a byte-order mark allowed), not too deep.

    Example:
        >>> import codecs
        >>> parse_toml(codecs.BOM_UTF8 + b"name = 'x'", "f.toml")
        {'name': 'x'}
        >>> parse_toml(b"a = " + b"[" * 50 + b"]" * 50, "f.toml")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        groupsim.scenario.schema.ScenarioError: f.toml: (syntax): nested deeper than 8 levels ...
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, "(file)", f"cannot be read as UTF-8 text ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "(syntax)", f"not valid TOML: {exc}") from None
    except RecursionError:
        data = None
    if data is None or _nesting(data) > MAX_NESTING:
        raise ScenarioError(
            source, "(syntax)", f"nested deeper than {MAX_NESTING} levels of tables and lists"
        )
    return data


def _nesting(data: Any) -> int:
    """How deep tables and lists nest in parsed TOML (without recursion: any depth is fine)."""
    deepest = 0
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return deepest


def _read_toml(path: Path) -> dict[str, Any]:
    return parse_toml(read_input_file(path), str(path))


def dotted_path(flat_name: str) -> str:
    """Map a flat keyword name (`counselor_warmth`) to its dotted path (`counselor.warmth`).

    The flat name is the dotted path with the first dot replaced by an underscore; the
    top-level `name` and `description` keep their names.
    """
    if flat_name in Scenario.model_fields and flat_name not in SECTIONS:
        return flat_name
    for section, model in SECTIONS.items():
        prefix = section + "_"
        if flat_name.startswith(prefix) and flat_name[len(prefix) :] in model.model_fields:
            return f"{section}.{flat_name[len(prefix) :]}"
    raise KeyError(flat_name)


def flat_parameter_names() -> dict[str, str]:
    """All flat keyword names accepted by `HomeRoomModel(**params)`, mapped to dotted paths."""
    names = {"name": "name", "description": "description"}
    for section, model in SECTIONS.items():
        for field in model.model_fields:
            names[f"{section}_{field}"] = f"{section}.{field}"
    return names


def apply_overrides(
    data: dict[str, Any], overrides: dict[str, Any] | None, source: str
) -> dict[str, Any]:
    """Return a copy of a nested scenario dict with dotted-path overrides applied."""
    result = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for path, value in (overrides or {}).items():
        parts = path.split(".")
        if len(parts) == 1 and parts[0] in ("name", "description"):
            result[parts[0]] = value
            continue
        if len(parts) != 2 or parts[0] not in SECTIONS:
            raise ScenarioError(
                source,
                path,
                "unknown parameter path; use section.parameter, sections: " + ", ".join(SECTIONS),
            )
        section, key = parts
        if key not in SECTIONS[section].model_fields:
            raise ScenarioError(
                source,
                path,
                f"unknown parameter; allowed in [{section}]: "
                + ", ".join(SECTIONS[section].model_fields),
            )
        table = result.setdefault(section, {})
        if not isinstance(table, dict):
            raise ScenarioError(source, section, "must be a table of parameters")
        table[key] = value
    return result


def with_overrides(
    scenario: Scenario, overrides: dict[str, Any], source: str | None = None
) -> Scenario:
    """A copy of `scenario` with dotted-path overrides, validated like a scenario file.

    `source` names it in errors (default ``<NAME>``); pydantic's `model_copy` would not
    validate the new values.
    """
    source = f"<{scenario.name}>" if source is None else source
    return scenario_from_dict(apply_overrides(scenario.to_dict(), overrides, source), source)


def with_clients(scenario: Scenario, clients: int) -> Scenario:
    """The scenario with `group.clients` set (validated like any override)."""
    if scenario.group.clients == clients:
        return scenario
    return with_overrides(
        scenario, {"group.clients": clients}, f"{scenario.name} (group.clients={clients})"
    )


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, override and validate a scenario file or a built-in scenario.

    Args:
        path: a TOML scenario file (see `scenarios/`), or the bare name of a built-in scenario
            (``"home_room"``: no folder, no ``.toml``, not an existing file; see
            :func:`builtin_scenarios`).
        overrides: dotted parameter paths mapped to values, for example
            ``{"counselor.warmth": 0.2, "program.sessions": 12}``; validated like the file.

    Returns:
        The validated :class:`Scenario`.

    Raises:
        ScenarioError: the file is missing or malformed, the name is not a built-in, or a
            value is not allowed.

    Example:
        >>> load_scenario("no_intervention").counselor.technique
        'none'
        >>> load_scenario("home_room", {"group.clients": 6}).group.clients
        6
    """
    if is_scenario_name(path):
        source = f"{path} (built-in)"
        data = _read_builtin(str(path))
    else:
        path = Path(path)
        source = str(path)
        data = _read_toml(path)
        data = _resolve_cohort_data(data, path)
    data = apply_overrides(data, overrides, source)
    return scenario_from_dict(data, source)


def _resolve_cohort_data(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """``cohort.data`` in a scenario file is relative to that file: make it absolute."""
    cohort = data.get("cohort")
    if isinstance(cohort, dict) and isinstance(cohort.get("data"), str) and cohort["data"]:
        located = (path.parent / cohort["data"]).resolve()
        data = {**data, "cohort": {**cohort, "data": str(located)}}
    return data


def _read_builtin(name: str) -> dict[str, Any]:
    """The parsed TOML of a built-in scenario, or a ScenarioError naming the built-ins."""
    try:
        text = builtin_text(name)
    except KeyError:
        known = ", ".join(builtin_names())
        raise ScenarioError(
            name,
            "(file)",
            f"no such file or built-in scenario; built-ins: {known}; "
            "or give the path of a scenario .toml",
        ) from None
    return tomllib.loads(text)


@dataclass(frozen=True)
class BuiltinScenario:
    """A scenario shipped inside groupsim, as `groupsim scenarios` lists it.

    Attributes:
        name: what to type instead of a path (`groupsim run home_room`).
        technique: the counselor's technique (`home_room`, `standard` or `none`).
        summary: the first clause of the scenario's description.
        location: where its file is.
    """

    name: str
    technique: str
    summary: str
    location: str


def _first_clause(text: str) -> str:
    """The description up to its first colon or full stop: one line for a listing."""
    cut = min((i for i in (text.find(": "), text.find(". ")) if i >= 0), default=len(text))
    return text[:cut].rstrip(".")


def builtin_scenarios() -> list[BuiltinScenario]:
    """The built-in scenarios, sorted by name, each validated.

    Example:
        >>> [(s.name, s.technique) for s in builtin_scenarios()][:3]
        [('campus_control', 'none'), ('campus_rollout', 'home_room'), ('home_room', 'home_room')]
    """
    rows = []
    for name in builtin_names():
        scenario = load_scenario(name)
        rows.append(
            BuiltinScenario(
                name=name,
                technique=scenario.counselor.technique,
                summary=_first_clause(scenario.description),
                location=builtin_location(name),
            )
        )
    return rows


def parse_assignment(text: str, source: str = "--set") -> tuple[str, Any]:
    """Parse `key=value` from the command line; the value is read as a TOML value."""
    if "=" not in text:
        raise ScenarioError(source, text, "expected key=value, for example counselor.warmth=0.5")
    key, raw = (part.strip() for part in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as standard for counselor.technique
    return key, value


def parameter_table() -> list[dict[str, Any]]:
    """One row per parameter: path, default, range, unit, meaning (for docs and `check`)."""
    rows = []
    for section, model in SECTIONS.items():
        for field, info in model.model_fields.items():
            lo = hi = None
            for m in info.metadata:
                lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
                hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
            default = info.get_default(call_default_factory=True)
            extra = info.json_schema_extra or {}
            rows.append(
                {
                    "path": f"{section}.{field}",
                    "default": default,
                    "min": lo,
                    "max": hi,
                    "unit": extra.get("unit", "") if isinstance(extra, dict) else "",
                    "meaning": info.description or "",
                }
            )
    return rows


#: TOML basic strings may not hold control characters raw; these have short escapes.
_TOML_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _toml_string(text: str) -> str:
    r"""A TOML basic string; other control characters (and DEL) become \uXXXX escapes."""
    out = []
    for char in text:
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def scenario_to_toml(scenario: Scenario, commented: bool = True) -> str:
    """Write a scenario as TOML; with comments, each parameter gets meaning, range and unit."""
    data = scenario.to_dict()
    lines = [f"name = {_toml_value(data['name'])}"]
    lines.append(f"description = {_toml_value(data['description'])}")
    for section, model in SECTIONS.items():
        lines.append("")
        if commented and model.__doc__:
            lines.append(f"# {model.__doc__.strip().splitlines()[0]}")
        lines.append(f"[{section}]")
        for field, info in model.model_fields.items():
            if commented:
                lines.append(f"# {_comment(info)}")
            if field not in data[section]:
                lines.append(f"# {field} = {_unset_value(scenario, section, field)}")
                continue
            lines.append(f"{field} = {_toml_value(data[section][field])}")
    return "\n".join(lines) + "\n"


def _unset_value(scenario: Scenario, section: str, field: str) -> str:
    """What an unset optional parameter comes to: a practice's preset value, else not set."""
    if section == "technique" and field in PRACTICES:
        value = _toml_value(scenario.practices[field])
        return f"{value}  (from the {scenario.counselor.technique!r} preset)"
    if section == "technique" and field == "group":
        return f"{_toml_value(scenario.holds_group)}  (from the preset)"
    return "(not set)"


def _comment(info: Any) -> str:
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
        hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
    extra = info.json_schema_extra or {}
    unit = extra.get("unit", "") if isinstance(extra, dict) else ""
    span = f"; range {lo:g} to {hi:g}" if lo is not None and hi is not None else ""
    return f"{info.description}{span}; unit: {unit}"
