"""Where a cell's runs go: this machine's process pool (``executor=local``, the default), a Dask
cluster (``executor=dask`` starts one on this machine; ``executor=dask:tcp://host:8786`` joins a
running one), or SLURM job arrays through submitit (``executor=submitit:slurm``;
``submitit:local`` runs the same array as local processes, to try it).

Each stored batch is cut into ``workers`` shards of consecutive runs; a shard's seeds are drawn
in the parent (``runner.run_seeds``), so its rows are those of ``workers=1`` wherever it runs, and
the batch is stored as it always is. Dask and submitit are the optional extra ``cluster``.
"""

from __future__ import annotations

import atexit
import math
from dataclasses import dataclass
from pathlib import Path

from guarantee_sim.errors import ConfigError

ALLOWED = "local, dask, dask:<scheduler address> (e.g. dask:tcp://10.0.0.5:8786), submitit:slurm or submitit:local"
_OPEN: dict[tuple, object] = {}  # one Dask client per address and worker count, kept for the process


@dataclass(frozen=True)
class Executor:
    kind: str  # "local", "dask" or "submitit"
    where: str = ""  # dask: "" (a cluster on this machine) or the scheduler's address; submitit: "slurm" or "local"


def parse(text) -> Executor:
    """The ``executor`` run setting, checked; ConfigError naming the key otherwise."""
    spec = str(text).strip()
    kind, _, where = spec.partition(":")
    if spec == "local":
        return Executor("local")
    if kind == "dask" and (not where or "://" in where or ":" in where):
        return Executor("dask", where)
    if kind == "submitit" and where in ("slurm", "local"):
        return Executor("submitit", where)
    raise ConfigError("executor", f"unknown executor {spec!r}", ALLOWED)


def shards(runs: int, workers: int) -> list[tuple[int, int]]:
    """``(first, stop)`` of each shard: ``workers`` runs of consecutive runs, the first ones larger."""
    size = max(1, math.ceil(runs / max(1, workers)))
    return [(s, min(s + size, runs)) for s in range(0, runs, size)]


def run_shards(spec: Executor, fn, tasks: list[tuple], workers: int, folder: Path) -> list:
    """``fn(*task)`` for every task on ``spec``'s executor, results in task order."""
    if spec.kind == "dask":
        client = _dask_client(spec.where, workers)
        return client.gather([client.submit(fn, *task, pure=False) for task in tasks])
    if spec.kind == "submitit":
        import submitit

        executor = submitit.AutoExecutor(folder=str(folder), cluster=spec.where)
        executor.update_parameters(timeout_min=24 * 60)
        jobs = executor.map_array(fn, *zip(*tasks))  # one job array per stored batch
        return [job.result() for job in jobs]
    raise ValueError(spec)


def close_all() -> None:
    """Close the Dask clients (and the clusters started here) this process opened."""
    while _OPEN:
        _, client = _OPEN.popitem()
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


def _dask_client(address: str, workers: int):
    """A client of the scheduler at ``address``, or of a cluster of ``workers`` processes started on
    this machine (one thread each: the model is pure Python)."""
    import logging

    from distributed import Client, LocalCluster

    for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker", "distributed.core"):
        logging.getLogger(name).setLevel(logging.WARNING)  # a cluster's start and stop are not the run's news
    key = (address, workers if not address else 0)
    client = _OPEN.get(key)
    if client is None:
        if address:
            client = Client(address)
        else:
            # no web page; its HTTP server on a free port, so two processes' clusters never contend for 8787
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   scheduler_kwargs={"dashboard": False})
            client = Client(cluster)
        _OPEN[key] = client
        if len(_OPEN) == 1:
            atexit.register(close_all)
    return client
