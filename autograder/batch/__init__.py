"""Whole batches: the batch itself (`run`), grader processes on one machine (`parallel`,
`host`), a Dask cluster (`cluster`, `bundle`), resuming (`resume`), progress and
publishing each result to the outputs (`progress`, `publish`).

Imports nothing: each module is imported for itself.
"""
