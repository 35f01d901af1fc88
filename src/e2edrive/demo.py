"""The whole loop in one call: collect → train → export → evaluate (expert, torch, ONNX) → report (report.md and
the HTML report DIR/report/index.html)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json

SUCCESS_RATIO_TARGET = 0.8
DISTANCE_RATIO_TARGET = 0.75


@dataclass(frozen=True)
class DemoConfig:
    scenario: str = "highway"
    collect_episodes: int = 100
    train_minutes: float = 7.0
    eval_episodes: int = 20
    """Held-out seeds per driver (20 is the floor for a demo's own evaluation; 30 cost ~1 min more of its 15)."""
    train_seed: int = 0
    eval_seed: int = 100_000
    """Held-out seeds start here, far from the training seeds."""
    workers: int = 2
    overrides: dict[str, Any] = field(default_factory=dict)
    """highway-env config overrides for every stage (the tests use short episodes)."""

    def __post_init__(self) -> None:
        if self.eval_seed < self.train_seed + self.collect_episodes:
            raise UserError(f"eval_seed={self.eval_seed} overlaps training seeds {self.train_seed}..")


def run_demo(out: Path, config: DemoConfig = DemoConfig(), console: Console | None = None) -> dict:
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
    train_summary = train(out / "clips", out / "run", TrainConfig(minutes=config.train_minutes))
    walls["train"] = time.perf_counter() - t

    t = stage("export")
    export = export_onnx(out / "run", out / "model.onnx")
    console.print(f"ONNX parity: max |torch - ort| = {export['max_abs_error']:.2e}")
    walls["export"] = time.perf_counter() - t

    drivers = {}
    for name, policy in (
        ("expert", "expert"),
        ("learned_torch", str(out / "run")),
        ("learned_onnx", str(out / "model.onnx")),
    ):
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
        "gif_drive": drive,
        "report": str(page),
        "stage_wall_s": walls,
        "total_wall_s": sum(walls.values()),
    }
    atomic_write_json(out / "summary.json", summary)
    write_report(summary, out / "report.md", "training_loss.png", "learned_drive.gif")
    return summary
