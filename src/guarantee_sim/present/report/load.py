"""Reading results folders into one table of cells: a sweep's summary and runs, a single run, or a
sensitivity study's typed result, and several folders side by side with the levers they share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from guarantee_sim.errors import ConfigError
from guarantee_sim.runs.sweep import summary_row

if TYPE_CHECKING:
    from guarantee_sim.analysis.sensitivity.result import StudyResult

RESULTS = "results"  # the pseudo-lever that tells several results folders apart
WHAT_ALLOWED = ("a run folder (runs.parquet, summary.json), a sweep folder (sweep_summary.csv) "
                "or a sensitivity study folder (study.json)")


@dataclass
class Source:
    """One results folder as read: its cells' summary rows and runs, and where they came from."""

    path: Path
    kind: str  # "sweep" | "run" | "study"
    name: str
    meta: dict = field(default_factory=dict)
    summary: pd.DataFrame | None = None
    runs: pd.DataFrame | None = None
    levers: list[str] = field(default_factory=list)
    order: dict[str, list[str]] = field(default_factory=dict)
    cell_dirs: dict[str, Path] = field(default_factory=dict)
    result: StudyResult | None = None  # a sensitivity study's typed result (study_result.json)


def _listed_order(folder: Path) -> dict[str, list[str]]:
    """Each swept lever's values in the order the command (or the preset) listed them."""
    import yaml

    path = folder / "multirun.yaml"
    order: dict[str, list[str]] = {}
    if not path.is_file():
        return order
    try:
        hydra_node = (yaml.safe_load(path.read_text()) or {}).get("hydra", {})
    except (OSError, yaml.YAMLError):
        return order
    entries = [str(o) for o in (hydra_node.get("overrides") or {}).get("task") or []]
    params = (hydra_node.get("sweeper") or {}).get("params") or {}
    entries += [f"{k}={v}" for k, v in params.items()]
    for entry in entries:
        key, _, value = entry.lstrip("+~").partition("=")
        if key and key not in order and not value.lstrip().startswith(("{", "[", "range(", "choice(", "glob(")):
            order[key] = [v.strip() for v in value.split(",")]
    return order


def _stringify(frame: pd.DataFrame, levers: list[str]) -> pd.DataFrame:
    for k in levers:
        if k in frame:
            frame[k] = frame[k].map(lambda v: "" if pd.isna(v) else str(v))
    return frame


def cell_folder(folder: Path, cell, where: str) -> Path:
    """A cell's folder, named in a table the report reads: one folder inside ``folder``, never a path
    that leads out of it (``../``, an absolute path, a link elsewhere)."""
    name = str(cell)
    bad = (not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name
           or not (folder / name).resolve().is_relative_to(folder.resolve()))
    if bad:
        raise ConfigError("RESULTS_DIR", f"{where} names a cell {name!r} that is not a folder inside {folder}",
                          "cell names as guarantee-sim writes them")
    return folder / name


def _whole(value, what: str, where: str):
    """A stored whole number (a root seed), or ConfigError naming the file."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError("RESULTS_DIR", f"{where}: {what} {value!r} is not a whole number", WHAT_ALLOWED)
    return value


def _days(value, where: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ConfigError("RESULTS_DIR", f"{where}: horizon {value!r} is not a number of days", WHAT_ALLOWED)
    return value


def _json(path: Path) -> dict:
    """A stored JSON object, or ConfigError naming the file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError("RESULTS_DIR", f"cannot read {path}: {type(exc).__name__}", WHAT_ALLOWED) from None
    if not isinstance(data, dict):
        raise ConfigError("RESULTS_DIR", f"{path} does not hold a JSON object", WHAT_ALLOWED)
    return data


def read_source(path: str | Path) -> Source:
    """Read a sweep, run or sensitivity study folder; ConfigError if it is none of them, or if what
    it holds cannot be read (a damaged table, a cell name leading out of the folder)."""
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError("RESULTS_DIR", f"{path} is not a folder", WHAT_ALLOWED)
    try:
        source = _read_source(folder, path)
    except ConfigError:
        raise
    except (OSError, ValueError, KeyError, IndexError) as exc:  # pyarrow's and pandas' errors derive from these
        raise ConfigError("RESULTS_DIR", f"cannot read {path}: {type(exc).__name__}: "
                          + " ".join(str(exc).split())[:200], WHAT_ALLOWED) from None
    if "root_seed" in source.meta:
        source.meta["root_seed"] = _whole(source.meta["root_seed"], "root_seed", str(folder))
    if "horizon" in source.meta:
        source.meta["horizon"] = _days(source.meta["horizon"], str(folder))
    return source


def _read_source(folder: Path, path) -> Source:
    name = folder.resolve().name
    if (folder / "study.json").is_file():
        from guarantee_sim.analysis.sensitivity.result import is_study, load_result

        if is_study(folder):
            meta = _json(folder / "study.json")
            return Source(folder, "study", name, meta, result=load_result(folder))
    if (folder / "sweep_summary.csv").is_file() and (folder / "sweep_runs.parquet").is_file():
        meta = _json(folder / "sweep.json") if (folder / "sweep.json").is_file() else {}
        info = _json(folder / "sweep_summary.json") if (folder / "sweep_summary.json").is_file() else {}
        levers = list(info.get("levers") or meta.get("levers") or [])
        summary = pd.read_csv(folder / "sweep_summary.csv", dtype={k: str for k in ["cell", "baseline_cell", *levers]},
                              keep_default_na=False, na_values=[""])
        summary["baseline_cell"] = summary["baseline_cell"].fillna("")
        runs = pd.read_parquet(folder / "sweep_runs.parquet")
        from guarantee_sim.present.plots import lever_columns

        levers = lever_columns(summary) or levers
        cell_dirs = {c: cell_folder(folder, c, f"{folder / 'sweep_summary.csv'}") for c in summary["cell"]}
        if not meta.get("horizon"):
            meta["horizon"] = _cell_horizon(next(iter(cell_dirs.values()), folder))
        meta.setdefault("root_seed", _first_provenance(cell_dirs).get("root_seed"))
        meta.setdefault("git_commit", _first_provenance(cell_dirs).get("git_commit", "unknown"))
        return Source(folder, "sweep", name, meta, _stringify(summary, levers), _stringify(runs, levers), levers,
                      _listed_order(folder), cell_dirs)
    if (folder / "runs.parquet").is_file() and (folder / "summary.json").is_file():
        summary = _json(folder / "summary.json")
        meta = _json(folder / "provenance.json") if (folder / "provenance.json").is_file() else {}
        cell_meta = _json(folder / "cell.json") if (folder / "cell.json").is_file() else {}
        levers = {k: str(v) for k, v in (cell_meta.get("levers") or summary.get("levers") or {}).items()}
        cell = ",".join(f"{k}={v}" for k, v in levers.items()) or "default"
        meta.update(horizon=summary.get("horizon"), fingerprint=cell_meta.get("fingerprint", ""),
                    scenario=summary.get("scenario", {}))
        meta.setdefault("root_seed", summary.get("seed"))
        runs = pd.read_parquet(folder / "runs.parquet")
        for i, (k, v) in enumerate(levers.items()):
            runs.insert(i, k, v)
        runs.insert(0, "cell", cell)
        table = pd.DataFrame([summary_row(cell, levers, summary)])
        return Source(folder, "run", name, meta, table, runs, list(levers), {}, {cell: folder})
    if (folder / "sweep.json").is_file() or any(folder.glob("*/cell.json")):
        raise ConfigError("RESULTS_DIR", f"{path} holds a sweep without its tables (sweep_summary.csv, "
                          "sweep_runs.parquet): is it still running?", WHAT_ALLOWED)
    raise ConfigError("RESULTS_DIR", f"{path} is not a results folder", WHAT_ALLOWED)


def _first_provenance(cell_dirs: dict[str, Path]) -> dict:
    for cell_dir in cell_dirs.values():
        p = cell_dir / "provenance.json"
        if p.is_file():
            return _json(p)
    return {}


def _cell_horizon(cell_dir: Path) -> float | None:
    p = cell_dir / "summary.json"
    return _json(p).get("horizon") if p.is_file() else None


def _lever_value(source: Source, cell: str, key: str) -> str:
    """A lever another folder varies, as this cell had it: its scenario label or its config value."""
    cell_dir = source.cell_dirs.get(cell)
    if cell_dir is None:
        return ""
    p = cell_dir / "summary.json"
    labels = _json(p).get("scenario", {}) if p.is_file() else {}
    if key in labels:
        return str(labels[key])
    if (cell_dir / "config.yaml").is_file():
        from omegaconf import OmegaConf

        value = OmegaConf.select(OmegaConf.load(cell_dir / "config.yaml"), key, default=None)
        if value is not None and not OmegaConf.is_config(value):
            return str(value)
    return ""


@dataclass
class Results:
    """Every folder's cells in one summary table and one runs table, with the levers that vary."""

    sources: list[Source]
    studies: list[Source]
    summary: pd.DataFrame
    runs: pd.DataFrame
    levers: list[str]
    order: dict[str, list[str]]
    cell_source: dict[str, Source]
    cell_name: dict[str, str]  # the cell's name within its own folder
    at: dict[str, str] = field(default_factory=dict)  # reference values chosen with --at

    @property
    def varying(self) -> list[str]:
        from guarantee_sim.present.plots import varying

        return varying(self.summary)

    @property
    def horizon(self) -> float:
        hs = {float(s.meta["horizon"]) for s in self.sources if s.meta.get("horizon")}
        return max(hs) if hs else 365.0

    def reference(self) -> dict[str, str]:
        """Each lever's reference value: as chosen with ``--at``, else the first one listed (the
        sweep's own baseline convention)."""
        from guarantee_sim.present.plots import values_of

        return {k: self.at.get(k) or values_of(self.summary, k, self.order)[0] for k in self.levers}


def _unique_names(paths: list[Path]) -> list[str]:
    names = [p.resolve().name for p in paths]
    for i, p in enumerate(paths):
        if names.count(names[i]) > 1:
            names[i] = f"{p.resolve().parent.name}/{p.resolve().name}"
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[i] = f"{n}#{seen[n]}"
    return names


def load(paths: list[str | Path]) -> Results:
    """Read every folder and gather its cells; cells of several folders that share their levers get
    the folder's name as an extra lever (``results``), so they sit side by side."""
    if not paths:
        raise ConfigError("RESULTS_DIR", "no results folder given", WHAT_ALLOWED)
    sources = [read_source(p) for p in paths]
    for s, n in zip(sources, _unique_names([s.path for s in sources])):
        s.name = n
    studies = [s for s in sources if s.kind == "study"]
    tables = [s for s in sources if s.kind != "study"]
    levers: list[str] = []
    for s in tables:
        levers += [k for k in s.levers if k not in levers]
    # a lever one folder varies and another does not: the other's cells get their own value
    for s in tables:
        for k in levers:
            if k not in s.summary:
                vals = {c: _lever_value(s, c, k) for c in s.summary["cell"]}
                s.summary.insert(s.summary.columns.get_loc("runs"), k, s.summary["cell"].map(vals))
                s.runs.insert(s.runs.columns.get_loc("run"), k, s.runs["cell"].map(vals))
    # each lever's values: folder by folder, each folder's in the order its command listed them
    from guarantee_sim.present.plots import values_of

    order: dict[str, list[str]] = {}
    for k in levers:
        order[k] = []
        for s in tables:
            order[k] += [v for v in values_of(s.summary, k, s.order) if v not in order[k]]
    several = len(tables) > 1
    clash = False
    if several:
        keys = [tuple(r[k] for k in levers) for s in tables for _, r in s.summary.iterrows()]
        clash = len(set(keys)) < len(keys)
    summaries, runs, cell_source, cell_name = [], [], {}, {}
    for s in tables:
        sm, rn = s.summary.copy(), s.runs.copy()
        ids = {c: (f"{s.name}/{c}" if clash else c) for c in sm["cell"]}
        for c, new in ids.items():
            if new in cell_source:  # the same cell in two folders without a clash of levers
                ids[c] = f"{s.name}/{c}"
        for c, new in ids.items():
            cell_source[new], cell_name[new] = s, c
        sm["cell"], rn["cell"] = sm["cell"].map(ids), rn["cell"].map(ids)
        sm["baseline_cell"] = sm["baseline_cell"].map(lambda b: ids.get(b, b) if b else "")
        if clash:
            sm.insert(1, RESULTS, s.name)
            rn.insert(1, RESULTS, s.name)
        summaries.append(sm[["cell", *([RESULTS] if clash else []), *levers, *[c for c in sm.columns if c not in ("cell", RESULTS, *levers)]]])
        runs.append(rn[["cell", *([RESULTS] if clash else []), *levers, *[c for c in rn.columns if c not in ("cell", RESULTS, *levers)]]])
    all_levers = ([RESULTS] if clash else []) + levers
    if clash:
        order[RESULTS] = [s.name for s in tables]
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame(columns=["cell", "runs"])
    run_table = pd.concat(runs, ignore_index=True) if runs else pd.DataFrame(columns=["cell", "run"])
    res = Results(sources=tables, studies=studies, summary=summary, runs=run_table, levers=all_levers, order=order,
                  cell_source=cell_source, cell_name=cell_name)
    if len(summary):
        res.summary = _sorted(summary, all_levers, res)
    return res


def _sorted(table: pd.DataFrame, levers: list[str], res: Results) -> pd.DataFrame:
    """Rows in the listed order of the levers (the order a reader expects), stable otherwise."""
    from guarantee_sim.present.plots import values_of

    keys = []
    for k in levers:
        vals = values_of(table, k, res.order)
        keys.append(table[k].map({v: i for i, v in enumerate(vals)}))
    if not keys:
        return table.reset_index(drop=True)
    frame = pd.concat(keys, axis=1, keys=range(len(keys)))
    idx = frame.sort_values(list(range(len(keys))), kind="stable").index
    return table.loc[idx].reset_index(drop=True)
