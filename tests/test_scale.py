"""Scale-out on a real engine: the command line against a command-line dask cluster."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner
from servers import free_port, wait_until

from cropsm.cli import main

START, END = "2018-05-01", "2018-05-31"
_DASK = str(Path(sys.executable).parent / "dask")


def _files(store: Path) -> dict[str, bytes]:
    store = store.resolve()
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*"))
            if p.is_file() and ".cropsm-progress" not in p.parts}


def _start(command: list[str], log=None) -> subprocess.Popen:
    # one core per process, as a cluster node's worker slot would be
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, stdout=log or tempfile.TemporaryFile(),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_cli_predict_on_a_command_line_cluster_survives_a_killed_worker(
        product_catalog, tiny_models, tmp_path):
    from distributed import Client

    args = ["predict", "--catalog", str(product_catalog), "--models", str(tiny_models),
            "--start", START, "--end", END, "--quiet"]
    clean = CliRunner().invoke(main, [*args, "--workers", "0",
                                      "--out", str(tmp_path / "clean.zarr")])
    assert clean.exit_code == 0, clean.output
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = [_start([_DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                         "--no-dashboard"], (tmp_path / "scheduler.log").open("wb"))]
    try:
        wait_until(lambda: _listening(port), 60, f"dask scheduler on port {port}")
        # no nanny: SIGKILL ends the worker for good, nothing restarts it
        workers = [_start([_DASK, "worker", address, "--nthreads", "1", "--no-nanny",
                           "--no-dashboard", "--memory-limit", "4GB", "--name", f"w{i}"])
                   for i in range(2)]
        processes += workers
        with Client(address) as client:
            client.wait_for_workers(2, timeout=60)
        log = tmp_path / "predict.log"
        run = _start([sys.executable, "-m", "cropsm.cli", *args, "--scheduler", address],
                     log.open("wb"))
        processes.append(run)
        versions = product_catalog.parent / "data" / ".versions"

        def done() -> int:
            return len(list(versions.glob("*.partial-*/.cropsm-progress/map-*")))

        wait_until(lambda: done() >= 2, 300, "2 map tasks done on the cluster", interval=0.02)
        os.kill(workers[0].pid, signal.SIGKILL)
        at_kill = done()
        assert run.poll() is None  # the run was not over
        assert workers[0].wait(timeout=30) == -signal.SIGKILL
        most = at_kill
        while run.poll() is None:  # the markers go with the publish: count them before
            most = max(most, done())
            time.sleep(0.05)
        assert run.returncode == 0, log.read_text() + (tmp_path / "scheduler.log").read_text()
        assert at_kill < most  # map tasks were still to run when the worker died
        target = product_catalog.parent / "data" / "soil_moisture.zarr"
        assert _files(target) == _files(tmp_path / "clean.zarr")
        print(f"\nworker process {workers[0].pid} killed after {at_kill} of at least {most} "
              f"map tasks; the store is byte-identical to a clean run "
              f"({len(_files(target))} files)")
    finally:
        for proc in reversed(processes):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def test_the_batch_cluster_example_writes_single_core_worker_jobs():
    script = Path(__file__).resolve().parents[1] / "scripts" / "cluster_predict.py"
    for kind, directive in (("slurm", "#SBATCH"), ("pbs", "#PBS")):
        out = subprocess.run([sys.executable, str(script), "--kind", kind, "--queue", "normal",
                              "--dry-run"], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        job = out.stdout
        assert f"{directive} -q normal" in job or f"{directive} -p normal" in job
        assert "--nthreads 1" in job and "OMP_NUM_THREADS=1" in job
        assert "distributed.cli.dask_worker tcp://" in job
