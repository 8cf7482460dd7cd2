"""Gridscope benchmarks: figures, not pass/fail tests (speed targets live here, see bench/RESULTS.md)."""
