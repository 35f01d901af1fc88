"""Frame sources for the in-car loop: the simulator (closed loop) or a video file (open loop). No torch.

A source's `read()` returns this cycle's Frame, or None when no new frame arrived in time (a dropped
frame); `finished` turns True at the end; `apply(action)` sends the command to the actuators.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from e2edrive.deploy.runtime.monitor import LeadEstimate
from e2edrive.model import io
from e2edrive.sim.policy import Action


@dataclass
class Frame:
    """image: (H, W, 3) uint8 RGB at the model's resolution. lead: radar-style estimate when the car has one."""

    image: np.ndarray
    speed_mps: float
    time_s: float
    command: str = "follow"
    lead: LeadEstimate | None = None


class SimSource:
    """The simulator as sensors + actuators, stepped at the loop rate; lead from a simulated radar."""

    def __init__(self, scenario: str, seed: int, rate_hz: float, overrides: dict[str, Any] | None = None) -> None:
        from e2edrive.sim.scenarios import get_scenario
        from e2edrive.sim.world import World

        rate = {"simulation_frequency": int(rate_hz), "policy_frequency": int(rate_hz)}
        self.world = World(get_scenario(scenario), {**(overrides or {}), **rate})
        self._obs = self.world.reset(seed)
        self.distance_m = 0.0

    @property
    def finished(self) -> bool:
        return self.world.done

    def radar(self) -> LeadEstimate | None:
        lead = self.world.lead()
        return None if lead is None else LeadEstimate(distance_m=lead[0], closing_speed_mps=lead[1])

    def read(self) -> Frame | None:
        return Frame(self._obs.frames["front"], self._obs.speed_mps, self._obs.time_s, self._obs.command, self.radar())

    def apply(self, action: Action) -> None:
        before = self.world.ego_state()
        self._obs = self.world.step(action)
        after = self.world.ego_state()
        self.distance_m += float(np.hypot(after.x_m - before.x_m, after.y_m - before.y_m))

    def result(self) -> dict:
        state = self.world.ego_state()
        return {
            "steps": self.world.step_index,
            "distance_m": self.distance_m,
            "collided": state.crashed,
            "offroad": not state.on_road,
            "success": self.world.success(),
        }


class VideoSource:
    """A recorded drive (e.g. a dashcam MP4) resampled to the loop rate and resized to the model's input.

    The file carries no speed: `assumed_speed_mps` is what the model is told, and it is declared in the report.
    """

    def __init__(self, path: Path, rate_hz: float, assumed_speed_mps: float = 25.0) -> None:
        import av

        self.path = Path(path)
        self._container = av.open(str(self.path))
        self._stream = self._container.streams.video[0]
        self._frames = self._container.decode(self._stream)
        self._period_s = 1.0 / rate_hz
        self._next_t_s = 0.0
        self._pending = None
        self.assumed_speed_mps = assumed_speed_mps
        self.finished = False

    def _decode_next(self):
        try:
            return next(self._frames)
        except StopIteration:
            self.finished = True
            self._container.close()
            return None

    def read(self) -> Frame | None:
        """The last video frame at or before this cycle's time; None if the video has none newer (dropped)."""
        from PIL import Image

        chosen = None
        while not self.finished:
            f = self._pending or self._decode_next()
            self._pending = None
            if f is None:
                break
            if float(f.time) > self._next_t_s + 1e-6:
                self._pending = f
                break
            chosen = f
        t = self._next_t_s
        self._next_t_s += self._period_s
        if chosen is None:
            return None
        rgb = chosen.to_image().resize((io.IMAGE_WIDTH_PX, io.IMAGE_HEIGHT_PX), Image.BILINEAR)
        return Frame(np.asarray(rgb, np.uint8), self.assumed_speed_mps, t)

    def apply(self, action: Action) -> None:
        """Open loop: a recording cannot be steered."""
