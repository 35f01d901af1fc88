import numpy as np
import pytest

from e2edrive.core.control import plan_to_action
from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.drivers.oracle import OraclePickPolicy, OraclePolicy
from e2edrive.sim.relabel import expert_trajectory
from e2edrive.sim.rig import rig_cameras
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


def test_the_oracle_turns_at_the_junction():
    """The expert's plan through the learned driver's controller completes a junction turn: the controller can
    follow what the network is taught (before the slip correction it left the road in 4 of 6 such episodes)."""
    world = World(get_scenario("intersection"), cameras=())
    result = run_episode(world, OraclePolicy(), 100_000)
    assert result.success and result.route_completion == 1.0


@pytest.mark.parametrize("seed", [600_000, 600_005])
def test_the_oracle_leaves_the_roundabout_by_its_exit_on_the_road(seed):
    """Where the ring's left curve turns into the exit's right one, pure pursuit cuts the bend by its chord: aiming
    1.0 s / 8 m ahead, the expert's own plan left the road at these seeds (14 of 20)."""
    world = World(get_scenario("roundabout"), cameras=())
    result = run_episode(world, OraclePolicy(), seed)
    assert result.success and not result.offroad and result.route_completion == 1.0


def test_the_oracle_pick_drives_the_networks_hypothesis_nearest_the_experts_plan(untrained_run):
    world = World(get_scenario("intersection"), cameras=rig_cameras(("front",)))
    policy = OraclePickPolicy(untrained_run)
    observation = world.reset(100_000)
    policy.reset(100_000)
    action = policy.act(observation)
    plan, layout = policy.network.last_plan.copy(), policy.network.layout
    hypotheses, confidence = layout.hypotheses_of(plan)
    truth = expert_trajectory(world, ExpertPolicy())
    distances = np.linalg.norm(hypotheses - truth, axis=2).mean(axis=1)
    assert len(set(np.round(distances, 3))) == layout.hypotheses  # the pick is not a tie
    assert layout.driving(confidence) != int(np.argmin(distances))  # the network alone would drive another one
    for pick in range(layout.hypotheses):
        plan[layout.confidences] = np.where(np.arange(layout.hypotheses) == pick, 1.0, 0.0)
        driven = plan_to_action(plan, observation.speed_mps, policy.network.controller, layout)
        assert (driven == action) == (pick == int(np.argmin(distances)))
