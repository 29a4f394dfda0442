"""`groupsim ui`, `animate` and `replay` on the command line: same errors as `run`, no stray files.

A malformed scenario goes through the real console script (one process per command, all
started at once); the other cases call `groupsim.cli.main` in this process, which is faster.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PYTHON, small_scenario
from groupsim.cli import main
from groupsim.scenario import scenario_to_toml

GROUPSIM = str(Path(PYTHON).parent / "groupsim")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_teaching")
    bad = folder / "bad.toml"
    bad.write_text('name = "bad"\n[counselor]\nwarmth = 2.0\n', encoding="utf-8")
    home = folder / "home.toml"
    home.write_text(scenario_to_toml(small_scenario("home_room")), encoding="utf-8")
    none = folder / "none.toml"
    none.write_text(scenario_to_toml(small_scenario("no_intervention")), encoding="utf-8")
    return {
        "bad": bad,
        "home": home,
        "none": none,
        "out": folder / "out",
        "good": folder / "good",
        "missing": folder / "x",
    }


BAD_SCENARIO = {
    "run": ["run", "{bad}", "--out", "{out}/run"],
    "ui": ["ui", "{bad}", "--port", "8799"],
    "animate": ["animate", "{bad}", "--out", "{out}/g.gif"],
    "replay": ["replay", "{bad}", "--out", "{out}/r.html"],
    "replay_second": ["replay", "{home}", "{bad}", "--out", "{out}/r.html"],
}
BAD_OPTIONS = {
    "ui_missing_file": (["ui", "{missing}.toml"], "no such file"),
    "ui_port": (["ui", "--port", "70000"], "--port: must be between 1 and 65535"),
    "animate_format": (["animate", "{home}", "--out", "{out}/g.png"], "must end in .gif or .mp4"),
    "animate_colour": (
        ["animate", "{home}", "--out", "{out}/g.gif", "--colour", "mood"],
        "--colour: must be one of",
    ),
    "animate_seed": (["animate", "{home}", "--out", "{out}/g.gif", "--seed", "-1"], "--seed"),
    "replay_format": (["replay", "{home}", "--out", "{out}/r.txt"], "must end in .html"),
    "ui_lang": (["ui", "--lang", "fr"], "--lang: must be one of en, id (got fr)"),
    "replay_lang": (["replay", "{home}", "--out", "{out}/r.html", "--lang", "de"], "--lang"),
    "animate_lang": (["animate", "{home}", "--out", "{out}/g.gif", "--lang", "xx"], "--lang"),
}
GOOD = {
    "replay_pair": ["replay", "{home}", "{none}", "--out", "{good}/lesson.html", "--seed", "3"],
    "animate_gif": ["animate", "{home}", "--out", "{good}/group.gif", "--fps", "5"],
    "replay_id": ["replay", "{home}", "--out", "{good}/pelajaran.html", "--lang", "id"],
    "animate_id": [
        "animate",
        "{home}",
        "{none}",
        "--out",
        "{good}/kelompok.gif",
        "--lang",
        "id",
        "--fps",
        "5",
    ],
}


@pytest.fixture(scope="module")
def bad_scenario_runs(files):
    """Each command with the malformed scenario, in parallel: name -> (code, stdout, stderr)."""
    paths = {k: str(v) for k, v in files.items()}
    running = {
        name: subprocess.Popen(
            [GROUPSIM, *(a.format(**paths) for a in args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, args in BAD_SCENARIO.items()
    }
    done = {}
    for name, process in running.items():
        out, err = process.communicate(timeout=300)
        done[name] = (process.returncode, out, err)
    return done


def call(args, files, monkeypatch, capsys):
    """Run `groupsim ARGS` through `main()` here; returns (exit code, stdout, stderr)."""
    paths = {k: str(v) for k, v in files.items()}
    monkeypatch.setattr(sys, "argv", ["groupsim", *(a.format(**paths) for a in args)])
    code = 0  # main() returns on success and exits with a code otherwise
    try:
        main()
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_malformed_scenario_gets_the_same_line_as_run(bad_scenario_runs, files):
    code, _, expected = bad_scenario_runs["run"]
    assert code == 2
    assert expected.count("\n") == 1
    assert "counselor.warmth" in expected
    for name in BAD_SCENARIO:
        code, out, err = bad_scenario_runs[name]
        assert (code, err) == (2, expected), name
        assert "Traceback" not in out + err
    assert not files["out"].exists()  # nothing written, no server started


@pytest.mark.parametrize("name", list(BAD_OPTIONS))
def test_bad_options_are_one_line_and_exit_2(files, monkeypatch, capsys, name):
    code, _, err = call(BAD_OPTIONS[name][0], files, monkeypatch, capsys)
    assert code == 2
    assert err.startswith("groupsim: error: ")
    assert err.count("\n") == 1
    assert BAD_OPTIONS[name][1] in err
    assert not files["out"].exists()


def test_mp4_without_ffmpeg_is_a_clear_error(files, monkeypatch, capsys, tmp_path):
    args = ["animate", "{home}", "--out", str(tmp_path / "g.mp4")]
    code, _, err = call(args, files, monkeypatch, capsys)
    if shutil.which("ffmpeg") is None:
        assert code == 2
        assert "MP4 needs ffmpeg" in err
        assert list(tmp_path.iterdir()) == []
    else:
        assert code == 0
        assert (tmp_path / "g.mp4").stat().st_size > 0


@pytest.mark.parametrize("name", list(GOOD))
def test_replay_and_animate_write_their_files(files, monkeypatch, capsys, name):
    code, out, err = call(GOOD[name], files, monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith("Wrote ")
    written = {
        "replay_pair": "lesson.html",
        "animate_gif": "group.gif",
        "replay_id": "pelajaran.html",
        "animate_id": "kelompok.gif",
    }[name]
    path = files["good"] / written
    # Every output readable by everyone (0644 under the usual umask 022), not 0600.
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    if name == "replay_pair":
        html = path.read_text(encoding="utf-8")
        assert "home room" in html
        assert "no intervention" in html
    elif name == "replay_id":
        assert "Minggu 0 dari" in path.read_text(encoding="utf-8")
    else:
        assert path.read_bytes()[:6] == b"GIF89a"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
