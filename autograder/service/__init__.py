"""The course service: grade on submit (`autograder serve`). A stage above the verbs: it
uses the grading pipeline through `verbs.grade`, and nothing of the pipeline imports
it."""
