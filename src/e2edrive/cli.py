"""The `e2edrive` command line: one typer app, each subcommand a thin call into the packages."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="e2edrive: fleet video → end-to-end driver → closed-loop score → ONNX.", no_args_is_help=True)
console = Console()


@app.command("collect")
def collect_cmd(
    scenario: str = typer.Option("highway", help="Scenario name from the registry."),
    episodes: int = typer.Option(8, help="Number of episodes (one clip each)."),
    workers: int = typer.Option(2, help="Worker processes."),
    seed: int = typer.Option(0, help="First episode seed; episodes use seed..seed+N-1."),
    out: Path = typer.Option(..., help="Output directory of clips."),
    set_: list[str] | None = typer.Option(None, "--set", help="Environment override KEY=VALUE (repeatable)."),
) -> None:
    """Drive episodes with the expert in W processes and record one clip per episode."""
    from e2edrive.fleet.collect import CollectConfig, collect
    from e2edrive.sim.scenarios import parse_overrides

    results = collect(CollectConfig(scenario, episodes, workers, seed, parse_overrides(set_)), out)
    crashed = sum(r["collided"] for r in results)
    console.print(f"wrote {len(results)} clips to {out} ({crashed} flagged: expert crashed)")


@app.command("train")
def train_cmd(
    data: Path = typer.Option(..., help="Directory of clips."),
    out: Path = typer.Option(..., help="Run directory for the checkpoint."),
    minutes: float = typer.Option(8.0, help="Training time budget in minutes."),
    max_steps: int = typer.Option(100_000, help="Upper bound on optimizer steps."),
    batch_size: int = typer.Option(64, help="Batch size."),
    seed: int = typer.Option(0, help="Seed for initialisation and sampling."),
) -> None:
    """Train the driving network on recorded clips (bf16 autocast + channels_last on CPU)."""
    from e2edrive.train.loop import TrainConfig, train

    summary = train(data, out, TrainConfig(minutes=minutes, max_steps=max_steps, batch_size=batch_size, seed=seed))
    console.print_json(json.dumps({k: v for k, v in summary.items() if not k.endswith("_clips")}))


@app.command("export")
def export_cmd(
    run_dir: Path = typer.Argument(..., help="Training run directory."),
    out: Path = typer.Option(..., help="Output .onnx path."),
) -> None:
    """Export a run to ONNX and check parity against torch (fails above the tolerance)."""
    from e2edrive.deploy.export import ParityError, export_onnx

    try:
        report = export_onnx(run_dir, out)
    except ParityError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"wrote {out}; max abs error vs torch {report['max_abs_error']:.2e} (tolerance {report['tolerance']:g})"
    )


@app.command("eval")
def eval_cmd(
    policy: str = typer.Option("expert", help="'expert', a run directory, or a model.onnx file."),
    scenario: str = typer.Option("highway", help="Scenario name."),
    episodes: int = typer.Option(10, help="Number of episodes."),
    seed: int = typer.Option(10_000, help="First seed; episodes use seed..seed+N-1."),
    workers: int = typer.Option(2, help="Worker processes."),
    json_out: Path | None = typer.Option(None, "--json", help="Write metrics JSON here."),
    set_: list[str] | None = typer.Option(None, "--set", help="Environment override KEY=VALUE (repeatable)."),
) -> None:
    """Drive N closed-loop episodes and score them."""
    from e2edrive.evaluate.closed_loop import EvalConfig, evaluate
    from e2edrive.sim.scenarios import parse_overrides

    result = evaluate(EvalConfig(policy, scenario, episodes, seed, workers, parse_overrides(set_)))
    table = Table(title=f"{policy} on {scenario}")
    for key in (
        "success_rate",
        "collision_rate",
        "offroad_rate",
        "collisions_per_100km",
        "mean_speed_mps",
        "distance_m",
    ):
        table.add_row(key, f"{result[key]:.3f}")
    console.print(table)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2))


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("demo_out"), help="Output directory."),
    episodes: int = typer.Option(150, help="Training episodes to collect."),
    minutes: float = typer.Option(8.0, help="Training minutes."),
    eval_episodes: int = typer.Option(30, help="Held-out evaluation episodes per driver."),
    workers: int = typer.Option(2, help="Worker processes."),
) -> None:
    """Run the whole loop: collect → train → export → evaluate expert and learned driver → report."""
    from e2edrive.demo import DemoConfig, run_demo

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


if __name__ == "__main__":
    app()
