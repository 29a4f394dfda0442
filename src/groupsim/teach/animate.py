"""The group's network week by week as an animation for slides (GIF, or MP4 with ffmpeg).

`groupsim animate SCENARIO.toml [OTHER.toml] --out group.gif` runs the scenario (and a second
arm, no intervention by default, with the same students) and draws every recorded week: both
arms' networks side by side (the clients' ties thicken as they get to know each other, node
colour is a chosen state, node size is disclosure, a ring marks who has opened up) above a
chart of both arms' social interaction so far. The last frame is held for a few seconds.
Each network is the same picture as the teaching page and the replay
(:func:`groupsim.document.network.network_scene`, drawn by
:func:`groupsim.document.network_draw.draw_scene` into a matplotlib figure in the house
style); the layout is computed once over all weeks and shared by the arms
(:func:`groupsim.teach.replay.layouts_for`), so nothing jumps. Frames are written as one GIF
through :func:`groupsim.runs.store.atomic_file` (complete or not at all, mode 0644 under the
usual umask).

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
import io
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groupsim.document.figures import Figure, styled
from groupsim.document.network import (
    COLOUR_STATES,
    NetworkScene,
    network_scene,
    pictures_from_result,
)
from groupsim.document.network_draw import draw_scene
from groupsim.runs.store import atomic_file
from groupsim.teach.drawing import SERIES_COLOUR_PAIR, network_texts, week_caption
from groupsim.teach.lesson import sessions_of_week
from groupsim.teach.messages import Messages, check_language, messages
from groupsim.teach.replay import layouts_for, result_labels

__all__ = ["FORMATS", "animate", "check_animation_path"]

#: What `--out` may end with, and the matplotlib writer for each.
FORMATS = {".gif": "pillow", ".mp4": "ffmpeg"}

#: Frame size in inches and resolution: 1200 x 800 pixels, legible on a slide.
FRAME_SIZE = (12.0, 8.0)
FRAME_DPI = 100

#: Half the visible width and height in layout units (labels sit left and right of the ring).
EXTENT = (1.7, 1.15)

#: How long the last frame stays up, in seconds (the class reads the end state).
HOLD_SECONDS = 3


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


@dataclass(frozen=True)
class Frame:
    """One week: each arm's scene and caption, and the chart's series up to that week."""

    week: int
    scenes: tuple[NetworkScene, ...]
    captions: tuple[str, ...]


def _arm_frames(
    result: Any, positions: dict, colour_by: str, context: bool, words: Messages
) -> list[tuple[NetworkScene, str]]:
    pictures = pictures_from_result(result, colour_by, context=context)
    labels = result_labels(result, words)
    weekly = result.weekly.set_index("week")
    last_week = int(result.weekly["week"].max())
    texts = network_texts(words)
    threshold = result.scenario.disclosure.personal_threshold
    out = []
    for picture in pictures:
        row = {"week": picture.week, **weekly.loc[picture.week].to_dict()}
        caption = week_caption(
            row, last_week, sessions_of_week(result.sessions, picture.week), words
        )
        scene = network_scene(picture, positions, labels, colour_by, None, texts, threshold)
        out.append((scene, caption))
    return out


def _frames(
    results: Sequence[Any], colour_by: str, context: bool, layout_seed: int, words: Messages
) -> list[Frame]:
    """Every recorded week of every arm, on one layout for the whole run."""
    pictures = [pictures_from_result(r, colour_by, context=context) for r in results]
    layouts = layouts_for(results, pictures, layout_seed)
    arms = [
        _arm_frames(r, lay, colour_by, context, words)
        for r, lay in zip(results, layouts, strict=True)
    ]
    longest = max(len(a) for a in arms)
    frames = []
    for k in range(longest):
        shown = [a[min(k, len(a) - 1)] for a in arms]
        frames.append(
            Frame(
                week=max(scene.week for scene, _ in shown),
                scenes=tuple(scene for scene, _ in shown),
                captions=tuple(caption for _, caption in shown),
            )
        )
    return frames


def _chart(ax: Any, results: Sequence[Any], week: int, words: Messages) -> None:
    """Both arms' clients' social interaction up to `week` (program weeks shaded)."""
    last = max(int(r.weekly["week"].max()) for r in results)
    sc = results[0].scenario
    start = sc.program.baseline_weeks
    ax.axvspan(start, start + sc.program_weeks, color="#fff3e0", zorder=0)
    for k, result in enumerate(results):
        upto = result.weekly[result.weekly["week"] <= week]
        ax.plot(
            upto["week"],
            upto["clients_social_interaction"],
            color=SERIES_COLOUR_PAIR[k],
            linestyle="-" if k == 0 else "--",
            linewidth=2.5,
            label=words.arm(result.scenario.counselor.technique),
        )
    ax.axvline(week, color="#d32f2f", linewidth=1.2)
    ax.set_xlim(0, last)
    ax.set_ylim(0, 1)
    ax.set_xlabel(words("drawing.week_axis"), fontsize=13)
    ax.set_title(words("page.overlay_title"), fontsize=14)
    ax.tick_params(labelsize=12)
    ax.legend(loc="upper left", fontsize=12, frameon=False)


def _draw_frame(
    fig: Figure,
    frame: Frame,
    results: Sequence[Any],
    titles: Sequence[str],
    words: Messages,
    colour_by: str,
) -> None:
    fig.clear()
    n = len(frame.scenes)
    for k, (scene, caption) in enumerate(zip(frame.scenes, frame.captions, strict=True)):
        ax = fig.add_axes((k / n + 0.005, 0.36, 1 / n - 0.01, 0.54))
        draw_scene(ax, scene, extent=EXTENT, font_size=11)
        ax.set_title(f"{titles[k]}\n{caption}", fontsize=12)
    fig.text(
        0.5,
        0.975,
        words("animate.colour_line", state=words.state(colour_by)),
        ha="center",
        fontsize=12,
    )
    _chart(fig.add_axes((0.08, 0.07, 0.86, 0.22)), results, frame.week, words)


def _render(frames: Sequence[Frame], draw: Any) -> list[Any]:
    """Every frame as a PIL image (drawn with the house style, not the screen's)."""
    from PIL import Image

    images = []
    with styled(**{"axes.grid": False}):
        fig = Figure(figsize=FRAME_SIZE, dpi=FRAME_DPI)
        for frame in frames:
            draw(fig, frame)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=FRAME_DPI)
            buffer.seek(0)
            images.append(Image.open(buffer).convert("RGB"))
    return images


def _write_gif(images: Sequence[Any], out: Path, fps: int) -> None:
    """A GIF that plays once a loop and holds its last frame, written atomically (0644)."""
    durations = [round(1000 / fps)] * len(images)
    durations[-1] = HOLD_SECONDS * 1000
    with atomic_file(out, "wb") as handle:
        images[0].save(
            handle,
            format="GIF",
            save_all=True,
            append_images=list(images[1:]),
            duration=durations,
            loop=0,
        )


def _write_mp4(images: Sequence[Any], out: Path, fps: int) -> None:
    """An MP4 through ffmpeg (the last frame repeated to hold it), replacing `out` atomically."""
    from matplotlib import animation

    held = list(images) + [images[-1]] * (HOLD_SECONDS * fps)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        fig = Figure(figsize=FRAME_SIZE, dpi=FRAME_DPI)
        writer = animation.writers["ffmpeg"](fps=fps)
        with writer.saving(fig, tmp, dpi=FRAME_DPI):
            for image in held:
                fig.clear()
                fig.figimage(image)
                writer.grab_frame()
        # mkstemp makes the file private (0600); give it the permissions open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
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
    other: Any = None,
    lang: str = "en",
) -> Path:
    """Draw every recorded week of a run (and a second arm) into `out` (.gif, or .mp4).

    Args:
        result: a :class:`~groupsim.RunResult` with its student and tie tables.
        out: the file to write (atomically: it appears complete or not at all; mode 0644
            under the usual umask).
        colour_by: the state that colours the nodes (see
            `groupsim.document.network.COLOUR_STATES`).
        fps: weeks per second.
        context: draw the clients' campus friends faintly around the group.
        layout_seed: seed of the spring layout.
        other: a second run (same students, another arm) drawn beside the first.
        lang: the words' language ("en" or "id").

    Returns:
        The path written.
    """
    out = Path(out)
    writer_name = check_animation_path(out)
    if colour_by not in COLOUR_STATES:
        raise ValueError(f"colour_by: must be one of {', '.join(COLOUR_STATES)}")
    words = messages(check_language(lang))
    results = [result] if other is None else [result, other]
    titles = [words.arm(r.scenario.counselor.technique) for r in results]
    frames = _frames(results, colour_by, context, layout_seed, words)

    def draw(fig: Figure, frame: Frame) -> None:
        _draw_frame(fig, frame, results, titles, words, colour_by)

    images = _render(frames, draw)
    if writer_name == "pillow":
        _write_gif(images, out, fps)
    else:
        _write_mp4(images, out, fps)
    return out
