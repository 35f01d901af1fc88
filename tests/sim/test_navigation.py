import numpy as np
import pytest

from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.navigation import COMMAND_LEAD_M, PAST_FORK_M, Navigation
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


def _commands_along_the_drive(name: str, seed: int, overrides: dict) -> tuple[World, list[tuple[str, tuple, float]]]:
    """(command, road, x m in highway-env's frame) of every frame of one expert episode, and the world at its end."""
    world = World(get_scenario(name), overrides, cameras=())
    obs, expert = world.reset(seed), ExpertPolicy()
    frames = [(obs.command, world.ego.lane_index[:2], float(world.ego.position[0]))]
    while not world.done:
        obs = world.step(expert.act(obs))
        frames.append((obs.command, world.ego.lane_index[:2], float(world.ego.position[0])))
    return world, frames


def _changes(frames: list[tuple]) -> list[str]:
    return [f[0] for k, f in enumerate(frames) if k == 0 or f[0] != frames[k - 1][0]]


def test_exit_is_announced_before_the_fork_and_holds_to_the_exit():
    world, frames = _commands_along_the_drive("exit", 1, {"vehicles_count": 0})
    assert world.success()
    assert _changes(frames) == ["follow", "exit"]
    first_exit = next(k for k, f in enumerate(frames) if f[0] == "exit")
    fork_x_m = world.env.unwrapped.road.network.get_lane(("2", "exit", 0)).position(0, 0)[0]
    # the road runs along x: announced on the step that brings the car within the lead distance of the fork
    assert fork_x_m - frames[first_exit][2] <= COMMAND_LEAD_M < fork_x_m - frames[first_exit - 1][2]


def test_turn_is_given_through_the_junction_then_follow_on_the_road_out():
    world, frames = _commands_along_the_drive("intersection", 0, {})
    assert world.success()
    assert _changes(frames) == ["left", "follow"]
    assert all(c == "left" for c, road, _ in frames if road[0] in ("o0", "ir0"))  # approach and the turn itself
    assert all(c == "follow" for c, road, _ in frames if road == ("il1", "o1"))


def test_roundabout_exit_is_announced_past_the_exit_before_it():
    """The ring passes the east exit before the route's north one: a driver that cannot count exits is told
    "exit" only once the east exit's road is behind it, and keeps it until it has left."""
    world = World(get_scenario("roundabout"), cameras=())
    obs, expert = world.reset(0), ExpertPolicy()
    frames = []  # (command, road, position)
    while not world.done:
        frames.append((obs.command, world.ego.lane_index[:2], world.ego.position.copy()))
        obs = world.step(expert.act(obs))
    assert world.success()
    assert _changes(frames) == ["follow", "exit"]
    on = {road: {c for c, r, _ in frames if r == road} for _, road, _ in frames}
    assert on[("se", "ex")] == {"follow"} and on[("nx", "nxs")] == {"exit"}
    fork = world.env.unwrapped.road.network.get_lane(("ex", "ee", 0)).position(0, 0)
    announced = next(p for c, _, p in frames if c == "exit")
    assert np.linalg.norm(announced - fork) >= PAST_FORK_M - 1.0, "not beside the east exit's road"


def test_command_waits_for_the_lead_distance_and_never_flickers_back():
    world = World(get_scenario("intersection"), cameras=())
    world.reset(0)
    network = world.env.unwrapped.road.network
    route = [("o0", "ir0", 0), ("ir0", "il1", None), ("il1", "o1", None)]
    approach = network.get_lane(route[0])
    nav = Navigation(network, route, "left")
    far = approach.position(approach.length - COMMAND_LEAD_M - 1.0, 0)  # before the 100 m approach, in line with it
    near = approach.position(approach.length - COMMAND_LEAD_M + 1.0, 0)
    assert nav.command(route[0], far) == "follow"
    assert nav.command(route[0], near) == "left"
    turn = network.get_lane(("ir0", "il1", 0))
    assert nav.command(("ir0", "il1", 0), turn.position(5.0, 0)) == "left"
    # inside the junction highway-env may snap the car to a crossing lane for a frame: progress holds
    assert nav.command(("ir0", "il2", 0), turn.position(6.0, 0)) == "left"
    assert nav.command(route[0], near) == "left", "back on an earlier road: still past the announcement"
    out = network.get_lane(("il1", "o1", 0))
    assert nav.command(("il1", "o1", 0), out.position(1.0, 0)) == "follow"


@pytest.mark.parametrize("name", ["highway", "merge", "racetrack"])
def test_roads_without_a_route_say_follow(name):
    world = World(get_scenario(name), cameras=())
    assert world.reset(0).command == "follow" and world.navigation is None


def test_route_progress_counts_the_route_once_and_a_detour_is_a_deviation():
    from e2edrive.sim.navigation import DEVIATION_S, RouteProgress

    world = World(get_scenario("roundabout"), cameras=())
    world.reset(1)
    network, route = world.env.unwrapped.road.network, world.ego.route
    lane = network.get_lane(route[0])
    progress = RouteProgress(network, route, lane.position(0, 0), dt_s=0.1)
    for s in (5.0, 10.0, 3.0):  # backing up does not undo progress
        progress.update(route[0], lane.position(s, 0))
    assert progress.progress_m == pytest.approx(10.0, abs=1e-6)
    second = network.get_lane(route[1])
    progress.update(route[1], second.position(2.0, 0))
    assert progress.progress_m == pytest.approx(lane.length + 2.0, abs=1e-6)
    progress.update(route[0], lane.position(lane.length, 0))  # a road already passed: nothing counts
    assert progress.progress_m == pytest.approx(lane.length + 2.0, abs=1e-6)
    progress.update(route[1], second.position(2.0, 0))  # back on the route
    on_route = {tuple(r[:2]) for r in route}
    detour = next(i for i in network.lanes_dict() if tuple(i[:2]) not in on_route)
    for _ in range(round(DEVIATION_S / 0.1)):
        assert not progress.deviated
        progress.update(detour, network.get_lane(detour).position(1.0, 0))
    assert progress.deviated and progress.completion == pytest.approx((lane.length + 2.0) / progress.length_m)
    world.close()


def test_a_car_that_misses_the_roundabout_exit_ends_in_a_route_deviation_not_a_full_route():
    from e2edrive.sim.rollout import run_episode

    world = World(get_scenario("roundabout"), cameras=())
    result = run_episode(world, _IgnoresTheExit(), 100000)
    world.close()
    assert result.route_deviation and not result.success and not result.collided
    assert result.route_completion < 0.9 and result.steps < 200


class _IgnoresTheExit:
    """The expert, told to go round: it takes the ring past our exit."""

    privileged = True

    def __init__(self) -> None:
        self.expert = ExpertPolicy()

    def reset(self, seed: int) -> None:
        self.expert.reset(seed)

    def act(self, observation):
        world = observation.state
        ego = world.ego
        if ego.route and ego.route[-1][1] == "nxs":  # swap the destination for the next exit round the ring
            ego.plan_route_to("exs")
        return self.expert.act(observation)


def test_the_intersection_is_crossed_only_by_leaving_on_the_routes_exit():
    """highway-env's has_arrived() accepts any exit; a wrong turn is not an arrival (and becomes a deviation)."""
    scenario = get_scenario("intersection")
    world = World(scenario, cameras=())
    world.reset(0)
    env, ego = world.env.unwrapped, world.ego
    network = env.road.network
    for exit_road, expected in ((("il1", "o1"), True), (("il2", "o2"), False)):
        lane_index = (*exit_road, 0)
        ego.position = network.get_lane(lane_index).position(30.0, 0.0)
        ego.lane_index, ego.lane = lane_index, network.get_lane(lane_index)
        assert scenario.arrived(env, ego) is expected, exit_road
    world.close()


def test_waiting_at_a_roundabout_entry_labelled_with_the_ring_lane_is_still_on_the_route():
    from e2edrive.sim.navigation import RouteProgress

    world = World(get_scenario("roundabout"), cameras=())
    world.reset(1)
    network, route = world.env.unwrapped.road.network, world.ego.route
    entry = network.get_lane(route[1])  # the entry lane into the ring
    progress = RouteProgress(network, route, network.get_lane(route[0]).position(0, 0), dt_s=0.1)
    ring = next(i for i in network.lanes_dict() if i[1] == route[1][1] and tuple(i[:2]) not in progress.roads)
    for _ in range(30):  # 3 s waiting at the line, highway-env calling it the ring lane it overlaps
        progress.update(ring, entry.position(entry.length - 1.0, 0.0))
    assert not progress.deviated
    world.close()


def test_roundabout_exit_is_announced_just_before_its_fork():
    """Take the exit now: the command comes ROUNDABOUT_COMMAND_LEAD_M before the exit's fork, so it says when to
    leave the ring as well as which exit (from the exit before it, ~28 m, the learned car could not tell when)."""
    from e2edrive.sim.scenarios import ROUNDABOUT_COMMAND_LEAD_M

    world = World(get_scenario("roundabout"), cameras=())
    obs, expert = world.reset(0), ExpertPolicy()
    while obs.command != "exit":
        obs = world.step(expert.act(obs))
    ego = world.ego
    assert tuple(ego.lane_index[:2]) == ("ee", "nx"), "on the ring lane that ends at the exit's fork"
    s_m, _ = ego.lane.local_coordinates(ego.position)
    step_m = ego.speed * world.dt_s
    assert ROUNDABOUT_COMMAND_LEAD_M - step_m - 0.1 <= ego.lane.length - s_m <= ROUNDABOUT_COMMAND_LEAD_M
    world.close()
