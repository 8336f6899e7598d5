"""Where a result came from: config, seed, package versions, git commit, times, run count."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

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


SOURCE_SUFFIXES = (".py", ".yaml")


@functools.cache
def source_hash() -> str:
    """A hash of the package's own source (its modules and its config menus), file by file."""
    root = Path(__file__).resolve().parents[1]  # src/guarantee_sim (conf/ is linked into it)
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts)
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


@functools.cache
def code_version() -> dict:
    """What computed a result: the package version and its git commit; the source's hash when there
    is no commit to name it (no git) or the checkout has uncommitted changes."""
    commit = git_commit()
    out = {"package": versions()["guarantee-sim"], "commit": None if commit == "unknown" else commit}
    if out["commit"] is None or out["commit"].endswith("+dirty"):
        out["source"] = source_hash()
    return out


def describe_code(code: dict | None) -> str:
    """A code version in words: ``guarantee-sim 0.1.0, commit 1a2b3c4d5e6f (+ changes 0f9e...)``."""
    if not code:
        return "an unrecorded code version"
    text = f"guarantee-sim {code.get('package')}"
    commit = code.get("commit")
    if commit:
        text += f", commit {commit[:12]}" + (" with uncommitted changes" if commit.endswith("+dirty") else "")
    if code.get("source"):
        text += f", source {code['source'][:12]}"
    return text


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


def _fsync(path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, write, durable: bool = True) -> None:
    """Write through a temporary file in the same folder, flush it to the disk and rename: never a
    half-written file, even after a power cut (the folder's entry is flushed too). ``durable=False``
    skips the flushes, for a file no result depends on (a lock's note of who holds it)."""
    write_all([(path, write)], durable)


_TOKEN = os.urandom(4).hex()  # this process's temporary files are told apart from other hosts' by it
_NUMBER = itertools.count()


def _temporary(path: Path) -> tuple[int, str]:
    """A new temporary file beside ``path``, opened as ``tempfile.mkstemp`` opens one but with an ordinary
    file's permissions (results are for sharing) and at less cost: a sweep writes seven files a cell."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    while True:
        tmp = os.path.join(path.parent, f".{path.name}.{_TOKEN}-{os.getpid()}-{next(_NUMBER)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def write_all(files: list[tuple[Path, object]], durable: bool = True) -> None:
    """``write_atomic`` for several files of one folder, renamed in the order given (the last one
    can mark the others complete) and the folder flushed once."""
    done: list[tuple[str, Path]] = []
    try:
        for path, write in files:
            path = Path(path)
            fd, tmp = _temporary(path)
            try:
                done.append((tmp, path))
                write(tmp)
                if durable:
                    os.fsync(fd)  # the file's data, whichever descriptor wrote it
            finally:
                os.close(fd)
    except BaseException:
        for tmp, _ in done:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise
    for tmp, path in done:
        os.replace(tmp, path)
    if durable:
        try:
            for folder in dict.fromkeys(path.parent for _, path in done):
                _fsync(folder, getattr(os, "O_DIRECTORY", 0) | os.O_RDONLY)
        except OSError:  # a folder cannot be flushed on some systems (Windows); the files themselves were
            pass


def json_writer(data):
    """What ``write_json`` writes, for ``write_all``."""
    return lambda p: Path(p).write_text(json.dumps(clean(data), indent=2, sort_keys=False) + "\n")


def write_json(path: Path, data, durable: bool = True) -> None:
    write_atomic(path, json_writer(data), durable)


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
