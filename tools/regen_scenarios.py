"""Write the shipped scenario files from the schema: defaults plus what each arm changes.

Each scenario is written twice, with the same text: the repository's user-facing copy in
`scenarios/` and the built-in copy inside the package, `src/groupsim/scenario/builtin/`, which
an installed groupsim loads by name (`groupsim run home_room`).

Run after changing a parameter's meaning, range or default (`python tools/regen_scenarios.py`);
`tests/test_scenario.py` fails when a shipped file and this script disagree, and
`tests/test_builtin_scenarios.py` when the two copies differ.
"""

import sys
from pathlib import Path

from groupsim.scenario import Scenario, scenario_to_toml

ROOT = Path(__file__).resolve().parent.parent

#: Where each scenario is written: the user-facing copies and the package's built-in copies.
FOLDERS = (ROOT / "scenarios", ROOT / "src" / "groupsim" / "scenario" / "builtin")

HEADER = """# groupsim scenario: {name}
# Copy this file and edit it; `groupsim check FILE` validates it and prints the resolved values.
# Each parameter: meaning; allowed range; unit. Paths are section.parameter (for --set).

"""

#: The shipped arms differ only in these values; everything else is the default.
SCENARIOS = {
    "home_room": {
        "description": "Group counseling with the home room technique: a warm, home-like, safe "
        "climate from the first session (the seed study: 9 students, one per faculty, "
        "8 sessions twice a week).",
        "counselor": {"technique": "home_room"},
    },
    "standard_group": {
        "description": "The same screened students and sessions in a formal group without the "
        "home-like climate (group guidance as usual).",
        "counselor": {"technique": "standard"},
    },
    "campus_rollout": {
        "description": "A campus-wide program: 50 home-room groups of 9, each with its own "
        "counselor, among 20,000 students in 20 faculties; members of a group come from "
        "different faculties. Compare with campus_control.toml for spill-over to the clients' "
        "friends.",
        "cohort": {"faculties": 20, "students_per_faculty": 1000},
        "program": {"groups": 50},
        "counselor": {"technique": "home_room"},
    },
    "campus_control": {
        "description": "The campus of campus_rollout.toml with the same 450 screened students "
        "and no program: the control for the campus rollout.",
        "cohort": {"faculties": 20, "students_per_faculty": 1000},
        "program": {"groups": 50},
        "counselor": {"technique": "none"},
    },
    "home_room_formal_room": {
        "description": "A custom technique: the home room practices in an ordinary classroom "
        "(no home-like room: [technique] home_setting = 0), to see what the room itself does.",
        "counselor": {"technique": "home_room"},
        "technique": {"name": "home room without the home-like room", "home_setting": 0.0},
    },
    "no_intervention": {
        "description": "The same screened students with campus life only: the control arm. "
        "Group and counselor values are kept so that the arms differ in the technique alone.",
        "counselor": {"technique": "none"},
    },
}


def render(name: str) -> str:
    scenario = Scenario.model_validate({"name": name, **SCENARIOS[name]})
    return HEADER.format(name=name) + scenario_to_toml(scenario)


if __name__ == "__main__":
    for folder in FOLDERS:
        folder.mkdir(parents=True, exist_ok=True)
        for name in SCENARIOS:
            path = folder / f"{name}.toml"
            path.write_text(render(name), encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
