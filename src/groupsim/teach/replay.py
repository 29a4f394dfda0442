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
    >>> "<script src" in html, html.count("<svg") > 0
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
    student_labels,
)
from groupsim.document.network_draw import network_svg
from groupsim.runs.store import atomic_file
from groupsim.teach.drawing import chart_svg, result_series, week_caption

__all__ = ["replay_html", "write_replay"]

_TECHNIQUE_WORDS = {
    "home_room": "home room",
    "standard": "standard group",
    "none": "no intervention",
}

_STYLE = """
body { font-family: sans-serif; margin: 16px; color: #263238; }
h1 { font-size: 20px; margin: 0 0 4px 0; }
.controls { display: flex; gap: 12px; align-items: center; margin: 10px 0; }
.controls input[type=range] { width: 420px; }
.panels { display: flex; flex-wrap: wrap; gap: 24px; }
.panel h2 { font-size: 16px; margin: 4px 0; }
.caption { font-size: 14px; margin-bottom: 4px; }
.note { font-size: 12px; color: #546e7a; max-width: 1100px; }
table { border-collapse: collapse; font-size: 12px; margin-top: 4px; }
td, th { border: 1px solid #cfd8dc; padding: 2px 6px; text-align: right; }
"""

_SCRIPT = """
const data = JSON.parse(document.getElementById('replay-data').textContent);
const slider = document.getElementById('week');
const label = document.getElementById('week-label');
const play = document.getElementById('play');
let timer = null;
function show(k) {
  data.panels.forEach((panel, p) => {
    const i = Math.min(k, panel.networks.length - 1);
    document.getElementById('network-' + p).innerHTML = panel.networks[i];
    document.getElementById('chart-' + p).innerHTML = panel.charts[i];
    document.getElementById('caption-' + p).textContent = panel.captions[i];
  });
  label.textContent = 'week ' + data.weeks[k];
}
function stop() { clearInterval(timer); timer = null; play.textContent = 'Play'; }
slider.addEventListener('input', () => { stop(); show(Number(slider.value)); });
play.addEventListener('click', () => {
  if (timer) { stop(); return; }
  if (Number(slider.value) >= Number(slider.max)) { slider.value = 0; show(0); }
  play.textContent = 'Pause';
  timer = setInterval(() => {
    if (Number(slider.value) >= Number(slider.max)) { stop(); return; }
    slider.value = Number(slider.value) + 1;
    show(Number(slider.value));
  }, 700);
});
show(0);
"""


def _faculty_of(result: Any) -> Any:
    first = result.students[result.students["week"] == result.students["week"].min()]
    return first.sort_values("student_id")["faculty"].to_numpy()


def _panel(result: Any, pictures: list, positions: dict, colour_by: str) -> dict[str, Any]:
    labels = student_labels(result)
    weekly = result.weekly
    last_week = int(weekly["week"].max())
    weeks = [int(w) for w in weekly["week"]]
    series = result_series(weekly)
    rows = weekly.to_dict("records")
    sc = result.scenario
    program = (sc.program.baseline_weeks, sc.program.baseline_weeks + sc.program_weeks)
    q = result.questionnaire
    return {
        "title": f"{_TECHNIQUE_WORDS.get(sc.counselor.technique, sc.counselor.technique)}"
        f" ({sc.name}, seed {result.seed})",
        "networks": [network_svg(p, positions, labels, colour_by, size=380) for p in pictures],
        "charts": [
            chart_svg(
                weeks,
                series,
                last_week,
                marker_week=p.week,
                program=program,
                title="Clients' mean states",
                width=580,
            )
            for p in pictures
        ],
        "captions": [week_caption(row, last_week) for row in rows],
        "questionnaire": [
            float(q[c].mean()) if q[c].notna().any() else None for c in ("pre", "post", "followup")
        ],
    }


def replay_html(
    results: Sequence[Any],
    colour_by: str = "social_interaction",
    context: bool = True,
    layout_seed: int = 0,
) -> str:
    """One HTML page replaying one or two runs week by week.

    Args:
        results: one or two :class:`~groupsim.RunResult` (with student and tie tables).
        colour_by: the state that colours the nodes (see `teaching.COLOUR_STATES`).
        context: draw the clients' campus friends faintly.
        layout_seed: seed of the spring layout.

    Runs of the same students (same cohort and seed) share one layout, so a student sits in
    the same place in both panels.
    """
    if not 1 <= len(results) <= 2:
        raise ValueError("give one or two runs")
    if colour_by not in COLOUR_STATES:
        raise ValueError(f"colour_by: must be one of {', '.join(COLOUR_STATES)}")
    pictures = [pictures_from_result(r, colour_by, context=context) for r in results]
    faculties = [_faculty_of(r) for r in results]
    shared = len(results) == 2 and (
        pictures[0][0].clients == pictures[1][0].clients
        and list(faculties[0]) == list(faculties[1])
    )
    if shared:
        layout = stable_layout(
            pictures[0] + pictures[1], faculties[0], pictures[0][0].clients, seed=layout_seed
        )
        layouts = [layout, layout]
    else:
        layouts = [
            stable_layout(p, f, p[0].clients, seed=layout_seed)
            for p, f in zip(pictures, faculties, strict=True)
        ]
    panels = [
        _panel(r, p, lay, colour_by) for r, p, lay in zip(results, pictures, layouts, strict=True)
    ]
    longest = max(pictures, key=len)
    weeks = [p.week for p in longest]
    data = {"weeks": weeks, "panels": panels}
    # No "<", ">" or "&" in the script's text: no name ("</script>", "<!--<script>") ends it.
    payload = (
        json.dumps(data, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    title = " vs ".join(panel["title"] for panel in panels)
    sections = []
    for p, panel in enumerate(panels):
        pre, post, follow = (
            "\N{EN DASH}" if v is None else f"{v:.1f}" for v in panel["questionnaire"]
        )
        sections.append(
            f'<div class="panel"><h2>{escape(panel["title"])}</h2>'
            f'<div class="caption" id="caption-{p}"></div>'
            f'<div id="network-{p}"></div><div id="chart-{p}"></div>'
            "<table><tr><th>questionnaire mean (35-140)</th><th>pre</th><th>post</th>"
            f"<th>follow-up</th></tr><tr><td>clients</td><td>{pre}</td><td>{post}</td>"
            f"<td>{follow}</td></tr></table></div>"
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>groupsim replay: {escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>groupsim replay: {escape(title)}</h1>"
        '<p class="note">Each circle is a client of the counseling group, labelled with their '
        f"faculty; colour shows {escape(COLOUR_STATES[colour_by])} (dark 0, yellow 1), size "
        "shows how deeply they have disclosed, line width the strength of a tie. Small faint "
        "dots are their friends elsewhere on campus. Move the slider or press Play.</p>"
        '<div class="controls"><button id="play" type="button">Play</button>'
        f'<input id="week" type="range" min="0" max="{len(weeks) - 1}" step="1" value="0" '
        'aria-label="week">'
        '<span id="week-label"></span></div>'
        f'<div class="panels">{"".join(sections)}</div>'
        f'<script id="replay-data" type="application/json">{payload}</script>'
        f"<script>{_SCRIPT}</script></body></html>"
    )


def write_replay(results: Sequence[Any], out: str | Path, **options: Any) -> Path:
    """Write :func:`replay_html` to `out` atomically; returns the path."""
    html = replay_html(results, **options)
    out = Path(out)
    with atomic_file(out, "w") as handle:
        handle.write(html)
    return out
