"""Closed-loop evaluation: N episodes with seeds S..S+N-1, in W worker processes, scored by `metrics`."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from e2edrive.evaluate.config import EvalConfig
from e2edrive.evaluate.metrics import summarize
from e2edrive.fleet.pool import imap_workers
from e2edrive.policies import make_policy, policy_cameras
from e2edrive.sim.rig import rig_cameras
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World

_WORKER: dict[str, Any] = {}


def _init(config: EvalConfig) -> None:
    cameras = rig_cameras(policy_cameras(config.policy))
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
        for row in imap_workers(_init, (config,), _run, seeds, config.workers):
            rows.append(row)
            bar.advance(task)
    _WORKER.clear()
    result = summarize(rows)
    result["config"] = asdict(config)
    result["wall_s"] = time.perf_counter() - t0
    return result
