"""The demo build, world generation 2 against generation 1, side by side in one run.

    .venv/bin/python benchmarks/bench_world.py [--profile demo] [--baseline 92451b7]

The baseline is the last commit of the first world generation, checked out into a
temporary git worktree; both builds run the same profile and seed, one after the other,
each in its own process under ``/usr/bin/time -v`` (wall time and peak resident memory
of the whole command, as a user running ``cropsm demo build`` sees them). Nothing else
should run meanwhile: the builds use both cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import line  # noqa: E402

#: Budgets of issue 16: wall seconds and peak GB per profile.
BUDGETS = {"tiny": (60.0, None), "demo": (600.0, 16.0)}


def timed_build(source: Path, profile: str, seed: int, out: Path) -> dict:
    """Run ``cropsm demo build`` from ``source``'s package; wall s, peak GB, report."""
    code = ("import sys; sys.argv = ['cropsm'] + sys.argv[1:]; "
            "from cropsm.cli import main; main()")
    command = ["/usr/bin/time", "-v", sys.executable, "-c", code, "demo", "build",
               "--profile", profile, "--seed", str(seed), "--out", str(out / "data"),
               "--catalog", str(out / "cropsm.yaml"), "--quiet"]
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=source, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(source)})
    wall = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"build from {source} failed:\n{done.stderr[-3000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                            done.stderr).group(1))
    report = json.loads((out / "data" / "build_report.json").read_text())
    return {"wall": wall, "peak_gb": peak_kb / 1e6, "report": report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo", choices=sorted(BUDGETS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--baseline", default="92451b7",
                        help="commit of the first world generation")
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()} python "
          f"{platform.python_version()}; date {time.strftime('%Y-%m-%d')}; profile "
          f"{args.profile}, seed {args.seed}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        old_tree = tmp_path / "generation1"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old_tree),
                        args.baseline], check=True, capture_output=True)
        try:
            old = timed_build(old_tree, args.profile, args.seed, tmp_path / "old")
            new = timed_build(ROOT, args.profile, args.seed, tmp_path / "new")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(old_tree)], check=False, capture_output=True)
    wall_budget, memory_budget = BUDGETS[args.profile]
    for name, run in (("generation 1", old), ("generation 2", new)):
        t = run["report"]["timings"]
        print(f"{name}: wall {run['wall']:.0f} s, peak {run['peak_gb']:.1f} GB; steps: "
              + ", ".join(f"{k[:-2]} {v:.0f} s" for k, v in t.items()))
    line(f"{args.profile} build wall: generation 2 {new['wall']:.0f} s vs 1 {old['wall']:.0f} s",
         new["wall"] / old["wall"], new["wall"] <= wall_budget, f"<= {wall_budget:.0f} s")
    if memory_budget is not None:
        line(f"{args.profile} build peak memory: 2 {new['peak_gb']:.1f} GB vs 1 "
             f"{old['peak_gb']:.1f} GB", new["peak_gb"] / old["peak_gb"],
             new["peak_gb"] <= memory_budget, f"<= {memory_budget:.0f} GB")
    size_old, size_new = (r["report"]["size_bytes"] / 1e9 for r in (old, new))
    line(f"{args.profile} stores on disk: 2 {size_new:.2f} GB vs 1 {size_old:.2f} GB",
         size_new / size_old, "-", "-")


if __name__ == "__main__":
    main()
