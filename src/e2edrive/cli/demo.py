"""`e2edrive demo`: the whole loop in one command."""

from __future__ import annotations

from pathlib import Path

import typer

from e2edrive.cli import app, console
from e2edrive.demo import DemoConfig


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("demo_out"), help="Output directory."),
    episodes: int = typer.Option(DemoConfig.collect_episodes, help="Training episodes to collect."),
    minutes: float = typer.Option(DemoConfig.train_minutes, help="Training minutes."),
    eval_episodes: int = typer.Option(DemoConfig.eval_episodes, help="Held-out evaluation episodes per driver."),
    workers: int = typer.Option(DemoConfig.workers, help="Worker processes."),
) -> None:
    """Run the whole loop: collect → train → export → evaluate expert and learned driver → report."""
    from e2edrive.demo import run_demo

    summary = run_demo(
        out,
        DemoConfig(collect_episodes=episodes, train_minutes=minutes, eval_episodes=eval_episodes, workers=workers),
        console,
    )
    d = summary["drivers"]
    console.print(
        f"expert success {d['expert']['success_rate']:.2f}, learned {d['learned_torch']['success_rate']:.2f} "
        f"(onnx {d['learned_onnx']['success_rate']:.2f}); distance ratio {summary['ratios']['distance']:.2f}; "
        f"total {summary['total_wall_s'] / 60:.1f} min → {out / 'report.md'}"
    )
