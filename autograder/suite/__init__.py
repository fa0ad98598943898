"""The hidden suite: the pytest plugin and its fixtures (`plugin`), the comparisons of
the `check` fixture (`assertions`), the calls that isolate each function (`compare`),
known wrong answers (`misconceptions`), the reference cache (`refcache`), the run of the
suite for one submission (`runner`) and its points (`scoring`).

Imports nothing: each module is imported for itself.
"""
