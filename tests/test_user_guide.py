"""docs/user-guide.md's Python examples print what the guide shows under them.

The guide says every example was run and shows what it printed; this test runs each Python
block that a `text` block follows (in one process, each in a namespace of its own), in a
folder laid out as the guide's readers have it
(`scenarios/`, the guide's `my_study.toml` and its run in `runs/my_study_seed3`), and
compares the output line by line (trailing spaces aside). With GROUPSIM_UPDATE_DOCS set it
writes what the examples print into the guide instead (then read the diff: the prose around
an example may quote its numbers).
"""

from __future__ import annotations

import json
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


def examples(text: str) -> list[tuple[str, list[str], str]]:
    """Each Python block, the output the `text` block right after it shows, and its indent.

    The indent is the fences' (a block inside a list item); the output's own leading spaces
    stay, as a DataFrame prints them.
    """
    blocks = list(BLOCK.finditer(text))
    found = []
    for code, shown in pairwise(blocks):
        if code.group(1) == "python" and shown.group(1) == "text":
            indent = text[text.rfind("\n", 0, shown.start()) + 1 : shown.start()]
            lines = shown.group(2).rstrip().splitlines()
            output = [line.removeprefix(indent).rstrip() for line in lines]
            found.append((textwrap.dedent(code.group(2)), output, indent))
    return found


EXAMPLES = examples(GUIDE.read_text(encoding="utf-8"))


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


#: Runs the examples one after the other in one process, each in a namespace of its own as a
#: script of its own would be, its output between markers (one process: the imports once).
DRIVER = """
import json, sys
for number, code in enumerate(json.load(sys.stdin)):
    print(f"<<<example {number}>>>", flush=True)
    exec(compile(code, f"<example {number + 1}>", "exec"), {"__name__": "__main__"})
    sys.stdout.flush()
"""


@pytest.fixture(scope="module")
def printed(readers_folder) -> list[list[str]]:
    """What each example printed, in order (lines, trailing spaces dropped)."""
    done = subprocess.run(
        [PYTHON, "-c", DRIVER],
        input=json.dumps([code for code, _, _ in EXAMPLES]),
        cwd=readers_folder,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert done.returncode == 0, done.stderr
    parts = re.split(r"<<<example \d+>>>\n", done.stdout)[1:]
    assert len(parts) == len(EXAMPLES)
    return [[line.rstrip() for line in part.rstrip().splitlines()] for part in parts]


def test_the_guide_has_its_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("number", range(len(EXAMPLES)), ids=lambda n: f"example{n + 1}")
def test_an_example_prints_what_the_guide_shows(number, printed):
    _, shown, indent = EXAMPLES[number]
    output = printed[number]
    if os.environ.get("GROUPSIM_UPDATE_DOCS") and output != shown:
        guide = GUIDE.read_text(encoding="utf-8")
        old = "".join(f"{indent}{line}\n" if line else "\n" for line in shown)
        new = "".join(f"{indent}{line}\n" if line else "\n" for line in output)
        assert f"```text\n{old}" in guide, "the shown output is not where it was read"
        GUIDE.write_text(guide.replace(f"```text\n{old}", f"```text\n{new}", 1))
        pytest.skip("docs/user-guide.md rewritten: read the diff")
    assert output == shown
