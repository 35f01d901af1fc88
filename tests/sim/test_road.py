import numpy as np
import pytest
from highway_env.road.regulation import RegulatedRoad
from highway_env.road.road import Road, RoadNetwork

from e2edrive.core.policy import Action
from e2edrive.sim.road import FastRegulatedRoad, FastRoad, FastRoadNetwork
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


@pytest.mark.parametrize("name", ["highway", "exit", "roundabout", "intersection"])
def test_fast_road_finds_the_same_neighbours_as_highway_env(name):
    world = World(get_scenario(name), cameras=())
    world.reset(3)
    road = world.env.unwrapped.road
    assert isinstance(road, FastRoad)
    original = RegulatedRoad if isinstance(road, FastRegulatedRoad) else Road
    for step in range(20):
        # as while the cars decide (one snapshot, each lane projected once for all the questions) or alone
        road._snapshot = road._take_snapshot() if step % 2 else None
        for vehicle in road.vehicles:
            lanes = road.network.all_side_lanes(vehicle.lane_index) if vehicle.lane_index else [None]
            for lane_index in lanes:
                assert road.neighbour_vehicles(vehicle, lane_index) == original.neighbour_vehicles(
                    road, vehicle, lane_index
                )
        road._snapshot = None
        world.step(Action(0.0, 0.0))
    world.close()


def test_fast_road_steps_and_crashes_exactly_as_highway_env():
    # The ego floors it into dense traffic: both roads must move every car identically and see the same crash.
    runs = []
    for fast in (True, False):
        world = World(get_scenario("highway"), {"vehicles_density": 2.0}, cameras=())
        world.reset(0)
        road = world.env.unwrapped.road
        if not fast:
            road.__class__, road.network.__class__ = Road, RoadNetwork
        states = []
        while not world.done:
            world.step(Action(0.0, 5.0))
            states.append([(*v.position, v.speed, v.crashed) for v in road.vehicles])
        runs.append(states)
        world.close()
    assert any(crashed for *_, crashed in runs[0][-1]), "the scene should end in a crash"
    assert len(runs[0]) == len(runs[1])
    for fast_step, plain_step in zip(*runs):
        assert np.array_equal(np.array(fast_step, dtype=float), np.array(plain_step, dtype=float))


@pytest.mark.parametrize("name", ["highway", "merge", "exit", "roundabout", "intersection", "racetrack"])
def test_fast_network_finds_the_same_closest_lane_as_highway_env(name):
    # on the road, off it, far away, at lane ends and with any heading (or none): highway-env's very answer
    world = World(get_scenario(name), cameras=())
    world.reset(5)
    network = world.env.unwrapped.road.network
    assert isinstance(network, FastRoadNetwork)
    rng = np.random.default_rng(0)
    lanes = [lane for to in network.graph.values() for ls in to.values() for lane in ls]
    points = [lane.position(s, 0.0) for lane in lanes for s in (0.0, lane.length / 2, lane.length)]
    points += [v.position for v in world.env.unwrapped.road.vehicles]
    xy = np.array(points)
    points += list(rng.uniform(xy.min(axis=0) - 50, xy.max(axis=0) + 50, size=(300, 2)))
    for p in points:
        for heading in (None, *rng.uniform(-np.pi, np.pi, 2)):
            assert network.get_closest_lane_index(p, heading) == RoadNetwork.get_closest_lane_index(network, p, heading)
    world.close()
