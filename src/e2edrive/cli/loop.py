"""`e2edrive collect | train | export | eval`: the loop, stage by stage."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.table import Column, Table

from e2edrive.cli import app, console, set_option
from e2edrive.core.control import ControllerConfig
from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json
from e2edrive.evaluate.config import EvalConfig
from e2edrive.fleet.config import CollectConfig
from e2edrive.model.config import ModelConfig
from e2edrive.train.config import TrainConfig


def _shares(pairs: list[str] | None, option: str = "--share") -> dict[str, float]:
    out = {}
    for pair in pairs or []:
        name, sep, weight = pair.partition("=")
        try:
            out[name] = float(weight)
        except ValueError:
            sep = ""
        if not sep:
            raise UserError(f"{option} expects NAME=WEIGHT (e.g. intersection=2), got {pair!r}")
    return out


@app.command("collect")
def collect_cmd(
    out: Path = typer.Option(..., help="Output directory of clips."),
    scenario: str = typer.Option(CollectConfig.scenario, help="Scenario name, a comma list, or 'all'."),
    episodes: int = typer.Option(CollectConfig.episodes, help="Number of episodes (one clip each)."),
    workers: int = typer.Option(CollectConfig.workers, help="Worker processes."),
    seed: int = typer.Option(CollectConfig.seed, help="First episode seed; episodes use seed..seed+N-1."),
    set_: list[str] | None = set_option(),
    policy: str = typer.Option(
        CollectConfig.policy, help="Who drives: 'expert', 'rules', or a run dir / .onnx (the expert then labels)."
    ),
    expert_share: float = typer.Option(
        CollectConfig.expert_share, help="DAgger's beta: chance the expert drives each 1-s segment of a learner's."
    ),
    engine: str = typer.Option("local", help="'local' worker processes, or 'ray' (pip install 'e2edrive[ray]')."),
    perturb_probability: float = typer.Option(
        CollectConfig.perturb.start_probability,
        help="Chance per step that a short steering/acceleration push starts (expert only; 0 = clean).",
    ),
    rig: str = typer.Option("front", help="Camera rig: 'front' (the model's input) or 'full' (5 cameras)."),
    share: list[str] | None = typer.Option(
        None, help="NAME=WEIGHT: a scenario's share of the episodes (repeatable; default 1 each)."
    ),
    vary: bool = typer.Option(
        CollectConfig.vary, help="Draw each episode's traffic from the scenario's variation ranges (--no-vary: fixed)."
    ),
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
        expert_share=expert_share,
        shares=_shares(share),
        vary=vary,
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
    fusion: str = typer.Option(
        ModelConfig().fusion, help="Where the context frames meet: 'late' (after the CNN) or 'early' (its input)."
    ),
    balance: bool = typer.Option(
        TrainConfig.balance, help="Sample every scenario equally, lifting its rarer commands and bends."
    ),
    scenario_share: list[str] | None = typer.Option(
        None, help="NAME=WEIGHT: with --balance, a scenario's share of every batch (repeatable; default 1 each)."
    ),
    init: Path | None = typer.Option(None, help="Start from this run's weights (fine-tuning; its network config)."),
    accel_from: str | None = typer.Option(
        None,
        help="How the trained network sets its pace when it drives (recorded in the run and its export): "
        "'guarded' (the chosen hypothesis's, braking harder where the controls head does), 'trajectory' or "
        "'controls'. Default: the --init run's, else 'guarded'.",
    ),
    save_every: int = typer.Option(TrainConfig.save_every, help="Steps between checkpoints (RUN/checkpoints/)."),
    workers: int = typer.Option(TrainConfig.workers, help="DataLoader worker processes reading frames."),
    device: str = typer.Option(TrainConfig.device, help="'auto', 'cpu' or 'cuda'."),
    bf16: bool = typer.Option(
        TrainConfig.bf16, help="bf16 autocast (2-3x fp32 on CPU; on an H200 fp32 trained this network faster)."
    ),
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
        args += ["--fusion", fusion]
        args += ["--workers", str(workers), "--device", device, "--balance" if balance else "--no-balance"]
        args += ["--bf16" if bf16 else "--no-bf16"]
        args += ["--init", str(init)] if init is not None else []
        args += ["--accel-from", accel_from] if accel_from is not None else []
        args += [arg for pair in scenario_share or [] for arg in ("--scenario-share", pair)]
        raise typer.Exit(torchrun(args, nproc, nnodes, node_rank, master_addr, master_port))
    from dataclasses import replace

    from e2edrive.model.config import CameraInput
    from e2edrive.train.loop import train

    try:
        offsets = tuple(int(x) for x in context.split(","))
    except ValueError as exc:
        raise UserError(f"--context {context!r}: expected comma-separated integers, e.g. -4,-2,0") from exc
    model = replace(
        ModelConfig(),
        cameras=tuple(CameraInput(c.strip()) for c in cameras.split(",")),
        context_offsets_frames=offsets,
        fusion=fusion,
    )
    config = TrainConfig(
        minutes=minutes,
        max_steps=max_steps,
        batch_size=batch_size,
        accumulate=accumulate,
        seed=seed,
        balance=balance,
        scenario_shares=_shares(scenario_share, "--scenario-share"),
        save_every=save_every,
        workers=workers,
        device=device,
        bf16=bf16,
        model=model,
        init=None if init is None else str(init),
        controller=None if accel_from is None else ControllerConfig(accel_from=accel_from),
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
    gate_scenario: str = typer.Option(
        "highway", help="Scenario(s) of the gate: a name, a comma list or 'all' (then it gates the mean success)."
    ),
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
        gate = int8_gate(fp32_path, int8_path, gate_episodes, workers, gate_scenario)
        for name, metrics in gate["fp32"].get("scenarios", {}).items():
            console.print(
                f"  {name}: fp32 {metrics['success_rate']:.2f}, "
                f"int8 {gate['int8']['scenarios'][name]['success_rate']:.2f}"
            )
        paired = gate["paired"]
        console.print(
            f"closed-loop gate on {gate_episodes} seeds of {gate_scenario}: "
            f"fp32 {gate['fp32']['success_rate']:.2f}, int8 {gate['int8']['success_rate']:.2f} "
            f"(only fp32 succeeded in {paired['only_a']} episodes, only int8 in {paired['only_b']}; "
            f"allowed drop {gate['allowed_drop']:.3f})"
        )
        if not gate["passed"]:
            console.print(
                f"[red]INT8 gate failed: success drops by {gate['drop']:.3f} > {gate['allowed_drop']:.3f} "
                f"({gate['max_drop']} + {gate['z']:g} standard errors of the paired difference)"
            )
            raise typer.Exit(1)


@app.command("eval")
def eval_cmd(
    policy: str = typer.Option(
        EvalConfig.policy,
        help="'expert', 'expert-no-routes' (the expert not told which way the other cars will turn), 'rules' (the "
        "hand-written camera driver), 'oracle' (the expert's plan through the learned "
        "driver's controller), a run directory, a model.onnx file, or 'oracle-pick:RUN' (RUN's hypotheses, the one "
        "nearest the expert's plan driving: the ceiling of its confidences).",
    ),
    scenario: str = typer.Option(EvalConfig.scenario, help="Scenario name, a comma list, or 'all'."),
    episodes: int = typer.Option(EvalConfig.episodes, help="Number of episodes."),
    seed: int = typer.Option(EvalConfig.seed, help="First seed; episodes use seed..seed+N-1."),
    workers: int = typer.Option(EvalConfig.workers, help="Worker processes."),
    json_out: Path | None = typer.Option(None, "--json", help="Write metrics JSON here."),
    set_: list[str] | None = set_option(),
    accel_from: str | None = typer.Option(
        EvalConfig.accel_from,
        help="How a learned driver sets its pace: 'trajectory' (the chosen hypothesis), 'controls' (its controls "
        "head) or 'guarded' (the first, braking harder where the second does). Default: as its run records.",
    ),
    max_lateral_accel: float | None = typer.Option(
        EvalConfig.max_lateral_accel_mps2,
        help="A learned driver's turn speed limit: lateral acceleration (m/s²) on its planned path; 0: none. "
        "Default: as its run records.",
    ),
) -> None:
    """Drive N closed-loop episodes and score them."""
    from e2edrive.evaluate.closed_loop import evaluate
    from e2edrive.evaluate.metrics import METRIC_KEYS
    from e2edrive.sim.overrides import parse_overrides

    result = evaluate(
        EvalConfig(policy, scenario, episodes, seed, workers, parse_overrides(set_), accel_from, max_lateral_accel)
    )
    per = result.get("scenarios", {scenario: result})
    columns = [*per, "mean"] if "mean" in result else list(per)
    table = Table(Column("metric", no_wrap=True), *columns, title=f"{policy} on {scenario}")
    for key in METRIC_KEYS:
        values = [per[c][key] if c in per else result["mean"][key] for c in columns]
        table.add_row(key, *(f"{v:.3f}" for v in values))
    console.print(table)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(json_out, result)
