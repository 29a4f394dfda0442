r"""The document layer: reports built once as blocks, rendered to Markdown and HTML; figures.

- :mod:`groupsim.document.blocks`: the blocks a report is made of, and its `Document`
  (building a document loads nothing heavy).
- :mod:`groupsim.document.render`: Markdown, one self-contained HTML page, and the files.
- :mod:`groupsim.document.figures`: the one figure convention (style, PNG + deterministic SVG).
- :mod:`groupsim.document.network`: the group-network picture's geometry, computed once.
- :mod:`groupsim.document.network_draw`: that geometry drawn as SVG and with matplotlib.

This layer imports no Mesa and nothing of `groupsim.runs`, `study`, `sweep` or `teach`.

Example:
    >>> from groupsim.document.blocks import Document, Paragraph
    >>> from groupsim.document.render import to_markdown
    >>> print(to_markdown(Document("Notes", [Paragraph("one `line`")])), end="")
    # Notes
    <BLANKLINE>
    one `line`
"""
