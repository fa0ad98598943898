"""autograder: grade Jupyter notebook exercises with hidden pytest suites, student code
sandboxed."""

__version__ = "0.1.0"
