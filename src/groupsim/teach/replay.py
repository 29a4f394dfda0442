"""A run replayed week by week in one self-contained HTML file (no server, works offline).

`groupsim replay SCENARIO.toml [OTHER.toml] --out lesson.html` writes a page a lecturer can
email to students: a week slider and a Play button, the group's network drawn in SVG with a
layout fixed over all weeks, and the clients' states over time; two scenarios (same seed,
same students) side by side. Everything is inline: the drawings are made here in Python (the
same geometry and SVG renderer as the live page,
`groupsim.document.network_draw`), the page's script only swaps them as the slider moves.

Example:
    >>> from groupsim import load_scenario, run
    >>> from groupsim.teach.replay import replay_html
    >>> html = replay_html([run(load_scenario("scenarios/home_room.toml"), seed=1)])
    >>> "<script src" in html, "u003csvg" in html  # drawings ride in the escaped data
    (False, True)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from groupsim.document.network import (
    COLOUR_STATES,
    pictures_from_result,
    stable_layout,
)
from groupsim.document.network_draw import network_svg
from groupsim.model.model import faculty_names
from groupsim.runs.store import atomic_file
from groupsim.scenario.cohort_file import read_cohort
from groupsim.teach.drawing import (
    CLIENT_SERIES,
    chart_svg,
    network_texts,
    short_labels,
    week_caption,
)
from groupsim.teach.lesson import result_numbers, sessions_of_week
from groupsim.teach.messages import Messages, check_language, messages

__all__ = ["layouts_for", "replay_html", "result_labels", "write_replay"]

_STYLE = """
body { font-family: sans-serif; margin: 16px; color: #263238; }
h1 { font-size: 20px; margin: 0 0 4px 0; }
.controls { display: flex; gap: 12px; align-items: center; margin: 10px 0; }
.controls input[type=range] { width: 420px; }
.panels { display: flex; flex-wrap: wrap; gap: 24px; }
.panel { flex: 1 1 480px; min-width: 0; max-width: 640px; }
.network svg, .chart svg { width: 100%; height: auto; }
.panel h2 { font-size: 16px; margin: 4px 0; }
.caption { font-size: 14px; margin-bottom: 4px; }
.note { font-size: 15px; color: #546e7a; max-width: 1100px; }
table { border-collapse: collapse; font-size: 15px; margin-top: 4px; }
td, th { border: 1px solid #cfd8dc; padding: 2px 6px; text-align: right; }
"""

_SCRIPT = """
const data = JSON.parse(document.getElementById('replay-data').textContent);
const slider = document.getElementById('week');
const label = document.getElementById('week-label');
const play = document.getElementById('play');
const next = document.getElementById('next');
const reveal = document.getElementById('reveal');
let timer = null;
// Predict mode: the slider reaches only the weeks played so far.
function open(k) {
  if (k > Number(slider.max)) { slider.max = k; }
}
function show(k) {
  data.panels.forEach((panel, p) => {
    const i = Math.min(k, panel.networks.length - 1);
    document.getElementById('network-' + p).innerHTML = panel.networks[i];
    document.getElementById('chart-' + p).innerHTML = panel.charts[i];
    document.getElementById('caption-' + p).textContent = panel.captions[i];
    document.getElementById('numbers-' + p).innerHTML = panel.numbers[i];
  });
  label.textContent = data.week_label.replace('{week}', data.weeks[k]);
}
function stop() { clearInterval(timer); timer = null; play.textContent = data.play; }
slider.addEventListener('input', () => { stop(); show(Number(slider.value)); });
function forward() {
  const k = Number(slider.value) + 1;
  if (k >= data.weeks.length) { return false; }
  open(k);
  slider.value = k;
  show(k);
  return true;
}
play.addEventListener('click', () => {
  if (timer) { stop(); return; }
  if (Number(slider.value) >= data.weeks.length - 1) { slider.value = 0; show(0); }
  play.textContent = data.pause;
  timer = setInterval(() => { if (!forward()) { stop(); } }, 700);
});
if (next) { next.addEventListener('click', () => { stop(); forward(); }); }
if (reveal) { reveal.addEventListener('click', () => { open(data.weeks.length - 1); }); }
show(0);
"""


def _faculty_of(result: Any) -> Any:
    first = result.students[result.students["week"] == result.students["week"].min()]
    return first.sort_values("student_id")["faculty"].to_numpy()


def result_labels(result: Any, words: Messages) -> dict[int, str]:
    """Drawing labels such as "S3 Law" from the run's faculties, in the reader's language."""
    sc = result.scenario
    names = faculty_names(sc.cohort.faculty_names, sc.cohort.faculties)
    first = result.students[result.students["week"] == result.students["week"].min()]
    ids = read_cohort(sc.cohort.data).ids if sc.cohort.data else ()
    return short_labels(
        {int(i): names[int(f)] for i, f in zip(first["student_id"], first["faculty"], strict=True)},
        words,
        dict(enumerate(ids)),
    )


def _numbers_html(result: Any, week: int, words: Messages) -> str:
    rows = result_numbers(result, week).rows(words)
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _panel(
    result: Any, pictures: list, positions: dict, colour_by: str, words: Messages
) -> dict[str, Any]:
    labels = result_labels(result, words)
    weekly = result.weekly
    last_week = int(weekly["week"].max())
    weeks = [int(w) for w in weekly["week"]]
    series = {words.state(k.removeprefix("clients_")): v for k, v in _series(weekly).items()}
    rows = weekly.to_dict("records")
    sc = result.scenario
    program = (sc.program.baseline_weeks, sc.program.baseline_weeks + sc.program_weeks)
    texts = network_texts(words)
    threshold = sc.disclosure.personal_threshold
    chart_title = words("replay.chart_title")
    return {
        "title": f"{words.arm(sc.counselor.technique)} ({sc.name}, "
        f"{words('replay.seed', seed=result.seed)})",
        "networks": [
            network_svg(
                p,
                positions,
                labels,
                colour_by,
                size=300,
                texts=texts,
                threshold=threshold,
                font=15,
                margin=115,
            )
            for p in pictures
        ],
        # Each week's chart shows the weeks up to it only: nothing ahead is given away.
        "charts": [
            chart_svg(
                weeks[: k + 1],
                {name: values[: k + 1] for name, values in series.items()},
                last_week,
                marker_week=p.week,
                width=620,
                height=260,
                font=14,
                words=(words("drawing.week_axis"), words("drawing.program")),
                program=program,
                title=chart_title,
            )
            for k, p in enumerate(pictures)
        ],
        "captions": [
            week_caption(row, last_week, sessions_of_week(result.sessions, int(row["week"])), words)
            for row in rows
        ],
        "numbers": [_numbers_html(result, int(w), words) for w in weeks],
    }


def _series(weekly: Any) -> dict[str, list[float]]:
    return {column: [float(v) for v in weekly[column]] for column in CLIENT_SERIES}


def layouts_for(results: Sequence[Any], pictures: list[list], layout_seed: int) -> list[dict]:
    """One layout for runs of the same students (same cohort and seed), else one each."""
    faculties = [_faculty_of(r) for r in results]
    shared = len(results) == 2 and (
        pictures[0][0].clients == pictures[1][0].clients
        and list(faculties[0]) == list(faculties[1])
    )
    if shared:
        layout = stable_layout(
            pictures[0] + pictures[1], faculties[0], pictures[0][0].clients, seed=layout_seed
        )
        return [layout, layout]
    return [
        stable_layout(p, f, p[0].clients, seed=layout_seed)
        for p, f in zip(pictures, faculties, strict=True)
    ]


def replay_html(
    results: Sequence[Any],
    colour_by: str = "social_interaction",
    context: bool = True,
    layout_seed: int = 0,
    lang: str = "en",
    predict: bool = True,
) -> str:
    """One HTML page replaying one or two runs week by week.

    Args:
        results: one or two :class:`~groupsim.RunResult` (with student and tie tables).
        colour_by: the state that colours the nodes (see `teaching.COLOUR_STATES`).
        context: draw the clients' campus friends faintly.
        layout_seed: seed of the spring layout.
        lang: the page's language ("en" or "id").
        predict: predict mode (the default for lessons): the slider reaches only the weeks
            played so far, so the class predicts before it sees; False opens every week.

    Runs of the same students (same cohort and seed) share one layout, so a student sits in
    the same place in both panels.
    """
    if not 1 <= len(results) <= 2:
        raise ValueError("give one or two runs")
    if colour_by not in COLOUR_STATES:
        raise ValueError(f"colour_by: must be one of {', '.join(COLOUR_STATES)}")
    words = messages(check_language(lang))
    pictures = [pictures_from_result(r, colour_by, context=context) for r in results]
    layouts = layouts_for(results, pictures, layout_seed)
    panels = [
        _panel(r, p, lay, colour_by, words)
        for r, p, lay in zip(results, pictures, layouts, strict=True)
    ]
    weeks = [p.week for p in max(pictures, key=len)]
    data = {
        "weeks": weeks,
        "panels": panels,
        "week_label": words.table["replay.week_label"],
        "play": words("page.play"),
        "pause": words("page.pause"),
    }
    # No "<", ">" or "&" in the script's text: no name ("</script>", "<!--<script>") ends it.
    payload = (
        json.dumps(data, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    title = " vs ".join(panel["title"] for panel in panels)
    sections = "".join(
        f'<div class="panel"><h2>{escape(panel["title"])}</h2>'
        f'<div class="caption" id="caption-{p}"></div>'
        f'<div id="network-{p}" class="network"></div><div id="chart-{p}" class="chart"></div>'
        f'<div id="numbers-{p}"></div></div>'
        for p, panel in enumerate(panels)
    )
    mode = words("replay.predict_note") if predict else words("replay.explore_note")
    buttons = (
        f'<button id="next" type="button">{escape(words("replay.next"))}</button>'
        f'<button id="reveal" type="button">{escape(words("replay.reveal"))}</button>'
        if predict
        else ""
    )
    return (
        f'<!DOCTYPE html><html lang="{words.language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(words('replay.title', title=title))}</title><style>{_STYLE}</style>"
        f"</head><body><h1>{escape(words('replay.title', title=title))}</h1>"
        f'<p class="note">{escape(words("replay.note", state=words.state(colour_by)))} '
        f"{escape(mode)}</p>"
        f'<div class="controls"><button id="play" type="button">{escape(words("page.play"))}'
        f"</button>{buttons}"
        f'<input id="week" type="range" min="0" max="{0 if predict else len(weeks) - 1}" '
        f'step="1" value="0" aria-label="week" data-last="{len(weeks) - 1}">'
        '<span id="week-label"></span></div>'
        f'<div class="panels">{sections}</div>'
        f'<script id="replay-data" type="application/json">{payload}</script>'
        f"<script>{_SCRIPT}</script></body></html>"
    )


def write_replay(results: Sequence[Any], out: str | Path, **options: Any) -> Path:
    """Write :func:`replay_html` to `out` atomically (mode 0644 under the usual umask)."""
    html = replay_html(results, **options)
    out = Path(out)
    with atomic_file(out, "w") as handle:
        handle.write(html)
    return out
