import numpy as np
import pytest
from highway_env.vehicle.kinematics import Vehicle

from e2edrive.sim.drivers.rules.ground import GroundProjector
from e2edrive.sim.drivers.rules.obstacles import contact_points, nearest_in_corridor
from e2edrive.sim.drivers.rules.segment import segment
from e2edrive.sim.rig import FRONT
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


def _frame_with_cars(offsets_m: list[tuple[float, float]]) -> np.ndarray:
    """Empty highway, ego on its lane centre, parked cars at (ahead, right) metres from the ego centre."""
    world = World(get_scenario("highway"), {"vehicles_count": 0, "duration": 2.0})
    world.reset(3)
    ego = world.ego
    road = world.env.unwrapped.road
    for ahead, right in offsets_m:
        road.vehicles.append(Vehicle(road, ego.position + np.array([ahead, right]), heading=ego.heading, speed=0.0))
    frame = world.render()["front"]
    world.close()
    return frame


@pytest.mark.parametrize("ahead_m", [10.0, 20.0])
def test_car_ahead_in_lane_is_found_at_its_rear_bumper(ahead_m):
    frame = _frame_with_cars([(ahead_m, 0.0), (8.0, 4.0)])  # and one in the lane to the right, nearer
    g = GroundProjector(FRONT)
    points = contact_points(segment(frame, g.horizon_row).vehicle, g)
    rear_bumper = ahead_m - 2.5
    nearest = nearest_in_corridor(points, lambda x: 0.0 * x, half_width_m=2.0)
    # a pixel row spans ~0.1 m at 7 m and ~0.5 m at 17 m
    assert nearest == pytest.approx(rear_bumper, rel=0.08)
    right_lane = nearest_in_corridor(points, lambda x: 0.0 * x - 4.0, half_width_m=2.0)
    assert right_lane == pytest.approx(8.0 - 2.5, rel=0.08)


def test_empty_road_has_no_obstacle():
    frame = _frame_with_cars([])
    g = GroundProjector(FRONT)
    points = contact_points(segment(frame, g.horizon_row).vehicle, g)
    assert nearest_in_corridor(points, lambda x: 0.0 * x, 2.0) is None
