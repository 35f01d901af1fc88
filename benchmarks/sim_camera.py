"""Sim + camera steps per second in one process (expert driving, front camera, no recording)."""

from __future__ import annotations

import time

from e2edrive.core.camera import CameraConfig
from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World

EPISODES = 3


def steps_per_s(cameras) -> float:
    world = World(get_scenario("highway"), cameras=cameras)
    t = time.perf_counter()
    steps = sum(run_episode(world, ExpertPolicy(), seed).steps for seed in range(EPISODES))
    return steps / (time.perf_counter() - t)


if __name__ == "__main__":
    sim_only = steps_per_s(())
    with_camera = steps_per_s((CameraConfig(),))
    print(f"sim only:           {sim_only:7.1f} steps/s per worker")
    print(f"sim + front camera: {with_camera:7.1f} steps/s per worker")
    print(f"camera cost ratio:  {sim_only / with_camera:7.2f}x")
