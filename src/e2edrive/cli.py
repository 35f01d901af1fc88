"""The `e2edrive` command line: one typer app, each subcommand a thin call into the packages.

Defaults come from the config dataclasses (one place for each). Every import of a package that an install
extra provides (torch, highway-env, ...) happens inside the command that needs it, so the runtime-only install
runs `e2edrive drive`. `main()` turns user errors into one line and exit code 2; a traceback means a bug
(`--debug` shows one for every error).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json
from e2edrive.data.build import BuildConfig
from e2edrive.data.triggers import TriggerConfig
from e2edrive.demo import DemoConfig
from e2edrive.deploy.runtime.drive import DriveConfig
from e2edrive.evaluate.config import EvalConfig
from e2edrive.fleet.config import CollectConfig
from e2edrive.model.config import ModelConfig
from e2edrive.train.config import TrainConfig
from e2edrive.train.plan import CLUSTER_PRESETS, PlanConfig

app = typer.Typer(
    help="e2edrive: fleet video → end-to-end driver → closed-loop score → ONNX. "
    "Add --debug anywhere for a traceback on any error.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="The data engine: check, index, query, build, ingest and export clips.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
console = Console()

EXTRAS = {
    "torch": "train",
    "safetensors": "train",
    "onnx": "train",
    "tensorboard": "train",
    "highway_env": "sim",
    "gymnasium": "sim",
    "panda3d": "sim",
    "duckdb": "data",
    "matplotlib": "report",
    "ray": "ray",
}
"""Top-level module → the install extra that provides it (pyproject.toml)."""


def _set_option() -> typer.models.OptionInfo:
    return typer.Option(None, "--set", help="highway-env config override KEY=VALUE (repeatable), type-checked.")


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
    name: str = typer.Option(BuildConfig.name, help="Dataset name."),
    mine: list[str] | None = typer.Option(None, help="Keep only windows around these triggers (repeatable)."),
    window_s: float = typer.Option(BuildConfig.window_s, help="Half-width of a mined window, seconds."),
    balance: bool = typer.Option(
        BuildConfig.balance, help="Weight frames by speed x curvature x command bin (--no-balance: uniform)."
    ),
    val_fraction: float = typer.Option(BuildConfig.val_fraction, help="Share of episodes for validation."),
    test_fraction: float = typer.Option(BuildConfig.test_fraction, help="Share of episodes for test."),
) -> None:
    """Build a versioned dataset: manifest with content hashes, split by episode, mining, balance."""
    from e2edrive.data.build import build_dataset, read_manifest

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
            raise UserError(f"--driver expects LABEL=DIR, got {item!r}")
        drivers[label] = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    stats = human_likeness(drivers, out / "human_likeness.png")
    atomic_write_json(out / "human_likeness.json", stats)
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

    if not source.exists():
        raise UserError(f"{source}: no such video file or comma2k19 segment directory")
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
    out: Path = typer.Option(..., help="Output directory of clips."),
    scenario: str = typer.Option(CollectConfig.scenario, help="Scenario name from the registry."),
    episodes: int = typer.Option(CollectConfig.episodes, help="Number of episodes (one clip each)."),
    workers: int = typer.Option(CollectConfig.workers, help="Worker processes."),
    seed: int = typer.Option(CollectConfig.seed, help="First episode seed; episodes use seed..seed+N-1."),
    set_: list[str] | None = _set_option(),
    policy: str = typer.Option(
        CollectConfig.policy, help="Who drives: 'expert', 'rules', or a run dir / .onnx (the expert then labels)."
    ),
    engine: str = typer.Option("local", help="'local' worker processes, or 'ray' (pip install 'e2edrive[ray]')."),
    perturb_probability: float = typer.Option(
        CollectConfig.perturb.start_probability,
        help="Chance per step that a short steering/acceleration push starts (expert only; 0 = clean).",
    ),
    rig: str = typer.Option("front", help="Camera rig: 'front' (the model's input) or 'full' (5 cameras)."),
) -> None:
    """Drive episodes in W processes and record one clip per episode (video + signals + meta)."""
    from dataclasses import replace

    from e2edrive.fleet.collect import collect
    from e2edrive.sim.overrides import parse_overrides
    from e2edrive.sim.rig import get_rig

    config = CollectConfig(
        scenario,
        episodes,
        workers,
        seed,
        parse_overrides(set_),
        perturb=replace(CollectConfig.perturb, start_probability=perturb_probability),
        cameras=get_rig(rig),
        policy=policy,
    )
    results = collect(config, out, engine=engine)
    crashed = sum(r["collided"] for r in results)
    console.print(f"wrote {len(results)} clips to {out} ({crashed} flagged: expert crashed)")


@app.command("train")
def train_cmd(
    data: list[Path] = typer.Option(..., help="Directory of clips, or a built dataset (repeatable)."),
    out: Path = typer.Option(..., help="Run directory: checkpoints, logs, final model; rerun to resume."),
    minutes: float = typer.Option(TrainConfig.minutes, help="Training time budget in minutes."),
    max_steps: int = typer.Option(TrainConfig.max_steps, help="Upper bound on optimizer steps."),
    batch_size: int = typer.Option(TrainConfig.batch_size, help="Samples per micro-batch on each process."),
    accumulate: int = typer.Option(TrainConfig.accumulate, help="Micro-batches per optimizer step."),
    seed: int = typer.Option(TrainConfig.seed, help="Seed for initialisation and sampling."),
    cameras: str = typer.Option(",".join(ModelConfig().camera_names), help="Input cameras, comma-separated."),
    context: str = typer.Option(
        ",".join(map(str, ModelConfig().context_offsets_frames)), help="Context frames relative to now, e.g. -4,-2,0."
    ),
    balance: bool = typer.Option(TrainConfig.balance, help="Sample every scenario x command pair equally."),
    save_every: int = typer.Option(TrainConfig.save_every, help="Steps between checkpoints (RUN/checkpoints/)."),
    workers: int = typer.Option(TrainConfig.workers, help="DataLoader worker processes reading frames."),
    device: str = typer.Option(TrainConfig.device, help="'auto', 'cpu' or 'cuda'."),
    nproc: int = typer.Option(1, help="Processes on this machine (launched through torchrun, DDP)."),
    nnodes: int = typer.Option(1, help="Machines in the job (each runs this command with its --node-rank)."),
    node_rank: int = typer.Option(0, help="This machine's rank among --nnodes."),
    master_addr: str = typer.Option("127.0.0.1", help="Address of the rank-0 machine (--nnodes > 1)."),
    master_port: int = typer.Option(29500, help="Port of the rank-0 machine (--nnodes > 1)."),
) -> None:
    """Train the driving network on recorded clips: streamed from disk, DDP under torchrun, resumable."""
    if nproc > 1 or nnodes > 1:  # the same command on every rank, started by torchrun
        from e2edrive.train.launch import torchrun

        args = [arg for p in data for arg in ("--data", str(p))] + ["--out", str(out), "--minutes", str(minutes)]
        args += ["--max-steps", str(max_steps), "--batch-size", str(batch_size), "--accumulate", str(accumulate)]
        args += ["--seed", str(seed), "--cameras", cameras, "--context", context, "--save-every", str(save_every)]
        args += ["--workers", str(workers), "--device", device, "--balance" if balance else "--no-balance"]
        raise typer.Exit(torchrun(args, nproc, nnodes, node_rank, master_addr, master_port))
    from dataclasses import replace

    from e2edrive.model.config import CameraInput
    from e2edrive.train.loop import train

    try:
        offsets = tuple(int(x) for x in context.split(","))
    except ValueError as exc:
        raise UserError(f"--context {context!r}: expected comma-separated integers, e.g. -4,-2,0") from exc
    model = replace(
        ModelConfig(), cameras=tuple(CameraInput(c.strip()) for c in cameras.split(",")), context_offsets_frames=offsets
    )
    config = TrainConfig(
        minutes=minutes,
        max_steps=max_steps,
        batch_size=batch_size,
        accumulate=accumulate,
        seed=seed,
        balance=balance,
        save_every=save_every,
        workers=workers,
        device=device,
        model=model,
    )
    summary = train(data, out, config)
    if summary.get("world_size", 1) == 1 or int(os.environ.get("RANK", "0")) == 0:
        console.print_json(json.dumps({k: v for k, v in summary.items() if not k.endswith("_clips")}))


@app.command("export")
def export_cmd(
    run_dir: Path = typer.Argument(..., help="Training run directory."),
    out: Path = typer.Option(..., help="Output .onnx file, or a directory (gets model.onnx, model_int8.onnx)."),
    int8: bool = typer.Option(
        False, "--int8", help="Also write a static INT8 QDQ model calibrated on training frames."
    ),
    data: Path | None = typer.Option(None, help="Clips for INT8 calibration (default: the run's training data)."),
    gate_episodes: int = typer.Option(20, help="Closed-loop episodes for the INT8 vs FP32 gate (0 skips it)."),
    workers: int = typer.Option(EvalConfig.workers, help="Worker processes for the closed-loop gate."),
) -> None:
    """Export a run to ONNX and check parity against torch (fails above the tolerance); optionally INT8."""
    from e2edrive.deploy.export import ExportError, export_int8, export_onnx, int8_gate

    fp32_path = out if out.suffix == ".onnx" else out / "model.onnx"
    try:
        report = export_onnx(run_dir, fp32_path)
    except ExportError as exc:
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
        gate = int8_gate(fp32_path, int8_path, gate_episodes, workers)
        console.print(
            f"closed-loop gate on {gate_episodes} seeds: "
            f"fp32 {gate['fp32']['success_rate']:.2f}, int8 {gate['int8']['success_rate']:.2f}"
        )
        if not gate["passed"]:
            console.print(f"[red]INT8 gate failed: success drops by {gate['drop']:.2f} > {gate['max_drop']}")
            raise typer.Exit(1)


@app.command("eval")
def eval_cmd(
    policy: str = typer.Option(
        EvalConfig.policy,
        help="'expert', 'rules' (the hand-written camera driver), a run directory, or a model.onnx file.",
    ),
    scenario: str = typer.Option(EvalConfig.scenario, help="Scenario name."),
    episodes: int = typer.Option(EvalConfig.episodes, help="Number of episodes."),
    seed: int = typer.Option(EvalConfig.seed, help="First seed; episodes use seed..seed+N-1."),
    workers: int = typer.Option(EvalConfig.workers, help="Worker processes."),
    json_out: Path | None = typer.Option(None, "--json", help="Write metrics JSON here."),
    set_: list[str] | None = _set_option(),
) -> None:
    """Drive N closed-loop episodes and score them."""
    from e2edrive.evaluate.closed_loop import evaluate
    from e2edrive.evaluate.metrics import METRIC_KEYS
    from e2edrive.sim.overrides import parse_overrides

    result = evaluate(EvalConfig(policy, scenario, episodes, seed, workers, parse_overrides(set_)))
    table = Table(title=f"{policy} on {scenario}")
    for key in METRIC_KEYS:
        table.add_row(key, f"{result[key]:.3f}")
    console.print(table)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(json_out, result)


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
    set_: list[str] | None = _set_option(),
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


@app.command("model-info")
def model_info_cmd(
    run_dir: Path = typer.Argument(..., help="Training run directory."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the figures as JSON here."),
) -> None:
    """Parameters, FLOPs per sample (per camera, per part), activation memory at batch 1, input cameras."""
    from e2edrive.model.checkpoint import load_model
    from e2edrive.model.info import model_info
    from e2edrive.report.tables import model_info_table

    model, _ = load_model(run_dir)
    info = model_info(model)
    table = model_info_table(info, f"model {run_dir}")
    console.print(table)
    if json_out:
        atomic_write_json(json_out, info)


@app.command("plan")
def plan_cmd(
    run: Path | None = typer.Option(
        None, help="A training run whose network's FLOPs are measured (default: the default model config)."
    ),
    gpus: int = typer.Option(
        PlanConfig.gpus, help=f"Training GPUs (presets: {', '.join(f'{k}={v}' for k, v in CLUSTER_PRESETS.items())})."
    ),
    cluster: str | None = typer.Option(None, help="A cluster preset instead of --gpus: 10k, 30k or 50k."),
    fleet_cars: int = typer.Option(PlanConfig.fleet_cars, help="Cars recording for training."),
    hours_per_car_per_day: float = typer.Option(
        PlanConfig.hours_per_car_per_day, help="Driving hours per car per day."
    ),
    days: int = typer.Option(PlanConfig.days, help="Days of fleet recording."),
    cameras: int = typer.Option(PlanConfig.cameras, help="Cameras per instant."),
    fps: float = typer.Option(PlanConfig.fps, help="Instants per second for training and in the car."),
    epochs: float = typer.Option(PlanConfig.epochs, help="Passes over the data."),
    mfu: float = typer.Option(PlanConfig.mfu, help="Model FLOPs utilisation."),
    gpu_peak_tflops: float = typer.Option(PlanConfig.gpu_peak_tflops, help="GPU dense bf16 peak, TFLOP/s."),
    gpu_power_w: float = typer.Option(PlanConfig.gpu_power_w, help="GPU power, W."),
    gpu_price_usd: float = typer.Option(PlanConfig.gpu_price_usd, help="Price per GPU, USD."),
    car_tops: float = typer.Option(PlanConfig.car_tops, help="In-car computer, TOPS."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the plan as JSON here."),
) -> None:
    """Training GPU-hours, days, energy and cost for a fleet's video, and the in-car compute, with sources."""
    from e2edrive.model.config import ModelConfig as _ModelConfig
    from e2edrive.model.info import model_info
    from e2edrive.model.net import DrivingNet
    from e2edrive.train.plan import plan

    if cluster is not None:
        if cluster not in CLUSTER_PRESETS:
            raise UserError(f"--cluster {cluster!r}: expected one of {list(CLUSTER_PRESETS)}")
        gpus = CLUSTER_PRESETS[cluster]
    if run is not None:
        from e2edrive.model.checkpoint import load_model

        model, _ = load_model(run)
    else:
        model = DrivingNet(_ModelConfig())
    info = model_info(model)
    per_camera = sum(info["flops_per_sample_by_camera"].values()) / len(info["flops_per_sample_by_camera"])
    config = PlanConfig(
        fleet_cars=fleet_cars,
        hours_per_car_per_day=hours_per_car_per_day,
        days=days,
        cameras=cameras,
        fps=fps,
        epochs=epochs,
        gpus=gpus,
        gpu_peak_tflops=gpu_peak_tflops,
        mfu=mfu,
        gpu_power_w=gpu_power_w,
        gpu_price_usd=gpu_price_usd,
        car_tops=car_tops,
    )
    result = plan(config, per_camera, info["flops_per_sample_head"])
    result["model"] = str(run) if run else "default model config"
    from e2edrive.report.tables import plan_tables

    for table in plan_tables(result):
        console.print(table)
    if json_out:
        atomic_write_json(json_out, result)


@app.command("contact-sheet")
def contact_sheet_cmd(
    scenario: list[str] | None = typer.Option(None, help="Scenario(s); default: every registered one."),
    out: Path = typer.Option(Path("docs"), help="Output directory (contact_sheet_<scenario>[_<rig>].png)."),
    rig: str = typer.Option("front", help="Camera rig: 'front', or 'full' (one column per camera)."),
) -> None:
    """Save a PNG per scenario of what the rig sees during an expert drive."""
    from e2edrive.report.contact_sheet import contact_sheet
    from e2edrive.sim.rig import get_rig
    from e2edrive.sim.scenarios import SCENARIOS, get_scenario

    cameras = get_rig(rig)
    names = scenario or sorted(SCENARIOS)
    for name in names:
        get_scenario(name)
    suffix = "" if rig == "front" else f"_{rig}"
    for name in names:
        path = contact_sheet(name, out / f"contact_sheet_{name}{suffix}.png", cameras=cameras)
        console.print(f"wrote {path}")


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


def _missing_extra(exc: ModuleNotFoundError) -> str | None:
    """'needs the X extra' for a module an install extra provides; None for any other missing module."""
    root = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(root)
    if extra is None:
        return None
    return f"this command needs {root}, from the '{extra}' extra: pip install 'e2edrive[{extra}]'"


def _fail(message: str, hint: str | None = None) -> None:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    err.print(f"error: {message}", markup=False)
    if hint:
        err.print(hint, markup=False)


def main(argv: list[str] | None = None) -> None:
    """The console entry point: user errors → one line on stderr and exit code 2, bugs → traceback, exit 1."""
    from typer._click.exceptions import ClickException

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("E2EDRIVE_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]
    command = typer.main.get_command(app)
    try:
        code = command.main(args, prog_name="e2edrive", standalone_mode=False)
    except ClickException as exc:  # bad option, missing argument, wrong type: typer's own usage errors
        ctx = getattr(exc, "ctx", None)
        hint = f"Try '{ctx.command_path} --help'." if ctx is not None else None
        _fail(exc.format_message(), hint)
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        _fail("aborted")
        code = 130
    except (UserError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as exc:
        if debug:
            traceback.print_exc()
        _fail(str(exc))
        code = 2
    except ModuleNotFoundError as exc:
        hint = _missing_extra(exc)
        if hint is None or debug:
            raise
        _fail(hint)
        code = 2
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
