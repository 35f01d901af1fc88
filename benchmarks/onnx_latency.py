"""Batch-1 latency on 1 thread: eager torch vs ONNX Runtime FP32 vs ORT static INT8 (p50 / p99, ms).

    python benchmarks/onnx_latency.py [RUN_DIR]

With a trained RUN_DIR the INT8 model is calibrated on its training clips; without one an untrained
network is calibrated on synthetic inputs (the timing is the same, the accuracy is not measured).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from e2edrive.core import io
from e2edrive.deploy.export import calibration_samples, export_onnx, parity_inputs
from e2edrive.deploy.quantize import quantize_int8
from e2edrive.deploy.runtime.onnx_policy import make_session
from e2edrive.model.checkpoint import load_model, save_checkpoint
from e2edrive.model.net import DrivingNet

RUNS = 500
WARMUP = 20


def interleaved_percentiles(fns: dict) -> dict[str, tuple[float, float]]:
    """Time each function once per round, round after round, so drift in clock speed hits all alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for i in range(RUNS + WARMUP):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            if i >= WARMUP:
                times[name].append(time.perf_counter() - t)
    out = {}
    for name, ts in times.items():
        ms = np.array(ts) * 1e3
        out[name] = (float(np.percentile(ms, 50)), float(np.percentile(ms, 99)))
    return out


if __name__ == "__main__":
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        if len(sys.argv) > 1:
            run = Path(sys.argv[1])
            model, config = load_model(run)
            samples = calibration_samples([Path(p) for p in config["data"]], model.config)
        else:
            torch.manual_seed(0)
            run = d
            model = DrivingNet().eval()
            # Untrained batch norms are identical (zero mean, unit variance), so the exporter folds them into
            # identical conv biases and deduplicates them; one bias shared by a float and an INT8 conv then
            # blocks ORT's fast float-conv layout. Trained weights never share: give the norms distinct stats.
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
            save_checkpoint(run, model, {})
            samples = [parity_inputs(1, seed=s) for s in range(32)]
        inputs = parity_inputs(1, config=model.config)
        export_onnx(run, d / "model.onnx")
        quantize_int8(d / "model.onnx", d / "model_int8.onnx", samples)
        fp32 = make_session(d / "model.onnx", threads=1)
        int8 = make_session(d / "model_int8.onnx", threads=1)
        frames = [torch.from_numpy(inputs[io.frames_input(c)]) for c in model.config.camera_names]
        args = (frames, torch.from_numpy(inputs[io.INPUT_SPEED]), torch.from_numpy(inputs[io.INPUT_COMMAND]))
        with torch.no_grad():
            r = interleaved_percentiles(
                {
                    "torch": lambda: model(*args),
                    "fp32": lambda: fp32.run(None, inputs),
                    "int8": lambda: int8.run(None, inputs),
                }
            )
        (t50, t99), (f50, f99), (q50, q99) = r["torch"], r["fp32"], r["int8"]
    print(f"eager torch: p50 {t50:6.2f} ms  p99 {t99:6.2f} ms")
    print(f"ORT fp32:    p50 {f50:6.2f} ms  p99 {f99:6.2f} ms")
    print(f"ORT int8:    p50 {q50:6.2f} ms  p99 {q99:6.2f} ms")
    print(f"ORT fp32 vs torch (p50): {t50 / f50:5.2f}x")
    print(f"ORT int8 vs fp32 (p50):  {f50 / q50:5.2f}x")
