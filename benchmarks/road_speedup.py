"""highway-env's road vs our numpy twin (`sim/road.py`) on the highway scenario, the expert driving.

The two alternate episode by episode in one process, so the ratio holds however fast the machine is at the
moment (the VM here swings ±40 % between runs). Counted in CPU time of this single-threaded process.
"""

from __future__ import annotations

import time

from highway_env.road.road import Road

from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World

ROUNDS = 4


def _episode(world: World, seed: int, fast: bool) -> tuple[int, float]:
    obs = world.reset(seed)
    if not fast:
        world.env.unwrapped.road.__class__ = Road
    expert, steps, start = ExpertPolicy(), 0, time.process_time()
    while not world.done:
        obs = world.step(expert.act(obs))
        steps += 1
    return steps, time.process_time() - start


if __name__ == "__main__":
    world = World(get_scenario("highway"), cameras=())
    totals = {True: [0, 0.0], False: [0, 0.0]}
    for seed in range(100000, 100000 + ROUNDS):
        for fast in (True, False):
            steps, cpu_s = _episode(world, seed, fast)
            totals[fast][0] += steps
            totals[fast][1] += cpu_s
    fast, plain = (totals[k][0] / totals[k][1] for k in (True, False))
    print(
        f"highway sim + expert: numpy road {fast:.0f} steps per CPU s, highway-env's {plain:.0f}: ×{fast / plain:.2f}"
    )
