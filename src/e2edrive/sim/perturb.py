"""Short random pushes on top of the driving command during collection, so the clips show how to recover
(DART, Laskey et al. 2017). numpy only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from e2edrive.core.policy import Action


@dataclass(frozen=True)
class PerturbConfig:
    """Short random pushes on top of the driving command, so the clips show how to recover.

    Each step a push starts with probability `start_probability`; it lasts a uniform number of steps in
    [min_steps, max_steps] and adds a steering offset of ±steer_rad or an acceleration offset of
    ±accel_mps2. Offsets are zero-mean, so the recorded trajectories stay unbiased labels.
    """

    start_probability: float = 0.0
    min_steps: int = 4
    max_steps: int = 10
    steer_rad: float = 0.06
    accel_mps2: float = 2.0
    steer_share: float = 0.6

    def __post_init__(self) -> None:
        if not 0.0 <= self.start_probability <= 1.0:
            raise ValueError(f"start_probability={self.start_probability} outside [0, 1]")
        if not 1 <= self.min_steps <= self.max_steps:
            raise ValueError(f"need 1 <= min_steps <= max_steps, got {self.min_steps}, {self.max_steps}")


class Perturber:
    def __init__(self, config: PerturbConfig, seed: int) -> None:
        self.config = config
        self._rng = np.random.default_rng(seed)
        self._left = 0
        self._offset = Action(0.0, 0.0)

    def __call__(self, action: Action) -> tuple[Action, bool]:
        c = self.config
        if self._left == 0 and c.start_probability > 0 and self._rng.random() < c.start_probability:
            self._left = int(self._rng.integers(c.min_steps, c.max_steps + 1))
            if self._rng.random() < c.steer_share:
                self._offset = Action(float(self._rng.choice([-1.0, 1.0]) * c.steer_rad), 0.0)
            else:
                self._offset = Action(0.0, float(self._rng.choice([-1.0, 1.0]) * c.accel_mps2))
        if self._left == 0:
            return action, False
        self._left -= 1
        return Action(action.steer_rad + self._offset.steer_rad, action.accel_mps2 + self._offset.accel_mps2), True
