"""Failure replays: every failed benchmark episode driven again, recorded as a clip in the fleet's format with
the policy's planned trajectory as an extra stream (`policy_trajectory_m`), so it can be rendered (`e2edrive
replay`) or fed to `data index` like any other clip. The report records its best and worst drives the same way.

Episodes are deterministic (same seed, same policy → same drive), so the replay is the failure itself; each
clip's meta says whether the replay ended as the benchmark's episode did (`reproduced`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from e2edrive.data.clip import ClipWriter, clip_id
from e2edrive.fleet.pool import imap_workers

_WORKER: dict[str, Any] = {}
FAILURES = "failures"


def _init(overrides: dict, out: str) -> None:
    _WORKER.update(overrides=overrides, out=Path(out), policies={}, worlds={})


def _record(item: tuple[str, str, str, int, dict]) -> dict:
    from e2edrive.policies import policy_cameras
    from e2edrive.sim.rig import FRONT, rig_cameras
    from e2edrive.sim.rollout import run_episode
    from e2edrive.sim.scenarios import get_scenario
    from e2edrive.sim.world import World

    spec, key, scenario, seed, original = item
    policies = _WORKER["policies"]
    if spec not in policies:  # as the benchmark drove it: a runtime policy through the safety monitor
        from e2edrive.evaluate.bench import bench_policy

        policies[spec] = bench_policy(spec)
    policy = policies[spec]
    cameras = rig_cameras(policy_cameras(spec)) or (FRONT,)  # privileged drivers are filmed from the front
    worlds = _WORKER["worlds"]
    if (scenario, cameras) not in worlds:  # worlds with the same cameras share one renderer
        rig = next((w.rig for (_, c), w in worlds.items() if c == cameras), None)
        worlds[scenario, cameras] = World(get_scenario(scenario), _WORKER["overrides"], cameras, rig=rig)
    world = worlds[scenario, cameras]
    out_dir = _WORKER["out"] / key
    writer = ClipWriter(out_dir, clip_id(scenario, seed), [c.calibration() for c in cameras])
    layout = getattr(policy, "layout", None)

    def record(obs, signals: dict) -> None:
        plan = getattr(policy, "last_plan", None)
        trajectory = None if plan is None or layout is None else layout.split(plan)[0].reshape(-1).tolist()
        writer.add(obs.frames, {**signals, "policy_trajectory_m": trajectory})

    try:
        result = run_episode(world, policy, seed, labeller=None, recorder=record)
        row = result.row()
        path = writer.commit(
            {
                "scenario": scenario,
                "seed": seed,
                "driver": spec,
                "policy_key": key,
                "failure_replay": True,
                "env_config": world.env_config,
                "expert_crashed": False,
                **{k: row[k] for k in ("success", "collided", "offroad", "route_deviation", "route_completion")},
                "reproduced": all(row[k] == original[k] for k in ("success", "collided", "offroad", "steps")),
            }
        )
    except BaseException:
        writer.abort()
        raise
    return {"policy": key, "scenario": scenario, "seed": seed, "clip": str(path)}


def record_failures(
    failed: list[tuple[str, str, str, int, dict]], out: Path, overrides: dict, workers: int, engine: str = "local"
) -> list[dict]:
    """failed: (policy spec, policy key, scenario, seed, the benchmark's episode row); clips already under
    out/failures/<key>/ are kept. Returns one entry per failure: policy key, scenario, seed, clip path."""
    return record_episodes(failed, Path(out) / FAILURES, overrides, workers, engine)


def record_episodes(
    items: list[tuple[str, str, str, int, dict]], root: Path, overrides: dict, workers: int, engine: str = "local"
) -> list[dict]:
    """Drive each (spec, key, scenario, seed, original row) again into root/<key>/<clip id> (kept if there)."""
    root, failed = Path(root), items
    listed, todo = [], []
    for item in failed:
        spec, key, scenario, seed, _ = item
        path = root / key / clip_id(scenario, seed)
        if path.is_dir():
            listed.append({"policy": key, "scenario": scenario, "seed": seed, "clip": str(path)})
        else:
            todo.append(item)
    if todo:
        listed += list(imap_workers(_init, (overrides, str(root)), _record, todo, workers, engine))
    _WORKER.clear()
    return sorted(listed, key=lambda f: (f["policy"], f["scenario"], f["seed"]))
