from e2edrive.sim.drivers.oracle import OraclePolicy
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


def test_the_oracle_turns_at_the_junction():
    """The expert's plan through the learned driver's controller completes a junction turn: the controller can
    follow what the network is taught (before the slip correction it left the road in 4 of 6 such episodes)."""
    world = World(get_scenario("intersection"), cameras=())
    result = run_episode(world, OraclePolicy(), 100_000)
    assert result.success and result.route_completion == 1.0
