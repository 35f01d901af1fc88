"""Fleet collection throughput with 1 and 2 worker processes (frames/s) and the speed-up."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from e2edrive.fleet.collect import CollectConfig, collect

EPISODES = 6


def frames_per_s(workers: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        results = collect(CollectConfig(episodes=EPISODES, workers=workers, seed=0), Path(d), progress=False)
        return sum(r["steps"] for r in results) / (time.perf_counter() - t)


if __name__ == "__main__":
    one = frames_per_s(1)
    two = frames_per_s(2)
    print(f"collect, 1 worker:  {one:7.1f} frames/s")
    print(f"collect, 2 workers: {two:7.1f} frames/s")
    print(f"speed-up:           {two / one:7.2f}x")
