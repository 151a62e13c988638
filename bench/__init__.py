"""Benchmarks: ``python -m bench [section ...] [--quick]`` writes var/bench.json, one section per area.

Not run in CI (full-size runs take minutes). Each section is a module with ``run(quick: bool) -> Section``;
``bench/__main__.py`` lists them in ``SECTIONS``, so adding an area is one new module and one line.
"""
