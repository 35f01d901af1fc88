"""Fleet recording: W worker processes drive episodes with the expert and write one clip each.

Each worker builds its own World (highway-env + Panda3D renderer) once, then drives the seeds it is
handed. Episode seed s always gives the same clip, whichever worker drives it. Finished clips are skipped,
so re-running the same command after a kill resumes the job.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from e2edrive.core.files import atomic_write_json
from e2edrive.core.policy import Policy
from e2edrive.data.clip import FUTURE_FRAMES, ClipWriter, clip_id, list_clips, remove_stale_tmp
from e2edrive.fleet.config import CollectConfig
from e2edrive.fleet.pool import imap_workers
from e2edrive.policies import make_policy
from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World

_WORKER: dict[str, Any] = {}


def _init_worker(config: CollectConfig, out_dir: str) -> None:
    _WORKER["config"] = config
    _WORKER["out"] = Path(out_dir)
    _WORKER["worlds"] = {}
    _WORKER["expert"] = ExpertPolicy(config.expert)
    _WORKER["driver"] = _WORKER["expert"] if config.policy == "expert" else make_policy(config.policy)


def record_episode(
    world: World, config: CollectConfig, seed: int, out_dir: Path, expert: ExpertPolicy, driver: Policy
) -> dict:
    """Drive one episode into a clip under out_dir; returns a short summary.

    The expert drives (with perturbations), or a learned policy drives and the expert labels every frame. An
    episode that reaches its goal is recorded FUTURE_FRAMES frames past it (meta `past_goal_frames`), so that the
    manoeuvre just before the goal, a roundabout's exit, has its trajectory labels: a route's last seconds are its
    point, and a clip that stopped at the goal left them unlabelled.
    """
    scenario = world.scenario
    cid = clip_id(scenario.name, seed)
    writer = ClipWriter(out_dir, cid, [c.calibration() for c in config.cameras])
    perturb = config.perturb if driver is expert else None
    learner = driver is not expert
    variation = scenario.variation if config.vary else None
    try:
        result = run_episode(
            world,
            driver,
            seed,
            labeller=expert,
            perturb=perturb,
            recorder=lambda o, s: writer.add(o.frames, s),
            variation=variation,
            expert_share=config.expert_share if learner else 0.0,
            relabel_every_steps=config.relabel_every_steps if learner else 0,
            past_goal_steps=FUTURE_FRAMES,
        )
        varied = {"ranges": variation.to_json(), "drawn": world.variation_drawn} if variation is not None else None
        writer.commit(
            {
                "scenario": scenario.name,
                "variation": varied,
                "seed": seed,
                "driver": "expert" if driver is expert else config.policy,
                "env_config": world.env_config,
                "collect_config": config.to_json(),
                "expert_config": asdict(config.expert or world.scenario.expert),
                "expert_crashed": result.collided,
                "offroad": result.offroad,
                "success": result.success,
                "distance_m": result.distance_m,
                "past_goal_frames": result.past_goal_steps,
            }
        )
    except BaseException:
        writer.abort()
        raise
    return {"clip_id": cid, **result.row()}


def _world(name: str) -> World:
    """This worker's world of a scenario, built on first use; the worlds share one camera renderer."""
    worlds, config = _WORKER["worlds"], _WORKER["config"]
    if name not in worlds:
        rig = next(iter(worlds.values())).rig if worlds else None
        worlds[name] = World(get_scenario(name), config.overrides, config.cameras, rig=rig)
    return worlds[name]


def _work(seed: int) -> dict:
    w = _WORKER
    world = _world(w["config"].scenario_of(seed))
    return record_episode(world, w["config"], seed, w["out"], w["expert"], w["driver"])


def collect(config: CollectConfig, out_dir: Path, progress: bool = True, engine: str = "local") -> list[dict]:
    """Record episodes seed..seed+episodes-1 into out_dir; returns one summary per newly written clip.

    engine: 'local' (a process pool) or 'ray' (actors on a Ray cluster); same seeds → same clips either way.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(out_dir)
    done = {p.name for p in list_clips(out_dir)}
    seeds = [s for s in config.seeds() if clip_id(config.scenario_of(s), s) not in done]
    atomic_write_json(out_dir / "collect_config.json", config.to_json())
    results: list[dict] = []
    columns = (TextColumn("collect"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress) as bar:
        task = bar.add_task("collect", total=len(seeds))
        for r in imap_workers(_init_worker, (config, str(out_dir.resolve())), _work, seeds, config.workers, engine):
            results.append(r)
            bar.advance(task)
    _WORKER.clear()
    return sorted(results, key=lambda r: r["seed"])
