"""Hydra's basic sweeper, minus its serial re-composition of every cell before the launch.

``guarantee-sim`` composes the command's cells and builds their scenarios before Hydra starts
(every value of every swept lever at least once), and the launcher composes each cell when it
runs it. Hydra's basic sweeper would also compose every cell, one after another, before
launching any: ~0.1 s a cell with no core busy on the simulation, 12 s of the 120-cell headline
study. Everything else (parsing, expanding ``a=1,2 b=x,y``, batches, preset
``hydra.sweeper.params``) is the basic sweeper's.

Lives in ``hydra_plugins`` because Hydra loads sweepers only from there.
"""

from dataclasses import dataclass

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore


@dataclass
class CheckedSweeperConf(BasicSweeperConf):
    _target_: str = "hydra_plugins.guarantee_sim_sweeper.checked_sweeper.CheckedSweeper"


class CheckedSweeper(BasicSweeper):
    def validate_batch_is_legal(self, batch) -> None:
        """The cells were checked by ``guarantee-sim`` before Hydra started (see the module doc)."""


ConfigStore.instance().store(group="hydra/sweeper", name="checked", node=CheckedSweeperConf, provider="guarantee_sim")
