"""Ratio benchmarks: ours against a baseline measured beside it in the same run.

``python -m benchmarks [--only NAME]`` imports every ``benchmarks/bench_*.py`` module and prints one JSON
line per measurement yielded by its ``run() -> Iterable[dict]``:
``{"bench": "...", "size": N, "ours": x, "baseline": y, "unit": "s", "ratio": y/x}``.
"""
