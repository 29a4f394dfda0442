"""The teaching page: the Classroom model, its sliders, and the page in a real browser."""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from browser import chromium, free_port, requires_browser
from conftest import HOME_ROOM, PYTHON, ROOT, small_scenario

pytest.importorskip("solara", reason="the UI extra is not installed: pip install 'groupsim[ui]'")

from mesa.visualization.solara_viz import _build_model_init_kwargs, _check_model_params

from groupsim.scenario import parameter_table
from groupsim.teach import app as page_module
from groupsim.teach.app import (
    Classroom,
    Controls,
    PageState,
    model_params,
    play_step,
    weekly_csv,
)
from groupsim.teach.classroom import HISTORY_BYTES, WeekHistory, recall
from groupsim.teach.lesson import PRESETS
from groupsim.teach.messages import messages
from groupsim.teach.panel import initial_settings, preset_settings

#: The screenshots in README.md and docs/teaching.md (rewritten when missing or when
#: GROUPSIM_UPDATE_SCREENSHOTS is set).
SCREENSHOTS = {
    "projector": ROOT / "docs" / "img" / "ui.png",
    "phone": ROOT / "docs" / "img" / "ui-phone.png",
    "indonesian": ROOT / "docs" / "img" / "ui-id.png",
}
#: The console script (commands registered by other modules are missing under `python -m`).
GROUPSIM = str(Path(PYTHON).parent / "groupsim")


@pytest.fixture(scope="module")
def base():
    return small_scenario()


def test_arms_share_the_population_and_step_together(base):
    classroom = Classroom(base=base, seed=4)
    home, none = classroom.arms
    assert (home.counselor.technique, none.counselor.technique) == ("home_room", "none")
    assert list(home.clients) == list(none.clients)
    np.testing.assert_array_equal(home.states.sociability, none.states.sociability)
    classroom.step()
    classroom.step()
    assert home.week == none.week == classroom.week == 2
    while classroom.running:
        classroom.step()
    assert classroom.week == home.calendar.last_week
    assert not home.running
    assert not none.running


def test_controls_reach_both_arms(base):
    classroom = Classroom(
        base=base, technique="standard group", warmth=0.3, sessions=4, clients=5, seed=2
    )
    for arm in classroom.arms:
        assert arm.config.counselor.warmth == 0.3
        assert arm.config.program.sessions == 4
        assert len(arm.clients) == 5
    assert [a.counselor.technique for a in classroom.arms] == ["standard", "none"]
    assert classroom.settings["warmth"] == 0.3
    assert classroom.settings["seed"] == 2


def test_no_intervention_is_compared_with_home_room_and_one_arm_alone(base):
    assert [
        a.counselor.technique for a in Classroom(base=base, technique="no intervention").arms
    ] == [
        "none",
        "home_room",
    ]
    assert len(Classroom(base=base, side_by_side=False).arms) == 1


def test_an_impossible_combination_is_reported_not_raised(base):
    classroom = Classroom(base=base, clients=base.students + 1)
    assert "group.clients" in classroom.problem
    assert len(classroom.arms[0].clients) == base.group.clients


def test_sliders_are_bounded_by_the_schema_and_the_cohort(base):
    rows = {row["path"]: row for row in parameter_table()}
    params = model_params(base)
    assert params["warmth"]["min"] == rows["counselor.warmth"]["min"]
    assert params["warmth"]["max"] == rows["counselor.warmth"]["max"]
    # Teaching ranges: a group of 3 to 15 (readable), 1 to 16 sessions.
    assert params["sessions"]["min"] == max(rows["program.sessions"]["min"], 1)
    assert params["sessions"]["max"] <= 16
    assert params["clients"]["min"] == 3
    assert params["clients"]["max"] == min(rows["group.clients"]["max"], base.students, 15)
    assert params["warmth"]["value"] == base.counselor.warmth
    assert params["technique"]["value"] == "home room"
    assert set(params["technique"]["values"]) == {"home room", "standard group", "no intervention"}
    # A program of fixed length bounds the sessions it can hold.
    fixed = small_scenario(program__weeks=3, program__sessions=2)
    assert model_params(fixed)["sessions"]["max"] == 3 * fixed.program.sessions_per_week


def test_mesa_controller_can_rebuild_the_classroom(base):
    """What SolaraViz's ModelCreator and Reset do with the parameters."""
    params = model_params(base)
    _check_model_params(Classroom.__init__, params)  # raises on a parameter Mesa cannot pass
    first = Classroom(base=base)
    values = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    values["technique"] = "standard group"
    kwargs = _build_model_init_kwargs(
        first, values, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )
    rebuilt = Classroom(**kwargs)
    assert rebuilt.arms[0].counselor.technique == "standard"


def _state(base) -> PageState:
    import solara

    return PageState(
        base=base,
        language=solara.reactive("en"),
        settings=solara.reactive(initial_settings(base)),
        classroom=solara.reactive(Classroom(base=base)),
        history=WeekHistory(),
        tick=solara.reactive(0),
        playing=solara.reactive(False),
        speed=solara.reactive(0.0),
        reason=solara.reactive(None),
        selected=solara.reactive(None),
        colour_by=solara.reactive("social_interaction"),
        context=solara.reactive(True),
        menu=solara.reactive(False),
    )


#: In a fresh process: which compiled kernels a classroom's weeks load, after `kernels_ready`
#: or not (numba loads a cached kernel at its first call: tens of ms in the week it happens).
LOADED_BY_A_CLASSROOM = """
import sys
import numba
from groupsim.teach import app

def loaded():
    return {
        (name, key)
        for name, module in list(sys.modules.items()) if name.startswith("groupsim.model")
        for key, value in vars(module).items()
        if isinstance(value, numba.core.registry.CPUDispatcher) and value.signatures
    }

if sys.argv[1] == "ready":
    app.kernels_ready()
before = loaded()
room = app.Classroom(base=app._base_scenario())
while room.running:
    room.step()
print(len(before), sorted(loaded() - before))
"""


@pytest.mark.parametrize("ready", [True, False])
def test_a_page_s_weeks_load_no_kernel_after_the_warm_up(ready):
    done = subprocess.run(
        [PYTHON, "-c", LOADED_BY_A_CLASSROOM, "ready" if ready else "cold"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, page_module.SCENARIO_VARIABLE: str(HOME_ROOM)},
    )
    assert done.returncode == 0, done.stderr
    count, added = done.stdout.split(" ", 1)
    if ready:  # every kernel a classroom's weeks call was loaded before the first page
        assert int(count) >= 10, done.stdout
        assert added.strip() == "[]", done.stdout
    else:  # the control: without the warm-up, the weeks load them as they go
        assert int(count) == 0, done.stdout
        assert "'run_weeks'" in added, done.stdout


def test_play_pauses_at_each_stage_and_stops_at_the_end_of_the_program(base):
    state = _state(base)
    arm = state.classroom.value.arms[0]
    stops = []
    while state.classroom.value.running:
        state.playing.set(True)
        state.play()  # returns when it pauses itself
        assert not state.playing.value
        stops.append((state.classroom.value.week, state.reason.value))
    weeks = [week for week, _ in stops]
    cal = arm.calendar
    first_of_stage = {}
    for week in range(1, cal.last_week + 1):
        for session in cal.sessions_in(week):
            first_of_stage.setdefault(session.stage, week)
    # a pause in the week each stage begins (forming included), at the post-test, at the end
    assert set(first_of_stage.values()) <= set(weeks)
    assert cal.last_program_week in weeks
    assert weeks[-1] == cal.last_week
    assert stops[-1][1] == ("page.paused_last", "")
    assert ("page.paused_stage", "forming") in [reason for _, reason in stops]
    # Play does nothing more once the program and follow-up are over.
    state.playing.set(True)
    state.play()
    assert state.classroom.value.week == cal.last_week


def test_back_returns_to_the_week_before_and_runs_on_as_it_did(base):
    """Back twice from week 4 is week 2; stepping on gives the very weeks 3 and 4 again."""
    state = _state(base)
    assert not state.history
    state.back()  # nothing to go back to: nothing happens
    assert state.classroom.value.week == 0
    for _ in range(4):
        state.step()
    first = [arm.datacollector.get_model_vars_dataframe() for arm in state.classroom.value.arms]
    client = int(state.classroom.value.arms[0].clients[0])
    state.selected.set(client)
    state.playing.set(True)
    state.back()
    assert not state.playing.value
    state.back()
    room = state.classroom.value
    assert room.week == 2
    assert len(state.history) == 2
    assert state.selected.value == client  # the same students: the selection stays
    for arm in room.arms:
        assert len(arm.datacollector.get_model_vars_dataframe()) == 3  # weeks 0-2
    state.step()
    state.step()
    again = [arm.datacollector.get_model_vars_dataframe() for arm in state.classroom.value.arms]
    for before, after in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(after, before, check_exact=True)
    state.reset()
    assert not state.history


def test_keys_do_what_their_buttons_do_when_the_buttons_are_enabled(base):
    state = _state(base)
    assert state.enabled == Controls(back=False, step=True, play=True)
    state.key("back")  # nothing to go back to
    assert state.classroom.value.week == 0
    state.key("step")
    state.key("step")
    state.key("back")
    assert state.classroom.value.week == 1
    state.key("play")
    assert state.playing.value
    assert state.enabled == Controls(back=False, step=False, play=True)
    state.key("step")  # Step and Back are off while playing
    state.key("back")
    assert state.classroom.value.week == 1
    state.key("play")
    assert not state.playing.value
    while state.classroom.value.running:
        state.key("step")
    last = state.classroom.value.week
    state.key("step")
    state.key("play")  # nothing left to play
    assert not state.playing.value
    assert state.classroom.value.week == last
    assert state.enabled == Controls(back=True, step=False, play=False)


def test_the_buttons_follow_the_keys_rule(monkeypatch):
    import ipyvuetify
    import solara

    monkeypatch.setenv(page_module.SCENARIO_VARIABLE, str(HOME_ROOM))
    _, rendered = solara.render(page_module.Page(), handle_error=False)

    def disabled() -> dict[str, bool]:
        buttons = rendered.find(ipyvuetify.Btn).widgets
        named = {b.attributes.get("title", "") or str(b.children[-1]): b for b in buttons}
        return {name: named[name].disabled for name in ("Back a week", "Step", "Play")}

    assert disabled() == {"Back a week": True, "Step": False, "Play": False}
    next(b for b in rendered.find(ipyvuetify.Btn).widgets if b.children == ["Step"]).click()
    assert disabled() == {"Back a week": False, "Step": False, "Play": False}


def test_the_page_keeps_earlier_weeks_up_to_its_budget_newest_first(base):
    room = Classroom(base=base)
    history = WeekHistory()
    for _ in range(3):
        history.keep(room)
        room.step()
    assert [recall(snapshot).week for snapshot in history.snapshots] == [0, 1, 2]
    small = WeekHistory(budget=len(history.snapshots[-1]) + len(pickle.dumps(room)))
    small.snapshots = history.snapshots
    small.keep(room)
    assert [recall(snapshot).week for snapshot in small.snapshots] == [2, 3]
    newest = WeekHistory(budget=1)
    newest.keep(room)
    assert [recall(s).week for s in newest.snapshots] == [3]  # the newest stays
    with pytest.raises(TypeError, match="not a Classroom"):
        recall(pickle.dumps([1, 2]))


def test_every_week_of_the_default_classroom_fits_the_back_buttons_budget():
    room = Classroom()
    history = WeekHistory()
    while room.running:
        history.keep(room)
        room.step()
    assert [recall(snapshot).week for snapshot in history.snapshots] == list(range(room.last_week))
    assert sum(map(len, history.snapshots)) < HISTORY_BYTES / 4  # room for larger cohorts


def test_reset_clears_a_selected_student_and_applies_the_settings(base):
    state = _state(base)
    state.step()
    client = int(state.classroom.value.arms[0].clients[0])
    state.selected.set(client)
    state.settings.set({**state.settings.value, "clients": 3, "second": "standard"})
    state.reset()
    assert state.selected.value is None
    assert state.classroom.value.week == 0
    assert len(state.classroom.value.arms[0].clients) == 3
    assert [a.counselor.technique for a in state.classroom.value.arms] == ["home_room", "standard"]


def test_the_lesson_questions_are_one_click_presets(base):
    by_key = {preset.key: preset for preset in PRESETS}
    q2 = preset_settings(base, by_key["q2"])
    assert (q2["technique"], q2["second"]) == ("home_room", "standard")
    q3 = Classroom(base=base, **preset_settings(base, by_key["q3"]))
    cold, warm = q3.arms
    assert (cold.config.counselor.warmth, cold.config.program.sessions) == (0.3, 12)
    assert (warm.config.counselor.warmth, warm.config.program.sessions) == (0.85, 4)
    assert list(cold.clients) == list(warm.clients)  # the same students


def test_any_built_in_scenario_can_be_the_second_arm(base):
    classroom = Classroom(base=base, second="standard_group")
    assert classroom.arms[1].config.name == "standard_group"
    assert classroom.arm_keys == ["home_room", "standard_group"]
    assert len(Classroom(base=base, second="").arms) == 1


def test_weekly_table_export_has_both_arms(base):
    classroom = Classroom(base=base)
    play_step(classroom)
    text = weekly_csv(classroom, messages("id"))
    header, *rows = text.strip().splitlines()
    assert "arm" in header.split(",")
    assert len(rows) == 4  # weeks 0 and 1 of two arms
    assert any(row.endswith("tanpa intervensi") for row in rows)


def test_serve_listens_on_the_loopback_address_by_default(monkeypatch, tmp_path):
    calls = []

    def fake_run(command, env, check):
        calls.append((command, env))
        return subprocess.CompletedProcess(command, 0)

    def fake_exec(path, command, env):
        calls.append((command, env))

    monkeypatch.setattr(page_module.subprocess, "run", fake_run)
    monkeypatch.setattr(page_module.os, "execve", fake_exec)
    page_module.serve(HOME_ROOM, lang="id")
    command, env = calls[0]
    assert env[page_module.LANG_VARIABLE] == "id"
    assert env["SOLARA_THEME_SHOW_BANNER"] == "False"
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert env[page_module.SCENARIO_VARIABLE] == str(HOME_ROOM.resolve())
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


# The page in a browser -----------------------------------------------------------------------


def _start_ui(*options: str):
    port = free_port()
    server = subprocess.Popen(
        [GROUPSIM, "ui", str(HOME_ROOM), "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the Solara child stops with it
    )
    first_line = server.stdout.readline()
    url = f"http://127.0.0.1:{port}/"
    assert url in first_line
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return server, url
        except OSError:
            pass
        assert server.poll() is None, server.stdout.read()
        assert time.monotonic() < deadline, "the page did not come up within 120 s"
        time.sleep(0.5)


def _stop_ui(server) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def ui_url():
    """`groupsim ui scenarios/home_room.toml` on a free port of 127.0.0.1."""
    server, url = _start_ui()
    try:
        yield url
    finally:
        _stop_ui(server)


def _caption(page, arm: int = 0) -> str:
    return page.locator(".groupsim-caption").nth(arm).inner_text()


def _keep(shot: Path, name: str) -> None:
    """Copy a screenshot into docs/img when it is missing or updates are asked for."""
    target = SCREENSHOTS[name]
    if not target.exists() or os.environ.get("GROUPSIM_UPDATE_SCREENSHOTS"):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


def _inside(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


#: The smallest text, in CSS pixels, of every drawing and chart as shown.
SMALLEST_TEXT = """() => Math.min(...[...document.querySelectorAll(
    'svg.groupsim-network, svg.groupsim-chart')].flatMap(svg => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll('text')].map(
        t => parseFloat(t.getAttribute('font-size')) * scale);
}))"""


def _wait_week(page, week: int) -> None:
    page.wait_for_function(
        """week => {
            const captions = [...document.querySelectorAll('.groupsim-caption')];
            const drawn = [...document.querySelectorAll('svg.groupsim-network')];
            return captions.length === 2 && drawn.length === 2
                && captions.every(c => c.innerText.startsWith('Week ' + week + ' of'))
                && drawn.every(d => d.dataset.week === String(week));
        }""",
        arg=week,
        timeout=15_000,
    )


@requires_browser
@pytest.mark.timed
def test_projector_page_fits_steps_selects_plays_and_exports(ui_url, tmp_path, capsys):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720}, accept_downloads=True)
        failed: list[str] = []
        requested: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("request", lambda request: requested.append(request.url))
        page.goto(ui_url, wait_until="domcontentloaded")
        page.wait_for_selector("svg.groupsim-network", timeout=90_000)

        # At 1280x720 both arms, the overlay chart and the controls are on screen.
        assert page.locator(".groupsim-arm h3").all_inner_texts() == [
            "home room",
            "no intervention",
        ]
        for drawn in page.locator("svg.groupsim-network").all():
            assert _inside(page, drawn)
        assert _inside(page, page.locator(".groupsim-overlay svg.groupsim-chart"))
        for name in ("Reset", "Back a week", "Step", "Play"):
            assert _inside(page, page.get_by_role("button", name=name, exact=True))
        assert page.evaluate(SMALLEST_TEXT) >= 14
        assert page.get_by_text("This website runs on").count() == 0  # no footer over content
        network = page.locator("svg.groupsim-network").first
        assert network.locator("circle.client").count() == 9

        step_seconds = []
        for week in (1, 2, 3, 4):
            started = time.perf_counter()
            page.get_by_role("button", name="Step", exact=True).click()
            _wait_week(page, week)
            step_seconds.append(time.perf_counter() - started)
        with capsys.disabled():  # shown in every run, not only with -s
            shown = ", ".join(f"{t:.2f}" for t in step_seconds)
            print(f"\n[groupsim ui] step-to-redraw of the default scenario: {shown} s")
        assert statistics.median(step_seconds) < 0.3
        # Back: a week back and the same week again.
        shown = _caption(page)
        page.get_by_role("button", name="Back a week", exact=True).click()
        _wait_week(page, 3)
        page.get_by_role("button", name="Step", exact=True).click()
        _wait_week(page, 4)
        assert _caption(page) == shown
        # A presenter's clicker (Page Down / Page Up) and the arrow keys, with the Step
        # button just clicked still holding the focus.
        page.keyboard.press("PageDown")
        _wait_week(page, 5)
        page.keyboard.press("ArrowLeft")
        _wait_week(page, 4)
        assert _caption(page) == shown
        assert "session 3 (transition), session 4 (working)" in _caption(page)
        assert "climate" not in _caption(page, 1)  # no group meets without an intervention
        assert "opened up" in page.locator(".groupsim-numbers").inner_text()

        # Clicking a client's disc selects the student in both arms.
        disc = page.locator("svg.groupsim-network").first.locator("circle.client").first
        student = disc.get_attribute("data-student")
        disc.click()
        page.wait_for_selector("table.groupsim-student")
        assert page.locator("table.groupsim-student").count() == 2
        for drawn in page.locator("svg.groupsim-network").all():
            ring = drawn.locator(f'circle.client[data-student="{student}"]')
            assert ring.get_attribute("stroke") == "#d32f2f"
        shot = tmp_path / "ui.png"
        page.screenshot(path=str(shot))
        _keep(shot, "projector")

        # Export: the weekly table as CSV, the drawings and chart as PNG and SVG.
        with page.expect_download() as download:
            page.get_by_text("Weekly table (CSV)").click()
        assert (
            Path(download.value.path()).read_text(encoding="utf-8").splitlines()[0].endswith("arm")
        )
        with page.expect_download() as download:
            page.locator(".groupsim-export-png").click()
        assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with page.expect_download() as download:
            page.locator(".groupsim-export-svg").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8")
        assert exported.startswith("<svg")
        assert exported.count('class="client"') == 18
        assert download.value.suggested_filename.endswith(".svg")

        # Reset clears the selection; Play runs on and pauses by itself at the next stage.
        page.get_by_role("button", name="Reset", exact=True).click()
        _wait_week(page, 0)
        page.wait_for_selector("table.groupsim-student", state="detached", timeout=5_000)
        page.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_function(
            "() => document.querySelector('.groupsim-status')?.innerText.startsWith('Paused')",
            timeout=30_000,
        )
        page.get_by_role("button", name="Play", exact=True).wait_for(timeout=5_000)
        assert "forming" in page.locator(".groupsim-status").inner_text()
        # The space bar plays on (with the focus off the buttons, whose own key it is).
        page.locator(".groupsim-week").click()
        page.keyboard.press("Space")
        page.wait_for_function(
            "() => document.querySelector('.groupsim-status')?.innerText.includes('working')",
            timeout=30_000,
        )

        # Everything was served by the page's own server (its assets too), nothing from a CDN.
        assert failed == []
        local = (ui_url, ui_url.replace("http://", "ws://"), "data:", "blob:")
        assert [url for url in requested if not url.startswith(local)] == []


@requires_browser
def test_phone_menu_opens_and_closes(ui_url, tmp_path):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(ui_url, wait_until="domcontentloaded")
        page.wait_for_selector("svg.groupsim-network", timeout=90_000)
        panel = page.locator(".groupsim-panel")
        assert not panel.is_visible()
        assert _inside(page, page.get_by_role("button", name="Step", exact=True))
        shot = tmp_path / "ui-phone.png"
        page.screenshot(path=str(shot))
        _keep(shot, "phone")
        page.locator(".groupsim-menu-button").click()
        page.wait_for_selector(".groupsim-panel.open", state="visible")
        assert _inside(page, page.locator(".groupsim-close"))
        page.screenshot(path=str(tmp_path / "ui-phone-menu.png"))
        page.locator(".groupsim-close").click()
        page.wait_for_selector(".groupsim-panel", state="hidden")
        # a question chosen from the menu closes it and sets the page up
        page.locator(".groupsim-menu-button").click()
        page.get_by_role("button", name="2. Why does a home room").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.groupsim-arm h3')].map(h => h.innerText)"
            ".join('|') === 'home room|standard group'",
            timeout=15_000,
        )
        panel.wait_for(state="hidden", timeout=5_000)


@requires_browser
def test_the_page_in_bahasa_indonesia(tmp_path):
    server, url = _start_ui("--lang", "id")
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector("svg.groupsim-network", timeout=90_000)
            assert page.locator(".groupsim-arm h3").all_inner_texts() == [
                "home room",
                "tanpa intervensi",
            ]
            for _ in range(3):
                page.get_by_role("button", name="Langkah", exact=True).click()
            page.wait_for_function(
                "() => document.querySelector('.groupsim-caption')?.innerText"
                ".startsWith('Minggu 3 dari')",
                timeout=15_000,
            )
            text = page.locator(".groupsim-page").inner_text()
            for term in ("interaksi sosial", "sudah terbuka", "Pertanyaan", "Fakultas Hukum"):
                assert term in text, term
            assert "suasana" in _caption(page)
            shot = tmp_path / "ui-id.png"
            page.screenshot(path=str(shot))
            _keep(shot, "indonesian")
    finally:
        _stop_ui(server)


@requires_browser
def test_each_browser_session_has_its_own_model(ui_url):
    with chromium() as browser:
        first = browser.new_context().new_page()
        first.goto(ui_url, wait_until="domcontentloaded")
        first.wait_for_selector("svg.groupsim-network", timeout=90_000)
        first.get_by_role("button", name="Step", exact=True).click()
        first.wait_for_function(
            "() => document.querySelector('.groupsim-caption')?.innerText.startsWith('Week 1 ')"
        )
        second = browser.new_context().new_page()
        second.goto(ui_url, wait_until="domcontentloaded")
        second.wait_for_selector("svg.groupsim-network", timeout=90_000)
        assert _caption(second).startswith("Week 0 of")
        assert _caption(first).startswith("Week 1 of")
