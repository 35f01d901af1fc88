"""highway-env's road vs our numpy twin (`sim/road.py`: neighbours, collisions, closest lanes), the expert driving
on the highway, at the exit (neighbours searched on connected lanes) and in the roundabout (32 lanes).

The two alternate episode by episode in one process, so the ratio holds however fast the machine is at the
moment (the VM here swings ±40 % between runs). Counted in CPU time of this single-threaded process.
"""

from __future__ import annotations

import time

from highway_env.road.road import RoadNetwork

from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.road import FAST_ROADS
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World

ROUNDS = 4


def _episode(world: World, seed: int, fast: bool) -> tuple[int, float]:
    obs = world.reset(seed)
    if not fast:
        road = world.env.unwrapped.road
        road.__class__ = next(plain for plain, twin in FAST_ROADS.items() if twin is type(road))
        road.network.__class__ = RoadNetwork
    expert, steps, start = ExpertPolicy(), 0, time.process_time()
    while not world.done:
        obs = world.step(expert.act(obs))
        steps += 1
    return steps, time.process_time() - start


if __name__ == "__main__":
    for name in ("highway", "exit", "roundabout"):
        world = World(get_scenario(name), cameras=())
        totals = {True: [0, 0.0], False: [0, 0.0]}
        for seed in range(100000, 100000 + ROUNDS):
            for fast in (True, False):
                steps, cpu_s = _episode(world, seed, fast)
                totals[fast][0] += steps
                totals[fast][1] += cpu_s
        fast, plain = (totals[k][0] / totals[k][1] for k in (True, False))
        print(
            f"{name} sim + expert: numpy road {fast:.0f} steps per CPU s, highway-env's {plain:.0f}: "
            f"×{fast / plain:.2f}"
        )
        world.close()
