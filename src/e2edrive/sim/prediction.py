"""Where a highway-env car will be: along its planned route, for any speed profile."""

from __future__ import annotations

import numpy as np


def along_route(vehicle, travel_m: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """(position, heading) after travelling each distance along the vehicle's route; empty when highway-env
    cannot follow the route."""
    s_now = vehicle.lane.local_coordinates(vehicle.position)[0]
    route = [vehicle.lane_index] + [lane for lane in vehicle.route or [] if lane[:2] != vehicle.lane_index[:2]]
    network = vehicle.road.network
    try:
        return [network.position_heading_along_route(route, s_now + d, 0, vehicle.lane_index) for d in travel_m]
    except (AttributeError, IndexError, KeyError):
        return []


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
