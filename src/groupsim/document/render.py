r"""Rendering a :class:`~groupsim.document.blocks.Document` to Markdown and to one HTML page.

Markdown links the figures beside it (`NAME.png`, with `NAME.svg` named); HTML embeds them as
base64 PNG, so the one page can be mailed or archived. Inline Markdown becomes HTML through
markdown-it-py with raw HTML switched off, and the page shell is a Jinja template with
autoescaping, so a scenario called ``<b>`` stays text.

Example:
    >>> from groupsim.document.blocks import Document, Paragraph, Table
    >>> doc = Document("A <title>", [Paragraph("uses `home_room` & *more*"),
    ...                              Table.from_rows(["a|b"], [["<x>"]])])
    >>> print(to_markdown(doc))
    # A &lt;title>
    <BLANKLINE>
    uses `home_room` & *more*
    <BLANKLINE>
    | a\|b |
    | --- |
    | &lt;x> |
    <BLANKLINE>
    >>> page = to_html(doc, {})
    >>> "<p>uses <code>home_room</code> &amp; <em>more</em></p>" in page
    True
    >>> "<title>A &lt;title&gt;</title>" in page, "<td>&lt;x&gt;</td>" in page
    (True, True)
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from groupsim.document import blocks
from groupsim.document.figures import save_figure, write_figure_bytes

if TYPE_CHECKING:
    import jinja2
    from markdown_it import MarkdownIt

__all__ = ["markdown_table", "to_html", "to_markdown", "write_document"]


# ---------------------------------------------------------------------------- Markdown


def _cell(value: str) -> str:
    """A table cell in Markdown: pipes and HTML escaped, one line."""
    return _text(value).replace("|", "\\|").replace("\n", " ")


def _text(value: str) -> str:
    """Markdown text with no raw HTML: a scenario named `<script>` stays text.

    Example:
        >>> _text("a <b> & c")
        'a &lt;b> & c'
    """
    return value.replace("<", "&lt;")


def markdown_table(table: blocks.Table) -> str:
    """A table as Markdown (cells as text, pipes escaped), e.g. for a file of its own."""
    lines = ["| " + " | ".join(_cell(c) for c in table.header) + " |"]
    lines.append("| " + " | ".join("---" for _ in table.header) + " |")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _markdown_block(block: blocks.Block) -> str:
    """One block as Markdown (figures linked as `NAME.png` beside the report)."""
    match block:
        case blocks.Heading(text, level):
            return "#" * level + " " + _text(text)
        case blocks.Paragraph(text):
            return _text(text)
        case blocks.BulletList(items):
            return "\n".join(f"- {_text(item)}" for item in items)
        case blocks.Note(text):
            return f"> **Note:** {_text(text)}"
        case blocks.Code(text, language):
            return f"```{language}\n{text}\n```"
        case blocks.Table():
            return markdown_table(block)
        case blocks.FigureBlock(name, caption):
            caption = _text(caption)
            alt = caption.replace("[", "\\[").replace("]", "\\]")  # the caption, as alt text
            return f"![{alt}]({name}.png)\n\n*{caption}* (SVG: [{name}.svg]({name}.svg))"
    raise TypeError(f"not a block: {block!r}")


def to_markdown(document: blocks.Document) -> str:
    """The document as Markdown, figures linked as `NAME.png` beside it."""
    parts = [f"# {_text(document.title)}", *(_markdown_block(block) for block in document.blocks)]
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f2f2f2; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; }
figcaption { font-size: 0.9em; color: #444; }
code { background: #f4f4f4; padding: 0 0.2em; }
pre { background: #f4f4f4; padding: 0.6em 0.8em; overflow-x: auto; }
pre code { padding: 0; }
.note { border-left: 4px solid #e0a800; background: #fff8e1; padding: 0.4em 0.8em; }
"""

# One template for every report; `inline` renders inline Markdown, everything else is escaped.
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><style>{{ css }}</style></head><body>
<h1>{{ title | inline }}</h1>
{% for block in blocks %}{% set kind = block.__class__.__name__ %}
{%- if kind == "Heading" -%}
<h{{ block.level }}>{{ block.text | inline }}</h{{ block.level }}>
{%- elif kind == "Paragraph" -%}
<p>{{ block.text | inline }}</p>
{%- elif kind == "BulletList" -%}
<ul>{% for item in block.items %}<li>{{ item | inline }}</li>{% endfor %}</ul>
{%- elif kind == "Note" -%}
<p class="note"><strong>Note:</strong> {{ block.text | inline }}</p>
{%- elif kind == "Code" -%}
<pre><code>{{ block.text }}</code></pre>
{%- elif kind == "Table" -%}
<table><thead><tr>{% for cell in block.header %}<th>{{ cell }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in block.rows %}<tr>{% for cell in row -%}
<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{%- elif kind == "FigureBlock" -%}
<figure><img alt="{{ block.caption }}" src="data:image/png;base64,{{ images[block.name] }}">
<figcaption>{{ block.caption | inline }}</figcaption></figure>
{%- endif %}
{% endfor %}</body></html>
"""


@cache
def _markdown_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # CommonMark without raw HTML: a name such as "<b>" is text, never markup.
    return MarkdownIt("commonmark", {"html": False})


@cache
def _page_template() -> jinja2.Template:
    import jinja2
    from markupsafe import Markup

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters["inline"] = lambda text: Markup(_markdown_parser().renderInline(text))
    return environment.from_string(_PAGE)


def to_html(document: blocks.Document, images: Mapping[str, bytes]) -> str:
    """One self-contained HTML page; `images` maps every figure's name to its PNG bytes."""
    missing = [block.name for block in document.figures if block.name not in images]
    if missing:
        raise ValueError(f"to_html: no PNG for the figures {missing}")
    encoded = {
        name: base64.b64encode(data).decode("ascii")
        for name, data in images.items()
        if any(block.name == name for block in document.figures)
    }
    return _page_template().render(
        title=document.title, css=_CSS, blocks=document.blocks, images=encoded
    )


# ---------------------------------------------------------------------------- files


def write_document(
    document: blocks.Document,
    folder: str | Path,
    markdown: str = "report.md",
    html: str = "report.html",
    drawn: Mapping[str, tuple[bytes, bytes]] | None = None,
) -> list[Path]:
    """Draw the document's figures into `folder` and write its Markdown and HTML beside them.

    Every :class:`FigureBlock` with a `draw` function is drawn and saved as `NAME.png` and
    `NAME.svg` (see :func:`groupsim.document.figures.save_figure`), unless `drawn` holds its
    files already (name -> PNG and SVG bytes, `groupsim.document.figures.figure_bytes`, e.g.
    drawn by worker processes): those are written as they are. A figure with neither must
    find `NAME.png` in `folder` already. Returns the paths written, figures first.
    """
    folder = Path(folder)
    drawn = drawn or {}
    written: list[Path] = []
    images: dict[str, bytes] = {}
    for block in document.figures:
        if block.name in drawn:
            written += write_figure_bytes(drawn[block.name], folder, block.name)
        elif block.draw is not None:
            written += save_figure(block.draw(), folder, block.name)
        images[block.name] = (folder / f"{block.name}.png").read_bytes()
    (folder / markdown).write_text(to_markdown(document), encoding="utf-8")
    (folder / html).write_text(to_html(document, images), encoding="utf-8")
    return [*written, folder / markdown, folder / html]
