"""Same config and seed give the same rows; stepping day by day equals jumping event to event."""

import math

import numpy as np
import pandas as pd
import pytest

from omegaconf import OmegaConf

from guarantee_sim.errors import ConfigError
from guarantee_sim.model.breaches import BREACH_PATTERNS
from guarantee_sim.model.engine import GuaranteeModel
from guarantee_sim.model.response import CoalitionResponse
from guarantee_sim.model.streams import RunStreams, stream_key
from guarantee_sim.model.triggers import TRIGGER_RULES
from guarantee_sim.runs.runner import run_replications, run_seeds
from guarantee_sim.scenario.build import build_scenario
from guarantee_sim.scenario.compose import compose_config, load_scenario

# the package's own patterns (tests may register others of their own)
PATTERNS = [name for name, cls in BREACH_PATTERNS.items() if cls.__module__.startswith("guarantee_sim.")]
STATIC_PATTERNS = [p for p in PATTERNS if not BREACH_PATTERNS.get(p, "breach").classifier["adaptive"]]


def trigger_scenarios(pattern: str) -> dict:
    """A scenario per registered trigger rule (with its default parameters) and per trigger
    preset, so a new rule or preset is covered without editing the tests."""
    base = OmegaConf.to_container(compose_config((f"breach={pattern}", "horizon=200")))

    def with_rule(rule: str, params: dict):
        return build_scenario({**base, "trigger": {**base["trigger"], "rule": rule, "params": params}})

    out, combining = {}, []
    for rule in TRIGGER_RULES.names():
        try:
            out[f"rule={rule}"] = with_rule(rule, {})
        except ConfigError:  # a rule that combines sub-rules: given every rule that has defaults
            combining.append(rule)
    simple = [{"rule": name.split("=", 1)[1]} for name in out]
    for rule in combining:
        out[f"rule={rule}"] = with_rule(rule, {"rules": simple})
    from pathlib import Path

    for preset in sorted(p.stem for p in (Path(__file__).parents[1] / "conf" / "trigger").glob("*.yaml")):
        out[f"trigger={preset}"] = load_scenario((f"breach={pattern}", f"trigger={preset}", "horizon=200"))
    return out


def rules_in(rule) -> set[str]:
    subs = getattr(rule, "rules", None) or []
    return {rule.name} | {n for sub in subs for n in rules_in(sub)}


def test_every_registered_trigger_rule_is_exercised():
    covered = {n for s in trigger_scenarios("sporadic").values() for tier in s.tiers for n in rules_in(tier.rule)}
    missing = set(TRIGGER_RULES.names()) - covered
    assert not missing, f"give these rules default parameters or a conf/trigger preset: {sorted(missing)}"


def same(a, b):
    return all((x == y) or (isinstance(x, float) and math.isnan(x) and math.isnan(y)) for x, y in zip(a.values(), b.values()))


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("trigger", ["any_attributed", "graduated"])
def test_step_and_run_give_identical_rows(pattern, trigger):
    scenario = load_scenario((f"breach={pattern}", f"trigger={trigger}"))
    for seed in run_seeds(5, 4):
        jumped = GuaranteeModel(scenario, seed=seed, collect=False).run()
        stepper = GuaranteeModel(scenario, seed=seed)
        days = 0
        while stepper.running:
            stepper.step()
            days += 1
        assert days == math.ceil(scenario.horizon)
        stepped = stepper.outcome()
        assert jumped.keys() == stepped.keys()
        assert same(jumped, stepped), {k: (jumped[k], stepped[k]) for k in jumped if jumped[k] != stepped[k]}


def test_same_seed_same_rows_and_different_seed_different_rows():
    scenario = load_scenario(("trigger=any_attributed",))
    a = run_replications(scenario, 100, seed=3)
    b = run_replications(scenario, 100, seed=3)
    c = run_replications(scenario, 100, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a["activation_day"].equals(c["activation_day"])


def test_run_seeds_are_prefix_stable():
    assert run_seeds(9, 10)[:4] == run_seeds(9, 4)
    assert len(set(run_seeds(9, 1000))) == 1000


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1, 2**32, 2**63 - 1, 2**64, 2**128 - 1, 2**128, 918273645546372819])
def test_a_runs_streams_are_numpys_seed_sequences_spawned_by_name(seed):
    """The streams' seeds are worked out in one array pass per run (``model/streams.py``): the
    numbers must be those of ``PCG64(SeedSequence(seed, spawn_key=(key,)))``, new keys included."""
    keys = [stream_key(n) for n in ("u/detection", "war", "u/follow_through")] + [0, 1, 2**32 - 1, 12345 + seed % 97]
    streams = RunStreams(seed)
    for key in keys:
        numpys = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))
        assert np.array_equal(streams.generator(key).random(5), numpys.random(5))
    named = streams.uniforms("detection").span(0, 100)
    assert np.array_equal(named, np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(seed, spawn_key=(stream_key("u/detection"),)))).random(100))


def test_runs_side_by_side_meet_new_streams_in_any_order():
    """Two runs alive at once (two models stepped together): a stream the second run meets first
    is still seeded right in the first (the keys are shared by the process, the seeds are not)."""
    first, second = RunStreams(11), RunStreams(12)
    first.generator(stream_key("u/detection"))
    key = stream_key("u/a stream no run has met yet")
    second.generator(key)
    numpys = np.random.Generator(np.random.PCG64(np.random.SeedSequence(11, spawn_key=(key,))))
    assert np.array_equal(first.generator(key).random(5), numpys.random(5))


def test_a_wrong_stream_seed_is_noticed():
    """Companion: one bit of a worked-out seed changed gives other numbers."""
    key = stream_key("u/detection")
    streams = RunStreams(7)
    good = streams.generator(key).random(5)
    streams._states = streams._states ^ np.uint64(1)
    assert not np.array_equal(streams.generator(key).random(5), good)


def test_workers_and_chunk_size_do_not_change_rows():
    scenario = load_scenario(("trigger=count_window",))
    serial = run_replications(scenario, 60, seed=21, workers=1)
    parallel = run_replications(scenario, 60, seed=21, workers=2)
    odd_chunks = run_replications(scenario, 60, seed=21, workers=2, chunk_size=7)
    pd.testing.assert_frame_equal(serial, parallel)
    pd.testing.assert_frame_equal(serial, odd_chunks)


@pytest.mark.parametrize("pattern", STATIC_PATTERNS)
def test_compiled_runs_equal_incident_by_incident_runs(pattern):
    """The vectorised screening of a non-adaptive plan gives exactly the event-by-event rows,
    for every registered breach pattern and trigger rule (and every trigger preset)."""
    for name, scenario in trigger_scenarios(pattern).items():
        for seed in run_seeds(8, 4):
            compiled = GuaranteeModel(scenario, seed=seed, collect=False, compiled=True)
            by_event = GuaranteeModel(scenario, seed=seed, collect=False, compiled=False)
            fast, slow = compiled.run(), by_event.run()
            assert same(fast, slow), (name, {k: (fast[k], slow[k]) for k in fast if fast[k] != slow[k]})
            assert compiled.n_findings == by_event.n_findings, name  # counted only when asked


@pytest.mark.parametrize("pattern", ["chronic", "hybrid"])
def test_a_stepped_compiled_run_counts_the_findings_of_each_day(pattern):
    """Counted when asked, the findings of a compiled run are those of the event path day by day."""
    scenario = load_scenario((f"breach={pattern}", "trigger=any_attributed"))
    compiled = GuaranteeModel(scenario, seed=5, collect=False, compiled=True)
    by_event = GuaranteeModel(scenario, seed=5, collect=False, compiled=False)
    counts = []
    while compiled.running:
        compiled.step()
        by_event.step()
        assert compiled.n_findings == by_event.n_findings, compiled.day
        counts.append(compiled.n_findings)
    assert len(set(counts)) > 10  # the count moves over the run: the check is not of zeros


def test_adaptive_patterns_cannot_run_compiled():
    with pytest.raises(ValueError, match="adaptive"):
        GuaranteeModel(load_scenario(("breach=adaptive_probe",)), seed=1, compiled=True)


@pytest.mark.parametrize("commitments", ["paris_2026", "article5_like", "no_us_backstop", "budapest_like"])
def test_asking_only_the_type_an_approval_changed_equals_asking_every_type(commitments, monkeypatch):
    """After an approval only that support type's queue is re-asked (see ``CoalitionResponse.cascade``): the rows
    equal those of a cascade that re-asks every type after every approval."""
    rows = {}
    for label, restricted in (("restricted", True), ("full", False)):
        if not restricted:
            original = CoalitionResponse.cascade
            monkeypatch.setattr(CoalitionResponse, "cascade", lambda self, day, changed=None: original(self, day))
        for trigger in ("any_attributed", "graduated"):
            scenario = load_scenario((f"commitments={commitments}", f"trigger={trigger}", "breach=sporadic"))
            rows[label, trigger] = run_replications(scenario, 60, seed=13)
    for trigger in ("any_attributed", "graduated"):
        restricted, full = rows["restricted", trigger], rows["full", trigger]
        assert (restricted["states_activated"] > 0).any()  # the cascade did run
        pd.testing.assert_frame_equal(restricted, full)
