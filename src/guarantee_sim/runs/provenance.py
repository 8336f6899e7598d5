"""Where a result came from: config, seed, package versions, git commit, times, run count."""

from __future__ import annotations

import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)

PACKAGES = ("guarantee-sim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "hydra-core", "omegaconf")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@functools.cache
def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


@functools.cache
def git_commit() -> str:
    """The commit of the checkout the package runs from, or "unknown" (e.g. a wheel install)."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        return out + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def record(seed: int, started: str, runs: int, extra: dict | None = None) -> dict:
    return {
        "root_seed": int(seed),
        "runs": int(runs),
        "started": started,
        "finished": now(),
        "git_commit": git_commit(),
        "versions": versions(),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        **(extra or {}),
    }


def write_atomic(path: Path, write) -> None:
    """Write through a temporary file in the same folder and rename: never a half-written file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes files private; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: Path, data) -> None:
    write_atomic(path, lambda p: Path(p).write_text(json.dumps(clean(data), indent=2, sort_keys=False) + "\n"))


def clean(value):
    """JSON-safe: NaN becomes null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
