"""The privileged expert: IDM for speed, MOBIL for lane changes, read from the simulator's full state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from highway_env import utils
from highway_env.road.regulation import RegulatedRoad

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
    merge_lookahead_m: float = 60.0
    """Route lane changes: match the speed of the next lane's car ahead when it is within this distance..."""
    merge_min_speed_mps: float = 10.0
    """...but slow to no less than this."""
    route_lane_change_delay_s: float = 0.5
    """Time between MOBIL decisions while the route needs another lane (highway-env's default: 1 s)."""
    entry_horizon_s: float = 6.0
    """Gap acceptance at a junction's stop line: how far ahead conflicts are looked for..."""
    entry_speed_mps: float = 6.0
    """...with us predicted speeding up at entry_accel_mps2 to this speed (how we would cross); a conflict is
    the two cars' footprints overlapping at some predicted time..."""
    entry_accel_mps2: float = 2.5
    entry_zone_m: float = 20.0
    """...checked only within this distance of the stop line."""

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
        # A regulated junction (highway-env's RegulatedRoad) stops lower-priority cars in a predicted conflict
        # by zeroing their target speed. The expert obeys it on its approach lane only: once past the stop
        # line, stopping would leave it standing in the crossing traffic's path, so it clears the junction.
        road = world.env.unwrapped.road
        approaching = isinstance(road, RegulatedRoad) and ego.lane_index[:2] == world.start_lane_index[:2]
        yielding = approaching and (getattr(ego, "is_yielding", False) or self._gap_too_short(world))

        _abandon_a_missed_exit(ego)
        merge_speed = self._merge_speed(ego)
        cruise = min(self.config.target_speed_mps, world.scenario.expert_speed_mps or float("inf"), merge_speed)
        ego.target_speed = 0.0 if yielding else cruise
        if merge_speed < float("inf"):  # changing lanes for the route: decide as often as it may
            ego.LANE_CHANGE_DELAY = self.config.route_lane_change_delay_s
        ego.LANE_CHANGE_MIN_ACC_GAIN = self.config.lane_change_min_gain_mps2
        steering_right_rad, accel_mps2 = ego.decide()
        if world.scenario.expert_yields and self._must_yield(world):
            accel_mps2 = min(accel_mps2, self.config.yield_decel_mps2)
        accel_mps2 = max(accel_mps2, -max(ego.speed, 0.0) / world.dt_s)  # brake to a stop, never into reverse
        return Action(steer_rad=-steering_right_rad, accel_mps2=accel_mps2)

    def _merge_speed(self, ego) -> float:
        """When the route needs another lane of this road (an exit ahead), the speed of the car ahead in the
        next lane over: alongside the gap behind it MOBIL finds the change safe, where racing past the whole
        queue it never would. Infinite when no lane change is needed."""
        if not ego.route or ego.route[0][2] is None or ego.route[0][:2] != ego.lane_index[:2]:
            return float("inf")
        step = int(np.sign(ego.route[0][2] - ego.lane_index[2]))
        if step == 0:
            return float("inf")
        side = (*ego.lane_index[:2], ego.lane_index[2] + step)
        ahead, _ = ego.road.neighbour_vehicles(ego, side)
        if ahead is None or ego.lane_distance_to(ahead) > self.config.merge_lookahead_m:
            return float("inf")
        return max(float(ahead.speed), self.config.merge_min_speed_mps)

    def _gap_too_short(self, world) -> bool:
        """Gap acceptance at a stop line: would a car with right of way over us overlap us if we drove on along
        our route, speeding up to entry_speed_mps? (highway-env's own conflict check predicts us at our current
        speed, so a car waiting at the line sees no conflict and pulls out.)"""
        c = self.config
        ego = world.ego
        times = np.arange(0.25, c.entry_horizon_s + 1e-9, 0.25)
        s_now = ego.lane.local_coordinates(ego.position)[0]
        if ego.lane.length - s_now > c.entry_zone_m:
            return False  # not at the stop line yet
        v0 = max(ego.speed, 0.0)
        v1 = max(v0, c.entry_speed_mps)
        t_up = (v1 - v0) / c.entry_accel_mps2  # accelerate from now to v1, then hold it
        travel_m = np.where(
            times < t_up,
            v0 * times + 0.5 * c.entry_accel_mps2 * times**2,
            v0 * t_up + 0.5 * c.entry_accel_mps2 * t_up**2 + v1 * (times - t_up),
        )
        network = ego.road.network
        route = ego.route or [ego.lane_index]
        ego_path = [network.position_heading_along_route(route, s_now + d, 0, ego.lane_index) for d in travel_m]
        ahead = [lane[:2] for lane in route if lane[:2] != ego.lane_index[:2]]  # the junction lane, then the exit
        for other in ego.road.vehicles:
            if other is ego or np.linalg.norm(other.position - ego.position) > c.yield_radius_m:
                continue
            if other.lane_index[:2] == ego.lane_index[:2]:
                continue  # in our lane: IDM follows it
            if ahead and other.lane_index[1] == ahead[0][1] and other.speed < c.entry_speed_mps:
                return True  # someone slow is heading into our exit: don't block the junction behind it
            if RegulatedRoad.respect_priorities(ego, other) is not ego:
                continue  # highway-env's rule gives us right of way over this one
            try:
                other_path = zip(*other.predict_trajectory_constant_speed(times))
            except (AttributeError, IndexError, KeyError):
                continue
            for (p1, h1), (p2, h2) in zip(ego_path, other_path):
                # a cheap distance check first, then the two footprints (highway-env's rectangle test)
                if np.linalg.norm(p2 - p1) < ego.LENGTH * 1.5 and utils.rotated_rectangles_intersect(
                    (p1, ego.LENGTH, ego.WIDTH, h1), (p2, other.LENGTH, other.WIDTH, h2)
                ):
                    return True
        return False

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


MISSED_EXIT_S = 1.0
"""Less than this much road left at the current speed, and not yet in the exit's lane: the exit is missed."""


def _abandon_a_missed_exit(ego) -> None:
    """Not in the route's lane with under a second of road left: drive on instead of cutting across lanes
    (highway-env's route following would steer straight at the exit from wherever the car is)."""
    if not ego.route or ego.route[0][2] is None or ego.route[0][:2] != ego.lane_index[:2]:
        return
    left_m = ego.lane.length - ego.lane.local_coordinates(ego.position)[0]
    if ego.route[0][2] == ego.lane_index[2] or left_m > max(ego.speed, 0.0) * MISSED_EXIT_S or len(ego.route) < 2:
        return
    # Only where the next road does not go on from our lane (an exit), not where every lane continues.
    network = ego.road.network
    a, b, _ = ego.route[1]
    end = ego.lane.position(ego.lane.length, 0)
    if min(np.linalg.norm(lane.position(0, 0) - end) for lane in network.graph[a][b]) > ego.lane.width_at(0):
        ego.route = [ego.lane_index]  # no plan: highway-env continues in the nearest lane straight on


def _predict(vehicle, times: np.ndarray) -> np.ndarray:
    """(len(times), 2) positions along the vehicle's route at constant speed; straight ahead without one."""
    try:
        return np.array(vehicle.predict_trajectory_constant_speed(times)[0])
    except (AttributeError, IndexError, KeyError):  # no route, or highway-env cannot follow it
        return vehicle.position + np.outer(times, vehicle.velocity)
