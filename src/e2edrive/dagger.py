"""DAgger (Ross et al. 2011) made stable: the learner drives, the expert labels, the data pools, the model
fine-tunes, and every round is scored on the same held-out seeds.

Round 0 is the behaviour-cloned model (trained here on expert clips unless one is given). Round r >= 1:

1. collect: the round r-1 model drives `episodes_per_round` new episodes (new seeds every round), the expert's
   command replacing it for a 1-s segment with chance beta_r = beta * beta_decay^(r-1); the expert labels every
   visited state with its command and, every few steps, its own planned trajectory (`sim/relabel.py`). The
   first part of the episodes is spread by `shares`; the last `focus_share` of them goes to the scenarios in
   proportion to how often the learner failed in that first part (its own episodes, never the evaluation
   seeds; every scenario with a floor, `FOCUS_FLOOR`), so on-policy data lands where the learner fails rather
   than where it already drives;
2. train: fine-tune the round r-1 model on the expert clips plus every round's on-policy clips so far, the
   on-policy part held to `on_policy_share` of every batch (a prototype that fed half of each batch on-policy
   regressed in its second round: corrections crowded out the expert's driving);
3. evaluate: every scenario on the same held-out seeds; one JSON row per scenario.

A round's success or route completion that falls below the previous round's by more than the noise band (two
standard errors of the per-seed paired difference, and at least one episode in `eval_episodes`) is flagged
`stable: false` in the summary. The model kept (`out/run`) is the latest round within one standard error of the
round that scored best on those seeds, no scenario of it fallen below that round's beyond the noise band
(`best_round`): Ross et al. return the best policy on validation, so one
late round that falls back does not undo the others, and among rounds the evaluation cannot tell apart the one
with the most data and training is kept. Re-running the same command resumes: finished stages are kept.

With a deadline, training is what gives: before each training stage, the driving still ahead is predicted from
the seconds per episode measured so far, and the training budgets ahead shrink by one factor to fit
(`training_minutes`). Driving is not cut: the evaluations keep their seeds and every round its episodes.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json
from e2edrive.model.config import ModelConfig

ROW_KEYS = ("success_rate", "route_completion", "collisions_per_100km", "mean_speed_mps")
"""What every round reports per scenario (besides round, beta and the data it trained on)."""
STABILITY_SIGMAS = 2.0
KEEP_SIGMAS = 1.0
"""`best_round`: a later round within this many standard errors of the best round's success is kept instead."""
ROWS = "rounds.jsonl"
SUMMARY = "dagger_summary.json"


@dataclass(frozen=True)
class DaggerConfig:
    scenario: str = "all"
    rounds: int = 2
    episodes_per_round: int = 60
    beta: float = 0.5
    """Expert share of the first round's driving; beta_decay^(r-1) times that in round r."""
    beta_decay: float = 0.5
    on_policy_share: float = 0.3
    """Share of every fine-tuning batch drawn from the on-policy clips (all rounds so far together)."""
    focus_share: float = 0.5
    """Share of each round's episodes sent where the learner failed in the round's first episodes (0: all of
    them spread by `shares`)."""
    train_minutes: float = 4.0
    """Fine-tuning budget per round."""
    final_train_minutes: float | None = None
    """The last round's fine-tuning budget; None: `train_minutes`."""
    finetune_lr: float = 1e-3
    relabel_every_steps: int = 2
    expert_episodes: int = 120
    """Expert episodes collected when no expert data is given."""
    initial_train_minutes: float = 8.0
    """Training budget of round 0 when no starting model is given."""
    eval_episodes: int = 20
    eval_seed: int = 100_000
    collect_seed: int = 300_000
    """Round r's on-policy episodes use seeds collect_seed + r * 10_000 + i: never the training or eval seeds."""
    workers: int = 2
    shares: dict[str, float] = field(default_factory=dict)
    """Relative share of episodes per scenario, for the expert data and every round (missing: 1)."""
    batch_shares: dict[str, float] = field(default_factory=dict)
    """Relative share of every training batch per scenario, in every round (missing: 1;
    `TrainConfig.scenario_shares`)."""
    model: ModelConfig = field(default_factory=ModelConfig)
    """The network of round 0 when it is trained here (cameras, context)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """highway-env config overrides for every stage (the tests use short episodes)."""
    deadline_minutes: float | None = None
    """Wall-clock bound of the whole command, `after_evaluations` included: every training budget shrinks (never
    grows) so that the stages ahead fit (`training_minutes`). None: the budgets as they are."""
    after_evaluations: float = 0.0
    """Evaluations of every scenario (`eval_episodes` each) that follow this command within its deadline (the
    generalist demo's expert, rules, ONNX and blind ones and its report)."""

    def __post_init__(self) -> None:
        if self.rounds < 0 or self.episodes_per_round < 1 or self.eval_episodes < 1:
            raise UserError(
                f"rounds={self.rounds} >= 0, episodes_per_round={self.episodes_per_round} and "
                f"eval_episodes={self.eval_episodes} >= 1 needed"
            )
        if not (0 <= self.beta <= 1 and 0 <= self.beta_decay <= 1 and 0 < self.on_policy_share < 1):
            raise UserError("beta and beta_decay must be in [0, 1], on_policy_share in (0, 1)")
        if self.deadline_minutes is not None and self.deadline_minutes <= 0:
            raise UserError(f"deadline_minutes={self.deadline_minutes} must be positive")
        if not 0 <= self.focus_share < 1:
            raise UserError(f"focus_share={self.focus_share} must be in [0, 1)")
        if self.eval_seed < self.expert_episodes or self.collect_seed < self.eval_seed + self.eval_episodes:
            raise UserError(
                f"seeds overlap: expert 0..{self.expert_episodes - 1}, eval {self.eval_seed}.., "
                f"on-policy {self.collect_seed}.."
            )

    def budget_minutes(self, round_index: int) -> float:
        """Round round_index's training budget before any deadline: round 0 trains, later rounds fine-tune (the
        last one for `final_train_minutes` when it is set)."""
        if round_index == 0:
            return self.initial_train_minutes
        if round_index == self.rounds and self.final_train_minutes is not None:
            return self.final_train_minutes
        return self.train_minutes

    def beta_at(self, round_index: int) -> float:
        return self.beta * self.beta_decay ** (round_index - 1)

    def to_json(self) -> dict:
        return asdict(self)


def rows_of(result: dict, scenario: str, round_index: int, beta: float, extra: dict) -> list[dict]:
    """One row per scenario of an evaluation (`evaluate` of `scenario`: one name, a list or 'all')."""
    per = _per_scenario(result, scenario)
    return [
        {"round": round_index, "beta": beta, "scenario": name, **{k: m[k] for k in ROW_KEYS}, **extra}
        for name, m in per.items()
    ]


def stability(results: list[dict], scenario: str, sigmas: float = STABILITY_SIGMAS) -> list[dict]:
    """Round-to-round checks per scenario on success and route completion: a fall beyond the noise band (sigmas
    standard errors of the per-seed paired difference, at least one episode's worth) is unstable."""
    return [
        {"round": r, **c}
        for r in range(1, len(results))
        for c in _changes(results[r - 1], results[r], scenario, sigmas)
    ]


def _changes(before: dict, after: dict, scenario: str, sigmas: float) -> list[dict]:
    """Per scenario of `after`, its change in success and route completion from `before` and whether it stays
    within the noise band (`stable`)."""
    checks = []
    for name in _per_scenario(after, scenario):
        for key, episode_key in (("success_rate", "success"), ("route_completion", "route_completion")):
            diff = _paired_difference(before, after, scenario, episode_key, name)
            band = _noise_band(diff, sigmas)
            change = float(diff.mean()) if len(diff) else 0.0
            checks.append({"scenario": name, "metric": key, "change": change, "band": band, "stable": change >= -band})
    return checks


def best_round(results: list[dict], scenario: str, sigmas: float = KEEP_SIGMAS) -> int:
    """The latest round within the noise band of the best one (highest success rate averaged over scenarios, then
    route completion): sigmas standard errors of the per-seed paired difference in success over every scenario's
    episodes, at least one episode's worth (the one-standard-error rule: among the rounds the evaluation cannot tell
    apart, the one that has seen the most data and training). A late round that falls back beyond the band is not
    kept, nor one where any scenario's success or route completion falls below the best round's beyond the
    stability band (a mean within noise hid a roundabout that fell from 15 % and route completion 0.83 to 0 % and
    0.35, leaving the road at the entry); without per-episode results, the best round is."""
    scores = []
    for r, result in enumerate(results):
        per = _per_scenario(result, scenario).values()
        scores.append((np.mean([m["success_rate"] for m in per]), np.mean([m["route_completion"] for m in per]), r))
    best = max(scores)[2]
    for r in range(len(results) - 1, best, -1):
        diff = _paired_difference(results[best], results[r], scenario, "success")
        held = all(c["stable"] for c in _changes(results[best], results[r], scenario, STABILITY_SIGMAS))
        if len(diff) and diff.mean() >= -_noise_band(diff, sigmas) and held:
            return r
    return best


def _noise_band(diff: np.ndarray, sigmas: float) -> float:
    """sigmas standard errors of the mean of a per-seed paired difference, and at least one episode's worth."""
    n = len(diff)
    return max(sigmas * float(diff.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0, 1.0 / max(n, 1))


def _paired_difference(before: dict, after: dict, scenario: str, key: str, name: str | None = None) -> np.ndarray:
    """An episode value (`success`, `route_completion`) after minus before, per (scenario, seed) both evaluations
    drove: in one scenario (name), or in all."""

    def values(result: dict) -> dict:
        return {
            (n, e["seed"]): float(e[key])
            for n, m in _per_scenario(result, scenario).items()
            if name is None or n == name
            for e in m.get("episodes", [])
        }

    a, b = values(before), values(after)
    return np.array([b[k] - a[k] for k in sorted(set(a) & set(b))])


def _per_scenario(result: dict, scenario: str) -> dict:
    return result.get("scenarios") or {scenario: result}


def run_dagger(
    out: Path,
    config: DaggerConfig = DaggerConfig(),
    data: Path | None = None,
    init: Path | None = None,
    console: Console | None = None,
    independent: Callable[[Path], object] | None = None,
) -> dict:
    """Run (or resume) DAgger into out; returns the summary (also out/dagger_summary.json). data: expert clips
    (collected into out/expert_clips when None); init: the round-0 model (trained on data when None). The best
    round's model (`best_round`) is copied to out/run. independent: stages that need the expert clips but not the
    learner (the generalist demo's expert, rules and blind-baseline evaluations), called with the clips' directory
    before round 0 trains, so that the deadline measures their time instead of predicting it."""
    from e2edrive.data.clip import list_clips
    from e2edrive.evaluate.closed_loop import EvalConfig, evaluate
    from e2edrive.fleet.collect import CollectConfig, collect
    from e2edrive.model.config import is_run_dir
    from e2edrive.sim.rig import rig_cameras
    from e2edrive.sim.scenarios import scenario_names
    from e2edrive.train.config import TrainConfig
    from e2edrive.train.loop import train

    if init is not None and not is_run_dir(init):
        raise UserError(f"--init {init}: not a training run (expected model.safetensors and config.json)")
    if data is not None and not Path(data).is_dir():
        raise UserError(f"--data {data}: no such directory of clips")
    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "dagger_config.json", config.to_json())
    names = scenario_names(config.scenario)
    shares = {k: v for k, v in config.shares.items() if k in names}  # defaults for 'all' fit any subset
    walls: dict[str, float] = {}
    budgets_s: dict[int, float] = {}
    start = time.perf_counter()

    def budget(r: int) -> float:
        minutes = training_minutes(config, r, walls, budgets_s, time.perf_counter() - start, len(names))
        configured = config.budget_minutes(r)
        if minutes < configured:
            console.print(
                f"[yellow]deadline ({config.deadline_minutes:.1f} min from the rounds' start): round {r} trains "
                f"{minutes:.1f} min of its {configured:g} (the driving ahead at the rates measured so far leaves "
                "no more)"
            )
        budgets_s[r] = minutes * 60
        return minutes

    def timed(name: str, fn, *args, **kwargs):
        console.rule(f"[bold]dagger: {name}")
        t = time.perf_counter()
        value = fn(*args, **kwargs)
        walls[name] = walls.get(name, 0.0) + time.perf_counter() - t
        return value

    model = config.model
    if init is not None:
        from e2edrive.model.config import CONFIG

        model = ModelConfig.from_json(json.loads((Path(init) / CONFIG).read_text())["model"])
    cameras = rig_cameras(model.camera_names)
    if data is None:
        data = out / "expert_clips"
        expert_collect = CollectConfig(
            config.scenario,
            config.expert_episodes,
            config.workers,
            0,
            config.overrides,
            cameras=cameras,
            shares=shares,
        )
        timed("collect expert", collect, expert_collect, data)
    if independent is not None:
        timed(INDEPENDENT_STAGE, independent, data)

    def evaluate_round(run: Path, r: int) -> dict:
        path = out / f"round_{r}" / "eval.json"
        if path.exists():
            return json.loads(path.read_text())
        result = timed(
            f"evaluate round {r}",
            evaluate,
            EvalConfig(
                str(run), config.scenario, config.eval_episodes, config.eval_seed, config.workers, config.overrides
            ),
            label=f"round {r}",
        )
        path.parent.mkdir(parents=True, exist_ok=True)  # round 0 of a given --init has no directory of its own
        atomic_write_json(path, result)
        return result

    run = Path(init) if init is not None else out / "round_0" / "run"
    if init is None:
        base = TrainConfig(minutes=budget(0), balance=True, scenario_shares=config.batch_shares, model=model)
        summary0 = timed("train round 0", train, [data], run, base)
    else:
        summary0 = _train_summary(run)
    results, runs = [evaluate_round(run, 0)], [run]
    rows = rows_of(results[0], config.scenario, 0, 0.0, {"on_policy_clips": 0, **_train_numbers(summary0)})
    on_policy: list[Path] = []
    focus: list[dict] = []
    for r in range(1, config.rounds + 1):
        beta = config.beta_at(r)
        clips = out / f"round_{r}" / "clips"
        focused = min(round(config.episodes_per_round * config.focus_share), config.episodes_per_round - 1)
        round_collect = CollectConfig(
            config.scenario,
            config.episodes_per_round - focused,
            config.workers,
            config.collect_seed + r * 10_000,
            config.overrides,
            cameras=cameras,
            policy=str(run),
            expert_share=beta,
            relabel_every_steps=config.relabel_every_steps,
            shares=shares,
        )
        timed(f"collect round {r}", collect, round_collect, clips)
        on_policy.append(clips)
        if focused:
            failures = failure_rates(clips)
            focus_to = focus_shares(names, failures, shares) or shares
            focus.append({"round": r, "failure_rates": failures, "shares": focus_to, "episodes": focused})
            focus_clips = out / f"round_{r}" / "focus_clips"
            focus_collect = replace(
                round_collect, episodes=focused, seed=round_collect.seed + FOCUS_SEED_OFFSET, shares=focus_to
            )
            timed(f"collect round {r} where it failed", collect, focus_collect, focus_clips)
            on_policy.append(focus_clips)
        # the expert data keeps 1 - on_policy_share of every batch; the clip directories split the rest evenly
        sources = (1.0 - config.on_policy_share, *[config.on_policy_share / len(on_policy)] * len(on_policy))
        finetune = TrainConfig(
            minutes=budget(r),
            lr=config.finetune_lr,
            warmup_steps=20,
            balance=True,
            scenario_shares=config.batch_shares,
            seed=r,
            source_shares=sources,
            init=str(run),
        )
        next_run = out / f"round_{r}" / "run"
        summary = timed(f"train round {r}", train, [data, *on_policy], next_run, finetune)
        run = next_run
        runs.append(run)
        results.append(evaluate_round(run, r))
        n_clips = sum(len(list_clips(p)) for p in on_policy)
        rows += rows_of(results[-1], config.scenario, r, beta, {"on_policy_clips": n_clips, **_train_numbers(summary)})
    with open(out / ROWS, "w") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    best = best_round(results, config.scenario)
    kept = runs[best]
    final = out / "run"
    if final.resolve() != kept.resolve():
        shutil.rmtree(final, ignore_errors=True)
        shutil.copytree(kept, final, ignore=shutil.ignore_patterns("checkpoints", "logs"))
    checks = stability(results, config.scenario)
    summary = {
        "config": config.to_json(),
        "rows": rows,
        "stability": checks,
        "stable": all(c["stable"] for c in checks),
        "focus_shares": focus,
        "band": f"{STABILITY_SIGMAS:g} standard errors of the per-seed paired difference, at least 1/eval_episodes",
        "final_run": str(final),
        "final_round": best,
        "eval_seeds": list(range(config.eval_seed, config.eval_seed + config.eval_episodes)),
        "stage_wall_s": walls,
        "train_minutes": {str(r): b / 60 for r, b in budgets_s.items()},
    }
    atomic_write_json(out / SUMMARY, summary)
    return summary


INDEPENDENT_STAGE = "independent of the learner"
"""The stage wall of `run_dagger`'s `independent` stages."""
PRIOR_EPISODE_COST = {"learner": 3.7, "evaluate": 1.0}
"""Seconds per episode of on-policy collection (the expert's labels every fourth frame included) and of
evaluation, relative to expert collection's, until a stage of that kind has been measured: the generalist demo on
the 2-core machine took 1.1, 4.1 and 1.08 s. Its run under priors of 6 and 1.3 gave round 0 only 5.6 of its 14
minutes and ended 4 minutes early; a learner that fails early drives shorter, cheaper episodes."""
MIN_TRAINING_SCALE = 0.25
"""Under a deadline, training never shrinks below this share of its budget (the command then runs past it)."""


def training_minutes(
    config: DaggerConfig,
    r: int,
    walls: dict[str, float],
    budgets_s: dict[int, float],
    elapsed_s: float,
    n_scenarios: int,
) -> float:
    """Round r's training minutes under the deadline: its budget times the factor (at most 1, at least
    MIN_TRAINING_SCALE) that fits the training ahead into the time the driving ahead leaves (round r..last
    evaluations, `after_evaluations`, rounds r+1..last collections, at the seconds per episode measured in `walls`,
    the stage walls so far; PRIOR_EPISODE_COST for a kind not measured yet). The last round's budget comes first:
    an earlier round shares with the rounds up to the last what is left once the last round's budget is set aside
    (every budget stretched by how far the training so far overran its budgets). The budget as it is without a
    deadline or before any driving was measured."""
    configured = config.budget_minutes(r)
    rates = episode_rates(config, walls, n_scenarios)
    if config.deadline_minutes is None or rates is None:
        return configured
    evaluations = config.rounds - r + 1 + config.after_evaluations
    driving_s = evaluations * config.eval_episodes * n_scenarios * rates["evaluate"]
    driving_s += (config.rounds - r) * config.episodes_per_round * rates["learner"]
    trained = [(b, walls[f"train round {k}"]) for k, b in budgets_s.items() if f"train round {k}" in walls]
    overrun = sum(w for _, w in trained) / sum(b for b, _ in trained) if trained else 1.0
    s_per_minute = 60 * max(overrun, 1.0)
    left_s = config.deadline_minutes * 60 - elapsed_s - driving_s
    if r < config.rounds:  # the last round's budget set aside
        left_s -= config.budget_minutes(config.rounds) * s_per_minute
    sharing_minutes = sum(config.budget_minutes(k) for k in range(r, config.rounds) or (r,))
    scale = left_s / (sharing_minutes * s_per_minute)
    return configured * float(np.clip(scale, MIN_TRAINING_SCALE, 1.0))


def episode_rates(config: DaggerConfig, walls: dict[str, float], n_scenarios: int) -> dict[str, float] | None:
    """Seconds per episode by kind ('expert', 'learner', 'evaluate') from the stage walls so far (evaluation: the
    slowest round's, as later rounds' drivers survive longer: 134-146 s in rounds 0-2, 199 s in round 3); a kind
    not measured yet from a measured one and PRIOR_EPISODE_COST; None when nothing was driven yet."""
    measured = {}
    if "collect expert" in walls:
        measured["expert"] = walls["collect expert"] / config.expert_episodes
    rounds = [k for k in range(1, config.rounds + 1) if f"collect round {k}" in walls]
    if rounds:
        seconds = sum(
            walls[f"collect round {k}"] + walls.get(f"collect round {k} where it failed", 0.0) for k in rounds
        )
        measured["learner"] = seconds / (len(rounds) * config.episodes_per_round)
    evaluated = [walls[f"evaluate round {k}"] for k in range(config.rounds + 1) if f"evaluate round {k}" in walls]
    if evaluated:  # the slowest so far: a better driver survives longer, and its evaluations take longer
        measured["evaluate"] = max(evaluated) / (config.eval_episodes * n_scenarios)
    if not measured:
        return None
    cost = {"expert": 1.0, **PRIOR_EPISODE_COST}
    base = next(measured[k] / cost[k] for k in ("expert", "learner", "evaluate") if k in measured)
    return {k: measured.get(k, base * c) for k, c in cost.items()}


FOCUS_SEED_OFFSET = 5_000
"""A round's focused episodes use seeds from collect_seed + r * 10_000 + FOCUS_SEED_OFFSET."""


def failure_rates(clips: Path) -> dict[str, float]:
    """Share of a directory's episodes per scenario that did not succeed (from each clip's meta)."""
    from e2edrive.data.clip import list_clips

    outcomes: dict[str, list[bool]] = {}
    for clip in list_clips(clips):
        m = json.loads((clip / "meta.json").read_text())
        outcomes.setdefault(m["scenario"], []).append(bool(m["success"]))
    return {name: 1.0 - float(np.mean(ok)) for name, ok in outcomes.items()}


FOCUS_FLOOR = 0.1
"""Failure rate every scenario counts with on top of its own when a round's focus is shared out, so one that did
not fail keeps a small share (about one of 24 focused episodes; rounding can still leave it none). Merge fell from
98 to 76 % over two focused rounds that sent it none of theirs."""


def focus_shares(names: list[str], failures: dict[str, float], shares: dict[str, float]) -> dict[str, float]:
    """Episode shares in proportion to each scenario's failure rate plus FOCUS_FLOOR (times its base share; a
    scenario without episodes yet counts as failing); {} when nothing failed."""
    if not any(failures.get(name, 1.0) > 0 for name in names):
        return {}
    return {name: (failures.get(name, 1.0) + FOCUS_FLOOR) * shares.get(name, 1.0) for name in names}


def _train_summary(run: Path) -> dict:
    from e2edrive.train.loop import SUMMARY as TRAIN_SUMMARY

    path = Path(run) / TRAIN_SUMMARY
    return json.loads(path.read_text()) if path.exists() else {}


def _train_numbers(summary: dict) -> dict:
    return {k: summary.get(k) for k in ("train_samples", "train_s", "samples_per_s")}
