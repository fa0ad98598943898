"""The reference of test_session.py's stand-in tests: a module file, as a course's reference is, since the
grader's reference process (autograder/running/referee.py) imports it by path."""


def square(x):
    return x * x


def cube(x):
    return x * x * x
