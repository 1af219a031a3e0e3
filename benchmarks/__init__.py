"""Benchmarks: utilization against best-known results and a peer engine, and kernel timings.

``nest bench`` runs `benchmarks.run.run_benchmark`; each run is its own process
(`benchmarks.single`); `benchmarks.kernels` times the geometry kernels.
"""
