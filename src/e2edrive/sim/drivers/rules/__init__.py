"""The hand-written camera driver: front-camera pixels + own speed + navigation command, no simulator state.

Stages, each usable alone: `segment` (pixel classes) → `ground` (pixel → road-plane point) → `lanes` (ego-lane
centre line) and `obstacles` (nearest vehicle in the ego lane) → `driver` (pure pursuit + adaptive cruise +
junction handling from the command).
"""

from e2edrive.sim.drivers.rules.driver import RulesConfig, RulesPolicy

__all__ = ["RulesConfig", "RulesPolicy"]
