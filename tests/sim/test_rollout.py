import numpy as np
import pytest
from highway_env.vehicle.kinematics import Vehicle

from e2edrive.core.policy import Action, Observation
from e2edrive.evaluate.metrics import summarize
from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.overrides import parse_overrides
from e2edrive.sim.rollout import PerturbConfig, Perturber, run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World
from tests.conftest import SHORT, ScriptedPolicy


def _signals(world, seed):
    rows = []
    run_episode(world, ExpertPolicy(), seed, perturb=PerturbConfig(0.2), recorder=lambda o, s: rows.append(s))
    return rows


def test_expert_rollout_is_deterministic():
    world = World(get_scenario("highway"), SHORT, cameras=())
    assert _signals(world, 7) == _signals(world, 7)
    assert _signals(world, 7) != _signals(world, 8)


def test_expert_drives_short_episode_to_the_end():
    world = World(get_scenario("highway"), SHORT, cameras=())
    result = run_episode(world, ExpertPolicy(), 1)
    assert result.success and result.steps == 40 and result.distance_m > 50


def test_scripted_crash_is_a_collision():
    world = World(get_scenario("highway"), SHORT, cameras=())

    class Crasher(ScriptedPolicy):
        def reset(self, seed):
            ego = world.ego
            road = world.env.unwrapped.road
            road.vehicles.append(Vehicle(road, ego.position + np.array([15.0, 0.0]), ego.heading, speed=0.0))

    result = run_episode(world, Crasher(0.0, 5.0), 0)
    metrics = summarize([result.row()])
    assert result.collided and not result.success and result.steps < 40
    assert metrics["collision_rate"] == 1.0 and metrics["collisions_per_100km"] > 0


def test_scripted_offroad_is_detected():
    world = World(get_scenario("highway"), SHORT, cameras=())
    result = run_episode(world, ScriptedPolicy(steer_rad=0.3, accel_mps2=0.0), 0)
    metrics = summarize([result.row()])
    assert result.offroad and not result.success and not result.collided
    assert metrics["offroad_rate"] == 1.0 and metrics["success_rate"] == 0.0


def test_learned_policies_never_see_the_simulator_state():
    world = World(get_scenario("highway"), SHORT, cameras=())
    seen = []

    class Spy(ScriptedPolicy):
        def act(self, observation: Observation):
            seen.append(observation.state)
            return super().act(observation)

    run_episode(world, Spy(), 0, max_steps=5)
    assert seen and all(s is None for s in seen)


def test_perturbations_are_seeded_and_zero_mean():
    def offsets(seed):
        p = Perturber(PerturbConfig(start_probability=0.1), seed)
        return [p(Action(0.0, 0.0))[0] for _ in range(3000)]

    a, b = offsets(1), offsets(1)
    assert a == b
    steer = np.array([x.steer_rad for x in a])
    assert (steer != 0).mean() > 0.1 and abs(steer.mean()) < 0.01


def test_overrides_parse_json_values():
    assert parse_overrides(["vehicles_density=1.5", "lanes_count=3", "name=x"]) == {
        "vehicles_density": 1.5,
        "lanes_count": 3,
        "name": "x",
    }
    world = World(get_scenario("highway"), parse_overrides(["lanes_count=2", "duration=1"]), cameras=())
    world.reset(0)
    assert len(world.env.unwrapped.road.network.lanes_list()) == 2


def test_comfort_metrics_see_a_hard_swerve_and_not_a_straight_cruise():
    world = World(get_scenario("highway"), {**SHORT, "vehicles_count": 0}, cameras=())
    cruise = run_episode(world, ScriptedPolicy(0.0, 0.0), 0)
    swerve = run_episode(world, ScriptedPolicy(0.05, -3.0), 0, max_steps=10)
    assert cruise.max_abs_lateral_accel_mps2 < 0.05 and cruise.max_abs_jerk_mps3 < 0.05
    # 25 m/s on a 0.05 rad wheel angle: yaw rate ≈ v·sin(atan(tan(δ)/2))/2.5 m ≈ 0.25 rad/s → ≈ 6 m/s²
    assert 4.0 < swerve.max_abs_lateral_accel_mps2 < 8.0
    assert swerve.max_abs_jerk_mps3 >= 3.0 / world.dt_s - 1e-6  # a step from 0 to -3 m/s² in one step
    row = swerve.row()
    assert summarize([row])["max_abs_lateral_accel_mps2"] == row["max_abs_lateral_accel_mps2"]


def test_close_following_counts_the_steps_under_one_second_behind_the_car_ahead():
    world = World(get_scenario("highway"), {**SHORT, "vehicles_count": 0}, cameras=())

    class SlowCarAhead(ScriptedPolicy):
        def reset(self, seed):
            ego, road = world.ego, world.env.unwrapped.road
            road.vehicles.append(Vehicle(road, ego.position + np.array([40.0, 0.0]), ego.heading, speed=20.0))

    class ExpertBehindSlowCar(ExpertPolicy):
        def reset(self, seed):
            super().reset(seed)
            SlowCarAhead.reset(self, seed)

    holding = run_episode(world, SlowCarAhead(0.0, 0.0), 0)  # holds 25 m/s: 35 m of gap closing at 5 m/s
    braking = run_episode(world, ExpertBehindSlowCar(), 0)
    alone = run_episode(world, ScriptedPolicy(0.0, 0.0), 0)
    assert 0.3 < holding.close_following_share < 0.8
    assert braking.close_following_share < holding.close_following_share
    assert alone.close_following_share == 0.0
    assert summarize([holding.row(), alone.row()])["close_following_share"] == holding.close_following_share / 2


@pytest.mark.parametrize("name", ["roundabout", "intersection"])
def test_a_recording_drives_on_past_the_goal_and_the_result_is_the_goals(name):
    """Recorded, an episode that arrives drives on for the labels' horizon (the intersection's own end at its exit
    and the clock no longer stop it); the result is the one at the goal, and a drive without a recorder (evaluation)
    stops there."""
    world = World(get_scenario(name), cameras=())
    plain = run_episode(world, ExpertPolicy(), 3)
    rows = []
    recorded = run_episode(world, ExpertPolicy(), 3, recorder=lambda o, s: rows.append(s), past_goal_steps=30)
    assert plain.success and world.arrived and world.past_goal and not world.done
    assert recorded.row() == plain.row() and (plain.past_goal_steps, recorded.past_goal_steps) == (0, 30)
    assert [r["frame_index"] for r in rows] == list(range(plain.steps + 30))
    x, y = np.array([r["x_m"] for r in rows]), np.array([r["y_m"] for r in rows])
    assert np.hypot(np.diff(x[-30:]), np.diff(y[-30:])).sum() > 30 * 0.1 * 3.0, "it drove on"
    assert all(r["on_road"] and not r["crashed"] for r in rows)


def test_drive_past_goal_only_after_arriving():
    world = World(get_scenario("roundabout"), cameras=())
    world.reset(3)
    with pytest.raises(RuntimeError, match="before arriving"):
        world.drive_past_goal()
