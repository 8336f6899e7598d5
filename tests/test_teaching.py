"""The course guide runs as written: every `guarantee-sim` command in docs/teaching.md, on 40 runs.

Sweeps and one-scenario jobs run as subprocesses (as a student types them); narrated runs run
in-process and must end in the funnel stage the guide's comment names.
"""

import itertools
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from guarantee_sim.present import explain
from guarantee_sim.model.outcomes import STAGES

pytestmark = pytest.mark.main_line  # made from rows, equal on both lines: see pyproject.toml

ROOT = Path(__file__).parent.parent
GUIDE = ROOT / "docs" / "teaching.md"
EXPERIMENTS = ROOT / "conf" / "experiment"
RUNS = 20


def commands() -> list[tuple[str, str, str]]:
    """(section, command, stage comment) of every guarantee-sim line in the guide's bash blocks."""
    out, section = [], ""
    in_block = False
    for line in GUIDE.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:]
        if line.startswith("```"):
            in_block = line.strip() == "```bash" if not in_block else False
            continue
        if in_block and line.startswith("guarantee-sim "):
            command, _, comment = line.partition("#")
            out.append((section, command.strip(), comment.strip()))
    return out


def exercises() -> list[str]:
    return [line[3:] for line in GUIDE.read_text().splitlines() if line.startswith("## Exercise")]


def small(args: list[str]) -> list[str]:
    """The command on 20 runs instead of the guide's 1,000."""
    args = [a for a in args if not a.startswith("runs=")]
    return [*args, f"runs={RUNS}"]


def sweep_cells(args: list[str]) -> list[str]:
    """The cells a `-m experiment=...` command runs, from the preset's hydra.sweeper.params."""
    name = next(a.split("=", 1)[1] for a in args if a.startswith("experiment="))
    params = yaml.safe_load((EXPERIMENTS / f"{name}.yaml").read_text())["hydra"]["sweeper"]["params"]
    swept = [[f"{k}={v}" for v in str(values).split(",")] for k, values in params.items()]
    return [" ".join(cell) for cell in itertools.product(*swept)]


def test_the_guide_has_at_least_four_complete_exercises():
    text = GUIDE.read_text()
    names = exercises()
    assert len(names) >= 4
    for part in text.split("\n## Exercise")[1:]:
        for heading in ("**Question.**", "```bash", "**Dashboard.**", "**What students should observe.**",
                        "**Discussion.**", "**Caveats.**"):
            assert heading in part, (part[:60], heading)
        assert re.search(r"\d+\.\d% \(95% CI \d+\.\d% to \d+\.\d%\)", part), "figures with their intervals"
    sections = {section for section, _, _ in commands()}
    assert all(name in sections for name in names), "each exercise has its commands"


def test_every_exercise_preset_is_in_the_guide_and_is_a_global_preset():
    presets = sorted(EXPERIMENTS.glob("exercise_*.yaml"))
    assert len(presets) >= 4
    used = " ".join(command for _, command, _ in commands())
    for path in presets:
        assert path.read_text().startswith("# @package _global_"), path.name
        assert f"-m experiment={path.stem} " in used + " ", f"{path.stem} has no sweep command in the guide"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guarantee_sim.runs.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_every_main_command_of_the_guide_runs(tmp_path):
    jobs = [shlex.split(command)[1:] for _, command, _ in commands() if not command.startswith("guarantee-sim explain")]
    assert any("-m" in args for args in jobs)
    folders = []
    for i, _ in enumerate(jobs):
        folders.append(tmp_path / f"job{i}")
        folders[-1].mkdir()
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda job: _run(small(job[0]), job[1]), zip(jobs, folders)))
    for args, proc in zip(jobs, done):
        assert proc.returncode == 0, (args, proc.stderr[-2000:])
        if "-m" in args:
            for cell in sweep_cells(args) if any(a.startswith("experiment=") for a in args) else []:
                for part in cell.split():
                    assert part in proc.stdout, (args, part)
        else:
            assert "Pooled binding support activated" in proc.stdout, args
            assert f"Runs: {RUNS}," in proc.stdout


@pytest.mark.parametrize("section, command, comment", [c for c in commands() if c[1].startswith("guarantee-sim explain")])
def test_every_narrated_run_of_the_guide_ends_as_the_guide_says(capsys, section, command, comment):
    explain.main(shlex.split(command)[2:])
    out = capsys.readouterr().out
    stage = re.search(r"^  Funnel stage: (\w+) ", out, re.M).group(1)
    claimed = comment.split()[0] if comment else ""
    if claimed in STAGES:
        assert stage == claimed, (command, stage)
    elif section.startswith("Exercise"):
        pytest.fail(f"{command}: an exercise's narrated run names the stage students will see")
