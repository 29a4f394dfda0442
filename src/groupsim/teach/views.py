"""The classroom on the page: the arms' drawings, the overlay chart, the numbers, a student.

Each view re-renders when the page's `tick` changes (the classroom object stays the same
while it steps). Drawings and charts are SVG strings made in Python from the one network
geometry (:mod:`groupsim.document.network`), in the reader's language.
"""

from __future__ import annotations

from html import escape
from typing import Any

import solara

from groupsim.document.network import faculty_layout, picture_from_model
from groupsim.document.network_draw import network_svg
from groupsim.model.agents import STATES
from groupsim.model.model import HomeRoomModel
from groupsim.teach.classroom import Classroom
from groupsim.teach.drawing import chart_svg, network_texts, short_labels, week_caption
from groupsim.teach.lesson import arm_numbers
from groupsim.teach.messages import Messages
from groupsim.teach.widgets import NetworkPicture

__all__ = ["ArmsView", "BottomView", "StudentView", "arm_drawing", "arm_title", "overlay_chart"]

#: The page's drawing: 300 px high plus legend, labels of 16 px, room for them at the sides.
NETWORK = {"size": 300, "font": 16, "margin": 115}
#: The overlay chart's frame and text size (px); it is drawn to fill its column.
CHART = {"width": 640, "height": 250, "font": 16}

#: States shown for a selected student, and plotted over weeks.
STUDENT_STATES = (
    "social_interaction",
    *(name for name in STATES if name not in ("sociability", "openness")),
)


def arm_title(classroom: Classroom, index: int, words: Messages) -> str:
    """An arm's name in words (its technique, the second arm's choice, or a scenario)."""
    return words.arm(classroom.arm_keys[index])


def arm_caption(arm: HomeRoomModel, words: Messages) -> str:
    """The arm's caption this week: every session held, its stage, the climate."""
    held = [(s.number, s.stage) for s in arm.calendar.sessions_in(arm.week)]
    return week_caption(arm.record, arm.calendar.last_week, held, words)


def arm_drawing(
    arm: HomeRoomModel,
    words: Messages,
    colour_by: str = "social_interaction",
    context: bool = True,
    selected: int | None = None,
) -> str:
    """The arm's network this week as a fluid SVG (opened-up clients ringed)."""
    labels = short_labels(
        {a.student_id: a.faculty_name for a in arm.student_agents},
        words,
        {a.student_id: a.tag for a in arm.student_agents},
    )
    positions = faculty_layout(arm.states.faculty, arm.clients)
    return network_svg(
        picture_from_model(arm, colour_by, context=context),
        positions,
        labels,
        colour_by,
        highlight=selected,
        texts=network_texts(words),
        threshold=arm.config.disclosure.personal_threshold,
        fluid=True,
        **NETWORK,
    )


def overlay_chart(classroom: Classroom, words: Messages) -> str:
    """Both arms' clients' social interaction on one chart (the second arm dashed)."""
    series: dict[str, list[float]] = {}
    weeks: dict[str, list[int]] = {}
    for k, arm in enumerate(classroom.arms):
        name = arm_title(classroom, k, words)
        name = name if name not in series else f"{name} ({k + 1})"
        data = arm.datacollector.model_vars
        series[name] = [float(v) for v in data["clients_social_interaction"]]
        weeks[name] = [int(w) for w in data["week"]]
    first = classroom.arms[0].calendar
    return chart_svg(
        weeks[next(iter(weeks))],
        series,
        classroom.last_week,
        marker_week=classroom.week,
        program=(first.last_baseline_week, first.last_program_week),
        title=words("page.overlay_title"),
        dashed=list(series)[1:],
        fluid=True,
        words=(words("drawing.week_axis"), words("drawing.program")),
        series_weeks=weeks,
        **CHART,
    )


def numbers_table(classroom: Classroom, words: Messages) -> str:
    """The lesson's numbers, a column per arm, as an HTML table."""
    columns = [arm_numbers(arm).rows(words) for arm in classroom.arms]
    head = "".join(
        f"<th>{escape(arm_title(classroom, k, words))}</th>" for k in range(len(classroom.arms))
    )
    labels = list(dict.fromkeys(label for rows in columns for label, _ in rows))
    body = ""
    for label in labels:
        missing = "\N{EN DASH}"
        cells = "".join(f"<td>{escape(dict(rows).get(label, missing))}</td>" for rows in columns)
        body += f"<tr><td>{escape(label)}</td>{cells}</tr>"
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


@solara.component
def ArmsView(
    classroom: Classroom,
    words: Messages,
    colour_by: str,
    context: bool,
    selected: solara.Reactive[int | None],
    tick: int,
):
    """The arms side by side: name, caption and drawing; a click selects a student."""

    def select(student: Any) -> None:
        student = int(student)
        selected.set(None if selected.value == student else student)

    with solara.Div(classes=["groupsim-arms"]):
        for k, arm in enumerate(classroom.arms):
            with solara.Div(classes=["groupsim-arm"]):
                solara.HTML(tag="h3", unsafe_innerHTML=escape(arm_title(classroom, k, words)))
                solara.Text(arm_caption(arm, words), classes=["groupsim-caption"])
                NetworkPicture(
                    svg=arm_drawing(arm, words, colour_by, context, selected.value),
                    event_select=select,
                )


@solara.component
def BottomView(classroom: Classroom, words: Messages, tick: int):
    """The overlay chart and the lesson's numbers."""
    with solara.Div(classes=["groupsim-bottom"]):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=overlay_chart(classroom, words),
            classes=["groupsim-overlay"],
        )
        with solara.Div(classes=["groupsim-numbers"]):
            solara.HTML(tag="h4", unsafe_innerHTML=escape(words("lesson.numbers")))
            solara.HTML(tag="div", unsafe_innerHTML=numbers_table(classroom, words))


def student_panel(classroom: Classroom, k: int, student: int, words: Messages) -> str:
    """A selected client's states now and history in arm `k`, as HTML."""
    arm = classroom.arms[k]
    if student >= arm.n or not arm.states.client[student]:
        return ""
    agent = arm.student_agents[student]
    states = agent.state()
    states["social_interaction"] = float(arm.social_interaction[student])
    friends = list(arm.network.neighbors(student))
    in_group = sum(1 for other in friends if other in set(int(c) for c in arm.clients))
    table = "".join(
        f"<tr><td>{escape(words.state(name))}</td><td>{states[name]:.2f}</td></tr>"
        for name in STUDENT_STATES
    )
    weeks = [int(frame["week"][0]) for frame in arm.student_frames]
    history = {
        words.state(name): [float(frame[name][student]) for frame in arm.student_frames]
        for name in STUDENT_STATES
    }
    label = f"{agent.tag} \N{EN DASH} {words.faculty(agent.faculty_name)}"
    line = words(
        "page.student_line",
        label=label,
        arm=arm_title(classroom, k, words),
        week=arm.week,
        friends=len(friends),
        group=in_group,
    )
    chart = chart_svg(
        weeks,
        history,
        arm.calendar.last_week,
        marker_week=arm.week,
        program=(arm.calendar.last_baseline_week, arm.calendar.last_program_week),
        title=words("page.student_title", label=label),
        fluid=True,
        words=(words("drawing.week_axis"), words("drawing.program")),
        width=640,
        height=260,
        font=15,
    )
    return f'<p>{escape(line)}</p><table class="groupsim-student">{table}</table>{chart}'


@solara.component
def StudentView(classroom: Classroom, words: Messages, student: int, tick: int):
    """The selected client in every arm (nothing when they are not a client there)."""
    with solara.Div(classes=["groupsim-students"]):
        for k in range(len(classroom.arms)):
            html = student_panel(classroom, k, student, words)
            if html:
                solara.HTML(tag="div", unsafe_innerHTML=html)
