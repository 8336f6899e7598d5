"""``guarantee-sim-dashboard``: a Mesa SolaraViz page for the classroom, one run at a time.

    guarantee-sim-dashboard                 # serves http://127.0.0.1:8765
    guarantee-sim-dashboard --port 8800     # another port; --host to listen elsewhere

The sidebar holds the scenario presets (the config groups of ``conf/``), the key levers as
sliders and the seed; Mesa's Reset starts a new run with them, Step advances one day, Play
runs on. The panels show the run's timeline, the coalition's states coloured by status and
grouped by legal regime, the funnel of the run so far, and the narrated log. The page shows
the ``guarantee-sim explain`` command that tells the same run in a terminal: the dashboard's
run with seed N is run 0 of root seed N.

Levers that differ between presets (detection per breach kind, follow-through per support
type, breach rates per pattern) are sliders of "x the preset's values", so switching preset
keeps its own figures; levers with one default (attribution, investigation time, approval
delays) are absolute. The page is served with Solara's local copy of its front end
(solara-assets), so it works with no internet; Solara's telemetry is switched off.
"""

from __future__ import annotations

import argparse
import functools
import html
import importlib.resources
import math
import os
import shlex
import threading
import warnings
from collections import Counter

import matplotlib

matplotlib.use("Agg")  # figures are drawn server-side; never open a GUI backend
from matplotlib.figure import Figure  # noqa: E402

import solara  # noqa: E402

# mesa 3.3's SolaraViz trips Solara's hook linter when imported: harmless (see the stack notes)
warnings.filterwarnings("ignore", r"(Failed to validate hooks|.*mesa.visualization.solara_viz\.py:\d+: ComponentsView)",
                        UserWarning)
from mesa.visualization import SolaraViz, solara_viz  # noqa: E402

from guarantee_sim.model.agents import SupportStatus  # noqa: E402
from guarantee_sim.errors import ConfigError  # noqa: E402
from guarantee_sim.present.narrative import REGIME_ORDER, chain, reason_text, stage_text, story  # noqa: E402
from guarantee_sim.present.timeline import mark, plot_timeline  # noqa: E402
from guarantee_sim.model.engine import GuaranteeModel  # noqa: E402
from guarantee_sim.scenario.build import US_ROLES  # noqa: E402
from guarantee_sim.model.triggers import SUPPORT_TYPES  # noqa: E402

GROUPS = ("coalition", "commitments", "breach", "trigger", "monitoring")
# special cases for the analytic check, not classroom scenarios
HIDDEN = {"coalition": {"single"}, "commitments": {"analytic"}, "monitoring": {"analytic"}}
# the dashboard opens on the built-in defaults; with seed 6 the chain goes all the way to activation
DEFAULT_SEED = "6"
STATUS_COLOURS = {
    SupportStatus.NOT_COMMITTED: "#f4f4f4",
    SupportStatus.COMMITTED: "#aab2bd",
    SupportStatus.DECIDING: "#f0a202",
    SupportStatus.APPROVED: "#5b9bd5",
    SupportStatus.DELIVERING: "#2e8b57",
    SupportStatus.DECLINED: "#d1495b",
}
AS_DESIGNED = "as designed"  # the US role the commitments preset sets
_lock = threading.Lock()  # Hydra's global state is not thread-safe; Solara serves from threads


# scenario presets and levers ---------------------------------------------------------------
def options(group: str) -> list[str]:
    """The classroom options of a config group: its YAML files, the default first."""
    folder = importlib.resources.files("guarantee_sim.conf") / group
    names = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))
    names = [n for n in names if n not in HIDDEN.get(group, set())]
    default = defaults()[group]
    return [default] + [n for n in names if n != default]


@functools.lru_cache(maxsize=1)
def defaults() -> dict:
    """The built-in default of every preset and lever (from ``conf/config.yaml``)."""
    import yaml

    entries = yaml.safe_load((importlib.resources.files("guarantee_sim.conf") / "config.yaml").read_text())["defaults"]
    choices = {k: v for e in entries if isinstance(e, dict) for k, v in e.items() if k in GROUPS}
    base = _composed(())
    return {
        **choices,
        "decision_rule": base["commission"]["decision_rule"],
        "attribution": float(base["commission"]["attribution_probability"]),
        "investigation_days": _mean(base["commission"]["investigation_time"]),
        "parliament_days": _mean(base["coalition"]["regimes"]["parliamentary"]["delay"]),
        "congress_days": _mean(base["coalition"]["regimes"]["congressional"]["delay"]),
    }


@functools.lru_cache(maxsize=128)
def _composed(overrides: tuple[str, ...]) -> dict:
    """The composed config as plain data (cached: composing costs ~0.1 s)."""
    from omegaconf import OmegaConf

    from guarantee_sim.scenario.compose import compose_config

    with _lock:
        cfg = compose_config(overrides)
    return OmegaConf.to_container(cfg, resolve=True)


def _mean(delay) -> float:
    if isinstance(delay, (int, float)):
        return float(delay)
    for key in ("mean", "median", "value"):
        if key in delay:
            return float(delay[key])
    return 1.0


def _num(x: float) -> str:
    return f"{round(float(x), 4):g}"


def _delay(old, mean: float) -> str:
    """A delay override with its mean set to ``mean``, keeping the preset's distribution."""
    if isinstance(old, dict) and "mean" in old:
        spec = {**old, "mean": mean}
        return "{" + ", ".join(f"{k}: {_num(v) if isinstance(v, (int, float)) else v}" for k, v in spec.items()) + "}"
    if isinstance(old, (int, float)):
        return _num(mean)
    return "{" + f"dist: gamma, mean: {_num(mean)}, shape: 3.0" + "}"


def build_overrides(
    coalition: str,
    commitments: str,
    breach: str,
    trigger: str,
    monitoring: str,
    decision_rule: str,
    us_role: str = AS_DESIGNED,
    detection: float = 1.0,
    attribution: float | None = None,
    investigation_days: float | None = None,
    parliament_days: float | None = None,
    congress_days: float | None = None,
    follow_through: float = 1.0,
    breach_rate: float = 1.0,
) -> list[str]:
    """Hydra overrides for the chosen presets and levers; only what differs from the defaults."""
    d = defaults()
    groups = {"coalition": coalition, "commitments": commitments, "breach": breach, "trigger": trigger,
              "monitoring": monitoring}
    out = [f"{g}={v}" for g, v in groups.items() if v != d[g]]
    base = _composed(tuple(out))
    if decision_rule != base["commission"]["decision_rule"]:
        out.append(f"commission.decision_rule={decision_rule}")
    if us_role != AS_DESIGNED and us_role != base["commitments"]["us_role"]:
        out.append(f"commitments.us_role={us_role}")
    if attribution is not None and not math.isclose(attribution, base["commission"]["attribution_probability"]):
        out.append(f"commission.attribution_probability={_num(attribution)}")
    if investigation_days is not None and not math.isclose(investigation_days, _mean(base["commission"]["investigation_time"])):
        out.append(f"commission.investigation_time={_delay(base['commission']['investigation_time'], investigation_days)}")
    regimes = base["coalition"]["regimes"]
    for regime, days in (("parliamentary", parliament_days), ("congressional", congress_days)):
        if days is not None and regime in regimes and not math.isclose(days, _mean(regimes[regime]["delay"])):
            out.append(f"coalition.regimes.{regime}.delay={_delay(regimes[regime]['delay'], days)}")
    if not math.isclose(detection, 1.0):
        for kind, p in base["monitoring"]["detection"].items():
            out.append(f"monitoring.detection.{kind}={_num(min(1.0, p * detection))}")
    if not math.isclose(follow_through, 1.0):
        for stype, spec in base["commitments"]["types"].items():
            out.append(f"commitments.types.{stype}.follow_through={_num(min(1.0, spec['follow_through'] * follow_through))}")
    if not math.isclose(breach_rate, 1.0):
        params = base["breach"]["params"]
        for key in ("rate", "daily_violations", "escalation_rate"):
            if isinstance(params.get(key), (int, float)):
                out.append(f"breach.params.{key}={_num(params[key] * breach_rate)}")
        for kind, rate in (params.get("rates") or {}).items():
            out.append(f"breach.params.rates.{kind}={_num(rate * breach_rate)}")
    return out


class DashboardModel(GuaranteeModel):
    """GuaranteeModel with the dashboard's presets and levers as explicit keyword arguments.

    Mesa's SolaraViz rebuilds the model from these on Reset. ``seed`` is the root seed: the
    run shown is run 0 of it, the row ``run == 0`` of ``guarantee-sim ... seed=N``. Bad input
    (an odd seed, a combination the scenario checks reject) never breaks the page: the
    default scenario runs and ``error`` says why.
    """

    def __init__(
        self,
        coalition: str | None = None,
        commitments: str | None = None,
        breach: str | None = None,
        trigger: str | None = None,
        monitoring: str | None = None,
        decision_rule: str | None = None,
        us_role: str = AS_DESIGNED,
        detection: float = 1.0,
        attribution: float | None = None,
        investigation_days: float | None = None,
        parliament_days: float | None = None,
        congress_days: float | None = None,
        follow_through: float = 1.0,
        breach_rate: float = 1.0,
        seed: int | str = DEFAULT_SEED,
        rng: int | None = None,
    ):
        from guarantee_sim.scenario.compose import load_scenario
        from guarantee_sim.runs.runner import run_seeds

        d = defaults()
        self.error = None
        try:
            root = int(str(rng if rng is not None and seed in (None, "") else seed).strip())
            if root < 0:
                raise ValueError
        except (TypeError, ValueError):
            self.error = f"seed: expected a whole number >= 0, got {seed!r}; using seed 0"
            root = 0
        try:
            overrides = build_overrides(
                coalition=coalition or d["coalition"], commitments=commitments or d["commitments"],
                breach=breach or d["breach"], trigger=trigger or d["trigger"], monitoring=monitoring or d["monitoring"],
                decision_rule=decision_rule or d["decision_rule"], us_role=us_role, detection=detection,
                attribution=attribution, investigation_days=investigation_days, parliament_days=parliament_days,
                congress_days=congress_days, follow_through=follow_through, breach_rate=breach_rate,
            )
            with _lock:
                scenario = load_scenario(tuple(overrides))
        except ConfigError as err:
            self.error = f"{err} (the default scenario runs instead)"
            overrides = []
            with _lock:
                scenario = load_scenario(())
        self.root_seed = root
        self.levers = {"detection": detection, "follow_through": follow_through, "breach_rate": breach_rate}
        self.overrides = overrides
        self.command = shlex.join(["guarantee-sim", "explain", *overrides, f"seed={root}"])
        super().__init__(scenario, seed=run_seeds(root, 1)[0], record=True)


# the timeline -------------------------------------------------------------------------------
def timeline_figure(model) -> Figure:
    """The one timeline figure of the project (``timeline.plot_timeline``), as the run stands now."""
    return plot_timeline(model, title=f"Timeline of this run, day {model.day:.0f} of {model.horizon:g}")


def timeline_caption(model) -> str:
    """What the timeline shows so far, as text (for screen readers and tests)."""
    counts = Counter(mark(e) for e in model.event_log)
    return (f"Up to day {model.day:.0f}: {counts['breach']} breaches, {counts['detected']} detected by the monitoring, "
            f"{counts['attributed']} attributed, trigger {'fired' if counts['trigger'] else 'not fired'}, "
            f"{counts['approval']} approvals, {counts['delivery']} deliveries.")


# panels (Mesa wraps each in a component that re-renders after every step) -----------------
def Timeline(model):
    with solara.Column(style={"width": "100%"}) as panel:
        solara.FigureMatplotlib(timeline_figure(model), format="png")
        solara.HTML(tag="div", unsafe_innerHTML=f'<span id="gs-timeline-caption">{html.escape(timeline_caption(model))}</span>',
                    style="font-size: 13px; color: #333;")
    return panel


def _regime_label(model, regime: str) -> str:
    r = model.spec.regimes.get(regime)
    if r is None:
        return regime.replace("_", " ")
    return f"{regime.replace('_', ' ')} (approval ~{r.delay.mean:.0f} days, passes {r.approval_probability:.0%})"


def coalition_html(model) -> str:
    """The coalition's states as tiles, one row per legal regime; a stripe per support type."""
    rows = []
    regimes = [r for r in REGIME_ORDER if any(a.profile.regime == r for a in model.coalition)]
    regimes += sorted({a.profile.regime for a in model.coalition} - set(regimes))
    for regime in regimes:
        tiles = []
        for a in (a for a in model.coalition if a.profile.regime == regime):
            stripes = "".join(
                f'<span title="{t}: {a.status[t].value}" style="flex:1; background:{STATUS_COLOURS[a.status[t]]};'
                ' border-right:1px solid #fff;"></span>' for t in SUPPORT_TYPES)
            tip = html.escape(f"{a.name} ({regime.replace('_', ' ')}, threshold {a.threshold:.0%}"
                              + (", waits for the US" if a.profile.us_conditional else "") + "): "
                              + "; ".join(f"{t} {a.status[t].value}" + (f" ({reason_text(model, a, t, a.reason[t])})" if t in a.reason else "")
                                          for t in SUPPORT_TYPES))
            flag = "*" if a.profile.us_conditional and model.spec.honour_us_conditionality and not a.profile.is_us else ""
            tiles.append(
                f'<div class="gs-state" data-state="{html.escape(a.name)}" title="{tip}" style="width:58px; margin:3px;'
                ' border:1px solid #999; border-radius:4px; overflow:hidden; background:#fff;">'
                f'<div style="text-align:center; font: bold 13px sans-serif; padding:2px 0;">{a.profile.iso}{flag}</div>'
                f'<div style="display:flex; height:16px;">{stripes}</div></div>')
        rows.append(
            f'<div style="margin-bottom:6px;"><div style="font: 12px sans-serif; color:#333;">'
            f'{html.escape(_regime_label(model, regime))}</div>'
            f'<div style="display:flex; flex-wrap:wrap;">{"".join(tiles)}</div></div>')
    legend = "".join(
        f'<span style="display:inline-block; margin-right:10px;"><span style="display:inline-block; width:12px;'
        f' height:12px; background:{c}; border:1px solid #999; vertical-align:middle;"></span> {s.value}</span>'
        for s, c in STATUS_COLOURS.items())
    return (
        '<div id="gs-coalition" style="font-family:sans-serif; max-height:530px; overflow:auto;">'
        '<div style="font: bold 14px sans-serif; margin-bottom:4px;">The coalition, by legal regime</div>'
        + "".join(rows)
        + f'<div style="font-size:12px; margin-top:4px;">{legend}</div>'
        '<div style="font-size:11px; color:#555; margin-top:2px;">Stripes, left to right: '
        + ", ".join(SUPPORT_TYPES) + ". * waits for the United States. Hover a state for its reasons.</div></div>")


def Coalition(model):
    return solara.HTML(tag="div", unsafe_innerHTML=coalition_html(model), style="width: 100%;")


def funnel_html(model) -> str:
    """The chain breach -> activation of this run, the link where it stands, and the command."""
    steps = chain(model)
    last = max((i for i, s in enumerate(steps) if s.reached), default=-1)
    boxes = []
    for i, s in enumerate(steps):
        colour = "#2e8b57" if s.reached else "#d9d9d9"
        border = "3px solid #000" if i == last + 1 and i < len(steps) else "1px solid #999"
        boxes.append(
            f'<div class="gs-step" data-reached="{str(s.reached).lower()}" style="flex:1; min-width:90px; margin:2px;'
            f' padding:4px; border:{border}; border-radius:4px; background:{colour}22;">'
            f'<div style="font: bold 12px sans-serif; color:{"#1b5e20" if s.reached else "#555"};">{html.escape(s.label)}</div>'
            f'<div style="font: 11px sans-serif;">{html.escape(s.detail)}</div></div>')
    error = (f'<div style="color:#b00020; font-weight:bold; margin-bottom:4px;">{html.escape(model.error)}</div>'
             if model.error else "")
    return (
        f'<div id="gs-funnel" style="font-family:sans-serif; max-height:480px; overflow:auto;">{error}'
        f'<div style="font: bold 14px sans-serif;">Day {model.day:.0f} of {model.horizon:g}: '
        f'<span id="gs-stage">{html.escape(stage_text(model))}</span></div>'
        f'<div style="display:flex; flex-wrap:wrap; margin:6px 0;">{"".join(boxes)}</div>'
        f'<div style="font-size:12px;">Scenario: {html.escape(", ".join(f"{k}={v}" for k, v in model.spec.labels.items()))}; '
        f'commission rule {html.escape(model.spec.decision_rule.name)}</div>'
        '<div id="gs-settings" style="font-size:12px; margin-top:4px;">'
        + "".join(f"<div>{html.escape(line)}</div>" for line in settings_lines(model)) + "</div>"
        '<div style="font-size:12px; color:#555; margin-top:4px;">Change presets or sliders in the sidebar, then '
        'press Reset to start a new run with them.</div>'
        f'<div style="font-size:12px; margin-top:4px;">The same run in a terminal (run 0 of seed {model.root_seed}):</div>'
        f'<code id="gs-command" style="font-size:12px; display:block; white-space:pre-wrap;">'
        f'{html.escape(model.command)}</code></div>')


def settings_lines(model) -> list[str]:
    """The lever values this run uses (the sliders show theirs only while dragged)."""
    import dataclasses

    s, lv = model.spec, model.levers
    det = ", ".join(f"{k.key.replace('_', ' ')} {p:.2f}" for k, p in s.detection.items())
    ft = ", ".join(f"{t} {s.support[t].follow_through:.2f}" for t in SUPPORT_TYPES if t in s.support)
    regimes = ", ".join(f"{n.replace('_', ' ')} ~{r.delay.mean:.0f} d" for n, r in s.regimes.items())
    params = {k: v for k, v in dataclasses.asdict(s.breach_params).items()
              if k in ("rate", "rates", "daily_violations", "escalation_rate")}
    rates = ", ".join(
        (", ".join(f"{kk.replace('_', ' ')} {vv:g}/day" for kk, vv in v.items()) if isinstance(v, dict) else f"{k.replace('_', ' ')} {v:g}")
        for k, v in params.items()) or "none (this pattern has no rate)"
    return [
        f"US role: {s.us_role}" + ("; states that wait for the US: " + ", ".join(
            a.profile.iso for a in model.coalition if a.profile.us_conditional) if s.honour_us_conditionality else ""),
        f"Detection (x{lv['detection']:.2f}): {det}",
        f"Attribution probability {s.attribution_probability:.2f}; investigation ~{s.investigation_time.mean:.0f} days",
        f"Follow-through (x{lv['follow_through']:.2f}): {ft}",
        f"Approval delays: {regimes}",
        f"Breach rates (x{lv['breach_rate']:.2f}): {rates}",
    ]


def Funnel(model):
    return solara.HTML(tag="div", unsafe_innerHTML=funnel_html(model), style="width: 100%;")


KIND_STYLE = {"trigger": "font-weight:bold;", "activation": "font-weight:bold; color:#1b5e20;",
              "approval": "color:#1b5e20;", "delivery": "color:#1b5e20;"}


def narrative_lines(model, limit: int = 150) -> list[str]:
    """'Day 12: ...' lines, newest first."""
    return [f"Day {math.floor(day)}: {text}" for day, _, text in reversed(story(model)[-limit:])]


def narrative_html(model, limit: int = 150) -> str:
    items = [
        f'<div style="{KIND_STYLE.get(kind, "")} border-bottom:1px solid #eee; padding:1px 0;">'
        f"Day {math.floor(day)}: {html.escape(text)}</div>"
        for day, kind, text in reversed(story(model)[-limit:])
    ]
    if not items:
        items = [f'<div style="color:#555;">Day {model.day:.0f}: nothing has happened yet. Press Step or Play.</div>']
    return ('<div id="gs-narrative" style="font: 13px sans-serif; max-height:480px; overflow:auto;">'
            '<div style="font: bold 14px sans-serif; margin-bottom:4px;">What happened (newest first)</div>'
            + "".join(items) + "</div>")


def Narrative(model):
    return solara.HTML(tag="div", unsafe_innerHTML=narrative_html(model), style="width: 100%;")


# the page ----------------------------------------------------------------------------------
def model_params() -> dict:
    """SolaraViz's sidebar: presets as selects, levers as sliders, the seed as text."""
    from guarantee_sim.model.commission import DECISION_RULES

    d = defaults()

    def select(label: str, group: str) -> dict:
        return {"type": "Select", "value": d[group], "values": options(group), "label": label}

    rules = [r for r in DECISION_RULES.names() if r != "consensus"]  # consensus is another name for unanimity
    return {
        "coalition": select("Coalition roster", "coalition"),
        "commitments": select("Commitments design", "commitments"),
        "breach": select("Breach pattern", "breach"),
        "trigger": select("Trigger rule", "trigger"),
        "monitoring": select("Monitoring", "monitoring"),
        "decision_rule": {"type": "Select", "value": d["decision_rule"], "values": rules,
                          "label": "Commission decision rule"},
        "us_role": {"type": "Select", "value": AS_DESIGNED, "values": [AS_DESIGNED, *US_ROLES],
                    "label": "US role (backstop)"},
        "detection": {"type": "SliderFloat", "value": 1.0, "min": 0.0, "max": 1.5, "step": 0.05,
                      "label": "Detection x preset"},
        "attribution": {"type": "SliderFloat", "value": d["attribution"], "min": 0.0, "max": 1.0, "step": 0.05,
                        "label": "Attribution prob."},
        "investigation_days": {"type": "SliderInt", "value": round(d["investigation_days"]), "min": 1, "max": 120,
                               "step": 1, "label": "Investigation days"},
        "parliament_days": {"type": "SliderInt", "value": round(d["parliament_days"]), "min": 1, "max": 90,
                            "step": 1, "label": "Parliament days"},
        "congress_days": {"type": "SliderInt", "value": round(d["congress_days"]), "min": 1, "max": 365,
                          "step": 1, "label": "US Congress days"},
        "follow_through": {"type": "SliderFloat", "value": 1.0, "min": 0.0, "max": 2.0, "step": 0.05,
                           "label": "Follow-through x preset"},
        "breach_rate": {"type": "SliderFloat", "value": 1.0, "min": 0.0, "max": 5.0, "step": 0.1,
                        "label": "Breach rate x preset"},
        "seed": {"type": "InputText", "value": DEFAULT_SEED, "label": "Seed (Enter, then Reset)"},
    }


COMPONENTS = [Timeline, Coalition, Funnel, Narrative]
PANEL_ROWS = (14, 14, 13, 13)  # grid rows of 30 px (+10 px gaps) per panel, in COMPONENTS order


def grid_layout(num_components: int) -> list[dict]:
    """Two columns of panels, taller than Mesa's default (10 rows) so 35 states and the log fit."""
    rows = [PANEL_ROWS[i] if i < len(PANEL_ROWS) else 10 for i in range(num_components)]
    return [{"i": i, "w": 6, "h": rows[i], "moved": False, "x": 6 * (i % 2), "y": sum(rows[j] for j in range(i % 2, i, 2))}
            for i in range(num_components)]


# Mesa's ComponentsView asks this module-level function for the first layout (same name in
# mesa 3.3 and 3.5); the panels stay draggable and resizable.
solara_viz.make_initial_grid_layout = grid_layout


@solara.component
def Page():
    """One dashboard per browser session: each session gets its own model."""
    model = solara.use_memo(DashboardModel, [])
    return SolaraViz(
        model,
        components=COMPONENTS,
        model_params=model_params(),
        name="guarantee_sim: how the Paris 2026 guarantees activate (one run; exploratory, not predictive)",
        play_interval=150,
    )


def main(argv: list[str] | None = None) -> None:
    """Serve the dashboard on 127.0.0.1 (by default: any other host gets a warning) with Solara's front end."""
    import ipaddress
    import sys
    parser = argparse.ArgumentParser(prog="guarantee-sim-dashboard", description=__doc__.split("\n\n")[0])
    parser.error = lambda m: sys.exit(print(f"{parser.prog}: error: {' '.join(m.split())}", file=sys.stderr) or 2)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port, 1 to 65535 (default 8765)")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port: {args.port} is not a port; allowed: 1 to 65535")
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:  # a host name
        loopback = args.host == "localhost"
    if not loopback:
        print(f"guarantee-sim-dashboard: warning: --host {args.host} serves the page, which has no login, to anyone who "
              "can reach this machine (the default 127.0.0.1 serves this machine only)", file=sys.stderr, flush=True)
    import solara.server.settings as settings  # already imported with solara: set it, not the environment
    import uvicorn
    settings.telemetry.mixpanel_enable = False  # no usage data leaves the classroom
    settings.main.mode = "production"  # no hot reload, no development tools
    warnings.filterwarnings("ignore", "Cookies with samesite=none require https", UserWarning)  # on each page, over http
    os.environ["SOLARA_APP"] = "guarantee_sim.present.app:Page"
    print(f"guarantee-sim dashboard: http://{args.host}:{args.port}  (Ctrl+C stops it)", flush=True)
    uvicorn.run("solara.server.starlette:app", host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
