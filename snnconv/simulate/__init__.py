"""Spiking simulation of converted networks: encodings, IF neurons, the fast engine and membrane statistics.

See docs/method.md §S1–§S7.
"""

from .encoding import ConstantEncoder, PoissonEncoder, make_encoder
from .engine import Probe, SimulationResult, resolve_device, simulate, to_frame
from .neurons import if_scan, initial_membrane
from .reference import simulate_stepwise
from .stats import record_membrane_stats
from .workspace import Workspace

__all__ = [
    "ConstantEncoder",
    "PoissonEncoder",
    "Probe",
    "SimulationResult",
    "Workspace",
    "if_scan",
    "initial_membrane",
    "make_encoder",
    "record_membrane_stats",
    "resolve_device",
    "simulate",
    "simulate_stepwise",
    "to_frame",
]
