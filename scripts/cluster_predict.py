r"""Run ``cropsm predict`` on a batch cluster: dask-jobqueue workers under SLURM or PBS.

One dask worker per batch job, one core and one thread each (the engine's tasks are
single-threaded), talking to a scheduler in this process; the product is written by
:func:`cropsm.pipelines.predict.predict_product` exactly as ``cropsm predict --scheduler``
writes it, resumable if the run is interrupted (``docs/scale.md``)::

    .venv/bin/python scripts/cluster_predict.py --kind slurm --jobs 40 --queue normal \
        --account my-project --catalog /shared/cropsm/catalogs/cropsm.yaml \
        --models /shared/cropsm/models --start 1993-01-01 --end 2018-12-31

``--dry-run`` prints the batch script one worker job would run, and submits nothing.
The catalog's stores and the models must be on a file system every node mounts.
"""

from __future__ import annotations

import argparse

from dask_jobqueue import PBSCluster, SLURMCluster

CLUSTERS = {"slurm": SLURMCluster, "pbs": PBSCluster}


def make_cluster(kind: str, queue: str | None, account: str | None, memory: str,
                 walltime: str):
    """A jobqueue cluster whose every job is one single-threaded dask worker."""
    return CLUSTERS[kind](
        cores=1, processes=1, memory=memory, walltime=walltime, queue=queue,
        account=account, scheduler_options={"dashboard_address": None},
        # the forests' kernels and numpy stay on the job's one core
        job_script_prologue=["export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "
                             "MKL_NUM_THREADS=1"])


def main() -> None:
    """Start the cluster, scale it, and run the prediction on it (or print a job script)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=sorted(CLUSTERS), default="slurm")
    parser.add_argument("--jobs", type=int, default=10, help="Worker jobs (one core each).")
    parser.add_argument("--queue")
    parser.add_argument("--account")
    parser.add_argument("--memory", default="4GB", help="Memory per worker job.")
    parser.add_argument("--walltime", default="04:00:00")
    parser.add_argument("--catalog", default="catalogs/cropsm.yaml")
    parser.add_argument("--models", default="models")
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--dry-run", action="store_true",
                        help="Print one worker job's batch script and exit.")
    args = parser.parse_args()
    with make_cluster(args.kind, args.queue, args.account, args.memory,
                      args.walltime) as cluster:
        if args.dry_run:
            print(cluster.job_script())
            return
        from cropsm.pipelines.predict import predict_product

        cluster.scale(jobs=args.jobs)
        run = predict_product(args.catalog, args.models, start=args.start, end=args.end,
                              scheduler=cluster.scheduler_address)
        print(run)


if __name__ == "__main__":
    main()
