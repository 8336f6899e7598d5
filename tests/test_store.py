"""The result store: nothing mixed, nothing lost, nothing stale (docs/results-store.md).

Each case of issue 14 gives either correct tables or one line on stderr with a non-zero exit,
never a mix. Cells are tiny (the teaching roster, 20-40 runs) so the file takes seconds.
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from conftest import run_cli
from guarantee_sim.runs import cli, runner, store, sweep, tables
from guarantee_sim.runs.runner import run_seeds
from guarantee_sim.runs.store import CellPlan, Lock, run_cell
from guarantee_sim.runs.tables import read_checked, rows_digest
from guarantee_sim.runs.sweep import SweepIncomplete, aggregate, expected_cells
from guarantee_sim.scenario.build import build_scenario
from guarantee_sim.scenario.compose import compose_config

SMALL = ["coalition=teaching", "runs=20"]
TABLES = ("sweep_runs.parquet", "sweep_summary.csv", "sweep_summary.json", "sweep.json")


run = run_cli


def one_line(err: str, key: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and f"error: {key}:" in lines[0], err
    return lines[0]


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
            and not p.name.endswith((".log", ".lock"))}


def cell(tmp_path, overrides=("coalition=teaching",), runs=30, batch=10, name="cell", seed=0):
    cfg = compose_config(tuple(overrides))
    config = OmegaConf.to_container(cfg, resolve=True)
    return run_cell(build_scenario(config), tmp_path / name, CellPlan(runs, seed, batch, 0.02, runs), config,
                    OmegaConf.to_yaml(cfg, resolve=True), name, {})


# seeds ------------------------------------------------------------------------------------------

def test_seeds_are_derived_batch_by_batch_and_equal_numpys(monkeypatch):
    """Run i's seed is numpy's SeedSequence word i, derived for the batch alone (no million-seed list first)."""
    for root in (0, 7, 2**63 - 1, 10**30):
        whole = np.random.SeedSequence(root).generate_state(3000, dtype=np.uint64) >> np.uint64(1)
        for start, stop in ((0, 1), (0, 500), (500, 1000), (2999, 3000), (1234, 2345)):
            assert run_seeds(root, stop, start) == [int(s) for s in whole[start:stop]]
    asked, derive = [], runner.seed_sequence_words
    monkeypatch.setattr(runner, "seed_sequence_words", lambda pool, first, n: asked.append((first, n)) or derive(pool, first, n))
    last = run_seeds(0, 1_000_000, 999_500)
    assert len(last) == 500 and asked == [(1_999_000, 1_000)]  # two 32-bit words per seed, the batch's only
    assert last == run_seeds(0, 1_000_000)[999_500:]


# one cell: batches checked on resume ----------------------------------------------------------

@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """An uninterrupted cell (3 batches of 10 runs) and another cell's batches (same seeds: common random numbers)."""
    root = tmp_path_factory.mktemp("whole")
    cell(root)
    cell(root, ("coalition=teaching", "breach=hybrid"), name="other")
    return root


def damage_and_rerun(whole, tmp_path, capsys, damage):
    folder = tmp_path / "cell"
    shutil.copytree(whole / "cell", folder)
    for name in ("summary.json", "runs.parquet"):  # an unfinished cell: it reads its batches
        (folder / name).unlink()
    damage(folder / "batches")
    _, _, line = cell(tmp_path)
    assert (folder / "runs.parquet").read_bytes() == (whole / "cell" / "runs.parquet").read_bytes()
    return line, capsys.readouterr().err


def test_a_deleted_batch_is_computed_again(whole, tmp_path, capsys):
    line, err = damage_and_rerun(whole, tmp_path, capsys, lambda b: (b / "runs-0000010-0000020.parquet").unlink())
    assert "(1 batches computed, 2 resumed)" in line and err == ""


def test_a_truncated_batch_is_computed_again_never_used_never_fatal(whole, tmp_path, capsys):
    def truncate(batches):
        path = batches / "runs-0000010-0000020.parquet"
        path.write_bytes(path.read_bytes()[:300])

    line, err = damage_and_rerun(whole, tmp_path, capsys, truncate)
    assert "(1 batches computed, 2 resumed)" in line
    assert "runs-0000010-0000020.parquet not used (unreadable" in err


def test_a_batch_copied_from_another_cell_is_not_used(whole, tmp_path, capsys):
    """Same run range, same seeds (common random numbers), other rows: its fingerprint tells it apart."""
    def foreign(batches):
        shutil.copy(whole / "other" / "batches" / "runs-0000000-0000010.parquet", batches / "runs-0000000-0000010.parquet")

    line, err = damage_and_rerun(whole, tmp_path, capsys, foreign)
    assert "(1 batches computed, 2 resumed)" in line and "belongs to another cell" in err


def test_a_batch_with_edited_rows_or_wrong_seeds_is_not_used(whole, tmp_path, capsys):
    import pyarrow.parquet as pq

    def edit(batches):
        for name, column, value in (("runs-0000000-0000010.parquet", "activated", True),
                                    ("runs-0000020-0000030.parquet", "seed", 5)):
            table = pq.read_table(batches / name)
            df = table.to_pandas()
            df[column] = value
            pq.write_table(pa_table(df, table.schema.metadata), batches / name)

    line, err = damage_and_rerun(whole, tmp_path, capsys, edit)
    assert "(2 batches computed, 1 resumed)" in line
    assert "its rows changed after it was written" in err and "its seeds are not the ones the root seed gives" in err


def pa_table(df, metadata):
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(metadata)


def test_a_truncated_runs_parquet_is_made_again_from_the_batches(whole, tmp_path):
    folder = tmp_path / "cell"
    shutil.copytree(whole / "cell", folder)
    (folder / "runs.parquet").write_bytes((folder / "runs.parquet").read_bytes()[:500])
    _, _, line = cell(tmp_path)
    assert "(0 batches computed, 3 resumed)" in line
    assert (folder / "runs.parquet").read_bytes() == (whole / "cell" / "runs.parquet").read_bytes()


def test_a_cell_of_one_batch_stores_no_batch_and_its_rows_are_those_of_a_batched_cell(whole, tmp_path):
    _, _, line = cell(tmp_path, batch=30, name="one")
    assert "(1 batches computed, 0 resumed)" in line
    assert not (tmp_path / "one" / "batches").exists()
    assert read_checked(tmp_path / "one" / "runs.parquet", {store.stored_identity(tmp_path / "one")[1].fingerprint}).equals(
        pd.read_parquet(whole / "cell" / "runs.parquet"))


def test_a_cells_summary_csv_is_the_text_pandas_writes(whole):
    """summary.csv is written by the csv module: the text ``summary_rows(...).to_csv`` gives, NaN
    (no attack, no activation) as an empty field, every digit of each float."""
    from guarantee_sim.analysis.stats import summary_csv, summary_rows

    summary = json.loads((whole / "cell" / "summary.json").read_text())
    summary = store._nan(summary)
    assert (whole / "cell" / "summary.csv").read_text() == summary_rows(summary).to_csv(index=False)
    odd = {**summary, "attack_probability": {"estimate": 1e-05, "low": 0.1 + 0.2, "high": 1.0},
           "funnel": {k: 1 / 3 for k in summary["funnel"]}}
    odd["support_in_time_given_attack"] = {"estimate": float("nan"), "low": float("nan"), "high": float("nan")}
    assert summary_csv(odd) == summary_rows(odd).to_csv(index=False)
    assert summary_csv(odd) != summary_csv(summary)  # not vacuous


def test_the_sweep_tables_take_a_cell_just_written_but_read_one_changed_since(tmp_path):
    df, _, _ = cell(tmp_path, batch=30)
    path, accepted = tmp_path / "cell" / "runs.parquet", {store.stored_identity(tmp_path / "cell")[1].fingerprint}
    assert tables.read_cell_rows(path, accepted) is df  # not read back
    cell(tmp_path, batch=30)  # complete: skipped, nothing remembered
    assert tables.read_cell_rows(path, accepted) is not df
    df, _, _ = cell(tmp_path, batch=30, name="other")
    other = tmp_path / "other" / "runs.parquet"
    edited = df.assign(activation_day=df["activation_day"].fillna(1.0))
    store.write_parquet(other, edited, {"fingerprint": next(iter(accepted)), "first": 0})  # replaced after writing
    assert tables.read_cell_rows(other, accepted).equals(edited)


def test_the_rows_kept_for_the_sweep_tables_stay_within_their_budget(tmp_path, monkeypatch):
    """A sweep of many big cells would hold them all until its tables are made: past
    ``REMEMBERED_ROWS`` a cell's rows are not kept but read back, the same rows."""
    monkeypatch.setattr(tables, "REMEMBERED_ROWS", 45)
    monkeypatch.setattr(tables, "_WRITTEN", {})
    monkeypatch.setattr(tables, "_kept", [0])
    first, _, _ = cell(tmp_path, batch=30)
    second, _, _ = cell(tmp_path, batch=30, name="other")  # 30 + 30 > 45: not kept
    assert tables._kept == [30] and list(tables._WRITTEN) == [str(tmp_path / "cell" / "runs.parquet")]
    accepted = {store.stored_identity(tmp_path / "cell")[1].fingerprint}
    assert tables.read_cell_rows(tmp_path / "cell" / "runs.parquet", accepted) is first and tables._kept == [0]
    again = tables.read_cell_rows(tmp_path / "other" / "runs.parquet", accepted)
    assert again is not second and again.equals(second)


def test_a_cell_too_big_to_hold_streams_its_batches_into_the_same_rows_and_summary(whole, tmp_path, monkeypatch):
    monkeypatch.setattr(store, "IN_MEMORY_ROWS", 15)  # the 30-run cell of three batches is "big"
    df, _, line = cell(tmp_path)
    assert df is None and "(3 batches computed, 0 resumed)" in line
    fp = {store.stored_identity(tmp_path / "cell")[1].fingerprint}
    streamed, held = tmp_path / "cell" / "runs.parquet", whole / "cell" / "runs.parquet"
    assert read_checked(streamed, fp).equals(pd.read_parquet(held))  # its digest checks out too
    assert tables.check_stored(streamed, fp) == 30 and tables.check_stored(held, fp) == 30
    assert json.loads((tmp_path / "cell" / "summary.json").read_text())["attack_probability"] == \
        json.loads((whole / "cell" / "summary.json").read_text())["attack_probability"]
    _, again, line = cell(tmp_path)
    assert "complete, skipped (30 runs)" in line and again["runs"] == 30
    table = pd.read_parquet(streamed)
    table.loc[3, "n_breaches"] += 1  # edited after it was written: the cell is made again from its batches
    import pyarrow.parquet as pq
    pq.write_table(pa_table(table, pq.read_schema(streamed).metadata), streamed)
    with pytest.raises(store.Damaged, match="changed"):
        tables.check_stored(streamed, fp)
    _, _, line = cell(tmp_path)
    assert "(0 batches computed, 3 resumed)" in line and read_checked(streamed, fp).equals(pd.read_parquet(held))


def test_a_full_disk_mid_cell_resumes_byte_identical(whole, tmp_path, monkeypatch):
    """The second batch's write fails (ENOSPC): nothing half-written; the rerun resumes from batch one."""
    original, calls = store.write_parquet, []

    def full(path, df, meta):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        original(path, df, meta)

    monkeypatch.setattr(store, "write_parquet", full)
    with pytest.raises(OSError):
        cell(tmp_path)
    assert sorted(p.name for p in (tmp_path / "cell" / "batches").iterdir()) == ["runs-0000000-0000010.parquet"]
    monkeypatch.setattr(store, "write_parquet", original)
    _, _, line = cell(tmp_path)
    assert "(2 batches computed, 1 resumed)" in line
    assert (tmp_path / "cell" / "runs.parquet").read_bytes() == (whole / "cell" / "runs.parquet").read_bytes()


def test_a_cell_folder_of_another_seed_is_refused_and_kept(whole, tmp_path):
    shutil.copytree(whole / "cell", tmp_path / "cell")
    before = files(tmp_path / "cell")
    with pytest.raises(store.StoreRefused) as info:
        cell(tmp_path, seed=1)
    assert "seed 0 (this command: 1)" in str(info.value) and "\n" not in str(info.value)
    assert files(tmp_path / "cell") == before


def test_a_cell_another_process_holds_is_refused(tmp_path):
    with Lock(tmp_path / "cell", "hydra.run.dir", "test"):
        with pytest.raises(store.StoreRefused) as info:
            cell(tmp_path)
    assert "is in use by another guarantee-sim" in str(info.value) and "pid" not in str(info.value)
    assert not (tmp_path / "cell" / "batches").exists()


def test_rows_digest_depends_on_values_only():
    df = pd.DataFrame({"a": [1, 2], "b": [0.5, np.nan], "c": ["x", None], "d": pd.array([True, None], "boolean")})
    same = df.astype({"a": "int32", "c": "object"})
    assert rows_digest(df) == rows_digest(same)
    assert rows_digest(df) != rows_digest(df.assign(b=[0.5, 1.0]))


def _rows_of_every_pattern(runs=6):
    from guarantee_sim.model.breaches import BREACH_PATTERNS
    from guarantee_sim.scenario.compose import load_scenario

    for name, cls in BREACH_PATTERNS.items():
        if cls.__module__.startswith("guarantee_sim."):
            scenario = load_scenario((f"breach={name}", "coalition=teaching"))
            yield name, scenario.horizon, runner._run_chunk(scenario, 0, run_seeds(7, runs))


def _frame_as_pandas_types_it(rows, horizon):
    """What pandas makes of the rows, with the types a runs table declares (the reference)."""
    from guarantee_sim.model.outcomes import COLUMNS

    df = pd.DataFrame.from_records(rows, columns=COLUMNS)
    df["support_in_time"] = df["support_in_time"].astype("boolean")
    for col in ("activated", "false_activation", "deterred", "force_deployed"):
        df[col] = df[col].astype(bool)
    df["horizon"] = float(horizon)
    df["event"] = df["activation_day"].notna()
    return df


def test_a_runs_table_is_the_frame_pandas_makes_of_the_rows(monkeypatch):
    """``to_frame`` types each column as ``outcomes.COLUMN_KINDS`` says, without pandas' row-by-row
    inference: the same frame, for the rows of every registered breach pattern. A wrongly declared
    kind is noticed."""
    from guarantee_sim.model import outcomes

    for name, horizon, rows in _rows_of_every_pattern():
        assert set(rows[0]) == set(outcomes.COLUMNS), name
        pd.testing.assert_frame_equal(runner.to_frame(rows, horizon), _frame_as_pandas_types_it(rows, horizon))
    monkeypatch.setitem(outcomes.COLUMN_KINDS, "n_breaches", "float")
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(runner.to_frame(rows, horizon), _frame_as_pandas_types_it(rows, horizon))


def test_a_stored_table_is_what_pyarrow_makes_of_the_frame():
    """The store's Arrow tables (schema worked out once per set of column types) equal pyarrow's own
    conversion, pandas' metadata included: for every pattern's rows, an empty table, tables put
    together, and two frames of the same types whose object columns hold different kinds of values."""
    import pyarrow as pa

    frames = [runner.to_frame(rows, horizon) for _, horizon, rows in _rows_of_every_pattern()]
    frames += [frames[0].iloc[:0], pd.concat(frames[:3], ignore_index=True),
               frames[0].astype({"stage": object}), frames[0].assign(stage=np.nan).astype({"stage": object})]
    for df in frames:
        assert tables.arrow_table(df).equals(pa.Table.from_pandas(df, preserve_index=False), check_metadata=True)


def test_stored_files_have_ordinary_permissions_and_a_failed_write_leaves_nothing(tmp_path):
    import os

    from guarantee_sim.runs.provenance import write_all

    write_all([(tmp_path / "a.json", lambda p: Path(p).write_text("{}")),
               (tmp_path / "b.csv", lambda p: Path(p).write_text("x\n"))])
    umask = os.umask(0)
    os.umask(umask)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.csv"]
    assert {p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {0o666 & ~umask}

    def fails(path):
        Path(path).write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_all([(tmp_path / "c.json", lambda p: Path(p).write_text("{}")), (tmp_path / "d.json", fails)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.csv"]


# sweeps: identity, lock, manifest ----------------------------------------------------------------

@pytest.mark.slow
def test_two_sweeps_with_different_seeds_into_one_folder_never_mix(tmp_path):
    """Issue 14, case 1: the second command (seed 2), started while the first (seed 1) runs, is refused
    in one line; the folder's tables are the first sweep's, equal to those of the same sweep run alone."""
    args = ["-m", "breach=sporadic,hybrid", "coalition=teaching", "runs=600", "batch_size=100", "hydra.sweep.dir=shared"]
    alone = tmp_path / "alone"
    alone.mkdir()
    subprocess.run([sys.executable, "-m", "guarantee_sim.runs.cli", *args, "seed=1"], cwd=alone, check=True,
                   capture_output=True)
    first = subprocess.Popen([sys.executable, "-m", "guarantee_sim.runs.cli", *args, "seed=1"], cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not list(tmp_path.glob("shared/*/batches/*.parquet")) and time.time() < deadline:
        time.sleep(0.05)
    second = subprocess.run([sys.executable, "-m", "guarantee_sim.runs.cli", *args, "seed=2"], cwd=tmp_path,
                            capture_output=True, text=True)
    _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 2 and "seed 1 (this command: 2)" in one_line(second.stderr, "hydra.sweep.dir")
    for table in ("sweep_runs.parquet", "sweep_summary.csv"):
        assert (tmp_path / "shared" / table).read_bytes() == (alone / "shared" / table).read_bytes()
    runs = pd.read_parquet(tmp_path / "shared" / "sweep_runs.parquet")
    assert len(runs) == 1200 and set(runs["seed"]) == set(run_seeds(1, 600))


def test_a_sweep_folder_another_process_holds_is_refused(tmp_path, monkeypatch, capsys):
    """The same command twice at once: the second is refused at once (it would write the same store)."""
    with Lock(tmp_path / "shared", "hydra.sweep.dir", "sweep"):
        code, _, err = run(["-m", "breach=sporadic,hybrid", *SMALL, "hydra.sweep.dir=shared"], tmp_path, monkeypatch, capsys)
    line = one_line(err, "hydra.sweep.dir")
    assert code == 2 and "shared is in use by another guarantee-sim (process" in line and "allowed: wait" in line
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == [".lock"]


@pytest.mark.parametrize("swept", ["seed=1,2", "runs=20,40", "batch_size=10,20"])
def test_a_swept_run_setting_is_refused(swept, tmp_path, monkeypatch, capsys):
    """Issue 14, case 2: both jobs would write the same cells (the second deleted the first's)."""
    code, _, err = run(["-m", swept, "coalition=teaching"], tmp_path, monkeypatch, capsys)
    key = swept.split("=")[0]
    assert code == 2 and "a run setting cannot be swept" in one_line(err, key)
    assert list(tmp_path.iterdir()) == []


def test_another_run_count_in_a_used_folder_is_refused_and_deletes_nothing(tmp_path, monkeypatch, capsys):
    args = ["-m", "breach=sporadic,hybrid", "coalition=teaching", "hydra.sweep.dir=shared"]
    assert run([*args, "runs=20"], tmp_path, monkeypatch, capsys)[0] == 0
    before = files(tmp_path / "shared")
    code, _, err = run([*args, "runs=40"], tmp_path, monkeypatch, capsys)
    assert code == 2 and "runs 20 (this command: 40)" in one_line(err, "hydra.sweep.dir")
    assert files(tmp_path / "shared") == before


def tamper_code(folder: Path, commit: str) -> None:
    """What a store written by an older commit looks like: every identity names that commit."""
    for path in [folder / "store.json", *folder.glob("*/cell.json")]:
        data = json.loads(path.read_text())
        ident = data.get("identity", data)
        ident["code"] = {"package": "0.1.0", "commit": commit}
        if "identity" in data:
            data["fingerprint"] = store.Identity.from_json(ident).fingerprint
            stored = sorted((path.parent / "batches").glob("*.parquet"))  # none in a cell of one batch
            for part in ("runs.parquet", *(f"batches/{p.name}" for p in stored)):
                df = pd.read_parquet(path.parent / part)
                store.write_parquet(path.parent / part, df, {"fingerprint": data["fingerprint"], "first": int(df["run"].iloc[0])})
        path.write_text(json.dumps(data))


def test_a_new_code_version_is_refused_unless_reuse_is_asked(tmp_path, monkeypatch, capsys):
    """Issue 14, case 3: cells of an older commit are not 'complete, skipped' under a new one."""
    args = ["-m", "breach=sporadic,hybrid", *SMALL, "hydra.sweep.dir=shared"]
    assert run(args, tmp_path, monkeypatch, capsys)[0] == 0
    tamper_code(tmp_path / "shared", "0123456789abcdef")
    before = files(tmp_path / "shared")
    code, out, err = run(args, tmp_path, monkeypatch, capsys)
    line = one_line(err, "hydra.sweep.dir")
    assert code == 2 and "computed by guarantee-sim 0.1.0, commit 0123456789ab" in line and "--reuse" in line
    assert files(tmp_path / "shared") == before and "skipped" not in out
    code, out, err = run([*args, "--reuse"], tmp_path, monkeypatch, capsys)
    assert code == 0 and out.count("complete, skipped") == 2, err
    meta = json.loads((tmp_path / "shared" / "sweep.json").read_text())
    assert meta["git_commit"] == "0123456789abcdef" and len(meta["reused"]) == 2
    ident = json.loads((tmp_path / "shared" / "breach=hybrid,coalition=teaching" / "cell.json").read_text())["identity"]
    assert ident["reused_from"] == [{"package": "0.1.0", "commit": "0123456789abcdef"}]


def test_the_tables_hold_the_cells_the_command_asked_for(tmp_path, monkeypatch, capsys):
    """Issue 14, case 5: another command's cells in the folder are left out; a lever value with '/' is
    one folder (and in the table); a narrowed preset reports the cells it ran."""
    shared = ["coalition=teaching", "runs=20", "hydra.sweep.dir=shared"]
    assert run(["-m", "breach=sporadic,hybrid", *shared], tmp_path, monkeypatch, capsys)[0] == 0
    code, out, _ = run(["-m", "breach=salami,hybrid", *shared], tmp_path, monkeypatch, capsys)
    table = pd.read_csv(tmp_path / "shared" / "sweep_summary.csv")
    assert code == 0 and list(table["cell"]) == ["breach=salami,coalition=teaching", "breach=hybrid,coalition=teaching"]
    assert "Sweep of 2 cells" in out and (tmp_path / "shared" / "breach=sporadic,coalition=teaching").is_dir()

    code, out, _ = run(["-m", "coalition.states.France.source=a/b,c", *SMALL, "hydra.sweep.dir=slash"],
                       tmp_path, monkeypatch, capsys)
    table = pd.read_csv(tmp_path / "slash" / "sweep_summary.csv", dtype=str)
    assert code == 0 and set(table["coalition.states.France.source"]) == {"a/b", "c"}
    assert (tmp_path / "slash" / "coalition.states.France.source=a%2Fb,coalition=teaching" / "summary.json").is_file()

    narrowed = ["-m", "experiment=exercise_designs", "runs=20", "hydra.sweep.dir=narrow",
                "hydra.sweeper.params.commitments='paris_2026'"]
    code, out, _ = run(narrowed, tmp_path, monkeypatch, capsys)
    assert code == 0 and "Sweep of 1 cells" in out
    assert list(pd.read_csv(tmp_path / "narrow" / "sweep_summary.csv")["cell"]) == ["commitments=paris_2026"]


def test_expected_cells_are_the_folders_hydra_makes(tmp_path, monkeypatch, capsys):
    argv = ["-m", "breach=sporadic,hybrid", "+coalition.states.Germany.threshold=0.5", "runs=5", "seed=3",
            "commission.investigation_time={dist: lognormal, median: 14, sigma: 0.5},3", "hydra.sweep.dir=s"]
    assert run([*argv, "coalition=teaching"], tmp_path, monkeypatch, capsys)[0] == 0
    made = sorted(p.name for p in (tmp_path / "s").iterdir() if p.is_dir())
    command = cli.read_command(cli.normalized([*argv, "coalition=teaching"]))
    assert sorted(expected_cells(command.ours, command.params)) == made and len(made) == 4


def test_a_missing_cell_or_a_failed_write_leaves_no_tables_and_a_non_zero_exit(tmp_path, monkeypatch, capsys):
    """Issue 14, case 4: the aggregation's errors are no Hydra warning with exit 0."""
    args = ["-m", "breach=sporadic,hybrid", *SMALL, "hydra.sweep.dir=shared"]
    assert run(args, tmp_path, monkeypatch, capsys)[0] == 0
    original = sweep.write_atomic

    def full(path, write):
        if Path(path).name == "sweep_summary.csv":
            raise OSError(28, "No space left on device")
        original(path, write)

    monkeypatch.setattr(sweep, "write_atomic", full)
    code, _, err = run(args, tmp_path, monkeypatch, capsys)
    assert code == 1 and "No space left on device" in one_line(err, "sweep tables not written in shared")
    assert not any((tmp_path / "shared" / t).exists() for t in TABLES)
    monkeypatch.setattr(sweep, "write_atomic", original)

    expected = expected_cells(["breach=sporadic,hybrid,salami", *SMALL])
    with pytest.raises(SweepIncomplete, match=r"1 of 3 cells missing or unusable: breach=salami,coalition=teaching"):
        aggregate(tmp_path / "shared", None, 0, expected)
    assert not any((tmp_path / "shared" / t).exists() for t in TABLES)


def test_a_foreign_cell_copied_into_a_sweep_is_not_gathered(tmp_path, monkeypatch, capsys, whole):
    args = ["-m", "breach=sporadic,hybrid", *SMALL, "hydra.sweep.dir=shared"]
    assert run(args, tmp_path, monkeypatch, capsys)[0] == 0
    target = tmp_path / "shared" / "breach=hybrid,coalition=teaching"
    shutil.copy(whole / "other" / "runs.parquet", target / "runs.parquet")  # another identity, 30 rows
    with pytest.raises(SweepIncomplete, match="belongs to another cell"):
        aggregate(tmp_path / "shared", None, 0, expected_cells(["breach=sporadic,hybrid", *SMALL]))
    with pytest.raises(SweepIncomplete, match="different run settings"):
        shutil.copytree(whole / "cell", tmp_path / "shared" / "c", dirs_exist_ok=True)
        aggregate(tmp_path / "shared", None, 0, {"breach=sporadic,coalition=teaching": {}, "c": {}})


def test_read_checked_refuses_a_file_without_an_identity(tmp_path):
    df = pd.DataFrame({"run": [0]})
    df.to_parquet(tmp_path / "x.parquet")
    with pytest.raises(store.Damaged, match="carries no identity"):
        read_checked(tmp_path / "x.parquet", {"f"})
