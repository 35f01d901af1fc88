"""The simulator as the in-car loop's sensors and actuators (closed loop), stepped at the loop rate, with the
lead car from a simulated radar. A test harness of the runtime, outside `deploy/runtime/`: it needs the `sim`
extra (highway-env, Panda3D), which the car does not install."""

from __future__ import annotations

from typing import Any

import numpy as np

from e2edrive.core.policy import Action
from e2edrive.deploy.runtime.monitor import LeadEstimate
from e2edrive.deploy.runtime.sources import Frame
from e2edrive.sim.rig import rig_cameras
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


class SimSource:
    """The simulator as sensors + actuators, stepped at the loop rate; lead from a simulated radar."""

    def __init__(
        self,
        scenario: str,
        seed: int,
        rate_hz: float,
        overrides: dict[str, Any] | None = None,
        cameras: tuple[str, ...] = ("front",),
    ) -> None:
        rate = {"simulation_frequency": int(rate_hz), "policy_frequency": int(rate_hz)}
        self.world = World(get_scenario(scenario), {**(overrides or {}), **rate}, rig_cameras(cameras))
        self.seed = seed
        self._obs = self.world.reset(seed)
        self.distance_m = 0.0

    @property
    def finished(self) -> bool:
        return self.world.done

    def radar(self) -> LeadEstimate | None:
        lead = self.world.lead()
        return None if lead is None else LeadEstimate(distance_m=lead[0], closing_speed_mps=lead[1])

    def read(self) -> Frame | None:
        return Frame(self._obs.frames, self._obs.speed_mps, self._obs.time_s, self._obs.command, self.radar())

    def apply(self, action: Action) -> None:
        before = self.world.ego_state()
        self._obs = self.world.step(action)
        after = self.world.ego_state()
        self.distance_m += float(np.hypot(after.x_m - before.x_m, after.y_m - before.y_m))

    def result(self) -> dict:
        state = self.world.ego_state()
        return {
            "seed": self.seed,
            "steps": self.world.step_index,
            "time_s": self.world.time_s,
            "distance_m": self.distance_m,
            "collided": state.crashed,
            "offroad": not state.on_road,
            "success": self.world.success(),
        }
