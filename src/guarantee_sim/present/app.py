"""``guarantee-sim-dashboard``: the classroom dashboard, a Solara page over the Mesa model.

    guarantee-sim-dashboard                       # serves http://127.0.0.1:8765
    guarantee-sim-dashboard --port 8800           # another port; --host to listen elsewhere
    guarantee-sim-dashboard --results results     # where the sweep explorer looks for sweeps

Four tabs: one run told step by step (``dashboard/one_run.py``), many runs of the same settings
and two designs side by side on one seed (``dashboard/batch.py``), and a sweep's results
(``dashboard/explorer.py``). The sidebar's settings (``dashboard/settings.py``,
``dashboard/controls.py``) hold for every tab. The page is served with Solara's local copy of its
front end (solara-assets), so it works with no internet; Solara's telemetry and badge are off.
"""

from __future__ import annotations

import argparse
import importlib.resources
import os
import warnings

import matplotlib

matplotlib.use("Agg")  # figures are drawn server-side; never open a GUI backend

import solara  # noqa: E402
import solara.lab  # noqa: E402

from guarantee_sim.present.dashboard.batch import BatchPanel, ComparePanel  # noqa: E402
from guarantee_sim.present.dashboard.controls import RunControls, Settings, initial_settings, new_run  # noqa: E402
from guarantee_sim.present.dashboard.one_run import RunPanels  # noqa: E402

TITLE = "guarantee_sim: how the Paris 2026 guarantees activate (exploratory, not predictive)"
RESULTS = "GUARANTEE_SIM_RESULTS"  # where the explorer looks for sweeps (``--results``)
CSS = (importlib.resources.files("guarantee_sim.present.dashboard") / "page.css").read_text()


@solara.component
def Page():
    """One dashboard per browser session: its own settings and its own run."""
    from guarantee_sim.present.dashboard.explorer import SweepExplorer

    settings = solara.use_reactive(initial_settings())
    resets, version, playing = solara.use_reactive(0), solara.use_reactive(0), solara.use_reactive(False)
    reached = solara.use_ref(0.0)  # the day the run had reached: a changed setting brings the new run there
    model = solara.use_memo(lambda: new_run(settings.value, reached.current), [settings.value, resets.value])

    def bump():
        reached.current = model.day
        version.set(version.value + 1)

    def reset():
        playing.set(False)
        reached.current = 0.0
        resets.set(resets.value + 1)

    solara.Style(CSS)
    solara.Title("guarantee_sim dashboard")
    solara.AppBarTitle(TITLE)
    with solara.Sidebar():
        Settings(settings)
    with solara.lab.Tabs(lazy=True):
        with solara.lab.Tab("One run"):
            RunControls(model, version.value, bump, reset, playing)
            RunPanels(model, version.value)
        with solara.lab.Tab("Many runs"):
            BatchPanel(settings.value)
        with solara.lab.Tab("Two designs, one seed"):
            ComparePanel(settings.value)
        with solara.lab.Tab("Explore a sweep"):
            SweepExplorer(os.environ.get(RESULTS, "results"))


def main(argv: list[str] | None = None) -> None:
    """Serve the dashboard on 127.0.0.1 (by default: any other host gets a warning) with Solara's front end."""
    import ipaddress
    import sys
    parser = argparse.ArgumentParser(prog="guarantee-sim-dashboard", description=__doc__.split("\n\n")[0])
    parser.error = lambda m: sys.exit(print(f"{parser.prog}: error: {' '.join(m.split())}", file=sys.stderr) or 2)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port, 1 to 65535 (default 8765)")
    parser.add_argument("--results", default="results", help="folder of sweeps for the explorer (default results)")
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
    settings.theme.show_banner = False  # Solara's badge covered the page's text
    warnings.filterwarnings("ignore", "Cookies with samesite=none require https", UserWarning)  # on each page, over http
    os.environ["SOLARA_APP"] = "guarantee_sim.present.app:Page"
    os.environ[RESULTS] = args.results
    print(f"guarantee-sim dashboard: http://{args.host}:{args.port}  (Ctrl+C stops it)", flush=True)
    uvicorn.run("solara.server.starlette:app", host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
