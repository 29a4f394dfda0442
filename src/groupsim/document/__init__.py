"""The document layer: reports built once as blocks, rendered to Markdown and HTML; figures.

- :mod:`groupsim.document.blocks`: the blocks a report is made of, and :class:`Document`.
- :mod:`groupsim.document.render`: Markdown, one self-contained HTML page, and the files.
- :mod:`groupsim.document.figures`: the one figure convention (style, PNG + deterministic SVG).
- :mod:`groupsim.document.network`: the group-network picture's geometry, computed once.
- :mod:`groupsim.document.network_draw`: that geometry drawn as SVG and with matplotlib.

This layer imports no Mesa and nothing of `groupsim.runs`, `study`, `sweep` or `teach`.
"""
