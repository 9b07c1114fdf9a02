"""Benchmarks: a synthetic portal farm, its loopback server, and the `make bench` harness.

Bench code, not product code: nothing under crawler/ or verifier/ imports it.
"""
