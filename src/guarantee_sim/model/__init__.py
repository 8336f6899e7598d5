"""The model and its rules: agents, components, breach patterns, triggers, the event record.

Importing the package registers every breach pattern, the strategic violator among them
(``deterrence.py``), so ``breach=<name>`` finds each whatever module is imported first.
"""

from guarantee_sim.model import deterrence  # noqa: F401  (registers breach=strategic)
