import pytest

from e2edrive.sim.scenarios import SCENARIOS, get_scenario
from e2edrive.sim.variation import Variation
from e2edrive.sim.world import World


def test_draws_are_in_range_and_a_function_of_the_seed():
    v = Variation(vehicles_density=(0.8, 1.6), vehicles_count=(20, 40), lanes_count=(3, 4), ego_speed_mps=(20, 28))
    draws = [v.draw(s) for s in range(200)]
    assert draws[7] == v.draw(7) and draws[7] != draws[8]
    assert all(0.8 <= d["vehicles_density"] <= 1.6 and 20 <= d["vehicles_count"] <= 40 for d in draws)
    assert {d["lanes_count"] for d in draws} == {3, 4}
    with pytest.raises(ValueError, match="low <= high"):
        Variation(politeness=(0.5, 0.1))


def test_a_varied_world_draws_its_traffic_and_the_next_plain_reset_restores_the_scenario():
    scenario = get_scenario("highway")
    world = World(scenario, {"duration": 2.0}, cameras=())
    world.reset(3, scenario.variation)
    drawn = world.variation_drawn
    road = world.env.unwrapped.road
    assert len(road.network.graph["0"]["1"]) == drawn["lanes_count"]
    assert world.env_config["vehicles_count"] == drawn["vehicles_count"]
    assert world.ego.speed == pytest.approx(drawn["ego_speed_mps"])
    others = [v for v in road.vehicles if v is not world.ego]
    assert len({v.POLITENESS for v in others}) == len(others), "each driver its own politeness"
    world.reset(3)
    assert world.variation_drawn is None and world.env_config["vehicles_count"] == 30
    assert len(world.env.unwrapped.road.network.graph["0"]["1"]) == 4
    world.close()


def test_a_key_the_caller_sets_is_never_varied():
    scenario = get_scenario("highway")
    world = World(scenario, {"vehicles_count": 10, "duration": 2.0}, cameras=())
    world.reset(3, scenario.variation)
    assert world.env_config["vehicles_count"] == 10 and "vehicles_count" not in world.variation_drawn
    world.close()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenarios_ranges_make_a_world_the_expert_can_start(name):
    from e2edrive.sim.drivers.expert import ExpertPolicy

    world = World(get_scenario(name), cameras=())
    obs = world.reset(11, get_scenario(name).variation)
    expert = ExpertPolicy()
    for _ in range(10):
        obs = world.step(expert.act(obs))
    assert not world.ego.crashed
    world.close()
