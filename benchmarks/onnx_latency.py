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

from e2edrive.deploy.export import export_onnx, parity_inputs
from e2edrive.deploy.quantize import quantize_int8
from e2edrive.deploy.runtime.onnx_policy import make_session
from e2edrive.model import io
from e2edrive.model.net import DrivingNet
from e2edrive.train.checkpoint import load_model, save_checkpoint

RUNS = 300
WARMUP = 20


def percentiles(fn) -> tuple[float, float]:
    times = []
    for i in range(RUNS + WARMUP):
        t = time.perf_counter()
        fn()
        if i >= WARMUP:
            times.append(time.perf_counter() - t)
    ms = np.array(times) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


if __name__ == "__main__":
    torch.set_num_threads(1)
    inputs = parity_inputs(1)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        if len(sys.argv) > 1:
            run = Path(sys.argv[1])
            model, config = load_model(run)
            from e2edrive.deploy.quantize import calibration_samples

            samples = calibration_samples(Path(config["data"][0]))
        else:
            torch.manual_seed(0)
            run = d
            model = DrivingNet().eval()
            save_checkpoint(run, model, {})
            samples = [parity_inputs(1, seed=s) for s in range(32)]
        export_onnx(run, d / "model.onnx")
        quantize_int8(d / "model.onnx", d / "model_int8.onnx", samples)
        fp32 = make_session(d / "model.onnx", threads=1)
        int8 = make_session(d / "model_int8.onnx", threads=1)
        args = [torch.from_numpy(inputs[k]) for k in (io.INPUT_FRAMES, io.INPUT_SPEED, io.INPUT_COMMAND)]
        with torch.no_grad():
            t50, t99 = percentiles(lambda: model(*args))
        f50, f99 = percentiles(lambda: fp32.run(None, inputs))
        q50, q99 = percentiles(lambda: int8.run(None, inputs))
    print(f"eager torch: p50 {t50:6.2f} ms  p99 {t99:6.2f} ms")
    print(f"ORT fp32:    p50 {f50:6.2f} ms  p99 {f99:6.2f} ms")
    print(f"ORT int8:    p50 {q50:6.2f} ms  p99 {q99:6.2f} ms")
    print(f"ORT fp32 vs torch (p50): {t50 / f50:5.2f}x")
    print(f"ORT int8 vs fp32 (p50):  {f50 / q50:5.2f}x")
