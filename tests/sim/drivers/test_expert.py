import numpy as np

from e2edrive.sim.drivers.expert import ExpertPolicy, _predict
from e2edrive.sim.prediction import along_route
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


def _roundabout_with_one_car_ahead(crashed: bool) -> tuple[World, ExpertPolicy]:
    """The roundabout emptied but for one standing car in the ego's lane, 20 m ahead of it."""
    world = World(get_scenario("roundabout"), cameras=())
    world.reset(0)
    ego = world.ego
    road = world.env.unwrapped.road
    car = next(v for v in road.vehicles if v is not ego)
    road.vehicles = [ego, car]
    [(car.position, car.heading)] = along_route(ego, np.array([20.0]))
    car.lane_index = road.network.get_closest_lane_index(car.position, car.heading)
    car.lane = road.network.get_lane(car.lane_index)
    car.route = [car.lane_index]
    car.speed, car.crashed = 0.0, crashed
    return world, ExpertPolicy()


def test_a_wreck_slides_straight_on_and_stops_as_highway_env_brakes_it():
    world, _ = _roundabout_with_one_car_ahead(crashed=True)
    wreck = next(v for v in world.env.unwrapped.road.vehicles if v is not world.ego)
    wreck.speed = 5.0
    times = np.array([0.0, 1.0, 10.0])
    path = _predict(wreck, times)
    travelled = (path - wreck.position) @ wreck.direction
    assert np.allclose(travelled, 5.0 * (1 - np.exp(-times)))
    assert np.allclose((path - wreck.position) @ np.array([-wreck.direction[1], wreck.direction[0]]), 0.0)
    world.close()


def test_the_expert_brakes_for_a_wreck_in_its_path_but_not_for_a_car_waiting_there():
    # A standing car that has not crashed waits (a queue at an entry): it moves on before we get there.
    wreck_world, expert = _roundabout_with_one_car_ahead(crashed=True)
    assert expert._must_yield(wreck_world)
    waiting_world, expert = _roundabout_with_one_car_ahead(crashed=False)
    assert not expert._must_yield(waiting_world)
    wreck_world.close()
    waiting_world.close()
