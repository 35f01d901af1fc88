"""The privileged expert: IDM for speed, MOBIL for lane changes, read from the simulator's full state."""

from __future__ import annotations

from dataclasses import dataclass

from e2edrive.sim.policy import Action, Observation


@dataclass(frozen=True)
class ExpertConfig:
    """target_speed_mps: IDM desired speed. lane_change_min_gain_mps2: MOBIL threshold (higher = calmer)."""

    target_speed_mps: float = 25.0
    lane_change_min_gain_mps2: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 < self.target_speed_mps <= 40.0:
            raise ValueError(f"target_speed_mps={self.target_speed_mps} outside (0, 40]")


class ExpertPolicy:
    privileged = True

    def __init__(self, config: ExpertConfig = ExpertConfig()) -> None:
        self.config = config

    def reset(self, seed: int) -> None:
        """Stateless between episodes: its lane-change intent lives on the ego vehicle, reset by the world."""

    def act(self, observation: Observation) -> Action:
        world = observation.state
        if world is None:
            raise ValueError("the expert is privileged: it needs observation.state (the World)")
        ego = world.ego
        ego.target_speed = self.config.target_speed_mps
        ego.LANE_CHANGE_MIN_ACC_GAIN = self.config.lane_change_min_gain_mps2
        steering_right_rad, accel_mps2 = ego.decide()
        return Action(steer_rad=-steering_right_rad, accel_mps2=accel_mps2)
