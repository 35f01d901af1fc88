"""The one small interface every driver implements: `reset(seed)` and `act(observation) -> Action`.

The expert, the torch model and the ONNX model all implement it, so evaluation never cares which it runs.
A policy that sets `privileged = True` is handed the simulator's state; every other policy sees only
camera frames, its own speed and the navigation command.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

MAX_STEER_RAD = math.pi / 4
"""Steering limit of the simulated car, both directions."""
MAX_ACCEL_MPS2 = 5.0
"""Acceleration limit of the simulated car, both directions."""


@dataclass(frozen=True)
class Action:
    """One control command. Steering is positive to the left (ISO 8855)."""

    steer_rad: float
    accel_mps2: float

    def clipped(self) -> Action:
        steer = float(np.clip(np.nan_to_num(self.steer_rad), -MAX_STEER_RAD, MAX_STEER_RAD))
        accel = float(np.clip(np.nan_to_num(self.accel_mps2), -MAX_ACCEL_MPS2, MAX_ACCEL_MPS2))
        return Action(steer, accel)


@dataclass
class Observation:
    """What a policy sees at one step.

    frames: camera name → (H, W, 3) uint8 RGB image of this step.
    state: the simulator world, for privileged policies only (None otherwise).
    """

    frames: dict[str, np.ndarray]
    speed_mps: float
    command: str
    time_s: float
    state: Any = field(default=None, repr=False)


class Policy(Protocol):
    privileged: bool

    def reset(self, seed: int) -> None: ...

    def act(self, observation: Observation) -> Action: ...
