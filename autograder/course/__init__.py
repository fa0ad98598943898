"""The course and its configuration: assignment.toml (`config`), where the submissions
are (`discovery`), the course's data files (`datafile`), and nbgrader's converter run
for the course (`generate`).

Imports nothing: each module is imported for itself.
"""
