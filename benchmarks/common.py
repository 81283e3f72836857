"""What every benchmark script prints and how it times: shared by the ``bench_*`` scripts."""

from __future__ import annotations

import argparse
import statistics
import time


def best(fn, repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def median_time(fn, inputs) -> float:
    """Median wall time of ``fn`` over ``inputs[1:]``, after a warm-up call on ``inputs[0]``.

    The warm-up pays numba's compilation and the first reads of store metadata.
    """
    fn(inputs[0])
    times = []
    for item in inputs[1:]:
        t0 = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def line(name: str, ratio: float | str, ok: bool | str, target: str) -> None:
    """One result line: name, ratio to the baseline, whether the target is met, target."""
    ratio = f"{ratio:8.2f}" if isinstance(ratio, float) else f"{ratio:>8s}"
    print(f"{name:78s} {ratio}  {ok!s:5s} {target}", flush=True)


def model_parser(doc: str) -> argparse.ArgumentParser:
    """Options of the benchmarks that run trained models on real rows of the demo world.

    The catalog and models default to ``cropsm.config.settings()`` (``CROPSM_CATALOG``,
    ``CROPSM_MODELS``, else under the working directory), as for the ``cropsm`` commands.
    """
    from cropsm.config import settings

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--catalog", default=str(settings().catalog))
    parser.add_argument("--models", default=str(settings().models))
    return parser
