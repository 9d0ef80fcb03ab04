"""Benchmarks: scripts that print figures measured in one run (see docs/benchmarks.md).

This folder is a package so that tests can reuse the real-footage generator
(``from benchmarks.realfootage import ...``).  Run a script as a module from the
repository root, e.g. ``python -m benchmarks.bench_realfootage``.
"""
