import numpy as np
from highway_env.vehicle.kinematics import Vehicle

from e2edrive.policies import make_policy
from e2edrive.sim.drivers.rules import RulesPolicy
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World

EMPTY = {"vehicles_count": 0, "duration": 3.0}


def _observe(world: World):
    obs = world.observe()
    obs.state = None  # the rules driver must never need it
    return obs


def test_steers_back_towards_the_lane_centre():
    world = World(get_scenario("highway"), EMPTY)
    world.reset(3)
    world.ego.position[1] -= 1.0  # highway-env's y points right: 1 m to the left of the centre line
    policy = RulesPolicy()
    steer = [policy.act(_observe(world)).steer_rad for _ in range(3)]
    world.close()
    assert steer[-1] < -0.005, "left of centre: steer right (negative)"


def test_brakes_for_a_stopped_car_ahead_and_not_on_an_empty_road():
    world = World(get_scenario("highway"), EMPTY)
    world.reset(3)
    policy = RulesPolicy()
    free = policy.act(_observe(world)).accel_mps2
    road = world.env.unwrapped.road
    road.vehicles.append(Vehicle(road, world.ego.position + np.array([20.0, 0.0]), world.ego.heading, speed=0.0))
    policy.reset(3)
    blocked = policy.act(_observe(world)).accel_mps2
    world.close()
    assert free >= 0.0
    assert blocked <= -4.0


def test_drives_a_short_highway_episode_without_the_simulator_state():
    world = World(get_scenario("highway"), {"duration": 4.0, "vehicles_count": 10})
    policy = make_policy("rules")
    assert not policy.privileged
    result = run_episode(world, policy, seed=100_000)
    world.close()
    assert result.success and result.distance_m > 60


def test_odometry_heading_follows_a_turn_and_resets():
    world = World(get_scenario("racetrack"), {"duration": 3.0})
    policy = RulesPolicy()
    run_episode(world, policy, seed=100_002)
    turned = policy.heading_rad
    policy.reset(0)
    world.close()
    assert abs(turned) > 0.1
    assert policy.heading_rad == 0.0
