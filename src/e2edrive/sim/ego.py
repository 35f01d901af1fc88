"""The ego car: moved only by the commands it is given, but able to *think* like IDM/MOBIL for the expert, with
smooth lane changes (a ramped lateral speed) and a MOBIL that looks across road-segment joins."""

from __future__ import annotations

import numpy as np
from highway_env import utils
from highway_env.vehicle.behavior import IDMVehicle
from highway_env.vehicle.kinematics import Vehicle

from e2edrive.core.io import FRAME_DT_S
from e2edrive.sim.prediction import RoutePrediction


class EgoVehicle(RoutePrediction, IDMVehicle):
    """The ego car: moved only by the commands it is given, but able to *think* like IDM/MOBIL.

    Other cars treat it as a controlled vehicle (they read its target lane for MOBIL). The expert calls
    `decide()`; nothing else does, so a learned policy drives it alone.
    """

    LANE_CHANGE_SPEED_MPS = 1.5
    LANE_CHANGE_ACCEL_MPS2 = 2.0
    """A lane change's lateral speed ramps up and down at this rate, to at most LANE_CHANGE_SPEED_MPS (4 m in
    about 3.5 s). highway-env's controller asks for 4 m / 0.6 s at once: one step of 0.4 rad steering and
    ~35 m/s² lateral acceleration at 20 m/s, nothing worth copying. Lane keeping and the jumps between
    roads of highway-env's junction networks keep its controller."""
    LANE_CHANGE_DONE_M = 0.2
    LANE_CHANGE_DONE_MPS = 0.2
    """A lane change ends this close to the centre, moving sideways this slowly."""
    lateral_speed_ref_mps = 0.0
    changing_lanes = False

    def act(self, action: dict | str | None = None) -> None:
        # highway-env calls act() with no argument on every vehicle each step: keep the last command.
        if isinstance(action, dict):
            Vehicle.act(self, action)

    def step(self, dt: float) -> None:
        """highway-env's bicycle step, but braking stops the car instead of driving it backwards: a plain vehicle
        reverses under a held negative acceleration, down to -40 m/s (the learned driver, braking before a
        junction, rolled back until it left the road in 20 of 38 failed episodes). No command reverses it."""
        floor = -max(float(self.speed), 0.0) / dt
        self.action = {**self.action, "acceleration": max(float(self.action["acceleration"]), floor)}
        super().step(dt)

    def steering_control(self, target_lane_index: tuple) -> float:
        """highway-env's cascade (lateral offset → lateral speed → heading → steering); during a lane change
        the lateral speed reference is a trapezoid in time that can always brake to zero at the new centre."""
        lane = self.road.network.get_lane(target_lane_index)
        s, lateral_m = lane.local_coordinates(self.position)
        if target_lane_index[:2] == self.lane_index[:2] and target_lane_index[2] != self.lane_index[2]:
            self.changing_lanes = True
        elif abs(lateral_m) < self.LANE_CHANGE_DONE_M and abs(self.lateral_speed_ref_mps) < self.LANE_CHANGE_DONE_MPS:
            self.changing_lanes = False  # settled (an aborted change ramps back down too, not snaps)
        if not self.changing_lanes:
            self.lateral_speed_ref_mps = -self.KP_LATERAL * lateral_m
            return super().steering_control(target_lane_index)
        cap = min(self.LANE_CHANGE_SPEED_MPS, np.sqrt(2 * self.LANE_CHANGE_ACCEL_MPS2 * abs(lateral_m)))
        wanted = float(np.clip(-self.KP_LATERAL * lateral_m, -cap, cap))
        step = self.LANE_CHANGE_ACCEL_MPS2 * FRAME_DT_S
        self.lateral_speed_ref_mps = float(
            np.clip(wanted, self.lateral_speed_ref_mps - step, self.lateral_speed_ref_mps + step)
        )
        speed = max(abs(self.speed), 1e-3)
        heading_ref = lane.heading_at(s + self.speed * self.TAU_PURSUIT) + np.clip(
            np.arcsin(np.clip(self.lateral_speed_ref_mps / speed, -1, 1)), -np.pi / 4, np.pi / 4
        )
        heading_rate = self.KP_HEADING * utils.wrap_to_pi(heading_ref - self.heading)
        slip = np.arcsin(np.clip(self.LENGTH / 2 / speed * heading_rate, -1, 1))
        return float(np.arctan(2 * np.tan(slip)))

    def mobil(self, lane_index: tuple) -> bool:
        """MOBIL, and again with highway-env's leader search across road-segment joins: a car a few metres
        behind, still on the previous segment, is invisible to the plain search (merge: the ego cut in front of
        one closing at 2 m/s; the slower lane change gave it no time to brake)."""
        if not super().mobil(lane_index):
            return False
        road = self.road
        plain, road.neighbour_vehicles_connected_lanes = road.neighbour_vehicles_connected_lanes, True
        try:
            return bool(super().mobil(lane_index))
        finally:
            road.neighbour_vehicles_connected_lanes = plain

    def decide(self) -> tuple[float, float]:
        """IDM + MOBIL decision for this step, in highway-env units: (steering rad, right-positive; accel)."""
        if self.crashed:
            return 0.0, -float(self.COMFORT_ACC_MAX)
        self.follow_road()
        if self.enable_lane_change:
            self.change_lane_policy()
        steering = float(
            np.clip(self.steering_control(self.target_lane_index), -self.MAX_STEERING_ANGLE, self.MAX_STEERING_ANGLE)
        )
        front, rear = self.road.neighbour_vehicles(self, self.lane_index)
        accel = self.acceleration(ego_vehicle=self, front_vehicle=front, rear_vehicle=rear)
        if self.lane_index != self.target_lane_index:
            front, rear = self.road.neighbour_vehicles(self, self.target_lane_index)
            accel = min(accel, self.acceleration(ego_vehicle=self, front_vehicle=front, rear_vehicle=rear))
        return steering, float(np.clip(accel, -self.ACC_MAX, self.ACC_MAX))
