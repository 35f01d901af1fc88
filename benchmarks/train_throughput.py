"""Training throughput (samples/s) at the default batch size, fp32 vs bf16 autocast + channels_last."""

from __future__ import annotations

import time

import torch

from e2edrive.core import io
from e2edrive.model.net import DrivingNet, plan_loss

BATCH = 64
STEPS = 15
WARMUP = 3


def samples_per_s(bf16: bool) -> float:
    torch.manual_seed(0)
    model = DrivingNet().to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    batch = {
        "frames": torch.randint(0, 256, io.frames_shape(BATCH), dtype=torch.uint8),
        "speed_mps": torch.rand(BATCH, 1) * 30,
        "command": torch.nn.functional.one_hot(torch.zeros(BATCH, dtype=torch.long), io.N_COMMANDS).float(),
        "trajectory": torch.randn(BATCH, io.TRAJECTORY_POINTS, 2),
        "controls": torch.randn(BATCH, 2),
    }
    for i in range(STEPS + WARMUP):
        if i == WARMUP:
            t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            plan = model([batch["frames"]], batch["speed_mps"], batch["command"])
        loss, _ = plan_loss(plan.float(), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return STEPS * BATCH / (time.perf_counter() - t)


if __name__ == "__main__":
    fp32 = samples_per_s(False)
    bf16 = samples_per_s(True)
    print(f"train fp32:                  {fp32:7.1f} samples/s")
    print(f"train bf16 + channels_last:  {bf16:7.1f} samples/s")
    print(f"bf16 speed-up:               {bf16 / fp32:7.2f}x")
