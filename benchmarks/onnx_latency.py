"""Batch-1 latency on 1 thread: eager torch vs ONNX Runtime FP32 (p50 / p99, ms)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from e2edrive.deploy.export import export_onnx, parity_inputs
from e2edrive.deploy.runtime.onnx_policy import make_session
from e2edrive.model import io
from e2edrive.model.net import DrivingNet
from e2edrive.train.checkpoint import save_checkpoint

RUNS = 300


def percentiles(times_s: list[float]) -> tuple[float, float]:
    ms = np.array(times_s) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


if __name__ == "__main__":
    torch.set_num_threads(1)
    inputs = parity_inputs(1)
    with tempfile.TemporaryDirectory() as d:
        save_checkpoint(Path(d), DrivingNet().eval(), {})
        export_onnx(Path(d), Path(d) / "model.onnx")
        session = make_session(Path(d) / "model.onnx", threads=1)
        model = DrivingNet().eval()
        args = [torch.from_numpy(inputs[k]) for k in (io.INPUT_FRAMES, io.INPUT_SPEED, io.INPUT_COMMAND)]
        torch_t, ort_t = [], []
        with torch.no_grad():
            for i in range(RUNS + 10):
                t = time.perf_counter()
                model(*args)
                if i >= 10:
                    torch_t.append(time.perf_counter() - t)
        for i in range(RUNS + 10):
            t = time.perf_counter()
            session.run(None, inputs)
            if i >= 10:
                ort_t.append(time.perf_counter() - t)
    tp50, tp99 = percentiles(torch_t)
    op50, op99 = percentiles(ort_t)
    print(f"eager torch: p50 {tp50:6.2f} ms  p99 {tp99:6.2f} ms")
    print(f"ORT fp32:    p50 {op50:6.2f} ms  p99 {op99:6.2f} ms")
    print(f"ORT speed-up (p50): {tp50 / op50:5.2f}x")
