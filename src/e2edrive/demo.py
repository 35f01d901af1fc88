"""The whole loop in one call: collect → train → DAgger rounds → export → evaluate (expert, torch, ONNX) → report
(report.md and the HTML report DIR/report/index.html). The behaviour-cloned network is DIR/round_0/run, the rounds'
DIR/round_<r>/run (rows in DIR/rounds.jsonl, `dagger.py`), and the kept one DIR/run."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json
from e2edrive.dagger import DaggerConfig
from e2edrive.model.config import ModelConfig

SUCCESS_RATIO_TARGET = 0.8
DISTANCE_RATIO_TARGET = 0.75


@dataclass(frozen=True)
class DemoConfig:
    scenario: str = "highway"
    collect_episodes: int = 100
    train_minutes: float = 4.0
    """Behaviour cloning on the expert clips (round 0)."""
    dagger_rounds: int = 2
    """On-policy rounds after behaviour cloning (`dagger.py`): the learner drives varied traffic, the expert labels,
    the network fine-tunes on the pooled data. Behaviour cloning alone (7 min) drove 100 % of 50 held-out seeds
    600000.. but 24 % of them at `vehicles_density=2.0 vehicles_count=50` in two runs (37 of 50 collide, at
    19.7 m/s where the expert slows to 17.7). On the second network, two rounds of 30 episodes and 2.5 min lifted
    it to 56 % (17.8 m/s), and the same 5 min of fine-tuning on the expert clips alone left it at 18 %: the
    on-policy data is the lever, not more steps. Sized for ~14 min in all on 2 cores (README, Results: 48 % there in
    two runs, their round 0 18 and 22 %; 38 % with 5 min of behaviour cloning, 14.8 min in all)."""
    dagger_episodes: int = 24
    dagger_minutes: float = 2.0
    """Fine-tuning per round (less where `deadline_minutes` needs it)."""
    eval_episodes: int = 20
    """Held-out seeds per driver (20 is the floor for a demo's own evaluation; 30 cost ~1 min more of its 15)."""
    deadline_minutes: float | None = 14.5
    """Wall-clock bound from the start to the last evaluation (export and report take ~20 s more): the rounds'
    fine-tuning shrinks to fit it where the driving measured on the way says it would not (`dagger.training_minutes`),
    never round 0's behaviour cloning. The loop takes 13.6-14.5 min at its budgets on 2 cores, and 15.7 on a slower
    hour (every driving stage 10-25 % slower). None: the budgets as they are."""
    train_seed: int = 0
    eval_seed: int = 100_000
    """Held-out seeds start here, far from the training seeds."""
    workers: int = 2
    overrides: dict[str, Any] = field(default_factory=dict)
    """highway-env config overrides for every stage (the tests use short episodes)."""
    model: ModelConfig = field(default_factory=ModelConfig)
    """The network round 0 trains (the rounds fine-tune it)."""

    def __post_init__(self) -> None:
        if self.deadline_minutes is not None and self.deadline_minutes <= 0:
            raise UserError(f"deadline_minutes={self.deadline_minutes} must be positive")
        if self.eval_seed < self.train_seed + self.collect_episodes:
            raise UserError(f"eval_seed={self.eval_seed} overlaps training seeds {self.train_seed}..")
        self.dagger()  # its checks (rounds, seeds) at once

    def dagger(self, elapsed_s: float = 0.0) -> DaggerConfig:
        """The rounds after behaviour cloning, evaluated on the demo's own held-out seeds; elapsed_s: the demo's
        time before them, taken out of its deadline (they end with the expert's and the ONNX export's evaluations)."""
        deadline = None if self.deadline_minutes is None else max(self.deadline_minutes - elapsed_s / 60, 1e-3)
        return DaggerConfig(
            scenario=self.scenario,
            rounds=self.dagger_rounds,
            episodes_per_round=self.dagger_episodes,
            train_minutes=self.dagger_minutes,
            relabel_every_steps=4,
            eval_episodes=self.eval_episodes,
            eval_seed=self.eval_seed,
            workers=self.workers,
            model=self.model,
            overrides=self.overrides,
            deadline_minutes=deadline,
            after_evaluations=2.0,  # the expert's and the ONNX export's
        )


def run_demo(out: Path, config: DemoConfig = DemoConfig(), console: Console | None = None) -> dict:
    from e2edrive.dagger import run_dagger
    from e2edrive.deploy.export import export_onnx
    from e2edrive.evaluate.closed_loop import EvalConfig, evaluate
    from e2edrive.fleet.collect import CollectConfig, collect
    from e2edrive.train.loop import TrainConfig, train

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "demo_config.json", asdict(config))
    walls: dict[str, float] = {}

    def stage(name: str):
        console.rule(f"[bold]{name}")
        return time.perf_counter()

    t = stage("collect")
    collect(
        CollectConfig(config.scenario, config.collect_episodes, config.workers, config.train_seed, config.overrides),
        out / "clips",
    )
    walls["collect"] = time.perf_counter() - t

    t = stage("train")
    round_0 = out / "round_0" / "run"
    train_summary = train(out / "clips", round_0, TrainConfig(minutes=config.train_minutes, model=config.model))
    walls["train"] = time.perf_counter() - t

    t = stage("dagger")
    dagger = run_dagger(out, config.dagger(sum(walls.values())), data=out / "clips", init=round_0, console=console)
    walls["dagger"] = time.perf_counter() - t

    t = stage("export")
    export = export_onnx(out / "run", out / "model.onnx")
    console.print(f"ONNX parity: max |torch - ort| = {export['max_abs_error']:.2e}")
    walls["export"] = time.perf_counter() - t

    # the kept round's evaluation is the learned driver's: the same network, seeds and traffic
    kept = json.loads((out / f"round_{dagger['final_round']}" / "eval.json").read_text())
    atomic_write_json(out / "eval_learned_torch.json", kept)
    drivers = {"expert": {}, "learned_torch": kept, "learned_onnx": {}}  # the report's column order
    for name, policy in (("expert", "expert"), ("learned_onnx", str(out / "model.onnx"))):
        t = stage(f"evaluate {name}")
        drivers[name] = evaluate(
            EvalConfig(
                policy, config.scenario, config.eval_episodes, config.eval_seed, config.workers, config.overrides
            ),
            label=name,
        )
        atomic_write_json(out / f"eval_{name}.json", drivers[name])
        walls[f"eval_{name}"] = time.perf_counter() - t

    t = stage("report")
    from e2edrive.model.policy import TorchPolicy
    from e2edrive.report.drive_video import record_drive_gif
    from e2edrive.report.markdown import write_report
    from e2edrive.report.plots import plot_loss

    history = json.loads((out / "run" / "history.json").read_text())
    plot_loss(history, out / "training_loss.png")
    drive = record_drive_gif(
        TorchPolicy(out / "run"), config.scenario, config.eval_seed, out / "learned_drive.gif", config.overrides
    )
    from e2edrive.evaluate.bench import BenchConfig, bench_from_evaluations
    from e2edrive.report.html import write_html_report

    specs = {"expert": "expert", "learned_torch": str(out / "run"), "learned_onnx": str(out / "model.onnx")}
    bench_config = BenchConfig(
        tuple(specs.values()), config.scenario, config.eval_episodes, config.eval_seed, config.workers, config.overrides
    )
    bench_from_evaluations(out / "bench", {k: (specs[k], drivers[k]) for k in specs}, bench_config)
    page = write_html_report(out, out / "report", config.workers)
    walls["report"] = time.perf_counter() - t

    expert, learned = drivers["expert"], drivers["learned_torch"]
    ratios = {
        "success": learned["success_rate"] / max(expert["success_rate"], 1e-9),
        "distance": learned["distance_m"] / max(expert["distance_m"], 1e-9),
    }
    summary = {
        "scenario": config.scenario,
        "config": asdict(config),
        "train_seeds": list(range(config.train_seed, config.train_seed + config.collect_episodes)),
        "eval_seeds": list(range(config.eval_seed, config.eval_seed + config.eval_episodes)),
        "eval_episodes": config.eval_episodes,
        "drivers": {k: {kk: vv for kk, vv in v.items() if kk != "config"} for k, v in drivers.items()},
        "ratios": ratios,
        "targets_met": ratios["success"] >= SUCCESS_RATIO_TARGET and ratios["distance"] >= DISTANCE_RATIO_TARGET,
        "onnx_parity_max_abs_error": export["max_abs_error"],
        "train": train_summary,
        "dagger": {k: dagger[k] for k in ("rows", "stability", "stable", "band", "final_round")},
        "gif_drive": drive,
        "report": str(page),
        "stage_wall_s": walls,
        "total_wall_s": sum(walls.values()),
    }
    atomic_write_json(out / "summary.json", summary)
    write_report(summary, out / "report.md", "training_loss.png", "learned_drive.gif")
    return summary
