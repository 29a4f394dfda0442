"""The teaching page: the Classroom model, its sliders, and the page in a real browser."""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from browser import chromium, free_port, requires_browser
from conftest import HOME_ROOM, PYTHON, ROOT, small_scenario

pytest.importorskip("solara", reason="the UI extra is not installed: pip install 'groupsim[ui]'")

from mesa.visualization.solara_viz import _build_model_init_kwargs, _check_model_params

from groupsim.scenario import parameter_table
from groupsim.teach import app as page_module
from groupsim.teach.app import Classroom, model_params

SCREENSHOT = ROOT / "docs" / "img" / "ui.png"
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
    assert "warmth 0.30" in classroom.settings
    assert "seed 2" in classroom.settings


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
    assert params["sessions"]["min"] == rows["program.sessions"]["min"]
    assert params["clients"]["max"] == min(rows["group.clients"]["max"], base.students)
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


def test_serve_listens_on_the_loopback_address_by_default(monkeypatch, tmp_path):
    calls = []

    def fake_run(command, env, check):
        calls.append((command, env))
        return subprocess.CompletedProcess(command, 0)

    def fake_exec(path, command, env):
        calls.append((command, env))

    monkeypatch.setattr(page_module.subprocess, "run", fake_run)
    monkeypatch.setattr(page_module.os, "execve", fake_exec)
    page_module.serve(HOME_ROOM)
    command, env = calls[0]
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert env[page_module.SCENARIO_VARIABLE] == str(HOME_ROOM.resolve())
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


# The page in a browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ui_url():
    """`groupsim ui scenarios/home_room.toml` on a free port of 127.0.0.1."""
    port = free_port()
    server = subprocess.Popen(
        [GROUPSIM, "ui", str(HOME_ROOM), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the Solara child stops with it
    )
    try:
        first_line = server.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        assert url in first_line
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() < deadline, "the page did not come up within 120 s"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _caption(page, arm: int = 0) -> str:
    return page.locator(".groupsim-caption").nth(arm).inner_text()


def _legend_value(page, series: str = "social interaction", arm: int = 0) -> str:
    legend = page.locator(f'.groupsim-chart text[data-series="{series}"]').nth(arm)
    return legend.get_attribute("data-value")


def _choose(page, label: str, option: str) -> None:
    """Pick an option of a Vuetify select by its label."""
    select = page.locator(".v-select", has=page.get_by_text(label, exact=True))
    select.locator(".v-select__slot").click()
    page.get_by_role("option", name=option, exact=True).click()


@requires_browser
def test_page_steps_switches_technique_and_resets(ui_url, tmp_path, capsys):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        failed: list[str] = []
        requested: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("request", lambda request: requested.append(request.url))
        page.goto(ui_url, wait_until="domcontentloaded")
        page.wait_for_selector("svg.groupsim-network", timeout=90_000)

        # The network is drawn: both arms, nine labelled clients each.
        assert page.locator("h3").all_inner_texts() == ["home room", "no intervention"]
        network = page.locator("svg.groupsim-network").first
        assert network.locator("circle.client").count() == 9
        assert "Faculty of" in network.inner_html()
        assert _caption(page).startswith("Week 0 of")
        before = _legend_value(page)
        page.screenshot(path=str(tmp_path / "ui-week0.png"))

        step_seconds = []
        for week in (1, 2, 3):
            started = time.perf_counter()
            page.get_by_role("button", name="Step").click()
            # Both arms, captions and drawings, show the new week.
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
            step_seconds.append(time.perf_counter() - started)
        with capsys.disabled():  # shown in every run, not only with -s
            shown = ", ".join(f"{t:.2f}" for t in step_seconds)
            print(f"\n[groupsim ui] one Step of the default scenario, click to redrawn: {shown} s")
        assert network.get_attribute("data-week") == "3"
        assert _caption(page, 1).startswith("Week 3 of")  # the arms step together
        assert _legend_value(page) != before
        assert statistics.median(step_seconds) < 1.0

        _choose(
            page,
            "Student",
            page.locator("circle.client").first.evaluate(
                "c => c.querySelector('title').textContent.split(':')[0]"
            ),
        )
        page.wait_for_selector("table.groupsim-student")
        assert page.locator("table.groupsim-student").count() == 2
        shot = tmp_path / "ui-week3.png"
        page.screenshot(path=str(shot))
        if not SCREENSHOT.exists() or os.environ.get("GROUPSIM_UPDATE_SCREENSHOTS"):
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)

        # Play runs on by itself; pause stops it.
        page.get_by_role("button", name="▶").click()
        page.wait_for_function(
            "() => /^Week ([4-9]|1[0-9]) /"
            ".test(document.querySelector('.groupsim-caption')?.innerText)",
            timeout=15_000,
        )
        page.get_by_role("button", name="❚❚").click()

        _choose(page, "Technique", "standard group")
        page.get_by_role("button", name="Reset").click()
        page.wait_for_function(
            "() => document.querySelector('h3')?.innerText === 'standard group' && "
            "document.querySelector('.groupsim-caption')?.innerText.startsWith('Week 0 of')",
            timeout=15_000,
        )
        assert _caption(page).startswith("Week 0 of")
        assert page.locator("h3").all_inner_texts() == ["standard group", "no intervention"]
        page.screenshot(path=str(tmp_path / "ui-reset.png"))
        # Everything was served by the page's own server (its assets too), nothing from a CDN.
        assert failed == []
        local = (ui_url, ui_url.replace("http://", "ws://"), "data:", "blob:")
        assert [url for url in requested if not url.startswith(local)] == []
    assert all(
        Path(tmp_path / name).stat().st_size > 0 for name in ("ui-week0.png", "ui-reset.png")
    )


@requires_browser
def test_each_browser_session_has_its_own_model(ui_url):
    with chromium() as browser:
        first = browser.new_context().new_page()
        first.goto(ui_url, wait_until="domcontentloaded")
        first.wait_for_selector("svg.groupsim-network", timeout=90_000)
        first.get_by_role("button", name="Step").click()
        first.wait_for_function(
            "() => document.querySelector('.groupsim-caption')?.innerText.startsWith('Week 1 ')"
        )
        second = browser.new_context().new_page()
        second.goto(ui_url, wait_until="domcontentloaded")
        second.wait_for_selector("svg.groupsim-network", timeout=90_000)
        assert _caption(second).startswith("Week 0 of")
        assert _caption(first).startswith("Week 1 of")
