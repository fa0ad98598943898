"""`python -m autograder.running.worker RELEASE_DIR`: the worker process the grader
starts (inside the sandbox)."""

from .zygote import main

main()
