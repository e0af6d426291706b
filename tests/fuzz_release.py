"""The long fuzz run, for before a release: many hostile inputs, each in its own process.

    python tests/fuzz_release.py --count 2000 [--seed 1] [--jobs 2]

Each input (tests/fuzzing.py) runs as ``python -m kafkacheck.checker.cli ...`` in a fresh
scratch folder, under a wall-clock guard; the contract is checked and the outcomes tallied.
Exit status 0 when every input kept the contract; the failures are listed with their inputs.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))
import fuzzing  # noqa: E402

HANG_SECONDS = 30  # a run without --time-limit still must not take this long


def one(seed: int):
    rng = random.Random(seed)
    inp = fuzzing.make_input(rng)
    with tempfile.TemporaryDirectory(prefix="kc-fuzz-") as folder:
        fuzzing.materialize(inp, folder)
        before = fuzzing.snapshot(folder)
        guard = (inp.time_limit or HANG_SECONDS) + 10
        start = time.monotonic()
        try:
            p = subprocess.run([sys.executable, "-m", "kafkacheck.checker.cli", *inp.argv],
                               cwd=folder, capture_output=True, text=True, timeout=guard,
                               stdin=subprocess.DEVNULL)
            code, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            code, out, err = "hang", str(e.stdout or ""), str(e.stderr or "")
        seconds = time.monotonic() - start
        after = fuzzing.snapshot(folder)
    if code == "hang":
        return seed, inp, code, ["hang"], err
    return seed, inp, code, fuzzing.violations(inp, code, out, err, before, after, seconds), err


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    by_code, by_problem, failures = collections.Counter(), collections.Counter(), []
    first_lines = collections.Counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        for seed, inp, code, problems, err in pool.map(
                one, range(args.seed, args.seed + args.count)):
            by_code[code] += 1
            if code == 2:
                first_lines[" ".join(err.split()[:3])] += 1
            for p in problems:
                by_problem[p.split(" ")[0] if p.startswith("file") else p] += 1
            if problems:
                failures.append((seed, inp, problems, err))
    print(f"inputs: {args.count} (seeds {args.seed}..{args.seed + args.count - 1})")
    print("by exit code: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_code.items(),
                                                                      key=str)))
    print(f"contract kept: {args.count - len(failures)}; broken: {len(failures)}")
    for p, n in by_problem.most_common():
        print(f"  {n:>5}  {p}")
    for seed, inp, problems, err in failures[:40]:
        print(f"seed {seed}: {'; '.join(problems)}: kafkacheck {shlex.join(inp.argv)}")
        tail = err.strip().splitlines()[-3:]
        for line in tail:
            print(f"      {line[:200]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
