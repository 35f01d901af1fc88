import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from e2edrive.core.policy import MAX_ACCEL_MPS2
from e2edrive.sim.gym_env import ENV_IDS


def test_every_scenario_is_registered():
    assert {f"e2edrive/{n}-v0" for n in ("highway", "merge", "exit", "roundabout", "intersection", "racetrack")} <= set(
        ENV_IDS
    )


def test_env_passes_gymnasium_checks_and_is_seeded():
    env = gym.make("e2edrive.sim.gym_env:e2edrive/merge-v0")
    check_env(env.unwrapped, skip_render_check=True)
    a, _ = env.reset(seed=4)
    b, _ = env.reset(seed=4)
    assert np.array_equal(a["front"], b["front"]) and a["speed_mps"].dtype == np.float32
    obs, reward, terminated, truncated, info = env.step(np.array([0.0, 0.5], np.float32))
    assert env.observation_space.contains(obs)
    assert reward > 0 and not terminated and "ego" in info
    env.close()


def test_full_rig_observation_has_five_cameras():
    env = gym.make("e2edrive/highway-v0", rig="full")
    obs, _ = env.reset(seed=0)
    assert {"front", "front_wide", "left", "right", "rear"} <= set(obs)
    assert obs["front_wide"].shape == (96, 192, 3)
    env.close()


def test_info_is_plain_and_picklable_and_the_world_is_on_the_env():
    import pickle

    env = gym.make("e2edrive/highway-v0", overrides={"duration": 2.0, "vehicles_count": 5})
    _, info = env.reset(seed=1)
    _, _, _, _, step_info = env.step(np.zeros(2, np.float32))
    for i in (info, step_info):
        assert pickle.loads(pickle.dumps(i)) == i
        assert {"ego", "command", "time_s", "arrived"} <= set(i) and isinstance(i["ego"]["speed_mps"], float)
    assert step_info["time_s"] == pytest.approx(0.1) and step_info["success"] is False
    assert env.unwrapped.world.step_index == 1
    env.close()


def test_normalized_actions_span_minus_one_to_one_and_reach_the_limits():
    env = gym.make("e2edrive/highway-v0", normalize_actions=True, overrides={"duration": 2.0, "vehicles_count": 5})
    assert np.array_equal(env.action_space.low, [-1, -1]) and np.array_equal(env.action_space.high, [1, 1])
    env.reset(seed=2)
    speed = env.unwrapped.world.ego.speed
    env.step(np.array([0.0, 1.0], np.float32))  # full throttle = MAX_ACCEL_MPS2 for 0.1 s
    assert env.unwrapped.world.ego.speed - speed == pytest.approx(MAX_ACCEL_MPS2 * 0.1, abs=1e-6)
    env.close()


@pytest.mark.parametrize("scenario", ["highway", "roundabout"])
def test_stable_baselines3_checks_the_env_learns_on_it_and_runs_it_in_subprocesses(scenario):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_checker import check_env as sb3_check_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    short = {"duration": 3.0}

    def make():
        return gym.make(f"e2edrive.sim.gym_env:e2edrive/{scenario}-v0", normalize_actions=True, overrides=short)

    env = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no advice left: symmetric, normalised actions
        sb3_check_env(env)
    model = PPO("MultiInputPolicy", env, n_steps=32, batch_size=16, n_epochs=1, seed=0, device="cpu")
    assert model.learn(64).num_timesteps == 64
    env.close()
    vec = SubprocVecEnv([make, make])
    obs = vec.reset()
    assert obs["front"].shape == (2, 96, 160, 3)
    for _ in range(3):
        obs, rewards, dones, infos = vec.step(np.stack([vec.action_space.sample()] * 2))
    assert rewards.shape == (2,) and all("ego" in i for i in infos)
    vec.close()
