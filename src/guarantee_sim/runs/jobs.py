"""A sweep job's part of the sweep: the cells it takes (its own share, then what other jobs have
not begun, each cell claimed by creating a file) and where the sweep stands when it finishes one.

A sweep launched by ``guarantee-sim`` runs its cells in few jobs (``hydra_plugins/guarantee_sim_sweeper``);
the sweep's ``manifest.json`` lists the cells, its ``.claims/`` folder says which are taken.
"""

from __future__ import annotations

import os
from pathlib import Path

from guarantee_sim.errors import ConfigError


def job_cells(hc, sweep_dir: Path, task: list[str]) -> list[tuple[int, list[str]]]:
    """The cells a job that runs several may take (``hydra_plugins/guarantee_sim_sweeper``), as
    (position in the manifest, overrides), from the sweep's manifest: its own share of its batch
    (``share_of``), its first cell first; then the other jobs' shares from their ends, so that a job
    done early takes what another has not begun (``claim``) and the jobs end about together."""
    from guarantee_sim.runs.sweep import CLAIMS
    from hydra_plugins.guarantee_sim_sweeper.checked_sweeper import job_share, share_of

    share = job_share(hc.job.get("env_set"))
    if share is None:
        return []
    first, count, job, jobs = share
    cells = (_manifest(sweep_dir).get("cells") or [])[first:first + count]
    shares = [share_of(len(cells), k, jobs) for k in range(jobs)]
    order = shares[job]
    if (sweep_dir / CLAIMS).is_dir():
        order = order + [i for k in range(1, jobs) for i in reversed(shares[(job + k) % jobs])]
    mine = [(first + i, cells[i].get("overrides")) for i in order]
    if not mine or mine[0][1] != task:
        raise ConfigError("hydra.sweep.dir", "the sweep's manifest.json does not list this job's cells",
                          "run the sweep with guarantee-sim, which writes it")
    return mine


def claim(sweep_dir: Path, position: int) -> bool:
    """Take the sweep's cell at ``position`` for this job: False if a job of this launch has taken it
    (creating a file is atomic, so two jobs never both take one). Without the launch's claims folder
    (a sweep not begun by ``guarantee-sim``) each job is given just its own share (``job_cells``)."""
    from guarantee_sim.runs.sweep import CLAIMS

    try:
        os.close(os.open(sweep_dir / CLAIMS / str(position), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return False
    except FileNotFoundError:
        return True
    return True


def sweep_progress(sweep_dir: Path, cell: str) -> str:
    """``[k/N, about T left]``: ``cell`` is the k-th of the sweep's N cells to finish in this launch
    (whichever job finished it), with the time left at the pace since the sweep began.

    k is the position of the cell's own line in the sweep's ``PROGRESS`` record: appends are atomic,
    so two jobs finishing together get different places, which counting finished cells cannot give."""
    from datetime import datetime, timezone

    from guarantee_sim.runs.sweep import PROGRESS

    manifest = _manifest(sweep_dir)
    total = len(manifest.get("cells") or [])
    if not total:
        return "[sweep]"
    record = sweep_dir / PROGRESS
    fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{cell}\n".encode())
    finally:
        os.close(fd)
    finished = record.read_text().splitlines()
    done = finished.index(cell) + 1 if cell in finished else len(finished)
    try:
        elapsed = (datetime.now(timezone.utc) - datetime.fromisoformat(manifest["written"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        elapsed = None
    left = ""
    if done < total and elapsed is not None:
        seconds = round(elapsed * (total - done) / done)
        left = f", about {seconds // 60} min {seconds % 60} s left" if seconds >= 60 else f", about {seconds} s left"
    return f"[{min(done, total):>{len(str(total))}}/{total}{left}]"


_MANIFESTS: dict[str, tuple[tuple, dict]] = {}


def _manifest(sweep_dir: Path) -> dict:
    """The sweep's manifest (not to be changed), read again only when its file changed: a job reads it
    for its cells, and every cell for its progress line."""
    from guarantee_sim.runs.store import read_json

    path = sweep_dir / "manifest.json"
    try:
        st = os.stat(path)
    except OSError:
        return {}
    signature = (st.st_ino, st.st_mtime_ns, st.st_size)
    known = _MANIFESTS.get(str(path))
    if known is None or known[0] != signature:
        known = _MANIFESTS[str(path)] = (signature, read_json(path) or {})
    return known[1]
