"""The model and its rules: agents, components, breach patterns, triggers, the event record.

Importing the package registers every breach pattern, the strategic violator (``deterrence.py``)
and the escalating ones (``escalation.py``) among them, so ``breach=<name>`` finds each whatever
module is imported first.
"""

from guarantee_sim.model import deterrence  # noqa: F401  (registers breach=strategic)
from guarantee_sim.model import escalation  # noqa: F401  (registers adaptive_probe, deniable_incursion)
