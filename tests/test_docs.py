"""The docs stay true to the code: generated tables are current, ODD names real things."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from groupsim.model import measures, mechanisms
from groupsim.model.model import HomeRoomModel
from groupsim.scenario import parameter_table

ROOT = Path(__file__).resolve().parent.parent
ODD = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")

#: Modules the ODD names by their short name, `module.name` (`mechanisms.logistic`). Other
#: modules it names by their full path (`groupsim.model.campus.run_campus_week`); `campus.x`
#: and `group.x` are parameters, and `model.x` is the running model's attribute.
MODULES = {
    "mechanisms": mechanisms,
    "measures": measures,
    "schedule": importlib.import_module("groupsim.model.schedule"),
    "agents": importlib.import_module("groupsim.model.agents"),
    "ties": importlib.import_module("groupsim.model.ties"),
    "kernel": importlib.import_module("groupsim.model.kernel"),
    "screening": importlib.import_module("groupsim.model.screening"),
    "sessions": importlib.import_module("groupsim.model.sessions"),
    "session_inputs": importlib.import_module("groupsim.model.session_inputs"),
    "session_kernel": importlib.import_module("groupsim.model.session_kernel"),
    "recording": importlib.import_module("groupsim.model.recording"),
    "scenario": importlib.import_module("groupsim.scenario"),
    "resources": importlib.import_module("groupsim.runs.resources"),
    "outcomes": importlib.import_module("groupsim.runs.outcomes"),
    "records": importlib.import_module("groupsim.runs.records"),
}
NAME = r"\.([A-Za-z_]\w*(?:\.\w+)*)"
REFERENCE = re.compile(r"`(" + "|".join(MODULES) + r")" + NAME)
#: A full path: `groupsim.model.mechanisms.logistic`, `groupsim.runs.outcomes.run_outcomes`.
FULL_REFERENCE = re.compile(r"`(groupsim(?:\.\w+)+)")
METHOD = re.compile(r"`HomeRoomModel\.(\w+)")
DEFAULT = re.compile(r'`([a-z]+)\.([a-z_]+)` =\s+("[^"]*"|-?\d+(?:\.\d+)?)')


def _gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(_gen_docs().GENERATED))
def test_generated_docs_are_current(name):
    """docs/parameters.md and docs/outputs.md equal what tools/gen_docs.py writes."""
    expected = _gen_docs().GENERATED[name]()
    path = ROOT / "docs" / name
    assert path.exists(), f"docs/{name} is missing: run python tools/gen_docs.py"
    assert path.read_text(encoding="utf-8") == expected, (
        f"docs/{name} is out of date with the code: run python tools/gen_docs.py"
    )


def test_readme_output_tables_are_current():
    """README.md's output columns equal what tools/gen_docs.py writes from outputs.py."""
    current = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _gen_docs().render_readme(current) == current, (
        "README.md's output tables are out of date: run python tools/gen_docs.py"
    )


def test_parameters_md_lists_every_parameter():
    text = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    for row in parameter_table():
        assert f"| `{row['path']}` |" in text


def resolve(dotted: str) -> bool:
    """Whether a full dotted path names something: the longest importable module, then
    attributes.
    """
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            if not hasattr(target, part):
                return False
            target = getattr(target, part)
        return True
    return False


def test_resolve_full_paths():
    assert resolve("groupsim.model.mechanisms.exchange_success_probability")
    assert resolve("groupsim.model.ties.TieStore.dense")
    assert not resolve("groupsim.mechanisms.exchange_success_probability")  # the old path
    assert not resolve("groupsim.model.initial_ties")  # the package re-exports nothing


def test_odd_names_only_existing_functions():
    """Every `mechanisms.NAME` (measures., ties., ...) or `groupsim.x.y` in ODD.md exists."""
    found = REFERENCE.findall(ODD)
    assert len(found) > 30  # the ODD names its functions; a broken pattern finds none
    missing = []
    for module_name, dotted in found:
        target = MODULES[module_name]
        for part in dotted.split("."):
            if not hasattr(target, part):
                missing.append(f"{module_name}.{dotted}")
                break
            target = getattr(target, part)
    full = FULL_REFERENCE.findall(ODD)
    assert len(full) > 10
    missing += [dotted for dotted in full if not resolve(dotted)]
    assert not missing, f"ODD.md names what the code lacks: {sorted(set(missing))}"
    methods = [m for m in METHOD.findall(ODD) if not hasattr(HomeRoomModel, m)]
    assert not methods, f"ODD.md names HomeRoomModel methods that do not exist: {methods}"


def test_odd_names_the_model_modules():
    """The ODD points to the modules that implement each part of the process."""
    full = set(FULL_REFERENCE.findall(ODD))
    for module in ("screening", "sessions", "campus", "recording"):
        assert any(name.startswith(f"groupsim.model.{module}.") for name in full), module


@pytest.mark.parametrize("module", [mechanisms, measures], ids=lambda m: m.__name__)
def test_odd_describes_every_public_mechanism(module):
    short = module.__name__.rsplit(".", 1)[1]
    named = {dotted.split(".")[0] for m, dotted in REFERENCE.findall(ODD) if m == short}
    assert set(module.__all__) - named == set()


def test_odd_defaults_match_the_schema():
    """`section.parameter` = value in ODD.md is the schema's default; every parameter appears."""
    defaults = {row["path"]: row["default"] for row in parameter_table()}
    quoted = DEFAULT.findall(ODD)
    assert len(quoted) > 60
    wrong = []
    for section, field, value in quoted:
        path = f"{section}.{field}"
        assert path in defaults, f"ODD.md quotes an unknown parameter {path}"
        default = defaults[path]
        same = value.strip('"') == default if isinstance(default, str) else float(value) == default
        if not same:
            wrong.append(f"{path}: ODD says {value}, code has {default!r}")
    assert not wrong, wrong
    unnamed = [path for path in defaults if f"`{path}`" not in ODD]
    assert not unnamed, f"parameters never named in ODD.md: {unnamed}"


def test_odd_questionnaire_constants_and_expected_totals():
    q = measures.QUESTIONNAIRE
    assert f"discrimination = {q.discrimination}" in ODD
    assert f"thresholds = {q.thresholds}" in ODD
    assert f"[-{q.spread}, +{q.spread}]" in ODD
    assert f"{q.items} items scored\n{q.lowest} to {q.highest}" in ODD
    rows = re.findall(r"^\| (\d\.\d) \| (\d+\.\d) \|$", ODD, flags=re.MULTILINE)
    assert len(rows) >= 5
    scores = np.array([float(s) for s, _ in rows])
    expected = np.round(q.expected_total(scores), 1)
    assert [float(t) for _, t in rows] == expected.tolist()
    weights = set(measures.SCORE_WEIGHTS.values())
    assert weights == {0.2}, "ODD 7.10 states equal weights of 0.2; update it"


def test_odd_has_every_section():
    for heading in [
        "## 1. Purpose and patterns",
        "## 2. Entities, state variables and scales",
        "## 3. Process overview and scheduling",
        "## 4. Design concepts",
        "## 5. Initialisation",
        "## 6. Input data",
        "## 7. Submodels",
        "### 7.1 Climate",
        "### 7.2 Rapport",
        "### 7.3 Engagement",
        "### 7.4 Exchange",
        "### 7.5 Self-disclosure",
        "### 7.6 Attitude",
        "### 7.7 Resolve",
        "### 7.8 Campus life",
        "### 7.9 Decay",
        "### 7.10 Measurement",
        "## 8. Calibration",
    ]:
        assert heading in ODD, heading


def test_every_module_has_an_api_reference():
    """Each module of every subpackage is on its API page (tools/gen_docs.py:API_PAGES)."""
    import pkgutil

    import groupsim

    listed = {
        f"groupsim.{package}.{module}"
        for package, modules in _gen_docs().API_PAGES.items()
        for module in modules
    }
    found = {
        info.name
        for info in pkgutil.walk_packages(groupsim.__path__, "groupsim.")
        if not info.ispkg and info.name.count(".") == 2
    }
    assert found - listed == set(), "add these modules to API_PAGES in tools/gen_docs.py"
    assert listed - found == set(), "API_PAGES names modules that do not exist"
