"""Benchmarks: `make bench` (python -m bench) runs the sections of bench/__main__.py."""
