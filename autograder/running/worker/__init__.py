"""The untrusted side: a process that runs student notebooks and answers calls with
plain data.

Nothing in this package may import the grader's modules (hidden suites, solutions,
results): only `protocol` and `names`, which import nothing of ours but each other.
"""
