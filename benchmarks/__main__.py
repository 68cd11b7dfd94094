"""Entry point: ``python -m benchmarks [--only NAME] [--list]``."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

import benchmarks

REQUIRED = ("bench", "size", "ours", "baseline", "unit", "ratio")


def discover() -> list[str]:
    """Names of the ``bench_*`` modules, without the prefix (``table`` for ``bench_table.py``)."""
    return sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name.startswith("bench_")
    )


def selected(names: Sequence[str], only: str | None) -> list[tuple[str, str | None]]:
    """Modules to run, each with an optional exact bench-name filter.

    ``--only table`` runs ``bench_table``; ``--only table.filter`` runs ``bench_table`` and keeps only
    the ``table.filter`` measurements.
    """
    if only is None:
        return [(name, None) for name in names]
    if only in names:
        return [(only, None)]
    module = only.split(".", 1)[0]
    if module in names:
        return [(module, only)]
    raise SystemExit(f"unknown benchmark {only!r}; known modules: {', '.join(names)}")


def check(record: dict[str, Any]) -> dict[str, Any]:
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise ValueError(f"benchmark record {record!r} lacks {missing}")
    return record


def run(only: str | None, out: Any = sys.stdout) -> int:
    count = 0
    for name, bench_filter in selected(discover(), only):
        module = importlib.import_module(f"benchmarks.bench_{name}")
        records: Iterable[dict[str, Any]] = module.run()
        for record in records:
            if bench_filter is not None and record.get("bench") != bench_filter:
                continue
            print(json.dumps(check(record)), file=out, flush=True)
            count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", metavar="NAME", help="a module (table) or a bench name (table.filter)")
    parser.add_argument("--list", action="store_true", help="list the benchmark modules and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(discover()))
        return 0
    started = time.perf_counter()
    count = run(args.only)
    print(f"{count} measurements in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0 if count else 1


if __name__ == "__main__":
    raise SystemExit(main())
