"""ARI simulator: a fake Asterisk 22 speaking ARI over real HTTP and WebSocket (see docs/ari-simulator.md)."""

from acd.ari_sim.server import SimulatorConfig, SimulatorHandle, start_simulator

__all__ = ["SimulatorConfig", "SimulatorHandle", "start_simulator"]
