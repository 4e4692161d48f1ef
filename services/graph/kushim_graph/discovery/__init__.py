"""Relationship discovery's rules: pure functions from record fields to references, signals,
scores and group decisions.

Nothing in this package performs I/O; the use cases of writes/ (discover.py, group_changes.py)
call into it with what db/ read.
"""
