"""Hydra's basic sweeper, without its serial re-composition of every cell, launching several cells
per job.

``guarantee-sim`` composes and checks the command's cells before Hydra starts, so the basic
sweeper's own composition of every cell before the launch (~0.2 s a cell with no core busy) is
skipped. And a Hydra job costs ~0.5 s of CPU before its cell starts (composition, job set-up), most
of a cell's time in a many-cell sweep; so under a launcher that runs jobs on this machine the cells
are dealt out over a few jobs (``cells_per_job``; default: one job per worker of the joblib
launcher, one job for the basic launcher, one job per cell for any other launcher, such as a
cluster's; each job a scrambled share, so that the jobs cost about the same, and a job done with its
share takes the cells another has not begun: ``runs/cli.py: claim``). A job runs its
first cell as Hydra composed it and composes the others from it
(``scenario/compose.py: job_config``): the same configs, folders, store and tables as one job per
cell. Everything else (parsing, expanding ``a=1,2 b=x,y``, batches, preset ``hydra.sweeper.params``)
is the basic sweeper's.

Lives in ``hydra_plugins`` because Hydra loads sweepers only from there.
"""

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore

# how a job is told which cells are its own: hydra.job.env_set.<name> (not a task override, so the
# job's folder, cell name and config are its first cell's)
SHARE_KEYS = ("GS_FIRST", "GS_COUNT", "GS_JOB", "GS_JOBS")


@dataclass
class CheckedSweeperConf(BasicSweeperConf):
    _target_: str = "hydra_plugins.guarantee_sim_sweeper.checked_sweeper.CheckedSweeper"
    cells_per_job: Optional[int] = None  # null: as the module doc says; 1: one job per cell


def launcher_workers(launcher) -> Optional[int]:
    """Jobs the launcher runs at once on this machine; None for a launcher that runs them elsewhere."""
    target = str(launcher.get("_target_", ""))
    if target.endswith("BasicLauncher"):
        return 1
    if target.endswith("JoblibLauncher"):
        n = launcher.get("n_jobs")
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if n is None or n == 0:
            return 1
        return int(n) if n > 0 else max(cpus + 1 + int(n), 1)  # joblib: -1 all CPUs, -2 all but one, ...
    return None


class CheckedSweeper(BasicSweeper):
    def __init__(self, max_batch_size: Optional[int], params=None, cells_per_job: Optional[int] = None):
        super().__init__(max_batch_size, params)
        self.cells_per_job = cells_per_job
        self._first = 0

    def validate_batch_is_legal(self, batch) -> None:
        """The cells were checked by ``guarantee-sim`` before Hydra started (see the module doc)."""

    def _jobs(self, cells: int) -> int:
        if self.cells_per_job is not None:
            return math.ceil(cells / max(int(self.cells_per_job), 1))
        workers = launcher_workers(self.config.hydra.launcher)
        return cells if workers is None else min(cells, workers)

    def _manifest_lists(self, first: int, batch) -> bool:
        """The sweep folder's manifest (written by ``guarantee-sim``) holds these cells' overrides."""
        try:
            cells = json.loads((Path(self.config.hydra.sweep.dir) / "manifest.json").read_text())["cells"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return [c.get("overrides") for c in cells[first:first + len(batch)]] == [list(job) for job in batch]

    def get_job_batch(self):
        batch = super().get_job_batch()
        first, self._first = self._first, self._first + len(batch)
        jobs = self._jobs(len(batch))
        if jobs >= len(batch) or not self._manifest_lists(first, batch):
            return batch
        return [[*batch[share_of(len(batch), k, jobs)[0]], *(f"++hydra.job.env_set.{key}={value}" for key, value in
                              zip(SHARE_KEYS, (first, len(batch), k, jobs)))] for k in range(jobs)]


def share_of(cells: int, job: int, jobs: int) -> list[int]:
    """The cells (positions in their batch) job ``job`` of ``jobs`` runs, its own first: every
    ``jobs``-th of the cells in a fixed scrambled order, so that no job gets all of the cells of one
    costly value (every other cell of a 4-valued lever would be two of its values)."""
    order = sorted(range(cells), key=lambda i: ((i * 2654435761) % 2**32, i))
    return order[job::jobs]


def job_share(env_set) -> Optional[tuple[int, int, int, int]]:
    """(first cell of the batch, cells in the batch, this job, jobs) when the job runs several cells."""
    if env_set is None or "GS_JOB" not in env_set:
        return None
    return tuple(int(env_set[key]) for key in SHARE_KEYS)


ConfigStore.instance().store(group="hydra/sweeper", name="checked", node=CheckedSweeperConf, provider="guarantee_sim")
