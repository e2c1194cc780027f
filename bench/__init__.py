"""Benchmarks for boostbox against peer stacks and limits, measured in one run (`make bench`).

Every figure is reported as a ratio to a baseline measured in the same run on the same machine.
"""
