"""The chaos scenarios at length (`make chaos`): PagerDuty-like and
datadog-ci-like load through `kubedora receiver` and `kubedora operator`
on the local control plane, with a receiver kill -9, an operator kill -9,
the active one of two peering replicas killed, the API server down for
30 s and restarted on its data, and every delivery sent three times in a
shuffled order. Prints one row per scenario; `lost` and `mismatches` must
be 0, and the exit code says whether they are.

    .venv/bin/python -m tests.benchmarks.chaos
    .venv/bin/python -m tests.benchmarks.chaos --incidents 300 --only receiver-kill

Not a test: the suite runs short versions (tests/integration/test_chaos.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tests.support.chaos import Outcome, Stack
from tests.support.faults import SCENARIOS, Size, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.chaos", description=__doc__)
    parser.add_argument("--incidents", type=int, default=1000, help="incidents per scenario")
    parser.add_argument("--deployments", type=int, default=200, help="deployments per scenario")
    parser.add_argument("--concurrency", type=int, default=32, help="incidents in flight")
    parser.add_argument("--outage", type=float, default=30.0, help="API server outage, seconds")
    parser.add_argument(
        "--only", action="append", choices=sorted(SCENARIOS), help="run only these (repeatable)"
    )
    parser.add_argument("--show", type=int, default=5, help="mismatches and losses to print")
    args = parser.parse_args()
    size = Size(args.incidents, args.deployments, args.concurrency, args.outage, 300.0)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="kubedora-chaos-") as tmp:
        stack = Stack.up(Path(tmp))
        try:
            for key in args.only or list(SCENARIOS):
                outcome = run(stack, key, size)
                outcomes.append(outcome)
                print(outcome.row(), flush=True)
                for problem in [*outcome.mismatches, *outcome.lost][: args.show]:
                    print(f"    {problem}", flush=True)
        finally:
            stack.down()
    print(
        f"\n{args.incidents} incidents and {args.deployments} deployments per scenario, "
        f"{args.concurrency} incidents in flight, {os.cpu_count()} CPUs"
    )
    print(Outcome.HEADER)
    for outcome in outcomes:
        print(outcome.row())
    failed = [o for o in outcomes if o.mismatches or o.lost]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
