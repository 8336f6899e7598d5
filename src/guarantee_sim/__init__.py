"""guarantee_sim: an exploratory agent-based model of post-ceasefire security guarantees for Ukraine.

    from guarantee_sim import simulate
    df = simulate(overrides=["breach=hybrid", "trigger=armed_attack"], runs=500, seed=7)

Results are probabilities with uncertainty bands from a model built on sourced figures and
labelled assumptions (docs/parameters.md); they explore designs, they do not predict.
"""

from .config import compose_config, load_scenario
from .errors import ConfigError
from .model import GuaranteeModel
from .runner import run_replications, simulate
from .stats import summarize

__all__ = ["ConfigError", "GuaranteeModel", "compose_config", "load_scenario", "run_replications", "simulate", "summarize"]
__version__ = "0.1.0"
