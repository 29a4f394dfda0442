"""The lesson panel: what to look for, the questions as presets, parameters, view, export.

On a wide screen the panel is a column left of the drawings; under 900 pixels it is a menu
that the top bar's button opens and its Close button shuts (see `widgets.PAGE_CSS`).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import solara

from groupsim.model.model import faculty_names
from groupsim.scenario import Scenario
from groupsim.teach.classroom import Classroom, parameter_bounds, scenario_choices
from groupsim.teach.lesson import PRESETS, SECOND_ARMS, Preset
from groupsim.teach.messages import LANGUAGES, Messages, messages
from groupsim.teach.widgets import ExportPictures

__all__ = ["LessonPanel", "initial_settings", "preset_settings"]

_TECHNIQUE_KEYS = ("home_room", "standard", "none")


def initial_settings(base: Scenario) -> dict[str, Any]:
    """The parameters the page starts from: the scenario's own (clamped to the sliders)."""
    bounds = parameter_bounds(base)
    c = base
    values = {
        "warmth": c.counselor.warmth,
        "facilitation": c.counselor.facilitation,
        "sessions": c.program.sessions,
        "clients": c.group.clients,
    }
    settings: dict[str, Any] = {
        name: min(max(value, bounds[name][0]), bounds[name][1]) for name, value in values.items()
    }
    settings["technique"] = c.counselor.technique
    settings["seed"] = 0
    settings["second"] = "none" if c.counselor.technique != "none" else "home_room"
    return settings


def preset_settings(base: Scenario, preset: Preset, seed: int = 0) -> dict[str, Any]:
    """The settings of a lesson question: the scenario's own, changed by the preset."""
    settings = initial_settings(base)
    settings.update(preset.parameters)
    settings["second"] = preset.second
    settings["seed"] = seed
    return settings


def _choice(
    label: str, values: dict[str, str], current: str, on_value: Callable[[str], None]
) -> None:
    """A select showing words, handing back keys."""
    keys = {text: key for key, text in values.items()}
    solara.Select(
        label,
        value=values.get(current, current),
        values=list(values.values()),
        on_value=lambda text: on_value(keys[text]),
    )


def _slider(
    words: Messages,
    name: str,
    settings: solara.Reactive[dict[str, Any]],
    bounds: tuple[float, float],
) -> None:
    value = settings.value[name]
    is_float = name in ("warmth", "facilitation")
    shown = f"{value:.2f}" if is_float else str(value)
    label = f"{words('page.' + name)}: {shown}"

    def change(v: float) -> None:
        settings.set({**settings.value, name: v})

    if is_float:
        solara.SliderFloat(
            label, value=value, min=bounds[0], max=bounds[1], step=0.05, on_value=change
        )
    else:
        solara.SliderInt(
            label, value=int(value), min=int(bounds[0]), max=int(bounds[1]), on_value=change
        )


@solara.component
def Parameters(words: Messages, base: Scenario, settings: solara.Reactive[dict[str, Any]]):
    """Technique, second arm, counselor, sessions, group size, seed: applied on Reset."""
    choices = solara.use_memo(scenario_choices, [])
    bounds = parameter_bounds(base)
    _choice(
        words("page.technique"),
        {key: words.arm(key) for key in _TECHNIQUE_KEYS},
        settings.value["technique"],
        lambda key: settings.set({**settings.value, "technique": key}),
    )
    second = {key: words.arm(key) for key in SECOND_ARMS}
    second.update({name: name.replace("_", " ") + " (scenario)" for name in choices})
    second[""] = words("page.no_second_arm")
    _choice(
        words("page.second_arm"),
        second,
        settings.value["second"],
        lambda key: settings.set({**settings.value, "second": key}),
    )
    for name in ("warmth", "facilitation", "sessions", "clients"):
        _slider(words, name, settings, bounds[name])
    _slider(words, "seed", settings, (0, 99))
    solara.Text(words("page.changes_on_reset"))


@solara.component
def LessonPanel(words: Messages, state: Any, csv: Callable[[], str]):
    """The panel's cards, top to bottom in the order a lesson uses them.

    `state` is the page's :class:`~groupsim.teach.app.PageState`.
    """
    base, settings, menu = state.base, state.settings, state.menu
    classroom, colour_by = state.classroom.value, state.colour_by

    def choose(preset: Preset) -> None:
        colour_by.set(preset.colour_by)
        state.reset(preset_settings(base, preset, settings.value["seed"]))
        menu.set(False)

    classes = ["groupsim-panel", "open"] if menu.value else ["groupsim-panel"]
    with solara.Div(classes=classes):
        solara.Button(
            words("page.close"),
            icon_name="mdi-close",
            on_click=lambda: menu.set(False),
            classes=["groupsim-close"],
            text=True,
        )
        solara.HTML(tag="h4", unsafe_innerHTML=escape(words("lesson.presets")))
        for preset in PRESETS:
            with solara.Div(classes=["groupsim-preset"]):
                solara.Button(
                    words(f"lesson.{preset.key}"),
                    on_click=lambda preset=preset: choose(preset),
                    outlined=True,
                    color="primary",
                )
                if preset.key != "free":
                    solara.Text(words(f"lesson.{preset.key}_do"))
        solara.HTML(tag="h4", unsafe_innerHTML=escape(words("lesson.look_for")))
        solara.HTML(tag="p", unsafe_innerHTML=escape(words("lesson.look_for_text")))
        solara.HTML(tag="h4", unsafe_innerHTML=escape(words("page.technique")))
        Parameters(words, base, settings)
        solara.HTML(
            tag="p",
            unsafe_innerHTML=escape(
                words("page.running_with", settings=words("page.settings", **classroom.settings))
            ),
        )
        if classroom.problem:
            solara.Error(words("page.problem", problem=classroom.problem))
        View(words, classroom, colour_by, state.context, state.selected, state.language)
        solara.HTML(tag="h4", unsafe_innerHTML=escape(words("page.export")))
        ExportPictures(
            png_label=words("page.export_png"),
            svg_label=words("page.export_svg"),
            filename=f"groupsim-week{classroom.week}",
        )
        solara.FileDownload(
            csv,
            filename="groupsim-weekly.csv",
            label=words("page.export_csv"),
            mime_type="text/csv",
        )


@solara.component
def View(
    words: Messages,
    classroom: Classroom,
    colour_by: solara.Reactive[str],
    context: solara.Reactive[bool],
    selected: solara.Reactive[int | None],
    language: solara.Reactive[str],
):
    """Node colour, campus friends, the selected student, the faculties, the language."""
    _choice(words("page.colour"), words.states(), colour_by.value, colour_by.set)
    solara.Checkbox(label=words("page.context"), value=context)
    arm = classroom.arms[0]
    labels = {
        int(i): f"{agent.tag} \N{EN DASH} {words.faculty(agent.faculty_name)}"
        for i, agent in ((int(i), arm.student_agents[int(i)]) for i in arm.clients)
    }
    students = {"": words("page.no_student"), **{str(i): t for i, t in labels.items()}}
    _choice(
        words("page.student"),
        students,
        "" if selected.value is None else str(selected.value),
        lambda key: selected.set(int(key) if key else None),
    )
    solara.Text(words("page.click_hint"))
    names = faculty_names(arm.config.cohort.faculty_names, arm.config.cohort.faculties)
    solara.HTML(tag="h4", unsafe_innerHTML=escape(words("page.faculties")))
    solara.HTML(tag="p", unsafe_innerHTML=escape(" · ".join(words.faculty(name) for name in names)))
    _choice(
        words("page.language"),
        {code: messages(code)("language.name") for code in LANGUAGES},
        language.value,
        language.set,
    )
