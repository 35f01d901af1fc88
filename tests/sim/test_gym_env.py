import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

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
