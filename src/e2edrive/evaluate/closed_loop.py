"""Closed-loop evaluation: N episodes with seeds S..S+N-1, in W worker processes, scored by `metrics`."""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from e2edrive.evaluate.metrics import summarize
from e2edrive.policies import make_policy, needs_camera
from e2edrive.sim.camera import CameraConfig
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


@dataclass(frozen=True)
class EvalConfig:
    policy: str = "expert"
    scenario: str = "highway"
    episodes: int = 10
    seed: int = 10_000
    workers: int = 2
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        get_scenario(self.scenario)
        if self.episodes < 1 or self.workers < 1:
            raise ValueError(f"episodes={self.episodes} and workers={self.workers} must be >= 1")


_WORKER: dict[str, Any] = {}


def _init(config: EvalConfig) -> None:
    import torch

    torch.set_num_threads(1)
    cameras = (CameraConfig(),) if needs_camera(config.policy) else ()
    _WORKER["world"] = World(get_scenario(config.scenario), config.overrides, cameras)
    _WORKER["policy"] = make_policy(config.policy)


def _run(seed: int) -> dict:
    return run_episode(_WORKER["world"], _WORKER["policy"], seed).row()


def evaluate(config: EvalConfig, progress: bool = True, label: str = "eval") -> dict:
    seeds = list(range(config.seed, config.seed + config.episodes))
    t0 = time.perf_counter()
    rows: list[dict] = []
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress) as bar:
        task = bar.add_task(label, total=len(seeds))
        if config.workers == 1:
            _init(config)
            for s in seeds:
                rows.append(_run(s))
                bar.advance(task)
            _WORKER.clear()
        else:
            with mp.get_context("spawn").Pool(min(config.workers, len(seeds)), _init, (config,)) as pool:
                for row in pool.imap_unordered(_run, seeds):
                    rows.append(row)
                    bar.advance(task)
    result = summarize(rows)
    result["config"] = asdict(config)
    result["wall_s"] = time.perf_counter() - t0
    return result
