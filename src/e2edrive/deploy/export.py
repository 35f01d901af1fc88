"""torch → ONNX export with a parity check, INT8 quantization and its closed-loop gate (a build-time tool; the
car never imports this). torch is imported where it is used, so the command line loads without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from e2edrive.core import io
from e2edrive.core.files import atomic_path, atomic_write_json

PARITY_TOLERANCE = 1e-3
"""Max abs difference (metres / rad / m/s²) allowed between torch and ONNX Runtime outputs."""


class ExportError(RuntimeError):
    """The exported graph breaks the ONNX contract (checker, static shapes, empty batch)."""


class ParityError(ExportError):
    """ONNX Runtime and torch disagree beyond the tolerance."""


def parity_inputs(batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        io.INPUT_FRAMES: rng.integers(0, 256, io.frames_shape(batch), dtype=np.uint8),
        io.INPUT_SPEED: rng.uniform(0, 35, (batch, 1)).astype(np.float32),
        io.INPUT_COMMAND: np.eye(io.N_COMMANDS, dtype=np.float32)[rng.integers(0, io.N_COMMANDS, batch)],
    }


INPUT_SHAPES = {
    io.INPUT_FRAMES: io.frames_shape(1)[1:],
    io.INPUT_SPEED: (1,),
    io.INPUT_COMMAND: (io.N_COMMANDS,),
}
OUTPUT_SHAPES = {io.OUTPUT_PLAN: (io.PLAN_SIZE,)}
"""Every dimension but the batch is static in the exported graph."""


def _static_shapes(path: Path) -> None:
    """Pin every non-batch dimension of the graph's inputs and outputs to its size (torch may leave symbols)."""
    import onnx

    model = onnx.load(str(path))
    for values, shapes in ((model.graph.input, INPUT_SHAPES), (model.graph.output, OUTPUT_SHAPES)):
        for value in values:
            dims = value.type.tensor_type.shape.dim
            for dim, size in zip(dims[1:], shapes[value.name]):
                dim.dim_value = size
    onnx.save(model, str(path))


def check_onnx(path: Path) -> dict:
    """onnx's full checker (with shape inference), static shapes but the batch, and an empty batch runs (an
    empty plan out, not a failed Reshape). Returns {name: shape}; raises ExportError on a violation."""
    import onnx

    from e2edrive.deploy.runtime.onnx_policy import make_session

    model = onnx.load(str(path))
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ExportError(f"{path}: onnx checker: {exc}") from exc
    shapes = {}
    for value in [*model.graph.input, *model.graph.output]:
        dims = [d.dim_value or d.dim_param for d in value.type.tensor_type.shape.dim]
        expected = (INPUT_SHAPES | OUTPUT_SHAPES).get(value.name)
        if expected is None or tuple(dims[1:]) != expected:
            raise ExportError(f"{path}: {value.name} has shape {dims}, expected (batch, {expected})")
        shapes[value.name] = dims
    (plan,) = make_session(path).run([io.OUTPUT_PLAN], {k: v[:0] for k, v in parity_inputs(1).items()})
    if plan.shape != (0, io.PLAN_SIZE):
        raise ExportError(f"{path}: an empty batch gives a plan of shape {plan.shape}, expected (0, {io.PLAN_SIZE})")
    return shapes


def export_onnx(run_dir: Path, out_path: Path, tolerance: float = PARITY_TOLERANCE) -> dict:
    """Export the run's network to out_path; raises ParityError when ORT and torch disagree, ExportError when the
    graph fails onnx's full checker or its static-shape contract. Nothing is written at out_path on failure."""
    import torch

    from e2edrive.deploy.runtime.onnx_policy import make_session
    from e2edrive.model.checkpoint import load_model

    model, config = load_model(run_dir)
    model = model.float().eval()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    example = {k: torch.from_numpy(v) for k, v in parity_inputs(1).items()}
    inputs = parity_inputs(8, seed=1)
    names = (io.INPUT_FRAMES, io.INPUT_SPEED, io.INPUT_COMMAND)
    with atomic_path(out_path) as tmp:
        torch.onnx.export(
            model,
            tuple(example[k] for k in names),
            str(tmp),
            input_names=list(names),
            output_names=[io.OUTPUT_PLAN],
            dynamic_axes={name: {0: "batch"} for name in (*names, io.OUTPUT_PLAN)},
            opset_version=io.ONNX_OPSET,
            dynamo=False,
        )
        _static_shapes(tmp)
        shapes = check_onnx(tmp)
        (ort_plan,) = make_session(tmp).run([io.OUTPUT_PLAN], inputs)
        with torch.no_grad():
            torch_plan = model(*(torch.from_numpy(inputs[k]) for k in names)).numpy()
        max_abs = float(np.max(np.abs(ort_plan - torch_plan)))
        report = {"onnx": str(out_path), "max_abs_error": max_abs, "tolerance": tolerance, "opset": io.ONNX_OPSET}
        report["shapes"] = shapes
        if not np.isfinite(max_abs) or max_abs > tolerance:
            raise ParityError(f"ONNX parity failed: max |torch - ort| = {max_abs:.3g} > {tolerance:g}")
    atomic_write_json(out_path.with_suffix(".json"), {**report, "run": str(run_dir), "config": config})
    return report


INT8_EVAL_SAMPLES = 256
CALIBRATION_SAMPLES = 256
CALIBRATION_CLIPS = 16
"""Clips decoded for calibration: enough variety, without decoding the whole training set."""


def calibration_samples(
    data_dir: Path, count: int = CALIBRATION_SAMPLES, seed: int = 0, split: str = "train"
) -> list[dict[str, np.ndarray]]:
    """Batch-1 model inputs drawn (seeded) from the first CALIBRATION_CLIPS clips of a split."""
    import torch

    from e2edrive.data.dataset import ClipDataset, DatasetConfig

    data = ClipDataset(data_dir, DatasetConfig(split, max_clips=CALIBRATION_CLIPS))
    ids = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:count]
    out = []
    for i in ids:
        b = data.batch(i[None])
        out.append(
            {
                io.INPUT_FRAMES: b["frames"].numpy(),
                io.INPUT_SPEED: b["speed_mps"].numpy().astype(np.float32),
                io.INPUT_COMMAND: b["command"].numpy().astype(np.float32),
            }
        )
    return out


def export_int8(run_dir: Path, fp32_path: Path, int8_path: Path, data_dir: Path | None = None) -> dict:
    """Quantize the FP32 ONNX to static INT8 QDQ, calibrated on training frames, and report its error.

    The error is measured on other frames (the validation split when there is one): trajectory error in
    metres and controls error, INT8 vs FP32 ONNX.
    """
    from e2edrive.deploy.quantize import quantize_int8
    from e2edrive.deploy.runtime.onnx_policy import make_session
    from e2edrive.model.checkpoint import load_model

    _, config = load_model(run_dir)
    data_dir = Path(data_dir or config["data"][0])
    quantize_int8(fp32_path, int8_path, calibration_samples(data_dir))
    try:
        held_out = calibration_samples(data_dir, INT8_EVAL_SAMPLES, seed=1, split="val")
    except ValueError:  # no validation clips: other frames of the training clips
        held_out = calibration_samples(data_dir, INT8_EVAL_SAMPLES, seed=1)
    fp32, int8 = make_session(fp32_path), make_session(int8_path)
    a = np.concatenate([fp32.run([io.OUTPUT_PLAN], x)[0] for x in held_out])
    b = np.concatenate([int8.run([io.OUTPUT_PLAN], x)[0] for x in held_out])
    traj_err = np.abs(a[:, io.TRAJECTORY] - b[:, io.TRAJECTORY])
    ctrl_err = np.abs(a[:, io.CONTROL] - b[:, io.CONTROL])
    report = {
        "int8": str(int8_path),
        "calibration_data": str(data_dir),
        "trajectory_abs_error_m": {"mean": float(traj_err.mean()), "max": float(traj_err.max())},
        "final_waypoint_error_m": float(
            np.linalg.norm(
                a[:, io.TRAJECTORY.stop - 2 : io.TRAJECTORY.stop] - b[:, io.TRAJECTORY.stop - 2 : io.TRAJECTORY.stop],
                axis=1,
            ).mean()
        ),
        "steer_abs_error_rad": {"mean": float(ctrl_err[:, 0].mean()), "max": float(ctrl_err[:, 0].max())},
        "accel_abs_error_mps2": {"mean": float(ctrl_err[:, 1].mean()), "max": float(ctrl_err[:, 1].max())},
        "samples": len(held_out),
    }
    atomic_write_json(Path(int8_path).with_suffix(".json"), report)
    return report


INT8_GATE_EPISODES = 20
"""Closed-loop episodes of the INT8 gate (0 skips it)."""
INT8_GATE_SEED = 200_000
"""First held-out seed of the closed-loop INT8 gate (far from training and evaluation seeds)."""
INT8_GATE_MAX_DROP = 0.02
"""Closed-loop gate: INT8 success may trail FP32 by at most 2 points on the same held-out seeds."""
GATE_METRICS = ("success_rate", "collisions_per_100km", "distance_m")


def int8_gate(fp32_path: Path, int8_path: Path, episodes: int, workers: int = 2, scenario: str = "highway") -> dict:
    """Drive FP32 and INT8 on the same held-out seeds; writes <int8>.gate.json. passed: INT8 success trails
    FP32 by at most INT8_GATE_MAX_DROP."""
    from e2edrive.evaluate.closed_loop import EvalConfig, evaluate

    results = {
        name: evaluate(
            EvalConfig(str(path), scenario, episodes=episodes, seed=INT8_GATE_SEED, workers=workers), label=name
        )
        for name, path in (("fp32", fp32_path), ("int8", int8_path))
    }
    gate: dict = {k: {m: v[m] for m in GATE_METRICS} for k, v in results.items()}
    drop = gate["fp32"]["success_rate"] - gate["int8"]["success_rate"]
    gate |= {"episodes": episodes, "max_drop": INT8_GATE_MAX_DROP, "drop": drop}
    gate["passed"] = drop <= INT8_GATE_MAX_DROP + 1e-9
    atomic_write_json(Path(int8_path).with_suffix(".gate.json"), gate)
    return gate
