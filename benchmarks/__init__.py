"""Benchmarks: ``python -m benchmarks`` runs them all; each prints ratios against a same-run baseline."""
