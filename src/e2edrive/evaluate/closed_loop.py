"""Closed-loop evaluation: N episodes with seeds S..S+N-1, in W worker processes, scored by `metrics`."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from e2edrive.evaluate.config import EvalConfig
from e2edrive.evaluate.metrics import METRIC_KEYS, summarize
from e2edrive.fleet.pool import imap_workers
from e2edrive.policies import make_policy, policy_cameras, policy_controller
from e2edrive.sim.rig import rig_cameras
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario, scenario_names
from e2edrive.sim.world import World

_WORKER: dict[str, Any] = {}


def _init(config: EvalConfig) -> None:
    _WORKER["config"] = config
    _WORKER["cameras"] = rig_cameras(policy_cameras(config.policy))
    _WORKER["worlds"] = {}
    _WORKER["policy"] = make_policy(config.policy, config.controller_overrides())


def _run(item: tuple[str, int]) -> dict:
    """One episode (scenario, seed) in this worker's world of that scenario (built on first use; the worlds
    share one camera renderer)."""
    name, seed = item
    worlds = _WORKER["worlds"]
    if name not in worlds:
        rig = next(iter(worlds.values())).rig if worlds else None
        worlds[name] = World(get_scenario(name), _WORKER["config"].overrides, _WORKER["cameras"], rig=rig)
    return {"scenario": name, **run_episode(worlds[name], _WORKER["policy"], seed).row()}


def evaluate(config: EvalConfig, progress: bool = True, label: str = "eval") -> dict:
    """One scenario: its metrics (`metrics.summarize`). Several ('all', a list): {"scenarios": {name: metrics},
    "mean": the mean of each metric over the scenarios}, every scenario on the same seeds."""
    names = scenario_names(config.scenario)
    items = [(name, s) for name in names for s in range(config.seed, config.seed + config.episodes)]
    t0 = time.perf_counter()
    rows: list[dict] = []
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress) as bar:
        task = bar.add_task(label, total=len(items))
        for row in imap_workers(_init, (config,), _run, items, config.workers):
            rows.append(row)
            bar.advance(task)
    _WORKER.clear()
    per = {name: summarize([r for r in rows if r["scenario"] == name]) for name in names}
    if len(names) == 1:
        result = per[names[0]]
    else:
        result = {"scenarios": per, "mean": {k: float(np.mean([per[n][k] for n in names])) for k in METRIC_KEYS}}
    result["config"] = asdict(config)
    controller = policy_controller(config.policy, config.controller_overrides())
    result["controller"] = controller.to_json() if controller is not None else None
    result["wall_s"] = time.perf_counter() - t0
    return result
