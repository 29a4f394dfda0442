"""The document layer: reports built once as blocks, rendered to Markdown and HTML, and figures."""
