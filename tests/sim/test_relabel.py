import numpy as np

from e2edrive.data.clip import future_trajectory
from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.relabel import SHADOW_RADIUS_M, expert_trajectory
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


def _drive_with_plans(scenario: str, seed: int, overrides: dict):
    world = World(get_scenario(scenario), overrides, cameras=())
    expert = ExpertPolicy()
    obs = world.reset(seed)
    poses, plans = [], []
    while not world.done:
        state = world.ego_state()
        before = world.ego.position.copy()
        plans.append(expert_trajectory(world, expert))
        assert np.array_equal(world.ego.position, before), "planning must not move the real car"
        poses.append((state.x_m, state.y_m, state.yaw_rad))
        obs = world.step(expert.act(obs))
    return np.array(poses), plans


def test_the_expert_plan_is_where_the_expert_then_drives():
    """From a state the expert itself reached, its plan is its actual future path: the same label an expert clip
    gives, to float precision (the copy of the world evolves exactly like the world). Where the time runs out
    within the horizon there is no plan; where the goal comes within it, the copy drives on past it."""
    for scenario, overrides in (("highway", {"duration": 5.0, "vehicles_count": 10}), ("roundabout", {})):
        poses, plans = _drive_with_plans(scenario, 7, overrides)
        x, y, yaw = poses.T
        horizon = 30
        checked = 0
        for t in range(len(poses) - horizon - 1):
            assert plans[t] is not None
            np.testing.assert_allclose(plans[t], future_trajectory(x, y, yaw, t), atol=1e-4)
            checked += 1
        assert checked >= 15
        if scenario == "highway":
            assert plans[-1] is None, "no plan where the time runs out within the horizon"
        else:
            assert all(p is not None for p in plans), "a plan up to the goal: the copy drives on past it"


def test_the_copy_without_far_cars_plans_as_the_full_copy():
    # full highway traffic: most cars are beyond SHADOW_RADIUS_M, and the labels barely move without them
    scenario = get_scenario("highway")
    world = World(scenario, cameras=())
    expert, labeller = ExpertPolicy(), ExpertPolicy()
    obs = world.reset(11, scenario.variation)
    far = 0
    for step in range(40):
        if step % 10 == 0:
            ego = world.ego
            far += sum(
                np.linalg.norm(v.position - ego.position) > SHADOW_RADIUS_M for v in world.env.unwrapped.road.vehicles
            )
            full, pruned = expert_trajectory(world, labeller, None), expert_trajectory(world, labeller)
            np.testing.assert_allclose(pruned, full, atol=0.02)
        obs = world.step(expert.act(obs))
    assert far > 0, "the test needs cars beyond the radius"
    world.close()
