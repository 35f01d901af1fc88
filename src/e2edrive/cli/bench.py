"""`e2edrive bench-drive` (every policy on every scenario, the same held-out seeds, a leaderboard) and
`e2edrive replay` (a clip rendered with its planned paths), `e2edrive report` (the HTML page) and `e2edrive view`
(a clip in Rerun)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from e2edrive.cli import app, console, set_option
from e2edrive.evaluate.bench import BENCH, BenchConfig


@app.command("bench-drive")
def bench_drive_cmd(
    policies: str = typer.Option(
        ",".join(BenchConfig.policies), help="Comma list: expert, rules, oracle, run directories, .onnx files."
    ),
    scenarios: str = typer.Option(BenchConfig.scenario, help="Scenario name, a comma list, or 'all'."),
    episodes: int = typer.Option(BenchConfig.episodes, help="Episodes per policy and scenario."),
    seed: int = typer.Option(BenchConfig.seed, help="First held-out seed; episodes use seed..seed+N-1."),
    out: Path = typer.Option(..., help="Output directory: episodes.jsonl (resume log) and bench.json."),
    workers: int = typer.Option(BenchConfig.workers, help="Worker processes (or Ray actors)."),
    engine: str = typer.Option("local", help="'local' worker processes, or 'ray' (pip install 'e2edrive[ray]')."),
    set_: list[str] | None = set_option(),
) -> None:
    """Drive every policy on every scenario on the same seeds (resumable) and print the leaderboard: success with
    its 95 % Wilson interval, driving score, route completion, infractions per 100 km, speed, comfort."""
    from e2edrive.evaluate.bench import bench_drive
    from e2edrive.sim.overrides import parse_overrides

    specs = tuple(p.strip() for p in policies.split(",") if p.strip())
    config = BenchConfig(specs, scenarios, episodes, seed, workers, parse_overrides(set_))
    bench = bench_drive(config, out, engine=engine)
    table = Table(
        "policy",
        "scenario",
        "success (95 % CI)",
        "driving score",
        "route",
        "coll/100km",
        "off/100km",
        "m/s",
        "p95 |jerk|",
        "p95 |lat acc|",
        title=f"bench-drive: {len(bench['seeds'])} seeds from {seed}",
    )
    for key, per in bench["results"].items():
        for name, m in per.items():
            lo, hi = m["success_ci95"]
            table.add_row(
                key,
                name,
                f"{m['success_rate']:.2f} ({lo:.2f}–{hi:.2f})",
                f"{m['driving_score']:.3f}",
                f"{m['route_completion']:.3f}",
                f"{m['collisions_per_100km']:.0f}",
                f"{m['offroads_per_100km']:.0f}",
                f"{m['mean_speed_mps']:.1f}",
                "n/a" if m["p95_abs_jerk_mps3"] is None else f"{m['p95_abs_jerk_mps3']:.1f}",
                "n/a" if m["p95_abs_lateral_accel_mps2"] is None else f"{m['p95_abs_lateral_accel_mps2']:.2f}",
            )
    console.print(table)
    per_policy = ", ".join(f"{k} {v:.0f} s" for k, v in bench["wall_s_per_policy"].items())
    console.print(
        f"{bench['episodes_driven_now']} episodes driven now in {bench['wall_s']:.0f} s (driving time per policy: "
        f"{per_policy}) → {out / BENCH}"
    )


@app.command("replay")
def replay_cmd(
    clip: Path = typer.Argument(..., help="A clip directory (fleet, failure replay or real)."),
    out: Path = typer.Option(..., help="Output .mp4."),
    camera: str | None = typer.Option(None, help="Camera to show (default: front, else the clip's first)."),
) -> None:
    """Render a clip as an MP4: the camera view with the policy's (and the expert's) planned path, and a
    bird's-eye inset of the driven path."""
    from e2edrive.report.replay import render_replay

    info = render_replay(clip, out, camera)
    console.print(
        f"wrote {out}: {info['frames']} frames from {info['camera']}, {info['policy_plans']} policy plans, "
        f"{info['expert_plans']} expert plans drawn"
    )


@app.command("report")
def report_cmd(
    source: Path = typer.Argument(..., help="A bench-drive output directory, or a demo --scenario all directory."),
    out: Path = typer.Option(..., help="Report directory: index.html with its images and videos."),
    workers: int = typer.Option(BenchConfig.workers, help="Worker processes re-driving the best and worst drives."),
    drives: bool = typer.Option(True, help="Include the best and worst drive of every policy as video."),
) -> None:
    """Write a static HTML report (no server, nothing fetched): leaderboard, per-scenario bars with intervals,
    training curves and DAgger rounds when there, best and worst drives as video, environment and config."""
    from e2edrive.report.html import write_html_report

    page = write_html_report(source, out, workers, drives)
    console.print(f"wrote {page}")


@app.command("view")
def view_cmd(
    clip: Path = typer.Argument(..., help="A clip directory (fleet, DAgger, failure replay or real)."),
    save: Path | None = typer.Option(None, help="Write a Rerun recording (.rrd) here instead of opening a viewer."),
) -> None:
    """Browse a clip in Rerun: every camera, the signals as time series, a bird's-eye view with the expert's and
    the policy's trajectories, trigger events as markers (pip install 'e2edrive[viz]')."""
    from e2edrive.report.view import log_clip

    logged = log_clip(clip, save)
    console.print(f"logged {len(logged)} entities" + (f" to {save}" if save else ""))
