"""The teaching page: both arms, the controls and the lesson on one projector screen (Solara).

Run it with `groupsim ui [SCENARIO.toml] [--lang id]`. A bar at the top holds Reset, Back
(a week back: the page keeps the earlier weeks, `classroom.WeekHistory`), Step, Play/Pause and
the speed (a presenter's clicker or the arrow keys step and go back, the space bar plays);
below it the lesson panel (the questions as one-click presets, the parameters with their
values shown, the second arm, the view, the faculties, export) and the two arms' drawings
(the same students under two arms, stepping together), one chart that overlays both arms'
social interaction, and the lesson's numbers. At 1280x720 all of it but the panel's lower
cards fits without scrolling; under 900 pixels the panel becomes a menu.

Every browser session gets its own :class:`~groupsim.teach.classroom.Classroom` (built in
the `Page` component, never at import). Play runs in a thread, a week every `speed` seconds,
and pauses when a counseling stage begins, when the program ends and at the last week
(:func:`groupsim.teach.lesson.pause_reason`). Words come from the message catalogue
(:mod:`groupsim.teach.messages`) in the language given by `--lang`.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import solara

from groupsim.scenario import Scenario, load_scenario, scenario_from_dict
from groupsim.teach import panel as panel_module
from groupsim.teach.classroom import TECHNIQUES, Classroom, WeekHistory, model_params
from groupsim.teach.lesson import pause_reason, stage_so_far
from groupsim.teach.messages import LANGUAGES, Messages, messages
from groupsim.teach.views import ArmsView, BottomView, StudentView
from groupsim.teach.widgets import PAGE_CSS, KeyboardKeys

__all__ = [
    "LANG_VARIABLE",
    "SCENARIO_VARIABLE",
    "TECHNIQUES",
    "Classroom",
    "Controls",
    "Page",
    "PageState",
    "kernels_ready",
    "model_params",
    "play_step",
    "serve",
    "weekly_csv",
]

#: Environment variable through which `groupsim ui` hands its scenario file to the page.
SCENARIO_VARIABLE = "GROUPSIM_UI_SCENARIO"
#: Environment variable through which `groupsim ui --lang` chooses the page's language.
LANG_VARIABLE = "GROUPSIM_UI_LANG"

#: Seconds between two weeks while playing: the default and the range of the speed slider.
SPEED = (0.6, 0.2, 3.0)


def _base_scenario() -> Scenario:
    path = os.environ.get(SCENARIO_VARIABLE)
    return load_scenario(path) if path else scenario_from_dict({}, "defaults")


@functools.cache
def kernels_ready() -> None:
    """Run one classroom through every week, once per server process, before the first page.

    numba loads a compiled kernel from its disk cache at the kernel's first call, and a
    stage's kernels are first called in the week the stage begins: without this the class's
    first Step, and the first week of the next stage, each took 50-100 ms longer to redraw
    (week 1 and week 3 of the default scenario). The first page of a server appears later
    instead, before anyone is watching: about a second for the default scenario, longer for
    a larger cohort (the whole scenario runs once). On an empty cache (a new install) the
    classroom's first model has the model compiled in a child process first
    (`groupsim.model.warm_up.before_first_model`): a server that compiled it would usually
    redraw slower all day (1.05-1.24x).
    """
    room = Classroom(base=_base_scenario())
    while room.running:
        room.step()


def _language() -> str:
    language = os.environ.get(LANG_VARIABLE, "en")
    return language if language in LANGUAGES else "en"


def weekly_csv(classroom: Classroom, words: Messages) -> str:
    """The arms' weekly tables, one under the other with an `arm` column, as CSV."""
    frames = []
    for key, arm in zip(classroom.arm_keys, classroom.arms, strict=True):
        frame = arm.datacollector.get_model_vars_dataframe()
        frames.append(frame.assign(arm=words.arm(key)))
    return pd.concat(frames, ignore_index=True).to_csv(index=False)


def play_step(classroom: Classroom) -> tuple[str, str] | None:
    """One week in every arm; why Play should stop now (message key, stage), or None."""
    before = [stage_so_far(arm) for arm in classroom.arms]
    moving = [arm.running for arm in classroom.arms]
    classroom.step()
    reasons = [
        pause_reason(arm, stage)
        for arm, stage, moved in zip(classroom.arms, before, moving, strict=True)
        if moved
    ]
    found = [r for r in reasons if r is not None and r[0] != "page.paused_last"]
    if found:
        return found[0]
    return ("page.paused_last", "") if not classroom.running else None


def _status_text(reason: tuple[str, str] | None, words: Messages) -> str:
    if reason is None:
        return ""
    key, stage = reason
    return words(key, stage=words.stage(stage)) if stage else words(key)


class Controls(NamedTuple):
    """Which of Back, Step and Play can be used now: the buttons' state and the keys' rule."""

    back: bool
    step: bool
    play: bool


@solara.component
def Header(
    words: Messages,
    classroom: Classroom,
    playing: solara.Reactive[bool],
    speed: solara.Reactive[float],
    status: str,
    enabled: Controls,
    on_reset: Callable[[], None],
    on_back: Callable[[], None],
    on_step: Callable[[], None],
    menu: solara.Reactive[bool],
):
    """The top bar: title, Reset / Back / Step / Play, speed, the week, the menu."""
    with solara.Div(classes=["groupsim-header"]):
        solara.Button(
            words("page.menu"),
            icon_name="mdi-menu",
            on_click=lambda: menu.set(not menu.value),
            classes=["groupsim-menu-button"],
            text=True,
            dark=True,
        )
        solara.HTML(
            tag="div", unsafe_innerHTML=words("page.short_title"), classes=["groupsim-brand"]
        )
        solara.Button(words("page.reset"), on_click=on_reset, color="primary")
        # An icon, named for screen readers and as a tooltip: the bar stays one line on a
        # projector in both languages.
        solara.Button(
            icon_name="mdi-step-backward",
            on_click=on_back,
            disabled=not enabled.back,
            attributes={"aria-label": words("page.back"), "title": words("page.back")},
        )
        solara.Button(words("page.step"), on_click=on_step, disabled=not enabled.step)
        solara.Button(
            words("page.pause") if playing.value else words("page.play"),
            icon_name="mdi-pause" if playing.value else "mdi-play",
            on_click=lambda: playing.set(not playing.value),
            disabled=not enabled.play,
            color="primary",
        )
        with solara.Div(classes=["groupsim-speed"]):
            solara.SliderFloat(
                f"{words('page.speed')}: {words('page.speed_value', seconds=speed.value)}",
                value=speed,
                min=SPEED[1],
                max=SPEED[2],
                step=0.1,
                thumb_label=False,
            )
        solara.Text(
            words("page.week_of", week=classroom.week, last=classroom.last_week),
            classes=["groupsim-week"],
        )
        if status:
            solara.Text(status, classes=["groupsim-status"])


@dataclass
class PageState:
    """A browser session's state: its classroom and what the controls set."""

    base: Scenario
    language: solara.Reactive[str]
    settings: solara.Reactive[dict[str, Any]]
    classroom: solara.Reactive[Classroom]
    #: The classroom before each week stepped, for Back.
    history: WeekHistory
    tick: solara.Reactive[int]
    playing: solara.Reactive[bool]
    speed: solara.Reactive[float]
    reason: solara.Reactive[tuple[str, str] | None]
    selected: solara.Reactive[int | None]
    colour_by: solara.Reactive[str]
    context: solara.Reactive[bool]
    menu: solara.Reactive[bool]

    def step(self) -> None:
        """One week (the Step button)."""
        self.reason.set(self._next_week())
        self.tick.set(self.tick.value + 1)

    def _next_week(self) -> tuple[str, str] | None:
        """Keep this week for Back, then step (`play_step`: why Play should stop, if it should)."""
        self.history.keep(self.classroom.value)
        return play_step(self.classroom.value)

    def back(self) -> None:
        """Back to the week before (the Back button): the classroom as it was then.

        It runs on from there exactly as it did (the same students, the same random
        numbers); the selected student stays selected.
        """
        earlier = self.history.back()
        if earlier is None:
            return
        self.playing.set(False)
        self.classroom.set(earlier)
        self.reason.set(None)
        self.tick.set(self.tick.value + 1)

    @property
    def enabled(self) -> Controls:
        """The controls usable now (one rule for the buttons and the keys).

        Back needs an earlier week, Step a week to go, both with Play stopped; Play needs a
        week to go, and Pause is always there while Play runs.
        """
        playing, running = self.playing.value, self.classroom.value.running
        return Controls(
            back=not playing and len(self.history) > 0,
            step=not playing and running,
            play=playing or running,
        )

    def key(self, action: str) -> None:
        """A key pressed (`widgets.KeyboardKeys`): what its button does, when it is enabled.

        "step" (right arrow, Page Down), "back" (left arrow, Page Up), "play" (space bar:
        Play or Pause).
        """
        enabled = self.enabled
        if action == "step" and enabled.step:
            self.step()
        elif action == "back" and enabled.back:
            self.back()
        elif action == "play" and enabled.play:
            self.playing.set(not self.playing.value)

    def reset(self, values: dict[str, Any] | None = None) -> None:
        """A new classroom from the settings (or a preset's); the selection is cleared."""
        self.playing.set(False)
        chosen = dict(values if values is not None else self.settings.value)
        self.settings.set(chosen)
        self.classroom.set(Classroom(base=self.base, **chosen))
        self.history.clear()
        self.selected.set(None)  # the old selection may not be a client of the new group
        self.reason.set(None)
        self.tick.set(self.tick.value + 1)

    def play(self) -> None:
        """Step every `speed` seconds until paused, a stage begins or the program ends."""
        while self.playing.value and self.classroom.value.running:
            time.sleep(self.speed.value)
            if not self.playing.value:
                return
            why = self._next_week()
            self.reason.set(why)
            self.tick.set(self.tick.value + 1)
            if why is not None:
                self.playing.set(False)


def use_page_state() -> PageState:
    """The session's state (Solara hooks: call once, at the top of `Page`)."""
    kernels_ready()
    base = solara.use_memo(_base_scenario, [])
    # One Classroom per browser session: built here, inside the component, never at import.
    first = solara.use_memo(lambda: Classroom(base=base), [])
    # Memoised: use_reactive would reset the settings whenever its argument changed.
    settings = solara.use_memo(lambda: panel_module.initial_settings(base), [])
    return PageState(
        base=base,
        language=solara.use_reactive(_language()),
        settings=solara.use_reactive(settings),
        classroom=solara.use_reactive(first),
        history=solara.use_memo(WeekHistory, []),
        tick=solara.use_reactive(0),
        playing=solara.use_reactive(False),
        speed=solara.use_reactive(SPEED[0]),
        reason=solara.use_reactive(None),
        selected=solara.use_reactive(None),
        colour_by=solara.use_reactive("social_interaction"),
        context=solara.use_reactive(True),
        menu=solara.use_reactive(False),
    )


@solara.component
def Page():
    """The page: the top bar, the lesson panel and the classroom."""
    state = use_page_state()
    solara.lab.use_task(state.play, dependencies=[state.playing.value], prefer_threaded=True)
    words = messages(state.language.value)
    room = state.classroom.value
    solara.Title(words("page.title"))
    solara.Style(PAGE_CSS)
    with solara.Div(classes=["groupsim-page"], attributes={"lang": state.language.value}):
        KeyboardKeys(event_key=state.key)
        Header(
            words,
            room,
            state.playing,
            state.speed,
            _status_text(state.reason.value, words),
            state.enabled,
            lambda: state.reset(),
            state.back,
            state.step,
            state.menu,
        )
        with solara.Div(classes=["groupsim-body"]):
            panel_module.LessonPanel(
                words,
                state,
                csv=lambda: weekly_csv(state.classroom.value, words),
            )
            with solara.Div(classes=["groupsim-main"]):
                tick = state.tick.value
                ArmsView(
                    room, words, state.colour_by.value, state.context.value, state.selected, tick
                )
                BottomView(room, words, tick)
                if state.selected.value is not None:
                    StudentView(room, words, state.selected.value, tick)


@solara.component
def Layout(children: list | None = None):
    """No app bar, sidebar or footer around the page: it lays itself out for the projector."""
    return solara.Div(children=children or [], classes=["groupsim-layout"])


def serve(
    scenario: Path | None, host: str = "127.0.0.1", port: int = 8765, lang: str = "en"
) -> int:
    """Run the page with Solara's server until interrupted.

    On POSIX systems this process becomes the server (it does not return); elsewhere the
    server runs as a child and its exit status is returned.

    The scenario file (validated by the caller) and the language reach the page through
    environment variables; Solara's telemetry is switched off, and its front end is served
    from the locally installed `solara-assets` rather than a CDN.
    """
    env = dict(os.environ)
    if scenario is not None:
        env[SCENARIO_VARIABLE] = str(Path(scenario).resolve())
    else:
        env.pop(SCENARIO_VARIABLE, None)
    env[LANG_VARIABLE] = lang
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    # No "runs on Solara" banner over the chart's corner.
    env["SOLARA_THEME_SHOW_BANNER"] = "False"
    # Solara's asset proxy is what serves the front end from the installed solara-assets
    # (/_solara/cdn/...); switched off, the browser would fetch it from a public CDN.
    env.pop("SOLARA_ASSETS_PROXY", None)
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "groupsim.teach.app",
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
