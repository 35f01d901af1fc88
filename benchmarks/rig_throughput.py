"""Sim steps per second per core with the front camera and with the full 5-camera rig (expert driving).

Target (issue #3): the full rig at >= 100 sim steps/s per core at default resolutions.
"""

from __future__ import annotations

import time

from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.rig import RIGS
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World

EPISODES = 2


def steps_per_s(scenario: str, cameras) -> tuple[float, float]:
    """(whole step incl. sim, rendering alone) in steps/s."""
    world = World(get_scenario(scenario), cameras=cameras)
    t = time.perf_counter()
    steps = sum(run_episode(world, ExpertPolicy(), seed).steps for seed in range(EPISODES))
    total = steps / (time.perf_counter() - t)
    world.reset(0)
    t = time.perf_counter()
    for _ in range(200):
        world.render()
    return total, 200 / (time.perf_counter() - t)


if __name__ == "__main__":
    for scenario in ("highway", "roundabout"):
        for name, cameras in RIGS.items():
            total, render = steps_per_s(scenario, cameras)
            label = f"{scenario:10s} rig {name:5s} ({len(cameras)} cams)"
            print(f"{label}: {total:7.1f} steps/s, rendering alone {render:7.1f} rig frames/s")
