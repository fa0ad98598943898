"""The commands besides grading: `release`, `validate`, the students' `check`
(`student_check`), `doctor` and `new`.

Imports nothing: each module is imported for itself.
"""
