"""Training throughput (samples/s) of the driving network, fp32 vs bf16 autocast + channels_last, on the CPU here
or on a GPU (`--device cuda`), at one or more batch sizes and rigs. It also prints the training FLOP rate
(BACKWARD_FACTOR x the forward FLOPs per sample, torch's FLOP counter via `model/info.py`) and, on a GPU, the
model FLOPs utilisation against `--peak-tflops`: the measured counterpart of the compute planner's `mfu` assumption
(`train/plan.py`). Synthetic batches: the model's step alone, no decoding (benchmarks/loader_speed.py has the
loader).

    python benchmarks/train_throughput.py                       # CPU, batch 64, front camera
    python benchmarks/train_throughput.py --device cuda --batch 64 --batch 1024 --rig front --rig full [--compile]
"""

from __future__ import annotations

import argparse
import time

import torch

from e2edrive.core import io
from e2edrive.model.config import CameraInput, ModelConfig
from e2edrive.model.info import model_info
from e2edrive.model.net import DrivingNet, plan_loss
from e2edrive.sim.rig import RIGS, get_rig
from e2edrive.train.plan import BACKWARD_FACTOR, PlanConfig


def model_config(rig: str) -> ModelConfig:
    """The network reading every camera of a simulator rig (`sim/rig.py`), each at the network's frame size."""
    return ModelConfig(cameras=tuple(CameraInput(camera.name) for camera in get_rig(rig)))


def batch_of(config: ModelConfig, batch: int, device: str) -> dict:
    g = torch.Generator().manual_seed(0)
    shape = io.frames_shape(batch, config.context_frames)
    aux = torch.randn(batch, len(io.AUX_NAMES), generator=g)
    aux[::2, 0:2] = float("nan")  # half the samples have no lead car, as in the clips
    out = {
        "frames": [torch.randint(0, 256, shape, dtype=torch.uint8, generator=g) for _ in config.cameras],
        "speed_mps": torch.rand(batch, 1, generator=g) * 30,
        "command": torch.nn.functional.one_hot(torch.zeros(batch, dtype=torch.long), io.N_COMMANDS).float(),
        "trajectory": torch.randn(batch, io.TRAJECTORY_POINTS, 2, generator=g),
        "controls": torch.randn(batch, 2, generator=g),
        "aux": aux,
    }
    return {k: [f.to(device) for f in v] if k == "frames" else v.to(device) for k, v in out.items()}


def samples_per_s(
    config: ModelConfig, batch_size: int, bf16: bool, device: str, steps: int, warmup: int, compile: bool = False
) -> float:
    torch.manual_seed(0)
    model = DrivingNet(config).to(device, memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    model = torch.compile(model) if compile else model
    batch = batch_of(config, batch_size, device)
    device_type = torch.device(device).type
    for i in range(steps + warmup):
        if i == warmup:
            if device_type == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            plan = model(batch["frames"], batch["speed_mps"], batch["command"])
        loss, _ = plan_loss(plan.float(), batch, config.plan)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device_type == "cuda":
        torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (cuda when there is one)")
    parser.add_argument("--batch", type=int, action="append", help="batch size (repeatable; default 64)")
    parser.add_argument("--rig", action="append", choices=sorted(RIGS), help="camera rig (repeatable; default front)")
    parser.add_argument("--steps", type=int, default=15, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (more with --compile)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the network (fuses its small ops)")
    parser.add_argument(
        "--peak-tflops", type=float, default=PlanConfig.gpu_peak_tflops, help="the GPU's dense bf16 peak, for MFU"
    )
    args = parser.parse_args()
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    name = torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else "CPU"
    print(f"device: {device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for rig in args.rig or ["front"]:
        config = model_config(rig)
        flops = model_info(DrivingNet(config))["flops_per_sample"]
        print(f"rig {rig} ({len(config.cameras)} cameras): {flops / 1e9:.3f} GFLOP forward per sample")
        for batch in args.batch or [64]:
            fp32, bf16 = (
                samples_per_s(config, batch, bf16, device, args.steps, args.warmup, args.compile)
                for bf16 in (False, True)
            )
            for label, rate in (("fp32", fp32), ("bf16 + channels_last", bf16)):
                tflops = rate * flops * BACKWARD_FACTOR / 1e12
                mfu = f", MFU {tflops / args.peak_tflops:6.2%}" if device.startswith("cuda") else ""
                print(f"  batch {batch:5d} train {label:21s} {rate:10.1f} samples/s, {tflops:8.3f} TFLOP/s{mfu}")
            print(f"  batch {batch:5d} bf16 speed-up: {bf16 / fp32:.2f}x")


if __name__ == "__main__":
    main()
