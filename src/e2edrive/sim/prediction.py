"""Where a highway-env car will be: along its planned route, for any speed profile."""

from __future__ import annotations

import numpy as np


def along_route(vehicle, travel_m: np.ndarray, route: list | None = None) -> list[tuple[np.ndarray, float]]:
    """(position, heading) after travelling each distance along route (the lanes after the vehicle's own; None:
    its planned route); empty when highway-env cannot follow the route."""
    s_now = vehicle.lane.local_coordinates(vehicle.position)[0]
    ahead = vehicle.route or [] if route is None else route
    route = [vehicle.lane_index] + [lane for lane in ahead if lane[:2] != vehicle.lane_index[:2]]
    network = vehicle.road.network
    try:
        return [network.position_heading_along_route(route, s_now + d, 0, vehicle.lane_index) for d in travel_m]
    except (AttributeError, IndexError, KeyError):
        return []


def possible_routes(vehicle, reach_m: float) -> list[list[tuple]]:
    """Every way the vehicle could go over the next reach_m metres: the lanes after its current one, one list per
    branch of the road network (keeping its lane number where the next road has it). A camera shows where a car
    is, not which way it will turn (the simulator's cars signal nothing), so a driver that sees must allow for
    each: of the frames in which the expert found a long enough gap at the intersection's stop line, 43 % were
    long enough only for the way the other cars were going to turn (`ExpertConfig.knows_routes`, README)."""
    network = vehicle.road.network
    routes: list[list[tuple]] = []

    def extend(route: list[tuple], left_m: float) -> None:
        _, b, i = route[-1] if route else vehicle.lane_index
        nexts = network.graph.get(b, {})
        if left_m <= 0 or not nexts:
            routes.append(route)
            return
        for c, lanes in nexts.items():
            j = i if i is not None and i < len(lanes) else 0
            extend([*route, (b, c, j)], left_m - lanes[j].length)

    extend([], reach_m - (vehicle.lane.length - vehicle.lane.local_coordinates(vehicle.position)[0]))
    return routes


class RoutePrediction:
    """Mixin for highway-env vehicle classes: a correct predict_trajectory_constant_speed.

    highway-env's measures the distance travelled from the start of route[0], which is the *next* lane once a
    car has entered its current one: a car at a stop line is predicted far beyond the junction, so its
    RegulatedRoad (which yields on these predictions) misses most conflicts and its traffic drives into itself.
    """

    def predict_trajectory_constant_speed(self, times: np.ndarray) -> tuple:
        path = along_route(self, max(self.speed, 0.0) * np.asarray(times))
        if not path:  # highway-env's own behaviour when the route cannot be followed
            return super().predict_trajectory_constant_speed(times)
        return tuple(zip(*path))
