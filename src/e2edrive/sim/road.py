"""highway-env's road, with the two loops that dominate a step done in numpy.

Profiled on the highway scenario (30 cars), `Road.neighbour_vehicles` (every car's IDM and MOBIL asks it for
the cars ahead and behind, each time projecting every car onto the lane one by one) and the all-pairs
collision check took about 60 % of a step. Same decisions, same collisions, same bytes: the projection is
computed the same way, only for all cars at once, and pairs are skipped only when highway-env's own
spherical pre-check would skip them.
"""

from __future__ import annotations

import numpy as np
from highway_env.road.lane import StraightLane
from highway_env.road.regulation import RegulatedRoad
from highway_env.road.road import Road
from highway_env.vehicle.objects import Landmark

PRECHECK_SLACK_M = 1e-6
"""Pairs this close to highway-env's pre-check threshold still go through its exact check."""


class FastRoad(Road):
    _snapshot: tuple | None = None
    """(cars, their positions) while every car decides its action: nothing moves until the road steps."""

    def act(self) -> None:
        self._snapshot = self._cars_and_positions()
        try:
            super().act()
        finally:
            self._snapshot = None

    def _cars_and_positions(self) -> tuple[list, np.ndarray]:
        # highway-env skips landmarks among both lists; only objects can be landmarks (an ABC: slow to test)
        cars = self.vehicles + [o for o in self.objects if not isinstance(o, Landmark)]
        return cars, np.array([car.position for car in cars]).reshape(-1, 2)

    def neighbour_vehicles(self, vehicle, lane_index=None):
        lane_index = lane_index or vehicle.lane_index
        if not lane_index:
            return None, None
        lane = self.network.get_lane(lane_index)
        if self.neighbour_vehicles_connected_lanes or type(lane) is not StraightLane:
            return super().neighbour_vehicles(vehicle, lane_index)
        cars, positions = self._snapshot or self._cars_and_positions()
        others = [i for i, car in enumerate(cars) if car is not vehicle]
        if not others:
            return None, None
        s = lane.local_coordinates(vehicle.position)[0]
        # StraightLane.local_coordinates for every car at once, multiplied and added in the same order
        delta = positions[others] - lane.start
        s_v = delta[:, 0] * lane.direction[0] + delta[:, 1] * lane.direction[1]
        lat_v = delta[:, 0] * lane.direction_lateral[0] + delta[:, 1] * lane.direction_lateral[1]
        on = (
            (np.abs(lat_v) <= lane.width / 2 + 1)
            & (-lane.VEHICLE_LENGTH <= s_v)
            & (s_v < lane.length + lane.VEHICLE_LENGTH)
        )
        v_front = v_rear = None
        ahead = np.flatnonzero(on & (s_v >= s))
        if ahead.size:  # the nearest ahead; on a tie the last one in road order, as highway-env's loop picks
            nearest = s_v[ahead].min()
            v_front = cars[others[ahead[s_v[ahead] == nearest][-1]]]
        behind = np.flatnonzero(on & (s_v < s))
        if behind.size:  # the nearest behind; on a tie the first one
            nearest = s_v[behind].max()
            v_rear = cars[others[behind[s_v[behind] == nearest][0]]]
        return v_front, v_rear

    def step(self, dt: float) -> None:
        for vehicle in self.vehicles:
            vehicle.step(dt)
        if self.vehicles:
            positions = np.array([v.position for v in self.vehicles])
            reach = np.array([v.diagonal for v in self.vehicles]) / 2
            speed_m = np.array([v.speed for v in self.vehicles]) * dt
            apart = np.linalg.norm(positions[:, None] - positions[None], axis=2)
            # highway-env's pre-check for vehicle i against a later j: apart > reach_i + reach_j + speed_i * dt
            may_touch = apart <= reach[:, None] + reach[None] + speed_m[:, None] + PRECHECK_SLACK_M
        for i, vehicle in enumerate(self.vehicles):
            for j in np.flatnonzero(may_touch[i, i + 1 :]) + i + 1:
                vehicle.handle_collisions(self.vehicles[j], dt)
            for other in self.objects:
                vehicle.handle_collisions(other, dt)


class FastRegulatedRoad(RegulatedRoad, FastRoad):
    """highway-env's junction road (right-of-way regulation), stepped as FastRoad."""


FAST_ROADS = {Road: FastRoad, RegulatedRoad: FastRegulatedRoad}


def speed_up(road: Road) -> None:
    """Swap a road highway-env built for its fast twin (no state of its own to carry over)."""
    road.__class__ = FAST_ROADS.get(type(road), type(road))
