"""`e2edrive bench-drive` (every policy on every scenario, the same held-out seeds, a leaderboard) and
`e2edrive replay` (a clip rendered with its planned paths), `e2edrive report` (the HTML page) and `e2edrive view`
(a clip in Rerun)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from e2edrive.cli import app, console, set_option
from e2edrive.core.errors import UserError
from e2edrive.evaluate.bench import BENCH, BenchConfig
from e2edrive.report.tables import LEADERBOARD_HEADER, OPEN_LOOP_HEADER, leaderboard_rows, open_loop_rows


@app.command("bench-drive")
def bench_drive_cmd(
    policies: str = typer.Option(
        ",".join(BenchConfig.policies),
        help="Comma list: expert, expert-no-routes, rules, oracle, run directories, .onnx files, oracle-pick:RUN.",
    ),
    scenarios: str = typer.Option(BenchConfig.scenario, help="Scenario name, a comma list, or 'all'."),
    episodes: int = typer.Option(BenchConfig.episodes, help="Episodes per policy and scenario."),
    seed: int = typer.Option(BenchConfig.seed, help="First held-out seed; episodes use seed..seed+N-1."),
    out: Path = typer.Option(..., help="Output directory: episodes.jsonl (resume log) and bench.json."),
    workers: int = typer.Option(BenchConfig.workers, help="Worker processes (or Ray actors)."),
    engine: str = typer.Option("local", help="'local' worker processes, or 'ray' (pip install 'e2edrive[ray]')."),
    set_: list[str] | None = set_option(),
    open_loop_data: Path | None = typer.Option(
        None, help="Held-out expert clips: also score every learned policy open loop (L2 at 1/2/3 s, overlaps)."
    ),
    open_loop_clips: int = typer.Option(BenchConfig.open_loop_clips, help="Clips of --open-loop-data to use."),
    save_failures: bool = typer.Option(True, help="Keep every failed episode as a clip under OUT/failures/."),
) -> None:
    """Drive every policy on every scenario on the same seeds (resumable) and print the leaderboard: success with
    its 95 % Wilson interval, driving score, route completion, infractions per 100 km, speed, comfort."""
    from e2edrive.evaluate.bench import bench_drive
    from e2edrive.sim.overrides import parse_overrides

    specs = tuple(p.strip() for p in policies.split(",") if p.strip())
    config = BenchConfig(
        specs,
        scenarios,
        episodes,
        seed,
        workers,
        parse_overrides(set_),
        save_failures,
        None if open_loop_data is None else str(open_loop_data),
        open_loop_clips,
    )
    bench = bench_drive(config, out, engine=engine)
    table = Table(*LEADERBOARD_HEADER, title=f"bench-drive: {len(bench['seeds'])} seeds from {seed}")
    for row in leaderboard_rows(bench):
        table.add_row(*row)
    console.print(table)
    if "open_loop" in bench:
        console.print(open_loop_table(bench))
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


def open_loop_table(bench: dict) -> Table:
    """Open-loop scores beside the closed-loop means over the scenarios: where a blind baseline's trap shows."""
    table = Table(*OPEN_LOOP_HEADER, title="open loop (held-out clips) beside closed loop (mean over scenarios)")
    for row in open_loop_rows(bench):
        table.add_row(*row)
    return table


@app.command("train-blind")
def train_blind_cmd(
    data: list[Path] = typer.Option(..., help="Expert clips (repeatable): the same data the network trained on."),
    out: Path = typer.Option(..., help="Output directory (blind.safetensors, blind.json): a policy for bench-drive."),
    steps: int = typer.Option(3000, help="Optimizer steps (seconds on a CPU)."),
) -> None:
    """Train the blind baseline: a small MLP fed only speed, past motion and the command, no camera."""
    from e2edrive.data.clip import list_clips
    from e2edrive.model.blind import train_blind

    clips = [c for d in data for c in list_clips(d)]
    if not clips:
        raise UserError(f"no clips under {', '.join(map(str, data))}")
    summary = train_blind(clips, out, steps)
    console.print(f"wrote {out}: {summary['samples']} samples, loss {summary['final_loss']:.3f}")
