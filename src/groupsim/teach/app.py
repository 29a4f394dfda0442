"""The teaching page: the counseling group, live, in a browser (Solara, with Mesa's SolaraViz).

Run it with `groupsim ui [SCENARIO.toml]`. The page shows the clients' group as a network
(node colour = a chosen state, node size = disclosure, edge width = tie strength), the week,
session, stage and climate, and the clients' states over time. Mesa's SolaraViz controls
(Step, Play/Pause, Reset, and the parameter sliders) drive a :class:`Classroom`: one
population, seen under the chosen technique and, side by side, under a second arm (no
intervention, or home room when the chosen technique is none), stepping together week by week.

Every browser session gets its own :class:`Classroom` (built inside the `Page` component),
never one shared module-level model. Mesa's `SolaraViz` lays its components out in a
half-width grid and steps a single model; two arms side by side need the page's own layout,
so the page uses SolaraViz's `ModelController` and `ModelCreator` directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from html import escape
from pathlib import Path
from typing import Any

import mesa
import solara
from mesa.visualization.solara_viz import ModelController, ModelCreator
from mesa.visualization.utils import update_counter

from groupsim.document.network import COLOUR_STATES, faculty_layout, picture_from_model
from groupsim.document.network_draw import network_svg
from groupsim.model.agents import STATES
from groupsim.model.model import HomeRoomModel
from groupsim.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    load_scenario,
    parameter_table,
    scenario_from_dict,
)
from groupsim.teach.drawing import CLIENT_SERIES, chart_svg, week_caption

__all__ = ["SCENARIO_VARIABLE", "TECHNIQUES", "Classroom", "Page", "model_params", "serve"]

#: Environment variable through which `groupsim ui` hands its scenario file to the page.
SCENARIO_VARIABLE = "GROUPSIM_UI_SCENARIO"

#: Technique names as the class reads them -> the scenario's `counselor.technique`.
TECHNIQUES = {"home room": "home_room", "standard group": "standard", "no intervention": "none"}
_TECHNIQUE_WORDS = {value: words for words, value in TECHNIQUES.items()}

#: The page's parameters -> dotted scenario paths (their bounds come from the schema).
PARAMETER_PATHS = {
    "warmth": "counselor.warmth",
    "facilitation": "counselor.facilitation",
    "sessions": "program.sessions",
    "clients": "group.clients",
}

#: States shown for a selected student, and plotted over weeks.
STUDENT_STATES = (
    "social_interaction",
    *(name for name in STATES if name not in ("sociability", "openness")),
)


class Classroom(mesa.Model):
    """One population under one or two counseling arms that step together.

    Args:
        base: the scenario the page started from (a file given to `groupsim ui`).
        technique: "home room", "standard group" or "no intervention".
        warmth: the counselor's warmth (overrides the scenario's `counselor.warmth`).
        facilitation: the counselor's facilitation (overrides `counselor.facilitation`).
        sessions: number of group sessions (overrides `program.sessions`).
        clients: clients in the group (overrides `group.clients`).
        seed: the population's seed; both arms share it (same students, same campus).
        side_by_side: add the comparison arm (no intervention; home room when the chosen
            technique is already none).
    """

    def __init__(
        self,
        base: Scenario | None = None,
        technique: str = "home room",
        warmth: float | None = None,
        facilitation: float | None = None,
        sessions: int | None = None,
        clients: int | None = None,
        seed: int = 0,
        side_by_side: bool = True,
    ):
        super().__init__(rng=seed)
        self.base = base if base is not None else scenario_from_dict({}, "defaults")
        self.seed = int(seed)
        chosen = TECHNIQUES.get(technique, technique)
        overrides: dict[str, Any] = {"counselor.technique": chosen}
        for name, value in (
            ("warmth", warmth),
            ("facilitation", facilitation),
            ("sessions", sessions),
            ("clients", clients),
        ):
            if value is not None:
                overrides[PARAMETER_PATHS[name]] = value
        #: A combination the scenario rejects is shown on the page; the arms keep the base.
        self.problem = ""
        try:
            scenario = _with_overrides(self.base, overrides)
        except ScenarioError as exc:
            self.problem = str(exc)
            scenario = self.base
        techniques = [scenario.counselor.technique]
        if side_by_side:
            techniques.append("none" if techniques[0] != "none" else "home_room")
        self.arms: list[HomeRoomModel] = []
        for name in techniques:
            arm = _with_overrides(scenario, {"counselor.technique": name})
            self.arms.append(HomeRoomModel(rng=self.seed, config=arm))

    @property
    def settings(self) -> str:
        """The parameters the arms run with, in words (slider values are easy to misread)."""
        c = self.arms[0].config
        return (
            f"warmth {c.counselor.warmth:.2f} · facilitation {c.counselor.facilitation:.2f} · "
            f"{c.program.sessions} sessions · {c.group.clients} clients · seed {self.seed}"
        )

    @property
    def week(self) -> int:
        """The week all arms have reached."""
        return self.arms[0].week

    def step(self) -> None:
        """One week in every arm."""
        for arm in self.arms:
            if arm.running:
                arm.step()
        self.running = any(arm.running for arm in self.arms)


def _with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    source = f"{scenario.name} (page)"
    return scenario_from_dict(apply_overrides(scenario.to_dict(), overrides, source), source)


def model_params(base: Scenario) -> dict[str, Any]:
    """SolaraViz user parameters: sliders bounded by the scenario schema and the cohort."""
    rows = {row["path"]: row for row in parameter_table()}
    values = base.to_dict()

    def current(path: str) -> Any:
        section, key = path.split(".")
        return values[section][key]

    most_sessions = rows["program.sessions"]["max"]
    if base.program.weeks is not None:
        most_sessions = min(most_sessions, base.program.weeks * base.program.sessions_per_week)
    bounds = {
        "warmth": (rows["counselor.warmth"]["min"], rows["counselor.warmth"]["max"]),
        "facilitation": (
            rows["counselor.facilitation"]["min"],
            rows["counselor.facilitation"]["max"],
        ),
        "sessions": (rows["program.sessions"]["min"], most_sessions),
        "clients": (rows["group.clients"]["min"], min(rows["group.clients"]["max"], base.students)),
    }
    labels = {
        "warmth": "Counselor warmth",
        "facilitation": "Counselor facilitation",
        "sessions": "Sessions",
        "clients": "Group size (clients)",
    }
    params: dict[str, Any] = {
        "base": base,
        "technique": {
            "type": "Select",
            "value": _TECHNIQUE_WORDS[base.counselor.technique],
            "values": list(TECHNIQUES),
            "label": "Technique",
        },
    }
    for name, (lo, hi) in bounds.items():
        is_float = name in ("warmth", "facilitation")
        params[name] = {
            "type": "SliderFloat" if is_float else "SliderInt",
            "value": current(PARAMETER_PATHS[name]),
            "min": lo,
            "max": hi,
            "step": 0.05 if is_float else 1,
            "label": labels[name],
        }
    params["seed"] = {
        "type": "SliderInt",
        "value": 0,
        "min": 0,
        "max": 99,
        "step": 1,
        "label": "Seed",
    }
    params["side_by_side"] = {
        "type": "Checkbox",
        "value": True,
        "label": "Side by side with a second arm",
    }
    return params


def _base_scenario() -> Scenario:
    path = os.environ.get(SCENARIO_VARIABLE)
    return load_scenario(path) if path else scenario_from_dict({}, "defaults")


def _arm_title(arm: HomeRoomModel) -> str:
    return _TECHNIQUE_WORDS[arm.counselor.technique]


def _history(arm: HomeRoomModel) -> tuple[list[int], dict[str, list[float]]]:
    data = arm.datacollector.model_vars
    weeks = [int(w) for w in data["week"]]
    return weeks, {legend: list(data[column]) for column, legend in CLIENT_SERIES.items()}


def _program_weeks(arm: HomeRoomModel) -> tuple[int, int]:
    cal = arm.calendar
    return cal.last_baseline_week, cal.last_program_week


@solara.component
def ArmView(arm: HomeRoomModel, colour_by: str, context: bool, selected: int | None):
    """One arm: caption, the group's network this week, the clients' states over weeks."""
    update_counter.get()  # the arm object stays the same while it steps: re-render on Step
    row = arm.record
    labels = {a.student_id: a.label for a in arm.student_agents}
    positions = faculty_layout(arm.states.faculty, arm.clients)
    picture = picture_from_model(arm, colour_by, context=context)
    weeks, series = _history(arm)
    with solara.Column(gap="4px", classes=["groupsim-arm"]):
        # Plain HTML, not Markdown: Solara's Markdown pulls KaTeX from a CDN.
        solara.HTML(tag="h3", unsafe_innerHTML=escape(_arm_title(arm)))
        solara.Text(week_caption(row, arm.calendar.last_week), classes=["groupsim-caption"])
        solara.HTML(
            tag="div",
            unsafe_innerHTML=network_svg(
                picture, positions, labels, colour_by, size=380, highlight=selected
            ),
        )
        _weekly_chart(arm, weeks, series, "Clients' mean states", width=580)


def _weekly_chart(
    arm: HomeRoomModel, weeks: list[int], series: dict[str, list[float]], title: str, width: int
) -> None:
    """A line chart of weekly series up to the arm's current week (program weeks shaded)."""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=chart_svg(
            weeks,
            series,
            arm.calendar.last_week,
            marker_week=arm.week,
            program=_program_weeks(arm),
            title=title,
            width=width,
        ),
    )


@solara.component
def StudentView(classroom: Classroom, student: int):
    """A selected client's traits now and history over the weeks, in every arm."""
    update_counter.get()
    with solara.Row(style={"flex-wrap": "wrap"}):
        for arm in classroom.arms:
            agent = arm.student_agents[student]
            states = agent.state()
            states["social_interaction"] = float(arm.social_interaction[student])
            ties = [
                arm.network[student][other]["strength"] for other in arm.network.neighbors(student)
            ]
            group_ties = sum(1 for other in arm.network.neighbors(student) if other in arm.clients)
            table = "".join(
                f"<tr><td>{escape(COLOUR_STATES.get(name, name))}</td><td>{value:.2f}</td></tr>"
                for name, value in states.items()
            )
            weeks = [int(frame["week"][0]) for frame in arm.student_frames]
            history = {
                COLOUR_STATES[name]: [float(frame[name][student]) for frame in arm.student_frames]
                for name in STUDENT_STATES
            }
            with solara.Column(style={"min-width": "420px"}):
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=(
                        f"<p><b>{escape(agent.label)}</b> under {_arm_title(arm)}, week "
                        f"{arm.week}: {len(ties)} friends on campus ({group_ties} in the group)"
                        f'</p><table class="groupsim-student">{table}</table>'
                    ),
                )
                _weekly_chart(arm, weeks, history, f"{agent.label}: history", width=560)


@solara.component
def ClassroomView(classroom: Classroom, colour_by: str, context: bool, selected: int | None):
    """The arms side by side, then the selected student."""
    update_counter.get()  # re-render after every Step (Mesa's controller bumps it)
    if classroom.problem:
        solara.Error(f"{classroom.problem} (showing the scenario's own values)")
    solara.Text(f"Running with {classroom.settings}", classes=["groupsim-settings"])
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        for arm in classroom.arms:
            ArmView(arm, colour_by, context, selected)
    if selected is not None:
        StudentView(classroom, selected)


@solara.component
def Page():
    """The page: controls in the sidebar, the classroom in the main area."""
    base = solara.use_memo(_base_scenario, [])
    # One Classroom per browser session: built here, inside the component, never at import.
    first = solara.use_memo(lambda: Classroom(base=base), [])
    classroom: solara.Reactive[Classroom] = solara.use_reactive(first)
    parameters: solara.Reactive[dict[str, Any]] = solara.use_reactive({})
    play_interval = solara.use_reactive(400)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    colour_by = solara.use_reactive("social_interaction")
    context = solara.use_reactive(True)
    selected = solara.use_reactive("(none)")

    model = classroom.value
    labels = {a.student_id: a.label for a in model.arms[0].student_agents}
    client_labels = [labels[int(i)] for i in model.arms[0].clients]
    student = next((i for i, text in labels.items() if text == selected.value), None)

    solara.Title("groupsim: the home room group")
    with solara.AppBar():
        solara.AppBarTitle("groupsim: a counseling group, week by week")
    with solara.Sidebar():
        with solara.Card("Controls"):
            ModelController(
                classroom,
                model_parameters=parameters,
                play_interval=play_interval,
                render_interval=render_interval,
                use_threads=use_threads,
            )
            solara.Text("Parameter changes take effect on Reset.")
        with solara.Card("Model parameters"):
            ModelCreator(classroom, model_params(base), model_parameters=parameters)
        with solara.Card("View"):
            solara.Select(
                "Node colour",
                value=COLOUR_STATES[colour_by.value],
                values=list(COLOUR_STATES.values()),
                on_value=lambda words: colour_by.set(
                    next(k for k, v in COLOUR_STATES.items() if v == words)
                ),
            )
            solara.Checkbox(label="Campus friends (faint)", value=context)
            solara.Select("Student", value=selected, values=["(none)", *client_labels])
    ClassroomView(model, colour_by.value, context.value, student)


def serve(scenario: Path | None, host: str = "127.0.0.1", port: int = 8765) -> int:
    """Run the page with Solara's server until interrupted.

    On POSIX systems this process becomes the server (it does not return); elsewhere the
    server runs as a child and its exit status is returned.

    The scenario file (validated by the caller) reaches the page through an environment
    variable; Solara's telemetry is switched off, and its front end is served from the
    locally installed `solara-assets` rather than a CDN.
    """
    env = dict(os.environ)
    if scenario is not None:
        env[SCENARIO_VARIABLE] = str(Path(scenario).resolve())
    else:
        env.pop(SCENARIO_VARIABLE, None)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    # Solara's asset proxy is what serves the front end from the installed solara-assets
    # (/_solara/cdn/...); switched off, the browser would fetch it from a public CDN.
    env.pop("SOLARA_ASSETS_PROXY", None)
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "groupsim.teach.app:Page",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--log-level",
        "warning",
    ]
    if os.name == "posix":
        # Become the server (no orphaned child when this process is stopped).
        os.execve(sys.executable, command, env)
    return subprocess.run(command, env=env, check=False).returncode
