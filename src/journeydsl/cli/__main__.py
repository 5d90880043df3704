"""`python -m journeydsl.cli ...` runs the `journey` command."""

from .root import main

main()
