"""The privileged expert: IDM for speed, MOBIL for lane changes, read from the simulator's full state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from e2edrive.sim.policy import Action, Observation


@dataclass(frozen=True)
class ExpertConfig:
    """target_speed_mps: IDM desired speed. lane_change_min_gain_mps2: MOBIL threshold (higher = calmer)."""

    target_speed_mps: float = 25.0
    lane_change_min_gain_mps2: float = 0.2
    yield_horizon_s: float = 3.0
    """Conflict check: both cars predicted along their routes at constant speed for this long."""
    yield_gap_m: float = 6.0
    """Predicted centre distance under which two cars are in conflict."""
    yield_decel_mps2: float = -5.0
    yield_radius_m: float = 60.0

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
        if world.scenario.expert_yields and self._must_yield(world):
            accel_mps2 = min(accel_mps2, self.config.yield_decel_mps2)
        return Action(steer_rad=-steering_right_rad, accel_mps2=accel_mps2)

    def _must_yield(self, world) -> bool:
        """Time-to-collision check against every nearby car, along both cars' routes (not just the lane
        leader IDM sees): brake when a conflict is predicted and we would not clear it first."""
        c = self.config
        ego = world.ego
        times = np.arange(0.25, c.yield_horizon_s + 1e-9, 0.25)
        ego_path = None
        for other in world.env.unwrapped.road.vehicles:
            if other is ego or np.linalg.norm(other.position - ego.position) > c.yield_radius_m:
                continue
            rel = other.position - ego.position
            if np.dot(rel, ego.direction) < -ego.LENGTH:  # behind us: theirs to avoid
                continue
            if ego_path is None:
                ego_path = _predict(ego, times)
            other_path = _predict(other, times)
            gaps = np.linalg.norm(ego_path - other_path, axis=1)
            hit = np.flatnonzero(gaps < c.yield_gap_m)
            if hit.size and np.linalg.norm(other_path[hit[0]] - other.position) > 1.0:
                return True  # a moving car reaches the conflict point with us: let it pass
        return False


def _predict(vehicle, times: np.ndarray) -> np.ndarray:
    """(len(times), 2) positions along the vehicle's route at constant speed; straight ahead without one."""
    try:
        return np.array(vehicle.predict_trajectory_constant_speed(times)[0])
    except (AttributeError, IndexError, KeyError):  # no route, or highway-env cannot follow it
        return vehicle.position + np.outer(times, vehicle.velocity)
