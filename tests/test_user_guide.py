"""docs/user-guide.md's Python examples print what the guide shows under them.

The guide says every example was run and shows what it printed; this test runs each Python
block that a `text` block follows, in a folder laid out as the guide's readers have it
(`scenarios/`, the guide's `my_study.toml` and its run in `runs/my_study_seed3`), and
compares the output line by line (trailing spaces aside). With GROUPSIM_UPDATE_DOCS set it
writes what the examples print into the guide instead (then read the diff: the prose around
an example may quote its numbers).
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from itertools import pairwise
from pathlib import Path

import pytest

from conftest import PYTHON, ROOT, SCENARIOS

GUIDE = ROOT / "docs" / "user-guide.md"
#: A fenced block: its language and body.
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)


def examples(text: str) -> list[tuple[re.Match[str], re.Match[str]]]:
    """Each Python block and the `text` block right after it (the output it shows)."""
    blocks = list(BLOCK.finditer(text))
    return [
        (code, shown)
        for code, shown in pairwise(blocks)
        if code.group(1) == "python" and shown.group(1) == "text"
    ]


EXAMPLES = examples(GUIDE.read_text(encoding="utf-8"))


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in textwrap.dedent(text).rstrip().splitlines()]


@pytest.fixture(scope="module")
def readers_folder(tmp_path_factory) -> Path:
    """The scenarios, `my_study.toml` (section 2's edit) and its run (section 3's command)."""
    folder = tmp_path_factory.mktemp("guide")
    (folder / "scenarios").symlink_to(SCENARIOS)
    study = (SCENARIOS / "home_room.toml").read_text(encoding="utf-8")
    study = re.sub(r'(?m)^name = ".*"$', 'name = "my_study"', study, count=1)
    study = re.sub(r"(?m)^clients = 9$", "clients = 6", study, count=1)
    study = re.sub(r"(?m)^sessions = 8$", "sessions = 6", study, count=1)
    (folder / "my_study.toml").write_text(study, encoding="utf-8")
    command = [PYTHON, "-m", "groupsim", "run", "my_study.toml", "--seed", "3"]
    done = subprocess.run(
        [*command, "--out", "runs/my_study_seed3"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return folder


def test_the_guide_has_its_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize(
    ("code", "shown"),
    EXAMPLES,
    ids=[f"line{GUIDE.read_text().count(chr(10), 0, c.start()) + 1}" for c, _ in EXAMPLES],
)
def test_an_example_prints_what_the_guide_shows(code, shown, readers_folder):
    done = subprocess.run(
        [PYTHON, "-c", textwrap.dedent(code.group(2))],
        cwd=readers_folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert done.returncode == 0, done.stderr
    printed = _lines(done.stdout)
    if os.environ.get("GROUPSIM_UPDATE_DOCS") and printed != _lines(shown.group(2)):
        guide = GUIDE.read_text(encoding="utf-8")
        # A block inside a list item is indented as its fence is.
        indent = guide[guide.rfind("\n", 0, guide.index(shown.group(0))) + 1 :].split("`")[0]
        body = "".join(f"{indent}{line}\n" if line else "\n" for line in printed)
        GUIDE.write_text(guide.replace(shown.group(0), f"```text\n{body}{indent}```", 1))
        pytest.skip("docs/user-guide.md rewritten: read the diff")
    assert printed == _lines(shown.group(2))
