"""`e2edrive model-info | plan | contact-sheet`: what a model costs, what training it would cost, what the rig sees."""

from __future__ import annotations

from pathlib import Path

import typer

from e2edrive.cli import app, console
from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json
from e2edrive.train.plan import CLUSTER_PRESETS, PlanConfig


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
