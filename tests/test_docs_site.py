"""The documentation site builds offline with `mkdocs build --strict`, with no warning, and has
every page of the nav, the API reference from the docstrings and the changelog."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site once into a temporary folder; return (folder, build log).

    A failed build is reported by `test_the_build_has_no_warning` (with the log); strict mode
    may still have written the pages, which the other tests then check.
    """
    folder = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # material's banner is not a build warning
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = done.stdout + done.stderr
    return folder, f"exit status {done.returncode}\n{log}"


def test_the_build_has_no_warning(site):
    _, log = site
    warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert warnings == []
    assert log.startswith("exit status 0\n"), log


@pytest.mark.parametrize(
    "page",
    [
        "index.html",
        "user-guide/index.html",
        "ODD/index.html",
        "parameters/index.html",
        "outputs/index.html",
        "experiments/index.html",
        "power/index.html",
        "sweeps/index.html",
        "teaching/index.html",
        "campus/index.html",
        "changelog/index.html",
        "api/index.html",
        "api/scenario/index.html",
        "api/model/index.html",
        "api/runs/index.html",
        "api/study/index.html",
        "api/sweep/index.html",
        "api/teach/index.html",
        "api/cli/index.html",
    ],
)
def test_every_page_is_built(site, page):
    folder, _ = site
    assert (folder / page).is_file()


def test_the_api_reference_comes_from_the_docstrings(site):
    folder, _ = site
    scenario = (folder / "api" / "scenario" / "index.html").read_text(encoding="utf-8")
    assert 'id="groupsim.scenario.files.load_scenario"' in scenario
    assert "the bare name of a built-in scenario" in scenario
    study = (folder / "api" / "study" / "index.html").read_text(encoding="utf-8")
    assert 'id="groupsim.study.stats.wilson_interval"' in study
    # `Example:` sections are shown as code (tools/griffe_examples.py), not as Markdown text.
    assert "wilson_interval" in study
    assert "[0.786, 0.957]" in study


def test_the_changelog_page_is_the_changelog(site):
    folder, _ = site
    page = (folder / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "Unreleased" in page
    assert "0.1.0" in page


def test_nothing_is_fetched_from_the_network(site):
    folder, _ = site
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "fonts.googleapis.com" not in text, page
        assert "fonts.gstatic.com" not in text, page


def test_lists_and_code_inside_lists_render_as_lists(site):
    """Python-Markdown nests a list, or a list item's later paragraph or code block, only when
    it is indented by 4 spaces (GitHub takes 2 or 3), and starts a list after a paragraph only
    after a blank line: otherwise the items come out as plain text in a paragraph."""
    folder, _ = site
    marker = re.compile(r"\n\s*(?:[-*]|\d+\.) \S")
    flattened = []
    for page in sorted(folder.glob("*/index.html")):
        if page.parent.name == "api":
            continue
        text = page.read_text(encoding="utf-8")
        for paragraph in re.findall(r"<p>(.*?)</p>", text, flags=re.S):
            if marker.search(paragraph) or paragraph.lstrip().startswith("```"):
                flattened.append(f"{page.parent.name}: {paragraph[:80]!r}")
    assert flattened == []
