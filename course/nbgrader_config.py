"""nbgrader settings of the d2lrnn course: the exercise sources are in ``source/<assignment>/``.

Run nbgrader's commands from this folder (or from a copy of it; see docs/teaching.md).
"""
c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.course_id = "d2lrnn"
# What a student finds in place of a solution: one line to replace.
c.ClearSolutions.code_stub = {"python": 'raise NotImplementedError("replace this line with your code")'}
# The autograder runs the notebooks in the test environment; a quick run stays well under this.
c.ExecutePreprocessor.timeout = 600
