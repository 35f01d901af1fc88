"""The `e2edrive` command line: one typer app, each subcommand a thin call into the packages."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="e2edrive: fleet video → end-to-end driver → closed-loop score → ONNX.", no_args_is_help=True)
data_app = typer.Typer(help="The data engine: check, index and query clips.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console()


@data_app.command("check")
def data_check_cmd(
    root: Path = typer.Argument(..., help="Directory of clips."),
    move: bool = typer.Option(True, help="Move bad clips to ROOT/quarantine/ (--no-move only reports)."),
) -> None:
    """Validate every clip; bad ones go to ROOT/quarantine/<clip>/REASON.txt."""
    from e2edrive.data.check import check_dir

    report = check_dir(root, move=move)
    for name, reason in report["quarantined"].items():
        console.print(f"[yellow]{name}[/]: {reason}")
    console.print(f"{len(report['ok'])} clips ok, {len(report['quarantined'])} quarantined")


@data_app.command("index")
def data_index_cmd(root: Path = typer.Argument(..., help="Directory of clips.")) -> None:
    """Build ROOT/catalog/{clips,frames,events}.parquet (events from the triggers)."""
    from e2edrive.data.catalog import build_index

    counts = build_index(root)
    console.print(f"indexed {counts['clips']} clips, {counts['events']} events → {root / 'catalog'}")


@data_app.command("query")
def data_query_cmd(
    root: Path = typer.Argument(..., help="Directory of clips with a catalog."),
    sql: str = typer.Argument(..., help="SQL over the views clips, frames, events."),
) -> None:
    """Run DuckDB SQL over the catalog and print the result."""
    from e2edrive.data.catalog import query

    result = query(root, sql)
    table = Table(*result.column_names)
    for row in result.to_pylist():
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()))
    console.print(table)


@data_app.command("build")
def data_build_cmd(
    root: Path = typer.Argument(..., help="Directory of clips."),
    out: Path = typer.Option(..., help="Where versioned datasets are written (OUT/<name>-<version>/)."),
    name: str = typer.Option("dataset", help="Dataset name."),
    mine: list[str] | None = typer.Option(None, help="Keep only windows around these triggers (repeatable)."),
    window_s: float = typer.Option(3.0, help="Half-width of a mined window, seconds."),
    balance: bool = typer.Option(
        True, help="Weight frames by speed x curvature x command bin (--no-balance: uniform)."
    ),
    val_fraction: float = typer.Option(0.1, help="Share of episodes for validation."),
    test_fraction: float = typer.Option(0.1, help="Share of episodes for test."),
) -> None:
    """Build a versioned dataset: manifest with content hashes, split by episode, mining, balance."""
    from e2edrive.data.build import BuildConfig, build_dataset, read_manifest

    config = BuildConfig(name, val_fraction, test_fraction, tuple(mine or ()), window_s, balance)
    path = build_dataset(root, out, config)
    manifest, _ = read_manifest(path)
    console.print(f"wrote {path} (version {manifest['version']}): {json.dumps(manifest['counts'])}")


@data_app.command("human-likeness")
def data_human_likeness_cmd(
    driver: list[str] = typer.Option(
        ..., help="LABEL=CLIP_DIR, repeatable (e.g. human=real expert=clips learned=drives)."
    ),
    out: Path = typer.Option(Path("human_likeness"), help="Output directory (PNG + JSON)."),
) -> None:
    """Compare speed, acceleration, jerk and lateral acceleration distributions across drivers."""
    from e2edrive.report.human_likeness import human_likeness

    drivers = {}
    for item in driver:
        label, sep, path = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--driver expects LABEL=DIR, got {item!r}")
        drivers[label] = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    stats = human_likeness(drivers, out / "human_likeness.png")
    (out / "human_likeness.json").write_text(json.dumps(stats, indent=2))
    table = Table("driver", "quantity", "mean", "std", "p5", "p95", "max |x|")
    for label, per in stats.items():
        for key, st in per.items():
            if st:
                table.add_row(label, key, *(f"{st[k]:.2f}" for k in ("mean", "std", "p5", "p95", "max_abs")))
    console.print(table)


@data_app.command("ingest")
def data_ingest_cmd(
    source: Path = typer.Argument(..., help="A dashcam video file, or a comma2k19 segment directory."),
    out: Path = typer.Option(..., help="Clip directory to add the real log to."),
) -> None:
    """Turn a real log into a clip (missing streams declared in meta.json, never faked)."""
    from e2edrive.data.ingest import ingest_comma2k19, ingest_video

    path = ingest_comma2k19(source, out) if source.is_dir() else ingest_video(source, out)
    console.print(f"wrote {path}")


@data_app.command("export-lerobot")
def data_export_lerobot_cmd(
    root: Path = typer.Argument(..., help="Directory of clips."),
    out: Path = typer.Argument(..., help="Output directory of the LeRobot v3.0 dataset."),
) -> None:
    """Write the clips as a LeRobot v3.0 dataset (parquet + mp4 + meta/info.json)."""
    from e2edrive.data.lerobot import export_lerobot

    info = export_lerobot(root, out)
    console.print(f"wrote {info['total_episodes']} episodes, {info['total_frames']} frames → {out}")


@app.command("collect")
def collect_cmd(
    scenario: str = typer.Option("highway", help="Scenario name from the registry."),
    episodes: int = typer.Option(8, help="Number of episodes (one clip each)."),
    workers: int = typer.Option(2, help="Worker processes."),
    seed: int = typer.Option(0, help="First episode seed; episodes use seed..seed+N-1."),
    out: Path = typer.Option(..., help="Output directory of clips."),
    set_: list[str] | None = typer.Option(None, "--set", help="Environment override KEY=VALUE (repeatable)."),
    policy: str = typer.Option(
        "expert", help="Who drives: 'expert', 'rules', or a run dir / .onnx (the expert then labels)."
    ),
    engine: str = typer.Option("local", help="'local' worker processes, or 'ray' (pip install 'e2edrive[ray]')."),
    perturb_probability: float = typer.Option(
        0.03, help="Chance per step that a short steering/acceleration push starts (expert only; 0 = clean)."
    ),
    rig: str = typer.Option("front", help="Camera rig: 'front' (the model's input) or 'full' (5 cameras)."),
) -> None:
    """Drive episodes in W processes and record one clip per episode (video + signals + meta)."""
    from e2edrive.fleet.collect import CollectConfig, collect
    from e2edrive.sim.rollout import PerturbConfig
    from e2edrive.sim.scenarios import parse_overrides

    perturb = PerturbConfig(start_probability=perturb_probability)
    from e2edrive.sim.rig import get_rig

    overrides = parse_overrides(set_)
    config = CollectConfig(
        scenario, episodes, workers, seed, overrides, perturb=perturb, cameras=get_rig(rig), policy=policy
    )
    results = collect(config, out, engine=engine)
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


INT8_GATE_SEED = 200_000
INT8_GATE_MAX_DROP = 0.02
"""Closed-loop gate: INT8 success may trail FP32 by at most 2 points on the same held-out seeds."""


@app.command("export")
def export_cmd(
    run_dir: Path = typer.Argument(..., help="Training run directory."),
    out: Path = typer.Option(..., help="Output .onnx file, or a directory (gets model.onnx, model_int8.onnx)."),
    int8: bool = typer.Option(
        False, "--int8", help="Also write a static INT8 QDQ model calibrated on training frames."
    ),
    data: Path | None = typer.Option(None, help="Clips for INT8 calibration (default: the run's training data)."),
    gate_episodes: int = typer.Option(20, help="Closed-loop episodes for the INT8 vs FP32 gate (0 skips it)."),
    workers: int = typer.Option(2, help="Worker processes for the closed-loop gate."),
) -> None:
    """Export a run to ONNX and check parity against torch (fails above the tolerance); optionally INT8."""
    from e2edrive.deploy.export import ParityError, export_int8, export_onnx

    fp32_path = out if out.suffix == ".onnx" else out / "model.onnx"
    try:
        report = export_onnx(run_dir, fp32_path)
    except ParityError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"wrote {fp32_path}; max abs error vs torch {report['max_abs_error']:.2e} (tolerance {report['tolerance']:g})"
    )
    if not int8:
        return
    int8_path = fp32_path.with_name(f"{fp32_path.stem}_int8.onnx")
    q = export_int8(run_dir, fp32_path, int8_path, data)
    console.print(
        f"wrote {int8_path}; INT8 vs FP32 trajectory error mean {q['trajectory_abs_error_m']['mean']:.3f} m, "
        f"max {q['trajectory_abs_error_m']['max']:.3f} m; steer max {q['steer_abs_error_rad']['max']:.4f} rad"
    )
    if gate_episodes > 0:
        from e2edrive.evaluate.closed_loop import EvalConfig, evaluate

        results = {
            name: evaluate(
                EvalConfig(str(path), episodes=gate_episodes, seed=INT8_GATE_SEED, workers=workers), label=name
            )
            for name, path in (("fp32", fp32_path), ("int8", int8_path))
        }
        gate = {
            k: {m: v[m] for m in ("success_rate", "collisions_per_100km", "distance_m")} for k, v in results.items()
        }
        (int8_path.with_suffix(".gate.json")).write_text(json.dumps(gate, indent=2))
        drop = gate["fp32"]["success_rate"] - gate["int8"]["success_rate"]
        console.print(
            f"closed-loop gate on {gate_episodes} seeds: "
            f"fp32 {gate['fp32']['success_rate']:.2f}, int8 {gate['int8']['success_rate']:.2f}"
        )
        if drop > INT8_GATE_MAX_DROP + 1e-9:
            console.print(f"[red]INT8 gate failed: success drops by {drop:.2f} > {INT8_GATE_MAX_DROP}")
            raise typer.Exit(1)


@app.command("eval")
def eval_cmd(
    policy: str = typer.Option(
        "expert", help="'expert', 'rules' (the hand-written camera driver), a run directory, or a model.onnx file."
    ),
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
        "route_completion",
        "max_abs_jerk_mps3",
        "max_abs_lateral_accel_mps2",
    ):
        table.add_row(key, f"{result[key]:.3f}")
    console.print(table)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2))


@app.command("drive")
def drive_cmd(
    model: Path = typer.Option(
        ..., help="An .onnx file, or an export directory (model.onnx, or model_int8.onnx with --int8)."
    ),
    source: str = typer.Option("sim", help="'sim' or a video file path."),
    rate: float = typer.Option(20.0, help="Loop rate in Hz."),
    int8: bool = typer.Option(False, "--int8", help="Use model_int8.onnx from the export directory."),
    monitor: bool = typer.Option(True, help="Safety monitor between model and actuators (--no-monitor to measure it)."),
    scenario: str = typer.Option("highway", help="Scenario, for --source sim."),
    seed: int = typer.Option(100_000, help="First episode seed, for --source sim."),
    episodes: int = typer.Option(1, help="Episodes (seeds seed..seed+N-1), for --source sim."),
    max_cycles: int | None = typer.Option(None, help="Stop each run after this many cycles."),
    speed: float = typer.Option(25.0, help="Speed the model is told for a video (it carries none), m/s."),
    out: Path = typer.Option(Path("drive_out"), help="Output directory: latency JSON (and an MP4 for videos)."),
    set_: list[str] | None = typer.Option(None, "--set", help="Environment override KEY=VALUE, for --source sim."),
) -> None:
    """Run the in-car loop (onnxruntime, fixed rate, deadlines, safety monitor) on the simulator or a video."""
    from rich.progress import Progress

    from e2edrive.deploy.runtime.loop import DriveLoop, LoopConfig
    from e2edrive.deploy.runtime.monitor import MonitorConfig
    from e2edrive.deploy.runtime.sources import SimSource, VideoSource
    from e2edrive.evaluate.metrics import summarize
    from e2edrive.model import io
    from e2edrive.sim.scenarios import parse_overrides

    path = model if model.suffix == ".onnx" else model / ("model_int8.onnx" if int8 else "model.onnx")
    out.mkdir(parents=True, exist_ok=True)
    is_sim = source == "sim"
    loop_config = LoopConfig(rate_hz=rate, realtime=not is_sim, max_cycles=max_cycles)
    monitor_config = MonitorConfig() if monitor else None
    writer = None
    if not is_sim:
        from e2edrive.data.clip import VideoWriter
        from e2edrive.report.plots import draw_path
        from e2edrive.sim.camera import CameraConfig

        camera = CameraConfig()
        scale = 3
        writer = VideoWriter(out / "drive.mp4", io.IMAGE_WIDTH_PX * scale, io.IMAGE_HEIGHT_PX * scale, fps=int(rate))

    reports, rows = [], []
    with Progress(console=console) as bar:
        task = bar.add_task("drive", total=None)

        def on_cycle(record) -> None:
            bar.advance(task)
            if writer is not None and record.frame is not None and record.plan is not None:
                trajectory, _ = io.split_plan(record.plan)
                big = record.frame.image.repeat(scale, 0).repeat(scale, 1)
                writer.write(draw_path(big, trajectory, camera, scale=scale))

        loop = None
        latencies, model_latencies = [], []
        for s in range(seed, seed + (episodes if is_sim else 1)):
            overrides = parse_overrides(set_)
            src = SimSource(scenario, s, rate, overrides) if is_sim else VideoSource(Path(source), rate, speed)
            loop = loop or DriveLoop(path, src, loop_config, monitor_config)
            reports.append(loop.run(on_cycle, source=src))
            latencies += loop.latencies_s
            model_latencies += loop.model_latencies_s
            if is_sim:
                result = src.result()
                rows.append({"seed": s, **result, "time_s": result["steps"] / rate})
    report = reports[0] if len(reports) == 1 else _pool_reports(reports, latencies, model_latencies, loop_config)
    if writer is not None:
        writer.close()
        report |= {"video": str(out / "drive.mp4"), "assumed_speed_mps": speed}
    if is_sim:
        report["episodes"] = summarize(rows)
    report |= {"model": str(path), "source": source, "monitor": monitor}
    (out / "latency.json").write_text(json.dumps(report, indent=2))
    lat, mlat = report["latency_ms"], report["model_latency_ms"]
    console.print(
        f"{report['cycles']} cycles at {rate:g} Hz: cycle p50 {lat['p50']:.2f} / p99 {lat['p99']:.2f} ms, "
        f"model p50 {mlat['p50']:.2f} / p99 {mlat['p99']:.2f} ms; {report['deadline_misses']} deadline misses, "
        f"{report['dropped_frames']} dropped frames → {out / 'latency.json'}"
    )
    if is_sim:
        e = report["episodes"]
        console.print(f"success {e['success_rate']:.2f}, collisions/100 km {e['collisions_per_100km']:.1f}")


def _pool_reports(reports: list[dict], latencies_s: list[float], model_s: list[float], config) -> dict:
    """Several runs of the loop as one report: counts add up, percentiles are over every cycle."""
    from collections import Counter

    from e2edrive.deploy.runtime.loop import latency_report, percentiles_ms

    reasons: Counter[str] = Counter()
    for r in reports:
        reasons.update(r["interventions"])
    total = {k: sum(r[k] for r in reports) for k in ("cycles", "dropped_frames", "deadline_misses")}
    pooled = latency_report(
        latencies_s, total["cycles"], total["dropped_frames"], total["deadline_misses"], reasons, config
    )
    return {**pooled, "model_latency_ms": percentiles_ms(model_s), "runs": len(reports)}


@app.command("shadow")
def shadow_cmd(
    model: Path = typer.Option(..., help="An .onnx model (or an export directory with model.onnx)."),
    clips: Path = typer.Option(..., help="Clips driven by someone else (expert, rules, human) to replay."),
    threshold_m: float = typer.Option(1.5, help="Plan vs driven end-point distance that counts as disagreement."),
) -> None:
    """Run the model beside the recorded driver; log disagreements as trigger events beside each clip."""
    from e2edrive.data.triggers import TriggerConfig
    from e2edrive.deploy.runtime.shadow import shadow_dir

    path = model if model.suffix == ".onnx" else model / "model.onnx"
    results = shadow_dir(path, clips, TriggerConfig(disagreement_m=threshold_m))
    events = sum(r["events"] for r in results)
    console.print(f"shadowed {len(results)} clips: {events} disagreement events (run `e2edrive data index {clips}`)")


@app.command("contact-sheet")
def contact_sheet_cmd(
    scenario: list[str] | None = typer.Option(None, help="Scenario(s); default: every registered one."),
    out: Path = typer.Option(Path("docs"), help="Output directory (contact_sheet_<scenario>[_<rig>].png)."),
    rig: str = typer.Option("front", help="Camera rig: 'front', or 'full' (one column per camera)."),
) -> None:
    """Save a PNG per scenario of what the rig sees during an expert drive."""
    from e2edrive.report.contact_sheet import contact_sheet
    from e2edrive.sim.rig import get_rig
    from e2edrive.sim.scenarios import SCENARIOS

    suffix = "" if rig == "front" else f"_{rig}"
    for name in scenario or sorted(SCENARIOS):
        path = contact_sheet(name, out / f"contact_sheet_{name}{suffix}.png", cameras=get_rig(rig))
        console.print(f"wrote {path}")


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("demo_out"), help="Output directory."),
    episodes: int = typer.Option(150, help="Training episodes to collect."),
    minutes: float = typer.Option(7.0, help="Training minutes."),
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
