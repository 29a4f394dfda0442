"""The sweep layer: sweep files (`spec`), running them (`run`), their store and analysis.

This package file imports nothing heavy: `import groupsim.sweep` loads neither Mesa nor SciPy.
"""
