import numpy as np
import pytest
from highway_env.vehicle.behavior import IDMVehicle

from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.scenarios import SCENARIOS, get_scenario
from e2edrive.sim.world import World


def test_expert_lane_change_is_gentle_and_settles_on_the_new_centre():
    world = World(get_scenario("highway"), {"vehicles_count": 0}, cameras=())
    obs = world.reset(0)
    ego, expert = world.ego, ExpertPolicy()
    a, b, lane_id = ego.lane_index
    target = (a, b, lane_id - 1 if lane_id > 0 else lane_id + 1)
    ego.target_lane_index = target
    headings, speeds, offsets = [], [], []
    for _ in range(60):  # 6 s
        obs = world.step(expert.act(obs))
        headings.append(ego.heading)
        speeds.append(ego.speed)
        offsets.append(ego.road.network.get_lane(target).local_coordinates(ego.position)[1])
    lateral_accel = np.array(speeds[1:]) * np.diff(headings) / world.dt_s
    # highway-env's controller: ~35 m/s² for one step at the start (a 4 m error asked away in 0.6 s)
    assert np.abs(lateral_accel).max() < 3.0
    assert ego.lane_index == target and abs(offsets[-1]) < 0.2
    side = np.sign(offsets[0])
    assert (side * np.array(offsets)).min() > -0.3, "no overshoot past the new centre"


def test_an_aborted_lane_change_ramps_back_rather_than_snaps():
    world = World(get_scenario("highway"), {"vehicles_count": 0}, cameras=())
    obs = world.reset(0)
    ego, expert = world.ego, ExpertPolicy()
    start = ego.lane_index
    ego.target_lane_index = (*start[:2], start[2] - 1 if start[2] > 0 else start[2] + 1)
    headings, speeds = [], []
    for step in range(40):
        if step == 4:  # MOBIL aborts: back to the lane it started in, still under 0.2 m from its centre
            ego.target_lane_index = start
        obs = world.step(expert.act(obs))
        headings.append(ego.heading)
        speeds.append(ego.speed)
    lateral_accel = np.array(speeds[1:]) * np.diff(headings) / world.dt_s
    assert np.abs(lateral_accel).max() < 3.0  # snapping back: 4.4 m/s²
    assert ego.lane_index == start and not ego.changing_lanes


def test_ego_mobil_sees_a_closing_car_still_on_the_previous_road_segment():
    world = World(get_scenario("merge"), cameras=())
    world.reset(0)
    road, ego = world.env.unwrapped.road, world.ego
    network = road.network
    join_x_m = network.get_lane(("b", "c", 1)).position(0, 0)[0]

    def place(vehicle, lane_index, x_m, speed_mps):
        lane = network.get_lane(lane_index)
        vehicle.position = lane.position(lane.local_coordinates(np.array([x_m, 0.0]))[0], 0)
        vehicle.heading, vehicle.speed = lane.heading_at(0), speed_mps
        vehicle.lane_index, vehicle.lane = lane_index, lane
        vehicle.target_lane_index = lane_index
        return vehicle

    place(ego, ("b", "c", 1), join_x_m + 1.0, 18.0)
    slow = place(IDMVehicle(road, ego.position.copy()), ("b", "c", 1), join_x_m + 25.0, 5.0)  # a reason to move
    closing = place(IDMVehicle(road, ego.position.copy()), ("a", "b", 0), join_x_m - 6.0, 20.0)
    road.vehicles[:] = [ego, slow, closing]
    left = ("b", "c", 0)
    assert IDMVehicle.mobil(ego, left), "the plain search misses the car 6 m before the join"
    assert not ego.mobil(left)


def test_braking_stops_the_car_and_never_drives_it_backwards():
    """highway-env's vehicle reverses under a held negative acceleration; the ego stops exactly and stays."""
    from e2edrive.core.policy import Action

    world = World(get_scenario("highway"), {"vehicles_count": 0}, cameras=())
    world.reset(0)
    speeds = []
    for _ in range(60):  # 6 s of full braking from ~25 m/s
        world.step(Action(0.0, -5.0))
        speeds.append(world.ego.speed)
    assert min(speeds) == 0.0 and speeds[-1] == 0.0
    world.step(Action(0.0, 1.0))
    assert world.ego.speed > 0.0, "and drives off again"


def _off_every_lane(network, lane, s_m: float, beyond_m: float) -> np.ndarray:
    """A point beyond_m past the margin of every lane, found outward from lane at s_m on either side."""
    from e2edrive.sim.world import ON_ROAD_MARGIN_M

    for k in range(60):
        for side in (1, -1):
            p = lane.position(s_m, side * (lane.width / 2 + ON_ROAD_MARGIN_M + beyond_m + k))
            if not any(ln.on_lane(p, margin=ON_ROAD_MARGIN_M + beyond_m) for ln in network.lanes_list()):
                return p
    raise AssertionError("no point off the road near the car")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_leaving_the_road_ends_the_episode_in_every_scenario(name):
    """highway-env ends it only in some (highway, intersection, racetrack): at the roundabout a learned car drove
    1-5 m outside its lanes and, back on the road out, scored a success or a route deviation."""
    from e2edrive.core.policy import Action

    world = World(get_scenario(name), cameras=())
    world.reset(0)
    ego = world.ego
    s_m, _ = ego.lane.local_coordinates(ego.position)
    ego.position = _off_every_lane(world.env.unwrapped.road.network, ego.lane, s_m, beyond_m=2.0)
    world.step(Action(0.0, 0.0))
    assert world.off_road and world.terminated and not world.success()
    assert not world.ego_state().on_road
    world.close()


def test_a_car_on_any_lane_is_on_the_road_and_a_little_past_the_edge_still_is():
    from e2edrive.sim.world import ON_ROAD_MARGIN_M, on_road

    world = World(get_scenario("highway"), {"vehicles_count": 0}, cameras=())
    world.reset(0)
    ego = world.ego
    network = ego.road.network
    a, b, _ = ego.lane_index
    first, second = network.get_lane((a, b, 0)), network.get_lane((a, b, 1))
    s_m, _ = first.local_coordinates(ego.position)
    ego.lane_index, ego.lane = (a, b, 0), first  # labelled with the first lane, standing in the second
    ego.position = second.position(s_m, 0.0)
    assert not ego.on_road and on_road(ego)
    edge_m = -first.width / 2  # the first lane's outer edge: no lane beyond it
    ego.position = first.position(s_m, edge_m - 0.5 * ON_ROAD_MARGIN_M)
    assert on_road(ego)
    ego.position = first.position(s_m, edge_m - 2.0 * ON_ROAD_MARGIN_M)
    assert not on_road(ego)
    world.close()
