"""The version of groupsim, in one place.

`pyproject.toml` reads it (`[tool.setuptools.dynamic] version`) and `groupsim.__version__`
re-exports it. Modules below the top of the package import it from here rather than from
`groupsim`, so that no layer imports upward through `groupsim/__init__.py`.

Example:
    >>> from groupsim._version import __version__
    >>> __version__.count(".")
    2
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
