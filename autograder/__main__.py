"""`python -m autograder` is the `autograder` command."""

from .cli import run

run()
