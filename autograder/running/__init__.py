"""Running student code: the notebook as loaded and checked (`notebook_file`,
`submission`), the worker's launch and sandbox (`launch`, `sandbox`, `pythonview`), the
wire protocol (`protocol`), and the grader's side of it (`worker_process`, `session`,
`references`). The trust boundary runs through here: `worker/` is the untrusted side,
and imports nothing of the grader's.

Imports nothing: each module is imported for itself.
"""
