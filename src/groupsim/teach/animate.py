"""The group's network week by week as an animation for slides (GIF, or MP4 with ffmpeg).

`groupsim animate SCENARIO.toml --out group.gif` runs the scenario and draws every recorded
week with matplotlib: the clients' ties thicken as they get to know each other, node colour
is a chosen state (social interaction by default), node size is disclosure. The layout is
computed once over all weeks (:func:`groupsim.teach.drawing.stable_layout`), so nothing jumps.

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
from pathlib import Path
from typing import Any

from groupsim.teach.drawing import (
    COLOUR_STATES,
    colour_of,
    pictures_from_result,
    stable_layout,
    student_labels,
    week_caption,
)

__all__ = ["FORMATS", "animate", "check_animation_path"]

#: What `--out` may end with, and the matplotlib writer for each.
FORMATS = {".gif": "pillow", ".mp4": "ffmpeg"}


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
        colour_by: the state that colours the nodes (see `teaching.COLOUR_STATES`).
        fps: weeks per second.
        context: draw the clients' campus friends faintly around the group.
        layout_seed: seed of the spring layout.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display needed: frames go straight to the file
    import matplotlib.pyplot as plt
    from matplotlib import animation

    out = Path(out)
    writer_name = check_animation_path(out)
    if colour_by not in COLOUR_STATES:
        raise ValueError(f"colour_by: must be one of {', '.join(COLOUR_STATES)}")
    pictures = pictures_from_result(result, colour_by, context=context)
    clients = pictures[0].clients
    faculty = (
        result.students[result.students["week"] == pictures[0].week]
        .sort_values("student_id")["faculty"]
        .to_numpy()
    )
    positions = stable_layout(pictures, faculty, clients, seed=layout_seed)
    labels = student_labels(result)
    weekly = result.weekly.set_index("week")
    last_week = int(result.weekly["week"].max())
    technique = result.scenario.counselor.technique

    fig, ax = plt.subplots(figsize=(8, 6.4), dpi=100)

    def draw(k: int) -> None:
        picture = pictures[k]
        members = set(picture.clients)
        ax.clear()
        ax.set_xlim(-1.6, 1.6)
        ax.set_ylim(-1.2, 1.2)
        ax.set_aspect("equal")
        ax.axis("off")
        for a, b, strength in picture.edges:
            in_group = a in members and b in members
            (x1, y1), (x2, y2) = positions[a], positions[b]
            ax.plot(
                [x1, x2],
                [-y1, -y2],  # SVG's y grows downwards; keep the same picture
                color="#37474f" if in_group else "#b0bec5",
                linewidth=(0.4 + 4.5 * strength) if in_group else 0.4 + strength,
                alpha=0.85 if in_group else 0.4,
                zorder=1 if in_group else 0,
            )
        for i in picture.context:
            x, y = positions[i]
            ax.scatter(x, -y, s=8, color=colour_of(picture.colour[i]), alpha=0.45, zorder=2)
        for i in picture.clients:
            x, y = positions[i]
            ax.scatter(
                x,
                -y,
                s=60 + 340 * picture.disclosure[i],
                color=colour_of(picture.colour[i]),
                edgecolors="#263238",
                zorder=3,
            )
            ax.annotate(
                labels.get(i, str(i)),
                (x, -y),
                xytext=(x * 1.28, -y * 1.28),
                fontsize=7,
                ha="left" if x > 0.05 else "right" if x < -0.05 else "center",
                va="center",
                zorder=4,
            )
        row = {"week": picture.week, **weekly.loc[picture.week].to_dict()}
        ax.set_title(
            f"{technique.replace('_', ' ')}: {week_caption(row, last_week)}\n"
            f"colour: {COLOUR_STATES[colour_by]} (dark 0 - yellow 1), size: disclosure",
            fontsize=9,
        )

    movie = animation.FuncAnimation(fig, draw, frames=len(pictures), interval=1000 / fps)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        movie.save(tmp, writer=writer_name, fps=fps)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        plt.close(fig)
    return out
