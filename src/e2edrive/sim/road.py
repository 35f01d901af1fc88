"""highway-env's road, with the three loops that dominate a step done in numpy.

Profiled on the highway scenario (30 cars), `Road.neighbour_vehicles` (every car's IDM and MOBIL asks it for
the cars ahead and behind, each time projecting every car onto the lane one by one) and the all-pairs
collision check took about 60 % of a step. Same decisions, same collisions, same bytes: the projection is
computed the same way, only for all cars at once and once per lane while the cars decide (nothing moves until the
road steps), and pairs are skipped only when highway-env's own spherical pre-check would skip them.

On roads of many lanes (roundabout, junction, racetrack) every car's move then asks for its closest lane, which
highway-env answers by measuring every lane: half of a roundabout episode's collection with DAgger labels (whose
expert plans replay the world 15 steps ahead per step). `FastRoadNetwork` measures only the lanes a bounding
box cannot rule out, and picks the same lane.
"""

from __future__ import annotations

import numpy as np
from highway_env.road.lane import CircularLane, SineLane, StraightLane
from highway_env.road.regulation import RegulatedRoad
from highway_env.road.road import Road, RoadNetwork
from highway_env.vehicle.objects import Landmark

PRECHECK_SLACK_M = 1e-6
"""Pairs this close to highway-env's pre-check threshold still go through its exact check."""


class FastRoad(Road):
    _snapshot: tuple | None = None
    """(cars, their positions, each car's index by id, {id(lane): every car's coordinate on it}) while every car
    decides its action: nothing moves until the road steps, so each lane's projection is computed once."""

    def act(self) -> None:
        self._snapshot = self._take_snapshot()
        try:
            super().act()
        finally:
            self._snapshot = None

    def _take_snapshot(self) -> tuple:
        # highway-env skips landmarks among both lists; only objects can be landmarks (an ABC: slow to test)
        cars = self.vehicles + [o for o in self.objects if not isinstance(o, Landmark)]
        positions = np.array([car.position for car in cars]).reshape(-1, 2)
        return cars, positions, {id(car): i for i, car in enumerate(cars)}, {}

    def neighbour_vehicles(self, vehicle, lane_index=None):
        lane_index = lane_index or vehicle.lane_index
        if not lane_index:
            return None, None
        lane = self.network.get_lane(lane_index)
        searched = self._searched_lanes(lane_index, lane)
        if any(type(search) is not StraightLane for search, _ in searched):
            return super().neighbour_vehicles(vehicle, lane_index)
        cars, positions, index, on_lanes = self._snapshot or self._take_snapshot()
        s = lane.local_coordinates(vehicle.position)[0]
        # each car on the first searched lane it is on, in that lane's offset frame; the vehicle itself on none
        s_v = np.full(len(cars), np.nan)
        for search, offset in searched:
            s_lane = on_lanes.get(id(search))
            if s_lane is None:
                s_lane = on_lanes[id(search)] = _on_lane(search, positions)
            fill = np.isnan(s_v) & ~np.isnan(s_lane)
            s_v[fill] = s_lane[fill] + offset
        if id(vehicle) in index:
            s_v[index[id(vehicle)]] = np.nan
        on = ~np.isnan(s_v)
        v_front = v_rear = None
        ahead = np.flatnonzero(on & (s_v >= s))
        if ahead.size:  # the nearest ahead; on a tie the last one in road order, as highway-env's loop picks
            nearest = s_v[ahead].min()
            v_front = cars[ahead[s_v[ahead] == nearest][-1]]
        behind = np.flatnonzero(on & (s_v < s))
        if behind.size:  # the nearest behind; on a tie the first one
            nearest = s_v[behind].max()
            v_rear = cars[behind[s_v[behind] == nearest][0]]
        return v_front, v_rear

    def _searched_lanes(self, lane_index, lane) -> list[tuple]:
        """(lane, offset of its longitudinal coordinate) pairs highway-env searches for neighbours, in its order:
        the lane, then with `neighbour_vehicles_connected_lanes` the lanes after it and before it."""
        searched = [(lane, 0)]
        if not self.neighbour_vehicles_connected_lanes:
            return searched
        _from, _to, _id = lane_index
        for next_lanes in self.network.graph.get(_to, {}).values():
            if _id < len(next_lanes):
                searched.append((next_lanes[_id], lane.length))
            elif next_lanes:
                searched.append((next_lanes[0], lane.length))
        for to_dict in self.network.graph.values():
            if _from in to_dict:
                prev_lanes = to_dict[_from]
                if _id < len(prev_lanes):
                    searched.append((prev_lanes[_id], -prev_lanes[_id].length))
                elif prev_lanes:
                    searched.append((prev_lanes[0], -prev_lanes[0].length))
        return searched

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


def _on_lane(lane: StraightLane, positions: np.ndarray) -> np.ndarray:
    """(N,) each position's longitudinal coordinate on a straight lane, NaN where it is not on it
    (StraightLane.local_coordinates and on_lane with a 1-m margin, multiplied and added in the same order)."""
    delta = positions - lane.start
    s_lane = delta[:, 0] * lane.direction[0] + delta[:, 1] * lane.direction[1]
    lat = delta[:, 0] * lane.direction_lateral[0] + delta[:, 1] * lane.direction_lateral[1]
    on = (
        (np.abs(lat) <= lane.width / 2 + 1)
        & (-lane.VEHICLE_LENGTH <= s_lane)
        & (s_lane < lane.length + lane.VEHICLE_LENGTH)
    )
    return np.where(on, s_lane, np.nan)


class FastRegulatedRoad(RegulatedRoad, FastRoad):
    """highway-env's junction road (right-of-way regulation), stepped as FastRoad."""


BOX_MARGIN_M = 0.5
"""Lane boxes grow by this much: far more than the sampled curves' sagitta (0.5-m chords) or rounding."""
BOXED_LANES = (StraightLane, SineLane, CircularLane)
"""Lane types whose `distance_with_heading` is at least the Euclidean distance to the centre line (lateral
offset plus the overshoot past an end, plus a heading term >= 0): a box around the line bounds it from below.
Other types are always measured."""


class FastRoadNetwork(RoadNetwork):
    _boxes: tuple | None = None
    """(lane indexes, lanes, (n, 4) boxes [x_min, y_min, x_max, y_max]), built on the first search after the
    network last gained a lane."""

    def add_lane(self, _from: str, _to: str, lane) -> None:
        super().add_lane(_from, _to, lane)
        self._boxes = None

    def get_closest_lane_index(self, position: np.ndarray, heading: float | None = None):
        """highway-env's answer (the first of the lanes at the least distance, in graph order), measuring lanes
        in order of their box's distance and stopping at the first box farther than the best lane so far."""
        if self._boxes is None:
            self._boxes = _lane_boxes(self)
        indexes, lanes, boxes = self._boxes
        p = np.asarray(position, dtype=float)
        gap = np.maximum(np.maximum(boxes[:, :2] - p, p - boxes[:, 2:]), 0.0)
        bound = np.hypot(gap[:, 0], gap[:, 1])
        best, best_d = -1, np.inf
        for i in np.argsort(bound, kind="stable"):
            if bound[i] > best_d:
                break
            d = lanes[i].distance_with_heading(position, heading)
            if d != d:  # NaN: leave it to highway-env's own loop
                return super().get_closest_lane_index(position, heading)
            if d < best_d or (d == best_d and i < best):
                best, best_d = int(i), d
        return indexes[best]


def _lane_boxes(network: RoadNetwork) -> tuple:
    """(lane indexes, lanes, boxes) of every lane in graph order; an unbounded box for a type not in BOXED_LANES."""
    lanes = [((f, t, i), lane) for f, to in network.graph.items() for t, ls in to.items() for i, lane in enumerate(ls)]
    boxes = np.full((len(lanes), 4), (-np.inf, -np.inf, np.inf, np.inf))
    for k, (_, lane) in enumerate(lanes):
        if type(lane) in BOXED_LANES:
            # a segment's box is its ends' box; curves are sampled (a highway's 10-km lane took 0.1 s to sample)
            n = 2 if type(lane) is StraightLane else max(2, int(np.ceil(lane.length / 0.5)) + 1)
            s = np.linspace(0.0, lane.length, n)
            xy = np.array([lane.position(v, 0.0) for v in s])
            boxes[k] = (*(xy.min(axis=0) - BOX_MARGIN_M), *(xy.max(axis=0) + BOX_MARGIN_M))
    return [index for index, _ in lanes], [lane for _, lane in lanes], boxes


FAST_ROADS = {Road: FastRoad, RegulatedRoad: FastRegulatedRoad}


def speed_up(road: Road) -> None:
    """Swap a road highway-env built, and its lane network, for their fast twins (no state of their own to carry
    over)."""
    road.__class__ = FAST_ROADS.get(type(road), type(road))
    if type(road.network) is RoadNetwork:
        road.network.__class__ = FastRoadNetwork
