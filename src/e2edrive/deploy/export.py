"""torch → ONNX export with a parity check (a build-time tool; the car never imports this)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from e2edrive.model import io
from e2edrive.train.checkpoint import atomic_write_text, load_model

PARITY_TOLERANCE = 1e-3
"""Max abs difference (metres / rad / m/s²) allowed between torch and ONNX Runtime outputs."""


class ParityError(RuntimeError):
    pass


def parity_inputs(batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        io.INPUT_FRAMES: rng.integers(0, 256, io.frames_shape(batch), dtype=np.uint8),
        io.INPUT_SPEED: rng.uniform(0, 35, (batch, 1)).astype(np.float32),
        io.INPUT_COMMAND: np.eye(io.N_COMMANDS, dtype=np.float32)[rng.integers(0, io.N_COMMANDS, batch)],
    }


def export_onnx(run_dir: Path, out_path: Path, tolerance: float = PARITY_TOLERANCE) -> dict:
    """Export the run's network to out_path; raises ParityError when ORT and torch disagree."""
    from e2edrive.deploy.runtime.onnx_policy import make_session

    model, config = load_model(run_dir)
    model = model.float().eval()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    example = {k: torch.from_numpy(v) for k, v in parity_inputs(1).items()}
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    torch.onnx.export(
        model,
        (example[io.INPUT_FRAMES], example[io.INPUT_SPEED], example[io.INPUT_COMMAND]),
        str(tmp),
        input_names=[io.INPUT_FRAMES, io.INPUT_SPEED, io.INPUT_COMMAND],
        output_names=[io.OUTPUT_PLAN],
        dynamic_axes={
            name: {0: "batch"} for name in (io.INPUT_FRAMES, io.INPUT_SPEED, io.INPUT_COMMAND, io.OUTPUT_PLAN)
        },
        opset_version=io.ONNX_OPSET,
        dynamo=False,
    )
    tmp.replace(out_path)
    inputs = parity_inputs(8, seed=1)
    session = make_session(out_path)
    (ort_plan,) = session.run([io.OUTPUT_PLAN], inputs)
    with torch.no_grad():
        torch_plan = model(
            *(torch.from_numpy(inputs[k]) for k in (io.INPUT_FRAMES, io.INPUT_SPEED, io.INPUT_COMMAND))
        ).numpy()
    max_abs = float(np.max(np.abs(ort_plan - torch_plan)))
    report = {"onnx": str(out_path), "max_abs_error": max_abs, "tolerance": tolerance, "opset": io.ONNX_OPSET}
    atomic_write_text(
        out_path.with_suffix(".json"), json.dumps({**report, "run": str(run_dir), "config": config}, indent=2)
    )
    if not np.isfinite(max_abs) or max_abs > tolerance:
        out_path.unlink(missing_ok=True)
        raise ParityError(f"ONNX parity failed: max |torch - ort| = {max_abs:.3g} > {tolerance:g}")
    return report
