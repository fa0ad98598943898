"""What grading writes: results as JSON and CSV (`exports`), the terminal table
(`table`, `terminal`), feedback pages and the class report (`feedback`, `report`,
`plots`), nbgrader's gradebook and course folders (`gradebook`, `course_folders`,
`executed`), and Gradescope's format (`gradescope`).

Imports nothing: each module is imported for itself.
"""
