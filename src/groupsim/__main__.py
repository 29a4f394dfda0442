"""`python -m groupsim ...` is the `groupsim` command."""

from groupsim.cli import main

main()
