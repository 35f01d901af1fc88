import pytest

from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.navigation import COMMAND_LEAD_M, Navigation
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
