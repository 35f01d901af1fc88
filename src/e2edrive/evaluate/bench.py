"""The driving benchmark: every policy on every scenario on the same held-out seeds, resumable, scored like the
CARLA leaderboard.

Each finished episode is appended to DIR/episodes.jsonl as soon as it ends, so re-running the same command
drives only the (policy, scenario, seed) episodes still missing; DIR/bench.json is rewritten at the end from
every episode there.

Driving score of an episode = route completion x the product of its infraction penalties (CARLA leaderboard
style); the world detects these infractions:

    collision with a vehicle  0.60   (the episode ends)
    leaving the road          0.65   (the episode ends)
    route deviation           0.70   (left the planned route's roads; the episode ends)
    timeout                   0.70   (a scenario with a goal, not reached in time)

Runtime policies (.onnx) drive as in the car, through the safety monitor, whose interventions are counted.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json
from e2edrive.evaluate.metrics import summarize
from e2edrive.fleet.pool import imap_workers

PENALTIES = {"collision": 0.60, "offroad": 0.65, "route_deviation": 0.70, "timeout": 0.70}
EPISODES = "episodes.jsonl"
BENCH = "bench.json"
_WORKER: dict[str, Any] = {}


@dataclass(frozen=True)
class BenchConfig:
    policies: tuple[str, ...] = ("expert", "rules")
    """'expert', 'expert-no-routes', 'rules', 'oracle', run directories, .onnx files, 'oracle-pick:RUN'."""
    scenario: str = "all"
    episodes: int = 20
    seed: int = 100_000
    workers: int = 2
    overrides: dict[str, Any] = field(default_factory=dict)
    save_failures: bool = True
    """Drive every failed episode again and keep it as a clip under DIR/failures/ (`evaluate/failures.py`)."""
    open_loop_data: str | None = None
    """Held-out expert clips (never trained on) to score every learned policy open loop (`evaluate/open_loop.py`)."""
    open_loop_clips: int = 20

    def __post_init__(self) -> None:
        from e2edrive.policies import check_policy_spec
        from e2edrive.sim.scenarios import get_scenario, scenario_names, scenario_overrides

        if not self.policies:
            raise UserError("no policies to benchmark: give e.g. --policies expert,rules,RUN,model.onnx")
        for spec in self.policies:
            check_policy_spec(spec)
        for name in scenario_names(self.scenario):
            scenario_overrides(get_scenario(name), self.overrides)
        if self.episodes < 1 or self.workers < 1:
            raise UserError(f"episodes={self.episodes} and workers={self.workers} must be >= 1")
        if self.open_loop_data is not None and not Path(self.open_loop_data).is_dir():
            raise UserError(f"--open-loop-data {self.open_loop_data}: no such directory of clips")
        for spec in self.policies:
            if spec.endswith(".onnx"):
                from e2edrive.deploy.runtime.onnx_policy import make_session

                make_session(Path(spec))  # not an ONNX model: one clear line now, not from a worker later


def infractions(row: dict, has_goal: bool) -> list[str]:
    """The penalised events of one episode row (`EpisodeResult.row`)."""
    out = [name for name, key in (("collision", "collided"), ("offroad", "offroad")) if row[key]]
    if row.get("route_deviation"):
        out.append("route_deviation")
    if has_goal and not out and not row["success"]:
        out.append("timeout")
    return out


def driving_score(row: dict, has_goal: bool) -> float:
    return float(row["route_completion"]) * math.prod(PENALTIES[i] for i in infractions(row, has_goal))


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a success rate (sound at 0 %, 100 % and small n)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def score(rows: list[dict], has_goal: bool) -> dict:
    """One policy on one scenario: `metrics.summarize` plus the interval, driving score, infraction rates and
    comfort."""
    m = summarize(rows)
    n = m["episodes_count"]
    successes = sum(bool(r["success"]) for r in rows)
    km = max(m["total_distance_m"], 1e-9) / 1000.0
    counts = {name: sum(name in infractions(r, has_goal) for r in rows) for name in PENALTIES}
    return {
        **{k: v for k, v in m.items() if k != "episodes"},
        "success_ci95": list(wilson_interval(successes, n)),
        "driving_score": float(np.mean([driving_score(r, has_goal) for r in rows])),
        "infractions": counts,
        "offroads_per_100km": counts["offroad"] / km * 100.0,
        "p95_abs_jerk_mps3": _mean_of(rows, "p95_abs_jerk_mps3"),
        "p95_abs_lateral_accel_mps2": _mean_of(rows, "p95_abs_lateral_accel_mps2"),
        "wall_s_per_episode": _mean_of(rows, "wall_s"),
        **_interventions(rows, km),
        "failed_seeds": [r["seed"] for r in rows if not r["success"]],
    }


def _interventions(rows: list[dict], km: float) -> dict:
    """The safety monitor's interventions (runtime policies only): per 100 km in all and per step by reason."""
    if not any("monitor_interventions" in r for r in rows):
        return {}
    counts: Counter[str] = Counter()
    for r in rows:
        counts.update(r.get("monitor_interventions", {}))
    steps = max(1, sum(r["steps"] for r in rows))
    return {
        "monitor_interventions_per_100km": sum(counts.values()) / km * 100.0,
        "monitor_intervention_share_by_reason": {k: v / steps for k, v in sorted(counts.items())},
    }


def _mean_of(rows: list[dict], key: str) -> float | None:
    """Mean of a per-episode value; None where the rows do not carry it (episodes scored by an older version)."""
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def policy_keys(specs: tuple[str, ...]) -> dict[str, str]:
    """A short, unique name per policy for tables: built-ins as they are, files and runs by their name (an oracle's
    pick of a run's hypotheses: 'oracle-pick:' and the run's name)."""
    from e2edrive.policies import ORACLE_PICK

    keys: dict[str, str] = {}
    for spec in specs:
        prefix = ORACLE_PICK if spec.startswith(ORACLE_PICK) else ""
        rest = spec.removeprefix(prefix)
        base = prefix + (rest if "/" not in rest and not rest.endswith(".onnx") else Path(rest).name)
        key, i = base, 2
        while key in keys:
            key, i = f"{base}#{i}", i + 1
        keys[key] = spec
    return keys


class MonitoredPolicy:
    """A runtime policy (an .onnx model) driven as in the car: its commands pass the in-car safety monitor
    (`deploy/runtime/monitor.py`) with a radar view of the car ahead, and the monitor's interventions are counted
    by reason. Privileged only to read that radar; the model itself sees what it always sees."""

    privileged = True

    def __init__(self, inner) -> None:
        from e2edrive.deploy.runtime.monitor import SafetyMonitor

        self.inner = inner
        self.monitor = SafetyMonitor()
        self.interventions: Counter[str] = Counter()

    def reset(self, seed: int) -> None:
        self.inner.reset(seed)
        self.monitor.reset()
        self.interventions = Counter()

    def act(self, observation):
        from e2edrive.core.policy import Observation
        from e2edrive.deploy.runtime.monitor import LeadEstimate

        world = observation.state
        command = self.inner.act(Observation(observation.frames, observation.speed_mps, observation.command, 0.0))
        lead = world.lead()
        radar = None if lead is None else LeadEstimate(distance_m=lead[0], closing_speed_mps=lead[1])
        out = self.monitor.filter(command, world.dt_s, radar)
        self.interventions.update(out.interventions)
        return out.action

    def __getattr__(self, name: str):  # last_plan, layout, cameras of the model
        return getattr(self.inner, name)


def bench_policy(spec: str):
    """The policy a spec names, as the benchmark drives it: a runtime (.onnx) one through the safety monitor."""
    from e2edrive.policies import make_policy

    policy = make_policy(spec)
    return MonitoredPolicy(policy) if spec.endswith(".onnx") else policy


def _init(config: BenchConfig) -> None:
    from e2edrive.policies import policy_cameras
    from e2edrive.sim.rig import rig_cameras

    names = dict.fromkeys(c for spec in config.policies for c in policy_cameras(spec))
    _WORKER.update(config=config, cameras=rig_cameras(tuple(names)), worlds={}, policies={})


def _run(item: tuple[str, str, int]) -> dict:
    from e2edrive.sim.rollout import run_episode
    from e2edrive.sim.scenarios import get_scenario
    from e2edrive.sim.world import World

    spec, name, seed = item
    worlds, policies = _WORKER["worlds"], _WORKER["policies"]
    if name not in worlds:
        rig = next(iter(worlds.values())).rig if worlds else None
        worlds[name] = World(get_scenario(name), _WORKER["config"].overrides, _WORKER["cameras"], rig=rig)
    if spec not in policies:
        policies[spec] = bench_policy(spec)
    policy = policies[spec]
    t = time.perf_counter()
    row = run_episode(worlds[name], policy, seed).row()
    if isinstance(policy, MonitoredPolicy):
        row["monitor_interventions"] = dict(policy.interventions)
    return {"policy": spec, "scenario": name, **row, "wall_s": time.perf_counter() - t}


def read_episodes(path: Path) -> list[dict]:
    """The episode rows of an episodes.jsonl (a line cut by a kill is skipped: that episode is driven again)."""
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut by a kill: that episode is driven again
                continue
    return rows


def bench_drive(config: BenchConfig, out: Path, progress: bool = True, engine: str = "local") -> dict:
    """Run (or resume) the benchmark into out; returns bench.json's content."""
    from e2edrive.sim.scenarios import scenario_names

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = scenario_names(config.scenario)
    seeds = range(config.seed, config.seed + config.episodes)
    wanted = [(p, n, s) for p in config.policies for n in names for s in seeds]
    wanted_set = set(wanted)
    rows = [r for r in read_episodes(out / EPISODES) if (r["policy"], r["scenario"], r["seed"]) in wanted_set]
    done = {(r["policy"], r["scenario"], r["seed"]) for r in rows}
    todo = [item for item in wanted if item not in done]
    t0 = time.perf_counter()
    columns = (TextColumn("bench"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with open(out / EPISODES, "a") as log, Progress(*columns, disable=not progress) as bar:
        task = bar.add_task("bench", total=len(todo))
        for row in imap_workers(_init, (config,), _run, todo, config.workers, engine):
            log.write(json.dumps(row) + "\n")
            log.flush()
            rows.append(row)
            bar.advance(task)
    _WORKER.clear()
    keys = policy_keys(config.policies)
    bench = {
        "config": asdict(config),
        "policies": keys,
        "scenarios": list(names),
        "seeds": list(seeds),
        "penalties": PENALTIES,
        "results": _results(rows, keys, names),
        "episodes_driven_now": len(todo),
        "wall_s": time.perf_counter() - t0,
        "wall_s_per_policy": {
            key: float(sum(r["wall_s"] for r in rows if r["policy"] == spec)) for key, spec in keys.items()
        },
    }
    if config.save_failures:
        from e2edrive.evaluate.failures import record_failures

        failed = [
            (spec, key, r["scenario"], r["seed"], r)
            for key, spec in keys.items()
            for r in sorted(rows, key=lambda r: (r["scenario"], r["seed"]))
            if r["policy"] == spec and not r["success"]
        ]
        bench["failures"] = record_failures(failed, out, config.overrides, config.workers, engine)
    if config.open_loop_data is not None:
        bench["open_loop"] = open_loop_scores(config, keys)
    atomic_write_json(out / BENCH, bench)
    return bench


def open_loop_scores(config: BenchConfig, keys: dict[str, str]) -> dict:
    """Every learned policy (not the built-in drivers nor an oracle's pick) scored open loop on the first
    open_loop_clips clips."""
    from e2edrive.data.clip import list_clips
    from e2edrive.evaluate.open_loop import open_loop
    from e2edrive.policies import BUILTIN_POLICIES, ORACLE_PICK, make_policy

    clips = list_clips(Path(config.open_loop_data))[: config.open_loop_clips]
    learned = {k: spec for k, spec in keys.items() if spec not in BUILTIN_POLICIES and not spec.startswith(ORACLE_PICK)}
    return {key: open_loop(make_policy(spec), clips) for key, spec in learned.items()}


def _results(rows: list[dict], keys: dict[str, str], names: list[str]) -> dict:
    from e2edrive.sim.scenarios import get_scenario

    goals = {n: get_scenario(n).arrived is not None for n in names}
    return {
        key: {n: score([r for r in rows if r["policy"] == spec and r["scenario"] == n], goals[n]) for n in names}
        for key, spec in keys.items()
    }


def bench_from_evaluations(
    out: Path, evaluations: dict[str, tuple[str, dict]], config: BenchConfig, open_loop: dict | None = None
) -> dict:
    """A bench directory (episodes.jsonl, bench.json) from closed-loop evaluations already driven on config's
    scenarios and seeds (`evaluate` results by policy key: (spec, result)), so a demo's evaluations feed the
    same leaderboard and report without driving again."""
    from e2edrive.sim.scenarios import scenario_names

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = scenario_names(config.scenario)
    rows = []
    for spec, result in evaluations.values():
        per = result.get("scenarios") or {names[0]: result}
        rows += [{"policy": spec, "scenario": n, **e} for n in names for e in per[n]["episodes"]]
    with open(out / EPISODES, "w") as log:
        log.writelines(json.dumps(r) + "\n" for r in rows)
    keys = {key: spec for key, (spec, _) in evaluations.items()}
    bench = {
        "config": asdict(config),
        "policies": keys,
        "scenarios": list(names),
        "seeds": list(range(config.seed, config.seed + config.episodes)),
        "penalties": PENALTIES,
        "results": _results(rows, keys, names),
        "episodes_driven_now": 0,
        "wall_s": 0.0,
        "wall_s_per_policy": {},
    }
    if open_loop:
        bench["open_loop"] = open_loop
    atomic_write_json(out / BENCH, bench)
    return bench
