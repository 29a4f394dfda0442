"""The slide animation: one frame a week, GIF always, MP4 only with ffmpeg, nothing half-written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from groupsim.teach.animate import animate, check_animation_path


def test_two_arms_and_a_chart_with_the_last_frame_held(small_result, small_home_room, tmp_path):
    from groupsim import run
    from groupsim.scenario import with_overrides

    none = run(with_overrides(small_home_room, {"counselor.technique": "none"}), seed=7)
    out = animate(small_result, tmp_path / "pair.gif", fps=4, other=none, lang="id")
    with Image.open(out) as gif:
        assert gif.n_frames == len(small_result.weekly)
        durations = []
        for k in range(gif.n_frames):
            gif.seek(k)
            durations.append(gif.info["duration"])
        assert gif.size == (1200, 800)
    assert durations[0] == 250
    assert durations[-1] == 3000  # the end state stays up for the class to read
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask  # 0644 under umask 022, never 0600


def test_gif_has_one_frame_per_recorded_week(small_result, tmp_path):
    out = animate(small_result, tmp_path / "group.gif", fps=4)
    assert out == tmp_path / "group.gif"
    with Image.open(out) as gif:
        assert gif.n_frames == len(small_result.weekly)
        first = gif.convert("RGB").getcolors(maxcolors=1 << 16)
        gif.seek(gif.n_frames - 1)
        last = gif.convert("RGB").getcolors(maxcolors=1 << 16)
    assert first != last  # the network changed over the weeks
    assert [p.name for p in tmp_path.iterdir()] == ["group.gif"]  # no temporary left


@pytest.mark.parametrize(
    ("name", "message"),
    [("slides.png", "must end in .gif or .mp4"), ("slides", "must end in .gif or .mp4")],
)
def test_unknown_formats_are_refused(tmp_path, name, message):
    with pytest.raises(ValueError, match=message):
        check_animation_path(tmp_path / name)


def test_a_folder_is_refused(tmp_path):
    folder = tmp_path / "x.gif"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        check_animation_path(folder)


def test_mp4_needs_ffmpeg(tmp_path):
    if shutil.which("ffmpeg") is None:
        with pytest.raises(ValueError, match="MP4 needs ffmpeg"):
            check_animation_path(tmp_path / "x.mp4")
    else:
        assert check_animation_path(tmp_path / "x.mp4") == "ffmpeg"
    assert check_animation_path(Path("x.GIF")) == "pillow"


def test_unknown_colour_is_refused_before_writing(small_result, tmp_path):
    with pytest.raises(ValueError, match="colour_by"):
        animate(small_result, tmp_path / "g.gif", colour_by="happiness")
    assert list(tmp_path.iterdir()) == []
