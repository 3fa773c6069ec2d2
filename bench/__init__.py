"""Benchmarks at community scale: `python -m bench` (see the README)."""
