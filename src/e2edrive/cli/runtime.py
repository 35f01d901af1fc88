"""`e2edrive drive | shadow`: the in-car runtime on the simulator, a video or recorded clips."""

from __future__ import annotations

from pathlib import Path

import typer

from e2edrive.cli import app, console, set_option
from e2edrive.data.triggers import TriggerConfig
from e2edrive.demo import DemoConfig
from e2edrive.deploy.runtime.drive import DriveConfig
from e2edrive.evaluate.config import EvalConfig


@app.command("drive")
def drive_cmd(
    model: Path = typer.Option(
        ..., help="An .onnx file, or an export directory (model.onnx, or model_int8.onnx with --int8)."
    ),
    source: str = typer.Option("sim", help="'sim' or a video file path."),
    rate: float = typer.Option(DriveConfig.rate_hz, help="Loop rate in Hz."),
    int8: bool = typer.Option(False, "--int8", help="Use model_int8.onnx from the export directory."),
    monitor: bool = typer.Option(
        DriveConfig.monitor, help="Safety monitor between model and actuators (--no-monitor to measure it)."
    ),
    scenario: str = typer.Option(EvalConfig.scenario, help="Scenario, for --source sim."),
    seed: int = typer.Option(DemoConfig.eval_seed, help="First episode seed, for --source sim."),
    episodes: int = typer.Option(1, help="Episodes (seeds seed..seed+N-1), for --source sim."),
    max_cycles: int | None = typer.Option(DriveConfig.max_cycles, help="Stop each run after this many cycles."),
    speed: float = typer.Option(
        DriveConfig.assumed_speed_mps, help="Speed the model is told for a video (it carries none), m/s."
    ),
    out: Path = typer.Option(Path("drive_out"), help="Output directory: latency JSON (and an MP4 for videos)."),
    set_: list[str] | None = set_option(),
) -> None:
    """Run the in-car loop (onnxruntime, fixed rate, deadlines, safety monitor) on the simulator or a video."""
    from rich.progress import Progress

    from e2edrive.deploy.runtime.drive import drive, model_file, write_report

    path = model_file(model, int8)
    config = DriveConfig(rate_hz=rate, monitor=monitor, max_cycles=max_cycles, assumed_speed_mps=speed)
    is_sim = source == "sim"
    if is_sim:
        from e2edrive.deploy.runtime.onnx_policy import make_session, session_cameras
        from e2edrive.deploy.sim_source import SimSource
        from e2edrive.sim.overrides import parse_overrides

        overrides = parse_overrides(set_)
        cameras = tuple(name for name, _ in session_cameras(make_session(path))[0])
        sources = (SimSource(scenario, s, rate, overrides, cameras) for s in range(seed, seed + episodes))
    else:
        from e2edrive.deploy.runtime.sources import VideoSource

        sources = iter([VideoSource(Path(source), rate, speed)])
    with Progress(console=console) as bar:
        task = bar.add_task("drive", total=None)
        report, rows = drive(
            path,
            sources,
            out,
            config,
            realtime=not is_sim,
            record_video=not is_sim,
            on_cycle=lambda _: bar.advance(task),
        )
    report["source"] = source
    if is_sim:
        from e2edrive.evaluate.metrics import summarize

        report["episodes"] = summarize(rows)
    latency_json = write_report(report, out)
    lat, mlat = report["latency_ms"], report["model_latency_ms"]
    console.print(
        f"{report['cycles']} cycles at {rate:g} Hz: cycle p50 {lat['p50']:.2f} / p99 {lat['p99']:.2f} ms, "
        f"model p50 {mlat['p50']:.2f} / p99 {mlat['p99']:.2f} ms; {report['deadline_misses']} deadline misses, "
        f"{report['dropped_frames']} dropped frames → {latency_json}"
    )
    if is_sim:
        e = report["episodes"]
        console.print(f"success {e['success_rate']:.2f}, collisions/100 km {e['collisions_per_100km']:.1f}")


@app.command("shadow")
def shadow_cmd(
    model: Path = typer.Option(..., help="An .onnx model (or an export directory with model.onnx)."),
    clips: Path = typer.Option(..., help="Clips driven by someone else (expert, rules, human) to replay."),
    threshold_m: float = typer.Option(
        TriggerConfig.disagreement_m, help="Plan vs driven end-point distance that counts as disagreement."
    ),
) -> None:
    """Run the model beside the recorded driver; log disagreements as trigger events beside each clip."""
    from e2edrive.deploy.runtime.drive import model_file
    from e2edrive.deploy.runtime.shadow import shadow_dir

    results = shadow_dir(model_file(model), clips, TriggerConfig(disagreement_m=threshold_m))
    events = sum(r["events"] for r in results)
    console.print(f"shadowed {len(results)} clips: {events} disagreement events (run `e2edrive data index {clips}`)")
