"""Where the report's numbers come from, in words: how each folder was made, its configuration, and
the small print under every figure (version, commit, runs, root seed, horizon)."""

from __future__ import annotations

from pathlib import Path

from guarantee_sim import __version__
from guarantee_sim.present.report.load import Results, Source

PROG = "guarantee-sim-report"  # the command: in its messages and in the report's footer


def command_line(source: Source) -> str:
    """How the folder was made, without this machine's paths (Hydra's folder settings left out)."""
    if source.kind == "sweep" and source.meta.get("overrides") is not None:
        return "guarantee-sim -m " + " ".join(str(o) for o in source.meta["overrides"])
    cmd = [str(c) for c in source.meta.get("command") or []]
    if not cmd:
        return ""
    keep = [c for c in cmd[1:] if not c.startswith(("hydra.", "hydra/")) and not Path(c).is_absolute()]
    return " ".join(["guarantee-sim", *keep])


def config_key(source: Source) -> str:
    """What identifies the configuration: a sweep's folder (the store key) and its overrides, or a
    run's config fingerprint and levers."""
    if source.kind == "sweep":
        overrides = " ".join(str(o) for o in source.meta.get("overrides") or [])
        return f"{source.name}" + (f" ({overrides})" if overrides else "")
    fp = str(source.meta.get("fingerprint", ""))[:10]
    levers = ",".join(f"{k}={v}" for k, v in zip(source.levers, source.summary.iloc[0][source.levers])) or "defaults"
    return f"{fp or source.name} ({levers})"


def runs_text(source: Source) -> str:
    runs = sorted(set(int(v) for v in source.summary["runs"])) if source.summary is not None else []
    per = " per cell" if source.kind == "sweep" else ""
    if not runs:
        return "? runs"
    return (f"{runs[0]} runs{per}" if len(runs) == 1 else f"{runs[0]}–{runs[-1]} runs{per}")


def stamp_for(res: Results, sources: list[Source] | None = None, extra: str = "") -> str:
    """The small print under every figure: version, commit, config key, runs, root seed, horizon."""
    from guarantee_sim.runs.provenance import git_commit

    now_commit = git_commit()
    parts = []
    for s in sources if sources is not None else res.sources:
        commit = str(s.meta.get("git_commit", "unknown"))
        version = (s.meta.get("versions") or {}).get("guarantee-sim", __version__)
        text = (f"config {config_key(s)} · {runs_text(s)} · root seed {s.meta.get('root_seed', '?')}"
                f" · horizon {float(s.meta.get('horizon') or res.horizon):g} days · guarantee_sim {version}"
                f" · commit {commit[:12]}{'+dirty' if commit.endswith('+dirty') and len(commit) > 12 else ''}")
        if len(res.sources) > 1:
            text = f"[{s.name}] " + text
        parts.append(text)
    head = " · ".join(parts)
    if now_commit != "unknown" and all(str(s.meta.get("git_commit")) != now_commit for s in (sources or res.sources)):
        head += f" · drawn at commit {now_commit[:12]}"
    if extra:
        head += " · " + extra
    return head
