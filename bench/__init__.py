"""Benchmarks: a data generator and load scenarios. Results are printed, never asserted."""
