"""Every scenario as a registered gymnasium environment: `gymnasium.make("e2edrive/highway-v0")` after
`import e2edrive.sim.gym_env` (or `gymnasium.make("e2edrive.sim.gym_env:e2edrive/highway-v0")`).

Observation: Dict of the rig's camera frames ((H, W, 3) uint8 each), `speed_mps` (1,) float32 and
`command` (index into core.io.COMMANDS). Action: [steer_rad (left positive), accel_mps2] in physical units, or
with `normalize_actions=True` (what RL libraries such as Stable-Baselines3 expect) both in [-1, 1], scaled to
the car's limits (MAX_STEER_RAD, MAX_ACCEL_MPS2). Reward: metres travelled this step / REWARD_SCALE_M, and
COLLISION_REWARD on a crash (imitation learners ignore it; RL gets a usable default).

info holds plain, picklable values only (ego pose and status, command, time, arrived, success), so vector envs
in subprocesses work; the simulator itself, for privileged experts, is `env.unwrapped.world`. Each env builds
its own Panda3D renderer, in the process that steps it.

    env = gym.make("e2edrive/highway-v0", normalize_actions=True)   # e.g. for stable_baselines3.PPO
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from e2edrive.core.io import COMMANDS
from e2edrive.core.policy import MAX_ACCEL_MPS2, MAX_STEER_RAD, Action
from e2edrive.sim.rig import get_rig
from e2edrive.sim.scenarios import SCENARIOS, get_scenario
from e2edrive.sim.world import World

REWARD_SCALE_M = 10.0
COLLISION_REWARD = -10.0


class DrivingEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        scenario: str = "highway",
        rig: str = "front",
        overrides: dict[str, Any] | None = None,
        render_mode: str | None = None,
        normalize_actions: bool = False,
    ) -> None:
        self.world = World(get_scenario(scenario), overrides, get_rig(rig))
        self.render_mode = render_mode
        self.normalize_actions = normalize_actions
        cams = {c.name: spaces.Box(0, 255, (c.height_px, c.width_px, 3), np.uint8) for c in self.world.cameras}
        self.observation_space = spaces.Dict(
            {
                **cams,
                "speed_mps": spaces.Box(-40.0, 40.0, (1,), np.float32),
                "command": spaces.Discrete(len(COMMANDS)),
            }
        )
        self._action_scale = np.array([MAX_STEER_RAD, MAX_ACCEL_MPS2], np.float32)
        high = np.ones(2, np.float32) if normalize_actions else self._action_scale
        self.action_space = spaces.Box(-high, high)
        self._last_frames: dict[str, np.ndarray] = {}

    def _obs(self, observation) -> dict:
        self._last_frames = observation.frames
        return {
            **observation.frames,
            "speed_mps": np.array([observation.speed_mps], np.float32),
            "command": COMMANDS.index(observation.command),
        }

    def _info(self) -> dict:
        """Plain values only (picklable, for subprocess vector envs); the world is env.unwrapped.world."""
        return {
            "ego": asdict(self.world.ego_state()),
            "command": self.world.command,
            "time_s": self.world.time_s,
            "arrived": bool(self.world.arrived),
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        episode_seed = int(self.np_random.integers(0, 2**31 - 1)) if seed is None else int(seed)
        return self._obs(self.world.reset(episode_seed)), self._info()

    def step(self, action):
        action = np.asarray(action, np.float32) * (self._action_scale if self.normalize_actions else 1.0)
        before = self.world.ego_state()
        observation = self.world.step(Action(float(action[0]), float(action[1])))
        after = self.world.ego_state()
        reward = float(np.hypot(after.x_m - before.x_m, after.y_m - before.y_m)) / REWARD_SCALE_M
        if after.crashed:
            reward += COLLISION_REWARD
        info = {**self._info(), "success": bool(self.world.success())}
        return self._obs(observation), reward, self.world.terminated, self.world.truncated, info

    def render(self):
        return self._last_frames.get("front")

    def close(self) -> None:
        self.world.close()


def register_all() -> list[str]:
    ids = []
    for name in SCENARIOS:
        env_id = f"e2edrive/{name}-v0"
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point="e2edrive.sim.gym_env:DrivingEnv", kwargs={"scenario": name})
        ids.append(env_id)
    return ids


ENV_IDS = register_all()
