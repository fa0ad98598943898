# nbgrader reads this when run in the repository: the course directory is the repository root,
# so `nbgrader generate_assignment student-admissions` writes release/student-admissions/.
c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads the file)
c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
# Every file of source/<assignment>/ (the notebook and its data) is released; `CourseDirectory.include`
# is left at nbgrader's default ("*"): it also filters what submit and collect copy, and nbgrader's
# timestamp.txt and submission_secret.txt must reach submitted/ for late penalties and feedback.
