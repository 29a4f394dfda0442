"""`python -m groupsim ...` is the `groupsim` command."""

from groupsim.cli import main

if __name__ == "__main__":  # not when imported (e.g. by pytest --doctest-modules)
    main()
