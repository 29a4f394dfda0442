"""The document layer: blocks rendered to Markdown and one HTML page, the figure convention,
and the one network picture drawn as SVG and with matplotlib from the same geometry."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from groupsim.document.blocks import (
    BulletList,
    Code,
    Document,
    FigureBlock,
    Heading,
    Note,
    Paragraph,
    Table,
)
from groupsim.document.figures import Figure, figure_bytes, save_figure, styled
from groupsim.document.network import (
    PIXEL,
    WeekPicture,
    colour_of,
    faculty_layout,
    network_scene,
)
from groupsim.document.network_draw import draw_scene, scene_svg
from groupsim.document.render import to_html, to_markdown, write_document

SRC = Path(__file__).resolve().parents[1] / "src" / "groupsim"
PYPLOT_OR_BACKEND = r"matplotlib\.use\(|import matplotlib\.pyplot|from matplotlib import pyplot"


def _line_figure(slope: float = 1.0) -> Figure:
    with styled():
        fig = Figure(figsize=(3, 2))
        fig.subplots().plot([0, 1], [0, slope])
    return fig


def _document(draw=None) -> Document:
    return Document(
        "Report on <b>arms</b>",
        [
            Heading("Result"),
            Paragraph("`home_room` raised it by *0.2* & more <script>alert(1)</script>"),
            BulletList(["first `a_b`", "second"]),
            Note("two runs failed"),
            Code("groupsim compare a.toml b.toml --out OUT", "sh"),
            Table.from_frame(pd.DataFrame({"scenario": ["x|y", "<i>z</i>"], "mean": [0.5, 1]})),
            FigureBlock("line", "A line [rising]", draw),
        ],
    )


def test_markdown_has_every_block_in_order():
    text = to_markdown(_document())
    # Names reach Markdown as text: no raw HTML (a viewer would render it).
    assert text.startswith("# Report on &lt;b>arms&lt;/b>\n\n## Result\n\n")
    assert "<script>" not in text
    assert "- first `a_b`\n- second" in text
    assert "> **Note:** two runs failed" in text
    assert "```sh\ngroupsim compare a.toml b.toml --out OUT\n```" in text
    assert "| scenario | mean |\n| --- | --- |\n| x\\|y | 0.5 |" in text
    assert "![A line \\[rising\\]](line.png)" in text
    assert "(SVG: [line.svg](line.svg))" in text
    order = [text.index(s) for s in ("## Result", "- first", "> **Note", "```sh", "| scenario")]
    assert order == sorted(order)


def test_html_renders_inline_markdown_and_escapes_names():
    page = to_html(_document(), {"line": b"\x89PNG fake"})
    assert "<title>Report on &lt;b&gt;arms&lt;/b&gt;</title>" in page
    assert "<code>home_room</code> raised it by <em>0.2</em> &amp; more" in page
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<td>x|y</td>" in page
    assert "<td>&lt;i&gt;z&lt;/i&gt;</td>" in page
    assert page.count("<table>") == 1
    assert "<th>scenario</th>" in page
    assert '<p class="note"><strong>Note:</strong> two runs failed</p>' in page
    assert "<pre><code>groupsim compare a.toml b.toml --out OUT</code></pre>" in page
    encoded = base64.b64encode(b"\x89PNG fake").decode("ascii")
    assert f'src="data:image/png;base64,{encoded}"' in page
    assert "<li>first <code>a_b</code></li>" in page


def test_html_needs_every_figure():
    with pytest.raises(ValueError, match="line"):
        to_html(_document(), {})


def test_write_document_draws_figures_and_writes_both_renderings(tmp_path):
    written = write_document(_document(_line_figure), tmp_path)
    assert [p.name for p in written] == ["line.png", "line.svg", "report.md", "report.html"]
    png = (tmp_path / "line.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "report.html").read_text()
    assert base64.b64encode(png).decode("ascii") in page
    assert "](line.png)" in (tmp_path / "report.md").read_text()


def test_write_document_writes_figures_drawn_elsewhere_as_they_are(tmp_path):
    files = figure_bytes(_line_figure())
    written = write_document(_document(_unused), tmp_path, drawn={"line": files})
    assert [p.name for p in written] == ["line.png", "line.svg", "report.md", "report.html"]
    assert (tmp_path / "line.png").read_bytes() == files[0]
    assert (tmp_path / "line.svg").read_bytes() == files[1]
    assert save_figure(_line_figure(), tmp_path, "here")[1].read_bytes() == files[1]


def _unused() -> Figure:
    raise AssertionError("a figure drawn elsewhere is not drawn again")


def test_the_same_figure_gives_the_same_svg_and_another_figure_does_not(tmp_path):
    first = save_figure(_line_figure(), tmp_path, "a")[1].read_bytes()
    again = save_figure(_line_figure(), tmp_path, "b")[1].read_bytes()
    other = save_figure(_line_figure(2.0), tmp_path, "c")[1].read_bytes()
    assert first == again
    assert first != other
    assert b"<dc:date>" not in first


def _constrained_figure() -> Figure:
    with styled():
        fig = Figure(figsize=(3, 2), layout="constrained")
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1])
        ax.set_ylabel("a label the layout makes room for")
    return fig


def test_the_svg_keeps_the_png_layout_and_the_figure_its_engine(tmp_path, monkeypatch):
    fig = _constrained_figure()
    engine = fig.get_layout_engine()
    runs = []
    execute = type(engine).execute
    monkeypatch.setattr(type(engine), "execute", lambda self, f: runs.append(1) or execute(self, f))
    svg = save_figure(fig, tmp_path, "laid_out")[1].read_bytes()
    assert len(runs) == 1  # for the PNG only: the SVG keeps its layout
    assert fig.get_layout_engine() is engine  # laid out again on a later save
    assert save_figure(_constrained_figure(), tmp_path, "again")[1].read_bytes() == svg


# ---------------------------------------------------------------------------- the network


@pytest.fixture
def scene():
    picture = WeekPicture(
        week=3,
        clients=(0, 1, 2),
        context=(5,),
        colour={0: 0.0, 1: 0.5, 2: 1.0, 5: 0.3},
        disclosure={0: 0.0, 1: 1.0, 2: 0.5, 5: 0.0},
        edges=((0, 1, 0.9), (1, 2, 0.1), (2, 5, 0.5)),
    )
    positions = faculty_layout([0, 1, 2, 0, 1, 2], [0, 1, 2])
    return network_scene(picture, positions, {0: "A", 1: "B", 2: "C"}, highlight=2)


def test_scene_geometry(scene):
    clients = {node.student: node for node in scene.clients}
    assert set(clients) == {0, 1, 2}
    assert clients[1].radius > clients[2].radius > clients[0].radius  # size follows disclosure
    assert clients[0].fill == colour_of(0.0)
    assert clients[2].fill == colour_of(1.0)
    assert clients[2].stroke == "#d32f2f"
    assert clients[0].stroke == "#263238"
    assert [node.client for node in scene.nodes] == [False, True, True, True]  # friends below
    assert [edge.in_group for edge in scene.edges] == [False, True, True]  # group ties on top
    assert scene.group_ties == 2
    assert scene.density == pytest.approx(2 / 3)
    for node in scene.clients:  # labels sit outside the disc, away from the centre
        assert np.hypot(node.label_x, node.label_y) > np.hypot(node.x, node.y) + node.radius
    assert clients[0].y < 0  # the first client at the top (y grows downwards)


def test_svg_and_matplotlib_draw_the_same_geometry(scene):
    size = 380  # the reference drawing: one PIXEL is one pixel
    svg = scene_svg(scene, size)
    width, scale = size + 200, 0.4 * size
    drawn = {
        int(m.group(4)): (float(m.group(1)), float(m.group(2)), float(m.group(3)))
        for m in re.finditer(
            r'cx="([\d.-]+)" cy="([\d.-]+)" r="([\d.]+)"[^>]*data-student="(\d+)"', svg
        )
    }
    for node in scene.clients:
        cx, cy, r = drawn[node.student]
        assert cx == pytest.approx(width / 2 + scale * node.x, abs=0.06)
        assert cy == pytest.approx(size / 2 + scale * node.y, abs=0.06)
        assert r == pytest.approx(node.radius / PIXEL, abs=0.06)
    with styled():
        fig = Figure(figsize=(4, 4))
        ax = fig.subplots()
        points = draw_scene(ax, scene, extent=(1.2, 1.2))
    lines, clients, friends = ax.collections
    assert len(lines.get_segments()) == len(scene.edges)
    np.testing.assert_allclose(clients.get_offsets(), [(node.x, node.y) for node in scene.clients])
    np.testing.assert_allclose(lines.get_linewidths(), [e.width * points for e in scene.edges])
    assert len(friends.get_offsets()) == 1
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # y inverted, as in SVG
    assert sorted(t.get_text() for t in ax.texts) == ["A", "B", "C"]


def test_document_layer_loads_no_mesa_and_nothing_above_it():
    code = (
        "import sys, groupsim.document.render, groupsim.document.network_draw; "
        "bad = [m for m in sys.modules if m == 'mesa' or m.startswith(('groupsim.runs', "
        "'groupsim.study', 'groupsim.sweep', 'groupsim.teach'))]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_module_chooses_a_matplotlib_backend():
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if re.search(PYPLOT_OR_BACKEND, path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
