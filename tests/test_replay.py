"""The self-contained replay page: all inline, a stable layout, a slider that works offline."""

from __future__ import annotations

import json
import re

import pytest

from browser import chromium, requires_browser
from conftest import small_scenario
from groupsim import run
from groupsim.teach.replay import replay_html, write_replay


@pytest.fixture(scope="module")
def pair():
    """The same small cohort (same seed) under home room and under no intervention."""
    return [run(small_scenario(name), seed=5) for name in ("home_room", "no_intervention")]


def _data(html: str) -> dict:
    payload = re.search(r'<script id="replay-data" type="application/json">(.*?)</script>', html)
    assert payload is not None
    return json.loads(payload.group(1))


def test_page_is_self_contained(pair):
    html = replay_html(pair)
    # The only URL is the SVG namespace (a name, never fetched).
    assert set(re.findall(r"https?://[^\s\\\"'<>)]+", html)) == {"http://www.w3.org/2000/svg"}
    for fetching in ("<script src", "<link", "@import", "<img", "<iframe", "url(http"):
        assert fetching not in html
    assert html.count("<script") == 2  # the data and the player, both inline


def test_one_frame_per_week_and_two_panels(pair):
    data = _data(replay_html(pair))
    weeks = list(pair[0].weekly["week"])
    assert data["weeks"] == weeks
    assert len(data["panels"]) == 2
    for panel, result in zip(data["panels"], pair, strict=True):
        assert len(panel["networks"]) == len(panel["charts"]) == len(weeks)
        assert panel["captions"][0].startswith(f"Week 0 of {weeks[-1]}")
        pre = f"{result.questionnaire['pre'].mean():.1f}"
        assert f"<td>questionnaire: pre</td><td>{pre}</td>" in panel["numbers"][-1]
    assert "home room" in data["panels"][0]["title"]
    assert "no intervention" in data["panels"][1]["title"]


def test_same_students_share_one_layout(pair):
    data = _data(replay_html(pair))

    def client_places(svg: str) -> dict[str, tuple[str, str]]:
        return {
            m.group(3): (m.group(1), m.group(2))
            for m in re.finditer(r'cx="([\d.]+)" cy="([\d.]+)"[^>]*data-student="(\d+)"', svg)
        }

    home, none = (client_places(panel["networks"][-1]) for panel in data["panels"])
    assert home
    assert home == none
    # ... and a client stays put from the first week to the last.
    assert client_places(data["panels"][0]["networks"][0]) == home


def test_one_or_two_runs_only(pair):
    with pytest.raises(ValueError, match="one or two"):
        replay_html([])
    with pytest.raises(ValueError, match="one or two"):
        replay_html([*pair, pair[0]])


def test_write_replay_is_atomic_and_complete(pair, tmp_path):
    out = write_replay(pair[:1], tmp_path / "lesson.html")
    assert out.read_text(encoding="utf-8").endswith("</html>")
    assert [p.name for p in tmp_path.iterdir()] == ["lesson.html"]


@requires_browser
def test_slider_changes_the_drawn_network_offline(pair, tmp_path):
    out = write_replay(pair, tmp_path / "lesson.html", predict=False)
    last = len(pair[0].weekly) - 1
    with chromium() as browser:
        context = browser.new_context(offline=True, viewport={"width": 1300, "height": 1000})
        page = context.new_page()
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(out.as_uri())
        network = page.locator("#network-0 svg")
        assert network.get_attribute("data-week") == "0"
        first = page.locator("#network-0").inner_html()
        page.locator("#week").fill(str(last))
        assert network.get_attribute("data-week") == str(last)
        assert page.locator("#network-0").inner_html() != first
        assert page.locator("#network-1 svg").get_attribute("data-week") == str(last)
        assert page.locator("#week-label").inner_text() == f"week {last}"
        page.screenshot(path=str(tmp_path / "replay.png"))
        # Play starts again from week 0 and moves on by itself.
        page.locator("#play").click()
        page.wait_for_function(
            "() => Number(document.querySelector('#network-0 svg').dataset.week) >= 1",
            timeout=10_000,
        )
        page.locator("#play").click()
        assert failed == []


def test_predict_mode_gives_nothing_ahead_away(pair):
    html = replay_html(pair)  # predict mode is the default
    assert re.search(r'<input id="week" type="range" min="0" max="0"', html)
    assert 'id="next"' in html
    data = _data(html)
    weeks = data["weeks"]
    for panel in data["panels"]:
        for k, chart in enumerate(panel["charts"]):
            # every plotted point lies at or left of the marker of its own week
            marker = re.search(
                r'<line x1="([\d.]+)" x2="[\d.]+" y1="[\d.]+" y2="[\d.]+" '
                r'stroke="#d32f2f"',
                chart,
            )
            xs = [float(x) for x in re.findall(r"([\d.]+),[\d.]+", chart)]
            assert marker is not None
            assert max(xs) <= float(marker.group(1)) + 0.01, (k, weeks[k])
        post = pair[0].scenario.program.baseline_weeks + pair[0].scenario.program_weeks
        # the post-test is blank before its week and shown from it on
        assert "<td>questionnaire: post</td><td>\N{EN DASH}</td>" in panel["numbers"][post - 1]
    assert (
        "<td>questionnaire: post</td><td>\N{EN DASH}</td>" not in data["panels"][0]["numbers"][post]
    )
    explore = replay_html(pair, predict=False)
    assert re.search(rf'max="{len(weeks) - 1}"', explore)
    assert 'id="next"' not in explore


def test_replay_speaks_bahasa_indonesia(pair):
    html = replay_html(pair, lang="id")
    data = _data(html)
    assert '<html lang="id">' in html
    assert data["panels"][0]["captions"][0].startswith("Minggu 0 dari")
    assert "tanpa intervensi" in data["panels"][1]["title"]
    assert "Minggu berikutnya" in html
    with pytest.raises(ValueError, match="--lang"):
        replay_html(pair, lang="fr")


@requires_browser
def test_predict_mode_opens_weeks_only_as_they_are_played(pair, tmp_path):
    out = write_replay(pair, tmp_path / "lesson.html")
    with chromium() as browser:
        page = browser.new_context(offline=True).new_page()
        page.goto(out.as_uri())
        slider = page.locator("#week")
        assert slider.get_attribute("max") == "0"
        page.locator("#week").fill("5")  # beyond the played weeks: the slider stays put
        assert page.locator("#network-0 svg").get_attribute("data-week") == "0"
        page.locator("#next").click()
        page.locator("#next").click()
        assert page.locator("#network-0 svg").get_attribute("data-week") == "2"
        assert page.evaluate("document.querySelector('#week').max") == "2"
        page.locator("#reveal").click()
        assert page.evaluate("document.querySelector('#week').max") == str(len(pair[0].weekly) - 1)
