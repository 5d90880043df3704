"""`python -m journeydsl.cli ...` runs the `journey` command."""

from . import main

main()
