"""Fleet recording: W worker processes drive episodes with the expert and write one clip each.

Each worker builds its own World (highway-env + Panda3D renderer) once, then drives the seeds it is
handed. Episode seed s always gives the same clip, whichever worker drives it. Finished clips are skipped,
so re-running the same command after a kill resumes the job.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from e2edrive.data.clip import ClipWriter, clip_id, list_clips, remove_stale_tmp
from e2edrive.policies import make_policy
from e2edrive.sim.camera import CameraConfig
from e2edrive.sim.drivers.expert import ExpertConfig, ExpertPolicy
from e2edrive.sim.policy import Policy
from e2edrive.sim.rollout import PerturbConfig, run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


@dataclass(frozen=True)
class CollectConfig:
    scenario: str = "highway"
    episodes: int = 8
    workers: int = 2
    seed: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)
    expert: ExpertConfig = ExpertConfig()
    perturb: PerturbConfig = PerturbConfig(start_probability=0.03)
    cameras: tuple[CameraConfig, ...] = (CameraConfig(),)
    policy: str = "expert"
    """Who drives: 'expert', or a run directory / .onnx file — then the expert only labels (DAgger data)."""

    def __post_init__(self) -> None:
        get_scenario(self.scenario)
        if self.episodes < 1:
            raise ValueError(f"episodes={self.episodes} must be >= 1")
        if self.workers < 1:
            raise ValueError(f"workers={self.workers} must be >= 1")

    def to_json(self) -> dict:
        return asdict(self)


_WORKER: dict[str, Any] = {}


def _init_worker(config: CollectConfig, out_dir: str) -> None:
    if config.policy != "expert":  # one inference thread per worker: the workers already fill the cores
        import torch

        torch.set_num_threads(1)
    _WORKER["config"] = config
    _WORKER["out"] = Path(out_dir)
    _WORKER["world"] = World(get_scenario(config.scenario), config.overrides, config.cameras)
    _WORKER["expert"] = ExpertPolicy(config.expert)
    _WORKER["driver"] = _WORKER["expert"] if config.policy == "expert" else make_policy(config.policy)


def record_episode(
    world: World, config: CollectConfig, seed: int, out_dir: Path, expert: ExpertPolicy, driver: Policy
) -> dict:
    """Drive one episode into a clip under out_dir; returns a short summary.

    The expert drives (with perturbations), or a learned policy drives and the expert labels every frame.
    """
    cid = clip_id(config.scenario, seed)
    writer = ClipWriter(out_dir, cid, [c.calibration() for c in config.cameras])
    perturb = config.perturb if driver is expert else None
    try:
        result = run_episode(
            world, driver, seed, labeller=expert, perturb=perturb, recorder=lambda o, s: writer.add(o.frames, s)
        )
        writer.commit(
            {
                "scenario": config.scenario,
                "seed": seed,
                "driver": "expert" if driver is expert else config.policy,
                "env_config": world.env_config,
                "collect_config": config.to_json(),
                "expert_crashed": result.collided,
                "offroad": result.offroad,
                "success": result.success,
                "distance_m": result.distance_m,
            }
        )
    except BaseException:
        writer.abort()
        raise
    return {"clip_id": cid, **result.row()}


def _work(seed: int) -> dict:
    w = _WORKER
    return record_episode(w["world"], w["config"], seed, w["out"], w["expert"], w["driver"])


class _RayWorker:
    """One Ray actor = one worker process with its own World, exactly like a local pool worker."""

    def __init__(self, config: CollectConfig, out_dir: str) -> None:
        _init_worker(config, out_dir)

    def record(self, seed: int) -> dict:
        return _work(seed)


def _ray_results(config: CollectConfig, out_dir: Path, seeds: list[int]):
    """Run the job on a Ray cluster: RAY_ADDRESS (or `ray start`) to join one, else a local Ray.

    On several nodes out_dir must be a filesystem every node sees (NFS, a mounted bucket): clips are
    written by the actors, atomically, exactly as by local workers.
    """
    import ray
    from ray.util import ActorPool

    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    actor = ray.remote(num_cpus=1)(_RayWorker)
    actors = [actor.remote(config, str(out_dir.resolve())) for _ in range(min(config.workers, len(seeds)))]
    yield from ActorPool(actors).map_unordered(lambda a, seed: a.record.remote(seed), seeds)
    for a in actors:
        ray.kill(a)


ENGINES = ("local", "ray")


def collect(config: CollectConfig, out_dir: Path, progress: bool = True, engine: str = "local") -> list[dict]:
    """Record episodes seed..seed+episodes-1 into out_dir; returns one summary per newly written clip.

    engine: 'local' (a process pool) or 'ray' (actors on a Ray cluster); same seeds → same clips either way.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r} must be one of {ENGINES}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(out_dir)
    done = {p.name for p in list_clips(out_dir)}
    seeds = [s for s in range(config.seed, config.seed + config.episodes) if clip_id(config.scenario, s) not in done]
    (out_dir / "collect_config.json").write_text(json.dumps(config.to_json(), indent=2))
    results: list[dict] = []
    columns = (TextColumn("collect"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress) as bar:
        task = bar.add_task("collect", total=len(seeds))
        if engine == "ray" and seeds:
            for r in _ray_results(config, out_dir, seeds):
                results.append(r)
                bar.advance(task)
        elif config.workers == 1 or len(seeds) <= 1:
            _init_worker(config, str(out_dir))
            for s in seeds:
                results.append(_work(s))
                bar.advance(task)
            _WORKER.clear()
        else:
            ctx = mp.get_context("spawn")
            with ctx.Pool(min(config.workers, len(seeds)), _init_worker, (config, str(out_dir))) as pool:
                for r in pool.imap_unordered(_work, seeds):
                    results.append(r)
                    bar.advance(task)
    return sorted(results, key=lambda r: r["seed"])
