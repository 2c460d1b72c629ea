"""Benchmarks: programs that print numbers (never timed tests)."""
