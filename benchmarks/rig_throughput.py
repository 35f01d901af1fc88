"""Sim steps per second per core with the front camera and with the full 5-camera rig (expert driving).

Target (issue #3): the full rig at >= 100 sim steps/s per core at default resolutions. "Per core" is counted
in CPU time of this (single-threaded) process: on a shared VM the wall clock also counts time the host gave
to others, and swung by ±40 % between back-to-back runs here.
"""

from __future__ import annotations

import time

from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.rig import RIGS
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World

EPISODES = 2


def steps_per_s(scenario: str, cameras) -> tuple[float, float, float]:
    """(whole step incl. sim per CPU second, the same per wall second, rendering alone per CPU second)."""
    world = World(get_scenario(scenario), cameras=cameras)
    cpu, wall = time.process_time(), time.perf_counter()
    steps = sum(run_episode(world, ExpertPolicy(), seed).steps for seed in range(EPISODES))
    total_cpu = steps / (time.process_time() - cpu)
    total_wall = steps / (time.perf_counter() - wall)
    world.reset(0)
    cpu = time.process_time()
    for _ in range(200):
        world.render()
    return total_cpu, total_wall, 200 / (time.process_time() - cpu)


if __name__ == "__main__":
    for scenario in ("highway", "roundabout"):
        for name, cameras in RIGS.items():
            total_cpu, total_wall, render = steps_per_s(scenario, cameras)
            label = f"{scenario:10s} rig {name:5s} ({len(cameras)} cams)"
            print(
                f"{label}: {total_cpu:7.1f} steps per CPU s ({total_wall:6.1f} per wall s), "
                f"rendering alone {render:7.1f} rig frames per CPU s"
            )
