"""How fast the command line starts: `heritage-kg --help` and `heritage-kg stats --store S`,
each the median of N fresh interpreters, beside `python -c pass` (the floor no command beats).

The store is the one given with --store, else one built from the test fixtures (Tate and CMOA)
into a temporary folder: `stats` runs the same queries on any store, and a small one keeps the
figure about start-up rather than query time.

    python benchmarks/cli_startup.py [--runs 15] [--store data/store]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, write_results

FIXTURES = ROOT / "tests" / "fixtures"


def fixture_store() -> str:
    from heritage_kg.graph.build import build_graph
    from heritage_kg.graph.store import open_store

    folder = Path(tempfile.mkdtemp(prefix="cli-startup-")) / "store"
    with open_store(folder) as store:
        build_graph(store, "tate", str(FIXTURES / "tate"))
        build_graph(store, "cmoa", str(FIXTURES / "cmoa"))
    return str(folder)


def median_seconds(argv: list[str], runs: int) -> tuple[float, float]:
    """The median and the fastest wall time of `runs` fresh processes (output discarded)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per command")
    parser.add_argument("--store", help="a built store (default: the test fixtures, built into a temporary folder)")
    args = parser.parse_args()
    store = args.store or fixture_store()
    cli = [sys.executable, "-m", "heritage_kg.cli"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "heritage-kg --help": [*cli, "--help"],
        "heritage-kg stats --store S": [*cli, "stats", "--store", store],
    }
    rows = {name: median_seconds(argv, args.runs) for name, argv in commands.items()}
    floor = rows["python -c pass"][0]
    print(f"{args.runs} fresh processes each; store: {store}")
    print(f"{'command':<30} {'median s':>9} {'fastest s':>10} {'x floor':>8}")
    for name, (median, fastest) in rows.items():
        print(f"{name:<30} {median:>9.3f} {fastest:>10.3f} {median / floor:>8.1f}")
    write_results("cli_startup", {"runs": args.runs, "store": store,
                                  "seconds": {name: {"median": m, "fastest": f} for name, (m, f) in rows.items()}})


if __name__ == "__main__":
    main()
