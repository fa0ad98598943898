# nbgrader reads this when run in the repository: the course directory is the repository root,
# so `nbgrader generate_assignment student-admissions` writes release/student-admissions/.
c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads the file)
c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
# Data files travel with the notebook into the release.
c.CourseDirectory.include = ["*.ipynb", "*.csv"]
