"""`make bench`: run every benchmark module in turn. Each prints its own figures."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))
    wanted = sys.argv[1:] or names
    for name in wanted:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n=== benchmarks.{name} ===", flush=True)
        started = time.perf_counter()
        module.main()
        print(f"(benchmarks.{name} took {time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
