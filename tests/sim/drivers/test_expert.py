import numpy as np

from e2edrive.sim.drivers.expert import ExpertPolicy, _must_yield, _predict
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
    wreck_world, _ = _roundabout_with_one_car_ahead(crashed=True)
    assert _must_yield(wreck_world, wreck_world.scenario.expert)
    waiting_world, _ = _roundabout_with_one_car_ahead(crashed=False)
    assert not _must_yield(waiting_world, waiting_world.scenario.expert)
    wreck_world.close()
    waiting_world.close()


def test_the_expert_reports_whether_it_held_back_for_another_car():
    """Its yield decision is the clips' `expert_yielding` label: on for a wreck in its path, off for a car that
    only waits there, and recorded on every row a rollout logs."""
    from e2edrive.core.policy import Observation
    from e2edrive.sim.rollout import run_episode

    for crashed in (True, False):
        world, expert = _roundabout_with_one_car_ahead(crashed)
        expert.act(Observation({}, world.ego.speed, "follow", 0.0, state=world))
        assert expert.yielding is crashed
        expert.reset(0)
        assert expert.yielding is False
        world.close()
    world, rows = World(get_scenario("intersection"), cameras=()), []
    run_episode(world, ExpertPolicy(), 600000, recorder=lambda o, s: rows.append(s["expert_yielding"]))
    assert all(isinstance(v, bool) for v in rows) and any(rows) and not all(rows), "it waits, then goes"
    world.close()


def test_cleared_at_the_line_the_expert_follows_cars_on_its_route_not_cars_crossing_it():
    from highway_env.vehicle.behavior import IDMVehicle

    from e2edrive.sim.drivers.expert import _route_leader_accel

    world = World(get_scenario("intersection"), {"initial_vehicle_count": 0, "spawn_probability": 0.0}, cameras=())
    world.reset(0)
    road, ego = world.env.unwrapped.road, world.ego
    network, route = road.network, world.navigation.route
    approach = network.get_lane(route[0])
    ego.position = approach.position(approach.length - 4.0, 0)  # nose 1.5 m short of the line
    ego.speed, ego.target_lane_index = 3.0, route[1]

    def car_on(lane_index, s_m, speed_mps):
        lane = network.get_lane(lane_index)
        car = IDMVehicle(road, lane.position(s_m, 0), heading=lane.heading_at(s_m), speed=speed_mps)
        car.lane_index, car.lane = lane_index, lane
        return car

    # from the west, straight on to the east: it crosses our left turn 10 m into it
    crossing_lane = ("ir1", "il3", 0)
    crossing, turn = network.get_lane(crossing_lane), network.get_lane(route[1])
    s_cross = min(
        np.arange(0.0, crossing.length, 0.5), key=lambda s: abs(turn.local_coordinates(crossing.position(s, 0))[1])
    )
    road.vehicles[:] = [ego, car_on(crossing_lane, s_cross, 8.0)]
    assert road.neighbour_vehicles(ego, ego.target_lane_index)[0] is road.vehicles[1], "highway-env: our leader"
    _, idm_accel = ego.decide()
    free_accel = _route_leader_accel(ego, world.navigation)
    assert idm_accel < 0.0 < free_accel
    road.vehicles.append(car_on(route[2], 2.0, 0.0))  # a car standing at the start of our road out
    assert _route_leader_accel(ego, world.navigation) < free_accel - 1.0
    world.close()


def test_not_knowing_which_way_a_car_will_turn_the_expert_waits_for_each_way():
    """A car 20 m from the junction, coming the other way along our road out, at 8 m/s: turning into the road we
    come from, it leaves our left turn a gap the route-aware expert takes; straight on or the other way, it does
    not. Which way it will turn no camera shows: the expert without knows_routes waits."""
    from highway_env.vehicle.behavior import IDMVehicle

    from e2edrive.sim.drivers.expert import ExpertConfig, _gap_too_short

    world = World(get_scenario("intersection"), {"initial_vehicle_count": 0, "spawn_probability": 0.0}, cameras=())
    world.reset(0)
    road, ego = world.env.unwrapped.road, world.ego
    approach = road.network.get_lane(world.navigation.route[0])
    ego.position, ego.speed = approach.position(approach.length - 4.0, 0), 0.0  # at the line, left turn ahead
    lane_index = ("o1", "ir1", 0)
    lane = road.network.get_lane(lane_index)
    car = IDMVehicle(road, lane.position(lane.length - 20.0, 0), heading=lane.heading_at(0), speed=8.0)
    car.lane_index, car.lane = lane_index, lane
    road.vehicles[:] = [ego, car]
    waits = {}
    for out in ("il0", "il2", "il3"):
        car.route = [("ir1", out, 0)]
        waits[out] = _gap_too_short(world, 12.0, ExpertConfig())
    assert waits == {"il0": False, "il2": True, "il3": True}
    car.route = [("ir1", "il0", 0)]  # it will turn into our road in: only knowing so lets us go
    assert _gap_too_short(world, 12.0, ExpertConfig(knows_routes=False))
    world.close()
