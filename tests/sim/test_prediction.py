import numpy as np
import pytest

from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


@pytest.fixture
def junction():
    world = World(get_scenario("intersection"), cameras=())
    obs = world.reset(0)
    expert = ExpertPolicy()
    # Drive up the approach until highway-env has dropped it from the route (the route then starts with the
    # junction lane ahead): the case its own prediction gets wrong.
    while world.ego.route[0][:2] == world.ego.lane_index[:2]:
        obs = world.step(expert.act(obs))
    assert world.ego.lane_index[:2] == world.start_lane_index[:2]
    yield world
    world.close()


def test_a_car_at_the_stop_line_is_predicted_from_where_it_is(junction):
    ego = junction.ego
    positions, headings = ego.predict_trajectory_constant_speed(np.array([0.0, 1.0]))
    assert np.linalg.norm(positions[0] - ego.position) < 0.5
    assert np.linalg.norm(positions[1] - positions[0]) == pytest.approx(ego.speed, rel=0.05)
    assert headings[0] == pytest.approx(ego.lane.heading_at(ego.lane.local_coordinates(ego.position)[0]))


def test_the_intersection_traffic_predicts_itself_the_same_way(junction):
    road = junction.env.unwrapped.road
    car = next(v for v in road.vehicles if v is not junction.ego and v.route)
    # highway-env drops the current lane from a car's route as the car nears the lane's end; do that now
    car.route = [lane for lane in car.route if lane[:2] != car.lane_index[:2]]
    positions, _ = car.predict_trajectory_constant_speed(np.array([0.0]))
    assert np.linalg.norm(positions[0] - car.position) < 2.0


def test_junction_traffic_arrives_at_the_rate_highway_env_meant():
    p = get_scenario("intersection").make_env_config()["spawn_probability"]
    assert 0 < p < 0.6
    assert (1 - p) ** 10 == pytest.approx(1 - 0.6), "ten 10 Hz steps: highway-env's 0.6 chance a second"


def test_a_car_on_an_approach_could_take_any_road_out_of_the_junction(junction):
    from e2edrive.sim.prediction import possible_routes

    network = junction.env.unwrapped.road.network
    car = next(v for v in junction.env.unwrapped.road.vehicles if v is not junction.ego and v.route)
    approach = ("o1", "ir1", 0)
    car.lane_index, car.lane = approach, network.get_lane(approach)
    car.position = car.lane.position(car.lane.length - 20.0, 0)
    routes = possible_routes(car, 50.0)
    assert sorted(r[0][:2] for r in routes) == [("ir1", f"il{k}") for k in (0, 2, 3)], "right, straight, left"
    assert all(len(r) >= 2 for r in routes), "50 m reach the road out beyond the junction lane"
    assert possible_routes(car, 1.0) == [[]], "within its own lane: no choice yet"
