"""Relationship discovery: pure functions from record fields to references, signals and scores.

Nothing in this package performs I/O; the storage and orchestration layers call into it.
"""
