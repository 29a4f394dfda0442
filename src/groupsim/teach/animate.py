"""The group's network week by week as an animation for slides (GIF, or MP4 with ffmpeg).

`groupsim animate SCENARIO.toml --out group.gif` runs the scenario and draws every recorded
week: the clients' ties thicken as they get to know each other, node colour is a chosen state
(social interaction by default), node size is disclosure. Each frame is the same picture as
the teaching page and the replay (:func:`groupsim.document.network.network_scene`, drawn by
:func:`groupsim.document.network_draw.draw_scene` into a matplotlib figure in the house style);
the layout is computed once over all weeks (:func:`groupsim.document.network.stable_layout`),
so nothing jumps.

Example:
    >>> from groupsim import load_scenario, run
    >>> from groupsim.teach.animate import animate
    >>> result = run(load_scenario("scenarios/home_room.toml"), seed=1)
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "group.gif"
    >>> animate(result, out, fps=4).stat().st_size > 0
    True
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groupsim.document.figures import Figure, styled
from groupsim.document.network import (
    COLOUR_STATES,
    NetworkScene,
    network_scene,
    pictures_from_result,
    stable_layout,
    student_labels,
)
from groupsim.document.network_draw import draw_scene
from groupsim.teach.drawing import week_caption

__all__ = ["FORMATS", "animate", "check_animation_path"]

#: What `--out` may end with, and the matplotlib writer for each.
FORMATS = {".gif": "pillow", ".mp4": "ffmpeg"}

#: Frame size in inches and resolution: 800 x 640 pixels, legible on a slide.
FRAME_SIZE = (8.0, 6.4)
FRAME_DPI = 100

#: Half the visible width and height in layout units (labels sit left and right of the ring).
EXTENT = (1.6, 1.2)


def check_animation_path(out: Path) -> str:
    """The writer for `out`, or a one-line reason why it cannot be written (ValueError).

    Checked before anything runs, so bad input writes nothing.
    """
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{out}: --out: must end in .gif or .mp4 (got {suffix or 'no suffix'})")
    if out.is_dir():
        raise ValueError(f"{out}: --out: is a folder; give a file name ending in .gif or .mp4")
    if suffix == ".mp4" and shutil.which("ffmpeg") is None:
        raise ValueError(
            f"{out}: --out: MP4 needs ffmpeg, which is not installed here; "
            "install ffmpeg or write a .gif"
        )
    return FORMATS[suffix]


def _frames(
    result: Any, colour_by: str, context: bool, layout_seed: int
) -> list[tuple[NetworkScene, str]]:
    """Every recorded week's scene and title, on one layout for the whole run."""
    pictures = pictures_from_result(result, colour_by, context=context)
    first = result.students[result.students["week"] == pictures[0].week]
    faculty = first.sort_values("student_id")["faculty"].to_numpy()
    positions = stable_layout(pictures, faculty, pictures[0].clients, seed=layout_seed)
    labels = student_labels(result)
    weekly = result.weekly.set_index("week")
    last_week = int(result.weekly["week"].max())
    technique = result.scenario.counselor.technique.replace("_", " ")
    frames = []
    for picture in pictures:
        row = {"week": picture.week, **weekly.loc[picture.week].to_dict()}
        title = (
            f"{technique}: {week_caption(row, last_week)}\n"
            f"colour: {COLOUR_STATES[colour_by]} (dark 0 - yellow 1), size: disclosure"
        )
        frames.append((network_scene(picture, positions, labels, colour_by), title))
    return frames


def _draw_frame(fig: Figure, scene: NetworkScene, title: str) -> None:
    fig.clear()
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.87))
    draw_scene(ax, scene, extent=EXTENT, font_size=7)
    fig.suptitle(title, fontsize=9, y=0.97)


def _write_movie(
    frames: Sequence[tuple[NetworkScene, str]], out: Path, writer_name: str, fps: int
) -> None:
    """Draw the frames into `out` through a temporary file (it appears complete or not at all)."""
    from matplotlib import animation

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        with styled(**{"axes.grid": False}):
            fig = Figure(figsize=FRAME_SIZE, dpi=FRAME_DPI)
            writer = animation.writers[writer_name](fps=fps)
            with writer.saving(fig, tmp, dpi=FRAME_DPI):
                for scene, title in frames:
                    _draw_frame(fig, scene, title)
                    writer.grab_frame()
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def animate(
    result: Any,
    out: str | Path,
    colour_by: str = "social_interaction",
    fps: int = 2,
    context: bool = True,
    layout_seed: int = 0,
) -> Path:
    """Draw every recorded week of a run into `out` (.gif, or .mp4 when ffmpeg exists).

    Args:
        result: a :class:`~groupsim.RunResult` with its student and tie tables.
        out: the file to write (atomically: it appears complete or not at all).
        colour_by: the state that colours the nodes (see
            `groupsim.document.network.COLOUR_STATES`).
        fps: weeks per second.
        context: draw the clients' campus friends faintly around the group.
        layout_seed: seed of the spring layout.

    Returns:
        The path written.
    """
    out = Path(out)
    writer_name = check_animation_path(out)
    if colour_by not in COLOUR_STATES:
        raise ValueError(f"colour_by: must be one of {', '.join(COLOUR_STATES)}")
    _write_movie(_frames(result, colour_by, context, layout_seed), out, writer_name, fps)
    return out
